"""How warroom ends on a closed terminal (SIGHUP), SIGTERM or SIGINT: always, and soon.

What kept a hung-up warroom alive (a killed tmux session, a dropped SSH connection):

* The kernel hangs the terminal up and sends the session leader SIGHUP *and SIGCONT*.
  Textual's SIGCONT handler (meant for ``fg`` after Ctrl-Z) re-enters application mode:
  on the dead terminal it starts a second output thread and a second input thread, and
  the shutdown then waits on the wrong one.
* Reads of a hung-up terminal return end-of-file at once, forever: Textual's input
  thread spins on them at 100 % of a core until the app has fully shut down.
* Writes fail with EIO: Textual's output thread dies on the first one, and every later
  write (each frame, the shutdown's own escape sequences) waits on its full queue
  forever, with the main thread blocked there.
* The old handler called ``app.exit()`` from the signal handler: a message posted on an
  event loop that may be blocked (above) and is not woken, so SIGTERM did nothing.

What :class:`ExitGuard` does about each, without touching Textual's internals:

* On SIGHUP with the terminal hung up, the terminal is swapped out under everyone's
  feet (``dup2``): output goes to /dev/null (writes succeed, the output thread drains
  and stops), input becomes an empty non-blocking pipe that is never readable (the input
  thread sleeps in its select and sees its exit flag), and SIGCONT is ignored from then on.
* The exit is asked for through ``loop.call_soon_threadsafe``, which wakes the loop.
* Last resort, armed by the first signal: a watchdog thread that, if the process is
  still alive HARD_EXIT_AFTER_S later, puts the terminal back as it was found (unless it
  is gone), removes what must not outlive the process (the demo's temporary directory)
  and calls ``os._exit``. A SIGTERM or SIGINT after the first signal does the same at
  once. What it still catches: the output thread dying before the swap, and, most often,
  an orderly shutdown that cannot finish in time because start-up work is still running
  (a hang-up right after the first frame under CPU load: imports, building the sources'
  clients; measured, most such exits end here, at 1.2-1.6 s; a hang-up of a running
  dashboard or demo exits in order in 0.4-1 s). Nothing is lost by it: every entry is
  committed to the store before it is shown, and processes and sockets end with the
  process (health workers exit on their stdin's end-of-file).
"""
from __future__ import annotations

import asyncio
import errno
import os
import shutil
import signal
import termios
import threading
import time
from typing import Any

# An orderly exit of a running app takes 0.4-1 s under CPU load (tests/test_hangup.py);
# past this the process ends anyway, inside the 2 s a closed terminal is allowed.
HARD_EXIT_AFTER_S = 1.2
REMOVE_WAIT_S = 0.5
# What Textual's driver writes when it leaves application mode (Kitty keys, mouse, focus
# events, bracketed paste off; line wrap on; the main screen and the cursor back): a hard
# exit with the terminal still there leaves it usable, as a clean exit would.
TERMINAL_RESET = ("\x1b[<u\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?1016l\x1b[?2004l\x1b[?7h"
                  "\x1b[?1004l\x1b[?1049l\x1b[?25h").encode()
RESET_WAIT_S = 0.1
WATCHED = (signal.SIGHUP, signal.SIGTERM, signal.SIGINT)

# The write end of the pipe that replaces a hung-up stdin: kept open so the read end
# never reports end-of-file (which would make the input thread spin again).
_never_written: int | None = None


def terminal_hung_up(fd: int) -> bool:
    """``fd`` is a terminal that has been hung up (tcgetattr fails with EIO)."""
    try:
        termios.tcgetattr(fd)
    except termios.error as exc:
        return bool(exc.args) and exc.args[0] == errno.EIO
    except (OSError, ValueError):
        return False
    return False


def detach_terminal() -> None:
    """Swap the dead terminal out of fds 0-2: writes go nowhere, reads wait forever."""
    global _never_written
    null = os.open(os.devnull, os.O_WRONLY)
    # Non-blocking: an input thread that saw the dead terminal readable just before the
    # swap gets EAGAIN from its read (Textual then ends the app) rather than waiting forever.
    read_end, write_end = os.pipe2(os.O_NONBLOCK)
    try:
        os.dup2(read_end, 0)
        os.dup2(null, 1)
        os.dup2(null, 2)
    finally:
        os.close(null)
        os.close(read_end)
    _never_written = write_end


