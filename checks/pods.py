"""Pod restarts from a Kubernetes cluster: list once, then watch.

One daemon thread per namespace scope lists the pods, then watches from the
list's resourceVersion and keeps a cache; ``poll()`` only reads that cache, so
it is cheap and never touches the network. A dropped watch resumes from the last
seen resourceVersion (backoff 0.5 s -> 30 s); only a 410 Gone causes a relist.

The ``kubernetes`` package is imported lazily (inside the worker thread): it
costs about half a second, which the dashboard's start-up must not pay.
Pods are read as raw JSON (``_preload_content=False``) rather than the client's
model objects: deserialising 5,000 pods into models takes seconds.

Restart counting follows k9s: restarts = sum over containers and init
containers; the last restart is ``lastState.terminated.finishedAt``.
"""
from __future__ import annotations

import bisect
import json
import threading
import time
from dataclasses import replace
from datetime import datetime
from typing import Any, Callable

from checks.base import Level
from checks.pods_kube import (
    _BACKOFF_MAX,
    _BACKOFF_MIN,
    _abort,
    _Backoff,
    _close_client,
    _connect,
    _Connection,
    _describe_api_error,
    _describe_transport_error,
    _Dropped,
    _Gone,
    _lines,
    _Scope,
    _short,
    _SourceError,
    _StatusBody,
)
from checks.pods_model import (
    ALL_NAMESPACES,
    NO_KUBECONFIG,
    OOM_RECENT,
    PodsSnapshot,
    PodStatus,
    _baseline,
    _classify,
    _Containers,
    _Facts,
    _pod_facts,
    _sort_key,
    _summary,
    changes,
)
from checks.specs import KubeSpec
from tui.incident.model import utcnow

__all__ = [
    "ALL_NAMESPACES",
    "NO_KUBECONFIG",
    "PodStatus",
    "PodsSnapshot",
    "PodsSource",
    "changes",
]


