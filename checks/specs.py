"""Typed, frozen descriptions of what to watch, built by ``tui.config`` from warroom.toml.

They live here (not in tui/) because checks consume them and the dependency
direction is tui -> widgets -> checks. The incident's own settings ([incident],
[[notify]]) belong to the domain: ``tui.incident.specs``.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSpec:
    """One [[services]] health check, as configured."""
    name: str
    url: str
    method: str = "GET"
    # Accepted status codes as inclusive ranges: [200, 204] -> ((200,200),(204,204)); "2xx" -> ((200,299),)
    expect_status: tuple[tuple[int, int], ...] = ((200, 299),)
    interval: float = 5.0
    timeout: float = 2.0
    degraded_ms: float = 800.0
    fail_threshold: int = 2          # consecutive failures before DOWN (flap damping)
    body_contains: str | None = None
    json_field: str | None = None    # dotted path into a JSON body, e.g. "status" or "checks.db"
    json_equals: str | None = None   # expected value of json_field, compared as text
    headers: tuple[tuple[str, str], ...] = ()
    verify: bool | str = True        # True, False, or a CA bundle path
    follow_redirects: bool = False


@dataclass(frozen=True)
class HostSpec:
    """The [host] section: thresholds and sampling."""
    cpu: tuple[float, float] = (85.0, 95.0)      # warn, critical (%)
    memory: tuple[float, float] = (85.0, 95.0)
    disk: tuple[float, float] = (85.0, 95.0)
    swap: tuple[float, float] = (50.0, 80.0)
    interval: float = 1.0
    top_processes: int = 5
    top_interval: float = 3.0           # seconds between top-process scans (as top(1)); 0 = every poll


@dataclass(frozen=True)
class KubeSpec:
    """The [kubernetes] section: which cluster and namespaces."""
    context: str | None = None          # None: the kubeconfig's current context
    namespaces: tuple[str, ...] = ()    # (): the context's namespace; ("*",): all
    kubeconfig: str | None = None       # None: $KUBECONFIG, else ~/.kube/config
    interval: float = 1.0               # how often the pane re-renders from the watch cache
    enabled: bool = True
    error_pattern: str | None = None    # regex of log lines shown as errors in the pod log viewer


@dataclass(frozen=True)
class RepoSpec:
    """One [[repos]] repository whose recent deploys are shown."""
    path: str
    branch: str | None = None           # None and no tags: the checked-out branch
    tags: str | None = None             # glob, e.g. "deploy-*"
    limit: int = 15
    suspect_window_minutes: float = 120.0
    fetch_interval: float = 0.0         # seconds between background `git fetch`; 0 = off
    interval: float = 10.0


@dataclass(frozen=True)
class LogSpec:
    """One [[logs]] file (or glob) followed for error lines, for machines without Kubernetes."""
    name: str
    path: str                           # absolute; may be a glob ("/var/log/app/*.log")
    error_pattern: str = r"(?i)\b(?:error|fatal|panic|exception|critical)\b"
    interval: float = 1.0


@dataclass(frozen=True)
class AlertmanagerSpec:
    """The [alertmanager] section: whose active alerts the alerts pane shows."""
    url: str
    filter: tuple[str, ...] = ()        # Alertmanager matchers, e.g. 'team="payments"'; (): all alerts
    headers: tuple[tuple[str, str], ...] = ()
    interval: float = 5.0
    timeout: float = 3.0


@dataclass(frozen=True)
class PrometheusSpec:
    """The [prometheus] section: the server the [[metrics]] queries go to."""
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    interval: float = 15.0
    timeout: float = 5.0


@dataclass(frozen=True)
class MetricSpec:
    """One [[metrics]] row: a PromQL query and the thresholds its value is judged by."""
    name: str
    query: str
    unit: str = ""                      # "", "%", "ms", "s", "bytes", or any short label ("req/s")
    warn: float | None = None
    crit: float | None = None
    better: str = "lower"               # "lower": above a threshold is worse; "higher" flips it


@dataclass(frozen=True)
class RemoteHostSpec:
    """One [[hosts]] machine, read from its node_exporter's ``/metrics`` (judged by the [host] thresholds)."""
    name: str
    url: str                            # e.g. "http://db-1:9100/metrics"
    headers: tuple[tuple[str, str], ...] = ()
    interval: float = 5.0
    timeout: float = 3.0
