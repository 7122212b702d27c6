"""A real Prometheus and Alertmanager for tests, on free loopback ports (Debian's packages).

:class:`PromStack` writes its own configuration into a temporary directory and starts:

* an exporter (:class:`Exporter`, a :class:`tests.servers.LocalHTTPServer`) whose gauge
  ``warroom_test_errors`` the test sets; Prometheus scrapes it every second;
* ``prometheus-alertmanager`` (no clustering, short group waits, a receiver that sends nothing);
* ``prometheus`` evaluating every second one alerting rule, ``WarroomTestErrors``
  (``warroom_test_errors > 5``, ``for: 0s``), sent to that Alertmanager at once.

The packages' own services are never used: ``make test`` installs the binaries only.
When the binaries are missing the fixture skips, except on CI (``CI=true``), where it fails:
there the Makefile must have installed them.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.servers import LocalHTTPServer

PROMETHEUS = "prometheus"
ALERTMANAGER = "prometheus-alertmanager"
ALERT_NAME = "WarroomTestErrors"
THRESHOLD = 5
START_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_binaries() -> None:
    missing = [b for b in (PROMETHEUS, ALERTMANAGER) if shutil.which(b) is None]
    if not missing:
        return
    why = f"{', '.join(missing)} not installed (make test installs Debian's prometheus, prometheus-alertmanager)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(why)
    pytest.skip(why)


def http_json(url: str, *, method: str = "GET", body: object = None, timeout: float = 5.0) -> object:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        return json.loads(answer.read() or b"null")


def wait_until(condition: Callable[[], object], timeout: float = START_TIMEOUT_S, what: str = "condition") -> object:
    """Poll ``condition`` (the servers give no push notification) until it is truthy."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = condition()
        except (OSError, ValueError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


class Exporter:
    """The scrape target: ``/metrics`` in Prometheus' text format with the value the test sets."""

    def __init__(self) -> None:
        self.value = 0.0
        self.server = LocalHTTPServer()
        self.server.route("/metrics", handler=self._metrics)

    def _metrics(self, handler) -> None:  # noqa: ANN001 - BaseHTTPRequestHandler
        body = (f"# TYPE warroom_test_errors gauge\nwarroom_test_errors{{team=\"payments\"}} {self.value}\n"
                f"# TYPE warroom_test_latency_ms gauge\nwarroom_test_latency_ms 42\n").encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "text/plain; version=0.0.4")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    def start(self) -> "Exporter":
        self.server.start()
        return self

    def close(self) -> None:
        self.server.close()


