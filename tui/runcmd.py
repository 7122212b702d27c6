"""`warroom run -- COMMAND …`: run a command in the user's own terminal and keep its trace.

The command runs with the user's stdin, environment and credentials; its output
passes through unchanged while the last lines are kept in a bounded ring
(:class:`OutputTail`) for the timeline entry's meta.

How output is captured without changing what the command sees:

* An output that is a terminal is given to the command as a pseudo-terminal of
  our own (so colours, line buffering and ``isatty`` stay as they would be); we
  copy its bytes to the real terminal. Its output processing is switched off so
  the bytes arrive unchanged and the real terminal does the translating.
* An output that is not a terminal is given as a pipe, teed the same way.
* stdin is the user's own (never copied), and the command stays in warroom's
  process group: Ctrl-C at the terminal signals the command directly, exactly
  once, while warroom only notes it. Prompts that open ``/dev/tty`` (ssh, sudo
  passwords) go to the real terminal and are never captured.

Signals sent to warroom alone (``kill``, a closed terminal's SIGHUP) are passed
on to the command, so it ends, and warroom still records how.
"""
from __future__ import annotations

import errno
import os
import re
import select
import shlex
import signal
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from .incident.redact import MASK, Redactor

if TYPE_CHECKING:
    from .incident.model import Entry

TAIL_LINES = 50
# One line of the tail, and the whole tail, in UTF-8 bytes: the meta stays small
# whatever the command printed (a minified JSON blob is one "line").
TAIL_LINE_BYTES = 1024
TAIL_BYTES = 8 * 1024
# The command line as kept in the entry: argv can be megabytes (xargs-built lists).
COMMAND_CHARS = 2000
_READ_SIZE = 65536

# Options whose value is a credential: --token=X, --token X, --db-password X, --client-secret=X.
_SECRET_OPTION = re.compile(
    r"(?i)^--?(?:[\w.]+[-_])?(?:token|password|passwd|pass|pwd|secret|api[-_]?key|apikey|auth|credentials?)$")
# NAME=value words (env assignments, key=value arguments) whose name says secret.
_SECRET_ASSIGN = re.compile(
    r"(?i)^(?:[\w.\-]*[-_.])?(?:token|password|passwd|pwd|secret|api[-_]?key|apikey|credentials?)=.", re.DOTALL)
# Terminal control sequences in captured output: CSI (colours, cursor moves), OSC (titles),
# and two-byte escapes. The tail keeps the text, not the painting.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")


def redact_argv(argv: Sequence[str], redactor: Redactor) -> list[str]:
    """``argv`` with credentials masked: option values named like secrets (``--token=X``,
    ``--password X``), secret-named assignments (``DB_PASSWORD=X``), and whatever the
    redactor masks (the config's ``${ENV}`` values, URL passwords, bearer tokens)."""
    hidden = set(argv_secrets(argv))
    out: list[str] = []
    for arg in argv:
        if arg in hidden:
            out.append(MASK)
            continue
        name, eq, value = arg.partition("=")
        if eq and value in hidden:
            out.append(f"{name}={MASK}")
            continue
        out.append(redactor.text(arg))
    return out


def argv_secrets(argv: Sequence[str]) -> list[str]:
    """The credential values in ``argv`` (see :func:`redact_argv`): also masked wherever
    the command's own output repeats them (an error message quoting its arguments)."""
    values: list[str] = []
    for i, arg in enumerate(argv):
        name, eq, value = arg.partition("=")
        if arg.startswith("-") and _SECRET_OPTION.match(name):
            if eq:
                values.append(value)
            elif i + 1 < len(argv):
                values.append(argv[i + 1])
        elif not arg.startswith("-") and eq and _SECRET_ASSIGN.match(arg):
            values.append(value)
    return [v for v in values if v]


def command_line(argv: Sequence[str], redactor: Redactor) -> str:
    """The redacted command as a shell would read it back, capped at COMMAND_CHARS."""
    text = shlex.join(redact_argv(argv, redactor))
    return text if len(text) <= COMMAND_CHARS else text[: COMMAND_CHARS - 1] + "…"


