"""The incident model and store: what is written is what is read back, and every
problem surfaces as a one-line StoreError, never as a silently dropped write."""
from __future__ import annotations

import dataclasses
import os
import sqlite3
import time
import types
from datetime import datetime, timedelta, timezone

import pytest

import tui.incident.store as store_module
from tui.incident.model import (
    DEFAULT_CHECKLISTS,
    Entry,
    Kind,
    Phase,
    Severity,
    Status,
    from_ms,
    to_ms,
    utcnow,
)
from tui.incident.store import DB_NAME, MIGRATIONS, NoActiveIncident, Store, StoreError, current_revisions

T0 = datetime(2026, 11, 21, 14, 0, 0, tzinfo=timezone.utc)


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, data_dir):
    """Opens a connection to one store: the SQLite file, or a fresh PostgreSQL database (issue 16).

    Every test taking ``store`` runs against both backends: one contract."""
    if request.param == "sqlite":
        return lambda: Store(data_dir)
    from tui.incident.store_pg import PgStore

    url = request.getfixturevalue("pg_url")
    return lambda: PgStore(url, data_dir)


@pytest.fixture
def store(backend):
    with backend() as s:
        yield s


@pytest.fixture
def sqlite_store(data_dir):
    """For the tests of SQLite's own file handling."""
    with Store(data_dir) as s:
        yield s


def declare(store: Store, severity: Severity = Severity.SEV2, **kw):
    return store.declare(kw.pop("title", "Checkout failing"), severity, author="alice", **kw)


def between(value: datetime, before: datetime, after: datetime, plus: timedelta = timedelta(0)) -> bool:
    return before + plus <= value <= after + plus


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text and text.strip() == text, text
    return text


# -- model ----------------------------------------------------------------------


def test_ms_conversions_are_exact_and_utc_only():
    when = datetime(2026, 11, 21, 14, 5, 6, 789000, tzinfo=timezone.utc)
    assert from_ms(to_ms(when)) == when
    assert from_ms(to_ms(when)).tzinfo == timezone.utc
    # The same instant in another zone is the same milliseconds.
    assert to_ms(when.astimezone(timezone(timedelta(hours=-5)))) == to_ms(when)
    assert to_ms(when.replace(microsecond=789499)) == to_ms(when)
    assert to_ms(when.replace(microsecond=789500)) == to_ms(when) + 1
    with pytest.raises(ValueError, match="naive"):
        to_ms(datetime(2026, 11, 21, 14, 0))
    now = utcnow()
    assert now.tzinfo == timezone.utc and now.microsecond % 1000 == 0


@pytest.mark.parametrize("text, sev", [("1", Severity.SEV1), ("sev2", Severity.SEV2), (" SEV3 ", Severity.SEV3), (4, Severity.SEV4)])
def test_severity_parse(text, sev):
    assert Severity.parse(text) is sev


@pytest.mark.parametrize("bad", ["0", "5", "sev", "high", ""])
def test_severity_parse_rejects(bad):
    with pytest.raises(ValueError, match="severity must be 1-4"):
        Severity.parse(bad)


def test_kind_status_phase_parse():
    assert Kind.parse(" Mitigation ") is Kind.MITIGATION
    assert Status.parse("resolved") is Status.RESOLVED
    assert Phase.parse("VERIFY") is Phase.VERIFY
    for parse, bad in ((Kind.parse, "nope"), (Status.parse, "done"), (Phase.parse, "fix")):
        with pytest.raises(ValueError, match="must be one of"):
            parse(bad)


def test_stored_entries_are_ordinary_frozen_entries(store):
    inc = declare(store)
    entry = store.append(inc.id, Kind.NOTE, "hello", author="bob", meta={"k": 1})
    rebuilt = Entry(**{f.name: getattr(entry, f.name) for f in dataclasses.fields(Entry)})
    assert entry == rebuilt and repr(entry) == repr(rebuilt)
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.text = "changed"  # type: ignore[misc]
    assert dataclasses.replace(entry, text="x").text == "x"
    assert entry.meta == {"k": 1} and not entry.edited


