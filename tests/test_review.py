"""The postmortem follows the playbook (issue 17): impact, milestones, factors, resolution, action items,
related incidents — recorded with `warroom set`/`mark` through the real CLI into both store backends
(the SQLite file and a real PostgreSQL server, tests/pg_server.py), then exported."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tui.cli import main
from tui.incident import review
from tui.incident.export import export
from tui.incident.model import Kind, Severity, utcnow
from tui.incident.redact import Redactor
from tui.incident.store import Store


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, monkeypatch, tmp_path):
    """Where the CLI writes (the environment says it) and a way to open the same store in the test."""
    for name in ("WARROOM_DATABASE_URL", "WARROOM_CONFIG", "PGPASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WARROOM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WARROOM_AUTHOR", "alex")
    if request.param == "sqlite":
        return lambda: Store(tmp_path / "data")
    url = request.getfixturevalue("pg_url")
    monkeypatch.setenv("WARROOM_DATABASE_URL", url)
    from tui.incident.store_pg import PgStore

    return lambda: PgStore(url, tmp_path / "data")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def md_of(open_store, incident_id: int) -> str:
    with open_store() as store:
        return export(store, incident_id, "md", redactor=Redactor())


def test_a_whole_review_recorded_from_the_cli_reaches_the_postmortem(backend, capsys):
    code, out, err = run(capsys, "declare", "--title", "Checkout 503s from payments", "--sev", "2",
                         "--impact-start", "25m ago")
    assert (code, err) == (0, "")
    inc_id = int(out.strip().removeprefix("INC-"))
    md = md_of(backend, inc_id)
    # Nothing filled in yet: every field says TBD; time to detect is the 25 minutes before declaring.
    for field in ("Users affected", "Revenue impact", "Data loss", "SLA breach"):
        assert f"- **{field}:** TBD" in md
    assert re.search(r"Time to detect\*\* \(detected − impact started\): 00:2[45]:\d\d", md)

    assert run(capsys, "log", "--kind", "todo", "Alert on pool saturation")[0] == 0
    assert run(capsys, "log", "--kind", "todo", "Page the DBA again")[0] == 0
    with backend() as store:
        todos = [e.entry_id for e in store.timeline(inc_id) if e.kind is Kind.TODO]
    due = (utcnow().date() + timedelta(days=14)).isoformat()
    for argv in (["set", "impact", "--users", "~12,000 checkouts", "--data-loss", "no"],
                 ["set", "impact", "--revenue", "$38k delayed", "--sla-breach", "yes"],
                 ["set", "factor", "no", "canary", "stage"],
                 ["set", "resolution", "--mitigation", "rolled back to v1.4.2"],
                 ["set", "resolution", "--fix", "size the pool from peak load"],
                 ["mark", "notified", "--at", "20m", "ago"],
                 ["mark", "root-cause"],
                 ["set", "action-item", f"#{todos[0]}", "--owner", "@dave", "--priority", "p2", "--due", due],
                 ["set", "action-item", str(todos[1]), "--not-follow-up"]):
        code, out, err = run(capsys, *argv)
        assert (code, err) == (0, ""), argv
        assert out.startswith(f"INC-{inc_id} #")
    md = md_of(backend, inc_id)
    assert "- **Users affected:** \\~12,000 checkouts" in md          # the first setting kept
    assert "- **Revenue impact:** $38k delayed" in md and "- **Data loss:** no" in md
    assert "- **SLA breach:** yes" in md
    assert "## Contributing factors\n\n- no canary stage" in md
    assert "### Immediate mitigation\n\n- rolled back to v1.4.2" in md
    assert "### Permanent fix\n\n- size the pool from peak load" in md
    assert re.search(r"\| Team notified \| \S+ \S+ \| 00:0[45]:\d\d \| marked by alex \|", md)
    assert re.search(r"\| Root cause identified \| \S+ \S+ \| 00:2[45]:\d\d \| marked by alex \|", md)
    assert f"| Alert on pool saturation (#{todos[0]}) | @dave | P2 | {due} |" in md
    assert f"- [ ] #{todos[1]} Page the DBA again" in md.split("### Done during the incident")[1]
    assert "Todos not yet triaged" not in md


@pytest.mark.parametrize("argv, says", [
    (["set", "impact"], "nothing to set"),
    (["set", "impact", "--data-loss", "maybe"], "--data-loss: say yes or no"),
    (["set", "action-item", "1", "--priority", "urgent"], "priority must be one of P1, P2, P3, P4"),
    (["set", "action-item", "x1"], "not an entry id"),
    (["set", "action-item", "1", "--due", "2000-01-01"], "before the incident started"),
    (["set", "action-item", "1", "--due", "next week"], "due date must be a date like"),
    (["set", "action-item", "999"], "no entry #999"),
    (["mark", "done"], "milestone must be one of notified, root-cause, fix-deployed"),
    (["mark", "root-cause", "--at", "25:99"], "--at: not a time"),
    (["mark", "root-cause", "--at", "2999-01-01T00:00Z"], "--at: a milestone cannot be in the future"),
    (["mark", "root-cause", "--at", "2000-01-01T00:00Z"], "before INC-1's impact started"),
    (["set", "resolution"], "give --mitigation TEXT and/or --fix TEXT"),
])
def test_bad_input_is_one_line_and_exit_2(backend, capsys, argv, says):
    run(capsys, "declare", "--title", "t", "--sev", "3")
    run(capsys, "log", "--kind", "note", "not a todo")          # entry #2 (or later) is a note
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert says in err and err.count("\n") == 1, err


def test_action_item_refuses_an_entry_that_is_not_a_todo(backend, capsys):
    _, out, _ = run(capsys, "declare", "--title", "t", "--sev", "3")
    _, out, _ = run(capsys, "log", "a note")
    note_id = out.split("#")[1].split()[0]
    code, _, err = run(capsys, "set", "action-item", note_id)
    assert code == 2 and "is a note, not a todo" in err


def test_declare_impact_start_is_checked(backend, capsys):
    code, _, err = run(capsys, "declare", "--title", "t", "--sev", "3", "--impact-start", "tomorrow")
    assert code == 2 and err.startswith("warroom: --impact-start: not a time")


def test_related_incidents_share_a_service_or_title_words(backend, capsys):
    with backend() as store:
        old = store.declare("Payments pool exhausted", Severity.SEV2, author="a")
        store.append(old.id, Kind.SYSTEM, "payments DOWN: HTTP 503 (was UP)", meta={"key": "health:payments",
                                                                                    "state": "DOWN"})
        unrelated = store.declare("Slow search results", Severity.SEV3, author="a")
        edge = store.declare("Edge latency spike", Severity.SEV3, author="a")
        store.append(edge.id, Kind.SYSTEM, "payments DEGRADED: 900 ms (was UP)")
        now = store.declare("Checkout 503s", Severity.SEV2, author="a")
        store.append(now.id, Kind.SYSTEM, "payments DOWN: HTTP 503 (was UP)")
        store.append(now.id, Kind.NOTE, "pool exhausted again")
    md = md_of(backend, now.id)
    related = md.split("### Related incidents")[1].split("\n---")[0]
    assert f"- INC-{edge.id} (SEV3, Investigating" in related and "shares services payments" in related
    assert f"- INC-{old.id} (SEV2" in related
    assert unrelated.title not in related
    md = md_of(backend, unrelated.id)
    assert "- None found in this store" in md


def test_fold_later_settings_win_field_by_field() -> None:
    from tests.test_export import entry, m

    todo = entry(1, 1, 1, m(1), Kind.TODO, "a", "fix it")
    made = [review.impact_entry(users="10"), review.impact_entry(users="20", data_loss=True),
            review.impact_entry(data_loss=False), review.action_item_entry(todo, owner="@x", due=date(2024, 6, 1)),
            review.action_item_entry(todo, priority="P4")]
    entries = [todo] + [entry(10 + i, 10 + i, 1, m(2 + i), k, "a", t, meta=meta) for i, (k, t, meta) in enumerate(made)]
    folded = review.fold(entries)
    assert folded.impact == review.Impact(users="20", data_loss=False)
    assert folded.actions[1] == review.ActionMark(True, "@x", "P4", "2024-06-01")
    assert review.fold([todo]).impact == review.Impact()
    # A milestone nobody marked is the first entry of the matching kind; a mark overrides it.
    finding = entry(30, 30, 1, m(9), Kind.FINDING, "b", "pool exhausted")
    assert review.fold([finding]).milestones["root-cause"] == review.Milestone(m(9), "first finding entry")
    mark = review.milestone_entry("root-cause", m(12))
    marked = entry(31, 31, 1, m(12), mark[0], "c", mark[1], meta=mark[2])
    assert review.fold([finding, marked]).time("root-cause") == m(12)


def test_review_text_is_one_line_and_hostile_text_stays_literal() -> None:
    kind, text, meta = review.factor_entry("a\x1b[31m red\nsecond line")
    assert "\x1b" not in text and "\n" not in text
    with pytest.raises(ValueError, match="at most 300"):
        review.factor_entry("x" * 301)


def test_hostile_review_text_stays_literal_in_the_markdown(tmp_path) -> None:
    """Fields, authors and an imported file's meta cannot split a table row, run markup or reach a
    terminal as control sequences."""
    with Store(tmp_path) as store:
        inc = store.declare("t", Severity.SEV3, author="a")
        todo = store.add_todo(inc.id, "fix [b]it[/b] | now", author="a")
        for kind, text, meta in (review.impact_entry(users="[bold]all[/bold] | =HYPERLINK() \x1b]8;;x\x07",
                                                     revenue="<script>"),
                                 review.factor_entry("**bold** `code` |pipe|")):
            store.append(inc.id, kind, text, meta=meta, author="eve|\x1b[2J")
        kind, text, meta = review.milestone_entry("root-cause", utcnow())
        store.append(inc.id, kind, text, meta=meta, author="eve | x\x1b[2J")
        kind, text, meta = review.action_item_entry(todo, owner="@a|b")
        store.append(inc.id, kind, text, author="a", meta={**meta, "priority": "P1 | <b>", "due": "`x` | y"})
        md = export(store, inc.id, "md", redactor=Redactor())
    assert "\x1b" not in md and "\x07" not in md
    assert "- **Users affected:** \\[bold\\]all\\[/bold\\] \\| =HYPERLINK()" in md
    assert "- **Revenue impact:** \\<script\\>" in md
    assert "- \\*\\*bold\\*\\* \\`code\\` \\|pipe\\|" in md
    rows = [line for line in md.splitlines() if line.startswith("| Root cause identified") or "(#" in line]
    assert rows and all(line.replace("\\|", "").count("|") == (5 if line.startswith("| Root") else 6)
                        for line in rows), rows


def test_fix_deployed_unmarked_is_the_resolve_checklist_tick() -> None:
    from tests.test_export import entry, m

    tick = entry(1, 1, 1, m(50), Kind.ACTION, "a", "Checklist ✓ Resolve: Fix deployed with monitoring",
                 meta={"event": "checklist", "phase": "Resolve", "index": 2, "done": True})
    other = entry(2, 2, 1, m(40), Kind.ACTION, "a", "Checklist ✓ Resolve: Fix tested",
                  meta={"event": "checklist", "phase": "Resolve", "index": 1, "done": True})
    folded = review.fold([other, tick])
    assert folded.milestones["fix-deployed"] == review.Milestone(m(50), "checklist: Fix deployed with monitoring")
    untick = entry(3, 3, 1, m(45), Kind.ACTION, "a", "Checklist ✗ unchecked Resolve: Fix deployed with monitoring",
                   meta={"event": "checklist", "phase": "Resolve", "index": 2, "done": False})
    assert "fix-deployed" not in review.fold([other, untick]).milestones
