"""`warroom run -- COMMAND`: real commands in real processes, through pipes and through a pty.

What is checked: the command's exit status becomes warroom's; the entry is written
when the command starts and revised when it ends (exit status, signal, duration,
host, the last 50 output lines); Ctrl-C at the terminal reaches the command and is
recorded; a command that hangs leaves its "running" trace; secrets never reach the
store; memory stays bounded whatever the command prints.
"""
from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import psutil
import pytest

from tui.incident.model import Kind, Severity
from tui.incident.redact import Redactor
from tui.incident.store import Store
from tui.runcmd import OutputTail, command_line

ROOT = Path(__file__).resolve().parents[1]
SECRET = "s3cr3t-from-env-value"


@pytest.fixture
def env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env.update(PYTHONPATH=str(ROOT), WARROOM_DATA_DIR=str(tmp_path / "data"), WARROOM_AUTHOR="carol",
               XDG_CONFIG_HOME=str(tmp_path / "xdg"), WR_TOKEN=SECRET)
    config = tmp_path / "warroom.toml"
    # A ${ENV} value in the config is a secret: it must never reach the store.
    config.write_text('[[services]]\nname = "payments"\nurl = "http://127.0.0.1:9/healthz?token=${WR_TOKEN}"\n',
                      encoding="utf-8")
    env["WARROOM_CONFIG"] = str(config)
    return env


@pytest.fixture
def incident(tmp_path, env):
    with Store(tmp_path / "data") as store:
        return store.declare("payments 503s", Severity.SEV2, author="alice")


def warroom(env, *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui.cli", "run", *args], capture_output=True, env=env,
                          cwd=env["XDG_CONFIG_HOME"].rsplit("/", 1)[0], timeout=60, **kw)


def run_entries(tmp_path) -> list:
    """Every revision of every `warroom run` entry, in write order."""
    with Store(tmp_path / "data", read_only=True) as store:
        inc = store.require_active()
        return [e for e in store.entries(inc.id) if e.meta.get("event") == "run"]


def test_true_exits_0_and_is_recorded_at_start_and_end(tmp_path, env, incident):
    done = warroom(env, "--", "true")
    assert done.returncode == 0, done.stderr
    first, last = run_entries(tmp_path)
    assert first.entry_id == last.entry_id and (first.rev, last.rev) == (1, 2)
    assert first.text == "running: true" and first.meta["state"] == "running"
    assert first.kind is Kind.ACTION and first.author == "carol" and first.source == "run"
    assert last.text.startswith("ran: true — exit 0 after ") and last.ts == first.ts
    assert last.meta["state"] == "exited" and last.meta["exit_status"] == 0 and last.meta["signal"] is None
    assert last.meta["host"] == os.uname().nodename and 0 <= last.meta["duration_s"] < 30
    assert last.meta["output_tail"] == []
    assert done.stderr.decode().endswith(f"#{first.entry_id} action: exit 0 after {last.text.rsplit(' after ')[1]}\n")


def test_false_passes_its_status_through_with_output_kind_and_note(tmp_path, env, incident):
    done = warroom(env, "--kind", "mitigation", "--note", "drain the bad node", "--",
                   "sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3")
    assert done.returncode == 3
    # Pass-through: each stream still lands where the caller sent it.
    assert done.stdout == b"to-stdout\n" and done.stderr.startswith(b"to-stderr\n")
    last = run_entries(tmp_path)[-1]
    assert last.kind is Kind.MITIGATION and last.meta["exit_status"] == 3
    assert last.text.endswith("— drain the bad node") and "exit 3 after" in last.text
    assert sorted(last.meta["output_tail"]) == ["to-stderr", "to-stdout"]
    assert warroom(env, "--", "false").returncode == 1
    assert run_entries(tmp_path)[-1].meta["exit_status"] == 1


def test_a_missing_command_is_recorded_and_exits_127(tmp_path, env, incident):
    done = warroom(env, "--", "no-such-command-h8")
    assert done.returncode == 127
    last = run_entries(tmp_path)[-1]
    assert last.meta["state"] == "failed" and "could not start" in last.text


def test_without_an_incident_nothing_runs(tmp_path, env):
    marker = tmp_path / "ran"
    done = warroom(env, "--", "touch", str(marker))
    assert done.returncode == 2 and not marker.exists()
    assert done.stderr.count(b"\n") == 1 and b"no active incident" in done.stderr


def test_bad_kind_and_empty_command_are_one_line(tmp_path, env, incident):
    for args in (("--kind", "note", "--", "true"), ("--",), ()):
        done = warroom(env, *args)
        assert done.returncode == 2 and done.stderr.count(b"\n") == 1, done.stderr


