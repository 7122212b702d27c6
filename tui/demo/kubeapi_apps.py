"""The stand-in's ``apps/v1`` side: Deployments, their ReplicaSets, and the scale subresource.

Just what the dashboard's built-in actions need, shaped like the real API server's answers:

- ``GET  /apis/apps/v1/namespaces/{ns}/deployments/{name}``         a Deployment
- ``PATCH`` the same (merge or strategic-merge patch; a rollout restart patches
  ``spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]``)
- ``GET/PATCH .../deployments/{name}/scale``                         an ``autoscaling/v1`` Scale
- ``GET  /apis/apps/v1/namespaces/{ns}/replicasets/{name}``         a ReplicaSet owned by its Deployment
- ``?dryRun=All`` on a PATCH: the result is computed and returned, nothing is stored
  (``patches`` counts only what was stored, ``dry_runs`` the others).

A pod made with ``add_pod(..., owner=deployment)`` carries the ownerReference of the
Deployment's ReplicaSet, as a real pod does. Pure stdlib, like the rest of the stand-in.
"""
from __future__ import annotations

import copy
import json
import threading
import uuid
from typing import Any

from .kubeapi_wire import _DUMPS, _status, rfc3339

_APPS = "apps/v1"
_MERGE_TYPES = ("application/merge-patch+json", "application/strategic-merge-patch+json")
_TEMPLATE_HASH = "5d8f7c9b6"        # the pod-template-hash of every stand-in ReplicaSet


