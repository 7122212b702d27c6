"""Regenerate ``screenshots/*.svg`` (``make screenshots``; ``python -m tests.screenshots``).

Harlequin's ``scripts/export_screenshots.py`` pattern: one fresh app per picture,
``run_test(size=...)``, a few key presses, ``save_screenshot``. The app runs on the
sample payments incident with a fixed clock and no live sources, so the pictures
only change when the screens do.
"""
from __future__ import annotations

import asyncio
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tui.incident.store import Store

from .samples import feed_samples, sample_app

OUT_DIR = Path(__file__).resolve().parent.parent / "screenshots"


@dataclass(frozen=True)
class Shot:
    filename: str
    size: tuple[int, int]
    keys: tuple[str, ...] = ()
    focus: str | None = None            # CSS selector focused before the keys
    needs_action: str | None = None     # a Dashboard binding that may not exist yet
    optional: bool = False              # a failure is a warning, not the end of the run
    expect_maximized: bool = False      # the keys must have maximized a pane (else the picture lies)


SHOTS = (
    Shot("dashboard.svg", (160, 48)),
    Shot("small-80x24.svg", (80, 24)),
    Shot("commander-maximized.svg", (160, 48), keys=("Z",), focus="#timeline", expect_maximized=True,
         optional=True),
    Shot("help.svg", (160, 48), keys=("question_mark",)),
    Shot("postmortem-form.svg", (160, 48), keys=("I",), needs_action="impact"),
    # Presenter mode is young: if its binding is missing or it breaks, say so and keep the rest.
    Shot("presenter.svg", (160, 48), keys=("P",), needs_action="presenter", optional=True),
)


def _has_binding(action: str) -> bool:
    from tui.screens.dashboard import Dashboard

    return any(binding.action == action for binding in Dashboard.BINDINGS)


async def take(shot: Shot, out_dir: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="warroom-shot-") as tmp, Store(Path(tmp) / "data") as store:
        app = sample_app(store)
        async with app.run_test(size=shot.size) as pilot:
            await feed_samples(pilot)
            if shot.focus:
                app.screen.query_one(shot.focus).focus()
                await pilot.pause()
            if shot.keys:
                await pilot.press(*shot.keys)
                await pilot.pause()
            await pilot.wait_for_scheduled_animations()
            if shot.expect_maximized and app.screen.maximized is None:
                keys = " ".join(shot.keys)
                raise RuntimeError(f"{keys} maximized nothing (focus {app.screen.focused!r})")
            return Path(app.save_screenshot(filename=shot.filename, path=str(out_dir)))


async def main(out_dir: Path = OUT_DIR) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    for shot in SHOTS:
        if shot.needs_action and not _has_binding(shot.needs_action):
            print(f"warning: {shot.filename} skipped: the dashboard has no '{shot.needs_action}' binding yet",
                  file=sys.stderr)
            continue
        try:
            written = await take(shot, out_dir)
        except Exception as exc:
            if not shot.optional:
                raise
            print(f"warning: {shot.filename} not written: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        print(written.relative_to(Path.cwd()) if written.is_relative_to(Path.cwd()) else written)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
