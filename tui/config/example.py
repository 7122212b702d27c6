"""The example warroom.toml that ``warroom init`` writes (tests/test_config.py loads it with
every setting switched on)."""

# Lines like "#key = value" (no space after "#") are settings to switch on by
# deleting the "#"; "# text" lines explain. tests/test_config.py relies on that.
EXAMPLE_CONFIG = """\
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
cadence_minutes = { SEV1 = 15, SEV2 = 30, SEV3 = 60 }
# Prompt the incident commander when this many minutes pass with no action,
# decision, mitigation or checklist progress.
escalate_after_minutes = 30

# Replace a phase's built-in checklist. Phases: Triage, Mitigate, Investigate,
# Resolve, Verify, Postmortem.
#[incident.checklists]
#Triage = ["Confirm customer impact", "Page the owning team", "Open the incident channel"]

# ---- Service health checks: one [[services]] block per service -------------
# Each is polled over HTTP and shown as UP, DEGRADED (slow) or DOWN.
#[[services]]
#name = "payments"                          # required, unique
#url = "https://payments.internal/healthz"  # required, http:// or https://
#method = "GET"
#interval = 5                               # seconds between checks
#timeout = 2.0                              # seconds before a check fails
#expect_status = [200, 204]                 # default "2xx"; ranges as [[200, 299]]
#degraded_ms = 800                          # slower than this (ms) is DEGRADED
#fail_threshold = 2                         # failures in a row before DOWN
#body_contains = "ok"                       # body must contain this (default: not checked)
#json_field = "status"                      # dotted path into a JSON body (default: none)
#json_equals = "UP"                         # the value json_field must have
#headers = { Authorization = "Bearer ${PAYMENTS_TOKEN}" }   # never shown
#verify = true                              # TLS: true, false, or a CA bundle path
#follow_redirects = false

# ---- This machine: CPU, memory, disk and swap use --------------------------
[host]
cpu = [85, 95]          # [warn, critical] in percent
memory = [85, 95]
disk = [85, 95]         # applies to every mounted filesystem
swap = [50, 80]
interval = 1            # seconds between samples
top_processes = 5       # busiest processes to list; 0 hides the list
top_interval = 3        # seconds between process scans (every process is read; top(1) also uses 3)

# ---- Kubernetes pods: restarts and crash loops -----------------------------
# Without this section warroom uses your default kubeconfig, if you have one.
#[kubernetes]
#context = "prod-eu"                  # default: the kubeconfig's current context
#namespaces = ["payments", "edge"]    # default: the context's namespace; ["*"] for all
#kubeconfig = "~/.kube/config"        # default: $KUBECONFIG, else ~/.kube/config
#interval = 1                         # seconds between pane refreshes
#enabled = true                       # false switches the pane off

# ---- Recent deploys: one [[repos]] block per git repository ----------------
# Without any, warroom uses the current directory if it is a git repository.
#[[repos]]
#path = "~/src/payments"              # required
#branch = "main"                      # default: the checked-out branch
# ...or follow deploy tags instead of a branch (not both):  tags = "deploy-*"
#limit = 15                           # deploys to list
#suspect_window_minutes = 120         # deploys this recent are flagged as suspects
#fetch_interval = 0                   # seconds between background `git fetch`; 0 = never
#interval = 10                        # seconds between reads of the repository

# ---- Where `warroom update --post` sends status updates --------------------
#[[notify]]
#kind = "slack"                       # slack (incoming webhook) or json (POSTs the update as JSON)
#url = "${SLACK_WEBHOOK_URL}"         # required
#name = "slack"                       # label in messages; default: the kind
#timeout = 5.0                        # seconds
#retries = 2

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
#interval = 5                         # seconds between polls
#timeout = 3.0                        # seconds

# ---- Metrics: PromQL queries against Prometheus ----------------------------
# The metrics pane appears with [prometheus] and at least one [[metrics]] block.
#[prometheus]
#url = "http://prometheus:9090"       # required
#headers = { Authorization = "Bearer ${PROM_TOKEN}" }
#interval = 15                        # seconds between rounds
#timeout = 5.0                        # seconds per query

#[[metrics]]
#name = "checkout 5xx"                # required, unique
#query = 'sum(rate(http_requests_total{job="checkout",code=~"5.."}[5m]))'   # required
#unit = "req/s"                       # also "%", "ms", "s", "bytes"
#warn = 0.5                           # default: none
#crit = 2                             # default: none
#better = "lower"                     # above the thresholds is worse; "higher" flips it
"""