# -- declare ---------------------------------------------------------------------


def test_declare_defaults(store):
    inc = declare(store, roles={"commander": "alice", "scribe": "bob"}, now=T0)
    assert (inc.id, inc.ref, inc.title) == (1, "INC-1", "Checkout failing")
    assert (inc.severity, inc.status, inc.phase) == (Severity.SEV2, Status.INVESTIGATING, Phase.TRIAGE)
    assert inc.started_at == inc.detected_at == T0
    assert inc.cadence_minutes == 30 and inc.next_update_at == T0 + timedelta(minutes=30)
    assert inc.escalate_after_minutes == 30
    assert dict(inc.roles) == {"commander": "alice", "scribe": "bob"}
    assert inc.mitigated_at is None and inc.resolved_at is None and not inc.resolved

    items = store.checklist(inc.id)
    expected = [(phase, i, text) for phase in Phase for i, text in enumerate(DEFAULT_CHECKLISTS[phase])]
    assert [(it.phase, it.index, it.text) for it in items] == expected
    assert not any(it.done for it in items)

    (first,) = store.timeline(inc.id)
    assert first.kind is Kind.SYSTEM and first.ts == T0 and first.author == "alice"
    assert first.text.startswith("Incident declared: Checkout failing (SEV2")
    assert first.meta["event"] == "declared" and first.meta["cadence"]["SEV1"] == 15
    assert store.active_incident() == inc == store.incident(inc.id)


@pytest.mark.parametrize("sev, minutes", [(Severity.SEV1, 15), (Severity.SEV2, 30), (Severity.SEV3, 60), (Severity.SEV4, None)])
def test_declare_cadence_sets_next_update(store, sev, minutes):
    inc = declare(store, sev, now=T0)
    assert inc.cadence_minutes == minutes
    assert inc.next_update_at == (None if minutes is None else T0 + timedelta(minutes=minutes))


def test_declare_overrides(store):
    started = T0 - timedelta(minutes=12)
    inc = declare(
        store, Severity.SEV2, now=T0, started_at=started, cadence={Severity.SEV2: 10},
        escalate_after=timedelta(minutes=45), checklists={Phase.TRIAGE: ("Page the DBA", "Freeze deploys")},
    )
    assert inc.started_at == started and inc.detected_at == T0
    assert inc.cadence_minutes == 10 and inc.next_update_at == T0 + timedelta(minutes=10)
    assert inc.escalate_after_minutes == 45
    items = store.checklist(inc.id)
    assert [it.text for it in items if it.phase is Phase.TRIAGE] == ["Page the DBA", "Freeze deploys"]
    assert [it.text for it in items if it.phase is Phase.VERIFY] == list(DEFAULT_CHECKLISTS[Phase.VERIFY])
    assert inc.elapsed(T0) == timedelta(minutes=12)


def test_declare_rejects_bad_input_and_writes_nothing(store):
    with pytest.raises(ValueError, match="title"):
        store.declare("   ", Severity.SEV1)
    with pytest.raises(ValueError, match="unknown role 'boss'"):
        store.declare("x", Severity.SEV1, roles={"boss": "me"})
    assert store.incidents() == []
    assert store.active_incident() is None
    with pytest.raises(NoActiveIncident, match="declare one"):
        store.require_active()
    with pytest.raises(StoreError, match="no incident INC-7"):
        store.incident(7)


def test_latest_open_incident_is_the_active_one(store):
    first = declare(store, title="first")
    second = declare(store, title="second")
    assert store.active_incident().id == second.id
    store.set_status(second.id, Status.RESOLVED)
    assert store.active_incident().id == first.id
    assert [i.title for i in store.incidents()] == ["first", "second"]


# -- append ------------------------------------------------------------------------


