"""Every use of a private Textual name, and the one switch that turns them all off.

warroom leans on Textual internals in a few places to save CPU and start-up time
(one module here per hook). They were written and measured against one Textual
release, ``TESTED_TEXTUAL``; under any other the internals they touch may have
moved, so every hook then leaves Textual's own behaviour in place. The package
metadata pins the tested range (pyproject.toml), but ``pip install`` of another
release, or a Textual from a source checkout, still gets a working, stock app.

``active(name)`` is the one switch. A hook is active when:

* the installed Textual is the tested one: its ``textual-<version>.dist-info``
  sits beside the package (one stat; ``textual.__version__`` goes through
  importlib.metadata, ~10 ms of start-up), and
* ``WARROOM_STOCK_TEXTUAL`` does not turn it off: ``1`` (or ``all``, or any value
  naming no known hook) turns every hook off; a comma list of hook names
  (``compositor,table``) turns those off. The tests run the app with every hook
  off, and ``make bench ARGS="--only hooks"`` measures each one off against all on.

Each hook says what it saves, and tests/bench/bench_hooks.py measures it. A module
that imports a private Textual module is itself imported only when its hook is on (the
helpers below, ``widgets.table``): under another Textual that module may not import.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.screen import Screen

TESTED_TEXTUAL = "8.2.8"
ENV = "WARROOM_STOCK_TEXTUAL"

# The hooks, by the name ``active`` and ``WARROOM_STOCK_TEXTUAL`` know them by.
HOOKS = (
    "compositor",       # compositor.py: partial updates render only the dirty lines
    "pacing",           # pacing.py: one loop timer per frame, frames wait for the beat
    "table",            # table.py: DataTable repaints only the rows that changed
    "pass_style",       # pass_style.py: rich_style once per render pass
    "maximize",         # maximize.py: a maximized pane takes the body's place, under the header
    "scroll",           # scroll.py: a log or timeline that grew repaints its scrollbar, no screen layout
)

_state: dict[str, bool] | None = None
_why_stock: str | None = None


def textual_is_tested() -> bool:
    """True when the installed Textual is ``TESTED_TEXTUAL`` (by its dist-info, one stat)."""
    import textual

    site = Path(textual.__file__).resolve().parent.parent
    return (site / f"textual-{TESTED_TEXTUAL}.dist-info").is_dir()


def _decide() -> dict[str, bool]:
    global _why_stock
    if not textual_is_tested():
        _why_stock = f"Textual is not {TESTED_TEXTUAL}, the release warroom's Textual hooks were tested on"
        return dict.fromkeys(HOOKS, False)
    forced = os.environ.get(ENV, "").strip().lower()
    if not forced or forced in ("0", "no", "false"):
        _why_stock = None
        return dict.fromkeys(HOOKS, True)
    names = {n.strip() for n in forced.split(",")} & set(HOOKS)
    if not names:       # "1", "all", a typo: the safe reading is every hook off
        _why_stock = f"{ENV}={forced}"
        return dict.fromkeys(HOOKS, False)
    _why_stock = f"{ENV}={forced}"
    return {name: name not in names for name in HOOKS}


def active(name: str) -> bool:
    """Whether hook ``name`` replaces Textual's own behaviour in this run."""
    global _state
    if _state is None:
        _state = _decide()
    return _state[name]


def stock_reason() -> str | None:
    """Why some hooks are off in this run, or None if all are on."""
    active(HOOKS[0])
    return _why_stock


def use_dirty_lines_compositor(screen: Screen) -> None:
    """Give ``screen`` (being constructed, nothing composited yet) the dirty-lines compositor."""
    if active("compositor"):
        from .compositor import DirtyLinesCompositor

        screen._compositor = DirtyLinesCompositor()


def reset() -> None:
    """Decide again on next use (tests that change the environment)."""
    global _state, _why_stock
    _state = None
    _why_stock = None
