"""Exports: golden markdown postmortem, CSV that reads back, JSON that round-trips.

Regenerate the golden files with ``UPDATE_GOLDEN=1 pytest tests/test_export.py``
(never done automatically: a changed golden is a reviewed diff).
"""
from __future__ import annotations

import csv
import io
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tui.incident.export import (
    CSV_COLUMNS,
    IncidentRecord,
    action_due,
    action_owner,
    current_revisions,
    currently_impacted,
    export,
    export_csv,
    export_json,
    export_markdown,
    impacted_services,
    load_json,
    md_escape,
    save_text,
    unique_path,
)
from tui.incident.model import (
    DEFAULT_CHECKLISTS,
    ChecklistItem,
    Entry,
    FollowUp,
    Incident,
    Kind,
    Phase,
    Severity,
    Status,
)
from tui.incident.redact import Redactor
from tui.incident.store import Store

GOLDEN = Path(__file__).parent / "golden"
T0 = datetime(2024, 5, 1, 9, 0, tzinfo=timezone.utc)
NOW = T0 + timedelta(hours=3)
INCIDENT_ID = 42


def entry(seq: int, entry_id: int, rev: int, ts: datetime, kind: Kind, author: str, text: str,
          source: str = "tui", meta: dict | None = None) -> Entry:
    return Entry(seq=seq, entry_id=entry_id, rev=rev, incident_id=INCIDENT_ID, ts=ts, kind=kind, author=author,
                 text=text, source=source, recorded_at=ts + timedelta(seconds=seq, milliseconds=seq * 7),
                 meta=meta or {})


