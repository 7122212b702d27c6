"""`l` in the pods pane: the log viewer against the Kubernetes stand-in and the real client; `/` filters,
`p` pins the selected lines as a finding (redacted, capped), hostile lines stay inert."""
from __future__ import annotations

from datetime import timedelta

import pytest

from checks.specs import HostSpec, KubeSpec, RepoSpec
from tui.app import WarroomApp
from tui.config import Config
from tui.demo.kubeapi_standin import KubeApiStandin
from tui.incident.evidence import MAX_LINES, pinned_finding
from tui.incident.export import export
from tui.incident.model import Kind, Severity
from tui.incident.redact import Redactor
from tui.screens.entry_detail import detail_text
from tui.screens.pod_log import PodLogScreen
from tui.sources import build_panes, build_sources
from widgets.log_lines import LogLines

from .pilot_wait import screen_ready, wait_for

HOSTILE = "\x1b]0;pwned\x07[bold red]not markup[/] token=abc Authorization: Bearer sekrit-token-123"




@pytest.fixture
def world(tmp_path, store):
    with KubeApiStandin() as kube:
        kube.add_pod("shop", "cart-1")
        kube.add_pod("shop", "web-1")
        kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig", namespace="shop")
        config = Config(host=HostSpec(interval=5), repos=(RepoSpec(path=str(tmp_path), interval=30),),
                        kubernetes=KubeSpec(kubeconfig=kubeconfig, interval=0.1, error_pattern=r"FATAL|panic"))
        incident = store.declare("carts fail", Severity.SEV2, author="ic")
        yield {"config": config, "incident": incident, "kube": kube, "store": store}


def make_app(world) -> WarroomApp:
    config, incident = world["config"], world["incident"]
    return WarroomApp(world["store"], incident.id, panes=build_panes(config), config=config, author="scribe",
                      sources_later=lambda: build_sources(config, incident=incident))


async def open_log(app, pilot, pod: str) -> PodLogScreen:
    screen = app.screen
    assert await wait_for(pilot, lambda: screen._snapshots.get("pods") is not None
                          and screen._snapshots["pods"].total == 2)
    pane = app.panes["pods"]
    pane.table.focus()
    assert await wait_for(pilot, lambda: pane.selected_key is not None)
    pane.table.move_cursor(row=pane.row_keys.index(f"shop/{pod}"))
    await pilot.press("l")
    assert await wait_for(pilot, lambda: screen_ready(app, PodLogScreen))
    return app.screen


def drawn(widget: LogLines) -> list[tuple[str, list]]:
    """Each line on screen: its text and styles, as render_line draws it."""
    out = []
    for y in range(min(widget.size.height, widget.count)):
        strip = widget.render_line(y)
        out.append(("".join(s.text for s in strip), [s.style for s in strip]))
    return out


