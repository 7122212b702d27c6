"""The palette's screenshot, the header's spacing and the timeline's dates."""
from __future__ import annotations

from pathlib import Path

from tui.app import WarroomApp

from .conftest import fixed_clock, seed_incident


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