def test_append_is_committed_with_utc_millisecond_times(store, backend):
    inc = declare(store)
    before = utcnow()
    entry = store.append(inc.id, Kind.ACTION, "Paged the payments on-call", author="bob", source="tui")
    after = utcnow()
    assert (entry.kind, entry.author, entry.source, entry.rev, entry.incident_id) == (Kind.ACTION, "bob", "tui", 1, inc.id)
    assert entry.entry_id == entry.seq
    for when in (entry.ts, entry.recorded_at):
        assert when.tzinfo == timezone.utc and when.microsecond % 1000 == 0
        assert between(when, before, after)
    # Committed: another connection sees it at once.
    with backend() as other:
        assert other.entries(inc.id)[-1] == entry


def test_append_with_explicit_time(store):
    inc = declare(store, now=T0)
    at = datetime(2026, 11, 21, 16, 4, 5, 123600, tzinfo=timezone(timedelta(hours=2)))
    entry = store.append(inc.id, Kind.FINDING, "earlier finding", ts=at)
    assert entry.ts == datetime(2026, 11, 21, 14, 4, 5, 124000, tzinfo=timezone.utc)
    assert entry.recorded_at != entry.ts
    with pytest.raises(ValueError, match="naive"):
        store.append(inc.id, Kind.NOTE, "naive", ts=datetime(2026, 11, 21, 14, 0))


LITERAL_TEXTS = [
    "[bold]not markup[/bold] and [red]x[/] and [/]",
    "שלום עולם — RTL \u200fmixed\u200f with English",
    "emoji 🔥 and ZWJ 👩‍💻 and combining é",
    "tab\there, CRLF\r\nnew line\nand \x1b[31mANSI escape\x1b[0m and bell\x07",
    "NUL\x00inside",
    "  leading and trailing spaces  ",
    "'); DROP TABLE entries; --",
    "x" * 10_000,     # the longest entry the store takes (MAX_ENTRY_CHARS)
]


@pytest.mark.parametrize("text", LITERAL_TEXTS, ids=range(len(LITERAL_TEXTS)))
def test_text_is_stored_verbatim(store, backend, text):
    inc = declare(store)
    entry = store.append(inc.id, Kind.NOTE, text, author="[i]scribe[/i] ✍")
    assert entry.text == text and entry.author == "[i]scribe[/i] ✍"
    with backend() as other:
        stored = other.timeline(inc.id)[-1]
    assert stored.text == text and stored.author == "[i]scribe[/i] ✍"


def test_blank_or_unencodable_text_is_refused_not_dropped(store):
    inc = declare(store)
    for blank in ("", "   ", "\n\t"):
        with pytest.raises(ValueError, match="needs some text"):
            store.append(inc.id, Kind.NOTE, blank)
    # A lone surrogate (undecodable bytes in argv) cannot be stored as UTF-8: it must fail loudly.
    with pytest.raises(ValueError):
        store.append(inc.id, Kind.NOTE, "bad \udcff byte")
    assert len(store.entries(inc.id)) == 1
    store.append(inc.id, Kind.NOTE, "still writable")
    assert len(store.entries(inc.id)) == 2


def test_returned_entries_are_what_reads_back(store, backend):
    inc = declare(store)
    made = [
        store.append(inc.id, Kind.NOTE, "note", meta={"nested": {"a": [1, 2]}, "when": T0}),
        store.add_todo(inc.id, "todo", follow_up_minutes=5),
    ]
    made.append(store.edit(made[0].entry_id, text="edited", author="carol"))
    with backend() as other:
        assert other.entries(inc.id)[1:] == made
    assert [e.seq for e in made] == sorted(e.seq for e in made)


def test_seq_is_never_reused(sqlite_store, data_dir):
    store = sqlite_store
    # Readers remember the last seq they saw: a seq handed out twice would hide an entry.
    inc = declare(store)
    store.append(inc.id, Kind.NOTE, "a")
    b = store.append(inc.id, Kind.NOTE, "b")
    conn = sqlite3.connect(data_dir / DB_NAME)
    conn.execute("DELETE FROM entries WHERE seq = ?", (b.seq,))
    conn.commit()
    conn.close()
    c = store.append(inc.id, Kind.NOTE, "c")
    assert c.seq > b.seq and c.entry_id == c.seq
    assert store.edit(c.entry_id, text="c2").seq == c.seq + 1


