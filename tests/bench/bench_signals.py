"""Alerts and metrics in the dashboard: 1,000 active alerts and 50 metric queries per round.

A stand-in Alertmanager + Prometheus runs in a child process (its CPU is not the
dashboard's): ``/api/v2/alerts`` answers 1,000 alerts in ~60 groups whose counts and
start times change every call (so the pane redraws every poll), and query ``q<i>``
(instant, range or baseline) answers after ``slowest_s * (i + 1) / n`` seconds.

Figures:
* key -> drawn (timeline movement keys) while both sources update: p99 <= 50 ms;
* a metrics round / its slowest query: <= 1.3;
* the dashboard's CPU at rest (no keys) with both configured, and without them, in
  the same run; and at rest with both configured where nothing changes between rounds
  (a second stand-in, ``--static``: the same 1,000 alerts and the same values every call,
  as between two rule evaluations), which is what a commander's laptop sees most of the time.

    python -m tests.bench --only signals
"""
from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

SIZE = (160, 48)


# --------------------------------------------------------------------------- the stand-in (child process)


def _alerts_body(n: int, call: int) -> bytes:
    alerts = []
    for i in range(n):
        group = i % 60
        alerts.append({
            "labels": {"alertname": f"Alert{group:02d}", "severity": ("critical", "warning", "info")[group % 3],
                       "instance": f"host-{i}", "team": "payments"},
            "annotations": {"summary": f"alert {i} summary, call {call}", "runbook_url": f"https://rb.example/{group}"},
            "startsAt": f"2026-12-03T09:{(i + call) % 60:02d}:00Z",
            "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
        })
    return json.dumps(alerts[: n - (call % 7)]).encode()   # the count changes too


