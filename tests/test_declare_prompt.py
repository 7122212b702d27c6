"""Declaring from the dashboard (no open incident): who commands, and when impact started."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest

from tui.config import Config
from tui.incident.model import Severity
from tui.incident.when import parse_impact_start
from tui.launch import _ask_declare

NOW = datetime(2026, 12, 3, 0, 20, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("typed,expected", [
    ("", NOW),
    ("  now ", NOW),
    ("00:05", NOW.replace(minute=5, second=0)),
    ("00:05:10 UTC", NOW.replace(minute=5, second=10)),
    ("23:50", datetime(2026, 12, 2, 23, 50, tzinfo=timezone.utc)),   # later than now: last night
    ("10m ago", NOW - timedelta(minutes=10)),
    ("10 min ago", NOW - timedelta(minutes=10)),
    ("1h30m ago", NOW - timedelta(hours=1, minutes=30)),
    ("2h", NOW - timedelta(hours=2)),
    ("2026-12-02T22:00Z", datetime(2026, 12, 2, 22, 0, tzinfo=timezone.utc)),
    ("2026-12-02 22:00", datetime(2026, 12, 2, 22, 0, tzinfo=timezone.utc)),
])
def test_parse_impact_start(typed, expected):
    assert parse_impact_start(typed, NOW) == expected


@pytest.mark.parametrize("typed,why", [
    ("soonish", "not a time: 'soonish'"),
    ("25:00", "not a time: '25:00'"),
    ("10", "not a time: '10'"),
    ("2026-12-04T10:00Z", "impact cannot start in the future"),
])
def test_bad_impact_start_says_how_to_mend(typed, why):
    with pytest.raises(ValueError) as info:
        parse_impact_start(typed, NOW)
    message = str(info.value)
    assert message.startswith(why) and "HH:MM (UTC)" in message and "\n" not in message


class _Terminal(io.StringIO):
    """Typed answers, one a line, on what looks like a terminal."""

    def isatty(self) -> bool:
        return True


def _declare(store, monkeypatch, capsys, answers: list[str]):
    monkeypatch.setattr("sys.stdin", _Terminal("".join(a + "\n" for a in answers)))
    incident = _ask_declare(store, Config(), "alice")
    return incident, capsys.readouterr().out


def test_declare_asks_commander_and_impact_start(store, monkeypatch, capsys):
    incident, out = _declare(store, monkeypatch, capsys,
                             ["Checkout failing", "1", "carol", "45m ago"])
    assert "Incident commander [alice]:" in out and "Impact started" in out
    assert (incident.title, incident.severity) == ("Checkout failing", Severity.SEV1)
    assert dict(incident.roles) == {"commander": "carol"}
    # Impact started 45 min before it was declared: that is the incident's start (elapsed counts from it).
    assert incident.detected_at - incident.started_at == timedelta(minutes=45)
    assert store.incident(incident.id).started_at == incident.started_at


def test_declare_defaults_commander_to_me_and_start_to_now(store, monkeypatch, capsys):
    incident, _ = _declare(store, monkeypatch, capsys, ["DB failover", "", "", ""])
    assert incident.severity is Severity.SEV2
    assert dict(incident.roles) == {"commander": "alice"}
    assert incident.started_at == incident.detected_at


def test_a_bad_start_time_asks_again_and_loses_nothing(store, monkeypatch, capsys):
    incident, out = _declare(store, monkeypatch, capsys, ["DB failover", "2", "bob", "yesterday-ish", "23:59"])
    assert "not a time: 'yesterday-ish'" in out
    assert incident.title == "DB failover" and dict(incident.roles) == {"commander": "bob"}
    assert (incident.started_at.hour, incident.started_at.minute) == (23, 59)
    assert incident.started_at <= incident.detected_at
