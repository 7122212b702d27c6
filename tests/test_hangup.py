"""A closed terminal always ends warroom, under CPU load too; SIGTERM always works; Ctrl-C quits.

Every test runs the real CLI on a real pseudo-terminal that is its controlling terminal
(tests/ptyproc.py), waits for something drawn, and closes the master side as a killed
tmux session or a dropped SSH connection does. What must follow within 2 s: the process
and every process it started are gone, and the sockets it listened on are closed.
"""
from __future__ import annotations

import concurrent.futures
import os
import signal
import time
from pathlib import Path

import pytest

from tests.ptyproc import CpuLoad, PtyProcess, gone_within, tcp_sockets
from tests.servers import refused_port
from tui.incident.model import Kind, Severity
from tui.incident.store import Store

pytestmark = pytest.mark.serial  # wall-clock limits: run alone, after the parallel pass (pyproject markers)

GONE_WITHIN_S = 2.0
REPETITIONS = 20
AT_ONCE = 4          # repetitions side by side, to keep the class well under a minute and a half


def _demo(tmp: Path) -> PtyProcess:
    # TMPDIR: the demo's temporary directory lands where the test can see it removed.
    return PtyProcess(["-m", "tui.cli", "demo", "--speed", "4"], env={"TMPDIR": str(tmp), "WARROOM_DATA_DIR": ""})


def _declared(data: Path, title: str = "Checkout failing") -> Path:
    with Store(data) as store:
        store.declare(title, Severity.SEV2, author="alice")
    return data


def _dashboard_config(folder: Path) -> Path:
    # One service, checked in a health worker process (the threshold moved to 0): the
    # dashboard then has a child process that must not outlive it.
    config = folder / "warroom.toml"
    config.write_text(f'[[services]]\nname = "probe-svc"\nurl = "http://127.0.0.1:{refused_port()}/healthz"\n'
                      'interval = 1\n\n[kubernetes]\nenabled = false\n')
    return config


def _dashboard(folder: Path, author: str = "alice", **options) -> PtyProcess:
    data = _declared(folder / "data")
    return PtyProcess(["-m", "tui.cli", "--config", str(_dashboard_config(folder)), "--data-dir", str(data)],
                      env={"WARROOM_HEALTH_PROCESS_ABOVE": "0", "WARROOM_DATA_DIR": "", "WARROOM_CONFIG": "",
                           "WARROOM_AUTHOR": author},
                      cwd=folder, **options)


def _hang_up_and_check(proc: PtyProcess) -> tuple[float, list, list]:
    """Close the terminal; (seconds until all gone, survivors, ports whose listening socket is still open).

    The very sockets, by inode: a freed port number may at once be taken by another round's
    client (its TIME_WAIT blocks a bind), which is not this process's doing (CI once saw it)."""
    tree, listening = proc.tree(), proc.listening_sockets()
    start = time.monotonic()
    proc.hangup()
    survivors = gone_within(tree, GONE_WITHIN_S)
    took = time.monotonic() - start
    still_open = tcp_sockets()
    return took, survivors, sorted(port for inode, port in listening.items() if inode in still_open)


def _demo_round(tmp_path: Path, n: int) -> str | None:
    tmp = tmp_path / f"demo-{n}"
    tmp.mkdir()
    proc = _demo(tmp)
    try:
        proc.wait_for(b"DEMO")
        assert proc.listening_sockets(), "the demo's services should be listening"
        took, survivors, taken = _hang_up_and_check(proc)
        left = list(tmp.iterdir())
        if survivors or taken or left:
            return f"demo #{n}: {took:.2f} s, alive {survivors}, ports {taken}, left {left}"
        return None
    finally:
        proc.close()


def _dashboard_round(tmp_path: Path, n: int) -> str | None:
    folder = tmp_path / f"dash-{n}"
    folder.mkdir()
    proc = _dashboard(folder)
    try:
        # The service's name is drawn once its worker process has answered a round.
        proc.wait_for(b"probe-svc")
        assert len(proc.tree()) >= 2, "the health worker process should be running"
        took, survivors, _ = _hang_up_and_check(proc)
        if survivors:
            return f"dashboard #{n}: {took:.2f} s, alive {survivors}"
        return None
    finally:
        proc.close()