def test_meta_round_trips(store):
    inc = declare(store)
    entry = store.append(inc.id, Kind.SYSTEM, "payments DOWN", meta={"key": "health:payments", "n": 3, "when": T0})
    assert store.entries(inc.id)[-1].meta == {"key": "health:payments", "n": 3, "when": str(T0)} == entry.meta


# -- edits --------------------------------------------------------------------------


def test_edit_appends_revisions_and_timeline_shows_the_latest(store):
    inc = declare(store)
    original = store.append(inc.id, Kind.NOTE, "db at 95% cpu", author="bob")
    second = store.edit(original.entry_id, text="db at 59% cpu", author="carol")
    third = store.edit(original.entry_id, kind=Kind.FINDING, author="dave")
    assert [r.rev for r in (original, second, third)] == [1, 2, 3]
    assert {r.entry_id for r in (original, second, third)} == {original.entry_id}
    assert third.text == "db at 59% cpu" and third.kind is Kind.FINDING and third.edited
    assert third.author == "bob" and third.meta["edited_by"] == "dave"  # the author stays, the editor is kept
    assert third.ts == original.ts

    revisions = store.revisions(original.entry_id)
    assert [(r.rev, r.text, r.kind) for r in revisions] == [
        (1, "db at 95% cpu", Kind.NOTE), (2, "db at 59% cpu", Kind.NOTE), (3, "db at 59% cpu", Kind.FINDING)]
    timeline = store.timeline(inc.id)
    assert [e for e in timeline if e.entry_id == original.entry_id] == [third]
    assert len(timeline) == 2
    assert len(store.entries(inc.id)) == 4  # declared + three revisions: nothing overwritten


def test_edit_of_time_resorts_the_timeline(store):
    inc = declare(store, now=T0)
    a = store.append(inc.id, Kind.NOTE, "A", ts=T0 + timedelta(minutes=1))
    b = store.append(inc.id, Kind.NOTE, "B", ts=T0 + timedelta(minutes=2))
    c = store.append(inc.id, Kind.NOTE, "C", ts=T0 + timedelta(minutes=2))  # same time: entry id breaks the tie
    assert [e.text for e in store.timeline(inc.id)][1:] == ["A", "B", "C"]
    store.edit(a.entry_id, ts=T0 + timedelta(minutes=3))
    assert [e.text for e in store.timeline(inc.id)][1:] == ["B", "C", "A"]
    store.edit(c.entry_id, ts=T0 - timedelta(minutes=1))
    assert [e.text for e in store.timeline(inc.id)] == ["C", "Incident declared: Checkout failing "
                                                              "(SEV2, major degradation for many users)", "B", "A"]
    assert b.entry_id < c.entry_id


def test_edit_refuses_unknown_entry_and_blank_text(store):
    inc = declare(store)
    entry = store.append(inc.id, Kind.NOTE, "x")
    with pytest.raises(StoreError, match="no entry 999"):
        store.edit(999, text="y")
    with pytest.raises(ValueError, match="needs some text"):
        store.edit(entry.entry_id, text="  ")
    assert len(store.revisions(entry.entry_id)) == 1


def test_current_revisions_folds_any_order():
    def e(seq, entry_id, rev, minute):
        return Entry(seq, entry_id, rev, 1, T0 + timedelta(minutes=minute), Kind.NOTE, "", f"{entry_id}.{rev}", "t", T0)

    revisions = [e(5, 1, 3, 9), e(1, 1, 1, 0), e(2, 2, 1, 5), e(4, 1, 2, 1), e(3, 3, 1, 5)]
    assert [x.text for x in current_revisions(revisions)] == ["2.1", "3.1", "1.3"]
    assert current_revisions([]) == []


# -- incident changes ------------------------------------------------------------


