"""The [[metrics]] rows: PromQL queries against Prometheus, judged by thresholds and a baseline.

Each round :class:`MetricsSource` asks, for every metric at once, a ``query_range`` from
:data:`LEAD` before the incident started (within a step) until now, at most
:data:`MAX_POINTS` points (the sparkline), whose last step is the value now; or, while
the range kept from an earlier round is less than a step old, an instant query. The baseline — the same
query over the hour before the incident started — is asked until it is known, then
kept. A metric whose query fails (a PromQL error's 400/422 with Prometheus' message,
a timeout, an unreachable server) is a red row with the reason; the other rows go on.
When every row failed for the same reason the snapshot's ``error`` says so (the pane
turns red). A poll never raises.

A query that returns several series is shown by its worst series (the highest when
lower is better), and the row says how many there were.
"""
from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable, TypedDict

from checks.base import Event, Level, Snapshot
from checks.promapi import ApiError, new_clients, request_json
from checks.specs import MetricSpec, PrometheusSpec
from tui.incident.model import utcnow

if TYPE_CHECKING:
    import httpx

__all__ = ["MetricRow", "MetricsSnapshot", "MetricsSource", "changes", "format_value", "judge", "verification"]

MAX_POINTS = 200
LEAD = timedelta(minutes=5)             # the sparkline starts this long before the incident
BASELINE = timedelta(hours=1)
BASELINE_STEP_S = 60
MAX_SERIES = 10_000                     # series read from one answer; the rest are ignored
SHARD = 5                               # metrics per connection pool (MetricsSource.client says why)
REFRESH_STEPS = 30                      # the whole sparkline range is asked again this many steps on
QUERIES_PER_METRIC = 3                  # at once at most: the value, the range, the baseline
NOT_CONFIGURED = "Prometheus not configured — add [prometheus] url and [[metrics]] to warroom.toml"


@dataclass(frozen=True)
class MetricRow:
    name: str
    unit: str
    value: float | None
    level: Level
    reason: str = ""                            # why there is no value: the query's error in words
    history: tuple[float | None, ...] = ()      # from LEAD before the start until now, evenly spaced
    baseline: float | None = None               # the mean over the hour before the start
    warn: float | None = None
    crit: float | None = None
    better: str = "lower"
    series: int = 0                             # how many series the query returned


@dataclass(frozen=True)
class MetricsSnapshot(Snapshot):
    rows: tuple[MetricRow, ...] = ()


def judge(value: float | None, warn: float | None, crit: float | None, better: str = "lower") -> Level:
    """The value's state from its thresholds: above (``better="higher"``: below) is worse."""
    if value is None or math.isnan(value):
        return Level.UNKNOWN

    def worse(threshold: float) -> bool:
        return value > threshold if better != "higher" else value < threshold

    if crit is not None and worse(crit):
        return Level.CRIT
    if warn is not None and worse(warn):
        return Level.WARN
    return Level.OK


def _float(text: Any) -> float | None:
    if not isinstance(text, (str, int, float)) or isinstance(text, bool):
        return None
    try:
        value = float(text)
    except (ValueError, OverflowError):
        return None
    return None if math.isnan(value) else value


def _pick(values: Sequence[float], better: str) -> float | None:
    if not values:
        return None
    return min(values) if better == "higher" else max(values)


def instant_values(data: Any) -> list[float]:
    """The sample values of an instant query's ``data`` (vector or scalar)."""
    if not isinstance(data, dict):
        raise ApiError("malformed answer (no data)")
    kind, result = data.get("resultType"), data.get("result")
    if kind in ("scalar", "string"):
        value = _float(result[1]) if isinstance(result, list) and len(result) == 2 else None
        return [] if value is None else [value]
    if not isinstance(result, list):
        raise ApiError("malformed answer (result is not a list)")
    out = []
    for series in result[:MAX_SERIES]:
        sample = series.get("value") if isinstance(series, dict) else None
        value = _float(sample[1]) if isinstance(sample, list) and len(sample) == 2 else None
        if value is not None:
            out.append(value)
    return out


def range_values(data: Any, start: float, step: float, points: int, better: str) -> list[float | None]:
    """A query_range matrix as one value per step (the worst series at each), None where none."""
    return [_pick(s, better) for s in range_slots(data, start, step, points)]