class OutputTail:
    """The last ``lines`` lines of a byte stream, in bounded memory whatever its length."""

    def __init__(self, lines: int = TAIL_LINES, line_bytes: int = TAIL_LINE_BYTES) -> None:
        self._lines: deque[bytes] = deque(maxlen=lines)
        self._partial = b""
        self._line_bytes = line_bytes
        self.total_bytes = 0
        self.total_lines = 0

    def feed(self, data: bytes) -> None:
        if not data:
            return
        self.total_bytes += len(data)
        parts = data.split(b"\n")
        self.total_lines += len(parts) - 1
        if len(parts) == 1:
            # No newline: one line still growing; keep only its head (a line is capped anyway).
            if len(self._partial) < self._line_bytes:
                self._partial += data[: self._line_bytes - len(self._partial)]
            return
        self._lines.append((self._partial + parts[0])[: self._line_bytes])
        # Only the last few complete lines of a big chunk can survive: skip the rest in C.
        for line in parts[max(1, len(parts) - 1 - (self._lines.maxlen or 0)): -1]:
            self._lines.append(line[: self._line_bytes])
        self._partial = parts[-1][: self._line_bytes]

    def lines(self, max_bytes: int = TAIL_BYTES) -> list[str]:
        """The kept lines as text: decoded, control sequences dropped, a carriage-return
        redraw (progress bars) reduced to what it finally showed; at most ``max_bytes``."""
        raw = list(self._lines) + ([self._partial] if self._partial else [])
        raw = raw[-(self._lines.maxlen or 0):]      # an unfinished last line counts as one of them
        out: list[str] = []
        size = 0
        for chunk in reversed(raw):
            text = _ANSI.sub("", chunk.decode("utf-8", "replace")).rstrip("\r")
            text = text.rsplit("\r", 1)[-1]
            size += len(text.encode("utf-8")) + 1
            if size > max_bytes:
                break
            out.append(text)
        out.reverse()
        return out


@dataclass
class Outcome:
    """How a command ended."""
    exit_status: int | None = None      # its own exit code, when it exited
    signal: int | None = None           # the signal that killed it
    duration_s: float = 0.0
    error: str = ""                     # it could not be started
    forwarded: list[int] = field(default_factory=list)   # signals warroom passed on to it

    @property
    def shell_status(self) -> int:
        """What a shell would report: the exit code, 128 + signal, 126/127 for a failed start."""
        if self.signal is not None:
            return 128 + self.signal
        if self.exit_status is not None:
            return self.exit_status
        return 127 if "No such file" in self.error or "not found" in self.error else 126

    def describe(self) -> str:
        took = _fmt_seconds(self.duration_s)
        if self.error:
            return f"could not start: {self.error}"
        if self.signal is not None:
            return f"killed by {_signal_name(self.signal)} after {took}"
        return f"exit {self.exit_status} after {took}"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _fmt_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


class _Channel:
    """One of the command's outputs: where it writes (``child_fd``), where we read it
    (``read_fd``), and the real file descriptor it is copied to (``target``)."""

    def __init__(self, target: int, use_pty: bool) -> None:
        import fcntl
        import termios

        self.target = target
        self.is_pty = use_pty
        if use_pty:
            import pty

            self.read_fd, self.child_fd = pty.openpty()
            attrs = termios.tcgetattr(self.child_fd)
            attrs[1] &= ~termios.OPOST      # bytes unchanged: the real terminal translates
            termios.tcsetattr(self.child_fd, termios.TCSANOW, attrs)
            self.copy_size()
        else:
            self.read_fd, self.child_fd = os.pipe()
        fcntl.fcntl(self.read_fd, fcntl.F_SETFL, fcntl.fcntl(self.read_fd, fcntl.F_GETFL) | os.O_NONBLOCK)
        self.open = True

    def copy_size(self) -> None:
        if not self.is_pty:
            return
        import fcntl
        import termios

        try:
            size = fcntl.ioctl(self.target, termios.TIOCGWINSZ, b"\0" * 8)
            fcntl.ioctl(self.child_fd if self.child_fd >= 0 else self.read_fd, termios.TIOCSWINSZ, size)
        except OSError:
            pass

    def close(self) -> None:
        if self.open:
            os.close(self.read_fd)
            self.open = False


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def _write_all(fd: int, data: bytes) -> bool:
    """Write everything (the target may be slow or non-blocking); False when the reader went away."""
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except BlockingIOError:
            select.select([], [fd], [])
            continue
        except OSError as exc:
            if exc.errno in (errno.EPIPE, errno.EBADF, errno.EIO):
                return False
            raise
        view = view[n:]
    return True


