"""The store-only subcommands of `warroom`: declare, log, status, incidents, resolve.

Run in-process through ``tui.cli.main`` (fast), and once as a real process.
Bad input exits 2 with exactly one line on stderr.
"""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tui.cli import main
from tui.incident.model import Kind, Phase, Severity, Status
from tui.incident.store import Store

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No WARROOM_* from the caller, no ./warroom.toml or user config: defaults only."""
    for name in ("WARROOM_DATA_DIR", "WARROOM_CONFIG", "WARROOM_AUTHOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def data(tmp_path) -> Path:
    return tmp_path / "data"


class Run:
    def __init__(self, capsys, data: Path) -> None:
        self.capsys, self.data = capsys, data

    def __call__(self, *args: str, data_dir: bool = True) -> tuple[int, str, str]:
        argv = [*args, "--data-dir", str(self.data)] if data_dir else list(args)
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's own errors
            code = exc.code
        out, err = self.capsys.readouterr()
        return code, out, err

    def ok(self, *args: str, **kw) -> str:
        code, out, err = self(*args, **kw)
        assert code == 0, err
        return out

    def fails(self, *args: str, **kw) -> str:
        """Exit 2, nothing on stdout, exactly one line on stderr; returns that line."""
        code, out, err = self(*args, **kw)
        assert code == 2, (code, out, err)
        assert out == ""
        assert err.endswith("\n") and err.count("\n") == 1, err
        return err.rstrip("\n")


@pytest.fixture
def run(capsys, data) -> Run:
    return Run(capsys, data)


def open_store(data: Path) -> Store:
    return Store(data)


# -- declare -----------------------------------------------------------------------


def test_declare_prints_the_id(run, data):
    assert run.ok("declare", "--title", "Checkout failing", "--sev", "2", "--author", "alice",
                  "--commander", "alice", "--scribe", "bob") == "INC-1\n"
    with open_store(data) as store:
        inc = store.require_active()
        assert (inc.title, inc.severity, inc.cadence_minutes) == ("Checkout failing", Severity.SEV2, 30)
        assert dict(inc.roles) == {"commander": "alice", "scribe": "bob"}
        (declared,) = store.timeline(inc.id)
        assert declared.author == "alice" and declared.source == "cli"


def test_declare_another_while_one_is_open_says_so(run):
    run.ok("declare", "--title", "first", "--sev", "SEV3")
    code, out, err = run("declare", "--title", "second", "--sev", "sev1")
    assert (code, out) == (0, "INC-2\n")
    assert err == "note: INC-1 (first) is still open; INC-2 is now the active one\n"


def test_declare_started_time_and_config_defaults(run, data, tmp_path):
    config = tmp_path / "warroom.toml"
    config.write_text(
        '[incident]\ncadence_minutes = { SEV1 = 5, SEV2 = 10, SEV3 = 60 }\nescalate_after_minutes = 20\n\n'
        '[incident.checklists]\nTriage = ["Page the DBA", "Freeze deploys"]\n',
        encoding="utf-8",
    )
    run.ok("declare", "--title", "db down", "--sev", "2", "--started", "2026-11-21T13:50:00Z", "--config", str(config))
    with open_store(data) as store:
        inc = store.require_active()
        assert inc.started_at == datetime(2026, 11, 21, 13, 50, tzinfo=timezone.utc)
        assert inc.cadence_minutes == 10 and inc.next_update_at == inc.detected_at + timedelta(minutes=10)
        assert inc.escalate_after_minutes == 20
        triage = [it.text for it in store.checklist(inc.id) if it.phase is Phase.TRIAGE]
        assert triage == ["Page the DBA", "Freeze deploys"]


def test_declare_honours_warroom_config(run, data, tmp_path, monkeypatch):
    config = tmp_path / "env.toml"
    config.write_text("[incident]\ncadence_minutes = { SEV1 = 7 }\n", encoding="utf-8")
    monkeypatch.setenv("WARROOM_CONFIG", str(config))
    run.ok("declare", "--title", "x", "--sev", "1")
    with open_store(data) as store:
        assert store.require_active().cadence_minutes == 7


@pytest.mark.parametrize(
    "args, words",
    [
        (["--title", "x", "--sev", "5"], ["--sev", "severity must be 1-4"]),
        (["--title", "x", "--sev", "high"], ["--sev"]),
        (["--title", "x"], ["--sev"]),                                  # missing required option
        (["--sev", "1"], ["--title"]),
        (["--title", "   ", "--sev", "1"], ["title"]),
        (["--title", "x", "--sev", "1", "--started", "yesterday"], ["not a time", "ISO 8601"]),
        (["--title", "x", "--sev", "1", "--bogus"], ["unrecognized arguments: --bogus"]),
    ],
)
def test_declare_bad_input(run, data, args, words):
    line = run.fails("declare", *args)
    assert line.startswith("warroom")
    for word in words:
        assert word in line
    if (data / "warroom.db").exists():
        with open_store(data) as store:
            assert store.incidents() == []


def test_declare_with_a_bad_config_file(run, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[incident]\ncadence_minutes = { SEV9 = 5 }\n", encoding="utf-8")
    line = run.fails("declare", "--title", "x", "--sev", "1", "--config", str(bad))
    assert "SEV9" in line


# -- log ----------------------------------------------------------------------------


def test_log_appends_with_kind_and_author(run, data):
    run.ok("declare", "--title", "x", "--sev", "2")
    out = run.ok("log", "--kind", "action", "--author", "bob", "Paged", "the", "on-call")
    assert out.startswith("INC-1 #") and out.endswith(" UTC action: logged\n")
    run.ok("log", "--kind", "MITIGATION", "--author", "carol", "[bold]Rolled back[/bold] ✓")
    run.ok("log", "just a note")
    with open_store(data) as store:
        entries = store.timeline(1)[1:]
    assert [(e.kind, e.author, e.text, e.source) for e in entries[:2]] == [
        (Kind.ACTION, "bob", "Paged the on-call", "cli"),
        (Kind.MITIGATION, "carol", "[bold]Rolled back[/bold] ✓", "cli"),
    ]
    assert entries[2].kind is Kind.NOTE and entries[2].author  # login name or "unknown", never empty
    assert f"#{entries[0].entry_id} " in out


def test_log_author_from_environment(run, data, monkeypatch):
    run.ok("declare", "--title", "x", "--sev", "2")
    monkeypatch.setenv("WARROOM_AUTHOR", "scribe-sam")
    run.ok("log", "from the env")
    with open_store(data) as store:
        assert store.timeline(1)[-1].author == "scribe-sam"


def test_log_reads_standard_input(run, data, monkeypatch):
    run.ok("declare", "--title", "x", "--sev", "2")
    monkeypatch.setattr(sys, "stdin", io.StringIO("pasted from a pager\nsecond line\n\n"))
    run.ok("log", "--kind", "finding", "-")
    with open_store(data) as store:
        last = store.timeline(1)[-1]
    assert (last.kind, last.text) == (Kind.FINDING, "pasted from a pager\nsecond line")


def test_log_time_todo_and_explicit_incident(run, data):
    run.ok("declare", "--title", "first", "--sev", "2")
    run.ok("declare", "--title", "second", "--sev", "3")
    run.ok("log", "--incident", "INC-1", "--at", "2026-11-21T14:05:00Z", "for the first one")
    run.ok("log", "--incident", "1", "--kind", "todo", "--follow-up", "15", "ping the vendor")
    with open_store(data) as store:
        texts = {e.text: e for e in store.timeline(1)}
        assert texts["for the first one"].ts == datetime(2026, 11, 21, 14, 5, tzinfo=timezone.utc)
        assert texts["ping the vendor"].kind is Kind.TODO
        (follow,) = store.followups(1)
        assert follow.text == "ping the vendor"
        assert len(store.timeline(2)) == 1


@pytest.mark.parametrize(
    "args, words",
    [
        (["--kind", "gossip", "x"], ["--kind", "kind must be one of", "gossip"]),
        ([], ["text"]),                                       # missing text
        (["   "], ["nothing to log"]),
        (["--incident", "INC-x", "y"], ["not an incident id"]),
        (["--incident", "INC-9", "y"], ["no incident INC-9"]),
        (["--at", "noon", "y"], ["not a time"]),
        (["--no-such-option", "y"], ["unrecognized arguments"]),
    ],
)
def test_log_bad_input(run, data, args, words):
    run.ok("declare", "--title", "x", "--sev", "2")
    line = run.fails("log", *args)
    for word in words:
        assert word in line, line
    with open_store(data) as store:
        assert len(store.entries(1)) == 1  # nothing was logged


def test_log_without_an_active_incident(run, data):
    line = run.fails("log", "hello")
    assert "no active incident" in line and str(data) in line and "warroom declare" in line
    run.ok("declare", "--title", "x", "--sev", "2")
    run.ok("resolve")
    assert "no active incident" in run.fails("log", "after resolve")


def test_empty_stdin_is_nothing_to_log(run, monkeypatch):
    run.ok("declare", "--title", "x", "--sev", "2")
    monkeypatch.setattr(sys, "stdin", io.StringIO("  \n"))
    assert "nothing to log" in run.fails("log", "-")


# -- status, incidents, resolve ------------------------------------------------------


def test_status(run):
    run.ok("declare", "--title", "Checkout failing", "--sev", "2", "--commander", "alice")
    run.ok("log", "--kind", "action", "Paged the on-call")
    out = run.ok("status")
    lines = out.splitlines()
    assert lines[0] == "INC-1  SEV2  Investigating  Checkout failing"
    assert "elapsed 00:00:" in lines[1]
    assert lines[2] == "  phase     Triage (0/6 done)"
    assert re.fullmatch(r"  next update \d\d:\d\d:\d\d UTC \(in (29:\d\d|30:00)\)", lines[3]), lines[3]
    assert "  roles     commander: alice" in lines
    assert "  timeline  2 entries" in lines
    assert lines[-1].endswith("action     Paged the on-call")


def test_status_when_overdue(run, data):
    with open_store(data) as store:
        store.declare("old one", Severity.SEV1, now=datetime.now(timezone.utc) - timedelta(minutes=20))
    out = run.ok("status")
    assert re.search(r"  next update \d\d:\d\d:\d\d UTC \(OVERDUE by 05:\d\d\)\n", out), out


def test_incidents_lists_everything(run, data):
    # Reading commands create nothing: with no store yet they say where they looked.
    assert run.ok("incidents") == f"no incidents yet in {data} — declare one with 'warroom declare --title T --sev N'\n"
    run.ok("declare", "--title", "first", "--sev", "3")
    run.ok("resolve")
    run.ok("declare", "--title", "second", "--sev", "1")
    lines = run.ok("incidents").splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("INC-1    SEV3  Resolved ") and lines[0].endswith("  first")
    assert lines[1].startswith("INC-2    SEV1  Investigating ") and lines[1].endswith("  second")


def test_resolve(run, data):
    run.ok("declare", "--title", "x", "--sev", "2")
    assert run.ok("resolve", "--author", "alice") == "INC-1 resolved\n"
    with open_store(data) as store:
        inc = store.incident(1)
        assert inc.status is Status.RESOLVED and inc.resolved_at is not None and inc.next_update_at is None
        assert store.timeline(1)[-1].author == "alice"
    assert "no active incident" in run.fails("resolve")
    assert "no active incident" in run.fails("status")
    assert run.ok("status", "--incident", "INC-1").startswith("INC-1  SEV2  Resolved  x\n")


def test_unknown_subcommand_and_option(run):
    assert "invalid choice" in run.fails("frobnicate")
    assert "unrecognized arguments" in run.fails("status", "--verbose")


def test_data_dir_from_the_environment(run, tmp_path, monkeypatch):
    env_dir = tmp_path / "from-env"
    monkeypatch.setenv("WARROOM_DATA_DIR", str(env_dir))
    assert run.ok("declare", "--title", "env", "--sev", "3", data_dir=False) == "INC-1\n"
    run.ok("log", "via env", data_dir=False)
    with open_store(env_dir) as store:
        assert [e.text for e in store.timeline(1)][-1] == "via env"
    # The option wins over the environment.
    assert run.ok("declare", "--title", "opt", "--sev", "3") == "INC-1\n"


def test_store_errors_are_one_line(run, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, out, err = run("log", "x", "--data-dir", str(blocker / "data"), data_dir=False)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "cannot create the data directory" in err


# -- a real process --------------------------------------------------------------------


def test_as_a_real_process(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env.update(PYTHONPATH=str(ROOT), WARROOM_DATA_DIR=str(tmp_path / "proc-data"), WARROOM_AUTHOR="proc",
               XDG_CONFIG_HOME=str(tmp_path / "xdg"))

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "tui.cli", *args], input=stdin, capture_output=True,
                              text=True, encoding="utf-8", cwd=tmp_path, env=env, timeout=60)

    declared = cli("declare", "--title", "real process", "--sev", "1")
    assert (declared.returncode, declared.stdout, declared.stderr) == (0, "INC-1\n", "")
    logged = cli("log", "--kind", "decision", "-", stdin="Roll back to v2.3.0 — שלום\n")
    assert logged.returncode == 0 and logged.stdout.endswith(" UTC decision: logged\n"), logged.stderr
    bad = cli("log", "--kind", "gossip", "x")
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr and "kind must be one of" in bad.stderr
    missing = cli("log")
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    with open_store(tmp_path / "proc-data") as store:
        last = store.timeline(1)[-1]
    assert (last.kind, last.text, last.author) == (Kind.DECISION, "Roll back to v2.3.0 — שלום", "proc")


# --- the plain dashboard's arguments, read without argparse (start-up) ------------------------

@pytest.mark.parametrize("argv", [
    [],
    ["--config", "w.toml"],
    ["--config=w.toml", "--data-dir", "/tmp/d"],
    ["--redact-hosts", "--context", "prod-eu", "--data-dir=/x y/z"],
    ["--data-dir", "d", "--redact-hosts", "--config", "a.toml", "--context=c"],
    ["--config="],
    ["--author", "alice", "--read-only"],
    ["--author=alice bob"],
])
def test_dashboard_arguments_read_without_argparse_match_argparse(argv):
    from tui.cli import _dashboard_only, build_parser

    fast = _dashboard_only(argv)
    assert fast is not None
    full = build_parser().parse_args(argv)
    assert not hasattr(full, "func"), "no subcommand: the dashboard"
    for name in ("config", "data_dir", "context", "redact_hosts", "author", "read_only"):
        assert getattr(fast, name, None) == getattr(full, name, None), name


@pytest.mark.parametrize("argv", [
    ["status"], ["--help"], ["--conf", "w.toml"], ["--config"], ["--config", "--redact-hosts"],
    ["--author"], ["demo"], ["--config", "w.toml", "log", "x"], ["-h"],
])
def test_anything_else_goes_to_the_full_parser(argv):
    from tui.cli import _dashboard_only

    assert _dashboard_only(argv) is None


# -- a resolved incident is resolved (issue 17) ----------------------------------------


def test_log_after_resolving_names_the_incident_and_how_to_add_to_it(run, data):
    run.ok("declare", "--title", "Checkout failing", "--sev", "2")
    run.ok("resolve")
    line = run.fails("log", "one more finding")
    assert line.startswith("warroom: no active incident: INC-1 (Checkout failing) was resolved at ")
    assert "--incident INC-1" in line
    # Which works, and adds to the resolved incident rather than a duplicate.
    assert run.ok("log", "--incident", "INC-1", "one more finding").startswith("INC-1 #")
    with open_store(data) as store:
        assert len(store.incidents()) == 1 and store.timeline(1)[-1].text == "one more finding"


def _red_incident(data: Path) -> None:
    from checks.base import Level

    with open_store(data) as store:
        inc = store.declare("payments 503s", Severity.SEV2, author="ic")
        for key, state, level in (("health:api", "DOWN", Level.CRIT), ("health:search", "DOWN", Level.CRIT),
                                  ("health:search", "UP", Level.OK),
                                  ("pod:payments/api-1", "CrashLoopBackOff", Level.CRIT)):
            store.append(inc.id, Kind.SYSTEM, f"{key} {state}", author="warroom", source="detector",
                         meta={"key": key, "state": state, "level": int(level)})
        store.add_todo(inc.id, "check the replica lag", follow_up_minutes=30, author="ic")


def test_resolving_while_red_without_a_tty_is_one_line_and_exit_2(run, data):
    _red_incident(data)
    line = run.fails("resolve")
    assert "INC-1 still has red: api DOWN; payments/api-1 CrashLoopBackOff; " \
           "follow-up open: check the replica lag" in line
    assert "search" not in line                       # it came back UP: not red
    assert "--yes" in line
    with open_store(data) as store:
        assert store.incident(1).status is not Status.RESOLVED
    assert run.ok("resolve", "--yes") == "INC-1 resolved\n"


def test_resolving_while_red_on_a_tty_asks(run, data, monkeypatch):
    _red_incident(data)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    answers = iter(["n", "y"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    code, out, err = run("resolve")
    assert code == 1 and out == "INC-1 not resolved\n" and "still has red: api DOWN" in err
    code, out, err = run("resolve")
    assert code == 0 and out == "INC-1 resolved\n"


def test_resolving_when_all_is_green_asks_nothing(run, data):
    run.ok("declare", "--title", "x", "--sev", "2")
    with open_store(data) as store:
        store.append(1, Kind.SYSTEM, "api DOWN", author="warroom", source="detector",
                     meta={"key": "health:api", "state": "DOWN", "level": 3})
        store.append(1, Kind.SYSTEM, "api UP", author="warroom", source="detector",
                     meta={"key": "health:api", "state": "UP", "level": 0})
    assert run.ok("resolve") == "INC-1 resolved\n"
