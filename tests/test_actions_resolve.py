"""Every key binding and every command-palette entry runs an action that exists.

A binding whose ``action_*`` method was removed does nothing when pressed (Textual
ignores it silently): ``R`` and the palette's "Set role" were dead that way.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from textual.actions import parse
from textual.binding import Binding
from textual.dom import DOMNode

import tui.screens
import widgets
from tui.app import WarroomApp
from tui.incident.model import Kind
from tui.screens.dashboard import Dashboard, parse_role
from widgets.incident_header import IncidentHeader
from widgets.timeline import TimelineView

from .conftest import fixed_clock, seed_incident


def _classes_with_bindings() -> list[type[DOMNode]]:
    modules = [importlib.import_module("tui.app")]
    for package in (tui.screens, widgets):
        for info in pkgutil.iter_modules(package.__path__):
            modules.append(importlib.import_module(f"{package.__name__}.{info.name}"))
    found: dict[str, type[DOMNode]] = {}
    for module in modules:
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, DOMNode) and cls.__module__ == module.__name__ and "BINDINGS" in vars(cls):
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[name] for name in sorted(found)]


def _resolves(owner: type, action: str) -> bool:
    namespace, name, _ = parse(action)
    # "app.x" runs on the app; otherwise on the node that declares the binding.
    target = WarroomApp if namespace == "app" else owner
    return callable(getattr(target, f"action_{name}", None))


CLASSES = _classes_with_bindings()


def test_the_walk_finds_the_screens_and_widgets():
    names = {cls.__name__ for cls in CLASSES}
    assert {"Dashboard", "ChoiceScreen", "HelpScreen", "UpdateScreen", "TimelineView", "EntryPrompt"} <= names


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_every_binding_resolves_to_an_action_method(cls):
    missing = []
    for binding in cls.BINDINGS:
        action = binding.action if isinstance(binding, Binding) else binding[1]
        if not _resolves(cls, action):
            missing.append(action)
    assert not missing, f"{cls.__name__} binds keys to missing actions: {missing}"


def test_every_palette_entry_resolves_and_every_dashboard_binding_has_one(store):
    inc = seed_incident(store)
    app = WarroomApp(store, inc.id, clock=fixed_clock)
    screen = Dashboard(app.session)
    entries = app.palette_actions(screen)
    assert [action for _, _, action in entries if not _resolves(Dashboard, action)] == []
    assert {action for _, _, action in entries} >= {b.action for b in Dashboard.BINDINGS}
    assert any(title.startswith("Set role") for title, _, _ in entries)


def test_a_removed_action_is_caught():
    # The check itself can fail: an action with no method does not resolve.
    assert not _resolves(Dashboard, "no_such_thing")
    assert _resolves(Dashboard, "role") and _resolves(Dashboard, "entry('note')")


@pytest.mark.parametrize("text,expected", [
    ("commander carol", ("commander", "carol")),
    ("IC  carol   smith", ("commander", "carol smith")),
    ("Scribe dave", ("scribe", "dave")),
    ("deputy", ("deputy", "")),
])
def test_parse_role(text, expected):
    assert parse_role(text) == expected


def test_parse_role_rejects_an_unknown_role_in_one_line():
    with pytest.raises(ValueError, match=r"unknown role 'boss' — .*commander, deputy, scribe, comms"):
        parse_role("boss carol")


def header_text(app) -> str:
    return app.screen.query_one(IncidentHeader).render().plain


async def test_R_assigns_a_role_end_to_end(store):
    inc = seed_incident(store)
    app = WarroomApp(store, inc.id, author="scribe", clock=fixed_clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("R", *"deputy carol", "enter")
        await pilot.pause()
        assert store.incident(inc.id).roles["deputy"] == "carol"
        last = store.timeline(inc.id)[-1]
        assert (last.kind, last.text, last.author, last.meta["event"]) == (Kind.DECISION, "Deputy: carol", "scribe", "role")
        assert "Deputy carol" in header_text(app)
        # An unknown role: one line saying why, nothing written, the text still in the prompt.
        before = len(store.entries(inc.id))
        await pilot.press("R", *"boss eve", "enter")
        await pilot.pause()
        assert len(store.entries(inc.id)) == before
        assert app.screen.query_one("#prompt-input").value == "boss eve"
        assert any("unknown role 'boss'" in n.message for n in app._notifications)
        await pilot.press("escape")
        assert app.screen.query_one(TimelineView).has_focus


async def test_palette_set_role_runs_the_same_action(store):
    inc = seed_incident(store)
    app = WarroomApp(store, inc.id, author="scribe", clock=fixed_clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("ctrl+p", *"Set role")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press(*"comms dave", "enter")
        await pilot.pause()
        assert store.incident(inc.id).roles["comms"] == "dave"
        assert "Comms dave" in header_text(app)
