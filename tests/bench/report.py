"""The benchmark report: one row per figure (target, median, p99, verdict), as a
plain-text table and as JSON.

Each bench's ``run()`` returns its own dict; ``rows_for(name, result)`` turns it
into rows. Every lookup is defensive (``.get``): a bench that changes its keys
shows "-" instead of breaking the report.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

PASS, FAIL, INFO, ERROR = "PASS", "FAIL", "INFO", "ERROR"


@dataclass(frozen=True)
class Row:
    bench: str
    metric: str
    target: str = ""                 # "" = information only
    median: str = "-"                # formatted, with its unit
    p99: str = ""
    status: str = INFO


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return None if math.isnan(value) or math.isinf(value) else float(value)


def fmt(value: Any, unit: str = "") -> str:
    v = _num(value)
    if v is None:
        return "-" if value is None else str(value)
    if unit == "%":
        return f"{v:.1f} %"
    if unit in ("ms", "MB"):
        return f"{v:.1f} {unit}" if v < 100 else f"{v:.0f} {unit}"
    if unit == "s":
        return f"{v:.2f} s" if v < 10 else f"{v:.1f} s"
    if unit == "x":
        return f"{v:.2f}x"
    return f"{v:g}{(' ' + unit) if unit else ''}"


def at_most(value: Any, limit: float) -> str:
    v = _num(value)
    return ERROR if v is None else (PASS if v <= limit else FAIL)


def verdict(ok: Any) -> str:
    return ERROR if ok is None else (PASS if ok else FAIL)


# --------------------------------------------------------------------------- per bench


def _store(r: dict) -> list[Row]:
    return [
        Row("store", f"durable append ({r.get('appends', '?')} appends)", "p99 <= 5 ms",
            fmt(r.get("append_median_ms"), "ms"), fmt(r.get("append_p99_ms"), "ms"), at_most(r.get("append_p99_ms"), 5)),
        Row("store", "disk fsync, 100 B (reference)", "", fmt(r.get("fsync_median_ms"), "ms"),
            fmt(r.get("fsync_p99_ms"), "ms")),
        Row("store", "append p99 / fsync p99", "<= 2", fmt(r.get("append_fsync_p99_ratio"), "x"), "",
            at_most(r.get("append_fsync_p99_ratio"), 2)),
        Row("store", f"open timeline of {r.get('entries', '?')} entries", "<= 1 s",
            fmt(r.get("open_timeline_s"), "s"), "", at_most(r.get("open_timeline_s"), 1)),
        Row("store", "entries() + fold (what the dashboard does)", "", fmt(r.get("open_dashboard_s"), "s")),
    ]


def _health(r: dict) -> list[Row]:
    n = r.get("n", "?")
    worker = r.get("worker")
    rows = []
    if worker:
        # A config this big runs in the health worker process: that is the app's round.
        rows += [
            Row("health", f"{n}-endpoint round / slowest (cold), {worker.get('workers', 1)} worker process(es) "
                "as the app runs it", "<= 1.3", fmt(worker.get("ratio"), "x"), "", at_most(worker.get("ratio"), 1.3)),
            Row("health", "same, warm (keep-alive)", "<= 1.3", fmt(worker.get("warm_ratio"), "x"), "",
                at_most(worker.get("warm_ratio"), 1.3)),
            Row("health", "services UP after the worker's round", f"= {n}", fmt(worker.get("up")), "",
                verdict(worker.get("up") == r.get("n") and not worker.get("error")
                        if worker.get("up") is not None else None)),
        ]
    where = ", checker in the bench's own process (reference)" if worker else ""
    target = (lambda t: f"({t})") if worker else (lambda t: t)
    judged = (lambda v: INFO) if worker else (lambda v: at_most(v, 1.3))
    rows += [
        Row("health", f"{n}-endpoint round / slowest (cold){where}", target("<= 1.3"), fmt(r.get("ratio"), "x"), "",
            judged(r.get("ratio"))),
        Row("health", f"same, warm (keep-alive){where}", target("<= 1.3"), fmt(r.get("warm_ratio"), "x"), "",
            judged(r.get("warm_ratio"))),
        Row("health", "services UP after the round", f"= {n}", fmt(r.get("up")), "",
            verdict(r.get("up") == r.get("n") if r.get("up") is not None else None)),
        Row("health", "checker CPU per round (cold / warm)", "", fmt(r.get("cpu_s"), "s"), fmt(r.get("warm_cpu_s"), "s")),
    ]
    det = r.get("detection") or {}
    alone, beside = det.get("alone") or {}, det.get("with_slow_neighbour") or {}
    if det:
        diff = _num(det.get("down_difference_s"))
        budget = det.get("budget_down_s")
        rows += [
            Row("health", "api DOWN after stop: beside a 3 s neighbour (median / worst)", f"<= {fmt(budget, 's')}",
                fmt(beside.get("down_median_s"), "s"), fmt(max(beside.get("down_s") or [0]), "s"),
                at_most(max(beside.get("down_s") or [math.inf]), budget)),
            Row("health", "same, api alone (median / worst)", f"<= {fmt(budget, 's')}",
                fmt(alone.get("down_median_s"), "s"), fmt(max(alone.get("down_s") or [0]), "s"),
                at_most(max(alone.get("down_s") or [math.inf]), budget)),
            Row("health", "detection with a slow neighbour vs alone (difference of medians)", "<= 1 s",
                fmt(diff, "s"), "", at_most(abs(diff) if diff is not None else None, 1)),
            Row("health", "api UP again after restart, beside the neighbour (median)", f"<= {fmt(det.get('budget_up_s'), 's')}",
                fmt(beside.get("up_median_s"), "s"), fmt(max(beside.get("up_s") or [0]), "s"),
                at_most(max(beside.get("up_s") or [math.inf]), det.get("budget_up_s"))),
            Row("health", "api checked every (interval 2 s): beside the neighbour / alone", "~ 2 s",
                fmt(beside.get("check_every_s"), "s"), fmt(alone.get("check_every_s"), "s")),
        ]
    return rows


def _deploys(r: dict) -> list[Row]:
    return [
        Row("deploys", f"poll, {r.get('n_commits', '?')} commits (branch & tags)", "p99 <= 300 ms",
            fmt(r.get("median_ms"), "ms"), fmt(r.get("p99_ms"), "ms"), verdict(r.get("ok"))),
    ]


def _host(r: dict) -> list[Row]:
    return [
        Row("host", f"poll ({r.get('processes', '?')} processes)", "median <= 20 ms", fmt(r.get("median_ms"), "ms"),
            fmt(r.get("p99_ms"), "ms"), verdict(r.get("ok"))),
        Row("host", f"[[hosts]] scrape CPU, a {(r.get('remote_bytes') or 0) // 1024} KB node_exporter answer", "",
            fmt(r.get("remote_cpu_median_ms"), "ms"), fmt(r.get("remote_cpu_p99_ms"), "ms")),
    ]


def _run(r: dict) -> list[Row]:
    return [
        Row("run", f"`warroom run -- true` over `true` alone ({r.get('runs', '?')} runs)", "median <= 150 ms",
            fmt(r.get("overhead_median_ms"), "ms"), fmt(r.get("overhead_p99_ms"), "ms"), verdict(r.get("ok"))),
        Row("run", "`warroom run -- true` CPU time (user + system)", "", fmt(r.get("run_cpu_median_ms"), "ms")),
        Row("run", "`true` alone (reference)", "", fmt(r.get("true_median_ms"), "ms")),
    ]


def _pods(r: dict) -> list[Row]:
    n = r.get("pods", "?")
    return [
        Row("pods", f"first complete snapshot, {n} pods (cold)", "", fmt(r.get("first_snapshot_s"), "s"),
            f"import {fmt(r.get('of_which_kubernetes_import_s'), 's')}"),
        Row("pods", "watch update -> poll() (~100/s)", "", fmt(r.get("lag_ms_p50"), "ms"), fmt(r.get("lag_ms_p99"), "ms")),
        Row("pods", "updates never seen", "= 0", fmt(r.get("updates_unseen")), "",
            verdict(r.get("updates_unseen") == 0 if r.get("updates_unseen") is not None else None)),
        Row("pods", "poll() cost, busy", "", fmt(r.get("poll_busy_ms_p50"), "ms"), fmt(r.get("poll_busy_ms_p99"), "ms")),
    ]


def _keys(bench: str, what: str, r: dict) -> Row:
    return Row(bench, f"key -> drawn, {what} ({r.get('presses', '?')} keys)", "p99 <= 50 ms",
               fmt(r.get("key_median_ms"), "ms"), fmt(r.get("key_p99_ms"), "ms"),
               at_most(r.get("key_p99_ms"), 50) if not r.get("key_timeouts") else FAIL)


def _stalls(bench: str, what: str, r: dict) -> Row:
    return Row(bench, f"longest freeze (event loop blocked), {what}", "", fmt(r.get("stall_max_ms"), "ms"),
               f"{fmt(r.get('stalls_over_100ms'))} freezes > 100 ms = {fmt(r.get('stalled_pct'), '%')} of the time")


def _ui_log(r: dict) -> list[Row]:
    n = r.get("entries", "?")
    roundtrip = r.get("pilot_roundtrip_ms") or {}
    return [
        Row("ui.log", f"start -> first frame with {n} entries", "", fmt(r.get("first_frame_s"), "s")),
        _keys("ui.log", f"timeline at {n}", r),
        Row("ui.log", "key -> handled (before drawing)", "", fmt(r.get("handled_median_ms"), "ms"),
            fmt(r.get("handled_p99_ms"), "ms")),
        _stalls("ui.log", "while moving", r),
        Row("ui.log", f"add entry: enter -> drawn ({r.get('append_n', '?')} entries)", "p99 <= 50 ms",
            fmt(r.get("append_median_ms"), "ms"), fmt(r.get("append_p99_ms"), "ms"), verdict(r.get("append_ok"))),
        Row("ui.log", "pilot.press+pause round trip (reference)", "", fmt(roundtrip.get("median_ms"), "ms"),
            fmt(roundtrip.get("p99_ms"), "ms")),
    ]


def _ui_health(r: dict) -> list[Row]:
    rows = []
    for label, v in r.items():
        if not isinstance(v, dict):
            continue
        n = v.get("services", "?")
        if label == "app":
            how = "as the app wires it"
            rows += [
                _keys("ui.health", f"{n} endpoints, {how}", v),
                Row("ui.health", f"round / slowest in the app, {how}", "<= 1.3", fmt(v.get("round_ratio"), "x"),
                    f"max {fmt(v.get('round_max_s'), 's')}", verdict(v.get("round_ok"))),
                _stalls("ui.health", how, v),
            ]
            continue
        # A variant the app never runs (the checker swapped onto the UI's own event loop): it
        # shows what the app's wiring buys, so it is information, not a target.
        how = f"reference: {label.replace('_', ' ')} on the UI loop"
        rows += [
            Row("ui.health", f"key -> drawn, {n} endpoints, {how}", "(<= 50 ms)", fmt(v.get("key_median_ms"), "ms"),
                fmt(v.get("key_p99_ms"), "ms")),
            Row("ui.health", f"round / slowest, {how}", "(<= 1.3)", fmt(v.get("round_ratio"), "x"),
                f"max {fmt(v.get('round_max_s'), 's')}"),
            _stalls("ui.health", how, v),
        ]
    return rows


def _ui_pods(r: dict) -> list[Row]:
    n = r.get("pods", "?")
    rate = r.get("rate_per_s", "?")
    return [
        Row("ui.pods", f"start -> table holds {n} pods", "", fmt(r.get("first_full_table_s"), "s")),
        Row("ui.pods", f"update -> pane shows it ({rate}/s, {r.get('updates_applied', '?')} updates)", "p99 <= 2 s",
            fmt(r.get("lag_median_ms"), "ms"), fmt(r.get("lag_p99_ms"), "ms"), verdict(r.get("lag_ok"))),
        _keys("ui.pods", f"during {rate} updates/s", r),
        _stalls("ui.pods", "during the updates", r),
        Row("ui.pods", "key -> drawn before the updates", "", fmt(r.get("idle_key_median_ms"), "ms"),
            fmt(r.get("idle_key_p99_ms"), "ms")),
        Row("ui.pods", "system entries written meanwhile", "", fmt(r.get("system_entries_written"))),
    ]


def _ui_startup(r: dict) -> list[Row]:
    k8s = r.get("kubernetes_at_first_frame")
    return [
        Row("ui.startup", f"bare Textual app: start -> first frame ({r.get('runs', '?')} runs)", "",
            fmt(r.get("bare_median_s"), "s"), f"min {fmt(r.get('bare_min_s'), 's')}"),
        Row("ui.startup", "warroom dashboard: start -> first frame", "", fmt(r.get("dashboard_median_s"), "s"),
            f"min {fmt(r.get('dashboard_min_s'), 's')}"),
        Row("ui.startup", "dashboard / bare", "<= 1.5", fmt(r.get("ratio"), "x"), "", at_most(r.get("ratio"), 1.5)),
        Row("ui.startup", "kubernetes imported at first frame", "no", "-" if k8s is None else ("yes" if k8s else "no"),
            _first_import(r, "kubernetes"), verdict(None if k8s is None else not k8s)),
    ]


def _first_import(r: dict, module: str) -> str:
    when = (r.get("first_import_s_thread") or {}).get(module)
    return f"import began {fmt(when[0], 's')} in {when[1]}" if isinstance(when, list) and len(when) == 2 else ""


def _idle(r: dict) -> list[Row]:
    rows = []
    for label, strict in (("dashboard", True), ("demo", True), ("glances", False)):
        v = r.get(label)
        if not isinstance(v, dict):
            continue
        if "skipped" in v:
            rows.append(Row("idle", label, "", v["skipped"]))
            continue
        window = f"{v.get('window_s', '?')} s"
        rows += [
            Row("idle", f"{label}: CPU, % of one core over {window}", "<= 2 %" if strict else "(<= 2 %)",
                fmt(v.get("cpu_pct"), "%"), "", at_most(v.get("cpu_pct"), 2) if strict else INFO),
            Row("idle", f"{label}: RSS incl. children (median, max)", "<= 150 MB" if strict else "(<= 150 MB)",
                fmt(v.get("rss_median_mb"), "MB"), f"max {fmt(v.get('rss_max_mb'), 'MB')}",
                at_most(v.get("rss_max_mb"), 150) if strict else INFO),
        ]
    peer = r.get("glances") or {}
    for label in ("dashboard", "demo"):
        v = r.get(label) or {}
        if isinstance(v, dict) and v.get("cpu_pct") is not None and peer.get("cpu_pct"):
            rows.append(Row("idle", f"{label} CPU / glances -t 1 CPU (same run)", "",
                            fmt(v["cpu_pct"] / peer["cpu_pct"], "x"), "the peer reference", INFO))
    return rows


def _shared(r: dict) -> list[Row]:
    typed, writers, catchup, big, idle = (r.get(k) or {} for k in ("typed", "writers", "catchup", "open", "idle"))
    key = writers.get("watcher_key") or {}
    rows = [
        Row("shared", f"entry typed on one dashboard -> in another ({typed.get('n', '?')})", "p99 <= 100 ms",
            fmt(typed.get("p50_ms"), "ms"), fmt(typed.get("p99_ms"), "ms"), at_most(typed.get("p99_ms"), 100)),
        Row("shared", f"{writers.get('writers', '?')} writers x 2/s for {writers.get('seconds', '?')} s: "
            "lost + duplicated + not drawn", "= 0",
            fmt((writers.get("lost") or 0) + (writers.get("duplicated") or 0) + (writers.get("not_drawn") or 0)
                if writers else None), f"of {writers.get('written', '?')}",
            verdict(None if not writers else writers.get("lost") == writers.get("duplicated")
                    == writers.get("not_drawn") == 0)),
        Row("shared", f"  the watcher's own key -> drawn meanwhile ({key.get('timeouts', '?')} never drawn)",
            "p99 <= 50 ms", fmt(key.get("p50_ms"), "ms"), fmt(key.get("p99_ms"), "ms"),
            at_most(key.get("p99_ms"), 50) if not key.get("timeouts") else FAIL),
        Row("shared", f"catch-up after {catchup.get('offline_s', '?')} s offline, {catchup.get('entries', '?')} "
            "written meanwhile (network back -> current)", "<= 1 s", fmt(catchup.get("back_to_current_s"), "s"),
            f"read {fmt(catchup.get('read_s'), 's')}", at_most(catchup.get("back_to_current_s"), 1)),
        Row("shared", f"open a {big.get('entries', '?')}-entry incident from PostgreSQL", "<= 1 s",
            fmt(big.get("open_s"), "s"), "", at_most(big.get("open_s"), 1)),
    ]
    if idle:
        rows.append(Row("shared", f"idle CPU on PostgreSQL - on SQLite ({idle.get('pg_cpu_pct')} % vs "
                        f"{idle.get('sqlite_cpu_pct')} %)", "<= 0.2 pp", fmt(idle.get("diff_pp")), "",
                        at_most(idle.get("diff_pp"), 0.2)))
    return rows


def _signals(r: dict) -> list[Row]:
    what = f"{r.get('alerts', '?')} alerts + {r.get('metrics', '?')} metrics updating"
    return [
        _keys("signals", what, r),
        Row("signals", "metrics round / slowest query", "<= 1.3", fmt(r.get("round_ratio"), "x"),
            f"max {fmt(r.get('round_max_s'), 's')}", verdict(r.get("round_ok"))),
        Row("signals", "dashboard CPU at rest, with alerts+metrics (alerts changing every poll) / without", "", fmt(r.get("idle_cpu_pct"), "%"),
            fmt(r.get("idle_cpu_pct_without"), "%")),
        Row("signals", "dashboard CPU at rest, with alerts+metrics, nothing changing / without", "",
            fmt(r.get("idle_cpu_pct_static"), "%"), fmt(r.get("idle_cpu_pct_without"), "%")),
        _stalls("signals", what, r),
    ]


def _hooks(r: dict) -> list[Row]:
    thresholds = r.get("thresholds") or {}
    target = f">= {thresholds.get('cpu_pct', '?')} % or >= {thresholds.get('startup_ms', '?')} ms"
    rows = []
    for hook, v in (r.get("hooks") or {}).items():
        earns = v.get("earns_its_place")
        where = v.get("cpu_measured")
        rows.append(Row("hooks", f"{hook} saves: CPU ({where or 'no CPU claim'}) / start-up, vs stock in the same run",
                        target, fmt(v.get("cpu_saved_pct"), "%") if where else "-",
                        f"{fmt(v.get('startup_saved_ms'), 'ms')} CPU ({fmt(v.get('startup_wall_saved_ms'), 'ms')} wall)",
                        verdict(earns)))
    start, cpu, busy = r.get("startup_ms") or {}, r.get("idle_cpu_pct") or {}, r.get("entries_cpu_pct") or {}
    for label, figures, unit in (("start -> first frame, wall", start.get("wall") or {}, "ms"),
                                 ("start -> first frame, CPU time", start.get("cpu") or {}, "ms"), ("idle CPU", cpu, "%"),
                                 (f"CPU, an entry every {r.get('entry_every_s', '?')} s", busy, "%"),
                                 (f"CPU, {r.get('churn', '?')}", r.get("pods_cpu_pct") or {}, "%")):
        for config in ("all on", "all off"):
            v = figures.get(config) or {}
            rows.append(Row("hooks", f"{label}, every hook {config.split()[1]} (median of {len(v.get('values', []))})",
                            "", fmt(v.get("median"), unit)))
    return rows


def _logs(r: dict) -> list[Row]:
    rows = []
    for mode, what in (("pod", "pod log viewer (l), follow=true"), ("file", "[[logs]] pane, file rotated every 5 s")):
        v = r.get(mode) or {}
        rate = f"{fmt(v.get('rate'))} lines/s"
        if v.get("error"):
            rows.append(Row("logs", f"{what}: {v['error']}", "", "-", "", ERROR))
            continue
        rows += [
            _keys("logs", f"{what}, {rate}", v),
            Row("logs", f"{what}: RSS growth over {fmt(v.get('seconds'), 's')}", "<= 50 MB",
                fmt(v.get("rss_growth_mb"), "MB"),
                f"kept {fmt(v.get('kept_lines'))} of at most {fmt(v.get('keep'))} lines", verdict(v.get("memory_ok"))),
            Row("logs", f"{what}: " + ("lines received per second" if mode == "pod" else
                                        "error lines shown per second (the last 50 of each read)"), "",
                fmt(v.get("lines_received_per_s"))),
            _stalls("logs", what, v),
        ]
    return rows


ROWS: dict[str, Callable[[dict], list[Row]]] = {
    "logs": _logs,
    "shared": _shared,
    "store": _store,
    "health": _health,
    "deploys": _deploys,
    "host": _host,
    "pods": _pods,
    "ui.log": _ui_log,
    "ui.health": _ui_health,
    "ui.pods": _ui_pods,
    "ui.startup": _ui_startup,
    "idle": _idle,
    "signals": _signals,
    "run": _run,
    "hooks": _hooks,
}


def rows_for(name: str, result: dict) -> list[Row]:
    if result.get("error") and len(result) <= 2:       # {"error": ..., "wall_s": ...}
        return [Row(name, "did not run", "", str(result["error"])[:200], "", ERROR)]
    try:
        return ROWS[name](result)
    except Exception as exc:  # noqa: BLE001 - a reporting bug must not hide the other rows
        return [Row(name, "could not report", "", f"{type(exc).__name__}: {exc}"[:200], "", ERROR)]


# --------------------------------------------------------------------------- output


def format_table(rows: list[Row]) -> str:
    header = Row("bench", "metric", "target", "median", "p99 / other", "verdict")
    cols = list(zip(*[(r.bench, r.metric, r.target, r.median, r.p99, r.status) for r in [header, *rows]]))
    widths = [max(len(str(c)) for c in col) for col in cols]
    widths[3] = min(widths[3], 60)

    def line(cells: tuple) -> str:
        parts = []
        for i, (cell, width) in enumerate(zip(cells, widths)):
            text = str(cell)
            if len(text) > width:
                text = text[: width - 1] + "…"
            parts.append(text.rjust(width) if i in (3, 4) else text.ljust(width))
        return "  ".join(parts).rstrip()

    out = [line(tuple(asdict(header).values())), "  ".join("-" * w for w in widths)]
    previous = None
    for r in rows:
        if previous is not None and r.bench.split(".")[0] != previous:
            out.append("")
        previous = r.bench.split(".")[0]
        out.append(line(tuple(asdict(r).values())))
    counts = {s: sum(r.status == s for r in rows) for s in (PASS, FAIL, ERROR)}
    out.append("")
    out.append(f"{counts[PASS]} passed, {counts[FAIL]} failed, {counts[ERROR]} errors")
    return "\n".join(out)


def clean(value: Any) -> Any:
    """JSON-safe: NaN/inf become null, paths and other objects their str()."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


def write_json(path: Path, payload: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(clean(payload), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def rows_as_json(rows: list[Row]) -> list[dict]:
    return [asdict(r) for r in rows]
