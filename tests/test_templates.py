"""Status-update drafts: context from the incident, default and overridden templates."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from tests.test_export import T0, entry, fixed_record, m
from tui.incident.export import current_revisions
from tui.incident.model import Kind, Phase, Severity, Status
from tui.incident.redact import Redactor
from tui.incident.templates import (
    TEMPLATES,
    TemplateError,
    build_context,
    human_duration,
    load_template,
    render_update,
    suggest_template,
)


def _ongoing():
    rec = fixed_record()
    incident = replace(rec.incident, status=Status.MITIGATING, resolved_at=None, mitigated_at=None,
                       phase=Phase.INVESTIGATE)
    timeline = [e for e in current_revisions(rec.revisions) if e.ts <= m(56)]
    return incident, timeline, rec


def test_progress_update_has_every_section() -> None:
    incident, timeline, rec = _ongoing()
    ctx = build_context(incident, timeline, affected=["payments", "edge"], now=m(57),
                        checklist=rec.checklist, followups=rec.followups)
    text = render_update("progress", ctx)
    for label in ("Status: Mitigating", "Severity: SEV2 (major degradation for many users)",
                  "Affected: payments, edge", "Started: 09:00 UTC", "Duration: 57 min",
                  "Current understanding:", "Actions taken:", "Current focus:", "Next steps:",
                  "Next update at: 10:27 UTC"):
        assert label in text, label
    # Findings (current revision), actions with HH:MM, no checklist bookkeeping.
    assert "- Connection pool exhausted after deploy v1.4.3 (max 20 | needs 60)" in text
    assert "- 09:35 UTC  Rolled back payments to v1.4.2" in text
    assert "- 09:41 UTC  Rollback complete; error rate back to 0.1%" in text
    assert "Checklist ✓" not in text
    # Focus: the current phase and its open checklist items.
    assert "Investigate phase\n- Logs and metrics checked\n- Timeline established" in text
    # Next steps: open todos.
    assert "- Alert on pool saturation @dave due 2024-05-15" in text
    assert "- Load-test pool sizes before deploys" in text
    assert "${" not in text


def test_initial_acknowledgement() -> None:
    incident, timeline, _ = _ongoing()
    ctx = build_context(incident, timeline[:1], affected=["payments"], now=m(5))
    text = render_update("initial", ctx)
    assert "We are aware of issues affecting payments. We are investigating and will post an update by 09:35 UTC." \
        in text


def test_affected_falls_back_to_under_assessment() -> None:
    incident, timeline, _ = _ongoing()
    ctx = build_context(incident, timeline, now=m(5))
    assert ctx.affected == "under assessment"
    assert "scope under assessment" in render_update("initial", ctx)
    assert "Affected: under assessment" in render_update("progress", ctx)


def test_no_cadence_means_no_promised_time() -> None:
    incident, timeline, _ = _ongoing()
    ctx = build_context(replace(incident, severity=Severity.SEV4, cadence_minutes=None), timeline, now=m(5))
    assert ctx.next_update == "as needed"
    assert "will post an update as soon as we know more" in render_update("initial", ctx)


def test_resolved_notice() -> None:
    rec = fixed_record()
    ctx = build_context(rec.incident, current_revisions(rec.revisions), affected=["payments"], now=m(80))
    text = render_update("resolved", ctx)
    assert "resolved at 10:15 UTC. Total duration: 1 h 15 min." in text
    assert "Cause: Connection pool exhausted after deploy v1.4.3 (max 20 | needs 60)" in text
    assert "Resolution: Rollback complete; error rate back to 0.1%" in text


def test_dates_appear_when_not_today() -> None:
    incident, timeline, _ = _ongoing()
    ctx = build_context(incident, timeline, now=T0 + timedelta(days=1, hours=1))
    assert ctx.started == "2024-05-01 09:00 UTC"
    assert ctx.duration == "1 d 1 h"


def test_human_duration() -> None:
    assert human_duration(timedelta(seconds=59)) == "0 min"
    assert human_duration(timedelta(minutes=61)) == "1 h 01 min"
    assert human_duration(timedelta(days=2, hours=3)) == "2 d 3 h"


def test_template_dir_overrides_one_template(tmp_path: Path) -> None:
    (tmp_path / "initial.txt").write_text("Heads up: ${title} hits ${affected}. $unknown ${also_unknown}\n")
    incident, timeline, _ = _ongoing()
    ctx = build_context(incident, timeline, affected=["payments"], now=m(5))
    assert render_update("initial", ctx, tmp_path) == (
        "Heads up: Checkout | payments API returning 503s hits payments. $unknown ${also_unknown}\n")
    # The others still come from the package.
    assert render_update("progress", ctx, tmp_path) == render_update("progress", ctx)


def test_default_templates_ship_with_the_package() -> None:
    for name in TEMPLATES:
        assert "${ref}" in load_template(name)
    with pytest.raises(TemplateError, match="unknown template"):
        load_template("weekly")


def test_unreadable_override_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "progress.txt").write_bytes(b"\xff\xfe\xfa")
    with pytest.raises(TemplateError, match="progress.txt: cannot be read"):
        load_template("progress", tmp_path)


def test_drafts_are_redacted() -> None:
    incident, timeline, _ = _ongoing()
    timeline = timeline + [entry(99, 99, 1, m(56), Kind.FINDING, "bob", "leaked sk_live_abcdef in the logs")]
    ctx = build_context(incident, timeline, now=m(57))
    assert "sk_live_abcdef" not in render_update("progress", ctx, redactor=Redactor(["sk_live_abcdef"]))


def test_suggest_template() -> None:
    incident, timeline, rec = _ongoing()
    no_comms = [e for e in timeline if e.kind is not Kind.COMMS]
    assert suggest_template(incident, no_comms) == "initial"
    assert suggest_template(incident, timeline) == "progress"
    assert suggest_template(rec.incident, timeline) == "resolved"


def test_default_drafts_match_golden() -> None:
    from tests.test_export import check_golden

    incident, timeline, rec = _ongoing()
    ctx = build_context(incident, timeline, affected=["payments", "edge"], now=m(57),
                        checklist=rec.checklist, followups=rec.followups)
    for name in TEMPLATES:
        check_golden(f"update-{name}.txt", render_update(name, ctx))
