"""Benchmark: what the dashboard costs while nothing happens (targets: CPU <= 2 % of one
core, RSS <= 150 MB).

The real ``warroom`` process (``python -m tui.cli --config ... --data-dir ...``) runs
under a pseudo-terminal at 160x48 against a small live world: 20 services polled
every 5 s (local HTTP server), the host every 1 s, a pod watch against the
Kubernetes API stand-in (50 pods) and one git repository. The incident is declared
first with the CLI. After a warm-up, psutil samples the process and its children:
CPU = (user + system, children included) over the window / window length; RSS is
sampled once a second (median and max reported).

``warroom demo`` is measured the same way; its simulated services, stand-in and
scenario run inside the app's process, so its CPU includes them. glances is
measured for comparison when it is installed.

The HTTP server and the stand-in run in this (the bench's) process, so they are
not billed to the dashboard.

    python -m tests.bench.bench_idle [--seconds N] [--warmup N]
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections import deque
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psutil

TARGET_CPU_PCT = 2.0
TARGET_RSS_MB = 150.0
COLS, ROWS = 160, 48
ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- a TTY app


class PtyApp:
    """A command run on a fresh pseudo-terminal (COLS x ROWS) as its controlling TTY.

    Its output is drained continuously (a full PTY buffer would stall the app) and
    the last 64 KiB are kept for error messages.
    """

    def __init__(self, argv: list[str], *, env: dict[str, str] | None = None, cwd: str | Path | None = None) -> None:
        self.argv = argv
        self.env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(COLS), "LINES": str(ROWS),
                    **(env or {})}
        self.env.pop("TEXTUAL", None)   # no devtools
        self.cwd = str(cwd or ROOT)
        self.proc: subprocess.Popen | None = None
        self._master = -1
        self._out: deque[bytes] = deque()
        self._out_len = 0
        self.bytes_out = 0
        self._reader: threading.Thread | None = None

    def __enter__(self) -> "PtyApp":
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))

        def become_session_leader() -> None:
            # The PTY becomes the controlling terminal, as under a real terminal emulator.
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        try:
            self.proc = subprocess.Popen(self.argv, stdin=slave, stdout=slave, stderr=slave, env=self.env,
                                         cwd=self.cwd, preexec_fn=become_session_leader, close_fds=True)
        finally:
            os.close(slave)
        self._master = master
        self._reader = threading.Thread(target=self._drain, name="pty-drain", daemon=True)
        self._reader.start()
        return self

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self._master, 65536)
            except OSError:
                return
            if not data:
                return
            self.bytes_out += len(data)
            self._out.append(data)
            self._out_len += len(data)
            while self._out_len > 65536 and len(self._out) > 1:
                self._out_len -= len(self._out.popleft())

    def output(self) -> str:
        return b"".join(self._out).decode("utf-8", errors="replace")

    def tail(self, chars: int = 400) -> str:
        import re

        text = re.sub(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][A-Za-z0-9]|\x1b[=>]|\x1b\][^\x07]*\x07", " ",
                      self.output())
        return " ".join(text.split())[-chars:]

    def write(self, data: bytes) -> None:
        os.write(self._master, data)

    def wait_exit(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def __exit__(self, *exc: object) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            try:
                self.write(b"\x11")          # ctrl+q: the app quits the way a user quits it
            except OSError:
                pass
            if self.wait_exit(10) is None:
                proc.send_signal(signal.SIGTERM)
                if self.wait_exit(10) is None:
                    proc.kill()
                    proc.wait(timeout=10)
        if self._master >= 0:
            os.close(self._master)
            self._master = -1
        if self._reader is not None:
            self._reader.join(timeout=2)


# --------------------------------------------------------------------------- the live world


def quiet(standin: Any) -> Any:
    """The stand-in's HTTP server prints a traceback whenever a client drops a watch
    (every time an app quits): noise in the bench output, so it is silenced."""
    server = getattr(standin, "_server", None)
    if server is not None:
        server.handle_error = lambda request, client_address: None
    return standin


class LiveWorld:
    """20 HTTP services, the stand-in with ~50 pods, one git repo, a warroom.toml, and an
    incident declared with the CLI. ``config_path`` / ``data_dir`` are for ``warroom``."""

    def __init__(self, services: int = 20, service_interval: float = 5.0, pods: int = 50) -> None:
        self.n_services = services
        self.service_interval = service_interval
        self.n_pods = pods
        self._tmp: tempfile.TemporaryDirectory | None = None
        self.http = None
        self.standin = None

    def __enter__(self) -> "LiveWorld":
        from tests.gitrepos import commit, init_repo, tag
        from tests.servers import LocalHTTPServer
        from tui.demo.kubeapi_standin import KubeApiStandin

        self._tmp = tempfile.TemporaryDirectory(prefix="warroom-bench-idle-")
        root = Path(self._tmp.name)
        try:
            self.http = LocalHTTPServer().start()
            for i in range(self.n_services):
                self.http.route(f"/svc{i:02d}/healthz", status=200, body=b'{"status": "ok"}',
                                headers={"Content-Type": "application/json"})
            self.standin = quiet(KubeApiStandin().start())
            now = datetime.now(timezone.utc)
            for i in range(self.n_pods):
                self.standin.add_pod(("payments", "edge", "data")[i % 3], f"app-{i:03d}-x7k2p",
                                     containers=("app", "proxy") if i % 2 else ("app",),
                                     created=now - timedelta(hours=i))
            kubeconfig = self.standin.write_kubeconfig(root / "kubeconfig")
            repo = init_repo(root / "payments")
            for days, subject in ((3, "Add card-token client"), (1, "deploy payments v2.3.0"),
                                  (0.01, "deploy payments v2.3.1")):
                commit(repo, subject, now - timedelta(days=days))
            tag(repo, "deploy-payments-v2.3.1")
            self.data_dir = root / "data"
            self.config_path = root / "warroom.toml"
            self.config_path.write_text(self._toml(kubeconfig, repo), encoding="utf-8")
            self.cli("declare", "--title", "bench: idle dashboard", "--sev", "2", "--author", "bench")
        except BaseException:
            self.__exit__()
            raise
        return self

    def _toml(self, kubeconfig: str, repo: Path) -> str:
        lines = []
        for i in range(self.n_services):
            lines += ["[[services]]", f'name = "svc-{i:02d}"', f'url = "{self.http.url(f"/svc{i:02d}/healthz")}"',
                      f"interval = {self.service_interval}", 'json_field = "status"', 'json_equals = "ok"', ""]
        lines += ["[host]", "interval = 1", "",
                  "[kubernetes]", f"kubeconfig = {json.dumps(str(kubeconfig))}", 'namespaces = ["*"]', "",
                  "[[repos]]", f"path = {json.dumps(str(repo))}", 'branch = "main"', ""]
        return "\n".join(lines)

    def command(self, *extra: str) -> list[str]:
        return [sys.executable, "-m", "tui.cli", "--config", str(self.config_path),
                "--data-dir", str(self.data_dir), *extra]

    def cli(self, *args: str) -> str:
        out = subprocess.run(self.command(*args), capture_output=True, text=True, cwd=str(ROOT), timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"warroom {' '.join(args)} failed: {out.stderr.strip()}")
        return out.stdout

    def __exit__(self, *exc: object) -> None:
        if self.standin is not None:
            self.standin.stop()
            self.standin = None
        if self.http is not None:
            self.http.close()
            self.http = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


# --------------------------------------------------------------------------- measuring


def _tree(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return [proc]


def _cpu_s(proc: psutil.Process) -> float:
    """CPU seconds of the process, its reaped children and its live children."""
    total = 0.0
    for i, p in enumerate(_tree(proc)):
        try:
            t = p.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system
        if i == 0:
            total += t.children_user + t.children_system
    return total


def _rss_mb(proc: psutil.Process) -> float:
    total = 0
    for p in _tree(proc):
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total / (1024 * 1024)


def measure(argv: list[str], *, seconds: float, warmup: float, expect: str | None = None,
            env: dict[str, str] | None = None) -> dict:
    """Run ``argv`` on a PTY; after ``warmup`` s, CPU and RSS over ``seconds`` s."""
    with PtyApp(argv, env=env) as app:
        proc = psutil.Process(app.proc.pid)
        deadline = time.monotonic() + warmup
        while time.monotonic() < deadline:
            if app.proc.poll() is not None:
                raise RuntimeError(f"exited with {app.proc.returncode} during warm-up: {app.tail()}")
            time.sleep(0.2)
        rss: list[float] = []
        c0, t0 = _cpu_s(proc), time.monotonic()
        while True:
            rss.append(_rss_mb(proc))
            left = t0 + seconds - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(1.0, left))
            if app.proc.poll() is not None:
                raise RuntimeError(f"exited with {app.proc.returncode} while measured: {app.tail()}")
        c1, t1 = _cpu_s(proc), time.monotonic()
        screen = app.output()
        threads = proc.num_threads()
    cpu_pct = (c1 - c0) / (t1 - t0) * 100
    result = {
        "window_s": round(t1 - t0, 1),
        "cpu_pct": round(cpu_pct, 2),
        "rss_median_mb": round(statistics.median(rss), 1),
        "rss_max_mb": round(max(rss), 1),
        "threads": threads,
    }
    if expect is not None:
        # A crude check that the screen really showed the live panes (not an error page).
        result["screen_ok"] = expect in screen
    return result


def _verdict(r: dict) -> dict:
    r["cpu_ok"] = r["cpu_pct"] <= TARGET_CPU_PCT
    r["rss_ok"] = r["rss_max_mb"] <= TARGET_RSS_MB
    return r


def run(seconds: float = 60.0, warmup: float = 10.0, *, demo: bool = True, glances: bool = True) -> dict:
    out: dict[str, Any] = {"cpus": os.cpu_count(), "targets": {"cpu_pct": TARGET_CPU_PCT, "rss_mb": TARGET_RSS_MB}}
    with LiveWorld() as world:
        out["dashboard"] = _verdict(measure(world.command(), seconds=seconds, warmup=warmup, expect="svc-"))
        out["dashboard"]["config"] = (f"{world.n_services} services every {world.service_interval:g} s, host 1 s, "
                                      f"pod watch ({world.n_pods} pods), 1 repo")
    if demo:
        with tempfile.TemporaryDirectory(prefix="warroom-bench-idle-demo-") as tmp:
            # The demo scenario runs ~2 min of scripted events: measured while they play.
            r = measure([sys.executable, "-m", "tui.cli", "demo", "--data-dir", str(Path(tmp) / "data")],
                        seconds=seconds, warmup=warmup, expect="payments")
            r["note"] = "includes the demo's own HTTP services, API stand-in and scenario (in-process)"
            out["demo"] = _verdict(r)
    if glances:
        beside = Path(sys.executable).parent / "glances"   # `make bench` installs it in the venv
        exe = str(beside) if beside.exists() else shutil.which("glances")
        if exe is None:
            print("glances not installed (pip install -e '.[bench]')", file=sys.stderr)
            out["glances"] = {"skipped": "glances not installed"}
        else:
            out["glances"] = measure([exe, "-t", "1"], seconds=seconds, warmup=warmup, expect="CPU")
            out["glances"]["note"] = "glances -t 1, the peer reference (refreshes every 1 s)"
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_idle")
    parser.add_argument("--seconds", type=float, default=60.0, help="measuring window (default 60)")
    parser.add_argument("--warmup", type=float, default=10.0, help="warm-up before measuring (default 10)")
    parser.add_argument("--no-demo", action="store_true")
    args = parser.parse_args(argv)
    r = run(args.seconds, args.warmup, demo=not args.no_demo)
    print(json.dumps(r, indent=2))
    ok = all(r[k]["cpu_ok"] and r[k]["rss_ok"] for k in ("dashboard",))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
