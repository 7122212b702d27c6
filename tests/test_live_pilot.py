"""The live panes inside the real dashboard: real HTTP server, real git repo, the real
kubernetes client against the local API stand-in, real psutil."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from checks.specs import HostSpec, KubeSpec, RepoSpec, ServiceSpec
from tui.app import WarroomApp
from tui.config import Config
from tui.demo.kubeapi_standin import KubeApiStandin
from tui.incident.model import Kind, Severity
from tui.sources import build_live, build_panes, build_sources

from .gitrepos import commit, init_repo
from .pilot_wait import wait_for
from .servers import LocalHTTPServer


@pytest.fixture
def world(tmp_path, store):
    now = datetime.now(timezone.utc)
    repo = init_repo(tmp_path / "payments")
    commit(repo, "Document the refund flow", now - timedelta(days=2))
    commit(repo, "deploy payments v2.3.1", now - timedelta(minutes=7))
    with LocalHTTPServer() as http, KubeApiStandin() as kube:
        http.route("/healthz", status=200, body=b'{"status": "ok"}')
        kube.add_pod("payments", "payments-api-1", containers=("app",))
        kube.add_pod("payments", "ledger-0", containers=("ledger",))
        kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig", namespace="payments")
        config = Config(
            services=(ServiceSpec(name="payments", url=http.url("/healthz"), interval=0.1, fail_threshold=2),),
            host=HostSpec(interval=0.5),
            kubernetes=KubeSpec(kubeconfig=kubeconfig, interval=0.1),
            repos=(RepoSpec(path=str(repo), interval=0.5),),
        )
        incident = store.declare("payments 503s", Severity.SEV2, author="ic")
        yield {"config": config, "incident": incident, "http": http, "kube": kube, "store": store}


def make_app(world) -> WarroomApp:
    """As ``warroom`` builds it (tui/launch.py): empty panes first, their sources after the first frame."""
    config, incident = world["config"], world["incident"]
    return WarroomApp(world["store"], incident.id, panes=build_panes(config), config=config, author="scribe",
                      sources_later=lambda: build_sources(config, incident=incident))


def system_entries(store, incident_id):
    return [e for e in store.timeline(incident_id) if e.kind is Kind.SYSTEM]


async def test_state_changes_reach_pane_and_timeline(world):
    store, inc = world["store"], world["incident"]
    app = make_app(world)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen

        def snap(name):
            return screen._snapshots.get(name)

        # Every pane gets real data.
        assert await wait_for(pilot, lambda: all(snap(n) is not None for n in ("health", "host", "pods", "deploys")))
        assert await wait_for(pilot, lambda: snap("pods").total == 2)
        assert snap("host").cpu is not None
        assert [d.subject for _, d in snap("deploys").suspects()] == ["deploy payments v2.3.1"]

        # payments starts failing: DOWN after two failures, in the pane and in the timeline.
        world["http"].route("/healthz", status=503, body=b"upstream down")
        assert await wait_for(pilot, lambda: snap("health").services[0].state == "DOWN")
        assert "payments" in str(app.screen.query_one("HealthPane").border_subtitle)
        assert await wait_for(pilot, lambda: any(
            e.meta.get("key") == "health:payments" and e.meta.get("state") == "DOWN" for e in system_entries(store, inc.id)))

        # A pod crash-loops: the watch delivers it, the pane and the timeline show it.
        world["kube"].restart_container("payments", "payments-api-1", "app", reason="Error", then="CrashLoopBackOff")
        assert await wait_for(pilot, lambda: snap("pods").crashlooping == 1)
        assert await wait_for(pilot, lambda: any(
            e.meta.get("key") == "pod:payments/payments-api-1" for e in system_entries(store, inc.id)))

        # Recovery is written too.
        world["http"].route("/healthz", status=200, body=b'{"status": "ok"}')
        assert await wait_for(pilot, lambda: any(
            e.meta.get("key") == "health:payments" and e.meta.get("state") == "UP" for e in system_entries(store, inc.id)))


async def test_failing_source_turns_only_its_pane_red(world):
    world["kube"].fail_always(500)
    app = make_app(world)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: (screen._snapshots.get("pods") is not None
                                              and screen._snapshots["pods"].error is not None))
        assert app.screen.query_one("PodsPane").has_class("-error")
        assert not app.screen.query_one("HealthPane").has_class("-error")
        # The app keeps working: the scribe can still write.
        await pilot.press("n", *"still here", "enter")
        # Among the last entries, not necessarily the last: the detector may write the held-back
        # "still failing" entry of the pods source (tui/detector.py) just after it, under load.
        assert await wait_for(pilot, lambda: "still here" in [
            e.text for e in world["store"].timeline(world["incident"].id)[-3:]])
        world["kube"].fail_always(None)
        assert await wait_for(pilot, lambda: screen._snapshots["pods"].error is None, timeout=30)


async def test_sources_are_built_once_after_the_first_frame_and_a_failure_to_build_is_red_panes(world):
    config, incident = world["config"], world["incident"]
    calls = []

    def broken():
        calls.append(1)
        raise RuntimeError("kubeconfig vanished\nwith a traceback-like second line")

    app = WarroomApp(world["store"], incident.id, panes=build_panes(config), config=config, author="scribe",
                     sources_later=broken)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: len(screen._snapshots) == 4)
        assert calls == [1] and app.sources == [] and screen.scheduler.sources == {}
        for pane in ("HealthPane", "HostPane", "PodsPane", "DeploysPane"):
            widget = screen.query_one(pane)
            assert widget.has_class("-error"), pane
            assert str(widget.border_subtitle) == "could not start: RuntimeError: kubeconfig vanished"
        await pilot.press("n", *"still here", "enter")      # the commander pane still works
        assert await wait_for(pilot, lambda: world["store"].timeline(incident.id)[-1].text == "still here")
    assert calls == [1]


async def test_pane_keys_zoom_hide_and_copy_revert(world):
    app = make_app(world)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen._snapshots.get("deploys") is not None
                              and screen._snapshots.get("pods") is not None)
        pods = screen.query_one("PodsPane")
        await pilot.press("H")
        assert pods.hide_healthy
        await pilot.press("H")
        assert not pods.hide_healthy

        deploys = screen.query_one("DeploysPane")
        deploys.query_one("DataTable").focus()
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        sha = deploys.selected_deploy().sha
        assert app.clipboard == f"git revert {sha}"

        await pilot.press("Z")
        assert screen.maximized is not None
        await pilot.press("Z")
        assert screen.maximized is None


async def test_resizes_from_tiny_to_huge_never_crash(world):
    app = make_app(world)
    async with app.run_test(size=(160, 48)) as pilot:
        assert await wait_for(pilot, lambda: len(app.screen._snapshots) == 4)
        for size in [(40, 12), (300, 90), (80, 24), (41, 13), (200, 60), (120, 34), (119, 33), (60, 20), (160, 48)]:
            await pilot.resize_terminal(*size)
            await pilot.pause()
        assert app.screen.query_one("TimelineView").entries
        assert app.is_running


async def test_a_mass_restart_is_summarised_and_every_pod_stays_on_record(world):
    # 12 workers OOM at once: the timeline gets one burst entry (or a few, if the watch splits
    # the restarts over polls), not 12, and its meta names every pod that restarted.
    store, inc, kube = world["store"], world["incident"], world["kube"]
    workers = [f"worker-{i:02d}" for i in range(12)]
    for name in workers:
        kube.add_pod("payments", name, containers=("app",))
    now = [datetime.now(timezone.utc)]
    live = build_live(world["config"], incident=inc)
    app = WarroomApp(store, inc.id, sources=live.sources, panes=live.panes, on_snapshot_hooks=live.hooks,
                     config=world["config"], author="scribe", clock=lambda: now[0])
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: (s := screen._snapshots.get("pods")) is not None and s.total == 14)
        for name in workers:
            kube.restart_container("payments", name, "app", reason="OOMKilled")

        def on_record() -> tuple[set[str], int]:
            named, entries = set(), 0
            for e in system_entries(store, inc.id):
                keys = [m[0] for m in e.meta.get("events", [])] or [e.meta.get("key")]
                pods = {k.removeprefix("pod:payments/") for k in keys if k and k.startswith("pod:")}
                if pods:
                    named |= pods
                    entries += 1
            return named, entries

        assert await wait_for(pilot, lambda: snap_restarts(screen) == 12)
        assert await wait_for(pilot, lambda: on_record()[1] > 0)
        # Whatever a burst held back is written with the next minute's roll-up.
        now[0] += timedelta(seconds=61)
        assert await wait_for(pilot, lambda: on_record()[0] == set(workers))
        assert on_record()[1] < len(workers)
        burst = next(e for e in system_entries(store, inc.id) if e.meta.get("state") == "BURST")
        assert "pods" in burst.text and "OOMKilled" in burst.text


def snap_restarts(screen) -> int:
    snap = screen._snapshots.get("pods")
    return sum(p.restarts for p in snap.pods) if snap is not None else 0