def test_a_hostile_command_line_is_redacted_but_otherwise_kept(tmp_path, env, incident):
    done = warroom(env, "--", "sh", "-c", 'echo "arg was $1 and env $2"; exit 0', "sh",
                   "--token=tok-123456", f"https://u:{SECRET}@db.example/x",
                   "--password", "hunter2-pw", "DB_PASSWORD=p4ssw0rd!", "\x1b]0;pwned\x07\x1b[2J")
    assert done.returncode == 0
    last = run_entries(tmp_path)[-1]
    stored = last.text + repr(dict(last.meta))
    for secret in (SECRET, "tok-123456", "hunter2-pw", "p4ssw0rd!"):
        assert secret not in stored
    assert "--token=***" in last.text and "--password '***'" in last.text and "DB_PASSWORD=***" in last.text
    # The store keeps the control characters as given; only the edges make them visible.
    assert "\x1b]0;pwned\x07" in last.text
    # The command's own output repeated a secret from its arguments: masked in the tail too.
    assert last.meta["output_tail"] == ["arg was --token=*** and env https://***@db.example/x"]
    # What warroom itself printed is one clean line.
    own = done.stderr.decode().splitlines()[-1]
    assert own.isprintable() and own.startswith("warroom: INC-1 #")


def test_a_command_printing_100000_lines_keeps_the_last_50_in_bounded_memory(tmp_path, env, incident):
    # ~100 MB of output: a warroom that kept it would show it in its peak RSS.
    script = "import sys\nline = 'x' * 1000\nfor i in range(1, 100001): sys.stdout.write(f'{i} {line}\\n')"
    proc = subprocess.Popen([sys.executable, "-m", "tui.cli", "run", "--", sys.executable, "-c", script],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    received = peak = 0
    while chunk := proc.stdout.read(1 << 20):
        received += len(chunk)
        # warroom's own high-water mark so far (ru_maxrss would count this big pytest it was forked from).
        peak = max(peak, _peak_rss_kib(proc.pid))
    proc.stderr.read()
    assert proc.wait(timeout=60) == 0
    assert received == sum(len(str(i)) + 1002 for i in range(1, 100_001))     # every byte passed through
    assert 0 < peak < 80 * 1024, peak           # far below the 100 MB that went through it
    last = run_entries(tmp_path)[-1]
    tail = last.meta["output_tail"]
    assert len(tail) <= 50 and tail[-1].startswith("100000 ") and last.meta["output_lines"] == 100_000
    # Capped in bytes: 50 lines of a kilobyte would not fit, so the newest ones are kept.
    assert sum(len(line.encode()) + 1 for line in tail) <= 8 * 1024
    assert [int(line.split()[0]) for line in tail] == list(range(100_001 - len(tail), 100_001))


def _peak_rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            return next((int(line.split()[1]) for line in f if line.startswith("VmHWM:")), 0)
    except OSError:
        return 0


def test_output_tail_keeps_the_last_50_short_lines():
    tail = OutputTail()
    for i in range(100_000):
        tail.feed(f"line {i}\n".encode())
    assert tail.lines() == [f"line {i}" for i in range(99_950, 100_000)]
    assert tail.total_lines == 100_000
    big = OutputTail()
    big.feed(b"".join(f"{i}\n".encode() for i in range(100_000)) + b"partial \x1b[31mred\x1b[0m\rredrawn")
    assert big.lines()[-2:] == ["99999", "redrawn"] and len(big.lines()) == 50


def test_command_line_redaction():
    redactor = Redactor([SECRET])
    line = command_line(["kubectl", "--token", "abcd1234", f"--server=https://x/?key={SECRET}",
                         "--api-key=zzz", "x-auth-token=qq", "get", "pods"], redactor)
    assert line == "kubectl --token '***' '--server=https://x/?key=***' '--api-key=***' 'x-auth-token=***' get pods"
    assert len(command_line(["echo", "a" * 10_000], redactor)) == 2000


# -- through a terminal ----------------------------------------------------------------


def _in_pty(env, *args: str) -> tuple[subprocess.Popen, int]:
    """warroom run with a pty as its controlling terminal, as in a user's shell."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, b"\x18\x00\x50\x00\x00\x00\x00\x00")   # 24 x 80

    def controlling_tty() -> None:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen([sys.executable, "-m", "tui.cli", "run", *args], stdin=slave, stdout=slave,
                            stderr=slave, env=env, start_new_session=True, preexec_fn=controlling_tty)
    os.close(slave)
    return proc, master


def _read_until_exit(proc: subprocess.Popen, master: int, timeout: float = 30) -> bytes:
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            if not data and proc.poll() is not None:
                break
            out += data
        elif proc.poll() is not None:
            break
    proc.wait(timeout=5)
    os.close(master)
    return out


def _wait_for_child(proc: subprocess.Popen, name: str, master: int) -> psutil.Process:
    """The command warroom started (what a test waits on before pressing Ctrl-C)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for child in psutil.Process(proc.pid).children(recursive=True):
            if child.name() == name:
                return child
        select.select([master], [], [], 0.02)     # keep the terminal's buffer drained
        if select.select([master], [], [], 0)[0]:
            try:
                os.read(master, 65536)
            except OSError:
                pass
    raise AssertionError(f"{name} never started under warroom")


def test_the_command_sees_a_terminal_and_its_output_is_captured(tmp_path, env, incident):
    proc, master = _in_pty(env, "--", "sh", "-c", "test -t 1 && echo stdout-is-a-tty; stty size")
    out = _read_until_exit(proc, master)
    assert proc.returncode == 0, out
    assert b"stdout-is-a-tty" in out
    assert run_entries(tmp_path)[-1].meta["output_tail"] == ["stdout-is-a-tty", "24 80"]


def test_ctrl_c_reaches_the_command_and_is_recorded(tmp_path, env, incident):
    proc, master = _in_pty(env, "--", "sleep", "60")
    sleeper = _wait_for_child(proc, "sleep", master)
    os.write(master, b"\x03")          # Ctrl-C at the terminal: SIGINT to its foreground process group
    _read_until_exit(proc, master)
    assert not sleeper.is_running()
    assert proc.returncode == 130      # as a shell reports a command ended by SIGINT
    last = run_entries(tmp_path)[-1]
    assert last.meta["state"] == "killed" and last.meta["signal"] == "SIGINT" and last.meta["exit_status"] is None
    assert "killed by SIGINT" in last.text


def test_sigterm_to_warroom_alone_is_passed_on_and_recorded(tmp_path, env, incident):
    proc, master = _in_pty(env, "--", "sleep", "60")
    _wait_for_child(proc, "sleep", master)
    proc.send_signal(signal.SIGTERM)
    _read_until_exit(proc, master)
    assert proc.returncode == 128 + signal.SIGTERM
    assert run_entries(tmp_path)[-1].meta["signal"] == "SIGTERM"


def test_a_command_that_hangs_leaves_its_running_trace(tmp_path, env, incident):
    proc, master = _in_pty(env, "--note", "wait for it", "--", "sleep", "60")
    sleeper = _wait_for_child(proc, "sleep", master)
    trace = run_entries(tmp_path)
    assert [e.text for e in trace] == ["running: sleep 60 — wait for it"] and trace[0].meta["state"] == "running"
    # The shell dies hard: nothing more is written, the trace stays.
    proc.kill()
    sleeper.kill()
    _read_until_exit(proc, master)
    assert [e.meta["state"] for e in run_entries(tmp_path)] == ["running"]


def test_edit_with_meta_sets_keys_and_keeps_the_rest(store):
    """The store API `warroom run` revises its entry with (PostgreSQL's store must match)."""
    inc = store.declare("x", Severity.SEV3, author="a")
    first = store.append(inc.id, Kind.ACTION, "running: true", author="a", meta={"event": "run", "state": "running"})
    second = store.edit(first.entry_id, text="ran: true", author="b", source="run",
                        meta={"state": "exited", "exit_status": 0})
    assert second.meta == {"event": "run", "state": "exited", "exit_status": 0, "edited_by": "b"}
    assert [e.meta["state"] for e in store.revisions(first.entry_id)] == ["running", "exited"]
    assert store.revisions(first.entry_id)[-1].meta == second.meta
    # Completing its own entry is not an edit; a person changing it afterwards is.
    assert not second.edited
    assert store.edit(first.entry_id, text="ran: true (on the wrong cluster)", author="c", source="tui").edited


def test_a_closed_terminal_ends_the_command_and_warroom_records_it(tmp_path, env, incident):
    proc, master = _in_pty(env, "--", "sleep", "60")
    sleeper = _wait_for_child(proc, "sleep", master)
    os.close(master)                   # the terminal window is closed: SIGHUP
    assert proc.wait(timeout=30) == 128 + signal.SIGHUP
    assert not sleeper.is_running()
    last = run_entries(tmp_path)[-1]
    assert last.meta["state"] == "killed" and last.meta["signal"] == "SIGHUP"


def test_a_signal_that_lands_before_the_pid_is_known_is_still_passed_on(monkeypatch):
    """A closed terminal's SIGHUP can arrive between posix_spawnp's return and warroom
    learning the pid (Python runs handlers right after a call): it must still reach the command."""
    import tui.runcmd as runcmd

    real_spawn = os.posix_spawnp

    def spawn_then_hang_up(*args, **kwargs):
        pid = real_spawn(*args, **kwargs)
        signal.raise_signal(signal.SIGHUP)      # handled here, before run() has the pid
        return pid

    monkeypatch.setattr(runcmd.os, "posix_spawnp", spawn_then_hang_up)
    outcome = runcmd.run(["sleep", "30"])      # unforwarded, it would end by itself, exit 0
    assert outcome.signal == signal.SIGHUP and outcome.forwarded == [signal.SIGHUP]
