"""The palette's screenshot, the header's spacing and the timeline's dates."""
from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path

import pytest

from tui.app import WarroomApp
from tui.incident.model import Kind
from widgets.incident_header import IncidentHeader
from widgets.timeline import TimelineView

from .conftest import FIXED_NOW, fixed_clock, seed_incident
from .samples import feed_samples, sample_app


async def _until(pilot, condition, *, tries: int = 100) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition never became true")


async def test_palette_screenshot_saves_in_the_current_directory(store, tmp_path, monkeypatch):
    home = tmp_path / "home"          # no ~/Downloads, as on most servers
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    inc = seed_incident(store)
    app = WarroomApp(store, inc.id, clock=fixed_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+p", *"Screenshot")
        await pilot.pause()
        await pilot.press("enter")
        await _until(pilot, lambda: any(n.title == "Screenshot" for n in app._notifications))
        (note,) = [n for n in app._notifications if n.title == "Screenshot"]
    (saved,) = list(work.glob("*.svg"))
    assert note.severity == "information"
    assert note.message == f"Screenshot saved to {saved.resolve()}"
    assert "<svg" in saved.read_text(encoding="utf-8")[:500]
    assert not (home / "Downloads").exists()


async def test_screenshot_to_an_unwritable_place_says_why(store, tmp_path):
    inc = seed_incident(store)
    app = WarroomApp(store, inc.id, clock=fixed_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        app.deliver_screenshot(path=str(tmp_path / "missing"))
        await pilot.pause()
        (note,) = [n for n in app._notifications if n.title == "Screenshot"]
    assert note.severity == "error"
    assert note.message.startswith(f"Screenshot not saved in {Path(tmp_path / 'missing')}: ")


async def test_timeline_shows_the_date_of_entries_from_another_day(store):
    inc = seed_incident(store)
    store.append(inc.id, Kind.FINDING, "first report, the day before", author="bob", source="test",
                 ts=FIXED_NOW - timedelta(days=1, hours=2, minutes=27, seconds=53))
    app = WarroomApp(store, inc.id, clock=fixed_clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        view = app.screen.query_one(TimelineView)
        lines = [view.render_entry(e).plain for e in view.entries]
        # Yesterday's entry (Nov 20, UTC) says which day; today's keep HH:MM:SS.
        assert lines[0].startswith("Nov 20 12:02:07  FIND  bob: first report")
        assert lines[1].startswith("14:05:00  SYS ")
        screen_text = "\n".join(view.render_line(y).text for y in range(view.size.height))
        assert "Nov 20 12:02:07" in screen_text
        # At midnight (the screen's clock), today's entries become another day's.
        view.set_today((FIXED_NOW + timedelta(days=1)).date())
        assert view.render_entry(view.entries[1]).plain.startswith("Nov 21 14:05:00")


# -- the header's cells never run together -----------------------------------------

_TEXT_RUN = re.compile(r'<text [^>]*x="([\d.]+)"[^>]*textLength="([\d.]+)"[^>]*'
                       r'clip-path="url\(#[\w-]+-line-(\d+)\)">([^<]*)</text>')


def _svg_rows(svg: str, rows: range) -> tuple[list[str], list[str]]:
    """The text runs on those rows, and the rows as drawn: each run at its own x (a run of
    spaces only is no <text> at all, just a gap)."""
    runs, lines = [], {row: [" "] * 400 for row in rows}
    for x, length, row, raw in _TEXT_RUN.findall(svg):
        row = int(row)
        if row not in lines:
            continue
        text = html.unescape(raw)
        runs.append(text)
        cell = float(length) / max(1, len(text))
        col = round(float(x) / cell)
        lines[row][col:col + len(text)] = list(text.replace("\xa0", " "))
    return runs, ["".join(chars).rstrip() for chars in lines.values()]


@pytest.mark.parametrize("size,presenter", [((80, 24), False), ((160, 48), False), ((160, 48), True)],
                         ids=["80x24", "160x48", "presenter"])
async def test_header_cells_are_separated_in_the_svg(store, size, presenter):
    app = sample_app(store)
    async with app.run_test(size=size) as pilot:
        await feed_samples(pilot)
        if presenter:
            await pilot.press("P")
            await pilot.pause()
            widget = app.screen.query_one("#banner")
        else:
            widget = app.screen.query_one(IncidentHeader)
        region = widget.region
        svg = app.export_screenshot()
    runs, lines = _svg_rows(svg, range(region.y, region.bottom))
    assert runs, "no text found where the header is"
    # SVG renderers (rsvg/pango, the PNGs) draw a run's leading spaces after its glyphs: a run
    # that starts with a space and then has text ran '00:25:00' and 'IC alice' together.
    leading = [run for run in runs if run[:1].isspace() and run.strip() and not run.startswith("\n")]
    assert leading == []
    joined = "\n".join(lines)
    assert "IC alice  Scribe bob" in joined
    if not presenter:
        assert re.search(r"INVESTIGATING · Triage · 00:25:00  IC alice", joined)
