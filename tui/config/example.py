"""The example warroom.toml that ``warroom init`` writes (tests/test_config.py loads it with
every setting switched on).

Its defaults are not written here but rendered from where they are declared, the spec
dataclasses the loader fills (``checks.specs``, ``tui.incident.specs``): a line
``key = @`` in the template shows the default of that key of its section's spec, so a
changed default changes the example with it (tests/test_config_defaults.py).
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any

from checks.specs import AlertmanagerSpec, HostSpec, KubeSpec, MetricSpec, PrometheusSpec, RepoSpec, ServiceSpec
from tui.incident.specs import IncidentDefaults, NotifySpec

# Which spec holds the defaults of each section's keys.
SECTION_SPECS: dict[str, type] = {
    "incident": IncidentDefaults, "services": ServiceSpec, "host": HostSpec, "kubernetes": KubeSpec,
    "repos": RepoSpec, "notify": NotifySpec, "alertmanager": AlertmanagerSpec, "prometheus": PrometheusSpec,
    "metrics": MetricSpec,
}

# Lines like "#key = value" (no space after "#") are settings to switch on by
# deleting the "#"; "# text" lines explain. tests/test_config.py relies on that.
TEMPLATE = """\
# warroom.toml: what the warroom dashboard watches during an incident.
# Check it with:  warroom check-config warroom.toml
#
# Lines like "#key = value" are examples: delete the "#" to switch them on.
# The values shown are the defaults unless a comment says otherwise.
#
# In URLs, headers and paths, ${NAME} is replaced by the environment variable
# NAME (an error if it is not set), ${NAME:-fallback} falls back when it is
# unset, and $$ is a literal "$". Values taken from the environment, header
# values and notify URLs are secrets: never shown on screen or in exports.
# Relative paths start at this file's directory; "~" is your home directory.

# ---- Incident defaults, used when an incident is declared ------------------
[incident]
# Minutes between stakeholder updates, by severity (SEV1..SEV4). A severity
# that is left out (SEV4 by default) or set to 0 gets no update timer.
cadence_minutes = @
# Prompt the incident commander when this many minutes pass with no action,
# decision, mitigation or checklist progress.
escalate_after_minutes = @

# Replace a phase's built-in checklist. Phases: Triage, Mitigate, Investigate,
# Resolve, Verify, Postmortem.
#[incident.checklists]
#Triage = ["Confirm customer impact", "Page the owning team", "Open the incident channel"]

# ---- Service health checks: one [[services]] block per service -------------
# Each is polled over HTTP and shown as UP, DEGRADED (slow) or DOWN.
#[[services]]
#name = "payments"                          # required, unique
#url = "https://payments.internal/healthz"  # required, http:// or https://
#method = @
#interval = @                               # seconds between checks
#timeout = @                                # seconds before a check fails
#expect_status = [200, 204]                 # default "2xx"; ranges as [[200, 299]]
#degraded_ms = @                            # slower than this (ms) is DEGRADED
#fail_threshold = @                         # failures in a row before DOWN
#body_contains = "ok"                       # body must contain this (default: not checked)
#json_field = "status"                      # dotted path into a JSON body (default: none)
#json_equals = "UP"                         # the value json_field must have
#headers = { Authorization = "Bearer ${PAYMENTS_TOKEN}" }   # never shown
#verify = @                                 # TLS: true, false, or a CA bundle path
#follow_redirects = @

# ---- This machine: CPU, memory, disk and swap use --------------------------
[host]
cpu = @                 # [warn, critical] in percent
memory = @
disk = @                # applies to every mounted filesystem
swap = @
interval = @            # seconds between samples
top_processes = @       # busiest processes to list; 0 hides the list
top_interval = @        # seconds between process scans (every process is read; top(1) also uses 3)

# ---- Other hosts: their node_exporter, in the host pane ---------------------
# The machine on fire is rarely the one warroom runs on. Each block adds a host to
# the host pane (CPU, load, memory, swap, filesystems; the [host] thresholds), read
# from node_exporter's /metrics directly: no Prometheus server needed.
#[[hosts]]
#name = "db-1"                          # required, unique
#url = "http://db-1:9100/metrics"       # required
#headers = { Authorization = "Bearer ${NODE_TOKEN}" }   # never shown
#interval = 5                           # seconds between scrapes
#timeout = 3.0                          # seconds

# ---- Kubernetes pods: restarts and crash loops -----------------------------
# Without this section warroom uses your default kubeconfig, if you have one.
#[kubernetes]
#context = "prod-eu"                  # default: the kubeconfig's current context
#namespaces = ["payments", "edge"]    # default: the context's namespace; ["*"] for all
#kubeconfig = "~/.kube/config"        # default: $KUBECONFIG, else ~/.kube/config
#interval = @                         # seconds between pane refreshes
#enabled = @                          # false switches the pane off
#error_pattern = '(?i)\\b(error|fatal|panic|exception|oomkilled)\\b'   # log lines highlighted by l (pods)