class PromStack:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.exporter = Exporter()
        self.am_port = free_port()
        self.prom_port = free_port()
        self.am: subprocess.Popen | None = None
        self.prom: subprocess.Popen | None = None

    @property
    def am_url(self) -> str:
        return f"http://127.0.0.1:{self.am_port}"

    @property
    def prom_url(self) -> str:
        return f"http://127.0.0.1:{self.prom_port}"

    def _write_configs(self) -> None:
        (self.dir / "alertmanager.yml").write_text(
            "route:\n  receiver: nowhere\n  group_by: [alertname]\n  group_wait: 1s\n"
            "  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: nowhere\n")
        (self.dir / "rules.yml").write_text(
            "groups:\n  - name: warroom-test\n    interval: 1s\n    rules:\n"
            f"      - alert: {ALERT_NAME}\n"
            f"        expr: warroom_test_errors > {THRESHOLD}\n"
            "        for: 0s\n"
            "        labels: {severity: critical}\n"
            "        annotations:\n"
            "          summary: 'checkout errors at {{ $value }}'\n"
            "          runbook_url: 'https://runbooks.example/errors'\n")
        (self.dir / "prometheus.yml").write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            f"rule_files: ['{self.dir / 'rules.yml'}']\n"
            "alerting:\n  alertmanagers:\n"
            f"    - static_configs: [{{targets: ['127.0.0.1:{self.am_port}']}}]\n"
            "scrape_configs:\n  - job_name: exporter\n"
            f"    static_configs: [{{targets: ['{self.exporter.target}']}}]\n")

    def _log(self, name: str):  # noqa: ANN202
        return open(self.dir / f"{name}.log", "ab")  # noqa: SIM115 - handed to Popen, closed by the OS at exit

    def start_alertmanager(self) -> None:
        self.am = subprocess.Popen(
            [ALERTMANAGER, f"--config.file={self.dir / 'alertmanager.yml'}",
             f"--storage.path={self.dir / 'am-data'}", f"--web.listen-address=127.0.0.1:{self.am_port}",
             "--cluster.listen-address=", "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=self._log("alertmanager"), start_new_session=True)
        self._ready(self.am_url, self.am, "alertmanager")

    def start_prometheus(self) -> None:
        self.prom = subprocess.Popen(
            [PROMETHEUS, f"--config.file={self.dir / 'prometheus.yml'}",
             f"--storage.tsdb.path={self.dir / 'prom-data'}", f"--web.listen-address=127.0.0.1:{self.prom_port}",
             "--rules.alert.resend-delay=1s", "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=self._log("prometheus"), start_new_session=True)
        self._ready(self.prom_url, self.prom, "prometheus")

    def _ready(self, url: str, process: subprocess.Popen, name: str) -> None:
        def ready() -> bool:
            if process.poll() is not None:
                log = (self.dir / f"{name}.log").read_text(errors="replace")[-2000:]
                raise AssertionError(f"{name} exited with {process.returncode}: {log}")
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as answer:
                    return answer.status == 200
            except (OSError, urllib.error.HTTPError):
                return False
        wait_until(ready, what=f"{name} to be ready")

    @staticmethod
    def _stop(process: subprocess.Popen | None) -> None:
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop_prometheus(self) -> None:
        self._stop(self.prom)

    def start(self) -> "PromStack":
        self.exporter.start()
        self._write_configs()
        self.start_alertmanager()
        self.start_prometheus()
        # Every test starts from a Prometheus that has the exporter's samples: with the suite on
        # several workers, a test can be a fresh stack's first and query before the first scrape.
        wait_until(lambda: self.query("warroom_test_errors") and self.query("warroom_test_latency_ms"),
                   what="Prometheus' first scrape of the exporter")
        return self

    def close(self) -> None:
        self._stop(self.prom)
        self._stop(self.am)
        self.exporter.close()

    # -- what the servers say, straight from their APIs

    def query(self, promql: str) -> list:
        from urllib.parse import quote

        answer = http_json(f"{self.prom_url}/api/v1/query?query={quote(promql)}")
        return answer["data"]["result"]  # type: ignore[index]

    def active_alerts(self, name: str = ALERT_NAME) -> list:
        alerts = http_json(f"{self.am_url}/api/v2/alerts?active=true&silenced=true&inhibited=true")
        return [a for a in alerts if a["labels"].get("alertname") == name]  # type: ignore[union-attr,index]

    def silences(self) -> list:
        return http_json(f"{self.am_url}/api/v2/silences")  # type: ignore[return-value]

    def expire_silences(self) -> None:
        for silence in self.silences():
            if silence["status"]["state"] != "expired":
                urllib.request.urlopen(urllib.request.Request(  # noqa: S310 - loopback
                    f"{self.am_url}/api/v2/silence/{silence['id']}", method="DELETE"), timeout=5).close()

    def scraped(self, value: float) -> bool:
        """Prometheus has the exporter's ``value`` as its latest sample."""
        result = self.query("warroom_test_errors")
        return bool(result) and float(result[0]["value"][1]) == value

    def fire(self) -> None:
        self.exporter.value = THRESHOLD * 4
        wait_until(lambda: self.active_alerts(), what="the alert to fire in the Alertmanager")

    def resolve(self) -> None:
        self.exporter.value = 0
        wait_until(lambda: not self.active_alerts(), what="the alert to resolve in the Alertmanager")


@pytest.fixture(scope="module")
def prom_stack(tmp_path_factory):
    require_binaries()
    stack = PromStack(tmp_path_factory.mktemp("promstack"))
    try:
        stack.start()
        yield stack
    finally:
        stack.close()
