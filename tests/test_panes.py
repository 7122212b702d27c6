"""The pane registry (tui/panes.py): every record resolves, and the panes, their sources and
their red error snapshots are built from the records alone, so a new pane is one record."""
from __future__ import annotations

from dataclasses import replace

import pytest
from textual.widget import Widget

from checks.base import Level, Snapshot
from checks.specs import AlertmanagerSpec, KubeSpec, LogSpec, MetricSpec, PrometheusSpec
from tui import panes
from tui.config import Config
from tui.config.schemas import _SECTIONS
from tui.incident.model import Severity
from tui.scheduler import LiveSource
from tui.sources import build_panes, build_sources, error_snapshot

from .servers import LocalHTTPServer

ORDER = ["health", "host", "pods", "deploys", "alerts", "metrics", "logs"]


def full_config(url: str) -> Config:
    # Unreachable or local servers only: building a source connects to nothing.
    return Config(kubernetes=KubeSpec(kubeconfig="/nonexistent/kubeconfig"),
                  alertmanager=AlertmanagerSpec(url=url), prometheus=PrometheusSpec(url=url),
                  metrics=(MetricSpec(name="errors", query="sum(up)"),),
                  logs=(LogSpec(name="api", path="/nonexistent/api.log"),))


def test_every_record_resolves_to_a_widget_a_snapshot_and_a_factory():
    assert [p.name for p in panes.PANES] == ORDER
    for record in panes.PANES:
        assert issubclass(record.widget_class(), Widget), record
        assert issubclass(record.snapshot_class(), Snapshot), record
        assert callable(record.source_factory()), record
        assert record.sections and all(section in _SECTIONS for section in record.sections), record
        assert panes.pane(record.name) is record
    assert panes.pane("nope") is None


def test_error_snapshot_is_the_records_snapshot_in_red():
    for record in panes.PANES:
        snapshot = error_snapshot(record.name, "could not start: boom")
        assert type(snapshot) is record.snapshot_class()
        assert snapshot.level is Level.CRIT and snapshot.error == "could not start: boom"
    assert error_snapshot("nope", "x") is None


def test_which_panes_a_config_shows():
    assert [p.name for p in panes.shown(Config())] == ["health", "host", "pods", "deploys"]
    assert [p.name for p in panes.shown(Config(kubernetes=KubeSpec(enabled=False)))] == ["health", "host", "deploys"]
    assert [p.name for p in panes.shown(full_config("http://127.0.0.1:9"))] == ORDER
    assert panes.has_signals(["health", "metrics"]) and not panes.has_signals(["health", "pods", "nope"])


def test_panes_and_sources_are_built_from_the_records(store, tmp_path):
    incident = store.declare("registry", Severity.SEV3, author="ic")
    with LocalHTTPServer() as http:
        config = full_config(http.url("/"))
        built = build_panes(config)
        assert list(built) == ORDER
        for record in panes.PANES:
            assert type(built[record.name]) is record.widget_class()
        # Signal panes share their row; none is wide (one alone is).
        assert not built["alerts"].has_class("-wide") and not built["metrics"].has_class("-wide")
        assert build_panes(replace(config, prometheus=None, logs=()))["alerts"].has_class("-wide")

        bundle = build_sources(config, incident=incident, cwd=tmp_path)
        try:
            assert [s.name for s in bundle.sources] == ORDER
            assert all(isinstance(s, LiveSource) and s.origin is not None for s in bundle.sources)
            # Deploys turn suspect from the first failure health sees: the one hook between two panes.
            assert list(bundle.hooks) == ["health"]
        finally:
            for source in bundle.sources:
                result = source.close() if source.close else None
                if hasattr(result, "close"):
                    result.close()       # an aclose() coroutine nobody awaits here


MADE: list[str] = []


def echo_source(config, ctx) -> LiveSource:
    """The source factory of the made-up pane below."""
    MADE.append(ctx.incident_started.isoformat())
    return LiveSource("echo", lambda: None, 1.0, lambda a, b: [], lambda why: why, origin=object())


def test_a_new_pane_is_one_record(store, tmp_path, monkeypatch):
    """A record naming an existing widget, snapshot and factory is built, polled and shown red
    without touching tui/sources.py: the registry is all the wiring there is."""
    MADE.clear()
    echo = panes.Pane("echo", "widgets.host:HostPane", "checks.host:HostSnapshot", f"{__name__}:echo_source",
                      ("host",), shown=lambda config: True)
    monkeypatch.setattr(panes, "PANES", (*panes.PANES, echo))
    monkeypatch.setattr(panes, "_BY_NAME", {**panes._BY_NAME, "echo": echo})
    config = Config(kubernetes=KubeSpec(enabled=False))
    assert list(build_panes(config)) == ["health", "host", "deploys", "echo"]
    incident = store.declare("registry", Severity.SEV3, author="ic")
    bundle = build_sources(config, incident=incident, cwd=tmp_path)
    try:
        assert [s.name for s in bundle.sources] == ["health", "host", "deploys", "echo"]
        assert MADE == [incident.started_at.isoformat()]
        assert error_snapshot("echo", "down").error == "down"
    finally:
        for source in bundle.sources:
            result = source.close() if source.close else None
            if hasattr(result, "close"):
                result.close()


@pytest.mark.parametrize("record", panes.PANES, ids=lambda r: r.name)
def test_the_readme_names_each_panes_sections(record):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for section in record.sections:
        header = f"[[{section}]]" if _SECTIONS[section] else f"[{section}]"
        assert header in readme, header