def test_severity_change_logs_a_decision_and_changes_cadence(store):
    before = utcnow()
    inc = declare(store, Severity.SEV3)               # 60 min cadence
    raised = store.set_severity(inc.id, Severity.SEV1, author="alice")
    after = utcnow()
    assert raised.severity is Severity.SEV1 and raised.cadence_minutes == 15
    # The faster cadence pulls the deadline in.
    assert between(raised.next_update_at, before, after, timedelta(minutes=15))
    assert raised.next_update_at < inc.next_update_at
    entry = store.timeline(inc.id)[-1]
    assert entry.kind is Kind.DECISION and entry.text == "Severity raised to SEV1 (was SEV3)"
    assert entry.meta == {"event": "severity", "from": "SEV3", "to": "SEV1"} and entry.author == "alice"

    lowered = store.set_severity(inc.id, Severity.SEV2)
    assert lowered.cadence_minutes == 30
    assert lowered.next_update_at == raised.next_update_at  # a slower cadence never pushes an update out
    assert store.timeline(inc.id)[-1].text == "Severity lowered to SEV2 (was SEV1)"

    cosmetic = store.set_severity(inc.id, Severity.SEV4)
    assert cosmetic.cadence_minutes is None and cosmetic.next_update_at is None

    n = len(store.entries(inc.id))
    assert store.set_severity(inc.id, Severity.SEV4) == cosmetic  # no change, nothing logged
    assert len(store.entries(inc.id)) == n


def test_severity_change_with_configured_cadence(store):
    inc = declare(store, Severity.SEV3, cadence={Severity.SEV1: 5, Severity.SEV3: 60})
    assert store.set_severity(inc.id, Severity.SEV1, cadence={Severity.SEV1: 5}).cadence_minutes == 5


def test_severity_change_after_resolution_arms_no_update(store):
    inc = declare(store, Severity.SEV3)
    store.set_status(inc.id, Status.RESOLVED)
    relabelled = store.set_severity(inc.id, Severity.SEV2)
    assert relabelled.severity is Severity.SEV2 and relabelled.cadence_minutes == 30
    assert relabelled.next_update_at is None  # resolved: no update is owed
    reopened = store.set_status(inc.id, Status.INVESTIGATING)
    assert reopened.next_update_at is not None


def test_resolve_and_reopen(store):
    inc = declare(store, Severity.SEV2)
    before = utcnow()
    monitoring = store.set_status(inc.id, Status.MONITORING, author="alice")
    assert monitoring.mitigated_at is not None and between(monitoring.mitigated_at, before, utcnow())
    resolved = store.set_status(inc.id, Status.RESOLVED, author="alice")
    assert resolved.resolved and resolved.status is Status.RESOLVED
    assert resolved.mitigated_at == monitoring.mitigated_at  # the first mitigation time stays
    assert resolved.resolved_at >= resolved.mitigated_at
    assert resolved.next_update_at is None
    assert resolved.elapsed(utcnow() + timedelta(hours=5)) == resolved.resolved_at - resolved.started_at
    assert store.timeline(inc.id)[-1].text == "Status changed to Resolved (was Monitoring)"
    assert store.active_incident() is None

    before = utcnow()
    reopened = store.set_status(inc.id, Status.INVESTIGATING, author="alice")
    after = utcnow()
    assert not reopened.resolved and reopened.resolved_at is None
    assert between(reopened.next_update_at, before, after, timedelta(minutes=30))
    assert store.active_incident().id == inc.id
    last = store.timeline(inc.id)[-1]
    assert last.meta == {"event": "status", "from": "Resolved", "to": "Investigating"}


def test_resolving_straight_away_sets_mitigated_too(store):
    inc = declare(store)
    resolved = store.set_status(inc.id, Status.RESOLVED)
    assert resolved.mitigated_at == resolved.resolved_at is not None


def test_phase_change(store):
    inc = declare(store)
    changed = store.set_phase(inc.id, Phase.MITIGATE, author="alice")
    assert changed.phase is Phase.MITIGATE
    entry = store.timeline(inc.id)[-1]
    assert (entry.kind, entry.text) == (Kind.DECISION, "Phase: Mitigate (was Triage)")
    n = len(store.entries(inc.id))
    store.set_phase(inc.id, Phase.MITIGATE)
    assert len(store.entries(inc.id)) == n


