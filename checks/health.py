"""Service health checks over HTTP(S) with httpx.

One :class:`HealthChecker` owns the per-service state (consecutive failures,
latency history, when the state last changed, when each service is next due) and
returns a frozen :class:`HealthSnapshot` from every :meth:`HealthChecker.poll`.

Design choices worth knowing:

* httpx fixes TLS verification on the *client*, so there is one shared
  ``AsyncClient`` per distinct ``verify`` value; every request still carries its
  own timeout, headers and ``follow_redirects``.
* Connections are made by :mod:`checks.asyncio_net` (plain asyncio under httpx's
  transport) rather than httpx's anyio backend, whose connects and cancel scopes
  were most of a big round's CPU. With an HTTP proxy in the environment httpx's own
  transports are used, so proxies still apply.
* A request is bounded twice: httpx's per-operation timeout and an overall
  ``asyncio.timeout`` (a server trickling bytes would otherwise never time out).
  Bodies are streamed and at most :data:`BODY_LIMIT` bytes are read, *after*
  decompression: gzip/deflate are inflated here with a cap on the output (httpx
  would inflate a whole network chunk at once, and 50 KB of gzip can be 50 MB).
  Redirects are followed here too, so a redirect's body is never read at all.
* A failure only turns a service DOWN after ``fail_threshold`` consecutive
  failures; before that the previous state stands and the failure is counted,
  which damps flapping at the source.
* Nothing a user configured as secret is ever put into a snapshot: URLs are
  redacted (:func:`redact_url`) and header values are never copied.
"""
from __future__ import annotations

import asyncio
import enum
import math
import ssl
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from checks._lazy import LazyModule
from checks.base import Event, Level, Snapshot
from checks.health_probe import _ACCEPT_ENCODING, BODY_LIMIT, _Probe, _probe, _request_url, redact_url
from checks.specs import ServiceSpec
from tui.incident.http_errors import describe_error
from tui.incident.model import utcnow

if TYPE_CHECKING:
    import httpx

    from checks import asyncio_net
else:
    # The pane imports this module for its snapshot types while the dashboard starts;
    # httpx (with anyio, httpcore, certifi: ~20 ms) is only needed by the first poll.
    httpx = LazyModule("httpx")
    asyncio_net = LazyModule("checks.asyncio_net")

__all__ = [
    "BODY_LIMIT",
    "NO_SERVICES_HINT",
    "HealthChecker",
    "HealthSnapshot",
    "ServiceStatus",
    "State",
    "changes",
    "describe_error",
    "format_duration",
    "redact_url",
    "summarize",
    "unchecked",
]

NO_SERVICES_HINT = "no services configured — add [[services]] to warroom.toml"
NOT_CHECKED = "not checked yet"
# Returned by next_due_in() when nothing is configured: nothing will ever be due,
# but the scheduler still wants a finite delay to arm a timer with.
IDLE_POLL_S = 60.0
# Timers fire a little early; a service due within this slack is checked now
# rather than costing an extra near-empty poll a few milliseconds later.
_DUE_SLACK_S = 0.05
class State(enum.StrEnum):
    UP = "UP"
    DEGRADED = "DEGRADED"
    DOWN = "DOWN"
    UNKNOWN = "UNKNOWN"

    @property
    def level(self) -> Level:
        return _STATE_LEVEL[self]


_STATE_LEVEL = {
    State.UP: Level.OK,
    State.UNKNOWN: Level.UNKNOWN,
    State.DEGRADED: Level.WARN,
    State.DOWN: Level.CRIT,
}


@dataclass(frozen=True)
class ServiceStatus:
    """One service after its latest check."""
    name: str
    url: str                                  # redacted: no userinfo, no secret query values
    state: State
    reason: str                               # in words: "HTTP 503", "timeout after 2.0 s", ...
    status_code: int | None = None
    latency_ms: float | None = None           # None when no response came back
    history: tuple[float | None, ...] = ()    # latency per check, oldest first; None = no response
    consecutive_failures: int = 0
    since: datetime = field(default_factory=utcnow)   # UTC time of the last state change
    checked_at: datetime | None = None        # None until the first check

    @property
    def level(self) -> Level:
        return self.state.level


