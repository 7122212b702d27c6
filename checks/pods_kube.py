"""Kubernetes client plumbing for ``checks.pods``: kubeconfig, connection, errors, watch stream.

Kept apart from the source's thread loop so the wording of failures and the raw
stream handling sit in one place. ``kubernetes`` is imported lazily, inside ``_connect``
(which runs in the worker thread); nothing here imports it at module level.
"""

from __future__ import annotations

import json
import os
import random
import socket
from dataclasses import dataclass
from typing import Any, Iterator

from checks.pods_model import NO_KUBECONFIG
from checks.specs import KubeSpec

_BACKOFF_MIN = 0.5
_BACKOFF_MAX = 30.0


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


def _read_contexts(paths: list[str]) -> tuple[dict[str, dict[str, Any]], str | None]:
    """Contexts and current-context with kubectl's merge rules (the first file to
    define a name, or to set current-context, wins)."""
    import yaml

    contexts: dict[str, dict[str, Any]] = {}
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




class _StatusBody:
    """Lets an ERROR event's Status object go through the same wording as an ApiException."""

    def __init__(self, status: dict[str, Any]) -> None:
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
