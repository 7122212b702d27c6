"""A local stand-in for the Kubernetes API server: just enough of ``/api/v1/.../pods``
(list and watch) for the real ``kubernetes`` Python client.

Tests and ``warroom demo`` drive it from Python (``add_pod``, ``restart_container``,
``set_waiting``...) and inject faults (``drop_watches``, ``expire``, ``fail_next``,
a required bearer token). It is pure stdlib on purpose: the demo must not need a
cluster, and tests must not need anything but loopback.

Wire format follows the real API server:
- list: ``PodList`` with ``metadata.resourceVersion``; items without kind/apiVersion.
- watch (``?watch=true&resourceVersion=N``): HTTP/1.1 chunked, one JSON event per
  line ``{"type": "ADDED|MODIFIED|DELETED|BOOKMARK|ERROR", "object": {...}}``.
- an expired resourceVersion is reported the way the real server does it in a
  watch: HTTP 200 then an ``ERROR`` event carrying a ``Status`` with code 410.
- errors are ``Status`` objects (``{"kind": "Status", "code": 403, ...}``).
"""
from __future__ import annotations

import bisect
import copy
import json
import os
import socket
import threading
import uuid
from collections import Counter, deque
from datetime import datetime, timezone
from http.server import ThreadingHTTPServer
from typing import Any, Callable, Iterable

from .kubeapi_apps import AppsModel
from .kubeapi_http import _Handler, _QuietServer
from .kubeapi_logs import PodLogs
from .kubeapi_pods import _container_spec, _find_status, _sync_conditions, _terminated, _waiting_message
from .kubeapi_wire import _DUMPS, _event_line, _shutdown, _status, _Watch, rfc3339

__all__ = ["KubeApiStandin", "rfc3339"]


