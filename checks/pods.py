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
import os
import random
import socket
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from functools import cached_property, lru_cache
from typing import Any, Callable, Iterator

from checks.base import Event, Level, Snapshot, utcnow
from checks.specs import KubeSpec

__all__ = [
    "ALL_NAMESPACES",
    "NO_KUBECONFIG",
    "PodStatus",
    "PodsSnapshot",
    "PodsSource",
    "changes",
]

ALL_NAMESPACES = "*"
NO_KUBECONFIG = "no kubeconfig found (set KUBECONFIG or [kubernetes] in warroom.toml)"

# Waiting reasons that mean the pod will not get better by itself.
CRIT_WAITING = frozenset({
    "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "InvalidImageName",
    "CreateContainerConfigError", "CreateContainerError", "RunContainerError",
})
# An OOM kill this recent keeps the pod CRIT even if the container is running again.
OOM_RECENT = timedelta(minutes=15)

_BACKOFF_MIN = 0.5
_BACKOFF_MAX = 30.0


# --------------------------------------------------------------------------- data
@dataclass(frozen=True)
class PodStatus:
    """One pod as the pane shows it."""
    namespace: str
    name: str
    phase: str = "Unknown"
    status: str = ""                  # kubectl's STATUS column (Running, CrashLoopBackOff, Init:0/1, ...)
    ready: str = "0/0"                # "ready/total" regular containers
    ready_containers: int = 0
    total_containers: int = 0
    restarts: int = 0                 # sum over containers and init containers
    restarts_since_incident: int = 0
    last_termination_reason: str | None = None
    last_termination_at: datetime | None = None
    waiting_reason: str | None = None
    node: str | None = None
    created_at: datetime | None = None
    level: Level = Level.OK
    uid: str = ""

    @cached_property
    def key(self) -> str:
        # Cached: the pods pane looks up 5,000 of these every second.
        return f"{self.namespace}/{self.name}"

    @property
    def is_ready(self) -> bool:
        return self.phase == "Succeeded" or (
            self.phase == "Running" and self.ready_containers >= self.total_containers
        )

    def age(self, now: datetime) -> timedelta | None:
        return None if self.created_at is None else max(timedelta(0), now - self.created_at)


@dataclass(frozen=True)
class PodsSnapshot(Snapshot):
    """Every watched pod at one poll, worst first."""
    pods: tuple[PodStatus, ...] = ()  # most restarts since the incident first
    total: int = 0
    not_ready: int = 0
    crashlooping: int = 0
    context: str | None = None
    namespaces: tuple[str, ...] = ()  # ("*",) for all namespaces
    connection: str = "connecting"    # connecting|watching|reconnecting|error|unconfigured|disabled|closed
    stale: bool = False               # pods are the last known state; the source is failing
    synced: bool = False              # every namespace scope has completed its first list
    configured: bool = True           # False: no kubeconfig at all (not an outage: UNKNOWN, not red)
    incident_started: datetime | None = None


