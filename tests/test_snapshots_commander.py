"""Snapshots of the commander pane at fixed sizes with a fixed clock."""
from __future__ import annotations

import pytest

from tui.app import WarroomApp

from .conftest import fixed_clock, seed_incident


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_commander_pane(snap_compare, store, size):
    inc = seed_incident(store)
    app = WarroomApp(store, inc.id, author="bob", clock=fixed_clock)
    assert snap_compare(app, terminal_size=size)


def test_commander_prompt_open(snap_compare, store):
    inc = seed_incident(store)
    app = WarroomApp(store, inc.id, author="bob", clock=fixed_clock)
    assert snap_compare(app, terminal_size=(80, 24), press=["t", *"page db team +5"])
