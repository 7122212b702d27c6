"""The header of a dashboard on a shared store (issue 16): a clock more than 2 s off the
server's says so (real PostgreSQL; only this laptop's clock is shifted, by patching the
clock the store reads)."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest

from tui.app import WarroomApp
from tui.incident import store_pg
from tui.incident.model import Severity, utcnow
from tui.incident.store_pg import PgStore
from widgets.incident_header import IncidentHeader

from .conftest import fixed_clock

pytestmark = pytest.mark.slow


def shift_clock(monkeypatch, by: timedelta) -> None:
    real_monotonic = time.monotonic

    class ShiftedTime:
        @staticmethod
        def time() -> float:
            return time.time() + by.total_seconds()

        monotonic = staticmethod(real_monotonic)

    monkeypatch.setattr(store_pg, "time", ShiftedTime)
    monkeypatch.setattr(store_pg, "utcnow", lambda: utcnow() + by)


@pytest.mark.parametrize("off, says", [(timedelta(seconds=5), True), (timedelta(seconds=-5), True),
                                       (timedelta(seconds=1), False)])
async def test_a_clock_more_than_2s_off_is_in_the_header(pg_url, tmp_path, monkeypatch, off, says):
    shift_clock(monkeypatch, off)
    with PgStore(pg_url, tmp_path) as store:
        inc = store.declare("x", Severity.SEV2)
        app = WarroomApp(store, inc.id, author="scribe", clock=fixed_clock)
        async with app.run_test(size=(160, 40)) as pilot:
            header = app.screen.query_one(IncidentHeader)
            deadline = time.monotonic() + 30
            while not header.connection[0].startswith("LIVE"):
                assert time.monotonic() < deadline
                await pilot.pause(0.05)
            text = header.render().plain
            assert ("CLOCK OFF" in text) is says, text
            assert header.connection[1] == ("warn" if says else "ok")