# --------------------------------------------------------------------------- parsing
@lru_cache(maxsize=8192)
def _ts(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _status_text(pod: dict, status: dict, init_statuses: list, statuses: list) -> str:
    """kubectl's STATUS column (printPod), condensed."""
    reason = status.get("reason") or status.get("phase") or "Unknown"
    spec = pod.get("spec") or {}
    init_specs = spec.get("initContainers") or []
    sidecars = {c.get("name") for c in init_specs if c.get("restartPolicy") == "Always"}
    n_init = len(init_specs) or len(init_statuses)
    initializing = False
    for i, cs in enumerate(init_statuses):
        state = cs.get("state") or {}
        term = state.get("terminated")
        wait = state.get("waiting")
        if term and term.get("exitCode") == 0:
            continue
        if cs.get("name") in sidecars and cs.get("started"):
            continue
        if term:
            reason = "Init:" + (term.get("reason") or f"ExitCode:{term.get('exitCode')}")
        elif wait and wait.get("reason") and wait.get("reason") != "PodInitializing":
            reason = "Init:" + wait["reason"]
        else:
            reason = f"Init:{i}/{n_init}"
        initializing = True
        break
    if not initializing:
        has_running = False
        for cs in reversed(statuses):
            state = cs.get("state") or {}
            wait, term = state.get("waiting"), state.get("terminated")
            if wait and wait.get("reason"):
                reason = wait["reason"]
            elif term:
                reason = term.get("reason") or f"ExitCode:{term.get('exitCode')}"
            elif state.get("running") and cs.get("ready"):
                has_running = True
        if reason == "Completed" and has_running:
            reason = "Running"
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return reason


def _pod_facts(obj: dict) -> tuple[PodStatus, str, datetime | None, tuple[tuple[int, datetime | None], ...]]:
    """Everything about a pod that does not depend on the incident or the clock.

    Returns (partial status, uid, created_at, per-container (restarts, last finishedAt)).
    """
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    init_statuses = status.get("initContainerStatuses") or []
    statuses = status.get("containerStatuses") or []
    restarts = 0
    per_container: list[tuple[int, datetime | None]] = []
    last_reason: str | None = None
    last_at: datetime | None = None
    crit_wait: str | None = None
    any_wait: str | None = None
    for cs in (*init_statuses, *statuses):
        count = int(cs.get("restartCount") or 0)
        restarts += count
        last_term = (cs.get("lastState") or {}).get("terminated")
        finished = _ts(last_term.get("finishedAt")) if last_term else None
        per_container.append((count, finished))
        state = cs.get("state") or {}
        # A container that stopped for good (restartPolicy Never, a failed Job) is a termination too.
        cur_term = state.get("terminated")
        for term in (last_term, cur_term):
            if not term or (term is cur_term and term.get("reason") == "Completed"):
                continue
            at = _ts(term.get("finishedAt"))
            reason = term.get("reason") or f"ExitCode:{term.get('exitCode')}"
            if (last_reason is None
                    or (at is not None and (last_at is None or at > last_at))
                    or (at == last_at and reason == "OOMKilled")):   # same second: the OOM is the story
                last_reason = reason
                last_at = at
        wait = state.get("waiting")
        if wait and wait.get("reason"):
            if wait["reason"] in CRIT_WAITING:
                crit_wait = crit_wait or wait["reason"]
            any_wait = any_wait or wait["reason"]
    total = len(spec.get("containers") or []) or len(statuses)
    ready_n = sum(1 for cs in statuses if cs.get("ready"))
    created = _ts(meta.get("creationTimestamp"))
    phase = status.get("phase") or "Unknown"
    partial = PodStatus(
        namespace=meta.get("namespace") or "",
        name=meta.get("name") or "",
        phase=phase,
        status=_status_text(obj, status, init_statuses, statuses),
        ready=f"{ready_n}/{total}",
        ready_containers=ready_n,
        total_containers=total,
        restarts=restarts,
        last_termination_reason=last_reason,
        last_termination_at=last_at,
        waiting_reason=crit_wait or any_wait,
        node=spec.get("nodeName"),
        created_at=created,
        uid=meta.get("uid") or f"{meta.get('namespace')}/{meta.get('name')}",
    )
    return partial, partial.uid, created, tuple(per_container)


def _baseline(created: datetime | None, containers: tuple[tuple[int, datetime | None], ...],
              incident_start: datetime) -> int:
    """Restart count the pod had when the incident started, judged at first sight.

    - created after the incident started: every restart counts (baseline 0);
    - a container whose last restart finished before the incident: none of its
      restarts count (baseline = its count);
    - a container whose last restart finished after the incident started: at
      least that one counts (baseline = count - 1; more we cannot know);
    - no termination record: we cannot tell, so count from first sight.
    """
    if created is not None and created >= incident_start:
        return 0
    total = 0
    for count, finished in containers:
        if count > 0 and finished is not None and finished >= incident_start:
            total += count - 1
        else:
            total += count
    return total


def _classify(p: PodStatus, now: datetime, incident_start: datetime | None = None,
              resolved_at: datetime | None = None) -> Level:
    if p.waiting_reason in CRIT_WAITING:
        return Level.CRIT
    if p.phase == "Failed":
        # An evicted or failed pod left over from before the incident (they linger for days)
        # is worth a look, not a red pane; one that failed since, or at an unknown time, is.
        failed_before = (incident_start is not None and p.last_termination_at is not None
                         and p.last_termination_at < incident_start)
        return Level.WARN if failed_before else Level.CRIT
    if (p.last_termination_reason == "OOMKilled" and p.last_termination_at is not None
            and now - p.last_termination_at <= OOM_RECENT
            # An OOM kill of an incident resolved since is that incident's story, not red now.
            and (resolved_at is None or p.last_termination_at > resolved_at)):
        return Level.CRIT
    if p.restarts_since_incident > 0:
        return Level.WARN
    if not p.is_ready:
        return Level.WARN
    return Level.OK


def _sort_key(p: PodStatus) -> tuple:
    return (-p.restarts_since_incident, -int(p.level), p.namespace, p.name)


# --------------------------------------------------------------------------- errors in words
class _SourceError(Exception):
    """A failure already put into words for the pane."""

    def __init__(self, words: str, *, configured: bool = True, reload: bool = False) -> None:
        super().__init__(words)
        self.words = words
        self.configured = configured
        self.reload = reload      # re-read the kubeconfig before the next try (credentials may change)


class _Gone(Exception):
    """410: our resourceVersion was compacted away; relist."""


class _Dropped(Exception):
    """The watch stream broke after it had started; resume from the last resourceVersion."""


def _status_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if body:
        try:
            msg = json.loads(body).get("message")
            if msg:
                return str(msg)
        except (ValueError, AttributeError):
            pass
    return str(getattr(exc, "reason", "") or "").strip()


def _where(namespace: str | None) -> str:
    return "in all namespaces" if namespace is None else f"in namespace {namespace}"


def _describe_api_error(code: int, exc: Any, namespace: str | None, server: str) -> _SourceError:
    if code == 401:
        return _SourceError("unauthorized (401): check your credentials", reload=True)
    if code == 403:
        return _SourceError(f"forbidden (403): cannot list pods {_where(namespace)}", reload=True)
    if code == 0:
        # The client reports TLS failures as status 0 with the SSL error in the reason.
        text = _status_message(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return _SourceError(f"TLS error: certificate verify failed ({server})")
        return _SourceError(f"TLS error ({server}): {_short(text)}")
    if code == 404:
        return _SourceError(f"not found (404): {server} does not serve pods {_where(namespace)}")
    if code == 429:
        return _SourceError("throttled (429) by the API server")
    if code >= 500:
        return _SourceError(f"API server error ({code}): {_short(_status_message(exc))}")
    return _SourceError(f"API error ({code}): {_short(_status_message(exc))}")


def _describe_transport_error(exc: BaseException, server: str) -> _SourceError:
    """urllib3 / socket failures in words: 'cluster unreachable: connection refused (url)'."""
    import urllib3.exceptions as ue

    cause: BaseException | None = exc
    if isinstance(exc, ue.MaxRetryError) and exc.reason is not None:
        cause = exc.reason
    text = str(cause)
    # NewConnectionError subclasses ConnectTimeoutError: look at the words before the type.
    if isinstance(cause, ConnectionRefusedError) or "Connection refused" in text:
        why = "connection refused"
    elif isinstance(cause, ue.NameResolutionError) or "Name or service not known" in text \
            or "nodename nor servname" in text or "Temporary failure in name resolution" in text:
        why = "cannot resolve host"
    elif isinstance(cause, (ue.ConnectTimeoutError, TimeoutError, socket.timeout)):
        why = "connection timed out"
    elif isinstance(cause, ue.ReadTimeoutError):
        why = "no answer in time"
    elif isinstance(cause, ue.SSLError):
        why = "certificate verify failed" if "certificate verify failed" in text.lower() else "TLS error"
        return _SourceError(f"TLS error: {why} ({server})")
    elif isinstance(cause, ConnectionResetError) or "Connection reset" in text:
        why = "connection reset"
    elif isinstance(cause, (ue.ProtocolError, ConnectionError)):
        why = "connection lost"
    else:
        why = _short(text) or type(cause).__name__
    return _SourceError(f"cluster unreachable: {why} ({server})")


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- kubeconfig
def _kubeconfig_paths(spec: KubeSpec) -> list[str]:
    raw = spec.kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
    return [os.path.expanduser(p) for p in raw.split(os.pathsep) if p.strip()]


def _read_contexts(paths: list[str]) -> tuple[dict[str, dict], str | None]:
    """Contexts and current-context with kubectl's merge rules (the first file to
    define a name, or to set current-context, wins)."""
    import yaml

    contexts: dict[str, dict] = {}
    current: str | None = None
    for path in paths:
        try:
            with open(path, encoding="utf-8") as fh:
                doc = yaml.safe_load(fh) or {}
        except (OSError, yaml.YAMLError) as e:
            raise _SourceError(f"invalid kubeconfig {path}: {_short(str(e), 80)}") from None
        if not isinstance(doc, dict):
            raise _SourceError(f"invalid kubeconfig {path}: not a mapping")
        for item in doc.get("contexts") or []:
            if isinstance(item, dict) and item.get("name") and item["name"] not in contexts:
                contexts[item["name"]] = item.get("context") or {}
        if not current and doc.get("current-context"):
            current = str(doc["current-context"])
    return contexts, current


@dataclass
class _Connection:
    """A kubernetes API client and what it was built from."""
    api: Any                  # kubernetes.client.CoreV1Api
    api_client: Any
    context: str
    namespace: str            # the context's namespace, or "default"
    server: str


def _connect(spec: KubeSpec, pinned_context: str | None = None) -> _Connection:
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    paths = [p for p in _kubeconfig_paths(spec) if os.path.isfile(p)]
    if not paths:
        raise _SourceError(NO_KUBECONFIG, configured=False)
    contexts, current = _read_contexts(paths)
    wanted = spec.context or pinned_context or current
    if not wanted:
        raise _SourceError("no current context in kubeconfig (set [kubernetes] context in warroom.toml)")
    if wanted not in contexts:
        raise _SourceError(f"context '{wanted}' not found in kubeconfig")
    cfg = type.__call__(client.Configuration)
    try:
        # The client's loader merges a ':'-separated list itself (KubeConfigMerger).
        config.load_kube_config(config_file=os.pathsep.join(paths), context=wanted,
                                client_configuration=cfg, persist_config=False)
    except ConfigException as e:
        raise _SourceError(f"kubeconfig error: {_short(str(e))}") from None
    except Exception as e:  # exec plugins, unreadable cert files, ...
        raise _SourceError(f"kubeconfig error: {_short(str(e)) or type(e).__name__}") from None
    # We do our own backoff; one quick retry covers a stale pooled keep-alive connection.
    cfg.retries = 1
    if hasattr(cfg, "keep_alive"):
        cfg.keep_alive = True     # TCP keepalive: notice a watch silently dropped by a proxy
    api_client = client.ApiClient(configuration=cfg)
    api_client.user_agent = "warroom/pods"
    return _Connection(
        api=client.CoreV1Api(api_client),
        api_client=api_client,
        context=wanted,
        namespace=str(contexts[wanted].get("namespace") or "default"),
        server=str(cfg.host),
    )


# --------------------------------------------------------------------------- the source
class _Scope:
    """One list+watch stream: a namespace, the context's namespace, or all."""

    def __init__(self, namespace: str | None, *, from_context: bool = False) -> None:
        self.namespace = namespace          # None: all namespaces
        self.from_context = from_context    # namespace comes from the kubeconfig context
        self.rv: str | None = None          # None: (re)list needed
        self.synced = False
        self.state = "connecting"
        self.error: _SourceError | None = None
        self.resp: Any = None               # the open watch response, to abort on close()
        self.drops = 0                      # watch streams cut in a row without any event

    def covers(self, namespace: str) -> bool:
        return self.namespace is None or self.namespace == namespace


class _Backoff:
    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high
        self.current = low

    def next(self) -> float:
        delay = self.current
        self.current = min(self.high, self.current * 2)
        return delay * random.uniform(0.9, 1.1)

    def reset(self) -> None:
        self.current = self.low


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
        self._first_sight: dict[str, tuple[datetime | None, tuple]] = {}
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
            for p in changed.values():
                if p is not None:
                    bisect.insort(kept, p, key=_sort_key)
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
    def _baseline_for_locked(self, uid: str, created: datetime | None, containers: tuple) -> int:
        if uid not in self._first_sight:
            self._first_sight[uid] = (created, containers)
        base = self._baselines.get(uid)
        if base is None:
            first_created, first_containers = self._first_sight[uid]
            base = _baseline(first_created, first_containers, self.incident_start)
            self._baselines[uid] = base
        return base

    def _finish(self, facts: tuple, now: datetime) -> PodStatus:
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

    def _replace_scope(self, scope: _Scope, objs: list[dict]) -> None:
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

    def _apply(self, kind: str, obj: dict) -> None:
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
                    conn = self._drop_connection(conn)
                delay = backoff.next()
            except Exception as e:  # never let the thread die: report and retry
                scope.error = _SourceError(f"pods watch failed: {_short(str(e)) or type(e).__name__}")
                scope.state = "error"
                conn = self._drop_connection(conn)
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
        return None

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


class _StatusBody:
    """Lets an ERROR event's Status object go through the same wording as an ApiException."""

    def __init__(self, status: dict) -> None:
        self.body = json.dumps(status)
        self.reason = status.get("reason")


def _lines(resp: Any) -> Iterator[bytes]:
    buf = b""
    for chunk in resp.stream(amt=None, decode_content=False):
        buf += chunk
        if b"\n" not in buf:
            continue
        *complete, buf = buf.split(b"\n")
        for line in complete:
            if line.strip():
                yield line
    if buf.strip():
        yield buf


def _abort(resp: Any) -> None:
    """Unblock a thread reading a watch: shut the socket down under it."""
    if resp is None:
        return
    for attr in ("connection", "_connection"):
        conn = getattr(resp, attr, None)
        sock = getattr(conn, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
    try:
        resp.close()
    except Exception:
        pass


def _close_client(api_client: Any) -> None:
    try:
        api_client.rest_client.pool_manager.clear()
    except Exception:
        pass
    try:
        api_client.close()
    except Exception:
        pass


# --------------------------------------------------------------------------- summary & events
def _headline(p: PodStatus) -> str:
    """'payments-7d9c-abc CrashLoopBackOff · +5 restarts'."""
    reason = p.waiting_reason if p.waiting_reason in CRIT_WAITING else None
    if reason is None and p.level == Level.CRIT and p.last_termination_reason == "OOMKilled":
        reason = "OOMKilled"
    reason = reason or (p.status if p.status not in ("Running", "") else ("not ready" if not p.is_ready else ""))
    parts = [f"{p.name} {reason}".strip()]
    if p.restarts_since_incident:
        n = p.restarts_since_incident
        parts.append(f"+{n} restart{'s' if n != 1 else ''}")
    return " · ".join(parts)


def _summary(total: int, bad: list[PodStatus], error: str | None, synced: bool, context: str | None,
             namespaces: tuple[str, ...]) -> str:
    if error and not total:
        return error
    if not synced and not total:
        return f"connecting to {context}…" if context else "connecting…"
    if bad:
        worst = max(bad, key=lambda p: (p.level, p.restarts_since_incident, p.namespace, p.name))
        text = _headline(worst)
        if len(bad) > 1:
            text += f" · {len(bad) - 1} more"
    elif not total:
        where = "all namespaces" if ALL_NAMESPACES in namespaces else ", ".join(namespaces) or "namespace"
        text = f"no pods in {where}"
    else:
        text = f"{total} pod{'s' if total != 1 else ''}, all ready"
    if error:
        text = f"stale · {text}"
    return text


def changes(prev: PodsSnapshot | None, cur: PodsSnapshot) -> list[Event]:
    """Timeline events: restarts, entering CrashLoopBackOff / ImagePullBackOff, OOM kills."""
    events: list[Event] = []
    before = {} if prev is None else {(p.namespace, p.name): p for p in prev.pods}
    for p in cur.pods:
        old = before.get((p.namespace, p.name))
        if old is p:
            continue                         # the source hands unchanged pods on as they were
        if old is not None and old.uid != p.uid:
            old = None                       # a new pod under an old name
        key = f"pod:{p.namespace}/{p.name}"
        who = f"pod {p.namespace}/{p.name}"
        restarted = old is not None and p.restarts > old.restarts
        if restarted:
            level = Level.CRIT if p.level == Level.CRIT else Level.WARN
            text = f"{who} restarted (+{p.restarts - old.restarts}, now {p.restarts})"
            if p.last_termination_reason:
                text += f": {p.last_termination_reason}"
            events.append(Event(key, f"restart:{p.restarts}", text, level))
        was_waiting = old.waiting_reason if old is not None else None
        if p.waiting_reason in CRIT_WAITING and p.waiting_reason != was_waiting:
            events.append(Event(key, p.waiting_reason, f"{who} {p.waiting_reason}", Level.CRIT))
        # An OOM kill that came with a restart is already told by the restart event.
        new_oom = (p.last_termination_reason == "OOMKilled" and p.level == Level.CRIT
                   and not restarted and (
                       old is None or old.last_termination_at != p.last_termination_at
                       or old.last_termination_reason != "OOMKilled"))
        if new_oom:
            when = p.last_termination_at.strftime("%H:%M:%SZ") if p.last_termination_at else "recently"
            events.append(Event(key, "OOMKilled", f"{who} OOMKilled at {when}", Level.CRIT))
        if (old is not None and old.level == Level.CRIT and p.level < Level.CRIT
                and p.is_ready and p.waiting_reason is None):
            events.append(Event(key, "Running", f"{who} recovered ({p.status}, {p.ready} ready)", Level.OK))
    return events