def range_slots(data: Any, start: float, step: float, points: int) -> list[list[float]]:
    """A query_range matrix as every series' value at each step."""
    if not isinstance(data, dict) or not isinstance(data.get("result"), list):
        raise ApiError("malformed answer (no matrix)")
    slots: list[list[float]] = [[] for _ in range(points)]
    for series in data["result"][:MAX_SERIES]:
        values = series.get("values") if isinstance(series, dict) else None
        if not isinstance(values, list):
            continue
        for sample in values[: points * 2]:
            if not isinstance(sample, list) or len(sample) != 2:
                continue
            at, value = _float(sample[0]), _float(sample[1])
            if at is None or value is None:
                continue
            index = round((at - start) / step)
            if 0 <= index < points:
                slots[index].append(value)
    return slots


class _SpecFields(TypedDict):
    """What a MetricRow copies from its MetricSpec, whether or not the queries answered."""
    name: str
    unit: str
    warn: float | None
    crit: float | None
    better: str


class MetricsSource:
    def __init__(self, prometheus: PrometheusSpec, metrics: Sequence[MetricSpec], *, incident_started: datetime,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.spec = prometheus
        self.metrics = tuple(metrics)
        self.started = incident_started
        self.clock = clock
        self._baselines: dict[str, float | None] = {}
        # name -> (asked at, start, step, history): the range is asked again only once a step has
        # passed (a long incident's step is longer than a round), or when the step changes.
        self._ranges: dict[str, tuple[float, float, float, list[float | None]]] = {}
        self._whole_at: dict[str, float] = {}     # name -> when its whole range was last asked
        self._clients: list[httpx.AsyncClient] = []
        self._took: dict[int, float] = {}     # metric index -> how long its queries took last round
        self._rows: tuple[MetricRow, ...] = ()  # last round's

    def client(self, index: int) -> httpx.AsyncClient:
        """The client of the metric at ``index`` in ``metrics``; all made on first use, so on the poll loop.

        Every SHARD metrics share one client (one connection pool), each metric's queries having a
        connection of their own that is kept between rounds. One pool for all of them cost more
        than the slowest query: httpcore's pool walks every connection for every idle one each
        time a request starts or ends (cubic in its size), and with fewer keep-alive connections
        than a round needs it reconnected most of them every round (tests/bench/bench_signals.py:
        a 50-metric round took 1.6 times its slowest query, 0.2-0.3 s of CPU)."""
        if not self._clients:
            self._clients = new_clients(self.spec.headers, max(1, math.ceil(len(self.metrics) / SHARD)),
                                        SHARD * QUERIES_PER_METRIC)
        return self._clients[index // SHARD]

    async def _get(self, index: int, path: str, params: dict[str, str]) -> Any:
        answer = await request_json(self.client(index), "GET", self.spec.url.rstrip("/") + path, params=params,
                                    timeout=self.spec.timeout)
        if not isinstance(answer, dict) or answer.get("status") != "success":
            raise ApiError("malformed answer (no success status)")
        return answer.get("data")

    async def _baseline(self, index: int, spec: MetricSpec) -> float | None:
        if spec.name in self._baselines:
            return self._baselines[spec.name]
        end = self.started.timestamp()
        start = end - BASELINE.total_seconds()
        points = int(BASELINE.total_seconds() // BASELINE_STEP_S) + 1
        data = await self._get(index, "/api/v1/query_range", {"query": spec.query, "start": f"{start:.3f}",
                                                              "end": f"{end:.3f}", "step": str(BASELINE_STEP_S)})
        values = [v for v in range_values(data, start, BASELINE_STEP_S, points, spec.better) if v is not None]
        baseline = sum(values) / len(values) if values else None
        self._baselines[spec.name] = baseline
        return baseline

    async def _timed(self, index: int, spec: MetricSpec, now: datetime) -> MetricRow:
        began = time.monotonic()
        row = await self._row(index, spec, now)
        self._took[index] = time.monotonic() - began
        return row

    async def _row(self, index: int, spec: MetricSpec, now: datetime) -> MetricRow:
        row = _SpecFields(name=spec.name, unit=spec.unit, warn=spec.warn, crit=spec.crit, better=spec.better)
        end = now.timestamp()
        start = (self.started - LEAD).timestamp()
        step = max(1.0, math.ceil((end - start) / (MAX_POINTS - 1)))
        points = min(MAX_POINTS, int((end - start) // step) + 1)
        kept = self._ranges.get(spec.name)
        fresh_range = kept is None or kept[2] != step or end - kept[0] >= step
        anchor = end            # where the history's newest slot is, on its whole range's grid

        async def history() -> tuple[list[float | None], list[float]]:
            """The sparkline and every series' value now: a range whose steps end exactly at
            ``end`` is evaluated there as the instant query would be, so a round that asks the
            range asks nothing else (half the requests, and of a round's CPU, early in an
            incident, when a step is no longer than the poll interval)."""
            if kept is not None and not fresh_range:   # not fresh_range implies a kept range
                data = await self._get(index, "/api/v1/query", {"query": spec.query, "time": f"{end:.3f}"})
                return kept[3], instant_values(data)
            # Only the steps since the kept range, appended to it: early in an incident a step is
            # as short as a round, and asking the whole range again each round was a fifth of
            # the dashboard's CPU at rest with 50 metrics (parsing 200 points to keep 1 new one).
            # The whole range is asked again every REFRESH_STEPS steps: a sample that came late
            # to Prometheus, and the slots' alignment, are put right then.
            # The kept history's slots stay on the grid of its whole range (``anchor``, a whole
            # number of steps on): the new points are evaluated at ``end``, less than a step past
            # their slots, so the value now is as fresh as ever and the sparkline never drifts.
            nonlocal anchor
            new = points if kept is None else int((end - kept[0]) // step)
            whole = kept is None or kept[2] != step or new >= points or new < 1 \
                or end - self._whole_at.get(spec.name, 0.0) >= REFRESH_STEPS * step
            count = points if whole else new
            first = end - (count - 1) * step        # at or after start, within a step of it
            data = await self._get(index, "/api/v1/query_range", {"query": spec.query, "start": f"{first:.3f}",
                                                                  "end": f"{end:.3f}", "step": f"{step:g}"})
            slots = range_slots(data, first, step, count)
            picked = [_pick(v, spec.better) for v in slots]
            if whole:
                self._whole_at[spec.name] = end
                return picked, slots[-1]
            assert kept is not None     # not whole implies a kept range
            anchor = kept[0] + new * step
            return (kept[3] + picked)[-points:], slots[-1]

        try:
            (hist, values), baseline = await asyncio.gather(history(), self._baseline(index, spec))
        except ApiError as exc:
            reason = exc.reason
            if exc.status in (400, 422) and exc.message:
                reason = f"PromQL error: {exc.message}"
            return MetricRow(**row, value=None, level=Level.CRIT, reason=reason,
                             baseline=self._baselines.get(spec.name))
        if fresh_range:
            self._ranges[spec.name] = (anchor, start, step, hist)
        value = _pick(values, spec.better)
        reason = "" if values else "no data"
        return MetricRow(**row, value=value, level=judge(value, spec.warn, spec.crit, spec.better), reason=reason,
                         history=tuple(hist), baseline=baseline, series=len(values))

    async def poll(self) -> MetricsSnapshot:
        now = self.clock()
        # The slowest queries of last round go out first: sending a hundred requests takes a
        # while, and the round ends with the slowest answer, so it must not wait to be asked.
        order = sorted(range(len(self.metrics)), key=lambda i: -self._took.get(i, 0.0))
        answers = await asyncio.gather(*(self._timed(i, self.metrics[i], now) for i in order))
        by_index = dict(zip(order, answers))
        # A row equal to last round's is handed on as that very object: the display edge reuses
        # its masked copy and the pane sees at a glance that nothing changed (most rounds).
        last = self._rows
        rows = tuple(last[i] if i < len(last) and last[i] == by_index[i] else by_index[i]
                     for i in range(len(self.metrics)))
        self._rows = rows
        level = max((r.level for r in rows), default=Level.UNKNOWN)
        failed = [r for r in rows if r.value is None and r.reason and r.reason != "no data"]
        error = None
        if rows and len(failed) == len(rows) and len({r.reason for r in failed}) == 1 \
                and not failed[0].reason.startswith("PromQL"):
            error = f"Prometheus: {failed[0].reason}"
        return MetricsSnapshot(taken_at=now, level=level, summary=error or summarize(rows), error=error, rows=rows)

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()
        self._clients = []


def format_value(value: float | None, unit: str) -> str:
    """A value with its unit, three significant figures: 0.42 req/s, 12.5%, 310 ms, 1.2 GB."""
    if value is None:
        return "—"
    if math.isinf(value):
        return ("+" if value > 0 else "-") + "Inf"
    if unit == "bytes":
        for suffix in ("B", "KB", "MB", "GB", "TB"):
            if abs(value) < 1024 or suffix == "TB":
                return f"{value:.3g} {suffix}" if suffix != "B" else f"{value:.0f} B"
            value /= 1024
    # Three significant figures, but never an exponent below a million: "2300 ms", not "2.3e+03 ms".
    number = f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}" if abs(value) < 1e6 else f"{value:.3e}"
    if unit == "%":
        return f"{number}%"
    return f"{number} {unit}" if unit else number


def _row_line(r: MetricRow) -> str:
    if r.value is None:
        return f"{r.name} {r.reason or 'no value'}"
    line = f"{r.name} {format_value(r.value, r.unit)}"
    if r.baseline is not None:
        line += f" (baseline {format_value(r.baseline, r.unit)})"
    return line + f" {r.level.name}"


def summarize(rows: Sequence[MetricRow]) -> str:
    if not rows:
        return "no [[metrics]] configured"
    bad = sorted((r for r in rows if r.level >= Level.WARN), key=lambda r: -int(r.level))
    if not bad:
        return f"all {len(rows)} metrics OK" if len(rows) > 1 else _row_line(rows[0])
    return _row_line(bad[0]) + (f" (+{len(bad) - 1} more)" if len(bad) > 1 else "")


def changes(prev: MetricsSnapshot | None, cur: MetricsSnapshot) -> list[Event]:
    """A metric crossing into WARN/CRIT, or back to OK, is news (failed queries are not: the pane shows them)."""
    if prev is None or prev.error or cur.error:
        return []
    before = {r.name: r for r in prev.rows}
    events = []
    for r in cur.rows:
        old = before.get(r.name)
        if old is None or r.value is None or old.value is None or old.level == r.level:
            continue
        text = f"metric {r.name} {r.level.name}: {format_value(r.value, r.unit)} (was {old.level.name})"
        events.append(Event(key=f"metric:{r.name}", state=r.level.name, text=text, level=r.level))
    return events


def verification(metrics: MetricsSnapshot | None, alerts: Any, at: datetime) -> tuple[str, dict[str, Any]]:
    """One entry's text and meta for `V`: each metric against its baseline and thresholds, and
    how many alerts are firing (``alerts``: a checks.alerts.AlertsSnapshot or None)."""
    parts: list[str] = []
    figures: list[dict[str, Any]] = []
    for r in metrics.rows if metrics is not None else ():
        parts.append(_row_line(r))
        figures.append({"name": r.name, "value": r.value, "unit": r.unit, "baseline": r.baseline,
                        "warn": r.warn, "crit": r.crit, "better": r.better, "state": r.level.name,
                        "error": r.reason if r.value is None else None})
    meta: dict[str, Any] = {"verify": {"at": at.isoformat(), "metrics": figures}}
    if metrics is not None and metrics.error:
        parts.insert(0, metrics.error)
        meta["verify"]["metrics_error"] = metrics.error
    if alerts is not None:
        if alerts.error:
            parts.append(alerts.error)
            meta["verify"]["alerts_error"] = alerts.error
        else:
            names = [g.name for g in alerts.groups if g.firing]
            parts.append(f"alerts firing: {alerts.firing}" + (f" ({', '.join(names[:5])})" if names else ""))
            meta["verify"]["alerts_firing"] = alerts.firing
            meta["verify"]["alerts"] = [{"name": g.name, "severity": g.severity, "firing": g.firing,
                                         "silenced": g.silenced, "inhibited": g.inhibited} for g in alerts.groups]
    worst = max([Level.OK] + [r.level for r in (metrics.rows if metrics is not None else ())])
    clear = worst == Level.OK and not (metrics is not None and metrics.error) and \
        (alerts is None or (not alerts.error and not alerts.firing))
    meta["verify"]["clear"] = clear
    head = "Verify: back to normal" if clear else "Verify: NOT clear"
    return f"{head} — " + "; ".join(parts or ["nothing configured to verify"]), meta
