"""Health rounds in a child process, for configurations with hundreds of services.

A round over a thousand services is a thousand httpx requests: ~0.4-0.6 s of CPU and
enough short-lived objects to set off 50-120 ms garbage collections. On a thread of
the dashboard's own interpreter that CPU competes with the UI for the GIL, and every
collection freezes the UI whichever thread set it off. A child process gives the
round a core of its own and keeps its garbage out of the UI's heap.

The parent side, :class:`HealthProcess`, looks like a synchronous source (the
scheduler runs its ``poll`` in a thread worker); :class:`HealthProcesses` splits a
bigger configuration over several children, one core each. The protocol is length-prefixed
pickles over the child's stdin and stdout:

* parent -> child: a ``hello`` (specs, concurrency, history, services to carry on
  from), then one ``poll`` request per round. Specs (with their headers, which may
  hold tokens) travel over the pipe, never on the command line.
* child -> parent: per round, the snapshot's header and only the services whose
  status changed since the last reply, plus when the next service is due.

The child exits on stdin EOF (the parent exited, however abruptly: the kernel closes
the pipe), even in the middle of a round. If the child dies, ``poll`` returns the
last services with an error (the pane turns red, the scheduler backs off) and the
next poll starts a fresh child that carries on from those services.

No textual import here: this module runs as ``python -m checks.health_worker``.
"""
from __future__ import annotations

import asyncio
import gc
import os
import pickle
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from checks.base import Level
from checks.health import _DUE_SLACK_S, HealthChecker, HealthSnapshot, ServiceStatus, summarize, unchecked
from checks.specs import ServiceSpec

__all__ = ["PROCESS_ABOVE", "HealthProcess", "HealthProcesses", "worker_count"]

# Above this many services rounds run in a child process. Below it a round costs a few
# tens of milliseconds of CPU, which a thread absorbs, and a child (~35 MB resident,
# ~0.3 s to start) would cost more than it saves.
PROCESS_ABOVE = 200
# Above PROCESS_ABOVE, one child per this many services (up to one per CPU, MAX_WORKERS).
SERVICES_PER_WORKER = 400
MAX_WORKERS = 4
_HEADER = 4
# The child's collector is off while checks are in flight (see _serve), but runs at least this often.
COLLECT_AT_LEAST_S = 5.0
_ROOT = str(Path(__file__).resolve().parents[1])   # the folder holding the checks package


class _WorkerFailed(Exception):
    """The child started but could not build its checker (reported by the child)."""


def _write(stream: IO[bytes] | None, message: Any) -> None:
    if stream is None:      # a Popen pipe is never None here; the type says it could be
        raise EOFError("no pipe")
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(data).to_bytes(_HEADER, "big") + data)
    stream.flush()


def _read(stream: IO[bytes] | None) -> Any:
    if stream is None:
        raise EOFError("no pipe")
    header = stream.read(_HEADER)
    if len(header) < _HEADER:
        raise EOFError("pipe closed")
    size = int.from_bytes(header, "big")
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("pipe closed")
    return pickle.loads(data)


# --- the parent's side ---------------------------------------------------------------

