"""The signals panes at rest: hostile alert fields still cut on the fast path; an unchanged
round costs no redraw; a changed alert or metric is drawn in the same round."""
from __future__ import annotations

import copy

from checks.alerts import TEXT_LIMIT, group_alerts


def test_alert_parse_fast_path_still_cuts_and_converts_hostile_fields():
    long = "x" * (TEXT_LIMIT + 50)
    many = {f"l{i:03d}": "v" for i in range(150)}
    alerts = [
        {"labels": {"alertname": "Plain", "severity": "critical", "pod": "a"},
         "annotations": {"summary": "ok summary", "runbook_url": "https://rb/1"}, "status": {"state": "active"}},
        {"labels": {"alertname": "Long", "severity": 7, long: long},
         "annotations": {"summary": long}, "status": {"state": "active"}},
        {"labels": {"alertname": "Many", **many}, "annotations": {"summary": 12}, "status": {"state": "active"}},
    ]
    before = copy.deepcopy(alerts)
    groups, firing = group_alerts(alerts)
    by = {g.name: g for g in groups}
    assert firing == 3 and set(by) == {"Plain", "Long", "Many"}
    assert by["Plain"].summary == "ok summary" and by["Plain"].runbook_url == "https://rb/1"
    cut = long[: TEXT_LIMIT - 1] + "…"
    assert by["Long"].summary == cut and by["Long"].severity == "7"
    assert (cut, cut) in by["Long"].labels and all(len(k) <= TEXT_LIMIT for k, _ in by["Long"].labels)
    # Only the first 100 labels count (alertname is the first), a number annotation becomes text.
    assert len(by["Many"].labels) == 100 and by["Many"].summary == "12"
    assert alerts == before        # the answer's own dicts are read, never changed