_FORWARDED = (signal.SIGTERM, signal.SIGHUP)
# The terminal already sent these to the whole foreground group, the command included.
_NOTED = (signal.SIGINT, signal.SIGQUIT)


def run(argv: Sequence[str], *, on_started: Callable[[int], None] | None = None,
        tail: OutputTail | None = None) -> Outcome:
    """Run ``argv`` with stdout/stderr copied through (see the module docstring).

    ``on_started(pid)`` is called once the command is running. The tail of its
    output is fed into ``tail``. Returns how it ended; never raises for the
    command's own failure.
    """
    tail = tail if tail is not None else OutputTail()
    out_tty, err_tty = _isatty(1), _isatty(2)
    stdout = _Channel(1, out_tty)
    # Both outputs on terminals: one pty for both keeps their order as the terminal would show it.
    stderr = stdout if (out_tty and err_tty) else _Channel(2, err_tty)
    channels = [stdout] if stderr is stdout else [stdout, stderr]
    outcome = Outcome()
    started = time.monotonic()
    pid = 0
    previous: dict[int, Any] = {}
    # Signals that came before the command's pid was known: a closed terminal's SIGHUP can land
    # between posix_spawnp's return and the assignment (Python runs handlers right after a call).
    early: list[int] = []

    def forward(signum: int) -> None:
        outcome.forwarded.append(signum)
        try:
            os.kill(pid, signum)
        except OSError:
            pass

    def on_signal(signum: int, _frame: object) -> None:
        if signum in _FORWARDED:
            if pid:
                forward(signum)
            else:
                early.append(signum)

    def on_winch(_signum: int, _frame: object) -> None:
        for ch in channels:
            ch.copy_size()

    # Python handlers, not SIG_IGN: exec resets them, so the command gets the default dispositions.
    for signum in (*_FORWARDED, *_NOTED):
        previous[signum] = signal.signal(signum, on_signal)
    previous[signal.SIGWINCH] = signal.signal(signal.SIGWINCH, on_winch)
    try:
        # posix_spawn, not subprocess: importing subprocess alone costs ~10 ms of the start-up
        # budget. Our own descriptors are all close-on-exec (Python's and SQLite's default).
        actions = [(os.POSIX_SPAWN_DUP2, stdout.child_fd, 1), (os.POSIX_SPAWN_DUP2, stderr.child_fd, 2)]
        try:
            # SIGPIPE and SIGXFSZ back to their defaults: Python ignores them, the command must not.
            pid = os.posix_spawnp(argv[0], list(argv), os.environ, file_actions=actions,
                                  setsigdef=(signal.SIGPIPE, signal.SIGXFSZ))
        except OSError as exc:
            outcome.error = exc.strerror or str(exc)
            outcome.duration_s = time.monotonic() - started
            return outcome
        finally:
            for ch in channels:
                os.close(ch.child_fd)
                ch.child_fd = -1
        while early:
            forward(early.pop(0))
        if on_started is not None:
            on_started(pid)
        status = _pump(pid, channels, tail)
        outcome.duration_s = time.monotonic() - started
        if os.WIFSIGNALED(status):
            outcome.signal = os.WTERMSIG(status)
        else:
            outcome.exit_status = os.waitstatus_to_exitcode(status)
        return outcome
    finally:
        for ch in channels:
            ch.close()
        for restored, handler in previous.items():
            signal.signal(restored, handler)