def _merge(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (a strategic merge patch of plain fields is the same)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge(out.get(key), value)
    return out


class AppsModel:
    """The Deployments and ReplicaSets of the stand-in's cluster (mixed into ``KubeApiStandin``)."""

    _lock: threading.RLock
    _deployments: dict[tuple[str, str], dict]

    def _init_apps(self) -> None:
        self._deployments = {}
        self.patches: list[tuple[str, str, str, dict]] = []    # (namespace, name, subresource, body) stored
        self.dry_runs: list[tuple[str, str, str, dict]] = []   # the same, dry-run only

    def add_deployment(self, namespace: str, name: str, *, replicas: int = 2) -> dict:
        """A Deployment (and its ReplicaSet ``{name}-{hash}``); pods join it with ``add_pod(owner=name)``."""
        labels = {"app": name}
        deployment = {
            "kind": "Deployment", "apiVersion": _APPS,
            "metadata": {"name": name, "namespace": namespace, "uid": str(uuid.uuid4()), "generation": 1,
                         "resourceVersion": "1", "creationTimestamp": rfc3339(), "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "app", "image": f"registry.local/{name}:1"}]}}},
            "status": {"replicas": replicas, "readyReplicas": replicas, "observedGeneration": 1},
        }
        with self._lock:
            if (namespace, name) in self._deployments:
                raise ValueError(f"deployment {namespace}/{name} exists")
            self._deployments[(namespace, name)] = deployment
            return copy.deepcopy(deployment)

    def get_deployment(self, namespace: str, name: str) -> dict:
        with self._lock:
            return copy.deepcopy(self._deployments[(namespace, name)])

    def owner_reference(self, namespace: str, deployment: str) -> dict:
        """What a pod of ``deployment`` carries in metadata.ownerReferences: its ReplicaSet."""
        with self._lock:
            uid = self._deployments[(namespace, deployment)]["metadata"]["uid"]
        return {"apiVersion": _APPS, "kind": "ReplicaSet", "name": f"{deployment}-{_TEMPLATE_HASH}",
                "uid": str(uuid.uuid5(uuid.NAMESPACE_OID, uid)), "controller": True, "blockOwnerDeletion": True}

    def _replicaset(self, namespace: str, name: str) -> dict | None:
        deployment_name, _, suffix = name.rpartition("-")
        with self._lock:
            deployment = self._deployments.get((namespace, deployment_name))
            if deployment is None or suffix != _TEMPLATE_HASH:
                return None
            deployment = copy.deepcopy(deployment)
        meta = deployment["metadata"]
        labels = {**meta["labels"], "pod-template-hash": _TEMPLATE_HASH}
        return {
            "kind": "ReplicaSet", "apiVersion": _APPS,
            "metadata": {"name": name, "namespace": namespace, "uid": str(uuid.uuid5(uuid.NAMESPACE_OID, meta["uid"])),
                         "resourceVersion": meta["resourceVersion"], "labels": labels,
                         "ownerReferences": [{"apiVersion": _APPS, "kind": "Deployment", "name": meta["name"],
                                              "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}]},
            "spec": {"replicas": deployment["spec"]["replicas"], "selector": {"matchLabels": labels},
                     "template": deployment["spec"]["template"]},
            "status": {"replicas": deployment["spec"]["replicas"]},
        }

    @staticmethod
    def _scale_of(deployment: dict) -> dict:
        meta = deployment["metadata"]
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {"name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
                             "resourceVersion": meta["resourceVersion"]},
                "spec": {"replicas": deployment["spec"]["replicas"]},
                "status": {"replicas": deployment["status"]["replicas"],
                           "selector": ",".join(f"{k}={v}" for k, v in meta["labels"].items())}}

    # -- HTTP (called by the handler with the path split on "/")

    def apps_request(self, method: str, segs: list[str], query: dict[str, str], content_type: str,
                     body: bytes) -> tuple[int, dict]:
        # segs: ["", "apis", "apps", "v1", "namespaces", ns, resource, name, (subresource)]
        if len(segs) not in (8, 9) or segs[4] != "namespaces" or segs[6] not in ("deployments", "replicasets"):
            return 404, _status(404, "the server could not find the requested resource")
        namespace, resource, name = segs[5], segs[6], segs[7]
        sub = segs[8] if len(segs) == 9 else ""
        if sub not in ("", "scale") or (resource == "replicasets" and (sub or method != "GET")):
            return 404, _status(404, "the server could not find the requested resource")
        if resource == "replicasets":
            rs = self._replicaset(namespace, name)
            return (200, rs) if rs is not None else (404, _status(404, f'replicasets.apps "{name}" not found', "NotFound"))
        with self._lock:
            current = self._deployments.get((namespace, name))
            current = copy.deepcopy(current) if current is not None else None
        if current is None:
            return 404, _status(404, f'deployments.apps "{name}" not found', "NotFound")
        if method == "GET":
            return 200, self._scale_of(current) if sub == "scale" else current
        if method != "PATCH":
            return 405, _status(405, f"the server does not allow this method on the requested resource ({method})")
        if content_type.split(";")[0].strip() not in _MERGE_TYPES:
            return 415, _status(415, f"the body of the request was in an unknown format - accepted media types "
                                     f"include: {', '.join(_MERGE_TYPES)}", "UnsupportedMediaType")
        try:
            patch = json.loads(body or b"{}")
        except ValueError as exc:
            return 400, _status(400, f"error decoding patch: {exc}", "BadRequest")
        if not isinstance(patch, dict):
            return 400, _status(400, "the patch is not a JSON object", "BadRequest")
        dry_run = query.get("dryRun", "") == "All"
        if sub == "scale":
            replicas = (patch.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
                return 422, _status(422, f'Scale.autoscaling "{name}" is invalid: spec.replicas: Invalid value: '
                                         f"{replicas!r}: must be greater than or equal to 0", "Invalid")
            updated = copy.deepcopy(current)
            updated["spec"]["replicas"] = replicas
        else:
            updated = _merge(current, {k: v for k, v in patch.items() if k in ("metadata", "spec")})
        if updated["spec"] != current["spec"]:
            updated["metadata"]["generation"] = current["metadata"]["generation"] + 1
        with self._lock:
            (self.dry_runs if dry_run else self.patches).append((namespace, name, sub, patch))
            if not dry_run:
                updated["metadata"]["resourceVersion"] = str(int(current["metadata"]["resourceVersion"]) + 1)
                updated["status"]["replicas"] = updated["spec"]["replicas"]
                self._deployments[(namespace, name)] = copy.deepcopy(updated)
        if not dry_run:
            restarted = _annotations(updated) != _annotations(current)
            self._reconcile(namespace, name, updated["spec"]["replicas"], replace_all=restarted)
        return 200, self._scale_of(updated) if sub == "scale" else updated

    def _reconcile(self, namespace: str, deployment: str, replicas: int, *, replace_all: bool) -> None:
        """What the controllers would do, at once: a restarted template replaces every pod;
        a new replica count adds or removes pods. The pods pane sees it through the watch."""
        prefix = f"{deployment}-{_TEMPLATE_HASH}"
        with self._lock:
            mine = sorted(name for (ns, name), pod in self._pods.items()     # type: ignore[attr-defined]
                          if ns == namespace and any(ref.get("name") == prefix for ref in
                                                     pod["metadata"].get("ownerReferences") or ()))
            containers = ([c["name"] for c in self._pods[(namespace, mine[0])]["spec"]["containers"]]  # type: ignore[attr-defined]
                          if mine else ["app"])
        keep = [] if replace_all else mine[:replicas]
        for name in mine:
            if name not in keep:
                self.delete_pod(namespace, name)          # type: ignore[attr-defined]
        for _ in range(replicas - len(keep)):
            self.add_pod(namespace, f"{prefix}-{uuid.uuid4().hex[:5]}", containers=containers,  # type: ignore[attr-defined]
                         owner=deployment, labels={"app": deployment})


def _annotations(deployment: dict) -> dict:
    return (deployment["spec"].get("template", {}).get("metadata") or {}).get("annotations") or {}


def encode(body: dict) -> bytes:
    return _DUMPS(body).encode()