# ---- Actions: commands run on the selected row (key X) ---------------------
# Built in for a pod owned by a Deployment: rollout restart and scale, through
# the Kubernetes API, each dry-run on the server first. Add your own: argv is a
# list of words, never given to a shell; ${pod}, ${namespace}, ${deployment}
# (pods pane), ${sha} (deploys), ${service} (health) are filled from the row,
# and a value Kubernetes or git would not allow as such a name is refused.
#[[actions]]
#name = "delete pod"                  # required, unique
#argv = ["kubectl", "delete", "pod", "-n", "${namespace}", "${pod}"]   # required
#pane = "pods"                        # pods, deploys or health
#kind = "mitigation"                  # the timeline entry's kind: action or mitigation
#confirm = "type"                     # type: type the pod's name to run; yes: answer yes

# ---- Recent deploys: one [[repos]] block per git repository ----------------
# Without any, warroom uses the current directory if it is a git repository.
#[[repos]]
#path = "~/src/payments"              # required
#branch = "main"                      # default: the checked-out branch
# ...or follow deploy tags instead of a branch (not both):  tags = "deploy-*"
#limit = @                            # deploys to list
#suspect_window_minutes = @           # deploys this recent are flagged as suspects
#fetch_interval = @                   # seconds between background `git fetch`; 0 = never
#interval = @                         # seconds between reads of the repository

# ---- Where `warroom update --post` sends status updates --------------------
#[[notify]]
#kind = "slack"                       # slack (incoming webhook) or json (POSTs the update as JSON)
#url = "${SLACK_WEBHOOK_URL}"         # required
#name = "slack"                       # label in messages; default: the kind
#timeout = @                          # seconds
#retries = @

# ---- The shared incident store: several machines, one timeline -------------
# Without it the incident lives in a SQLite file in the data directory (one
# machine). With it, everyone's warroom reads and writes one PostgreSQL server
# (README: "A war room on several machines"). The password: libpq's PGPASSWORD
# or ~/.pgpass, or in the URL from the environment, e.g.
# postgresql://warroom_app:${WARROOM_DB_PASSWORD}@db.internal/warroom
#[store]
#url = "postgresql://warroom_app@db.internal:5432/warroom?sslmode=verify-full"

# ---- Who you are -------------------------------------------------------------
# The author of what you log, and your name in the header's "here:" list on a
# shared store. --author and $WARROOM_AUTHOR come first; default: the login name.
#[user]
#name = "alice"

# ---- Alerts: what Alertmanager says is firing ------------------------------
# The alerts pane (grouped by alertname) appears only with this section.
#[alertmanager]
#url = "http://alertmanager:9093"     # required
#filter = ['team="payments"']         # Alertmanager matchers; default: every active alert
#headers = { Authorization = "Bearer ${AM_TOKEN}" }   # never shown
#interval = @                         # seconds between polls
#timeout = @                          # seconds

# ---- Metrics: PromQL queries against Prometheus ----------------------------
# The metrics pane appears with [prometheus] and at least one [[metrics]] block.
#[prometheus]
#url = "http://prometheus:9090"       # required
#headers = { Authorization = "Bearer ${PROM_TOKEN}" }
#interval = @                         # seconds between rounds
#timeout = @                          # seconds per query

#[[metrics]]
#name = "checkout 5xx"                # required, unique
#query = 'sum(rate(http_requests_total{job="checkout",code=~"5.."}[5m]))'   # required
#unit = "req/s"                       # also "%", "ms", "s", "bytes"
#warn = 0.5                           # default: none
#crit = 2                             # default: none
#better = @                           # above the thresholds is worse; "higher" flips it

# ---- Log files: error lines, for machines without Kubernetes ---------------
# One [[logs]] block per log: the logs pane shows its error lines per minute and
# the last ones (select with shift+up/down, p pins them to the timeline).
# Files are followed like tail -F (rotation and truncation too), never read whole.
#[[logs]]
#name = "api"                         # required, unique
#path = "/var/log/api/*.log"          # required: a file or a glob
#error_pattern = '(?i)\\b(error|fatal|panic|exception|critical)\\b'   # a Python regex
#interval = 1                         # seconds between reads
"""

_HEADER = re.compile(r"^#?\[\[?([\w.]+)\]\]?")
_DEFAULT = re.compile(r"^(#?)(\w+) = @( *)(.*)$")


def default_of(spec: type, key: str) -> Any:
    """The default the loader uses for ``key`` (a field of ``spec``)."""
    for f in dataclasses.fields(spec):
        if f.name == key:
            if f.default is not dataclasses.MISSING:
                return f.default
            if f.default_factory is not dataclasses.MISSING:
                return f.default_factory()
            break
    raise KeyError(f"{spec.__name__} has no default for {key!r}")


def toml_value(value: Any) -> str:
    """``value`` written as TOML, as a person would type it (5, not 5.0)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {value!r}")


def render(template: str, specs: dict[str, type] = SECTION_SPECS) -> str:
    """The template with every ``key = @`` replaced by that key's default, comments kept in their column."""
    section = None
    out = []
    for line in template.splitlines(keepends=True):
        header = _HEADER.match(line)
        if header:
            section = header[1]
        found = _DEFAULT.match(line.rstrip("\n"))
        if found and section in specs:
            comment, key, spaces, rest = found.groups()
            value = toml_value(default_of(specs[section], key))
            pad = " " * max(1, len(spaces) + 1 - len(value)) if rest else ""
            line = f"{comment}{key} = {value}{pad}{rest}" + ("\n" if line.endswith("\n") else "")
        out.append(line)
    return "".join(out)


EXAMPLE_CONFIG = render(TEMPLATE)