# --------------------------------------------------------------------------- the source
class PodsSource:
    """Pods of one cluster context, kept current by list+watch in background threads.

    ``start()`` launches the threads, ``poll()`` builds a snapshot from the cache
    (cheap, never raises), ``close()`` stops the threads promptly.
    """

    def __init__(
        self,
        spec: KubeSpec,
        *,
        incident_started: datetime | None = None,
        watch_timeout: int = 60,
        backoff: tuple[float, float] = (_BACKOFF_MIN, _BACKOFF_MAX),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.spec = spec
        self._clock = clock
        self._created = clock()
        self._incident_started = incident_started
        self._resolved_at: datetime | None = None
        self._watch_timeout = max(1, int(watch_timeout))
        self._backoff = backoff
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pods: dict[tuple[str, str], PodStatus] = {}
        # uid -> (created_at, per-container (restarts, finishedAt)) as first seen, and its baseline.
        self._first_sight: dict[str, tuple[datetime | None, _Containers]] = {}
        self._baselines: dict[str, int] = {}
        self._oom_keys: set[tuple[str, str]] = set()   # pods whose level depends on the clock
        # Kept up to date on every store so that poll() is O(changes), not O(pods):
        self._dirty: set[tuple[str, str]] = set()      # changed since the last poll
        self._resort = True                             # too much changed: sort from scratch
        self._n_not_ready = 0
        self._n_crashloop = 0
        self._level_counts = [0, 0, 0, 0]               # by Level
        self._bad: set[tuple[str, str]] = set()         # level >= WARN
        self._poll_lock = threading.Lock()              # polls share the sorted list below
        self._sorted_list: list[PodStatus] = []
        self._sorted: tuple[PodStatus, ...] = ()
        self._context: str | None = spec.context
        self._pinned_context: str | None = spec.context
        self._threads: list[threading.Thread] = []
        self._connections: list[_Connection] = []
        if spec.namespaces == () or not spec.namespaces:
            self._scopes = [_Scope(None, from_context=True)]
        elif ALL_NAMESPACES in spec.namespaces:
            self._scopes = [_Scope(None)]
        else:
            self._scopes = [_Scope(ns) for ns in dict.fromkeys(spec.namespaces)]

    # -- public ---------------------------------------------------------------
    @property
    def incident_start(self) -> datetime:
        """What 'since the incident' means: its start, or when we began watching."""
        return self._incident_started or self._created

    def set_incident_resolved(self, when: datetime | None) -> None:
        """The incident was resolved at ``when`` (None: it is open again): what happened to
        pods before then (an OOM kill) no longer turns them red."""
        with self._lock:
            if when == self._resolved_at:
                return
            self._resolved_at = when
            now = self._clock()
            for p in list(self._pods.values()):
                level = _classify(p, now, self.incident_start, when)
                if level != p.level:
                    self._store_locked(replace(p, level=level))
            self._resort = True

    def set_incident_started(self, when: datetime | None) -> None:
        """The incident was declared (or changed) after the source started."""
        with self._lock:
            self._incident_started = when
            self._baselines.clear()
            now = self._clock()
            for p in list(self._pods.values()):
                since = max(0, p.restarts - self._baseline_for_locked(p.uid, None, ()))
                p = replace(p, restarts_since_incident=since)
                self._store_locked(replace(p, level=_classify(p, now, self.incident_start, self._resolved_at)))
            self._resort = True

    def start(self) -> None:
        if self._threads or not self.spec.enabled:
            return
        self._stop.clear()
        for scope in self._scopes:
            name = "pods-watch-" + (scope.namespace or ("context" if scope.from_context else "all"))
            t = threading.Thread(target=self._run, args=(scope,), name=name, daemon=True)
            self._threads.append(t)
            t.start()

    def close(self) -> None:
        """Stop the threads: wake any backoff wait and cut open watch streams."""
        self._stop.set()
        for scope in self._scopes:
            _abort(scope.resp)
        deadline = time.monotonic() + 1.0
        for t in self._threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
        for conn in list(self._connections):
            _close_client(conn.api_client)
        self._connections.clear()

    def poll(self) -> PodsSnapshot:
        try:
            return self._snapshot()
        except Exception as e:  # a bug here must not take the dashboard down
            return PodsSnapshot(level=Level.UNKNOWN, error=f"internal error: {_short(str(e))}",
                                summary=f"internal error: {_short(str(e))}")

    # -- snapshot -------------------------------------------------------------
    def _snapshot(self) -> PodsSnapshot:
        if not self.spec.enabled:
            return PodsSnapshot(level=Level.UNKNOWN, summary="kubernetes disabled",
                                connection="disabled", configured=False)
        with self._poll_lock:
            return self._snapshot_locked()

    def _snapshot_locked(self) -> PodsSnapshot:
        now = self._clock()
        with self._lock:
            # OOM kills stop being "recent" with time alone; re-judge just those pods.
            for key in list(self._oom_keys):
                p = self._pods[key]
                level = _classify(p, now, self.incident_start, self._resolved_at)
                if level != p.level:
                    self._store_locked(replace(p, level=level))
                if p.last_termination_at is None or now - p.last_termination_at > OOM_RECENT:
                    self._oom_keys.discard(key)
            full = self._resort or len(self._dirty) > max(64, len(self._pods) // 8)
            values = list(self._pods.values()) if full else None
            changed = {} if full else {k: self._pods.get(k) for k in self._dirty}
            self._dirty = set()
            self._resort = False
            not_ready, crashlooping = self._n_not_ready, self._n_crashloop
            worst = max((lv for lv in Level if self._level_counts[lv]), default=Level.OK)
            bad = [self._pods[k] for k in self._bad]
            scopes = [(s.namespace, s.from_context, s.synced, s.state, s.error) for s in self._scopes]
            context = self._context
        # Sorting happens outside the lock so the watch threads are never held up.
        if values is not None:
            self._sorted_list = sorted(values, key=_sort_key)
            self._sorted = tuple(self._sorted_list)
        elif changed:
            kept = [p for p in self._sorted_list if (p.namespace, p.name) not in changed]
            for pod in changed.values():
                if pod is not None:
                    bisect.insort(kept, pod, key=_sort_key)
            self._sorted_list = kept
            self._sorted = tuple(kept)
        pods = self._sorted
        synced = all(s[2] for s in scopes)
        errors = [s[4] for s in scopes if s[4] is not None]
        unconfigured = bool(errors) and all(not e.configured for e in errors)
        error = "; ".join(dict.fromkeys(e.words for e in errors)) or None
        if self._stop.is_set():
            connection = "closed"
        elif unconfigured:
            connection = "unconfigured"
        elif errors:
            connection = "error"
        elif not synced:
            connection = "connecting"
        elif any(s[3] == "reconnecting" for s in scopes):
            connection = "reconnecting"
        else:
            connection = "watching"
        namespaces = tuple(
            ALL_NAMESPACES if ns is None and not from_ctx else (ns or "")
            for ns, from_ctx, *_ in scopes
        )
        namespaces = tuple(n for n in namespaces if n)
        total = len(pods)
        if unconfigured:
            level = Level.UNKNOWN
        elif errors:
            level = max(worst, Level.WARN)
        elif not synced:
            level = Level.UNKNOWN
        else:
            level = worst
        return PodsSnapshot(
            taken_at=now,
            level=level,
            summary=_summary(total, bad, error, synced, context, namespaces),
            error=error,
            pods=pods,
            total=total,
            not_ready=not_ready,
            crashlooping=crashlooping,
            context=context,
            namespaces=namespaces,
            connection=connection,
            stale=bool(errors) and bool(pods),
            synced=synced,
            configured=not unconfigured,
            incident_started=self._incident_started,
        )

    # -- cache ----------------------------------------------------------------
    def _baseline_for_locked(self, uid: str, created: datetime | None, containers: _Containers) -> int:
        if uid not in self._first_sight:
            self._first_sight[uid] = (created, containers)
        base = self._baselines.get(uid)
        if base is None:
            first_created, first_containers = self._first_sight[uid]
            base = _baseline(first_created, first_containers, self.incident_start)
            self._baselines[uid] = base
        return base

    def _finish(self, facts: _Facts, now: datetime) -> PodStatus:
        """Caller holds the lock."""
        partial, uid, created, containers = facts
        since = max(0, partial.restarts - self._baseline_for_locked(uid, created, containers))
        p = replace(partial, restarts_since_incident=since) if since else partial
        level = _classify(p, now, self.incident_start, self._resolved_at)
        return replace(p, level=level) if level != p.level else p

    def _account_locked(self, p: PodStatus, sign: int) -> None:
        key = (p.namespace, p.name)
        if not p.is_ready:
            self._n_not_ready += sign
        if p.waiting_reason == "CrashLoopBackOff":
            self._n_crashloop += sign
        self._level_counts[p.level] += sign
        if p.level >= Level.WARN:
            if sign > 0:
                self._bad.add(key)
            else:
                self._bad.discard(key)

    def _store_locked(self, p: PodStatus) -> None:
        key = (p.namespace, p.name)
        old = self._pods.get(key)
        if old is not None:
            self._account_locked(old, -1)
        self._account_locked(p, +1)
        self._pods[key] = p
        self._dirty.add(key)
        if p.last_termination_reason == "OOMKilled":
            self._oom_keys.add(key)
        else:
            self._oom_keys.discard(key)

    def _forget_locked(self, key: tuple[str, str]) -> None:
        p = self._pods.pop(key, None)
        self._oom_keys.discard(key)
        if p is not None:
            self._account_locked(p, -1)
            self._dirty.add(key)
            self._first_sight.pop(p.uid, None)
            self._baselines.pop(p.uid, None)

    def _replace_scope(self, scope: _Scope, objs: list[dict[str, Any]]) -> None:
        facts = [_pod_facts(o) for o in objs]          # the heavy part, outside the lock
        now = self._clock()
        with self._lock:
            seen: set[tuple[str, str]] = set()
            for f in facts:
                p = self._finish(f, now)
                self._store_locked(p)
                seen.add((p.namespace, p.name))
            for key in [k for k in self._pods if scope.covers(k[0]) and k not in seen]:
                self._forget_locked(key)
            self._resort = True

    def _apply(self, kind: str, obj: dict[str, Any]) -> None:
        facts = _pod_facts(obj)
        now = self._clock()
        with self._lock:
            if kind == "DELETED":
                self._forget_locked((facts[0].namespace, facts[0].name))
            else:
                old = self._pods.get((facts[0].namespace, facts[0].name))
                if old is not None and old.uid != facts[1]:
                    # Same name, new pod (StatefulSet): the old one's baseline no longer applies.
                    self._first_sight.pop(old.uid, None)
                    self._baselines.pop(old.uid, None)
                self._store_locked(self._finish(facts, now))

    # -- worker ---------------------------------------------------------------
    def _run(self, scope: _Scope) -> None:
        backoff = _Backoff(*self._backoff)
        conn: _Connection | None = None
        gone_in_a_row = 0
        while not self._stop.is_set():
            try:
                if conn is None:
                    conn = _connect(self.spec, self._pinned_context)
                    with self._lock:
                        self._connections.append(conn)
                        self._context = conn.context
                        # Reconnects stay on this cluster even if someone runs
                        # `kubectl config use-context` meanwhile.
                        self._pinned_context = conn.context
                        if scope.from_context and scope.namespace != conn.namespace:
                            # The context's namespace was edited: start that scope over.
                            for key in [k for k in self._pods if scope.namespace is not None
                                        and k[0] == scope.namespace]:
                                self._forget_locked(key)
                            scope.namespace = conn.namespace
                            scope.rv = None
                if scope.rv is None:
                    scope.state = "listing" if not scope.synced else "relisting"
                    self._list(conn, scope)
                    scope.error = None
                    backoff.reset()
                scope.state = "watching"
                if self._watch(conn, scope):
                    backoff.reset()
                    gone_in_a_row = 0
                # The server ended the watch (timeoutSeconds): resume at once.
                continue
            except _Gone:
                scope.rv = None
                gone_in_a_row += 1
                if gone_in_a_row == 1:
                    continue            # relist straight away
                delay = backoff.next()
            except _Dropped:
                scope.state = "reconnecting"
                delay = backoff.next()
            except _SourceError as e:
                scope.error = e
                scope.state = "error"
                if e.reload or not e.configured or conn is None:
                    self._drop_connection(conn)
                    conn = None
                delay = backoff.next()
            except Exception as e:  # never let the thread die: report and retry
                scope.error = _SourceError(f"pods watch failed: {_short(str(e)) or type(e).__name__}")
                scope.state = "error"
                self._drop_connection(conn)
                conn = None
                delay = backoff.next()
            self._stop.wait(delay)
        scope.state = "closed"
        self._drop_connection(conn)

    def _drop_connection(self, conn: _Connection | None) -> None:
        if conn is not None:
            with self._lock:
                if conn in self._connections:
                    self._connections.remove(conn)
            _close_client(conn.api_client)

    def _request(self, conn: _Connection, scope: _Scope, **kwargs: Any) -> Any:
        """One list or watch request; failures come back as _SourceError / _Gone."""
        from kubernetes.client.exceptions import ApiException

        try:
            if scope.namespace is None:
                return conn.api.list_pod_for_all_namespaces(_preload_content=False, **kwargs)
            return conn.api.list_namespaced_pod(scope.namespace, _preload_content=False, **kwargs)
        except ApiException as e:
            if e.status == 410:
                raise _Gone() from None
            raise _describe_api_error(int(e.status or 0), e, scope.namespace, conn.server) from None
        except _SourceError:
            raise
        except Exception as e:
            raise _describe_transport_error(e, conn.server) from None

    def _list(self, conn: _Connection, scope: _Scope) -> None:
        # The first list may come from the API server's watch cache (resourceVersion "0",
        # as informers do: cheap for the server); a relist after 410 must be current.
        kwargs: dict[str, Any] = {} if scope.synced else {"resource_version": "0"}
        resp = self._request(conn, scope, _request_timeout=(5, 60), **kwargs)
        try:
            data = resp.data
        except Exception as e:
            raise _describe_transport_error(e, conn.server) from None
        finally:
            resp.release_conn()
        try:
            body = json.loads(data)
        except ValueError:
            raise _SourceError(f"unreadable pod list from {conn.server}") from None
        self._replace_scope(scope, body.get("items") or [])
        scope.rv = str((body.get("metadata") or {}).get("resourceVersion") or "") or None
        scope.synced = True
        if scope.rv is None:
            raise _SourceError("API server returned a pod list without a resourceVersion")

    def _watch(self, conn: _Connection, scope: _Scope) -> bool:
        """Follow the watch until the server ends it. True if it made progress."""
        assert scope.rv is not None
        resp = self._request(
            conn, scope,
            watch=True,
            resource_version=scope.rv,
            allow_watch_bookmarks=True,
            timeout_seconds=self._watch_timeout,
            # Read timeout beyond the server's own: a silent half-open connection ends too.
            _request_timeout=(5, self._watch_timeout + 30),
        )
        scope.error = None
        scope.resp = resp
        progressed = False
        try:
            if self._stop.is_set():
                return False
            for line in _lines(resp):
                if self._stop.is_set():
                    return progressed
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                kind = event.get("type")
                obj = event.get("object") or {}
                if kind == "ERROR":
                    if obj.get("code") == 410:
                        raise _Gone()
                    raise _describe_api_error(int(obj.get("code") or 500), _StatusBody(obj),
                                              scope.namespace, conn.server)
                rv = (obj.get("metadata") or {}).get("resourceVersion")
                if kind in ("ADDED", "MODIFIED", "DELETED"):
                    self._apply(kind, obj)
                if rv:
                    scope.rv = str(rv)
                progressed = True
                scope.drops = 0
            scope.drops = 0          # ended cleanly by the server (timeoutSeconds)
            return True
        except (_Gone, _SourceError):
            raise
        except Exception as e:
            if self._stop.is_set():
                return progressed
            scope.drops += 1
            if scope.drops >= 3:
                # Accepted, then cut before a single event, again and again: say so.
                raise _describe_transport_error(e, conn.server) from None
            raise _Dropped() from e
        finally:
            scope.resp = None
            try:
                resp.release_conn()
            except Exception:
                pass
