"""The built-in actions on a pod's Deployment, through the Kubernetes API (never kubectl).

- rollout restart: what ``kubectl rollout restart`` does, a strategic-merge patch of the
  pod template's ``kubectl.kubernetes.io/restartedAt`` annotation;
- scale: a patch of the ``scale`` subresource's ``spec.replicas``.

Each is first sent as a server-side dry run (``dryRun=All``): the API server runs
admission and validation and answers with the object it would store, and that answer is
what the confirmation shows. Only then, confirmed, the same patch is sent for real.

Blocking calls: run them in a worker thread. ``kubernetes`` is imported there (in
``checks.pods_kube._connect``), never at module level.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from checks.actions import check_value
from checks.pods_kube import _connect, _describe_transport_error, _short, _SourceError, _status_message
from checks.specs import KubeSpec

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
MAX_REPLICAS = 1000          # what the scale prompt accepts: a typo of 10000 is refused, not tried
_PATCH_TYPE = "application/strategic-merge-patch+json"    # what kubectl sends


class KubeActionError(Exception):
    """The API said no, or could not be reached: ``str()`` is one line for the user."""


@dataclass(frozen=True)
class KubeOutcome:
    """What the server answered to one (dry-run or real) patch."""
    namespace: str
    deployment: str
    dry_run: bool
    summary: str                 # one line: what changes
    replicas: int | None = None
    generation: int | None = None


def restart_patch(at: datetime) -> dict[str, Any]:
    return {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: at.isoformat(timespec="seconds")}}}}}


def scale_patch(replicas: int) -> dict[str, Any]:
    return {"spec": {"replicas": replicas}}


def _api_error(exc: Any, what: str) -> KubeActionError:
    code = int(getattr(exc, "status", 0) or 0)
    message = _short(_status_message(exc)) or str(getattr(exc, "reason", "") or type(exc).__name__)
    return KubeActionError(f"{what}: {message} ({code})" if code else f"{what}: {message}")


class KubeActions:
    """One connection (the pods pane's context) for the built-in actions; use from one thread."""

    def __init__(self, spec: KubeSpec, context: str | None = None) -> None:
        self.spec = spec
        self.context = context
        self._conn: Any = None

    def _client(self) -> Any:
        if self._conn is None:
            try:
                self._conn = _connect(self.spec, self.context)
            except _SourceError as exc:
                raise KubeActionError(exc.words) from None
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            from checks.pods_kube import _close_client

            _close_client(self._conn.api_client)
            self._conn = None

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from kubernetes.client.exceptions import ApiException

        conn = self._client()
        try:
            return fn(*args, _request_timeout=10, **kwargs)
        except ApiException as exc:
            raise _api_error(exc, what) from None
        except Exception as exc:  # noqa: BLE001 - urllib3/socket failures, in words
            raise KubeActionError(f"{what}: {_describe_transport_error(exc, conn.server).words}") from None

    def _apps(self) -> Any:
        from kubernetes import client

        return client.AppsV1Api(self._client().api_client)

    def deployment_of(self, namespace: str, pod: str) -> str | None:
        """The Deployment that owns ``pod`` (pod -> its ReplicaSet -> that one's Deployment), or None."""
        core = self._client().api
        obj = self._call(f"reading pod {namespace}/{pod}", core.read_namespaced_pod, pod, namespace)
        rs = _controller(obj.metadata.owner_references)
        if rs is None or rs.kind != "ReplicaSet":
            return None
        replica_set = self._call(f"reading replicaset {namespace}/{rs.name}",
                                 self._apps().read_namespaced_replica_set, rs.name, namespace)
        owner = _controller(replica_set.metadata.owner_references)
        if owner is None or owner.kind != "Deployment" or check_value("deployment", owner.name) is not None:
            return None
        return str(owner.name)

    def restart(self, namespace: str, deployment: str, at: datetime, *, dry_run: bool) -> KubeOutcome:
        apps = self._apps()
        before = self._call(f"reading deployment {namespace}/{deployment}",
                            apps.read_namespaced_deployment, deployment, namespace)
        kwargs = {"dry_run": "All"} if dry_run else {}
        after = self._call(f"restarting deployment {namespace}/{deployment}", apps.patch_namespaced_deployment,
                           deployment, namespace, restart_patch(at), _content_type=_PATCH_TYPE, **kwargs)
        stamp = ((after.spec.template.metadata.annotations or {}).get(RESTARTED_AT)
                 if after.spec.template.metadata else None)
        gen_before, gen_after = before.metadata.generation, after.metadata.generation
        replicas = after.spec.replicas
        verb = "would restart" if dry_run else "restarting"
        summary = (f"{verb} all {replicas} pod(s) of deployment {namespace}/{deployment} "
                   f"(restartedAt={stamp}, generation {gen_before} → {gen_after})")
        return KubeOutcome(namespace, deployment, dry_run, summary, replicas=replicas, generation=gen_after)

    def scale(self, namespace: str, deployment: str, replicas: int, *, dry_run: bool) -> KubeOutcome:
        if not 0 <= replicas <= MAX_REPLICAS:
            raise KubeActionError(f"replicas must be between 0 and {MAX_REPLICAS}, got {replicas}")
        apps = self._apps()
        before = self._call(f"reading the scale of {namespace}/{deployment}",
                            apps.read_namespaced_deployment_scale, deployment, namespace)
        kwargs = {"dry_run": "All"} if dry_run else {}
        after = self._call(f"scaling deployment {namespace}/{deployment}", apps.patch_namespaced_deployment_scale,
                           deployment, namespace, scale_patch(replicas), _content_type=_PATCH_TYPE, **kwargs)
        verb = "would scale" if dry_run else "scaled"
        summary = f"{verb} deployment {namespace}/{deployment} from {before.spec.replicas} to {after.spec.replicas} replicas"
        return KubeOutcome(namespace, deployment, dry_run, summary, replicas=after.spec.replicas)


def _controller(refs: Any) -> Any:
    for ref in refs or ():
        if getattr(ref, "controller", False):
            return ref
    return None
