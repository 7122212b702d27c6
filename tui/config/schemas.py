"""The schema of every section: key -> parser (the number ranges are in ``values``).

The defaults themselves live on the spec dataclasses (``checks.specs``, ``tui.incident.specs``);
the numbers a message suggests are read from there too (timeouts excepted: their messages
have always quoted "2.0", and tests/test_config.py holds them to it)."""
from __future__ import annotations

from checks.specs import (
    AlertmanagerSpec,
    HostSpec,
    KubeSpec,
    LogSpec,
    PrometheusSpec,
    RepoSpec,
    ServiceSpec,
)
from tui.incident.specs import IncidentDefaults, NotifySpec

from .actions import ACTION_SCHEMA
from .fields import (
    _better,
    _cadence,
    _checklists,
    _error_pattern,
    _expect_status,
    _headers,
    _json_equals,
    _kubeconfig,
    _log_path,
    _matchers,
    _method,
    _namespaces,
    _node_url,
    _notify_kind,
    _notify_url,
    _repo_path,
    _server_url,
    _service_url,
    _store_url,
    _threshold,
    _unit,
    _user_name,
    _verify,
)
from .values import (
    MAX_INTERVAL_S,
    MAX_MINUTES,
    MAX_RETRIES,
    MAX_THRESHOLD,
    MAX_TIMEOUT_S,
    MIN_INTERVAL_S,
    _flag,
    _num,
    _Parser,
    _text,
)

_INCIDENT_SCHEMA: dict[str, _Parser] = {
    "cadence_minutes": _cadence,
    "escalate_after_minutes": _num(IncidentDefaults.escalate_after_minutes, 1, MAX_MINUTES, unit="min"),
    "checklists": _checklists,
}
_SERVICE_SCHEMA: dict[str, _Parser] = {
    "name": _text('"payments"'),
    "url": _service_url,
    "method": _method,
    "expect_status": _expect_status,
    "interval": _num(ServiceSpec.interval, MIN_INTERVAL_S, MAX_INTERVAL_S, unit="s"),
    "timeout": _num("2.0", 0.1, MAX_TIMEOUT_S, unit="s"),
    "degraded_ms": _num(ServiceSpec.degraded_ms, 0, MAX_TIMEOUT_S * 1000, unit="ms"),
    "fail_threshold": _num(ServiceSpec.fail_threshold, 1, 100, integer=True),
    "body_contains": _text('"ok"'),
    "json_field": _text('"status"'),
    "json_equals": _json_equals,
    "headers": _headers,
    "verify": _verify,
    "follow_redirects": _flag,
}
_HOST_SCHEMA: dict[str, _Parser] = {
    "cpu": _threshold(HostSpec.cpu),
    "memory": _threshold(HostSpec.memory),
    "disk": _threshold(HostSpec.disk),
    "swap": _threshold(HostSpec.swap),
    "interval": _num(HostSpec.interval, MIN_INTERVAL_S, MAX_INTERVAL_S, unit="s"),
    "top_processes": _num(HostSpec.top_processes, 0, 100, integer=True),
    "top_interval": _num(HostSpec.top_interval, 0, MAX_INTERVAL_S, unit="s"),
}
_KUBE_SCHEMA: dict[str, _Parser] = {
    "context": _text('"prod-eu"'),
    "namespaces": _namespaces,
    "kubeconfig": _kubeconfig,
    "interval": _num(KubeSpec.interval, MIN_INTERVAL_S, MAX_INTERVAL_S, unit="s"),
    "enabled": _flag,
    "error_pattern": _error_pattern,      # lines highlighted in the pod log viewer (`l`)
}
_REPO_SCHEMA: dict[str, _Parser] = {
    "path": _repo_path,
    "branch": _text('"main"'),
    "tags": _text('"deploy-*"'),
    "limit": _num(RepoSpec.limit, 1, 1000, integer=True),
    "suspect_window_minutes": _num(RepoSpec.suspect_window_minutes, 1, 30 * MAX_MINUTES, unit="min"),
    "fetch_interval": _num(RepoSpec.fetch_interval, 10, 24 * MAX_INTERVAL_S, unit="s", zero_off=True),
    "interval": _num(RepoSpec.interval, MIN_INTERVAL_S, MAX_INTERVAL_S, unit="s"),
}
_NOTIFY_SCHEMA: dict[str, _Parser] = {
    "kind": _notify_kind,
    "url": _notify_url,
    "name": _text('"slack"'),
    "timeout": _num("5.0", 0.1, MAX_TIMEOUT_S, unit="s"),
    "retries": _num(NotifySpec.retries, 0, MAX_RETRIES, integer=True),
}

