"""tui/action_runner.py on its own: a dashboard action's output is never lost to a race with its end."""
from __future__ import annotations

import select
import subprocess

from tui import action_runner

# The pause makes the runner's first look a wait (the command has not ended yet), the case to emulate.
ARGV = ["sh", "-c", "sleep 0.2; echo the last words"]


def test_lines_written_just_before_the_command_ends_are_read(monkeypatch):
    """The runner's thread descheduled between an empty wait and its look at the process (a loaded
    machine): by then the command has printed its last line and ended. That line is still read."""
    started: list[subprocess.Popen] = []
    real_popen, real_select = subprocess.Popen, select.select

    def popen(*args, **kwargs):
        proc = real_popen(*args, **kwargs)
        if list(args[0]) == ARGV:     # not another test's leftover thread's (patched for all)
            started.append(proc)
        return proc

    calls = {"n": 0}

    def late_select(rlist, wlist, xlist, timeout=None):
        if not started or list(rlist) != [started[0].stdout.fileno()]:
            return real_select(rlist, wlist, xlist, timeout)      # not the runner's (patched for all)
        if timeout and not calls["n"]:      # the first wait with a timeout:
            calls["n"] += 1
            real_select(rlist, [], [])      # the line is in the pipe,
            started[0].wait()               # the command has ended,
            return [], [], []               # and this wait reports that it timed out
        return real_select(rlist, wlist, xlist, timeout)

    monkeypatch.setattr(action_runner.subprocess, "Popen", popen)
    monkeypatch.setattr(action_runner.select, "select", late_select)
    got: list[str] = []
    outcome = action_runner.run_streaming(ARGV, got.extend)
    assert calls["n"] == 1, "the late wait was not emulated"
    assert outcome.exit_status == 0
    assert got == ["the last words"]


def test_a_background_child_holding_the_pipe_does_not_keep_the_action_running():
    got: list[str] = []
    outcome = action_runner.run_streaming(["sh", "-c", "echo started; sleep 30 & echo parent done"], got.extend)
    assert outcome.exit_status == 0 and outcome.duration_s < 25
    assert got == ["started", "parent done"]
