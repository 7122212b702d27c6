"""A real node_exporter for tests: Debian's ``prometheus-node-exporter`` on a free loopback port.

Only the collectors the host pane reads are enabled (cpu, meminfo, loadavg, filesystem,
diskstats, netdev): the default set also walks systemd, hwmon and more, which is slow
in containers and not what is tested. When the binary is missing the fixture skips,
except on CI (``CI=true``), where it fails: there ``make alert-servers`` installs it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.promservers import free_port, wait_until

NODE_EXPORTER = "prometheus-node-exporter"
COLLECTORS = ("cpu", "meminfo", "loadavg", "filesystem", "diskstats", "netdev")


def require_node_exporter() -> None:
    if shutil.which(NODE_EXPORTER) is not None:
        return
    why = f"{NODE_EXPORTER} not installed (make alert-servers installs Debian's prometheus-node-exporter)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(why)
    pytest.skip(why)


class NodeExporter:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"

    def start(self) -> NodeExporter:
        args = [NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{self.port}", "--collector.disable-defaults",
                *(f"--collector.{c}" for c in COLLECTORS)]
        log = open(self.dir / "node_exporter.log", "ab")  # noqa: SIM115 - handed to Popen
        self.process = subprocess.Popen(args, stdout=log, stderr=log, start_new_session=True)
        log.close()

        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"node_exporter exited: {(self.dir / 'node_exporter.log').read_text()[-500:]}")
            with urllib.request.urlopen(self.url, timeout=2) as answer:
                return b"node_cpu_seconds_total" in answer.read()
        wait_until(ready, what="node_exporter's /metrics")
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.process = None


@pytest.fixture
def node_exporter(tmp_path: Path) -> Iterator[NodeExporter]:
    require_node_exporter()
    exporter = NodeExporter(tmp_path).start()
    try:
        yield exporter
    finally:
        exporter.stop()