@pytest.mark.timeout(240)
@pytest.mark.parametrize("kind", ["demo", "dashboard"])
def test_closed_terminal_ends_warroom_every_time_under_load(tmp_path, kind):
    one = _demo_round if kind == "demo" else _dashboard_round
    with CpuLoad(), concurrent.futures.ThreadPoolExecutor(AT_ONCE) as pool:
        failures = [f for f in pool.map(lambda n: one(tmp_path, n), range(REPETITIONS)) if f]
    assert not failures, f"{len(failures)} of {REPETITIONS} outlived their terminal: {failures}"


def test_closed_terminal_while_running_ends_the_demo_cleanly(tmp_path):
    """Hung up mid-scenario (not during start-up): the orderly exit, servers stopped."""
    proc = _demo(tmp_path)
    try:
        proc.wait_for(b"Paged the payments on-call")
        took, survivors, taken = _hang_up_and_check(proc)
        assert not survivors and not taken, (took, survivors, taken)
        assert proc.exit_code(1) == 128 + signal.SIGHUP
        assert list(tmp_path.iterdir()) == []
    finally:
        proc.close()


def test_closed_terminal_ends_a_dashboard_started_under_nohup(tmp_path):
    """SIGHUP inherited as ignored (nohup, some process managers): the guard's own handler
    still hears the hang-up, and the dashboard goes with its terminal."""
    proc = _dashboard(tmp_path, ignore_sighup=True)
    try:
        proc.wait_for(b"probe-svc")
        took, survivors, _ = _hang_up_and_check(proc)
        assert not survivors, (took, survivors)
    finally:
        proc.close()


@pytest.mark.parametrize("kind", ["demo", "dashboard"])
def test_sigterm_ends_warroom_and_restores_the_terminal(tmp_path, kind):
    proc = _demo(tmp_path) if kind == "demo" else _dashboard(tmp_path)
    try:
        proc.wait_for(b"DEMO" if kind == "demo" else b"probe-svc")
        tree = proc.tree()
        drawn = len(proc.output)
        proc.proc.send_signal(signal.SIGTERM)
        assert not gone_within(tree, GONE_WITHIN_S)
        assert proc.exit_code(1) == 128 + signal.SIGTERM
        # The terminal was left as it was found: the alternate screen closed, the cursor shown.
        proc.wait_for(b"\x1b[?1049l", timeout=5, after=drawn)
        if kind == "demo":
            assert list(tmp_path.iterdir()) == []
    finally:
        proc.close()


def test_ctrl_c_quits_the_dashboard(tmp_path):
    proc = _dashboard(tmp_path)
    try:
        proc.wait_for(b"probe-svc")
        proc.send(b"\x03")
        assert proc.exit_code(GONE_WITHIN_S + 3) == 0
    finally:
        proc.close()


def test_ctrl_c_in_the_entry_prompt_cancels_it(tmp_path):
    proc = _dashboard(tmp_path)
    try:
        at = proc.wait_for(b"probe-svc")
        proc.send(b"n")
        at = proc.wait_for(b"Enter saves", timeout=15, after=at)
        proc.send(b"half a thought")
        at = proc.wait_for(b"thought", timeout=15, after=at)
        proc.send(b"\x03")     # cancels the line; had it not, the ? below would be typed into it
        at = proc.wait_for(b"palette", timeout=15, after=at)   # the footer, drawn again once the prompt closed
        proc.send(b"?")
        proc.wait_for(b"Add a note", timeout=15, after=at)     # the help screen
        assert proc.proc.poll() is None
        proc.send(b"\x03")     # anywhere else (here over the help): quits
        assert proc.exit_code(GONE_WITHIN_S + 3) == 0
    finally:
        proc.close()
    with Store(tmp_path / "data") as store:
        incident = store.active_incident()
        assert not [e for e in store.timeline(incident.id) if "half a thought" in e.text]


def test_an_entry_on_screen_survives_a_hard_kill(tmp_path):
    """What a hard exit (the watchdog's) costs: nothing shown is lost, it was committed first."""
    proc = _dashboard(tmp_path, author="zed-scribe")
    try:
        at = proc.wait_for(b"probe-svc")
        proc.send(b"a")
        at = proc.wait_for(b"Enter saves", timeout=15, after=at)
        proc.send(b"failed over the primary\r")
        proc.wait_for(b"zed-scribe", timeout=15, after=at)     # the entry's row in the timeline
        os.kill(proc.pid, signal.SIGKILL)
        proc.exit_code(5)
    finally:
        proc.close()
    with Store(tmp_path / "data") as store:
        incident = store.active_incident()
        entries = [e for e in store.timeline(incident.id) if e.text == "failed over the primary"]
        assert [(e.kind, e.author) for e in entries] == [(Kind.ACTION, "zed-scribe")]