_STORE_SCHEMA: dict[str, _Parser] = {"url": _store_url}
_USER_SCHEMA: dict[str, _Parser] = {"name": _user_name}

_ALERTMANAGER_SCHEMA: dict[str, _Parser] = {
    "url": _server_url,
    "filter": _matchers,
    "headers": _headers,
    "interval": _num(AlertmanagerSpec.interval, MIN_INTERVAL_S, MAX_INTERVAL_S, unit="s"),
    "timeout": _num("3.0", 0.1, MAX_TIMEOUT_S, unit="s"),
}
_PROMETHEUS_SCHEMA: dict[str, _Parser] = {
    "url": _server_url,
    "headers": _headers,
    "interval": _num(PrometheusSpec.interval, MIN_INTERVAL_S, MAX_INTERVAL_S, unit="s"),
    "timeout": _num("5.0", 0.1, MAX_TIMEOUT_S, unit="s"),
}
_METRIC_SCHEMA: dict[str, _Parser] = {
    "name": _text('"checkout 5xx"'),
    "query": _text("'sum(rate(http_requests_total{code=~\"5..\"}[5m]))'"),
    "unit": _unit,
    "warn": _num("0.5", -MAX_THRESHOLD, MAX_THRESHOLD),
    "crit": _num("2", -MAX_THRESHOLD, MAX_THRESHOLD),
    "better": _better,
}
_HOSTS_SCHEMA: dict[str, _Parser] = {
    "name": _text('"db-1"'),
    "url": _node_url,
    "headers": _headers,
    "interval": _num("5", MIN_INTERVAL_S, MAX_INTERVAL_S, unit="s"),
    "timeout": _num("3.0", 0.1, MAX_TIMEOUT_S, unit="s"),
}
_LOG_SCHEMA: dict[str, _Parser] = {
    "name": _text('"api"'),
    "path": _log_path,
    "error_pattern": _error_pattern,
    "interval": _num(LogSpec.interval, MIN_INTERVAL_S, MAX_INTERVAL_S, unit="s"),
}

# Section -> is it a list of [[blocks]]?
_SECTIONS = {"incident": False, "services": True, "host": False, "kubernetes": False, "repos": True, "notify": True,
             "store": False, "user": False, "alertmanager": False, "prometheus": False, "metrics": True, "logs": True,
             "hosts": True}
_SECTIONS["actions"] = True
_SECTION_KEYS = {
    "incident": _INCIDENT_SCHEMA, "services": _SERVICE_SCHEMA, "host": _HOST_SCHEMA,
    "kubernetes": _KUBE_SCHEMA, "repos": _REPO_SCHEMA, "notify": _NOTIFY_SCHEMA, "store": _STORE_SCHEMA,
    "user": _USER_SCHEMA,
    "alertmanager": _ALERTMANAGER_SCHEMA, "prometheus": _PROMETHEUS_SCHEMA, "metrics": _METRIC_SCHEMA,
    "logs": _LOG_SCHEMA, "hosts": _HOSTS_SCHEMA,
}
_SECTION_KEYS["actions"] = ACTION_SCHEMA


def _section_header(name: str) -> str:
    return f"[[{name}]]" if _SECTIONS[name] else f"[{name}]"
