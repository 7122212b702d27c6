"""What Alertmanager says is firing: its v2 API's active alerts, grouped by alertname.

:class:`AlertsSource` polls ``GET /api/v2/alerts`` (with the configured ``filter``
matchers) and returns a frozen :class:`AlertsSnapshot`; :meth:`AlertsSource.silence`
creates a silence for one group through ``POST /api/v2/silences``. A poll never
raises: an unreachable or misbehaving Alertmanager is a snapshot with ``error`` set.

Every alert is remote, hostile data: only dicts with string-ish labels count, at most
:data:`MAX_ALERTS` are read, and every text kept is cut to :data:`TEXT_LIMIT`
characters. Control characters are left in place here and made visible where text
leaves for the terminal or a file (tui/incident/safe_text.py).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable

from checks.base import Event, Level, Snapshot
from checks.promapi import ApiError, new_client, request_bytes, request_json
from checks.specs import AlertmanagerSpec
from tui.incident.model import utcnow

if TYPE_CHECKING:
    import httpx

__all__ = ["AlertGroup", "AlertsSnapshot", "AlertsSource", "changes", "group_alerts", "severity_level"]

MAX_ALERTS = 20_000
MAX_GROUPS = 2_000
TEXT_LIMIT = 300
NOT_CONFIGURED = "Alertmanager not configured — add [alertmanager] url to warroom.toml"

_CRIT = frozenset({"critical", "crit", "page", "error", "high", "p1", "sev1", "emergency"})
_OK = frozenset({"info", "informational", "none", "low", "debug"})


def severity_level(severity: str) -> Level:
    """critical/page → CRIT, info/none → OK, anything else (warning, unset) → WARN."""
    word = severity.strip().lower()
    if word in _CRIT:
        return Level.CRIT
    if word in _OK:
        return Level.OK
    return Level.WARN


def _text(value: Any) -> str:
    if type(value) is str and len(value) <= TEXT_LIMIT:
        return value        # nearly every label and annotation: no call to str(), no copy
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


def _texts(mapping: dict[Any, Any], limit: int) -> dict[str, str]:
    """The first ``limit`` items with keys and values made :func:`_text`. A poll reads 1,000
    alerts a second; their labels are short strings, taken as they are (a third of a poll's CPU
    went on copying them item by item)."""
    if len(mapping) <= limit:
        for k, v in mapping.items():      # a plain loop: half the cost of all() over generators
            if type(v) is not str or type(k) is not str or len(v) > TEXT_LIMIT or len(k) > TEXT_LIMIT:
                break
        else:
            return mapping
    return {_text(k): _text(v) for k, v in list(mapping.items())[:limit]}


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


@dataclass(frozen=True)
class AlertGroup:
    """Every active alert with one alertname."""
    name: str
    severity: str                     # the worst severity label in the group ("" if none)
    level: Level                      # of the firing alerts; OK when all are silenced or inhibited
    count: int                        # alerts in the group
    firing: int                       # neither silenced nor inhibited
    silenced: int
    inhibited: int
    starts_at: datetime | None        # the earliest startsAt
    summary: str                      # the first alert's summary (or description) annotation
    runbook_url: str = ""
    dashboard_url: str = ""
    labels: tuple[tuple[str, str], ...] = ()   # the labels every alert in the group shares

    @property
    def state(self) -> str:
        if self.firing:
            return "FIRING"
        return "SILENCED" if self.silenced else "INHIBITED"


@dataclass(frozen=True)
class AlertsSnapshot(Snapshot):
    groups: tuple[AlertGroup, ...] = ()     # worst first
    firing: int = 0                         # alerts neither silenced nor inhibited
    truncated: int = 0                      # alerts beyond MAX_ALERTS, not read


def _alert_fields(alert: Any) -> tuple[dict[str, str], dict[str, str], str, bool, bool, datetime | None] | None:
    """An alert's labels and annotations (not to be changed: they may be the answer's own
    dicts), its state, whether it is silenced or inhibited, and when it started."""
    if not isinstance(alert, dict) or not isinstance(alert.get("labels"), dict):
        return None
    labels = _texts(alert["labels"], 100)
    annotations: dict[Any, Any] = alert["annotations"] if isinstance(alert.get("annotations"), dict) else {}
    notes = _texts(annotations, 50)
    status: dict[Any, Any] = alert["status"] if isinstance(alert.get("status"), dict) else {}
    state = _text(status.get("state", "active"))
    silenced = bool(status.get("silencedBy")) if isinstance(status.get("silencedBy"), list) else False
    inhibited = bool(status.get("inhibitedBy")) if isinstance(status.get("inhibitedBy"), list) else False
    if state == "suppressed" and not (silenced or inhibited):
        silenced = True
    return labels, notes, state, silenced, inhibited, _time(alert.get("startsAt"))


def group_alerts(alerts: Sequence[Any]) -> tuple[tuple[AlertGroup, ...], int]:
    """Alertmanager's alert list as groups, worst first; and how many alerts were firing."""
    acc: dict[str, dict[str, Any]] = {}
    firing_total = 0
    levels: dict[str, Level] = {}       # severity word -> level: a handful of words for 1,000 alerts
    for alert in alerts[:MAX_ALERTS]:
        fields = _alert_fields(alert)
        if fields is None:
            continue
        labels, notes, _state, silenced, inhibited, starts = fields
        name = labels.get("alertname", "") or "(no alertname)"
        g = acc.get(name)
        if g is None:
            if len(acc) >= MAX_GROUPS:
                continue
            g = acc[name] = {"count": 0, "firing": 0, "silenced": 0, "inhibited": 0, "starts": None,
                             "severity": "", "level": None, "summary": "", "runbook": "", "dashboard": "",
                             "labels": dict(labels)}
        g["count"] += 1
        firing = not (silenced or inhibited)
        g["firing"] += firing
        g["silenced"] += silenced
        g["inhibited"] += inhibited and not silenced
        firing_total += firing
        if starts is not None and (g["starts"] is None or starts < g["starts"]):
            g["starts"] = starts
        severity = labels.get("severity", "")
        level = levels.get(severity)
        if level is None:
            level = levels[severity] = severity_level(severity)
        if g["level"] is None or level > g["level"]:
            g["severity"], g["level"] = severity, level
        if not g["summary"]:
            g["summary"] = notes.get("summary") or notes.get("description", "")
        if not g["runbook"]:
            g["runbook"] = notes.get("runbook_url", "") or notes.get("runbook", "")
        if not g["dashboard"]:
            g["dashboard"] = notes.get("dashboard_url", "") or notes.get("dashboard", "")
        common = g["labels"]
        if common:
            for key in [k for k, v in common.items() if labels.get(k) != v]:
                del common[key]
    groups = [
        AlertGroup(name=name, severity=g["severity"], level=g["level"] if g["firing"] else Level.OK,
                   count=g["count"], firing=g["firing"], silenced=g["silenced"], inhibited=g["inhibited"],
                   starts_at=g["starts"], summary=g["summary"], runbook_url=g["runbook"],
                   dashboard_url=g["dashboard"], labels=tuple(sorted(g["labels"].items())))
        for name, g in acc.items()
    ]
    groups.sort(key=lambda g: (-int(g.level), -g.firing, g.name))
    return tuple(groups), firing_total


