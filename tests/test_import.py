"""`warroom import FILE` (issue 16): an export moves between stores exactly, both ways.

Real stores: a SQLite file and a fresh PostgreSQL database (tests/pg_server.py)."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tui.cli import main
from tui.incident.model import Kind, Phase, Severity, Status
from tui.incident.store import Store
from tui.incident.store_pg import PgStore

from .conftest import FIXED_NOW, seed_incident


def comparable(doc: dict) -> dict:
    """An export without what a store numbers itself (ids, seqs) or the moment of export."""
    doc = json.loads(json.dumps(doc))
    doc.pop("exported_at")
    for key in ("id", "ref"):
        doc["incident"].pop(key)
    for group in doc["entries"]:
        group.pop("entry_id")
        for rev in group["revisions"]:
            for key in ("seq", "entry_id", "incident_id"):
                rev.pop(key)
    for f in doc["followups"]:
        for key in ("id", "incident_id", "entry_id"):
            f.pop(key)
    return doc


def busy_incident(store):
    inc = seed_incident(store)
    first = store.timeline(inc.id)[1]
    store.edit(first.entry_id, text="payments p99 4.2 s (edited)", author="carol")
    store.edit(first.entry_id, kind=Kind.FINDING, ts=FIXED_NOW - timedelta(minutes=30), author="dave")
    store.toggle_check(inc.id, Phase.TRIAGE, 1, author="alice")
    store.add_todo(inc.id, "check the pool", follow_up_minutes=10, author="bob")
    todo = store.add_todo(inc.id, "done soon", follow_up_minutes=5, author="bob")
    store.complete_followup(store.followups(inc.id)[0].id, author="bob")
    store.append(inc.id, Kind.NOTE, "NUL\x00 and \x1b[31m escape and [b]markup[/b]", author="eve\x00")
    store.set_severity(inc.id, Severity.SEV1, author="alice")
    store.set_status(inc.id, Status.MITIGATING, author="alice")
    store.set_role(inc.id, "comms", "dave", author="alice")
    assert todo
    return store.incident(inc.id)


@pytest.mark.parametrize("direction", ["sqlite-to-postgresql", "postgresql-to-sqlite"])
def test_export_then_import_round_trips_exactly(direction, pg_url, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("WARROOM_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    sqlite_args = ["--data-dir", str(tmp_path / "sqlite")]
    pg_args = ["--data-dir", str(tmp_path / "pg")]
    source_args, target_args = (sqlite_args, pg_args) if direction.startswith("sqlite") else (pg_args, sqlite_args)

    def run(args, *argv):
        if args is pg_args:
            monkeypatch.setenv("WARROOM_DATABASE_URL", pg_url)
        else:
            monkeypatch.delenv("WARROOM_DATABASE_URL", raising=False)
        code = main([*args, *argv])
        out, err = capsys.readouterr()
        assert code == 0, err
        return out

    source = PgStore(pg_url, tmp_path / "pg") if source_args is pg_args else Store(tmp_path / "sqlite")
    with source:
        inc = busy_incident(source)
    exported = tmp_path / "inc.json"
    run(source_args, "export", "--format", "json", "--incident", inc.ref, "-o", str(exported))
    out = run(target_args, "import", str(exported))
    assert out.startswith(f"imported {inc.ref} as INC-1:") and "2 follow-ups" in out
    again = tmp_path / "again.json"
    run(target_args, "export", "--format", "json", "--incident", "INC-1", "-o", str(again))
    assert comparable(json.loads(again.read_text())) == comparable(json.loads(exported.read_text()))


def test_import_refuses_what_is_not_an_export(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}')
    assert main(["--data-dir", str(tmp_path / "d"), "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a warroom incident export" in err and str(bad) in err
    assert main(["--data-dir", str(tmp_path / "d"), "import", str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