class HealthProcess:
    """A health checker running in a child process; ``poll()`` blocks and never raises.

    Call ``poll`` from one thread at a time (the scheduler never overlaps polls);
    ``close`` may come from any thread, also while a poll waits.
    """

    def __init__(self, specs: Sequence[ServiceSpec], *, concurrency: int = 100, history: int = 60) -> None:
        self._specs = tuple(specs)
        self._concurrency = concurrency
        self._history = history
        self._services: tuple[ServiceStatus, ...] = unchecked(self._specs, history)
        self._last: HealthSnapshot | None = None
        self._checked = False                  # a child has delivered at least one round
        self._due_at = 0.0                     # time.monotonic() when the next service is due
        self._proc: subprocess.Popen[bytes] | None = None
        self._closed = False
        self._lock = threading.Lock()          # guards _proc against close() from another thread
        self.starts = 0                        # children started (1 + restarts)
        # A round asked for and not read yet (HealthProcesses reads each child's reply as it
        # comes, so one child's slow round never holds back another's results).
        self._pending: subprocess.Popen[bytes] | None = None
        self._error: str | None = None         # the last round's error, shown until the next

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None else None

    def next_due_in(self) -> float:
        if self._pending is not None:
            return 0.0
        return max(0.0, self._due_at - time.monotonic())

    def start(self) -> None:
        """Start the child and wait until it is ready to poll (the first ``poll`` does this
        itself); raises if it cannot start."""
        proc = self._launch()
        if proc is not None:
            self._handshake(proc)

    def _launch(self) -> subprocess.Popen[bytes] | None:
        """A new child, not yet told what to check; None if one runs already (or closed)."""
        with self._lock:
            if self._closed or self._proc is not None:
                return None
            self._proc = self._spawn()
            return self._proc

    def _handshake(self, proc: subprocess.Popen[bytes]) -> None:
        try:
            _write(proc.stdin, {"specs": self._specs, "concurrency": self._concurrency,
                                "history": self._history,
                                # Carry on from the last services after a restart: damping,
                                # history and "since" go on, nothing reads as newly UNKNOWN.
                                "carry": self._services if self._checked else ()})
            reply = _read(proc.stdout)
        except Exception:
            self._stop(proc)
            raise
        if reply[0] != "ready":
            self._stop(proc)
            raise _WorkerFailed(str(reply[1]))

    def _spawn(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, env.get("PYTHONPATH", "")) if p)
        proc = subprocess.Popen(
            [sys.executable, "-m", "checks.health_worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            # Not the terminal: a stray warning would be drawn over the dashboard.
            stderr=subprocess.DEVNULL,
            env=env, cwd=_ROOT,
            # Not in the dashboard's process group: a Ctrl-C meant for the UI is handled
            # there (it closes the pipe), not delivered to the child mid-round.
            start_new_session=True,
        )
        self.starts += 1
        return proc

    def poll(self) -> HealthSnapshot:
        asked = self._ask()
        return asked if isinstance(asked, HealthSnapshot) else self._answer(asked)

    def _ask(self, proc: subprocess.Popen[bytes] | None = None) -> subprocess.Popen[bytes] | HealthSnapshot:
        """Start a round in the child (starting the child first, unless ``proc`` was just
        launched for it): the child to read the round from, or the snapshot that says why not."""
        if self._closed:
            return self._snapshot(error="health checks stopped")
        try:
            if proc is None:
                self.start()
            else:
                self._handshake(proc)
        except _WorkerFailed as exc:
            return self._snapshot(error=f"health worker failed: {exc}")
        except Exception as exc:  # noqa: BLE001 - failure is data
            if self._closed:
                return self._snapshot(error="health checks stopped")
            return self._snapshot(error=f"health worker failed to start: {type(exc).__name__}")
        proc = self._proc
        if proc is None:      # closed meanwhile
            return self._snapshot(error="health checks stopped")
        try:
            _write(proc.stdin, "poll")
        except Exception:  # noqa: BLE001 - the child died or was stopped: failure is data
            return self._died(proc)
        return proc

    def _answer(self, proc: subprocess.Popen[bytes]) -> HealthSnapshot:
        """The round started by ``_ask``, as a snapshot of every service."""
        try:
            _, taken_at, error, changed, due_in = _read(proc.stdout)
        except Exception:  # noqa: BLE001 - the child died or was stopped: failure is data
            return self._died(proc)
        if changed:
            services = list(self._services)
            for index, status in changed:
                services[index] = status
            self._services = tuple(services)
        self._checked = True
        self._due_at = time.monotonic() + due_in
        return self._snapshot(error=error, taken_at=taken_at)

    def _snapshot(self, *, error: str | None = None, taken_at: Any = None) -> HealthSnapshot:
        self._error = error
        level, summary = summarize(self._services)
        if error:
            level = max(level, Level.WARN)
        extra = {"taken_at": taken_at} if taken_at is not None else {}
        return HealthSnapshot(level=level, summary=summary, error=error, services=self._services, **extra)

    def _died(self, proc: subprocess.Popen[bytes]) -> HealthSnapshot:
        with self._lock:
            closed = self._closed
        self._stop(proc)
        if closed:
            return self._snapshot(error="health checks stopped")
        code = proc.returncode
        if code is not None and code < 0:
            try:
                why = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                why = f"killed by signal {-code}"
        else:
            why = f"exited (code {code})"
        return self._snapshot(error=f"health worker {why}; restarting")

    def _stop(self, proc: subprocess.Popen[bytes], timeout: float = 2.0) -> None:
        """End ``proc`` (EOF first, then a kill) and reap it; the next poll starts another."""
        with self._lock:
            if self._proc is proc:
                self._proc = None
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except Exception:  # noqa: BLE001 - another thread may be using it; it fails as data there
                pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            proc = self._proc
        if proc is not None:
            # The child exits on stdin EOF; a poll waiting on it returns with the error.
            try:
                if proc.stdin is not None:
                    proc.stdin.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
            try:
                proc.wait(2.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class HealthProcesses:
    """The services split over several :class:`HealthProcess` children, each with a
    contiguous slice; ``poll()`` runs their rounds side by side and merges them.

    A cold round (every connection new) is bound by the checker's CPU: ~0.6 ms a check
    in httpx, so a thousand checks keep one core busy ~0.6 s, and the last requests go
    out late (measured: round / slowest 1.27-1.33 with one child, 1.18-1.22 with two, on
    two cores). Same interface as HealthProcess.
    """

    def __init__(self, specs: Sequence[ServiceSpec], *, shards: int, concurrency: int = 100,
                 history: int = 60) -> None:
        specs = tuple(specs)
        n = len(specs)
        shards = max(1, min(shards, n))
        self._shards = [HealthProcess(specs[i * n // shards:(i + 1) * n // shards],
                                      concurrency=max(1, concurrency // shards), history=history)
                        for i in range(shards)]

    @property
    def pids(self) -> list[int | None]:
        return [shard.pid for shard in self._shards]

    @property
    def starts(self) -> int:
        return sum(shard.starts for shard in self._shards)

    def next_due_in(self) -> float:
        return min(shard.next_due_in() for shard in self._shards)

    def start(self) -> None:
        # Launched together, then each waited for: the children import and get ready side by side.
        # Every launched child is told its services (or stopped) before a failure is raised.
        launched = [shard._launch() for shard in self._shards]
        failure: Exception | None = None
        for shard, proc in zip(self._shards, launched):
            if proc is not None:
                try:
                    shard._handshake(proc)
                except Exception as exc:  # noqa: BLE001 - raised below, once every child is settled
                    failure = failure or exc
        if failure is not None:
            raise failure

    def poll(self) -> HealthSnapshot:
        """Ask every child that has a service due and is not already working on a round, then
        return as soon as one of them answers: a child waiting on a slow service never delays
        the others' results (its reply is read by a later poll)."""
        answered: list[HealthSnapshot] = []
        # A child with nothing due is not asked: it would answer at once with nothing new and be
        # asked again, a busy loop of round trips (and full collections in the child) taking CPU
        # from the children still checking, and a reply left pending made next_due_in() say 0, so
        # the scheduler's next round started seconds before its services were due (issue 17:
        # warm round 4.1x the slowest instead of ~1.05x). Asked when nothing at all is due, every
        # child runs a round, as a single HealthProcess does.
        if not any(shard._pending is not None or shard.next_due_in() <= _DUE_SLACK_S
                   for shard in self._shards):
            for shard in self._shards:
                shard._due_at = 0.0
        while True:
            for shard in self._shards:
                if shard._pending is None and shard.next_due_in() <= _DUE_SLACK_S:
                    asked = shard._ask(shard._launch())
                    if isinstance(asked, HealthSnapshot):
                        answered.append(asked)
                    else:
                        shard._pending = asked
            waiting = [shard for shard in self._shards if shard._pending is not None]
            if not waiting:
                break
            # Without a ready answer, block until some child replies (or dies: EOF is readable),
            # or until a child not asked yet has a service due.
            idle = [shard.next_due_in() for shard in self._shards if shard._pending is None]
            timeout = 0.0 if answered else (min(idle) if idle else None)
            pipes = [s._pending.stdout for s in waiting if s._pending is not None and s._pending.stdout is not None]
            readable = select.select(pipes, [], [], timeout)[0]
            for shard in waiting:
                proc = shard._pending
                if proc is not None and proc.stdout in readable:
                    shard._pending = None
                    answered.append(shard._answer(proc))
            if answered:
                break
        services = tuple(s for shard in self._shards for s in shard._services)
        errors = list(dict.fromkeys(shard._error for shard in self._shards if shard._error))
        level, summary = summarize(services)
        if errors:
            level = max(level, Level.WARN)
        extra = {"taken_at": max(part.taken_at for part in answered)} if answered else {}
        return HealthSnapshot(level=level, summary=summary, error="; ".join(errors) or None,
                              services=services, **extra)

    def close(self) -> None:
        for shard in self._shards:
            shard.close()


def worker_count(services: int, cpus: int | None = None) -> int:
    """Children for ``services`` services: one per SERVICES_PER_WORKER, at most one per CPU
    and MAX_WORKERS (each is ~35 MB resident)."""
    cpus = cpus if cpus is not None else (os.cpu_count() or 1)
    return max(1, min(cpus, MAX_WORKERS, -(-services // SERVICES_PER_WORKER)))


# --- the child's side ----------------------------------------------------------------

def _watch_stdin(stdin: IO[bytes], loop: asyncio.AbstractEventLoop, requests: asyncio.Queue[Any]) -> None:
    """Reads requests; exits the process on EOF, even mid-round (nobody is waiting any more)."""
    try:
        while True:
            message = _read(stdin)
            loop.call_soon_threadsafe(requests.put_nowait, message)
    except BaseException:  # noqa: BLE001 - EOF or a broken pipe: the parent has gone
        os._exit(0)


async def _serve(checker: HealthChecker, stdin: IO[bytes], stdout: IO[bytes], count: int) -> None:
    """Answers each ``poll`` request with one round. The loop keeps running between
    requests: checks still in flight when a poll returned (a slow neighbour) go on,
    with their timeouts, while the parent draws the reply and asks again."""
    loop = asyncio.get_running_loop()
    requests: asyncio.Queue[Any] = asyncio.Queue()
    threading.Thread(target=_watch_stdin, args=(stdin, loop, requests), daemon=True).start()
    sent: list[ServiceStatus | None] = [None] * count
    collected = time.monotonic()
    while True:
        if await requests.get() != "poll":
            continue
        # No collections while checks are in flight: with a thousand requests in flight the
        # collector ran every few milliseconds (0.1-0.15 s a round), on the round's critical
        # path. A poll now returns with checks still in flight (a round is several polls), so
        # the collector stays off between polls too, and runs once nothing is in flight (or
        # every COLLECT_AT_LEAST_S, should something always be in flight), while the parent
        # draws the reply.
        gc.disable()
        snapshot = await checker.poll()
        changed = [(i, s) for i, s in enumerate(snapshot.services) if s is not sent[i]]
        for i, s in changed:
            sent[i] = s
        _write(stdout, ("snapshot", snapshot.taken_at, snapshot.error, changed, checker.next_due_in()))
        if not checker.in_flight or time.monotonic() - collected >= COLLECT_AT_LEAST_S:
            gc.enable()
            gc.collect()
            collected = time.monotonic()


def main() -> int:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr   # a stray print() must not corrupt the replies
    try:
        hello = _read(stdin)
    except Exception:  # noqa: BLE001
        return 0
    try:
        checker = HealthChecker(hello["specs"], concurrency=hello["concurrency"], history=hello["history"])
        checker.restore(hello["carry"])
        checker.prepare()       # before "ready": the dashboard starts the worker, its first round is not slowed
    except Exception as exc:  # noqa: BLE001 - reported to the parent, as data
        _write(stdout, ("error", type(exc).__name__))
        return 1
    _write(stdout, ("ready",))
    # What is alive now (modules, clients) lives as long as the process: out of the
    # collector's sight, so a full collection only walks what rounds leave behind.
    gc.freeze()
    asyncio.run(_serve(checker, stdin, stdout, len(hello["specs"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
