"""Pod snapshot data and state classification: what a pod's JSON means for the pane.

Split out of ``checks.pods`` so the pure part (dataclasses, CRIT/WARN rules, the
summary line and change events) can be read and tested without the Kubernetes
client plumbing. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cached_property, lru_cache
from typing import Any

from checks.base import Event, Level, Snapshot

ALL_NAMESPACES = "*"
NO_KUBECONFIG = "no kubeconfig found (set KUBECONFIG or [kubernetes] in warroom.toml)"

# Waiting reasons that mean the pod will not get better by itself.
CRIT_WAITING = frozenset({
    "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "InvalidImageName",
    "CreateContainerConfigError", "CreateContainerError", "RunContainerError",
})
# An OOM kill this recent keeps the pod CRIT even if the container is running again.
OOM_RECENT = timedelta(minutes=15)



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


def _status_text(pod: dict[str, Any], status: dict[str, Any], init_statuses: list[Any], statuses: list[Any]) -> str:
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


# Per container: (restarts, last finishedAt); and what _pod_facts reads from a pod object.
_Containers = tuple[tuple[int, datetime | None], ...]
_Facts = tuple["PodStatus", str, datetime | None, _Containers]


def _pod_facts(obj: dict[str, Any]) -> _Facts:
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
            if not term or (term is cur_term and cur_term.get("reason") == "Completed"):
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


def _sort_key(p: PodStatus) -> tuple[int, int, str, str]:
    return (-p.restarts_since_incident, -int(p.level), p.namespace, p.name)



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
        if restarted and old is not None:   # (restarted says old is not None; mypy needs it said)
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
