"""`warroom import FILE`: load a `warroom export --format json` document into any store.

Exactly what was exported comes back: every revision with its author, source, time and
recording time, the checklist with who ticked what and when, the follow-ups. Only the
numbers are new (the target store hands out its own incident id, sequence numbers and
entry ids), so an incident begun on a laptop's SQLite file moves to the shared server.
All of it is one transaction: imported whole, or not at all.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from .export import IncidentRecord
from .model import Incident, to_ms
from .store import Store


def import_record(store: Store, record: IncidentRecord) -> Incident:
    inc = record.incident

    def txn(conn: Any) -> int:  # a sqlite3.Connection, or store_pg's adapter of a psycopg one
        cur = conn.execute(
            "INSERT INTO incidents (title, severity, status, phase, started_ms, detected_ms, mitigated_ms, resolved_ms, "
            "roles, next_update_ms, cadence_minutes, escalate_after_minutes, demo) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (inc.title, int(inc.severity), inc.status.value, inc.phase.value, to_ms(inc.started_at),
             _opt(inc.detected_at), _opt(inc.mitigated_at), _opt(inc.resolved_at), json.dumps(dict(inc.roles)),
             _opt(inc.next_update_at), inc.cadence_minutes, inc.escalate_after_minutes, int(inc.demo)),
        )
        incident_id: int = cur.lastrowid
        conn.executemany(
            "INSERT INTO checklist (incident_id, phase, idx, text, done_ms, done_by) VALUES (?,?,?,?,?,?)",
            [(incident_id, it.phase.value, it.index, it.text, _opt(it.done_at), it.done_by) for it in record.checklist],
        )
        new_ids: dict[int, int] = {}
        for rev in record.revisions:  # in the original write order, so revisions interleave as they did
            entry = store._insert_entry(
                conn, incident_id, rev.kind, rev.text, author=rev.author, source=rev.source, ts=rev.ts,
                meta=rev.meta, entry_id=new_ids.get(rev.entry_id), rev=rev.rev, recorded=rev.recorded_at,
            )
            new_ids.setdefault(rev.entry_id, entry.entry_id)
        for f in record.followups:
            conn.execute("INSERT INTO followups (incident_id, entry_id, text, due_ms, done_ms) VALUES (?,?,?,?,?)",
                         (incident_id, new_ids.get(f.entry_id, 0), f.text, to_ms(f.due_at), _opt(f.done_at)))
        return incident_id

    return store.incident(store._write(txn))


def _opt(when: datetime | None) -> int | None:
    return None if when is None else to_ms(when)