def test_roles_and_title(store):
    inc = declare(store)
    assert dict(store.set_role(inc.id, "comms", "dave").roles) == {"comms": "dave"}
    assert dict(store.set_role(inc.id, "comms", "").roles) == {}
    assert [e.text for e in store.timeline(inc.id)][-2:] == ["Comms: dave", "Comms role cleared"]
    with pytest.raises(ValueError, match="unknown role"):
        store.set_role(inc.id, "boss", "x")
    assert store.set_title(inc.id, "  Checkout down  ").title == "Checkout down"


def test_toggle_check_twice_logs_both(store):
    inc = declare(store)
    before = utcnow()
    done = store.toggle_check(inc.id, Phase.TRIAGE, 0, author="bob")
    assert done.done and done.done_by == "bob" and between(done.done_at, before, utcnow())
    undone = store.toggle_check(inc.id, Phase.TRIAGE, 0, author="bob")
    assert not undone.done and undone.done_by is None
    first, second = store.timeline(inc.id)[-2:]
    assert (first.kind, first.text) == (Kind.ACTION, "Checklist ✓ Triage: Severity assessed")
    assert first.meta == {"event": "checklist", "phase": "Triage", "index": 0, "done": True}
    assert second.text == "Checklist ✗ unchecked Triage: Severity assessed" and second.meta["done"] is False
    with pytest.raises(StoreError, match="no checklist item Verify #100"):
        store.toggle_check(inc.id, Phase.VERIFY, 99)


# -- stakeholder updates and follow-ups ------------------------------------------------


def test_record_update_sent_resets_the_deadline(store):
    inc = declare(store, Severity.SEV1, now=utcnow() - timedelta(minutes=20))  # 5 min overdue
    before = utcnow()
    sent = store.record_update_sent(inc.id, "Update #2 posted to #incidents", author="dave", meta={"channel": "slack"})
    after = utcnow()
    assert between(sent.next_update_at, before, after, timedelta(minutes=15))
    entry = store.timeline(inc.id)[-1]
    assert (entry.kind, entry.text, entry.author) == (Kind.COMMS, "Update #2 posted to #incidents", "dave")
    assert entry.meta == {"event": "update_sent", "channel": "slack"}
    store.set_status(inc.id, Status.RESOLVED)
    assert store.record_update_sent(inc.id, "Resolved update").next_update_at is None


def test_snooze_counts_from_the_deadline_when_not_yet_due(store):
    inc = declare(store, Severity.SEV2, now=utcnow())
    snoozed = store.snooze_update(inc.id, 5, author="alice")
    assert snoozed.next_update_at == inc.next_update_at + timedelta(minutes=5)
    entry = store.timeline(inc.id)[-1]
    assert entry.kind is Kind.SYSTEM and entry.text.startswith("Stakeholder update snoozed 5 min (due ")
    assert entry.meta == {"event": "snooze", "minutes": 5}


def test_snooze_counts_from_now_when_overdue(store):
    inc = declare(store, Severity.SEV2, now=utcnow() - timedelta(minutes=40))  # due 10 min ago
    before = utcnow()
    snoozed = store.snooze_update(inc.id, 5)
    assert between(snoozed.next_update_at, before, utcnow(), timedelta(minutes=5))


def test_snooze_without_cadence_does_nothing(store):
    inc = declare(store, Severity.SEV4)
    n = len(store.entries(inc.id))
    assert store.snooze_update(inc.id, 5) == inc
    assert len(store.entries(inc.id)) == n