def serve(port_file: str, alerts: int, metrics: int, slowest_s: float, static: bool = False) -> None:
    calls = [0]
    same = _alerts_body(alerts, 0) if static else b""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                target = head.split(b" ", 2)[1].decode()
                parts = urlsplit(target)
                if parts.path == "/api/v2/alerts":
                    calls[0] += 1
                    body = same if static else _alerts_body(alerts, calls[0])
                else:
                    query = parse_qs(parts.query).get("query", ["q0"])[0]
                    i = int(query[1:]) if query[1:].isdigit() else 0
                    await asyncio.sleep(slowest_s * (i + 1) / metrics)
                    now = time.time()
                    if parts.path.endswith("range"):
                        q = parse_qs(parts.query)
                        start, end, step = float(q["start"][0]), float(q["end"][0]), float(q["step"][0])
                        values = [[start + k * step, str(i if static else i + k % 5)]
                                  for k in range(int((end - start) // step) + 1)]
                        data = {"resultType": "matrix", "result": [{"metric": {}, "values": values}]}
                    else:
                        data = {"resultType": "vector", "result": [{"metric": {}, "value": [now, str(i)]}]}
                    body = json.dumps({"status": "success", "data": data}).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, IndexError, ValueError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        Path(port_file).write_text(str(server.sockets[0].getsockname()[1]))
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# --------------------------------------------------------------------------- the dashboard


async def _dashboard(url: str | None, metrics: int, presses: int, window_s: float, idle_s: float,
                     store_dir: Path) -> dict:
    from checks.specs import AlertmanagerSpec, HostSpec, KubeSpec, MetricSpec, PrometheusSpec
    from tests.bench.bench_ui import Frames, KeyProbe, LoopWatch, _key_figures, pct
    from tui.app import WarroomApp
    from tui.config import Config
    from tui.incident.model import Kind, Severity
    from tui.incident.store import Store
    from tui.sources import build_live

    signals = {} if url is None else {
        "alertmanager": AlertmanagerSpec(url=url, interval=1.0, timeout=10),
        "prometheus": PrometheusSpec(url=url, interval=2.0, timeout=10),
        "metrics": tuple(MetricSpec(name=f"metric {i}", query=f"q{i}", unit="ms", warn=30, crit=45)
                         for i in range(metrics)),
    }
    config = Config(host=HostSpec(interval=1.0), kubernetes=KubeSpec(enabled=False), **signals)
    store = Store(store_dir)
    incident = store.declare("bench: alerts and metrics", Severity.SEV2, author="bench")
    for i in range(200):
        store.append(incident.id, Kind.NOTE, f"note {i}",
                     author="bench")
    live = build_live(config, incident=incident, cwd=store_dir)
    app = WarroomApp(store, incident.id, sources=live.sources, panes=live.panes,
                     on_snapshot_hooks=live.hooks, config=config, author="bench")
    frames = Frames(app)
    probe = KeyProbe(app, frames)
    rng = random.Random(3)
    out: dict[str, Any] = {}
    try:
        async with app.run_test(size=SIZE, message_hook=probe.hook) as pilot:
            if url is not None:
                for _ in range(600):
                    if probe.snapshots.get("metrics") and probe.snapshots.get("alerts"):
                        break
                    await asyncio.sleep(0.1)
                first = len(probe.snapshots.get("metrics", []))
                watch = LoopWatch().start()
                drawn, handled = [], []
                start = time.perf_counter()
                i = 0
                while (len(drawn) < presses or len(probe.snapshots.get("metrics", [])) - first < 3) \
                        and time.perf_counter() - start < window_s:
                    await asyncio.sleep(rng.uniform(0.010, 0.040))
                    d, h = await probe.move(("down", "up")[i % 2])
                    drawn.append(d)
                    handled.append(h)
                    i += 1
                out.update(watch.stop())
                out.update(_key_figures(drawn, handled, probe.timeouts))
                rounds = [e for _, e in probe.snapshots.get("metrics", [])[first:]]
                out["alert_polls"] = len(probe.snapshots.get("alerts", []))
                out["metric_rounds"] = len(rounds)
                out["round_median_s"] = round(pct(rounds, 0.5), 3) if rounds else None
                out["round_max_s"] = round(max(rounds), 3) if rounds else None
                snap = app.screen._snapshots.get("alerts")
                out["alerts_shown"] = sum(g.count for g in snap.groups) if snap is not None else None
                metrics_snap = app.screen._snapshots.get("metrics")
                out["metric_errors"] = sum(1 for r in metrics_snap.rows if r.value is None) if metrics_snap else None
            await pilot.pause(2.0)
            cpu0, t0 = time.process_time(), time.perf_counter()
            await asyncio.sleep(idle_s)
            out["idle_cpu_pct"] = round(100 * (time.process_time() - cpu0) / (time.perf_counter() - t0), 2)
    finally:
        store.close()
    return out


def _stand_in(tmp: str, name: str, alerts: int, metrics: int, slowest_s: float,
              *flags: str) -> tuple[subprocess.Popen, str]:
    port_file = Path(tmp) / name
    proc = subprocess.Popen([sys.executable, "-m", "tests.bench.bench_signals", "--serve", str(port_file),
                             str(alerts), str(metrics), str(slowest_s), *flags])
    for _ in range(200):
        if port_file.exists() and port_file.read_text():
            break
        time.sleep(0.05)
    return proc, f"http://127.0.0.1:{port_file.read_text()}"


def run(alerts: int = 1000, metrics: int = 50, slowest_s: float = 0.5, presses: int = 150, window_s: float = 30.0,
        idle_s: float = 20.0) -> dict:
    from tests.bench.bench_ui import TARGET_ROUND_RATIO

    with tempfile.TemporaryDirectory(prefix="warroom-bench-signals-") as tmp:
        procs = []
        try:
            proc, url = _stand_in(tmp, "port", alerts, metrics, slowest_s)
            procs.append(proc)
            with_signals = asyncio.run(_dashboard(url, metrics, presses, window_s, idle_s, Path(tmp) / "a"))
            without = asyncio.run(_dashboard(None, metrics, 0, 0, idle_s, Path(tmp) / "b"))
            proc, url = _stand_in(tmp, "port-static", alerts, metrics, slowest_s, "--static")
            procs.append(proc)
            static = asyncio.run(_dashboard(url, metrics, 0, 0, idle_s, Path(tmp) / "c"))
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=10)
    ratio = (with_signals.get("round_median_s") or float("nan")) / slowest_s
    return {"alerts": alerts, "metrics": metrics, "slowest_s": slowest_s, **with_signals,
            "round_ratio": round(ratio, 3), "round_ok": ratio <= TARGET_ROUND_RATIO,
            "idle_cpu_pct_without": without["idle_cpu_pct"], "idle_cpu_pct_static": static["idle_cpu_pct"]}


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), static="--static" in sys.argv)
    else:
        print(json.dumps(run(**({"presses": 40, "window_s": 10.0, "idle_s": 5.0} if "--quick" in sys.argv else {})),
                         indent=2))
