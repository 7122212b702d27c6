"""A real warroom process on a real pseudo-terminal that is its controlling terminal.

As under tmux or sshd: the child is a session leader and the pty's slave is its
controlling terminal, so closing the master side hangs the terminal up (the kernel
sends SIGHUP, reads return end-of-file, writes fail with EIO), the very thing a killed
tmux session or a dropped SSH connection does. ``wait_for`` waits for output (a
condition variable fed by a reader thread), never a fixed time.
"""
from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path
from typing import Sequence

import psutil

ROOT = Path(__file__).resolve().parent.parent

# Run in the child before warroom: make the pty (already its stdin) the controlling
# terminal of the new session, then become warroom. A preexec_fn would do the same
# in the forked child, which is unsafe while the test process runs threads.
_TAKE_TERMINAL = ("import fcntl, os, signal, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
                  "os.environ.pop('_PTY_IGNORE_HUP', None) and signal.signal(signal.SIGHUP, signal.SIG_IGN); "
                  "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])")


class PtyProcess:
    def __init__(self, args: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path = ROOT,
                 rows: int = 40, cols: int = 120, ignore_sighup: bool = False) -> None:
        """``ignore_sighup``: started as under ``nohup`` (SIGHUP ignored, inherited over exec)."""
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        # COLUMNS / LINES would override the pty's size in Textual (a test runner may set them).
        inherited = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        full_env = {**inherited, "TERM": "xterm-256color", **(env or {})}
        if ignore_sighup:
            full_env["_PTY_IGNORE_HUP"] = "1"
        try:
            self.proc = subprocess.Popen([sys.executable, "-c", _TAKE_TERMINAL, *args], cwd=cwd, env=full_env,
                                         stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
        finally:
            os.close(slave)
        self.pid = self.proc.pid
        self._root: psutil.Process | None = None
        self.output = bytearray()
        self._changed = threading.Condition()
        self._eof = False
        self._wake_r, self._wake_w = os.pipe()
        self._wait_hangup = threading.Event()
        self._reader = threading.Thread(target=self._read, name=f"pty-{self.pid}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        # Drained all the time, so the app never blocks on a full terminal. This thread alone
        # closes the master (hangup() asks it through a pipe): an fd closed under a select
        # could be reused by another test's file meanwhile.
        fd = self.master
        try:
            while True:
                ready, _, _ = select.select([fd, self._wake_r], [], [])
                if self._wake_r in ready:
                    return
                try:
                    chunk = os.read(fd, 65536)
                except OSError:          # EIO: the child and everything it started have let go
                    chunk = b""
                with self._changed:
                    if chunk:
                        self.output.extend(chunk)
                    else:
                        self._eof = True
                    self._changed.notify_all()
                if not chunk:
                    self._wait_hangup.wait()
                    return
        finally:
            os.close(fd)
            os.close(self._wake_r)

    def wait_for(self, text: bytes, timeout: float = 60.0, *, after: int = 0) -> int:
        """Wait until ``text`` appears in the output past offset ``after``; its end offset."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                at = self.output.find(text, after)
                if at >= 0:
                    return at + len(text)
                left = deadline - time.monotonic()
                if left <= 0 or self._eof or self.proc.poll() is not None:
                    tail = bytes(self.output[-600:])
                    raise AssertionError(f"{text!r} never appeared (exit {self.proc.poll()}): {tail!r}")
                self._changed.wait(min(left, 0.5))

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def tree(self) -> list[psutil.Process]:
        """The process and all its descendants (health workers, git, …), as they are now."""
        me = self._root = self._root or psutil.Process(self.pid)
        return [me, *me.children(recursive=True)]

    def listening_sockets(self) -> dict[int, int]:
        """The listening TCP sockets the process tree holds: socket inode → port.

        By inode, not by port: once closed, a port number can be taken by anyone (a client's
        TIME_WAIT, another test's server), which says nothing about this process's sockets."""
        inodes: set[int] = set()
        for process in self.tree():
            try:
                fds = os.listdir(f"/proc/{process.pid}/fd")
            except OSError:          # gone meanwhile
                continue
            for fd in fds:
                try:
                    target = os.readlink(f"/proc/{process.pid}/fd/{fd}")
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inodes.add(int(target[8:-1]))
        return {inode: port for inode, (port, state) in tcp_sockets().items() if inode in inodes and state == _LISTEN}

    def exit_code(self, timeout: float = 5.0) -> int | None:
        """The exit status, whoever reaped the process (Popen, or psutil in gone_within)."""
        try:
            return self.proc.wait(timeout) if self._root is None else self._root.wait(timeout)
        except psutil.NoSuchProcess:
            return getattr(self._root, "returncode", None)

    def hangup(self) -> None:
        """Close the master side: the terminal is gone, as when tmux or sshd drops it."""
        if self._wake_w < 0:
            return
        os.write(self._wake_w, b"x")
        self._wait_hangup.set()
        self._reader.join()
        os.close(self._wake_w)
        self._wake_w = -1

    def kill(self) -> None:
        for process in reversed(self.tree() if self.proc.poll() is None else []):
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.hangup()

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                self.kill()
        finally:
            self.hangup()


def gone_within(processes: Sequence[psutil.Process], timeout: float) -> list[psutil.Process]:
    """The processes still alive after ``timeout`` (zombies count as gone). Those that
    ended get ``returncode`` set (psutil reaps the test's own child: ask it, not Popen)."""
    _, alive = psutil.wait_procs(list(processes), timeout=timeout)
    return [p for p in alive if _running(p)]


def _running(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


_LISTEN = "0A"     # TCP_LISTEN, as /proc/net/tcp writes it


def tcp_sockets() -> dict[int, tuple[int, str]]:
    """Every TCP socket with an owner in this network namespace: inode → (local port, state).

    A socket that no process holds any more (closed, or in TIME_WAIT) is not listed."""
    found: dict[int, tuple[int, str]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            inode = int(fields[9])
            if inode:
                found[inode] = (int(fields[1].rsplit(":", 1)[1], 16), fields[3])
    return found


class CpuLoad:
    """One busy-looping child per core for the duration (``with CpuLoad(): …``)."""

    def __init__(self, processes: int | None = None) -> None:
        self.count = processes or os.cpu_count() or 1
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> "CpuLoad":
        self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(self.count)]
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGKILL)
        for proc in self.procs:
            proc.wait()
