"""Following a log that grows by 5,000 lines a second: memory stays bounded and keys stay quick.

Two scenarios, each the real ``WarroomApp`` headless at 160x48:

* ``pod``  - ``l`` on a pod in the pods pane: the log viewer follows the container's log
  through the real kubernetes client (``follow=true``) from the API stand-in, which runs in
  a child process writing ``rate`` lines a second to that container's log.
* ``file`` - a ``[[logs]]`` entry on a file a child process appends ``rate`` lines a second
  to (one in ten an error line), rotated (renamed, re-created) every 5 s; the logs pane has
  the focus.

Meanwhile keys are sent through the driver as a terminal would (10-40 ms apart): cursor
moves in the log (up, down, PgUp, End...) and, in the viewer, ``/`` and a filter typed
letter by letter then dropped with Esc. Key -> drawn is measured as bench_ui does: until the
end of the first frame drawn after the key was handled (``Frames``). Memory: the process's
RSS after a warm-up and at the end of the window, and the lines each layer keeps (capped).

    python -m tests.bench.bench_logs [--quick]
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from tests.bench.bench_ui import SIZE, TARGET_KEY_P99_MS, Frames, KeyProbe, LoopWatch, ms_stats

ROOT = Path(__file__).resolve().parents[2]
TARGET_RSS_GROWTH_MB = 50.0


# --------------------------------------------------------------------------- the writer (child process)

def _writer_main() -> None:
    """Child: "pod KUBECONFIG RATE" serves a stand-in whose pod shop/api-1 logs RATE lines/s;
    "file PATH RATE" appends RATE lines/s to PATH, rotating every 5 s. Stops when stdin closes."""
    import threading

    mode, where, rate = sys.argv[1], sys.argv[2], float(sys.argv[3])
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    written = 0

    def lines(n: int) -> list[str]:
        nonlocal written
        out = [f"2026-12-03T14:00:00Z {'ERROR upstream timeout' if (written + i) % 10 == 0 else 'GET /cart 200'} "
               f"req={written + i} took={((written + i) * 7) % 900}ms" for i in range(n)]
        written += n
        return out

    def paced(emit: Any) -> None:
        start = time.monotonic()
        while not stop.is_set():
            due = int((time.monotonic() - start) * rate) - written
            if due > 0:
                emit(lines(due))
            time.sleep(0.01)

    if mode == "pod":
        from tui.demo.kubeapi_standin import KubeApiStandin

        with KubeApiStandin() as standin:
            standin.add_pod("shop", "api-1")
            standin.write_log("shop", "api-1", "listening on :8080")
            standin.write_kubeconfig(Path(where), namespace="shop")
            print("ready", flush=True)
            paced(lambda batch: standin.write_log("shop", "api-1", *batch))
        return
    path = Path(where)
    path.write_text("start\n", encoding="utf-8")
    print("ready", flush=True)
    rotated = [time.monotonic()]

    def append(batch: list[str]) -> None:
        if time.monotonic() - rotated[0] >= 5.0:
            os.replace(path, path.with_name(path.name + ".1"))
            rotated[0] = time.monotonic()
        with open(path, "a", encoding="utf-8") as f:
            f.write("\n".join(batch) + "\n")

    paced(append)


@contextmanager
def _writer(mode: str, where: Path, rate: float) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen([sys.executable, "-c", "from tests.bench.bench_logs import _writer_main; _writer_main()",
                             mode, str(where), str(rate)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            cwd=str(ROOT))
    try:
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the {mode} log writer did not start")
        yield proc
    finally:
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


# --------------------------------------------------------------------------- the app side

def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 1e6


class _Handled:
    """Counts the key actions the log widget has handled (wraps LogLines._go on the instance)."""

    def __init__(self, widget: Any) -> None:
        self.count = 0
        original = widget._go

        def go(index: int) -> None:
            original(index)
            self.count += 1

        widget._go = go


async def _wait(predicate: Any, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def _press_keys(probe: KeyProbe, widget: Any, seconds: float, rng: random.Random,
                      filter_keys: bool, per_kind: dict[str, list[float]]) -> tuple[list[float], int]:
    handled = _Handled(widget)
    moves = ["up"] * 4 + ["pageup", "down", "down", "pagedown", "end", "up", "home", "end"]
    drawn: list[float] = []
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline:
        await asyncio.sleep(rng.uniform(0.010, 0.040))
        if filter_keys and i % 40 == 39:
            # "/", a filter typed letter by letter, Esc: each drawn once the filter shows it.
            screen = probe.app.screen
            field = screen.query_one("#pod-log-filter")
            d, _ = await probe.until_drawn("slash", lambda f=field: f.has_focus)
            drawn.append(d)
            per_kind.setdefault("filter", []).append(d)
            typed = ""
            for ch in "error":
                typed += ch
                d, _ = await probe.until_drawn(ch, lambda t=typed: widget.filter_text == t)
                drawn.append(d)
                per_kind.setdefault("filter", []).append(d)
                await asyncio.sleep(rng.uniform(0.010, 0.040))
            d, _ = await probe.until_drawn("escape", lambda: widget.filter_text == "" and widget.has_focus)
            drawn.append(d)
            per_kind.setdefault("filter", []).append(d)
        else:
            before = handled.count
            key = moves[i % len(moves)]
            d, _ = await probe.until_drawn(key, lambda b=before: handled.count > b)
            drawn.append(d)
            per_kind.setdefault("move", []).append(d)
        i += 1
    return drawn, probe.timeouts


async def _scenario(mode: str, tmp: Path, rate: float, seconds: float, warmup: float) -> dict:
    from checks.specs import HostSpec, KubeSpec, LogSpec, RepoSpec
    from tui.app import WarroomApp
    from tui.config import Config
    from tui.incident.model import Severity
    from tui.incident.store import Store
    from tui.sources import build_panes, build_sources
    from widgets.log_lines import LogLines

    where = tmp / ("kubeconfig" if mode == "pod" else "api.log")
    with _writer(mode, where, rate), Store(tmp / f"data-{mode}") as store:
        if mode == "pod":
            config = Config(host=HostSpec(interval=5), repos=(RepoSpec(path=str(tmp), interval=30),),
                            kubernetes=KubeSpec(kubeconfig=str(where), interval=1.0))
        else:
            config = Config(host=HostSpec(interval=5), repos=(RepoSpec(path=str(tmp), interval=30),),
                            kubernetes=KubeSpec(enabled=False),
                            logs=(LogSpec(name="api", path=str(tmp / "api.log*"), interval=0.5),))
        incident = store.declare("bench", Severity.SEV2, author="bench")
        app = WarroomApp(store, incident.id, panes=build_panes(config), config=config, author="bench",
                         sources_later=lambda: build_sources(config, incident=incident))
        result: dict[str, Any] = {"mode": mode, "rate": rate, "seconds": seconds}
        async with app.run_test(size=SIZE) as pilot:
            frames = Frames(app)
            probe = KeyProbe(app, frames)
            if mode == "pod":
                pane = app.panes["pods"]
                if not await _wait(lambda: pane.selected_key is not None):
                    return {**result, "error": "the pods pane never showed the pod"}
                pane.table.focus()
                await pilot.press("l")
                if not await _wait(lambda: app.screen.__class__.__name__ == "PodLogScreen"):
                    return {**result, "error": "l did not open the log viewer"}
                widget = app.screen.query_one(LogLines)
                stream = app.screen.stream
                keep = stream.lines.maxlen
            else:
                pane = app.panes["logs"]
                widget = pane.lines
                if not await _wait(lambda: widget.count > 0):
                    return {**result, "error": "the logs pane never showed an error line"}
                widget.focus()
                stream = None
                keep = widget.keep
            await asyncio.sleep(warmup)
            rss_start = _rss_mb()
            received_start = stream.total if stream is not None else widget.total
            watch = LoopWatch().start()
            per_kind: dict[str, list[float]] = {}
            drawn, timeouts = await _press_keys(probe, widget, seconds, random.Random(7), filter_keys=mode == "pod",
                                                per_kind=per_kind)
            stalls = watch.stop()
            rss_end = _rss_mb()
            received = (stream.total if stream is not None else widget.total) - received_start
            stats = ms_stats(drawn)
            result.update({
                "presses": stats["n"], "key_median_ms": stats["median_ms"], "key_p99_ms": stats["p99_ms"],
                "key_max_ms": stats["max_ms"], "key_timeouts": timeouts,
                "rss_start_mb": round(rss_start, 1), "rss_end_mb": round(rss_end, 1),
                "rss_growth_mb": round(rss_end - rss_start, 1),
                "lines_received_per_s": round(received / seconds),
                "kept_lines": len(stream.lines) if stream is not None else widget.count, "keep": keep,
                "view_lines": widget.count,
                **stalls,
                "by_key": {kind: ms_stats(values) for kind, values in per_kind.items()},
            })
            if stream is not None:
                result["stream_state"] = stream.state
            if mode == "file":
                snap = app.screen._snapshots.get("logs")
                result["bytes_skipped"] = snap.logs[0].bytes_skipped if snap is not None else None
        result["key_ok"] = (timeouts == 0 and stats["p99_ms"] is not None and stats["p99_ms"] <= TARGET_KEY_P99_MS)
        result["memory_ok"] = (result["rss_growth_mb"] <= TARGET_RSS_GROWTH_MB and result["kept_lines"] <= keep
                               and result["view_lines"] <= keep)
        return result


def run(rate: float = 5000.0, seconds: float = 20.0, warmup: float = 3.0) -> dict:
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="warroom-bench-logs-") as tmp:
        for mode in ("pod", "file"):
            os.makedirs(Path(tmp) / mode, exist_ok=True)
            out[mode] = asyncio.run(_scenario(mode, Path(tmp) / mode, rate, seconds, warmup))
    return out


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    print(json.dumps(run(seconds=6.0 if quick else 20.0), indent=2))
