"""`X` in the dashboard: actions on the selected row, guarded (issue 18).

The real dashboard, the real kubernetes client against the stand-in (its apps/v1 side),
real commands run by tui/action_runner.py, the real SQLite store.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from checks.actions import ActionSpec
from checks.kube_actions import RESTARTED_AT
from checks.specs import KubeSpec
from tui.app import WarroomApp
from tui.config import Config
from tui.demo.kubeapi_standin import KubeApiStandin
from tui.incident.model import Kind, Severity
from tui.incident.stores import ReadOnlyStore
from tui.screens.action_confirm import ConfirmActionScreen, ReplicasScreen
from tui.screens.action_output import MAX_LINES, ActionOutputScreen
from tui.screens.entry_detail import EntryDetailScreen
from tui.sources import build_panes, build_sources
from widgets.timeline import TimelineView

from .pilot_wait import screen_ready, wait_for

POD = "payments-5d8f7c9b6-abcde"
HOSTILE = ["x;rm -rf ~", "$(touch pwned)", "a\nb", "--all"]




@pytest.fixture
def world(tmp_path, store):
    with KubeApiStandin() as kube:
        kube.add_deployment("prod", "payments", replicas=2)
        kube.add_pod("prod", POD, owner="payments")
        for name in HOSTILE:
            kube.add_pod("prod", name)
        kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig", namespace="prod")
        incident = store.declare("payments 503s", Severity.SEV2, author="ic")
        yield {"kube": kube, "store": store, "incident": incident, "kubeconfig": kubeconfig, "tmp": tmp_path}


def make_app(world, actions=(), store=None) -> WarroomApp:
    config = Config(kubernetes=KubeSpec(kubeconfig=world["kubeconfig"], interval=0.1), actions=tuple(actions))
    incident = world["incident"]
    return WarroomApp(store or world["store"], incident.id, panes=build_panes(config), config=config,
                      author="scribe", sources_later=lambda: build_sources(config, incident=incident))


async def select_pod(pilot, app, name: str) -> None:
    pane = app.screen.query_one("PodsPane")
    assert await wait_for(pilot, lambda: f"prod/{name}" in pane.row_keys)
    pane.table.focus()
    pane.table.move_cursor(row=pane.table.get_row_index(f"prod/{name}"))
    await pilot.pause()


def runs(store, incident_id):
    return [e for e in store.timeline(incident_id) if e.meta.get("event") == "run"]


async def test_a_hostile_pod_name_is_refused_before_anything_runs(world):
    marker_dir = world["tmp"] / "ran"
    marker_dir.mkdir()
    spec = ActionSpec("touch", ("touch", f"{marker_dir}/${{pod}}"), confirm="yes")
    app = make_app(world, [spec])
    async with app.run_test(size=(160, 48)) as pilot:
        for name in HOSTILE:
            await select_pod(pilot, app, name)
            await pilot.press("X", "3")      # 1, 2: the built-ins; 3: touch
            await pilot.pause()
            assert not isinstance(app.screen, (ConfirmActionScreen, ActionOutputScreen)), name
            assert any("Not run" in n.message and "${pod}" in n.message for n in app._notifications), name
            app.clear_notifications()
    assert list(marker_dir.iterdir()) == []
    assert runs(world["store"], world["incident"].id) == []


async def test_a_command_streams_into_the_panel_and_is_written_like_warroom_run(world):
    program = "import sys\nfor i in range(100000): print(i)\nprint('done ${pod}')\nsys.exit(3)"
    spec = ActionSpec("flood", (sys.executable, "-c", program), kind="mitigation", confirm="type")
    store, inc = world["store"], world["incident"]
    app = make_app(world, [spec])
    async with app.run_test(size=(160, 48)) as pilot:
        await select_pod(pilot, app, POD)
        await pilot.press("X", "3")
        assert await wait_for(pilot, lambda: screen_ready(app, ConfirmActionScreen))
        assert runs(store, inc.id) == []                 # nothing before the confirmation
        await pilot.press(*"payments", "enter")          # not the pod's name: refused, text kept
        assert isinstance(app.screen, ConfirmActionScreen)
        assert "not 'payments-5d8f7c9b6-abcde'" in str(app.screen.query_one("#confirm-problem").render())
        app.screen.query_one("#confirm-input").value = POD
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: screen_ready(app, ActionOutputScreen))
        panel = app.screen
        assert await wait_for(pilot, lambda: panel.done, timeout=60)
        log = panel.query_one("Log")
        assert log.line_count <= MAX_LINES and log.lines[-1] == f"done {POD}"
        (entry,) = runs(store, inc.id)
        assert entry.kind is Kind.MITIGATION and entry.text.startswith("ran: ") and "exit 3 after" in entry.text
        assert entry.meta["exit_status"] == 3 and entry.meta["output_lines"] == 100_001
        assert entry.meta["output_tail"][-1] == f"done {POD}" and len(entry.meta["output_tail"]) == 50
        assert entry.meta["action"] == "flood" and entry.meta["host"]
        assert store.revisions(entry.entry_id)[0].text.startswith("running: ")


async def test_stopping_a_running_command_is_recorded(world):
    spec = ActionSpec("wait", ("sleep", "60"), confirm="yes")
    store, inc = world["store"], world["incident"]
    app = make_app(world, [spec])
    async with app.run_test(size=(160, 48)) as pilot:
        await select_pod(pilot, app, POD)
        await pilot.press("X", "3")
        assert await wait_for(pilot, lambda: screen_ready(app, ConfirmActionScreen))
        await pilot.press(*"yes", "enter")
        assert await wait_for(pilot, lambda: screen_ready(app, ActionOutputScreen))
        assert await wait_for(pilot, lambda: runs(store, inc.id) and runs(store, inc.id)[0].meta["state"] == "running")
        await pilot.press("x")
        assert await wait_for(pilot, lambda: app.screen.done)
        (entry,) = runs(store, inc.id)
        assert entry.meta["state"] == "killed" and entry.meta["signal"] == "SIGTERM"


async def _run_talker(pilot, app, store, inc):
    """Start an action that prints one line, then waits: its panel up, its entry "running"."""
    await select_pod(pilot, app, POD)
    await pilot.press("X", "3")
    assert await wait_for(pilot, lambda: screen_ready(app, ConfirmActionScreen))
    await pilot.press(*"yes", "enter")
    assert await wait_for(pilot, lambda: screen_ready(app, ActionOutputScreen))
    assert await wait_for(pilot, lambda: "said before hiding" in app.screen.query_one("Log").lines)
    (entry,) = runs(store, inc.id)
    assert entry.meta["state"] == "running"
    return entry


TALKER = ActionSpec("talk", ("sh", "-c", "echo said before hiding; exec sleep 60"), confirm="yes")


async def test_a_hidden_panel_is_shown_again_by_enter_on_its_entry(world):
    store, inc = world["store"], world["incident"]
    app = make_app(world, [TALKER])
    async with app.run_test(size=(160, 48)) as pilot:
        entry = await _run_talker(pilot, app, store, inc)
        await pilot.press("escape")                     # hidden: the command goes on
        assert await wait_for(pilot, lambda: not isinstance(app.screen, ActionOutputScreen))
        view = app.screen.query_one(TimelineView)
        view.focus()
        assert await wait_for(pilot, lambda: any(e.entry_id == entry.entry_id for e in view.entries))
        view.action_cursor_to(next(i for i, e in enumerate(view.entries) if e.entry_id == entry.entry_id))
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: screen_ready(app, ActionOutputScreen))
        panel = app.screen
        assert "said before hiding" in panel.query_one("Log").lines and not panel.done   # kept while hidden
        await pilot.press("x")
        assert await wait_for(pilot, lambda: panel.done)
        assert runs(store, inc.id)[0].meta["state"] == "killed"
        await pilot.press("escape")
        # Ended: Enter now opens the entry's detail (its output is in the meta), not a panel.
        assert await wait_for(pilot, lambda: not isinstance(app.screen, ActionOutputScreen))
        view.focus()
        view.action_cursor_to(next(i for i, e in enumerate(view.entries) if e.entry_id == entry.entry_id))
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: screen_ready(app, EntryDetailScreen))
        assert "said before hiding" in str(app.screen.query_one("#entry-detail").render())


async def test_quitting_while_a_command_runs_asks_then_stops_it_and_writes_how_it_ended(world, monkeypatch):
    import tui.app

    monkeypatch.setattr(tui.app, "QUIT_AGAIN_S", 120.0)   # a loaded machine: the second press is still "again"
    store, inc = world["store"], world["incident"]
    app = make_app(world, [TALKER])
    async with app.run_test(size=(160, 48)) as pilot:
        await _run_talker(pilot, app, store, inc)
        await pilot.press("escape")
        await pilot.press("ctrl+q")                      # the first press only says what runs
        assert await wait_for(pilot, lambda: any("Still running: talk" in n.message for n in app._notifications))
        assert app.is_running and runs(store, inc.id)[0].meta["state"] == "running"
        await pilot.press("ctrl+q")
        assert await wait_for(pilot, lambda: not app.is_running)
    (entry,) = runs(store, inc.id)
    assert entry.meta["state"] == "killed" and entry.meta["signal"] == "SIGTERM"
    assert "said before hiding" in entry.meta["output_tail"]


async def test_quitting_with_nothing_running_quits_at_once(world):
    app = make_app(world)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("ctrl+q")
        assert await wait_for(pilot, lambda: not app.is_running)


async def test_rollout_restart_shows_the_dry_run_then_patches_once_confirmed(world):
    kube, store, inc = world["kube"], world["store"], world["incident"]
    app = make_app(world)
    async with app.run_test(size=(160, 48)) as pilot:
        await select_pod(pilot, app, POD)
        await pilot.press("X", "1")
        assert await wait_for(pilot, lambda: screen_ready(app, ConfirmActionScreen))
        shown = str(app.screen.query_one("#confirm-lines").render())
        assert "dryRun=All" in shown and "would restart all 2 pod(s) of deployment prod/payments" in shown
        assert kube.patches == [] and len(kube.dry_runs) == 1
        app.screen.query_one("#confirm-input").value = "payments"
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: screen_ready(app, ActionOutputScreen) and app.screen.done)
        annotations = kube.get_deployment("prod", "payments")["spec"]["template"]["metadata"]["annotations"]
        assert RESTARTED_AT in annotations and len(kube.patches) == 1
        (entry,) = runs(store, inc.id)
        assert entry.kind is Kind.MITIGATION and "rollout restart deployment/payments -n prod" in entry.text
        assert entry.meta["exit_status"] == 0 and "restarting all 2 pod(s)" in entry.meta["output_tail"][0]


async def test_scale_asks_how_many_then_dry_runs_then_scales(world):
    kube, store, inc = world["kube"], world["store"], world["incident"]
    app = make_app(world)
    async with app.run_test(size=(160, 48)) as pilot:
        await select_pod(pilot, app, POD)
        await pilot.press("X", "2")
        assert await wait_for(pilot, lambda: screen_ready(app, ReplicasScreen))
        await pilot.press("5", "enter")
        assert await wait_for(pilot, lambda: screen_ready(app, ConfirmActionScreen))
        assert "would scale deployment prod/payments from 2 to 5 replicas" in str(app.screen.query_one("#confirm-lines").render())
        await pilot.press("escape")                     # cancelled: nothing changed, nothing written
        assert kube.get_deployment("prod", "payments")["spec"]["replicas"] == 2 and runs(store, inc.id) == []
        await pilot.press("X", "2", "5", "enter")
        assert await wait_for(pilot, lambda: screen_ready(app, ConfirmActionScreen))
        app.screen.query_one("#confirm-input").value = "payments"
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: screen_ready(app, ActionOutputScreen) and app.screen.done)
        assert kube.get_deployment("prod", "payments")["spec"]["replicas"] == 5
        (entry,) = runs(store, inc.id)
        assert "scale deployment/payments -n prod --replicas=5" in entry.text and entry.meta["exit_status"] == 0


async def test_a_pod_without_a_deployment_is_refused_in_one_line(world):
    app = make_app(world)
    async with app.run_test(size=(160, 48)) as pilot:
        await select_pod(pilot, app, "--all")      # hostile name: refused before any request
        await pilot.press("X", "1")
        await pilot.pause()
        assert any("Not run" in n.message for n in app._notifications)
    world["kube"].add_pod("prod", "loner")
    app = make_app(world)
    async with app.run_test(size=(160, 48)) as pilot:
        await select_pod(pilot, app, "loner")
        await pilot.press("X", "1")
        assert await wait_for(pilot, lambda: any("not owned by a Deployment" in n.message for n in app._notifications))
        assert not isinstance(app.screen, ConfirmActionScreen)
    assert world["kube"].dry_runs == []


async def test_read_only_dashboards_have_no_actions(world):
    spec = ActionSpec("touch", ("touch", str(world["tmp"] / "ran")), confirm="yes")
    app = make_app(world, [spec], store=ReadOnlyStore(world["store"]))
    async with app.run_test(size=(160, 48)) as pilot:
        assert app.screen.check_action("actions", ()) is False
        assert not [a for a in app.palette_actions(app.screen) if a[2] == "actions"]
        assert not [k for _, rows in app.help_sections() for k, what in rows if k == "X"]
        await select_pod(pilot, app, POD)
        await pilot.press("X", "1", "3", *"yes", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, (ConfirmActionScreen, ReplicasScreen, ActionOutputScreen))
    assert not (world["tmp"] / "ran").exists() and world["kube"].dry_runs == []


async def test_the_key_is_in_help_and_palette_of_a_writing_dashboard(world):
    app = make_app(world)
    async with app.run_test(size=(160, 48)):
        assert [a for a in app.palette_actions(app.screen) if a[2] == "actions"]
        assert [k for _, rows in app.help_sections() for k, _ in rows if k == "X"]


def test_nothing_is_run_when_the_program_is_missing(tmp_path: Path):
    from tui.action_runner import run_streaming

    got: list[str] = []
    outcome = run_streaming([str(tmp_path / "no-such-program")], got.extend)
    assert outcome.error and outcome.exit_status is None and got == []


async def test_deploys_and_health_rows_fill_sha_and_service(tmp_path, store):
    from datetime import datetime, timedelta, timezone

    from checks.specs import RepoSpec, ServiceSpec

    from .gitrepos import commit, git, init_repo
    from .servers import LocalHTTPServer

    repo = init_repo(tmp_path / "payments")
    commit(repo, "deploy payments v2", datetime.now(timezone.utc) - timedelta(minutes=5))
    sha = git(repo, "rev-parse", "HEAD").strip()
    tag = ActionSpec("tag it", ("git", "-C", str(repo), "tag", "rolled-back-${sha}"), pane="deploys", confirm="type")
    echo = ActionSpec("echo", (sys.executable, "-c", "print('checked ${service}')"), pane="health", confirm="yes")
    with LocalHTTPServer() as http:
        http.route("/healthz", status=200, body=b"ok")
        config = Config(services=(ServiceSpec(name="payments", url=http.url("/healthz"), interval=0.2),),
                        repos=(RepoSpec(path=str(repo), interval=0.5),), kubernetes=KubeSpec(enabled=False),
                        actions=(tag, echo))
        incident = store.declare("payments 503s", Severity.SEV2, author="ic")
        app = WarroomApp(store, incident.id, panes=build_panes(config), config=config, author="scribe",
                         sources_later=lambda: build_sources(config, incident=incident))
        async with app.run_test(size=(160, 48)) as pilot:
            deploys = app.screen.query_one("DeploysPane")
            assert await wait_for(pilot, lambda: deploys.row_keys())
            deploys.table.focus()
            await pilot.press("X", "1")
            assert await wait_for(pilot, lambda: screen_ready(app, ConfirmActionScreen))
            app.screen.query_one("#confirm-input").value = sha      # confirm = type: the full sha
            await pilot.press("enter")
            assert await wait_for(pilot, lambda: screen_ready(app, ActionOutputScreen) and app.screen.done)
            await pilot.press("escape")
            health = app.screen.query_one("HealthPane")
            assert await wait_for(pilot, lambda: health.row_keys)
            health.table.focus()
            await pilot.press("X", "1")
            assert await wait_for(pilot, lambda: screen_ready(app, ConfirmActionScreen))
            await pilot.press(*"yes", "enter")
            assert await wait_for(pilot, lambda: screen_ready(app, ActionOutputScreen) and app.screen.done)
            assert app.screen.query_one("Log").lines[-1] == "checked payments"
    assert git(repo, "tag", "--list", "rolled-back-*").strip() == f"rolled-back-{sha}"
    entries = [e for e in store.timeline(incident.id) if e.meta.get("event") == "run"]
    assert [e.meta["exit_status"] for e in entries] == [0, 0]


def test_entry_detail_says_a_dashboard_action_completed(store):
    from tui.screens.entry_detail import detail_text

    inc = store.declare("x", Severity.SEV3, author="ic")
    entry = store.append(inc.id, Kind.ACTION, "running: true", author="scribe", source="action",
                         meta={"event": "run", "command": "true", "state": "running"})
    store.edit(entry.entry_id, text="ran: true — exit 0 after 0.0 s", author="scribe", source="action",
               meta={"state": "exited", "exit_status": 0, "output_tail": []})
    text = detail_text(store.revisions(entry.entry_id)).plain
    assert "completed (dashboard action) by scribe" in text


async def test_markup_in_an_action_or_a_title_is_shown_as_typed(world):
    spec = ActionSpec("first [/] item", ("jq", ".[0] [/]", "[bold]x"), confirm="yes")
    app = make_app(world, [spec])
    async with app.run_test(size=(160, 48)) as pilot:
        await select_pod(pilot, app, POD)
        await pilot.press("X")
        assert await wait_for(pilot, lambda: type(app.screen).__name__ == "ChoiceScreen")
        option = app.screen.query_one("OptionList").get_option_at_index(2)
        assert "first [/] item: jq '.[0] [/]' '[bold]x'" in str(option.prompt)
        await pilot.press("3")
        assert await wait_for(pilot, lambda: screen_ready(app, ConfirmActionScreen))
        assert "jq '.[0] [/]' '[bold]x'" in str(app.screen.query_one("#confirm-lines").render())


async def test_control_sequences_in_the_output_never_reach_the_terminal(world):
    program = "print('\\x1b]52;c;cHduZWQ=\\x07\\x1b[2Jhello\\x1b]0;title\\x07 \\u202eevil')"
    spec = ActionSpec("hostile output", (sys.executable, "-c", program), confirm="yes")
    app = make_app(world, [spec])
    async with app.run_test(size=(160, 48)) as pilot:
        await select_pod(pilot, app, POD)
        await pilot.press("X", "3")
        assert await wait_for(pilot, lambda: screen_ready(app, ConfirmActionScreen))
        await pilot.press(*"yes", "enter")
        assert await wait_for(pilot, lambda: screen_ready(app, ActionOutputScreen) and app.screen.done)
        (line,) = [x for x in app.screen.query_one("Log").lines if "hello" in x]
        assert "\x1b" not in line and "\x07" not in line and "\u202e" not in line
    (entry,) = runs(world["store"], world["incident"].id)
    assert not any("\x1b" in x for x in entry.meta["output_tail"])