def m(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


RUN_META = {"event": "run", "command": "kubectl rollout undo deploy/payments", "host": "ops-1", "state": "running"}


def _evidence_revisions() -> list[Entry]:
    """What the postmortem's supporting information is drafted from: `warroom run` entries and pinned lines."""
    return [
        # `warroom run`: written when the command started, revised when it ended.
        entry(17, 17, 1, m(38), Kind.MITIGATION, "dave", "running: kubectl rollout undo deploy/payments",
              source="run", meta=RUN_META),
        entry(18, 17, 2, m(38), Kind.MITIGATION, "dave",
              "ran: kubectl rollout undo deploy/payments — exit 0 after 12.3 s", source="run",
              meta={**RUN_META, "state": "exited", "exit_status": 0, "duration_s": 12.3, "edited_by": "dave",
                    "output_tail": ["deployment.apps/payments rolled back"], "output_lines": 1}),
        entry(19, 19, 1, m(39), Kind.ACTION, "bob", "ran: sh -c 'kubectl logs payments-0 | tail' — killed by SIGINT",
              source="run", meta={"event": "run", "command": "sh -c 'kubectl logs payments-0 | tail'",
                                  "host": "ops-2", "state": "killed", "exit_status": None, "signal": "SIGINT",
                                  "duration_s": 30.04}),
        entry(20, 20, 1, m(70), Kind.ACTION, "carol", "running: kubectl -n payments get events --watch",
              source="run", meta={"event": "run", "command": "kubectl -n payments get events --watch",
                                  "host": "ops-1", "state": "running"}),
        # Evidence pinned to a finding: log lines, one trying to close the code fence, one with colours.
        entry(21, 21, 1, m(22), Kind.FINDING, "carol", "Pool errors in the payments-0 log",
              meta={"lines": ["ERROR pool exhausted (20/20) `waiting`", "```", "\x1b[31mFATAL\x1b[0m | <b>"]}),
    ]


def _review_revisions(before: list[Entry]) -> list[Entry]:
    """What the commander recorded for the postmortem (issue 17), built as `warroom set`/`mark` build it,
    plus detector entries for the host and pods (the states at key moments)."""
    from datetime import date

    from tui.incident import review

    out = [
        entry(30, 30, 1, m(5), Kind.SYSTEM, "warroom", "cpu at 97% (critical ≥ 95%)",
              meta={"key": "host:cpu", "state": "CRIT", "level": 3}),
        entry(31, 31, 1, m(12), Kind.TODO, "alice", "Page carol again in 10 min"),
        entry(32, 32, 1, m(13), Kind.TODO, "bob", "Ask the DBA about max_connections"),
        entry(33, 33, 1, m(6), Kind.SYSTEM, "warroom", "payments/payments-0 CrashLoopBackOff",
              meta={"key": "pod:payments/payments-0", "state": "CrashLoopBackOff", "level": 3}),
        entry(34, 34, 1, m(42), Kind.SYSTEM, "warroom", "cpu back to 31%",
              meta={"key": "host:cpu", "state": "OK", "level": 0}),
        entry(35, 35, 1, m(42), Kind.SYSTEM, "warroom", "payments/payments-0 Running",
              meta={"key": "pod:payments/payments-0", "state": "Running", "level": 0}),
    ]
    todos = {e.entry_id: e for e in before + out if e.kind is Kind.TODO}
    made = [
        (m(25), review.impact_entry(users="~12,000 checkout attempts", revenue="$38k of orders delayed",
                                    data_loss=False)),
        (m(22), review.milestone_entry("root-cause", m(22))),
        (m(44), review.impact_entry(sla_breach=True)),
        (m(45), review.factor_entry("Pool size was never load-tested after the move to v1.4")),
        (m(46), review.factor_entry("The deploy had no canary stage for payments")),
        (m(70), review.resolution_entry(mitigation="Rolled back payments to v1.4.2",
                                        fix="Size the pool from measured peak concurrency (v1.4.4)")),
        (m(72), review.milestone_entry("fix-deployed", m(72))),
        (m(76), review.action_item_entry(todos[12], priority="p1")),
        (m(77), review.action_item_entry(todos[13], owner="@carol", priority="P3", due=date(2024, 5, 20))),
        (m(78), review.action_item_entry(todos[13], due=date(2024, 5, 22))),   # later wins, owner kept
        (m(79), review.action_item_entry(todos[31], follow_up=False)),
    ]
    for i, (ts, (kind, text, meta)) in enumerate(made):
        out.append(entry(40 + i, 40 + i, 1, ts, kind, "alice", text, source="cli", meta=meta))
    return out


def fixed_record(*, with_evidence: bool = False) -> IncidentRecord:
    """A resolved SEV2 with edits, awkward text (pipes, newlines, markup, quotes), todos and follow-ups;
    ``with_evidence``: also commands run with `warroom run` and evidence pinned to a finding."""
    incident = Incident(
        id=INCIDENT_ID, title="Checkout | payments API returning 503s", severity=Severity.SEV2,
        status=Status.RESOLVED, phase=Phase.VERIFY, started_at=T0, detected_at=m(4.5), mitigated_at=m(41),
        resolved_at=m(75), roles={"commander": "alice", "scribe": "bob"}, next_update_at=None,
        cadence_minutes=30, escalate_after_minutes=30.0,
    )
    revisions = [
        entry(1, 1, 1, m(4.5), Kind.SYSTEM, "alice",
              "Incident declared: Checkout | payments API returning 503s (SEV2, major degradation for many users)",
              source="cli", meta={"event": "declared"}),
        entry(2, 2, 1, m(5), Kind.SYSTEM, "", "payments DOWN: HTTP 503 (was UP)",
              meta={"key": "health:payments", "state": "DOWN"}),
        entry(3, 3, 1, m(6) + timedelta(seconds=10), Kind.SYSTEM, "", "edge DEGRADED: 1200 ms (was UP)"),
        entry(4, 4, 1, m(7), Kind.NOTE, "bob", 'Customers report *failed* checkouts; see <TICKET-123> [status] "quoted", commas'),
        entry(5, 5, 1, m(20), Kind.FINDING, "carol", "Connection pool exhausted\nafter deploy v1.4.3"),
        entry(6, 6, 1, m(30), Kind.COMMS, "alice", "[SEV2] INC-42: Checkout\n\nWe are investigating.",
              meta={"event": "update_sent"}),
        entry(7, 7, 1, m(35), Kind.ACTION, "dave", "Rolled back payments to v1.4.2"),
        entry(8, 8, 1, m(36), Kind.ACTION, "bob", "Checklist ✓ Mitigate: Rollback considered",
              meta={"event": "checklist", "phase": "Mitigate", "index": 0, "done": True}),
        entry(9, 9, 1, m(41), Kind.MITIGATION, "dave", "Rollback complete; error rate back to 0.1%"),
        entry(10, 5, 2, m(20), Kind.FINDING, "carol",
              "Connection pool exhausted after deploy v1.4.3 (max 20 | needs 60)", meta={"edited_by": "bob"}),
        entry(11, 11, 1, m(41.5), Kind.SYSTEM, "", "payments UP again after 36m DOWN"),
        entry(12, 12, 1, m(50), Kind.TODO, "alice", "Alert on pool saturation @dave due 2024-05-15"),
        entry(13, 13, 1, m(55), Kind.TODO, "carol", "Load-test pool sizes before deploys",
              meta={"follow_up_at": "2024-05-02T10:00:00+00:00"}),
        entry(14, 14, 1, m(60), Kind.DECISION, "alice", "Status changed to Monitoring (was Mitigating)",
              meta={"event": "status"}),
        entry(15, 14, 2, m(60), Kind.DECISION, "alice", "Status changed to Monitoring (was Identified)",
              meta={"event": "status", "edited_by": "alice"}),
        entry(16, 16, 1, m(75), Kind.DECISION, "alice", "Status changed to Resolved (was Monitoring)",
              meta={"event": "status"}),
    ]
    if with_evidence:
        revisions += _evidence_revisions() + _review_revisions(revisions)
    checklist = []
    for phase in Phase:
        for i, text in enumerate(DEFAULT_CHECKLISTS[phase]):
            done = phase in (Phase.TRIAGE, Phase.MITIGATE) or (phase is Phase.VERIFY and i < 2)
            checklist.append(ChecklistItem(phase, i, text, m(10 + i) if done else None, "bob" if done else None))
    followups = [FollowUp(1, INCIDENT_ID, 13, "Load-test pool sizes before deploys",
                          datetime(2024, 5, 2, 10, 0, tzinfo=timezone.utc), None)]
    return IncidentRecord(incident, tuple(revisions), tuple(checklist), tuple(followups), NOW)


def _export(exporter, rec: IncidentRecord, redactor: Redactor | None = None) -> str:
    return exporter(rec.incident, rec.revisions, rec.checklist, rec.followups,
                    redactor=redactor or Redactor(), now=NOW)


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
        return
    assert path.exists(), f"missing golden {path}; create it with UPDATE_GOLDEN=1"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{name} differs from the golden file; if intended, rerun with UPDATE_GOLDEN=1"


# -- markdown -------------------------------------------------------------------------

def test_markdown_postmortem_matches_golden() -> None:
    check_golden("postmortem.md", _export(export_markdown, fixed_record(with_evidence=True)))


def test_markdown_contents() -> None:
    md = _export(export_markdown, fixed_record(with_evidence=True))
    assert "- **Impact:** payments (down), edge (degraded)" in md
    assert "**Time to detect** (detected − impact started): 00:04:30" in md
    assert "**Time to acknowledge** (team notified − detected): 00:25:30" in md   # the first comms entry
    assert "**Time to mitigate** (mitigated − impact started): 00:41:00" in md
    assert "**Time to resolve** (resolved − impact started): 01:15:00" in md
    # Current revision, marked edited; the pipe cannot split the table row.
    assert "| 09:20:00 | finding | carol | Connection pool exhausted after deploy v1.4.3 (max 20 \\| needs 60) (edited) |" in md
    assert "after deploy v1.4.3<br>" not in md       # the old revision is not in the draft
    # Marked follow-up work: owner from the mark (else the @mention), a real due date, the priority.
    assert "|   | Alert on pool saturation @dave due 2024-05-15 (#12) | @dave | P1 | 2024-05-15 |" in md
    assert "|   | Load-test pool sizes before deploys (#13) | @carol | P3 | 2024-05-22 |" in md
    assert "2024-05-02 10:00" not in md        # the in-incident reminder time is not a due date
    assert "- [ ] #32 Ask the DBA about max\\_connections" in md.split("### Todos not yet triaged")[1]
    assert "- [ ] #31 Page carol again in 10 min" in md.split("### Done during the incident")[1]
    # The states at each key moment, in time order, folded from the detector's entries up to it.
    states = md.split("### States at key moments")[1].split("###")[0]
    assert "| Mitigated 09:41:00 | edge DEGRADED, payments DOWN | cpu CRIT | payments/payments-0 CrashLoopBackOff " \
           "since 09:06:00 |" in states
    assert "| Resolved 10:15:00 | edge DEGRADED | all OK | all OK |" in states
    assert states.index("Root cause identified 09:22") < states.index("Team notified 09:30")
    for heading in ("## What went well", "## What went wrong", "## Where we got lucky", "## Lessons learned",
                    "## Root cause (draft)", "## Resolution", "## Action items", "## Timeline (UTC)"):
        assert heading in md
    assert "Blameless" in md
    # Every timeline row has exactly five unescaped pipes.
    timeline = md[md.index("## Timeline (UTC)"):md.index("## Root cause")]
    rows = [line for line in timeline.splitlines() if line.startswith("| 09:") or line.startswith("| 10:")]
    assert len(rows) == 35
    for line in rows:
        assert line.replace("\\|", "").count("|") == 5, line


def test_markdown_supporting_information_lists_commands_and_evidence() -> None:
    md = _export(export_markdown, fixed_record(with_evidence=True))
    support = md[md.index("## Supporting information"):md.index("\n---\n")]
    commands = support[support.index("### Commands run"):support.index("### Pinned evidence")]
    rows = [line for line in commands.splitlines() if line.startswith("| 09:") or line.startswith("| 10:")]
    # In time order, the current revision of each, every row with seven unescaped pipes.
    assert rows == [
        "| 09:38:00 | kubectl rollout undo deploy/payments | exit 0 | 12.3 s | ops-1 | dave |",
        "| 09:39:00 | sh -c 'kubectl logs payments-0 \\| tail' | killed by SIGINT | 30.0 s | ops-2 | bob |",
        "| 10:10:00 | kubectl -n payments get events --watch | no end recorded (still running at export, or its "
        "terminal went away) | — | ops-1 | carol |",
    ]
    for line in rows:
        assert line.replace("\\|", "").count("|") == 7, line
    evidence = support[support.index("### Pinned evidence"):]
    # The fence is longer than any backtick run inside it; control characters are made visible.
    assert "````text\nERROR pool exhausted (20/20) `waiting`\n```\n␛[31mFATAL␛[0m | <b>\n````" in evidence
    assert "\x1b" not in md


def test_markdown_supporting_information_when_nothing_was_recorded() -> None:
    rec = fixed_record()
    md = export_markdown(rec.incident, rec.revisions, (), (), redactor=Redactor(), now=NOW)
    assert "### Commands run\n\n- None recorded: commands run with `warroom run -- COMMAND`" in md
    assert "### Pinned evidence\n\n- None pinned." in md


def test_markdown_of_an_ongoing_incident_says_not_yet() -> None:
    rec = fixed_record()
    from dataclasses import replace

    ongoing = replace(rec.incident, status=Status.INVESTIGATING, mitigated_at=None, resolved_at=None)
    md = export_markdown(ongoing, rec.revisions[:4], (), (), redactor=Redactor(), now=m(30))
    assert "**Time to mitigate** (mitigated − impact started): —" in md
    assert "**Time to resolve** (resolved − impact started): —" in md
    assert "**Time to acknowledge** (team notified − detected): —" in md
    for tbd in ("Users affected", "Revenue impact", "Data loss", "SLA breach"):
        assert f"- **{tbd}:** TBD" in md
    assert "### Permanent fix\n\n- TBD" in md and "## Contributing factors\n\n- TBD" in md
    assert "00:30:00 (ongoing)" in md
    assert "- TBD: no findings were recorded." in md


def test_markdown_escaping_keeps_text_literal() -> None:
    assert md_escape("a|b\nc") == "a\\|b<br>c"
    assert md_escape("*bold* _it_ `code` <b> [l](x) ~~s~~ #h &amp; !x") == \
        "\\*bold\\* \\_it\\_ \\`code\\` \\<b\\> \\[l\\](x) \\~\\~s\\~\\~ \\#h \\&amp; \\!x"
    assert md_escape("back\\slash\r\nline") == "back\\\\slash<br>line"


def test_text_helpers() -> None:
    assert action_owner("ask @dave.k and @erin") == "@dave.k"
    assert action_owner("mail bob@example.com") is None
    assert action_due("fix it, due: 2024-06-01") == "2024-06-01"
    assert action_due("due by 2024-06-02 please") == "2024-06-02"
    assert action_due("no date") is None
    timeline = current_revisions(fixed_record().revisions)
    assert impacted_services(timeline) == [("payments", "DOWN"), ("edge", "DEGRADED")]
    assert currently_impacted(timeline) == ["edge"]


# -- CSV ------------------------------------------------------------------------------

def test_csv_reads_back_with_the_csv_module() -> None:
    rec = fixed_record()
    rows = list(csv.reader(io.StringIO(_export(export_csv, rec), newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    timeline = current_revisions(rec.revisions)
    expected = [
        [e.ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{e.ts.microsecond // 1000:03d}Z", e.kind.value, e.author, e.text,
         e.source, str(e.entry_id), str(e.rev)]
        for e in timeline
    ]
    assert rows[1:] == expected
    assert any("\n" in r[3] for r in rows[1:])
    assert any('"' in r[3] and "," in r[3] for r in rows[1:])
    assert [r[6] for r in rows[1:] if r[5] == "5"] == ["2"]


def test_csv_golden() -> None:
    check_golden("timeline.csv", _export(export_csv, fixed_record()))


# -- JSON -----------------------------------------------------------------------------

def test_json_round_trips() -> None:
    rec = fixed_record(with_evidence=True)     # the commands' output and pinned lines too
    text = _export(export_json, rec)
    loaded = load_json(text)
    assert loaded.incident == rec.incident
    assert loaded.revisions == tuple(sorted(rec.revisions, key=lambda e: e.seq))
    assert loaded.checklist == rec.checklist
    assert loaded.followups == rec.followups
    assert loaded.exported_at == NOW
    # And the text itself is stable through a load/dump cycle.
    assert json.loads(text) == json.loads(_export(export_json, loaded))


def test_json_keeps_every_revision_with_millisecond_utc_times() -> None:
    doc = json.loads(_export(export_json, fixed_record()))
    edited = next(g for g in doc["entries"] if g["entry_id"] == 5)
    assert edited["edited"] is True and edited["current_rev"] == 2
    assert [r["text"] for r in edited["revisions"]] == [
        "Connection pool exhausted\nafter deploy v1.4.3",
        "Connection pool exhausted after deploy v1.4.3 (max 20 | needs 60)",
    ]
    assert doc["incident"]["started_at"] == "2024-05-01T09:00:00.000Z"
    assert edited["revisions"][0]["recorded_at"] == "2024-05-01T09:20:05.035Z"


def test_load_json_rejects_other_documents() -> None:
    with pytest.raises(ValueError, match="not a warroom incident export"):
        load_json('{"hello": 1}')
    with pytest.raises(ValueError, match="not JSON"):
        load_json("{")


# -- through the store ------------------------------------------------------------------

def test_export_from_a_store_round_trips(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        inc = store.declare("Disk full on db-1", Severity.SEV3, author="alice", now=T0, started_at=T0)
        e = store.append(inc.id, Kind.NOTE, "disk at 97%, | pipes, \"quotes\"", author="bob", ts=m(1))
        store.edit(e.entry_id, text="disk at 98%", author="bob")
        store.add_todo(inc.id, "Add disk alert @erin", follow_up_minutes=30, author="alice")
        store.toggle_check(inc.id, Phase.TRIAGE, 0, author="alice")
        redactor = Redactor()

        loaded = load_json(export(store, inc.id, "json", redactor=redactor, now=NOW))
        assert loaded.incident == store.incident(inc.id)
        assert list(loaded.revisions) == store.entries(inc.id)
        assert list(loaded.checklist) == store.checklist(inc.id)
        assert list(loaded.followups) == store.followups(inc.id, pending_only=False)

        rows = list(csv.reader(io.StringIO(export(store, inc.id, "csv", redactor=redactor), newline="")))
        assert [r[3] for r in rows[1:]] == [e.text for e in store.timeline(inc.id)]

        md = export(store, inc.id, "md", redactor=redactor, now=NOW)
        assert "disk at 98% (edited)" in md and " Add disk alert @erin" in md.split("### Todos not yet triaged")[1]
        with pytest.raises(ValueError, match="unknown export format"):
            export(store, inc.id, "pdf", redactor=redactor)


# -- saving files ---------------------------------------------------------------------

def test_save_text_never_overwrites(tmp_path: Path) -> None:
    first = save_text(tmp_path / "update.txt", "one")
    second = save_text(tmp_path / "update.txt", "two")
    assert first.name == "update.txt" and second.name == "update-2.txt"
    assert first.read_text() == "one" and second.read_text() == "two"
    assert unique_path(tmp_path / "update.txt").name == "update-3.txt"