def test_todo_with_follow_up(store):
    inc = declare(store)
    before = utcnow()
    todo = store.add_todo(inc.id, "Check the DB pool after the rollback", follow_up_minutes=10, author="bob")
    after = utcnow()
    plain = store.add_todo(inc.id, "Write the postmortem")
    assert todo.kind is Kind.TODO and "follow_up_at" in todo.meta and "follow_up_at" not in plain.meta
    (follow,) = store.followups(inc.id)
    assert (follow.entry_id, follow.text, follow.incident_id) == (todo.entry_id, todo.text, inc.id)
    assert between(follow.due_at, before, after, timedelta(minutes=10)) and follow.done_at is None
    assert datetime.fromisoformat(todo.meta["follow_up_at"]) == follow.due_at

    store.complete_followup(follow.id, author="bob")
    assert store.followups(inc.id) == []
    (done,) = store.followups(inc.id, pending_only=False)
    assert done.done_at is not None
    last = store.timeline(inc.id)[-1]
    assert (last.kind, last.text) == (Kind.ACTION, "Followed up: Check the DB pool after the rollback")
    n = len(store.entries(inc.id))
    store.complete_followup(follow.id)  # already done: nothing more is logged
    store.complete_followup(12345)
    assert len(store.entries(inc.id)) == n


def test_snooze_followup(store):
    inc = declare(store)
    store.add_todo(inc.id, "ping vendor", follow_up_minutes=1)
    (follow,) = store.followups(inc.id)
    before = utcnow()
    store.snooze_followup(follow.id, 30)
    assert between(store.followups(inc.id)[0].due_at, before, utcnow(), timedelta(minutes=30))


# -- other connections --------------------------------------------------------------


def changes_arrive(store, timeout: float = 20.0) -> bool:
    """Waits for store.changed(): SQLite knows at once, PostgreSQL's NOTIFY arrives a moment after the commit."""
    deadline = time.monotonic() + timeout
    while not store.changed():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def test_changed_sees_only_other_connections(store, backend):
    inc = declare(store)
    assert store.changed() is False
    store.append(inc.id, Kind.NOTE, "mine")
    assert store.changed() is False  # our own writes are already known
    last = store.last_seq()
    with backend() as other:
        theirs = other.append(inc.id, Kind.NOTE, "theirs", author="scribe")
        assert changes_arrive(store)
        assert store.changed() is False  # reported once
        assert store.entries(inc.id, after_seq=last) == [theirs]
        assert store.last_seq() == theirs.seq
        store.append(inc.id, Kind.NOTE, "mine again")
        assert changes_arrive(other) and store.changed() is False


def test_two_stores_on_a_new_dir_migrate_once(data_dir):
    with Store(data_dir) as first, Store(data_dir) as second:
        for s in (first, second):
            assert s._conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
            assert s._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        inc = declare(first)
        assert second.incident(inc.id) == inc
    with Store(data_dir) as third:  # reopening migrates nothing and keeps the data
        assert third.incident(inc.id) == inc
    conn = sqlite3.connect(data_dir / DB_NAME)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    conn.close()
    assert tables == ["checklist", "entries", "followups", "incidents", "sqlite_sequence"]


def test_a_newer_schema_is_refused(data_dir):
    data_dir.mkdir()
    conn = sqlite3.connect(data_dir / DB_NAME)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(StoreError) as exc:
        Store(data_dir)
    assert "newer than this warroom understands" in one_line(exc) and "upgrade warroom" in str(exc.value)


# -- one-line errors -------------------------------------------------------------------


