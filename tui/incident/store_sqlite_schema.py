"""The SQLite store's schema, as an append-only list of migrations (one per user_version).

Split out of ``tui.incident.store`` so the SQL sits apart from the Store class.
"""

from __future__ import annotations

from typing import Sequence

MIGRATIONS: Sequence[str] = (
    # v1
    """
    CREATE TABLE incidents (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        title TEXT NOT NULL,
        severity INTEGER NOT NULL,
        status TEXT NOT NULL,
        phase TEXT NOT NULL,
        started_ms INTEGER NOT NULL,
        detected_ms INTEGER,
        mitigated_ms INTEGER,
        resolved_ms INTEGER,
        roles TEXT NOT NULL DEFAULT '{}',
        next_update_ms INTEGER,
        cadence_minutes INTEGER,
        escalate_after_minutes REAL NOT NULL,
        demo INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE entries (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        incident_id INTEGER NOT NULL REFERENCES incidents(id),
        entry_id INTEGER NOT NULL,
        rev INTEGER NOT NULL,
        ts_ms INTEGER NOT NULL,
        kind TEXT NOT NULL,
        author TEXT NOT NULL,
        text TEXT NOT NULL,
        source TEXT NOT NULL,
        recorded_ms INTEGER NOT NULL,
        meta TEXT,
        UNIQUE (entry_id, rev)
    );
    CREATE INDEX entries_by_incident ON entries (incident_id, seq);
    CREATE TABLE checklist (
        incident_id INTEGER NOT NULL REFERENCES incidents(id),
        phase TEXT NOT NULL,
        idx INTEGER NOT NULL,
        text TEXT NOT NULL,
        done_ms INTEGER,
        done_by TEXT,
        PRIMARY KEY (incident_id, phase, idx)
    );
    CREATE TABLE followups (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        incident_id INTEGER NOT NULL REFERENCES incidents(id),
        entry_id INTEGER NOT NULL,
        text TEXT NOT NULL,
        due_ms INTEGER NOT NULL,
        done_ms INTEGER
    );
    """,
)
