"""Idle-CPU details of the widgets: rich_style once per render pass, and no screen-wide
layout for a change that cannot change a widget's height."""
from __future__ import annotations

import pytest
from textual.dom import DOMNode

from tui.incident.model import ChecklistItem, Phase
from tui.textual_hooks import active
from widgets.checklist import ChecklistView
from widgets.table import Table

from .conftest import FIXED_NOW
from .test_table import PodNamesApp


class TableApp(PodNamesApp):
    CSS = "Table.-alarm { background: red; }"
    ROWS = 20


@pytest.mark.skipif(not active("pass_style") or not active("table"), reason="the pass_style or table hook is off")
async def test_rich_style_is_worked_out_once_per_render_pass(monkeypatch):
    calls = []
    original = DOMNode.rich_style.fget

    def counting(self):
        if isinstance(self, Table):
            calls.append(1)
        return original(self)

    monkeypatch.setattr("tui.textual_hooks.pass_style._rich_style", counting)
    app = TableApp()
    async with app.run_test(size=(40, 30)) as pilot:
        await pilot.pause()
        table = app.query_one(Table)
        calls.clear()
        lines = table.render_lines(table.size.region)
        assert len(lines) == table.size.height > 10
        assert len(calls) == 1
        # Outside a pass it is worked out afresh: a class change shows at once.
        before = table.rich_style
        table.add_class("-alarm")
        app.stylesheet.update(table)
        assert table.rich_style != before


def _items(done: set[int]) -> list[ChecklistItem]:
    return [ChecklistItem(Phase.TRIAGE, i, f"item {i}", done_at=FIXED_NOW if i in done else None)
            for i in range(4)] + [ChecklistItem(Phase.MITIGATE, 0, "m")]


async def test_ticking_an_item_repaints_without_a_layout(monkeypatch):
    layouts = []
    app = TableApp()
    async with app.run_test(size=(80, 20)) as pilot:
        view = ChecklistView()
        await app.mount(view)
        view.show(_items(set()), "Triage")
        await pilot.pause()
        original = ChecklistView.refresh

        def spy(self, *regions, **kwargs):
            layouts.append(kwargs.get("layout", False))
            return original(self, *regions, **kwargs)

        monkeypatch.setattr(ChecklistView, "refresh", spy)
        view.show(_items({1}), "Triage")               # ticked: same rows
        view.show(_items({1}), "Mitigate")             # another phase, another row count
        assert layouts == [False, True]
        await pilot.pause()
        shown = view.render().plain                    # Mitigate's items now
        assert "[ ] m" in shown and "item 1" not in shown