@dataclass(frozen=True)
class HealthSnapshot(Snapshot):
    """Every service at one poll."""
    services: tuple[ServiceStatus, ...] = ()


def worst_first_key(status: ServiceStatus) -> tuple[int, int, str]:
    """Sort key: DOWN, DEGRADED, UNKNOWN, UP; a failing-but-damped service before a healthy one."""
    return (-int(status.level), -status.consecutive_failures, status.name)


def summarize(services: Sequence[ServiceStatus]) -> tuple[Level, str]:
    """The pane's level (worst service) and one short line naming the worst service."""
    if not services:
        return Level.UNKNOWN, NO_SERVICES_HINT
    level = max(s.level for s in services)
    if all(s.state is State.UP for s in services):
        if len(services) == 1:
            return level, f"{services[0].name} UP"
        return level, f"all {len(services)} UP"
    if all(s.checked_at is None and s.state is State.UNKNOWN for s in services):
        return level, f"checking {len(services)} service{'s' if len(services) != 1 else ''}…"
    ranked = sorted(services, key=worst_first_key)
    worst = ranked[0]
    line = f"{worst.name} {worst.state} · {worst.reason}"
    others = sum(1 for s in ranked[1:] if s.state is not State.UP)
    if others:
        line += f" (+{others} more)"
    return level, line


# --- text helpers -----------------------------------------------------------------

