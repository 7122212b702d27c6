"""The incident's vocabulary is defined once, in tui/incident/: config validation, the
checklist widget, the webhook poster and the sources use those very objects, and the
defaults the config falls back on are the model's."""
from __future__ import annotations

import pytest

import checks.base
import tui.config
import tui.incident.notify
from tui.incident import model, specs
from tui.incident.model import DEFAULT_CADENCE, DEFAULT_ESCALATE_AFTER, Kind, Phase, Severity, Status
from widgets import checklist


def test_the_names_follow_the_enums_in_order():
    assert model.PHASES == ("Triage", "Mitigate", "Investigate", "Resolve", "Verify", "Postmortem")
    assert model.SEVERITIES == ("SEV1", "SEV2", "SEV3", "SEV4")
    assert model.STATUSES == tuple(s.value for s in Status)
    assert model.KINDS == tuple(k.value for k in Kind) and "system" in model.KINDS


def test_config_widgets_notify_and_checks_use_the_domains_objects():
    assert tui.config.PHASES is model.PHASES
    assert tui.config.SEVERITIES is model.SEVERITIES
    assert tui.config.NOTIFY_KINDS is specs.NOTIFY_KINDS
    assert tui.config.IncidentDefaults is specs.IncidentDefaults
    assert tui.config.NotifySpec is specs.NotifySpec
    assert tui.incident.notify.KINDS is specs.NOTIFY_KINDS
    assert checklist.PHASES is model.PHASES
    assert set(checklist.SHORT) == set(model.PHASES)      # an abbreviation for every phase
    assert checks.base.utcnow is model.utcnow


def test_incident_defaults_are_the_models():
    defaults = specs.IncidentDefaults()
    assert {Severity.parse(k): v for k, v in defaults.cadence_minutes.items()} == {
        sev: minutes for sev, minutes in DEFAULT_CADENCE.items() if minutes is not None}
    assert defaults.escalate_after_minutes == DEFAULT_ESCALATE_AFTER.total_seconds() / 60 == 30.0


@pytest.mark.parametrize("enum, typed, expected", [
    (Status, " monitoring ", Status.MONITORING),
    (Phase, "VERIFY", Phase.VERIFY),
    (Kind, "Mitigation", Kind.MITIGATION),
])
def test_one_parse_for_the_named_enums(enum, typed, expected):
    assert enum.parse(typed) is expected


@pytest.mark.parametrize("enum, word", [(Status, "status"), (Phase, "phase"), (Kind, "kind")])
def test_a_bad_name_says_what_the_choices_are(enum, word):
    with pytest.raises(ValueError) as err:
        enum.parse("bogus")
    message = str(err.value)
    assert message.startswith(f"{word} must be one of ") and message.endswith("got 'bogus'")
    assert all(member.value in message for member in enum)


def test_utcnow_is_aware_and_kept_to_the_millisecond():
    now = model.utcnow()
    assert now.tzinfo is not None and now.utcoffset().total_seconds() == 0
    assert now.microsecond % 1000 == 0