def test_data_dir_under_a_regular_file(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(StoreError) as exc:
        Store(blocker / "data")
    text = one_line(exc)
    assert str(blocker / "data" / DB_NAME) in text and "cannot create the data directory" in text


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores directory permissions")
def test_unwritable_data_dir(tmp_path):
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(StoreError) as exc:
            Store(locked)
        assert "not writable" in one_line(exc) and str(locked) in str(exc.value)
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize("garbage", [b"this is not a database at all\n" * 200, bytes(range(256)) * 16])
def test_corrupt_file(data_dir, garbage):
    data_dir.mkdir()
    (data_dir / DB_NAME).write_bytes(garbage)
    with pytest.raises(StoreError) as exc:
        Store(data_dir)
    text = one_line(exc)
    assert str(data_dir / DB_NAME) in text and "corrupt" in text
    assert (data_dir / DB_NAME).read_bytes() == garbage  # left alone for recovery


def test_damaged_pages_fail_reads_and_writes_with_a_recovery_hint(data_dir):
    with Store(data_dir) as s:
        inc = declare(s)
        for i in range(200):
            s.append(inc.id, Kind.NOTE, f"note {i} " + "y" * 200)
        s._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = s._conn.execute("PRAGMA page_size").fetchone()[0]
    # Page 1 (header and schema) stays readable; every table and index page behind it is garbage.
    size = (data_dir / DB_NAME).stat().st_size
    with open(data_dir / DB_NAME, "r+b") as f:
        f.seek(page)
        f.write(b"\xde\xad\xbe\xef" * ((size - page) // 4))
    with Store(data_dir) as s:
        with pytest.raises(StoreError) as exc:
            s.timeline(inc.id)
        assert "read failed" in one_line(exc) and "corrupt" in str(exc.value)
        with pytest.raises(StoreError) as exc:
            s.append(inc.id, Kind.NOTE, "after the damage")
        assert "nothing was saved" in one_line(exc) and "corrupt" in str(exc.value)


@pytest.fixture
def quick_busy(monkeypatch):
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 100)


def test_a_locked_database_is_an_error_not_a_silent_drop(data_dir, quick_busy):
    with Store(data_dir) as s:
        inc = declare(s)
        holder = sqlite3.connect(data_dir / DB_NAME, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            with pytest.raises(StoreError) as exc:
                s.append(inc.id, Kind.NOTE, "while locked")
            text = one_line(exc)
            assert "locked by another process" in text and str(data_dir / DB_NAME) in text
            holder.execute("ROLLBACK")
        finally:
            holder.close()
        # Nothing half-written, and the store works again once the lock is gone.
        assert [e.text for e in s.entries(inc.id)][1:] == []
        assert s.append(inc.id, Kind.NOTE, "after the lock").text == "after the lock"


def test_opening_a_new_file_waits_for_another_process_lock(data_dir, monkeypatch):
    # SQLite refuses the switch to WAL at once (no busy handler) while another
    # connection holds the write lock; this used to fail "locked" when two
    # processes opened a new data dir together. The holder lets go when the store
    # first backs off, so no real time passes.
    data_dir.mkdir()
    holder = sqlite3.connect(data_dir / DB_NAME, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    naps: list[float] = []

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        if holder.in_transaction:
            holder.execute("COMMIT")

    monkeypatch.setattr(store_module, "time", types.SimpleNamespace(monotonic=store_module.time.monotonic, sleep=sleep))
    try:
        with Store(data_dir) as s:
            assert s._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert declare(s).id == 1
    finally:
        holder.close()
    assert naps, "the store never had to wait: the test did not reproduce the race"


def test_opening_a_new_file_held_too_long_is_a_locked_error(data_dir, quick_busy):
    data_dir.mkdir()
    holder = sqlite3.connect(data_dir / DB_NAME, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError) as exc:
            Store(data_dir)
        assert "locked by another process" in one_line(exc)
    finally:
        holder.close()


def test_append_many_is_one_transaction_all_or_none(store):
    from tui.incident.model import Kind, Severity

    inc = store.declare("burst", Severity.SEV3)
    before = len(store.entries(inc.id))
    written = store.append_many(inc.id, [(Kind.SYSTEM, f"pod {i} restarted", {"key": f"pod:{i}"}) for i in range(5)],
                                author="warroom", source="detector:pods")
    assert [e.text for e in written] == [f"pod {i} restarted" for i in range(5)]
    assert len(store.entries(inc.id)) == before + 5
    with pytest.raises(ValueError):
        store.append_many(inc.id, [(Kind.SYSTEM, "ok", None), (Kind.SYSTEM, "  ", None)])
    assert len(store.entries(inc.id)) == before + 5   # nothing of the rejected batch was written
