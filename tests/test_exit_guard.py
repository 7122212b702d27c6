"""tui.exit_guard.ExitGuard on its own, in a real process on a real terminal: what it does when
the app cannot end by itself (a main thread blocked for good, as Textual's was on a dead
output thread), and what it does to the terminal."""
from __future__ import annotations

import signal
import textwrap

import pytest

from tests.ptyproc import PtyProcess, gone_within

pytestmark = pytest.mark.serial  # wall-clock limits: run alone, after the parallel pass (pyproject markers)

# An "app" whose event loop is stuck: its exit() is asked for and never happens. Prints
# READY once the guard is in place.
STUCK = textwrap.dedent("""
    import asyncio, os, sys, threading
    from tui.exit_guard import ExitGuard

    class StuckApp:
        def __init__(self): self.exits = []
        def exit(self, result=None, return_code=0): self.exits.append(return_code)

    async def main(guard):
        os.write(1, b"\\x1b[?1049h\\x1b[?25l")      # application mode, as Textual enters it
        import termios, tty
        tty.setraw(0)
        os.write(1, b"READY\\n")
        await asyncio.sleep(0.2)                    # the loop runs: the exit request is queued
        threading.Event().wait()                    # then blocks for good, like a put() on a full queue

    app = StuckApp()
    with ExitGuard(app, remove_on_hard_exit=sys.argv[1]) as guard:
        asyncio.run(main(guard))
""")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stuck_app_still_ends_on_sigterm_and_the_terminal_is_given_back(tmp_path, sig):
    scratch = tmp_path / "scratch"
    (scratch / "inner").mkdir(parents=True)
    proc = PtyProcess(["-c", STUCK, str(scratch)])
    try:
        at = proc.wait_for(b"READY")
        tree = proc.tree()
        proc.proc.send_signal(sig)
        assert not gone_within(tree, 2.0)
        assert proc.exit_code(1) == 128 + sig
        assert not scratch.exists()
        # The terminal given back: main screen and cursor again (its termios modes restored too).
        proc.wait_for(b"\x1b[?1049l", timeout=5, after=at)
        proc.wait_for(b"\x1b[?25h", timeout=5, after=at)
    finally:
        proc.close()


def test_a_stuck_app_ends_when_its_terminal_is_closed(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    proc = PtyProcess(["-c", STUCK, str(scratch)])
    try:
        proc.wait_for(b"READY")
        tree = proc.tree()
        proc.hangup()
        assert not gone_within(tree, 2.0)
        assert proc.exit_code(1) == 128 + signal.SIGHUP
        assert not scratch.exists()
    finally:
        proc.close()


# After a hang-up the kernel also sends SIGCONT; Textual's handler for it re-enters
# application mode on the dead terminal. The guard ignores SIGCONT once the terminal is
# gone, and swaps the terminal's fds for /dev/null and a pipe that is never readable.
AFTER_HANGUP = textwrap.dedent("""
    import asyncio, os, select, signal, sys, time
    from tui.exit_guard import ExitGuard

    conts = []
    signal.signal(signal.SIGCONT, lambda *_: conts.append(1))   # Textual's, in spirit

    class App:
        def exit(self, result=None, return_code=0):
            loop.stop()

    async def main():
        os.write(1, b"READY\\n")
        await asyncio.sleep(30)

    loop = asyncio.new_event_loop()
    guard = ExitGuard(App(), hard_exit_after=30)
    with guard:
        loop.create_task(main())
        loop.run_forever()
    readable, _, _ = select.select([0], [], [], 0.2)
    os.write(2, b"after the hang-up, into /dev/null")
    result = f"signal={guard.signal} sigcont_handled={len(conts)} stdin_readable={bool(readable)}"
    with open(sys.argv[1], "w") as f:
        f.write(result)
""")


def test_after_a_hang_up_sigcont_is_ignored_and_the_terminal_swapped_out(tmp_path):
    report = tmp_path / "report"
    proc = PtyProcess(["-c", AFTER_HANGUP, str(report)])
    try:
        proc.wait_for(b"READY")
        tree = proc.tree()
        proc.hangup()          # the kernel sends this session leader SIGHUP, then SIGCONT
        assert not gone_within(tree, 2.0)
        assert proc.exit_code(1) == 0
        assert report.read_text() == "signal=1 sigcont_handled=0 stdin_readable=False"
    finally:
        proc.close()
