"""Pod JSON helpers for the Kubernetes API stand-in: container specs, terminated and
waiting states, conditions -- shaped the way the kubelet reports them.

Split out of ``tui.demo.kubeapi_standin`` to keep the cluster model readable.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from .kubeapi_wire import rfc3339

# Exit codes the kubelet reports for the usual termination reasons.
_EXIT_CODES = {"OOMKilled": 137, "Error": 1, "Completed": 0}

def _container_spec(name: str) -> dict:
    return {"name": name, "image": f"registry.local/{name}:1",
            "resources": {}, "imagePullPolicy": "IfNotPresent"}


def _terminated(reason: str, finished: datetime, started: datetime | None, exit_code: int | None = None) -> dict:
    return {
        "exitCode": _EXIT_CODES.get(reason, 1) if exit_code is None else exit_code,
        "reason": reason,
        "startedAt": rfc3339(started or finished),
        "finishedAt": rfc3339(finished),
        "containerID": f"containerd://{uuid.uuid4().hex}",
    }


def _waiting_message(reason: str, container: str, pod: dict) -> str:
    meta = pod["metadata"]
    if reason == "CrashLoopBackOff":
        return (f"back-off 5m0s restarting failed container={container} "
                f"pod={meta['name']}_{meta['namespace']}({meta['uid']})")
    if reason in ("ImagePullBackOff", "ErrImagePull"):
        return f'Back-off pulling image "registry.local/{container}:1"'
    return ""


def _find_status(pod: dict, container: str | None, init: bool) -> dict:
    key = "initContainerStatuses" if init else "containerStatuses"
    statuses = pod["status"].get(key) or []
    if not statuses:
        raise KeyError(f"pod {pod['metadata']['name']} has no {key}")
    if container is None:
        return statuses[0]
    for cs in statuses:
        if cs["name"] == container:
            return cs
    raise KeyError(f"no container {container!r} in pod {pod['metadata']['name']}")


def _sync_conditions(pod: dict) -> None:
    """Keep the Ready conditions consistent with the container statuses, as the kubelet does."""
    status = pod["status"]
    statuses = status.get("containerStatuses") or []
    ready = bool(statuses) and all(cs.get("ready") for cs in statuses) and status.get("phase") == "Running"
    now = status.get("startTime") or rfc3339()
    text = "True" if ready else "False"
    status["conditions"] = [
        {"type": "Initialized", "status": "True", "lastTransitionTime": now},
        {"type": "Ready", "status": text, "lastTransitionTime": now},
        {"type": "ContainersReady", "status": text, "lastTransitionTime": now},
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
    ]