async def test_crashed_pod_shows_previous_log_filter_and_pin(world):
    kube, store, inc = world["kube"], world["store"], world["incident"]
    kube.write_log("shop", "cart-1", "before the incident", at=inc.started_at - timedelta(hours=1))
    kube.write_log("shop", "cart-1", *(f"GET /cart {i} 200" for i in range(300)), HOSTILE, "FATAL db pool exhausted")
    kube.restart_container("shop", "cart-1", reason="OOMKilled", then="CrashLoopBackOff")
    app = make_app(world)
    async with app.run_test(size=(160, 40)) as pilot:
        viewer = await open_log(app, pilot, "cart-1")
        lines = viewer.lines
        assert await wait_for(pilot, lambda: lines.count == 200 and viewer.stream.state == "ended"
                              and lines.scroll_y == lines.max_scroll_y > 0)
        head = str(viewer.query_one("#pod-log-head").render())
        assert "previous instance" in head and "OOMKilled" in head
        rows = drawn(lines)
        assert rows[-1][0].startswith("FATAL db pool exhausted")
        # The configured pattern marks the error line: red and bold; ordinary lines are not.
        assert any(s and s.color and s.color.name == "red" and s.bold for s in rows[-1][1])
        assert not any(s and s.color and s.color.name == "red" for s in rows[0][1])
        # The hostile line: no escape reaches the terminal, markup is text, the token masked.
        hostile = rows[-2][0]
        assert "\x1b" not in hostile and "\x07" not in hostile and "[bold red]not markup[/]" in hostile
        assert "sekrit-token-123" not in hostile
        # `/` filters as you type.
        await pilot.press("slash", *"pool")       # "p" is typed into the filter, not a pin
        assert await wait_for(pilot, lambda: lines.count == 1)
        await pilot.press("enter")
        assert lines.has_focus
        # `p` pins the selected line(s): a finding with the lines in its meta.
        await pilot.press("p")
        assert await wait_for(pilot, lambda: any(e.kind is Kind.FINDING for e in store.timeline(inc.id)))
        finding = [e for e in store.timeline(inc.id) if e.kind is Kind.FINDING][-1]
        assert finding.meta["lines"] == ["FATAL db pool exhausted"]
        assert "pod shop/cart-1 (app, previous instance)" in finding.text
        # Clear the filter, select three lines with shift+up, pin: the hostile line is stored redacted.
        await pilot.press("slash")
        viewer.query_one("#pod-log-filter").value = ""
        await pilot.press("enter", "end", "shift+up", "shift+up", "p")
        assert await wait_for(pilot, lambda: len([e for e in store.timeline(inc.id) if e.kind is Kind.FINDING]) == 2)
        pinned = [e for e in store.timeline(inc.id) if e.kind is Kind.FINDING][-1]
        assert len(pinned.meta["lines"]) == 3 and pinned.meta["lines"][-1] == "FATAL db pool exhausted"
        assert "sekrit-token-123" not in str(pinned.meta) and "\x1b]0;pwned" in pinned.meta["lines"][1]
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: not isinstance(app.screen, PodLogScreen))
        assert viewer.stream.state in ("ended", "closed")
    # Entry detail and the postmortem carry the pinned lines, inert.
    detail = detail_text(store.revisions(pinned.entry_id)).plain
    assert "Evidence (3 lines)" in detail and "FATAL db pool exhausted" in detail and "\x1b" not in detail
    markdown = export(store, inc.id, "md", redactor=Redactor())
    support = markdown[markdown.index("## Supporting information"):]
    assert "FATAL db pool exhausted" in support and "\x1b" not in support


async def test_running_pod_is_followed_live_and_closing_stops_the_stream(world):
    kube = world["kube"]
    kube.write_log("shop", "web-1", "listening on :8080")
    app = make_app(world)
    async with app.run_test(size=(120, 30)) as pilot:
        viewer = await open_log(app, pilot, "web-1")
        lines = viewer.lines
        assert await wait_for(pilot, lambda: lines.count == 1)
        assert viewer.stream.target.follow and "following" in str(viewer.query_one("#pod-log-head").render())
        kube.write_log("shop", "web-1", "panic: nil map")
        assert await wait_for(pilot, lambda: lines.count == 2 and drawn(lines)[-1][0].startswith("panic: nil map"))
        # Moving up stops following; new lines still arrive but the cursor stays.
        await pilot.press("up")
        kube.write_log("shop", "web-1", *(f"tick {i}" for i in range(50)))
        assert await wait_for(pilot, lambda: lines.count == 52)
        assert lines.selected() == ["listening on :8080"]
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: viewer.stream.state == "closed")
        assert await wait_for(pilot, lambda: kube.logs.cond is not None and not viewer.workers)


async def test_l_without_a_pod_says_so(world):
    app = make_app(world)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("l")
        await pilot.pause()
        assert not isinstance(app.screen, PodLogScreen)
        assert any("No pod selected" in n.message for n in app._notifications)


def test_pinned_finding_is_capped_and_redacted():
    lines = [f"line {i} password=hunter2 " + "x" * 2000 for i in range(1000)]
    text, meta = pinned_finding(lines, "file api", Redactor(["hunter2"]).text)
    assert len(meta["lines"]) <= MAX_LINES and meta["lines"][-1].startswith("line 999 ")
    assert meta["lines_dropped"] == 1000 - len(meta["lines"])
    assert sum(len(x) for x in meta["lines"]) <= 64 * 1024 and "hunter2" not in str(meta)
    assert text.startswith("Pinned 1000 log lines from file api: ")


def test_kubernetes_error_pattern_is_checked_with_file_and_line(tmp_path):
    from tui.config import ConfigError, load_config

    path = tmp_path / "warroom.toml"
    path.write_text('[kubernetes]\ncontext = "prod"\nerror_pattern = "([unclosed"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    assert f"{path}:3" in str(err.value) and "error_pattern" in str(err.value) and "\n" not in str(err.value)
    path.write_text('[kubernetes]\nerror_pattern = "OOM|panic"\n', encoding="utf-8")
    assert load_config(path, env={}).kubernetes.error_pattern == "OOM|panic"