class KubeApiStandin(AppsModel):
    """A threaded HTTP server on 127.0.0.1 that serves pods like the API server.

    Use as a context manager or call ``start()`` / ``stop()``. All mutators are
    thread-safe and return a deep copy of the resulting pod.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        port: int = 0,
        bookmark_interval: float = 5.0,
        max_watch_seconds: float | None = None,
        history_limit: int = 20_000,
        poll_interval: float = 0.05,
        hangup_check_s: float = 0.2,
    ) -> None:
        # How often the accept loop looks for stop(): tests start and stop hundreds of stand-ins;
        # the demo, which runs for minutes and stops once, wakes less (0.5 s).
        self.poll_interval = poll_interval
        # How often an idle watch looks for a client that hung up (the demo: once a second).
        self.hangup_check_s = hangup_check_s
        # Bearer token the client must present; None accepts anything (and nothing).
        self.token = token
        self.bookmark_interval = bookmark_interval
        # Caps every watch's duration, like the server's own --min-request-timeout.
        self.max_watch_seconds = max_watch_seconds
        self.history_limit = history_limit
        self._requested_port = port
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._rv = 1
        self._pods: dict[tuple[str, str], dict] = {}
        self._item_json: dict[tuple[str, str], bytes] = {}   # list items, pre-encoded
        # Event history: parallel lists so a watch can bisect to its resourceVersion.
        self._ev_rvs: list[int] = []
        self._ev_lines: list[tuple[str, bytes]] = []         # (namespace, event line)
        self._floor = 0            # watches from a resourceVersion below this get 410
        self._faults: list[tuple[int, str | None]] = []      # one-shot (status, message)
        self.logs = PodLogs(self._lock)                      # containers' current and previous logs
        self._sticky_fault: tuple[int, str | None] | None = None
        self.forbidden_namespaces: set[str] = set()
        self._watches: set[_Watch] = set()
        self._conns: set[socket.socket] = set()
        self._stopping = False
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.requests: Counter[str] = Counter()  # "list", "watch", "list:<ns>", "watch:<ns>", "denied"
        self.request_log: deque[tuple[str, str]] = deque(maxlen=1000)   # (method, path?query)
        self._init_apps()      # apps/v1: deployments, replicasets, scale (kubeapi_apps.py)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "KubeApiStandin":
        if self._server is not None:
            return self
        standin = self

        class Handler(_Handler):
            pass

        Handler.standin = standin
        server = _QuietServer(("127.0.0.1", self._requested_port), Handler)
        server.daemon_threads = True
        self._server = server
        self._stopping = False
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": self.poll_interval},
            name="kubeapi-standin", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; open watch streams and keep-alive connections are cut at once."""
        server = self._server
        if server is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            self.logs.cond.notify_all()
            conns = list(self._conns)
        for sock in conns:
            _shutdown(sock)
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> "KubeApiStandin":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the stand-in first"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def resource_version(self) -> int:
        with self._lock:
            return self._rv

    @property
    def open_watches(self) -> int:
        with self._lock:
            return len(self._watches)

    def write_kubeconfig(
        self,
        path: str | os.PathLike[str],
        *,
        context: str = "standin",
        namespace: str | None = "default",
        token: str | None = None,
        current: bool = True,
        server: str | None = None,
    ) -> str:
        """Write a kubeconfig (JSON is YAML) whose context points at this server.

        ``token`` defaults to the server's own token, so the config just works;
        ``server`` overrides the URL (e.g. a closed port, before ``start()``).
        """
        user: dict[str, Any] = {}
        tok = self.token if token is None else token
        if tok:
            user["token"] = tok
        ctx: dict[str, Any] = {"cluster": "standin", "user": "standin-user"}
        if namespace:
            ctx["namespace"] = namespace
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "preferences": {},
            "clusters": [{"name": "standin", "cluster": {"server": server or self.url}}],
            "users": [{"name": "standin-user", "user": user}],
            "contexts": [{"name": context, "context": ctx}],
        }
        if current:
            config["current-context"] = context
        path = os.fspath(path)
        tmp = f"{path}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(config, fh, indent=2)
        os.replace(tmp, path)
        return path

    # ------------------------------------------------------------------ pods
    def add_pod(
        self,
        namespace: str,
        name: str,
        *,
        containers: Iterable[str] = ("app",),
        init_containers: Iterable[str] = (),
        node: str | None = "node-1",
        labels: dict[str, str] | None = None,
        phase: str = "Running",
        ready: bool = True,
        restarts: int = 0,
        created: datetime | None = None,
        last_termination: tuple[str, datetime] | None = None,
        owner: str | None = None,
    ) -> dict:
        """Create a pod whose containers are running (and ready, unless told otherwise).

        ``restarts`` is given to the first container; ``last_termination`` =
        (reason, finished_at) fills its ``lastState.terminated``.
        """
        created = created or datetime.now(timezone.utc)
        containers = list(containers)
        init_containers = list(init_containers)
        started = rfc3339(created)
        pod: dict[str, Any] = {
            "metadata": {
                "name": name,
                "namespace": namespace,
                "uid": str(uuid.uuid4()),
                "resourceVersion": "0",
                "creationTimestamp": started,
                "labels": dict(labels or {"app": name.rsplit("-", 2)[0]}),
            },
            "spec": {
                "nodeName": node,
                "restartPolicy": "Always",
                "containers": [_container_spec(c) for c in containers],
                "initContainers": [_container_spec(c) for c in init_containers],
            },
            "status": {
                "phase": phase,
                "hostIP": "10.0.0.1",
                "podIP": "10.1.0.1",
                "startTime": started,
                "qosClass": "BestEffort",
                "conditions": [],
                "initContainerStatuses": [
                    {
                        "name": c, "image": f"registry.local/{c}:1", "imageID": "",
                        "containerID": f"containerd://{uuid.uuid4().hex}",
                        "ready": True, "started": False, "restartCount": 0,
                        "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                                                 "startedAt": started, "finishedAt": started}},
                        "lastState": {},
                    }
                    for c in init_containers
                ],
                "containerStatuses": [
                    {
                        "name": c, "image": f"registry.local/{c}:1", "imageID": "",
                        "containerID": f"containerd://{uuid.uuid4().hex}",
                        "ready": ready and phase == "Running", "started": phase == "Running",
                        "restartCount": 0,
                        "state": {"running": {"startedAt": started}} if phase == "Running"
                        else {"waiting": {"reason": "ContainerCreating"}},
                        "lastState": {},
                    }
                    for c in containers
                ],
            },
        }
        if owner is not None:      # a Deployment made with add_deployment: the pod belongs to its ReplicaSet
            pod["metadata"]["ownerReferences"] = [self.owner_reference(namespace, owner)]
        if node is None:
            del pod["spec"]["nodeName"]
        if not init_containers:
            del pod["spec"]["initContainers"]
            del pod["status"]["initContainerStatuses"]
        statuses = pod["status"]["containerStatuses"]
        if statuses:
            statuses[0]["restartCount"] = restarts
            if last_termination is not None:
                reason, finished = last_termination
                statuses[0]["lastState"] = {"terminated": _terminated(reason, finished, created)}
        _sync_conditions(pod)
        with self._cond:
            if (namespace, name) in self._pods:
                raise ValueError(f"pod {namespace}/{name} exists")
            self._commit("ADDED", pod)
            return copy.deepcopy(pod)

    def update_pod(self, namespace: str, name: str, mutate: Callable[[dict], Any]) -> dict:
        """Apply ``mutate(pod)`` in place and publish a MODIFIED event."""
        with self._cond:
            pod = self._pods[(namespace, name)]
            mutate(pod)
            _sync_conditions(pod)
            self._commit("MODIFIED", pod)
            return copy.deepcopy(pod)

    def delete_pod(self, namespace: str, name: str) -> None:
        with self._cond:
            pod = self._pods[(namespace, name)]
            self._commit("DELETED", pod)

    def get_pod(self, namespace: str, name: str) -> dict:
        with self._lock:
            return copy.deepcopy(self._pods[(namespace, name)])

    def pod_names(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._pods)

    def restart_container(
        self,
        namespace: str,
        name: str,
        container: str | None = None,
        *,
        reason: str = "Error",
        exit_code: int | None = None,
        finished_at: datetime | None = None,
        init: bool = False,
        then: str | None = None,
    ) -> dict:
        """The container died (``reason``) and the kubelet restarted it.

        ``then`` is the waiting reason it is left in (e.g. ``"CrashLoopBackOff"``);
        None means it is running and ready again.
        """
        now = datetime.now(timezone.utc)

        def mutate(pod: dict) -> None:
            cs = _find_status(pod, container, init)
            previous_start = (cs.get("state", {}).get("running") or {}).get("startedAt")
            cs["restartCount"] = int(cs.get("restartCount", 0)) + 1
            term = _terminated(reason, finished_at or now, None, exit_code)
            if previous_start:
                term["startedAt"] = previous_start
            cs["lastState"] = {"terminated": term}
            cs["containerID"] = f"containerd://{uuid.uuid4().hex}"
            if then is None and init:
                # An init container that was retried and then succeeded.
                cs["state"] = {"terminated": _terminated("Completed", now, now, 0)}
                cs["ready"] = True
                cs["started"] = False
            elif then is None:
                cs["state"] = {"running": {"startedAt": rfc3339(now)}}
                cs["ready"] = not init
                cs["started"] = True
            else:
                cs["state"] = {"waiting": {"reason": then, "message": _waiting_message(then, cs["name"], pod)}}
                cs["ready"] = False
                cs["started"] = False

        pod = self.update_pod(namespace, name, mutate)
        if not init:
            self.logs.restarted((namespace, name, container or pod["spec"]["containers"][0]["name"]))
        return pod

    def write_log(self, namespace: str, name: str, *lines: str, container: str | None = None,
                  at: datetime | None = None) -> None:
        """Append lines to the container's current log (``at``: their time, default now)."""
        with self._lock:
            pod = self._pods[(namespace, name)]
            container = container or pod["spec"]["containers"][0]["name"]
        self.logs.write((namespace, name, container), list(lines), None if at is None else at.timestamp())

    def set_waiting(
        self,
        namespace: str,
        name: str,
        reason: str = "CrashLoopBackOff",
        container: str | None = None,
        *,
        init: bool = False,
        message: str | None = None,
    ) -> dict:
        def mutate(pod: dict) -> None:
            cs = _find_status(pod, container, init)
            cs["state"] = {"waiting": {"reason": reason,
                                       "message": message or _waiting_message(reason, cs["name"], pod)}}
            cs["ready"] = False
            cs["started"] = False

        return self.update_pod(namespace, name, mutate)

    def set_running(self, namespace: str, name: str, container: str | None = None, *, ready: bool = True) -> dict:
        now = rfc3339()

        def mutate(pod: dict) -> None:
            cs = _find_status(pod, container, False)
            if "running" not in cs.get("state", {}):
                cs["state"] = {"running": {"startedAt": now}}
            cs["ready"] = ready
            cs["started"] = True
            pod["status"]["phase"] = "Running"

        return self.update_pod(namespace, name, mutate)

    def set_phase(self, namespace: str, name: str, phase: str, *, reason: str | None = None) -> dict:
        def mutate(pod: dict) -> None:
            pod["status"]["phase"] = phase
            if reason:
                pod["status"]["reason"] = reason
            if phase in ("Failed", "Succeeded", "Pending"):
                for cs in pod["status"].get("containerStatuses", []):
                    cs["ready"] = False

        return self.update_pod(namespace, name, mutate)

    # ------------------------------------------------------------------ faults
    def drop_watches(self) -> int:
        """Cut every open watch stream mid-flight (as a load balancer would). Returns how many."""
        with self._cond:
            watches = list(self._watches)
            for w in watches:
                w.dropped = True
            self._cond.notify_all()
        for w in watches:
            _shutdown(w.sock)
        return len(watches)

    def expire(self, rv: int | None = None, *, notify_open: bool = True) -> None:
        """Compact history: watches from a resourceVersion below ``rv`` (default:
        now) get 410 Gone. With ``notify_open``, open watches get the ERROR 410
        event too (the server does that when a watcher falls behind compaction)."""
        with self._cond:
            self._compact_to(self._rv if rv is None else int(rv))
            if notify_open:
                for w in self._watches:
                    w.gone = True
            self._cond.notify_all()

    def fail_next(self, status: int = 500, *, count: int = 1, message: str | None = None) -> None:
        """The next ``count`` pod requests (list or watch) fail with ``status``."""
        with self._lock:
            self._faults.extend([(status, message)] * count)

    def fail_always(self, status: int | None, *, message: str | None = None) -> None:
        """Every pod request fails with ``status`` until ``fail_always(None)``."""
        with self._lock:
            self._sticky_fault = None if status is None else (status, message)

    # ------------------------------------------------------------------ internals
    def _commit(self, kind: str, pod: dict) -> None:
        """Bump the resourceVersion, store the pod, publish the event. Caller holds the lock."""
        self._rv += 1
        rv = self._rv
        meta = pod["metadata"]
        meta["resourceVersion"] = str(rv)
        key = (meta["namespace"], meta["name"])
        if kind == "DELETED":
            meta.setdefault("deletionTimestamp", rfc3339())
            self._pods.pop(key, None)
            item = _DUMPS(pod).encode()
            self._item_json.pop(key, None)
        else:
            self._pods[key] = pod
            item = _DUMPS(pod).encode()
            self._item_json[key] = item
        self._ev_rvs.append(rv)
        self._ev_lines.append((key[0], _event_line(kind, item)))
        if len(self._ev_rvs) > self.history_limit:
            self._compact_to(self._ev_rvs[len(self._ev_rvs) // 2])
        self._cond.notify_all()

    def _compact_to(self, rv: int) -> None:
        self._floor = max(self._floor, rv)
        cut = bisect.bisect_right(self._ev_rvs, self._floor)
        del self._ev_rvs[:cut]
        del self._ev_lines[:cut]

    def _take_fault(self, namespace: str | None, verb: str) -> dict | None:
        with self._lock:
            if self._faults:
                code, msg = self._faults.pop(0)
            elif self._sticky_fault is not None:
                code, msg = self._sticky_fault
            elif namespace is not None and namespace in self.forbidden_namespaces:
                code, msg = 403, None
            else:
                return None
        if msg is None:
            if code == 403:
                where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
                msg = (f'pods is forbidden: User "system:serviceaccount:default:warroom" '
                       f'cannot {verb} resource "pods" in API group "" {where}')
            elif code == 401:
                msg = "Unauthorized"
            else:
                msg = f"stand-in injected failure ({code})"
        return _status(code, msg)
