"""The [[logs]] pane on real files being appended, rotated and truncated: errors per minute, the last
matching lines (inert), and `p` pinning the selected lines into the timeline as a finding."""
from __future__ import annotations

import os

from checks.specs import HostSpec, LogSpec, RepoSpec
from tui.app import WarroomApp
from tui.config import Config
from tui.incident.model import Kind, Severity
from tui.sources import build_panes, build_sources
from widgets.logs import LogsPane

from .test_pod_log_pilot import drawn, wait_for


def append(path, *lines: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))


def make_app(store, config, incident) -> WarroomApp:
    return WarroomApp(store, incident.id, panes=build_panes(config), config=config, author="scribe",
                      sources_later=lambda: build_sources(config, incident=incident))


async def test_logs_pane_follows_rotation_and_truncation_and_pins(tmp_path, store):
    api, worker = tmp_path / "api.log", tmp_path / "worker.log"
    append(api, "GET / 200", "ERROR old failure before warroom started")
    append(worker, "idle")
    config = Config(host=HostSpec(interval=5), repos=(RepoSpec(path=str(tmp_path), interval=30),),
                    logs=(LogSpec(name="api", path=str(api), interval=0.5),
                          LogSpec(name="worker", path=str(tmp_path / "worker*.log"), error_pattern="panic",
                                  interval=0.5)))
    inc = store.declare("api errors", Severity.SEV2, author="ic")
    app = make_app(store, config, inc)
    async with app.run_test(size=(160, 48)) as pilot:
        pane = app.panes["logs"]
        assert isinstance(pane, LogsPane)
        lines = pane.lines
        assert await wait_for(pilot, lambda: lines.count == 1)
        assert drawn(lines)[0][0].startswith("api │ ERROR old failure")
        append(api, "GET / 200", "\x1b]52;c;cGF3bmVk\x07ERROR [b]db[/b] Authorization: Bearer tok-12345678")
        append(worker, "panic: nil map in worker")
        assert await wait_for(pilot, lambda: lines.count == 3)
        shown = [row for row, _ in drawn(lines)]
        assert any(r.startswith("worker │ panic: nil map") for r in shown)
        hostile = next(r for r in shown if "[b]db[/b]" in r)
        assert "\x1b" not in hostile and "\x07" not in hostile and "tok-12345678" not in hostile
        # Rotation: renamed away (drained first), a new file; then truncation in place.
        append(api, "ERROR just before rotation")
        os.rename(api, tmp_path / "api.log.1")
        append(api, "ERROR in the new file")
        assert await wait_for(pilot, lambda: lines.count == 5)
        with open(api, "w", encoding="utf-8") as f:
            f.write("ERROR after truncation\n")
        assert await wait_for(pilot, lambda: lines.count == 6)
        assert drawn(lines)[-1][0].startswith("api │ ERROR after truncation")
        rates = str(pane.query_one("#logs-rates").render())
        assert "api" in rates and "5 in 5 min" in rates and "worker" in rates and "1 in 5 min" in rates
        assert any(block in rates for block in "▂▃▄▅▆▇█")
        # `p` with the focus elsewhere (the timeline) is the phase chooser, not a pin.
        await pilot.press("p")
        assert await wait_for(pilot, lambda: app.screen.__class__.__name__ == "ChoiceScreen")
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: app.screen.__class__.__name__ == "Dashboard")
        assert not any(e.kind is Kind.FINDING for e in store.timeline(inc.id))
        lines.focus()
        await pilot.press("end", "shift+up", "p")
        assert await wait_for(pilot, lambda: any(e.kind is Kind.FINDING for e in store.timeline(inc.id)))
        finding = next(e for e in store.timeline(inc.id) if e.kind is Kind.FINDING)
        assert finding.meta["lines"] == ["api │ ERROR in the new file", "api │ ERROR after truncation"]
        assert finding.text.startswith("Pinned 2 log lines from log api, worker")
        assert app.screen.__class__.__name__ == "Dashboard"     # p pinned; it did not open the phase picker


async def test_check_config_reports_bad_logs_block_with_file_and_line(tmp_path):
    from tui.config import ConfigError, load_config

    path = tmp_path / "warroom.toml"
    path.write_text('[[logs]]\nname = "api"\npath = "/var/log/api.log"\nerror_pattern = "(unclosed"\n',
                    encoding="utf-8")
    try:
        load_config(path, env={})
    except ConfigError as exc:
        assert f"{path}:4" in str(exc) and "error_pattern" in str(exc)
    else:
        raise AssertionError("a bad pattern was accepted")


async def test_read_only_dashboard_pins_nothing(tmp_path, store):
    from tui.incident.stores import ReadOnlyStore

    log = tmp_path / "api.log"
    append(log, "ERROR one", "ERROR two")
    config = Config(host=HostSpec(interval=5), repos=(RepoSpec(path=str(tmp_path), interval=30),),
                    logs=(LogSpec(name="api", path=str(log), interval=0.5),))
    inc = store.declare("api errors", Severity.SEV2, author="ic")
    before = store.entries(inc.id)
    app = make_app(ReadOnlyStore(store), config, inc)
    async with app.run_test(size=(160, 48)) as pilot:
        lines = app.panes["logs"].lines
        assert await wait_for(pilot, lambda: lines.count == 2)
        lines.focus()
        await pilot.press("shift+up", "p")
        assert await wait_for(pilot, lambda: any("Read-only" in n.message for n in app._notifications))
    assert store.entries(inc.id) == before