def summarize(groups: Sequence[AlertGroup], firing: int) -> tuple[Level, str]:
    if not groups or not firing:
        quiet = sum(g.count for g in groups)
        return Level.OK, "no alerts firing" + (f" ({quiet} silenced/inhibited)" if quiet else "")
    worst = groups[0]
    more = sum(1 for g in groups[1:] if g.firing)
    line = f"{worst.name} {worst.severity or 'firing'} ×{worst.firing}"
    if more:
        line += f" (+{more} more)"
    return worst.level, line


class AlertsSource:
    """Polls one Alertmanager; silences through it."""

    def __init__(self, spec: AlertmanagerSpec, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.spec = spec
        self.clock = clock
        self._client: httpx.AsyncClient | None = None
        self._last: tuple[bytes, AlertsSnapshot] | None = None     # the last answer and its snapshot

    @property
    def client(self) -> httpx.AsyncClient:
        """Made on first use, so on the poll loop."""
        if self._client is None:
            self._client = new_client(self.spec.headers)
        return self._client

    def _url(self, path: str) -> str:
        return self.spec.url.rstrip("/") + path

    async def poll(self) -> AlertsSnapshot:
        params = [("active", "true"), ("silenced", "true"), ("inhibited", "true"), ("unprocessed", "true")]
        params += [("filter", m) for m in self.spec.filter]
        try:
            raw = await request_bytes(self.client, "GET", self._url("/api/v2/alerts"), params=params,
                                      timeout=self.spec.timeout)
        except ApiError as exc:
            why = f"Alertmanager: {exc.reason}"
            return AlertsSnapshot(taken_at=self.clock(), level=Level.CRIT, summary=why, error=why)
        if self._last is not None and raw == self._last[0]:
            # The same answer as last poll (Alertmanager's alerts change at rule evaluations, a
            # poll comes every few seconds): its groups as they were, not 1,000 alerts parsed and
            # grouped again; the same objects also let the display edge reuse their masked copies.
            return replace(self._last[1], taken_at=self.clock())
        try:
            answer = json.loads(raw)
        except ValueError:
            why = "Alertmanager: malformed answer (not JSON)"
            return AlertsSnapshot(taken_at=self.clock(), level=Level.CRIT, summary=why, error=why)
        if not isinstance(answer, list):
            why = "Alertmanager: malformed answer (not a list of alerts)"
            return AlertsSnapshot(taken_at=self.clock(), level=Level.CRIT, summary=why, error=why)
        groups, firing = group_alerts(answer)
        if self._last is not None:
            # A group equal to last poll's is handed on as that very object (see MetricsSource.poll).
            before = {g.name: g for g in self._last[1].groups}
            groups = tuple(old if (old := before.get(g.name)) == g else g for g in groups)
        level, summary = summarize(groups, firing)
        snapshot = AlertsSnapshot(taken_at=self.clock(), level=level, summary=summary, groups=groups, firing=firing,
                                  truncated=max(0, len(answer) - MAX_ALERTS))
        self._last = (raw, snapshot)
        return snapshot

    async def silence(self, group: AlertGroup, *, minutes: float, created_by: str, comment: str) -> str:
        """Silence every alert of ``group`` (its alertname and shared labels) for ``minutes``;
        the new silence's id. Raises :class:`ApiError` with the reason."""
        now = self.clock()
        matchers = [{"name": k, "value": v, "isRegex": False, "isEqual": True} for k, v in group.labels]
        if not any(m["name"] == "alertname" for m in matchers):
            matchers.append({"name": "alertname", "value": group.name, "isRegex": False, "isEqual": True})
        body = {"matchers": matchers, "startsAt": now.isoformat(), "endsAt": (now + timedelta(minutes=minutes)).isoformat(),
                "createdBy": created_by or "warroom", "comment": comment}
        answer = await request_json(self.client, "POST", self._url("/api/v2/silences"), body=body,
                                    timeout=self.spec.timeout, limit=64 * 1024)
        silence_id = answer.get("silenceID") if isinstance(answer, dict) else None
        if not isinstance(silence_id, str) or not silence_id:
            raise ApiError("malformed answer (no silenceID)")
        return _text(silence_id)

    async def active_silences(self, comment_prefix: str) -> list[tuple[str, str, datetime | None]]:
        """The active silences whose comment starts with ``comment_prefix``: (id, comment, ends at).
        Raises :class:`ApiError`."""
        answer = await request_json(self.client, "GET", self._url("/api/v2/silences"), timeout=self.spec.timeout)
        if not isinstance(answer, list):
            raise ApiError("malformed answer (not a list of silences)")
        found = []
        for silence in answer[:MAX_ALERTS]:
            if not isinstance(silence, dict) or not isinstance(silence.get("status"), dict):
                continue
            comment = silence.get("comment")
            if silence["status"].get("state") == "active" and isinstance(comment, str) \
                    and comment.startswith(comment_prefix):
                found.append((_text(silence.get("id")), _text(comment), _time(silence.get("endsAt"))))
        return found

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def changes(prev: AlertsSnapshot | None, cur: AlertsSnapshot) -> list[Event]:
    """An alert group that starts or stops firing is news; a failed poll says nothing about alerts."""
    if prev is None or prev.error or cur.error:
        return []
    before = {g.name: g for g in prev.groups if g.firing}
    now = {g.name: g for g in cur.groups if g.firing}
    events: list[Event] = []
    for name, g in now.items():
        if name not in before:
            what = f"{g.severity} alert" if g.severity else "alert"
            text = f"{what} {name} firing (×{g.firing})" + (f": {g.summary}" if g.summary else "")
            events.append(Event(key=f"alert:{name}", state="FIRING", text=text, level=g.level))
    for name in before:
        if name not in now:
            still = next((x for x in cur.groups if x.name == name), None)
            how = "silenced" if still is not None and still.silenced else "inhibited" if still is not None else "resolved"
            events.append(Event(key=f"alert:{name}", state=how.upper(), text=f"alert {name} {how}", level=Level.OK))
    return events