def _pump(pid: int, channels: list[_Channel], tail: OutputTail) -> int:
    """Copy output until the command has exited and its outputs are drained; its wait status.

    A background process the command left behind may keep an output open for
    ever: once the command itself exits, what is buffered is drained and the
    copying stops rather than waiting for that stranger's end of file.
    """
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = -1
    status: int | None = None
    try:
        while status is None:
            fds = [ch.read_fd for ch in channels if ch.open]
            # Without a pidfd, look at the process every 50 ms.
            readable, _, _ = select.select(fds + ([pidfd] if pidfd >= 0 else []), [], [],
                                           None if pidfd >= 0 else 0.05)
            if pidfd < 0 or pidfd in readable:
                done, wait_status = os.waitpid(pid, os.WNOHANG)
                if done:
                    status = wait_status
                    readable = fds     # drain everything now
            for ch in channels:
                if ch.open and ch.read_fd in readable:
                    _copy(ch, tail, drain=status is not None)
        for ch in channels:
            ch.close()
        return status
    finally:
        if pidfd >= 0:
            os.close(pidfd)


def _copy(ch: _Channel, tail: OutputTail, *, drain: bool) -> None:
    while True:
        try:
            data = os.read(ch.read_fd, _READ_SIZE)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno == errno.EIO:     # a pty whose every writer has closed
                ch.close()
                return
            raise
        if not data:
            ch.close()
            return
        tail.feed(data)
        if not _write_all(ch.target, data):
            # Our reader went away: so does the command's, as if it wrote there directly.
            ch.close()
            return
        if not drain:
            return


# -- recording -------------------------------------------------------------------


def entry_texts(command: str, note: str) -> tuple[str, Callable[[Outcome], str]]:
    """The entry's text while the command runs, and once it has ended."""
    suffix = f" — {note}" if note else ""
    return f"running: {command}{suffix}", lambda outcome: f"ran: {command} — {outcome.describe()}{suffix}"


def run_and_record(store, incident, argv: Sequence[str], *, kind, note: str, author: str,
                   secrets: Iterable[str], warn: Callable[[str], None]) -> tuple[Outcome, Entry]:
    """Write the "running …" entry, run the command, revise the entry with how it ended.

    The first entry is committed before the command starts, so a command that hangs,
    or a shell that dies, still leaves its trace. A store failure after the command
    started is reported through ``warn`` and never changes the command's exit status.
    Returns the outcome and the last revision written.
    """
    from .incident.model import utcnow

    # The config's secrets, and the credentials given on this command line wherever they show up.
    redactor = Redactor([*secrets, *argv_secrets(argv)])
    command = command_line(argv, redactor)
    note = redactor.text(note.strip())
    host = os.uname().nodename     # what socket.gethostname() says, without importing socket
    running_text, ended_text = entry_texts(command, note)
    started_at = utcnow()
    meta = {"event": "run", "command": command, "host": host, "state": "running"}
    if note:
        meta["note"] = note
    entry = store.append(incident.id, kind, running_text, author=author, source="run", ts=started_at, meta=meta)
    tail = OutputTail()
    outcome = run(argv, tail=tail)
    result = ended_meta(outcome, tail, redactor)
    try:
        entry = store.edit(entry.entry_id, text=ended_text(outcome), author=author, source="run", meta=result)
    except Exception as exc:  # noqa: BLE001 - the command has run: its status is what the caller needs
        warn(f"the command ended ({outcome.describe()}) but its entry #{entry.entry_id} could not be "
             f"updated: {redactor.text(str(exc))} — add it by hand with 'warroom log'")
    return outcome, entry


def ended_meta(outcome: Outcome, tail: OutputTail, redactor: Redactor) -> dict[str, Any]:
    """The entry's meta once the command has ended (shared with the dashboard's actions)."""
    if outcome.error:
        state = "failed"
    elif outcome.signal is not None:
        state = "killed"
    else:
        state = "exited"
    result: dict[str, Any] = {
        "state": state,
        "exit_status": outcome.exit_status,
        "signal": _signal_name(outcome.signal) if outcome.signal is not None else None,
        "duration_s": round(outcome.duration_s, 3),
        "output_tail": [redactor.text(line) for line in tail.lines()],
        "output_lines": tail.total_lines,
        "output_bytes": tail.total_bytes,
    }
    if outcome.error:
        result["error"] = redactor.text(outcome.error)
    return result