def format_duration(seconds: float) -> str:
    """Compact duration for narrow panes and timeline text: 45s, 4m12s, 2h03m, 3d04h."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600:02d}h"


def _fmt_seconds(t: float) -> str:
    return f"{t:.1f}" if round(t, 1) == t else f"{t:g}"


# --- the checker ----------------------------------------------------------------------

class _Track:
    """Mutable per-service memory between polls (the snapshot is its frozen copy)."""

    def __init__(self, spec: ServiceSpec, history: int, now: datetime) -> None:
        self.spec = spec
        self.url = redact_url(spec.url)
        self.state = State.UNKNOWN
        self.reason = NOT_CHECKED
        self.status_code: int | None = None
        self.latency_ms: float | None = None
        self.history: deque[float | None] = deque(maxlen=max(1, history))
        self.failures = 0
        self.slow = 0
        self.since = now
        self.checked_at: datetime | None = None
        self.next_due = -math.inf
        # The frozen copy, kept until the next check: a service not due this round is
        # the very same object in the next snapshot, which consumers can skip by identity.
        self._status: ServiceStatus | None = None

    @cached_property
    def request_url(self) -> httpx.URL | str:
        # On the first check (in the poll's thread), not when the checker is built at start-up.
        return _request_url(self.spec.url)

    def apply(self, probe: _Probe, at: datetime) -> None:
        self._status = None
        self.status_code = probe.status_code
        self.latency_ms = probe.latency_ms
        self.history.append(probe.latency_ms)
        self.reason = probe.reason
        self.checked_at = at
        if probe.ok:
            self.failures = 0
            self.slow = self.slow + 1 if probe.slow else 0
            threshold = max(1, self.spec.fail_threshold)
            if not probe.slow:
                new_state = State.UP
            elif self.slow >= threshold or self.state in (State.DOWN, State.DEGRADED):
                # Slow, but answering: better than DOWN, and a held DEGRADED stays until a fast answer.
                new_state = State.DEGRADED
            else:
                # One slow answer (a cold connection, a GC pause) is not yet news: damped like failures.
                new_state = State.UP
        else:
            self.failures += 1
            new_state = State.DOWN if self.failures >= max(1, self.spec.fail_threshold) else self.state
        if new_state is not self.state:
            self.state = new_state
            self.since = at

    def restore(self, status: ServiceStatus) -> None:
        """Take up where an earlier checker of the same service left off."""
        self.state, self.reason = status.state, status.reason
        self.status_code, self.latency_ms = status.status_code, status.latency_ms
        self.history.extend(status.history)
        self.failures = status.consecutive_failures
        self.since, self.checked_at = status.since, status.checked_at
        self._status = None

    def status(self) -> ServiceStatus:
        if self._status is None:
            self._status = self._make_status()
        return self._status

    def _make_status(self) -> ServiceStatus:
        return ServiceStatus(
            name=self.spec.name,
            url=self.url,
            state=self.state,
            reason=self.reason,
            status_code=self.status_code,
            latency_ms=self.latency_ms,
            history=tuple(self.history),
            consecutive_failures=self.failures,
            since=self.since,
            checked_at=self.checked_at,
        )


def unchecked(specs: Sequence[ServiceSpec], history: int = 60) -> tuple[ServiceStatus, ...]:
    """Every service as a checker shows it before its first check."""
    now = utcnow()
    return tuple(_Track(spec, history, now).status() for spec in specs)


def _expected_latency(track: _Track) -> float:
    return math.inf if track.latency_ms is None else track.latency_ms


VerifyKey = bool | str
PoolKey = tuple[VerifyKey, int]
# How many services share one httpx client. httpcore re-scans its whole pool
# (O(connections^2)) on every request start and end; with one 1,000-connection pool
# that bookkeeping, not the network, dominated a round (measured: ~16 s instead of
# ~1 s on 2 cores). Up to ONE_CLIENT_UP_TO services per verify setting share a
# single client (the usual case); beyond that, POOL_SHARD services per client.
ONE_CLIENT_UP_TO = 32
POOL_SHARD = 4
# Checks started per turn of the event loop (see HealthChecker._start_checks). Measured on
# 1,000 services through the worker, cold / warm round over the slowest: 8 -> 1.35-1.38 /
# 1.05, 32 -> 1.32-1.34 / 1.05, 128 -> 1.27-1.38 / 1.05, 256 -> 1.29-1.30 / 1.07, all at
# once -> 1.30-1.31 / 1.10: fewer turns cost the cold round less, more delay the warm one.
START_GROUP = 128
# A poll returns at most this long after the first check it saw end, even with others still
# in flight: a result is on screen within it, whatever the neighbours do (issue 17).
REPORT_WITHIN_S = 0.3


def _verify_key(verify: bool | str) -> VerifyKey:
    return verify if isinstance(verify, str) else bool(verify)


class HealthChecker:
    """Polls HTTP health endpoints; ``poll()`` never raises.

    ``clock`` (monotonic seconds) decides which services are due; tests pass a fake one.
    """

    def __init__(
        self,
        specs: Sequence[ServiceSpec],
        *,
        concurrency: int = 100,
        history: int = 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._concurrency = max(1, concurrency)
        self._clock = clock
        now = utcnow()
        self._tracks = [_Track(spec, history, now) for spec in specs]
        self._clients: dict[PoolKey, httpx.AsyncClient] = {}
        self._tls: dict[VerifyKey, ssl.SSLContext | str] = {}   # context, or why there is none
        self._semaphore: asyncio.Semaphore | None = None
        self._env_proxies = False
        # Checks still running, by task -> service index; they outlive the poll that started them.
        self._inflight: dict[asyncio.Task[None], int] = {}
        self._finished: list[asyncio.Task[None]] = []      # ended, not yet collected by a poll
        self._waiter: asyncio.Future[None] | None = None   # the waiting poll's wake-up
        self._wake_on_any = True
        # A service always uses the same client, so its keep-alive connection is reused.
        group_size: dict[VerifyKey, int] = {}
        for spec in specs:
            key = _verify_key(spec.verify)
            group_size[key] = group_size.get(key, 0) + 1
        self._pool_size = {k: n if n <= ONE_CLIENT_UP_TO else POOL_SHARD for k, n in group_size.items()}
        seen: dict[VerifyKey, int] = {}
        self._pool_of: list[PoolKey] = []
        for spec in specs:
            key = _verify_key(spec.verify)
            self._pool_of.append((key, seen.get(key, 0) // self._pool_size[key]))
            seen[key] = seen.get(key, 0) + 1

    # -- scheduling --

    def next_due_in(self) -> float:
        """Seconds until the next service is due (0 when one is due now)."""
        if not self._tracks:
            return IDLE_POLL_S
        if self._inflight:
            # Checks in flight: the next poll waits for them (and starts what falls due).
            return 0.0
        return max(0.0, min(t.next_due for t in self._tracks) - self._clock())

    @property
    def in_flight(self) -> int:
        """Checks started and not yet ended (they outlive the poll that started them)."""
        return len(self._inflight)

    # -- clients --

    def _tls_for(self, key: VerifyKey) -> ssl.SSLContext | str:
        if key not in self._tls:
            try:
                if isinstance(key, str):
                    self._tls[key] = ssl.create_default_context(cafile=key)
                else:
                    self._tls[key] = httpx.create_ssl_context(verify=key)
            except (OSError, ssl.SSLError, ValueError):
                self._tls[key] = "TLS: cannot load CA file"
        return self._tls[key]

    def _client_for(self, pool: PoolKey) -> httpx.AsyncClient | str:
        """The shared client for a pool, or the reason it could not be made."""
        if pool in self._clients:
            return self._clients[pool]
        tls = self._tls_for(pool[0])
        if isinstance(tls, str):
            return tls
        # Each service sharing this pool has at most one request in flight, so
        # requests never queue for a connection (a queued request would eat its own
        # timeout); the semaphore bounds the total. Twice that, so a redirect to
        # another origin never makes the pool evict (and reconnect) another
        # service's idle keep-alive connection.
        size = 2 * self._pool_size[pool[0]]
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        headers = {"Accept-Encoding": _ACCEPT_ENCODING}
        if self._env_proxies:
            # httpx's own transports, which route through the proxies it finds.
            client = httpx.AsyncClient(verify=tls, limits=limits, headers=headers)
        else:
            transport = asyncio_net.AsyncioTransport(ssl_context=tls, limits=limits)
            client = httpx.AsyncClient(transport=transport, headers=headers)
        self._clients[pool] = client
        return client

    # -- polling --

    async def _check(self, index: int) -> None:
        track = self._tracks[index]
        client = self._client_for(self._pool_of[index])
        assert self._semaphore is not None
        if isinstance(client, str):
            probe = _Probe(ok=False, reason=client)
        else:
            async with self._semaphore:
                probe = await _probe(client, track.spec, track.request_url)
        track.apply(probe, utcnow())

    async def _start_checks(self, due: list[int]) -> None:
        """Start the checks in ``due`` order, a group of START_GROUP started per turn of the loop.

        Started all at once, every check passes its first await (a lock, a connect) before
        any request is written, so the first request in the order went out only after
        every check's set-up (measured: ~0.1 s into a warm 1,000-check round). Started in
        groups, the first requests are on the wire within milliseconds and the slowest-first
        order decides when each is sent."""
        for n, i in enumerate(due):
            if n and n % START_GROUP == 0:
                await asyncio.sleep(0)
            task = asyncio.create_task(self._check(i))
            self._inflight[task] = i
            task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._finished.append(task)
        waiter = self._waiter
        # The poll waits for the first result, then (REPORT_WITHIN_S at most) for the last.
        if waiter is not None and not waiter.done() and (
                self._wake_on_any or len(self._finished) >= len(self._inflight)):
            waiter.set_result(None)

    def _collect(self, done: list[asyncio.Task[None]]) -> None:
        """Checks that ended: a check that raised is a failed check, not a failed poll."""
        for task in done:
            index = self._inflight.pop(task, None)
            if index is None:
                continue
            if task.cancelled():
                continue
            exc = task.exception()
            if exc is not None:
                self._tracks[index].apply(
                    _Probe(ok=False, reason=f"check failed ({type(exc).__name__})"), utcnow())

    def restore(self, services: Sequence[ServiceStatus]) -> None:
        """Carry state over from another checker's snapshot of the same specs (a restarted
        worker process): damping counts, history and "since" go on, and no service reads
        as newly UNKNOWN. Services are matched by position and name."""
        for track, status in zip(self._tracks, services):
            if status.name == track.spec.name and status.checked_at is not None:
                track.restore(status)

    def snapshot(self, error: str | None = None) -> HealthSnapshot:
        """The current state of every service, without checking anything."""
        services = tuple(t.status() for t in self._tracks)
        level, summary = summarize(services)
        if error:
            level = max(level, Level.WARN)
        return HealthSnapshot(level=level, summary=summary, error=error, services=services)

    def prepare(self) -> None:
        """Build every client (importing httpx, loading CA bundles) before the first request:
        that costs tens of milliseconds which would otherwise land on the first round's
        latencies. Not in __init__: the checker is built on the UI thread before the first
        frame. The first poll calls it; the worker process calls it before it is ready."""
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self._concurrency)
            self._env_proxies = asyncio_net.environment_proxies()
            for pool in dict.fromkeys(self._pool_of):
                self._client_for(pool)

    async def poll(self) -> HealthSnapshot:
        """Start every due service's check and return once results are worth showing.

        Each service keeps its own pace: a check runs as a task of its own and a poll
        never waits for the slowest one. A poll returns when every check in flight has
        ended, or REPORT_WITHIN_S after the first one ended (whatever is still in flight,
        a neighbour answering in 3 s or a timeout, stays in flight and is reported by a
        later poll); services falling due while it waits are started on time.
        Services not checked keep their last result."""
        try:
            self.prepare()
            loop = asyncio.get_running_loop()
            report_at: float | None = None
            started: set[int] = set()     # at most one check per service per poll (interval 0)
            while True:
                now = self._clock()
                skip = self._busy | started
                due = [i for i, t in enumerate(self._tracks)
                       if t.next_due - now <= _DUE_SLACK_S and i not in skip]
                if due:
                    # Slowest first (by last latency; never-answered and timed-out ones, the
                    # likeliest to take their full timeout, before all): with hundreds due,
                    # just sending the requests takes a noticeable slice of CPU, and a slow
                    # service started last would stretch the round by that slice.
                    due.sort(key=lambda i: -_expected_latency(self._tracks[i]))
                    for i in due:
                        self._tracks[i].next_due = now + max(0.0, self._tracks[i].spec.interval)
                    started.update(due)
                    await self._start_checks(due)
                if not self._inflight:
                    return self.snapshot()
                wait = self._idle_due_in(now, started)
                if report_at is not None:
                    wait = min(wait, max(0.0, report_at - loop.time()))
                if not self._finished:
                    # One future woken by the tasks' done callbacks: asyncio.wait() over a
                    # thousand tasks, again after each completion, cost more CPU than the checks.
                    self._wake_on_any = report_at is None
                    self._waiter = loop.create_future()
                    try:
                        async with asyncio.timeout(wait):
                            await self._waiter
                    except TimeoutError:
                        pass
                    finally:
                        self._waiter = None
                if self._finished:
                    done, self._finished = self._finished, []
                    self._collect(done)
                    if report_at is None:
                        report_at = loop.time() + REPORT_WITHIN_S
                if not self._inflight or (report_at is not None and loop.time() >= report_at):
                    return self.snapshot()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a poll never raises
            return self.snapshot(error=f"health checks failed: {type(exc).__name__}")

    @property
    def _busy(self) -> set[int]:
        return set(self._inflight.values())

    def _idle_due_in(self, now: float, started: set[int]) -> float:
        """Seconds until a service not in flight, nor checked by this poll, falls due
        (IDLE_POLL_S if none will)."""
        busy = self._busy | started
        dues = [t.next_due for i, t in enumerate(self._tracks) if i not in busy]
        return max(0.0, min(dues) - now) if dues else IDLE_POLL_S

    async def aclose(self) -> None:
        tasks, self._inflight, self._finished = list(self._inflight), {}, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            try:
                await client.aclose()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass

    close = aclose


# --- timeline events --------------------------------------------------------------------

def changes(prev: HealthSnapshot | None, cur: HealthSnapshot) -> list[Event]:
    """One event per service whose state changed between two snapshots.

    A service first seen UNKNOWN, or first confirmed UP, is not news; everything
    else is: "payments DOWN: HTTP 503 (was UP)", "payments UP again after 3m12s DOWN".
    """
    before = {s.name: s for s in prev.services} if prev is not None else {}
    events: list[Event] = []
    for s in cur.services:
        old = before.get(s.name)
        old_state = old.state if old is not None else State.UNKNOWN
        if s.state is old_state:
            continue
        if s.state in (State.UNKNOWN, State.UP) and old_state is State.UNKNOWN:
            continue
        key = f"health:{s.name}"
        if s.state is State.UP and old is not None:
            took = format_duration((s.since - old.since).total_seconds())
            text = f"{s.name} UP again after {took} {old_state}"
        elif old_state is State.UNKNOWN:
            text = f"{s.name} {s.state}: {s.reason}"
        else:
            text = f"{s.name} {s.state}: {s.reason} (was {old_state})"
        events.append(Event(key=key, state=str(s.state), text=text, level=s.level))
    return events
