"""Two dashboards on one PostgreSQL server (issue 16): a key pressed in one is drawn in the other,
and the header says how the connection is. Real server, real apps under Pilot, nothing mocked."""
from __future__ import annotations

import time

from tui.app import WarroomApp
from tui.incident.model import Kind, Phase, Severity
from tui.incident.store_pg import PgStore
from widgets.checklist import ChecklistView
from widgets.incident_header import IncidentHeader
from widgets.timeline import TimelineView

from .conftest import fixed_clock


def timeline_text(app) -> str:
    view = app.screen.query_one(TimelineView)
    return "\n".join(view.render_entry(e).plain for e in view.entries)


async def until(pilot, condition, timeout: float = 20.0) -> bool:
    """Let the app run until ``condition()`` holds (the other app's change arrives by NOTIFY)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await pilot.pause(0.01)
    return True


async def test_a_key_pressed_in_one_dashboard_is_drawn_in_the_other(pg_url, tmp_path):
    with PgStore(pg_url, tmp_path / "a") as store_a, PgStore(pg_url, tmp_path / "b") as store_b:
        inc = store_a.declare("Checkout failing", Severity.SEV2, author="alice")
        store_a.set_role(inc.id, "commander", "ic")
        store_a.identify("scribe")
        store_b.identify("ic")
        scribe = WarroomApp(store_a, inc.id, author="scribe", clock=fixed_clock)
        commander = WarroomApp(store_b, inc.id, author="ic", clock=fixed_clock)
        async with scribe.run_test(size=(120, 40)) as p1, commander.run_test(size=(120, 40)) as p2:
            await p1.press("a", *"failed over payments-db", "enter")
            assert await until(p2, lambda: "failed over payments-db" in timeline_text(commander))
            (entry,) = [e for e in commander.screen.query_one(TimelineView).entries if e.kind is Kind.ACTION]
            assert entry.author == "scribe"
            # And back: the commander ticks a checklist item, the scribe's pane shows it done.
            commander.screen.query_one(ChecklistView).focus()
            await p2.press("space")
            first = store_a.checklist(inc.id)[0]
            assert first.phase is Phase.TRIAGE and first.done_by == "ic"
            assert await until(p1, lambda: "[x] " + first.text in str(scribe.screen.query_one(ChecklistView).render()))
            header = commander.screen.query_one(IncidentHeader)
            assert header.connection == ("LIVE", "ok")
            assert "LIVE" in header.render().plain
            # Presence: each header lists who has the incident open (after a heartbeat).
            assert await until(p2, lambda: "here: scribe, ic IC" in header.render().plain, timeout=30)


async def test_the_header_shows_reconnecting_when_the_listener_is_cut(pg_server, pg_url, tmp_path):
    with PgStore(pg_url, tmp_path / "a") as store, PgStore(pg_url, tmp_path / "b") as writer:
        inc = store.declare("x", Severity.SEV3)
        app = WarroomApp(store, inc.id, author="ic", clock=fixed_clock)
        async with app.run_test(size=(120, 40)) as pilot:
            header = app.screen.query_one(IncidentHeader)
            # Refuse new connections to this database, then end the listening connection.
            db = pg_url.rsplit("/", 1)[1]
            pg_server.admin(f"ALTER DATABASE {db} ALLOW_CONNECTIONS false")
            pg_server.admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            f"WHERE datname = '{db}' AND application_name LIKE 'warroom-listen%'")
            assert await until(pilot, lambda: header.connection and header.connection[0].startswith("RECONNECTING"))
            assert "RECONNECTING" in header.render().plain
            writer.append(inc.id, Kind.NOTE, "written while this dashboard was not listening")
            pg_server.admin(f"ALTER DATABASE {db} ALLOW_CONNECTIONS true")
            # Back: LISTEN first, then catch up from the last seq: the entry written meanwhile is drawn.
            assert await until(pilot, lambda: "written while this dashboard was not listening" in timeline_text(app),
                               timeout=30)
            assert header.connection == ("LIVE", "ok")
