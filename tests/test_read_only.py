"""`warroom --read-only` (issue 16): a view with no key that writes, on either store."""
from __future__ import annotations

import pytest

from tui.app import WarroomApp
from tui.cli import main
from tui.incident.model import Phase
from tui.incident.store import StoreError
from tui.incident.stores import WRITES, ReadOnlyStore
from widgets.checklist import ChecklistView
from widgets.incident_header import IncidentHeader

from .conftest import fixed_clock, seed_incident

WRITE_KEYS = ["n", "a", "d", "f", "m", "c", "t", "e", "s", "S", "p", "R", "u", "z", "F", "I", "M", "A"]


async def test_no_key_writes_and_the_header_says_read_only(store):
    inc = seed_incident(store)
    before = store.entries(inc.id)
    view = ReadOnlyStore(store)
    app = WarroomApp(view, inc.id, author="stakeholder", clock=fixed_clock)
    async with app.run_test(size=(140, 40)) as pilot:
        for key in WRITE_KEYS:
            await pilot.press(key, *"typed", "enter", "escape", "escape")
        app.screen.query_one(ChecklistView).focus()
        await pilot.press("space")
        await pilot.pause()
        assert store.entries(inc.id) == before
        assert not any(it.done for it in store.checklist(inc.id) if it.phase is Phase.TRIAGE)
        header = app.screen.query_one(IncidentHeader)
        assert header.connection == ("READ-ONLY", "warn") and "READ-ONLY" in header.render().plain
        for action in app.screen.WRITE_ACTIONS:
            assert app.screen.check_action(action, ()) is False
        assert app.screen.check_action("zoom", ()) is True


def test_every_write_is_refused_in_one_line(store):
    inc = seed_incident(store)
    view = ReadOnlyStore(store)
    assert view.timeline(inc.id) == store.timeline(inc.id)  # reads pass through
    for name in sorted(WRITES - {"flush"}):
        with pytest.raises(StoreError, match="read-only view") as exc:
            getattr(view, name)(inc.id)
        assert "\n" not in str(exc.value)


def test_read_only_over_postgresql_shows_the_connection_too(pg_url, tmp_path):
    from tui.incident.store_pg import PgStore

    with PgStore(pg_url, tmp_path) as pg:
        view = ReadOnlyStore(pg)
        assert view.connection_label() == ("LIVE", "ok")


def test_read_only_with_no_incident_is_one_line(tmp_path, capsys):
    assert main(["--data-dir", str(tmp_path / "d"), "--read-only"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "read-only view declares nothing" in err