def remove_tree(path: str | os.PathLike, wait: float = REMOVE_WAIT_S) -> None:
    """``rm -rf path``, waited for at most ``wait`` seconds (it finishes on its own after).

    A process of its own: shutil.rmtree in the watchdog thread took 0.1-1.2 s under load,
    sharing the GIL with every thread still busy (a syscall per file, each giving it up).
    """
    try:
        pid = os.posix_spawn("/bin/rm", ["rm", "-rf", "--", os.fspath(path)], {})
    except OSError:
        shutil.rmtree(path, ignore_errors=True)
        return
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return
        time.sleep(0.005)


class ExitGuard:
    """Around ``app.run()``: SIGHUP, SIGTERM and SIGINT end the app, within a bound.

    ``remove_on_hard_exit`` is a folder removed just before a hard exit: what must not
    outlive the process and does not end with it (the demo's temporary directory).
    ``exit_code`` is 128 + the signal's number once one came (a shell's convention).
    """

    def __init__(self, app: Any = None, *, remove_on_hard_exit: str | os.PathLike | None = None,
                 hard_exit_after: float = HARD_EXIT_AFTER_S) -> None:
        self.app = app
        self.remove_on_hard_exit = remove_on_hard_exit
        self.hard_exit_after = hard_exit_after
        self.signal: int | None = None
        self._previous: dict[int, Any] = {}
        self._app_done = False
        self._watchdog: threading.Thread | None = None
        self._terminal_attrs: list | None = None

    @property
    def exit_code(self) -> int | None:
        return None if self.signal is None else 128 + self.signal

    def __enter__(self) -> "ExitGuard":
        try:
            self._terminal_attrs = termios.tcgetattr(0)     # as found: cooked, echoing
        except (termios.error, OSError, ValueError):
            self._terminal_attrs = None
        for sig in WATCHED:
            self._previous[sig] = signal.signal(sig, self._on_signal)
        return self

    def __exit__(self, *exc: object) -> None:
        # The app has returned: from here on the caller's own clean-up runs (the
        # watchdog, if armed, still bounds it); later signals only hasten the end.
        self._app_done = True

    def restore(self) -> None:
        """Put the previous handlers back (tests; a process that goes on after the app)."""
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _on_signal(self, signum: int, frame: Any) -> None:
        if signum == signal.SIGHUP and (terminal_hung_up(0) or terminal_hung_up(2)):
            # The SIGCONT that comes with a hang-up must not re-enter application mode.
            signal.signal(signal.SIGCONT, signal.SIG_IGN)
            detach_terminal()
        if self.signal is not None:
            # A hang-up often brings two SIGHUPs (the kernel's, and the shell passing its own
            # on); the watchdog is armed already. A SIGTERM or SIGINT on top: no more waiting.
            if signum != signal.SIGHUP:
                self._hard_exit()
            return
        self.signal = signum
        self._watchdog = threading.Thread(target=self._watch, name="exit-watchdog", daemon=True)
        self._watchdog.start()
        if self._app_done:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None or self.app is None:
            # The app's loop is not running yet: unwind from here (the caller's finally
            # cleans up).
            raise SystemExit(self.exit_code)
        loop.call_soon_threadsafe(self.app.exit, None, self.exit_code)

    def _restore_terminal(self) -> None:
        """The terminal as it was found (a hung-up one is /dev/null by now: harmless)."""
        if self._terminal_attrs is None:
            return
        try:
            termios.tcsetattr(0, termios.TCSANOW, self._terminal_attrs)
        except (termios.error, OSError):
            pass

        def reset() -> None:
            try:
                os.write(2, TERMINAL_RESET)
            except OSError:
                pass

        # In a thread of its own: a terminal nobody reads any more blocks the write.
        writer = threading.Thread(target=reset, name="terminal-reset", daemon=True)
        writer.start()
        writer.join(RESET_WAIT_S)

    def _watch(self) -> None:
        threading.Event().wait(self.hard_exit_after)
        self._hard_exit()

    def _hard_exit(self) -> None:
        try:
            self._restore_terminal()
            if self.remove_on_hard_exit is not None:
                remove_tree(self.remove_on_hard_exit)
        finally:
            os._exit(self.exit_code or 1)
