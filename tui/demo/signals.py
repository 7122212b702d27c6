"""The demo's Alertmanager and Prometheus: one loopback HTTP server answering the few API
calls warroom makes, from the scenario clock, telling the same story as the services.

Payments' 503s (scenario 25-62 s) are ``PaymentsHigh5xx`` (critical) and a checkout 5xx
rate that climbs and comes back; the gateway slows with it (``CheckoutLatencyHigh`` on
two instances); search flaps (``SearchShardDown``, warning, 30-78 s in 6 s windows).
Before the scenario starts every metric is at its normal value, which is therefore the
baseline the metrics pane compares with.
"""
from __future__ import annotations

import json
import math
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from checks.specs import AlertmanagerSpec, MetricSpec, PrometheusSpec

from .hosts import NodeStandins, _ramp

MAX_POINTS = 11_000     # Prometheus' own limit on a range query's points


def _search_down(t: float) -> bool:
    return 30 <= t < 78 and int((t - 30) // 6) % 2 == 0


# name -> (query, unit, warn, crit, value at scenario second t)
METRICS: dict[str, tuple[str, str, float, float, Callable[[float], float]]] = {
    "checkout 5xx": ('sum(rate(http_requests_total{job="checkout",code=~"5.."}[1m]))', "req/s", 0.5, 2,
                     lambda t: _ramp(t, 25, 62, 0.04, 11.5)),
    "payments p99": ('histogram_quantile(0.99, sum by (le) (rate(payments_request_seconds_bucket[1m]))) * 1000',
                     "ms", 500, 1000, lambda t: 1100.0 if 15 <= t < 25 else _ramp(t, 25, 62, 180, 2300)),
    "gateway 5xx%": ('100 * sum(rate(gateway_errors_total[1m])) / sum(rate(gateway_requests_total[1m]))', "%",
                       1, 5, lambda t: _ramp(t, 25, 62, 0.2, 34)),
    "search up": ('min(up{job="search",shard="3"})', "", 1, 0.5,
                          lambda t: 0.0 if _search_down(t) else 1.0),
}
_BETTER_HIGHER = {"search up"}


def _alerts(t: float, started: datetime, speed: float) -> list[dict]:
    def at(second: float) -> str:
        moment = started.timestamp() + second / speed
        return datetime.fromtimestamp(moment, timezone.utc).isoformat().replace("+00:00", "Z")

    def alert(name: str, severity: str, since: float, summary: str, runbook: str, **labels: str) -> dict:
        return {"labels": {"alertname": name, "severity": severity, **labels}, "startsAt": at(since),
                "annotations": {"summary": summary, "runbook_url": f"https://runbooks.example/{runbook}",
                                "dashboard_url": "https://grafana.example/d/checkout"},
                "status": {"state": "active", "silencedBy": [], "inhibitedBy": []}}

    out = []
    if 27 <= t < 64:
        out.append(alert("PaymentsHigh5xx", "critical", 27, "payments 5xx ratio 38% (threshold 5%)",
                         "payments-5xx", team="payments", service="payments"))
    if 26 <= t < 63:
        for instance in ("api-gateway", "web"):
            out.append(alert("CheckoutLatencyHigh", "warning", 26, f"{instance} p99 above 250 ms",
                             "checkout-latency", team="payments", instance=instance))
    if _search_down(t):
        window = 30 + int((t - 30) // 12) * 12
        out.append(alert("SearchShardDown", "warning", window, "search shard 3 not responding", "search-shards",
                         team="search", shard="3"))
    return out


class SignalStandins:
    """Alertmanager (``/api/v2/alerts``, ``/api/v2/silences``) and Prometheus (``/api/v1/query``,
    ``/api/v1/query_range``) on one loopback port; the [[hosts]]' node_exporters too (``/node/<name>/metrics``)."""

    def __init__(self, clock: Callable[[], float], speed: float, started: datetime) -> None:
        self.clock, self.speed, self.started = clock, speed, started
        self.silences: list[dict] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # Scenario second 0 on the wall clock: range queries ask in Unix time.
        self._wall0 = time.time() - clock() / speed
        self.nodes = NodeStandins(clock)      # the [[hosts]]' node_exporters (tui/demo/hosts.py)

    def _t(self, unix: float) -> float:
        return (unix - self._wall0) * self.speed

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "SignalStandins":
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                owner._answer(self)

            do_POST = do_GET

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-signals", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def config(self, interval: float) -> dict:
        return {
            "alertmanager": AlertmanagerSpec(url=self.url, interval=max(0.5, interval)),
            "prometheus": PrometheusSpec(url=self.url, interval=max(0.5, interval * 2)),
            "metrics": tuple(MetricSpec(name=name, query=q, unit=unit, warn=warn, crit=crit,
                                        better="higher" if name in _BETTER_HIGHER else "lower")
                             for name, (q, unit, warn, crit, _) in METRICS.items()),
            "hosts": self.nodes.specs(self.url, interval),
        }

    # -- the API

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        if parts.path.startswith("/node/") and parts.path.endswith("/metrics"):
            text = self.nodes.metrics(parts.path[len("/node/"):-len("/metrics")])
            handler.send_response(404 if text is None else 200)
            handler.send_header("Content-Type", "text/plain; version=0.0.4")
            handler.send_header("Content-Length", str(len(text or b"")))
            handler.end_headers()
            handler.wfile.write(text or b"")
            return
        params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(min(length, 64 * 1024)) if length > 0 else b""
        answer: Any  # JSON: an object, or a list of them
        status, answer = 404, {"status": "error", "error": "not found"}
        if parts.path == "/api/v2/alerts":
            status, answer = 200, _alerts(self.clock(), self.started, self.speed)
            with self._lock:
                active = [s for s in self.silences if s["endsAt"] > time.time()]
            for alert in answer:
                if any(all(alert["labels"].get(m["name"]) == m["value"] for m in s["matchers"]) for s in active):
                    alert["status"] = {"state": "suppressed", "silencedBy": ["demo"], "inhibitedBy": []}
        elif parts.path == "/api/v2/silences" and handler.command == "POST":
            status, answer = self._silence(body)
        elif parts.path == "/api/v2/silences":
            with self._lock:
                status, answer = 200, [
                    {"id": s["id"], "comment": s["comment"], "endsAt": datetime.fromtimestamp(
                        s["endsAt"], timezone.utc).isoformat(),
                     "status": {"state": "active" if s["endsAt"] > time.time() else "expired"}}
                    for s in self.silences]
        elif parts.path in ("/api/v1/query", "/api/v1/query_range"):
            status, answer = self._query(parts.path.endswith("range"), params)
        data = json.dumps(answer).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _silence(self, body: bytes) -> tuple[int, object]:
        try:
            silence = json.loads(body)
            ends = datetime.fromisoformat(silence["endsAt"].replace("Z", "+00:00")).timestamp()
            matchers = [{"name": str(m["name"]), "value": str(m["value"])} for m in silence["matchers"]]
        except (ValueError, KeyError, TypeError, AttributeError):
            return 400, "bad silence"
        with self._lock:
            silence_id = f"demo-{len(self.silences) + 1}"
            self.silences.append({"id": silence_id, "endsAt": ends, "matchers": matchers,
                                  "comment": str(silence.get("comment", ""))})
        return 200, {"silenceID": silence_id}

    def _query(self, ranged: bool, params: dict) -> tuple[int, object]:
        query = params.get("query", "")
        series = next((m for m in METRICS.values() if m[0] == query), None)
        if series is None:
            return 400, {"status": "error", "errorType": "bad_data", "error": "the demo knows only its own queries"}
        value = series[4]
        try:
            if not ranged:
                moment = float(params.get("time") or time.time())
                return 200, {"status": "success", "data": {"resultType": "vector", "result": [
                    {"metric": {}, "value": [moment, repr(value(self._t(moment)))]}]}}
            start, end, step = float(params["start"]), float(params["end"]), float(params["step"])
        except (KeyError, ValueError):
            return 400, {"status": "error", "errorType": "bad_data", "error": "bad time or step"}
        if not step > 0 or not math.isfinite(start + end) or (end - start) / step > MAX_POINTS:
            return 400, {"status": "error", "errorType": "bad_data", "error": "exceeded maximum resolution"}
        points = [[start + i * step, repr(value(self._t(start + i * step)))]
                  for i in range(int((end - start) // step) + 1)]
        return 200, {"status": "success", "data": {"resultType": "matrix", "result": [{"metric": {}, "values": points}]}}
