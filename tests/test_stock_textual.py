"""The Textual hooks' one switch (tui/textual_hooks): every hook is off under a Textual
other than the tested release, or when WARROOM_STOCK_TEXTUAL says so, and the app then
works on stock Textual alone: the dashboard under Pilot with real sources, and the
snapshot tests, pass with every hook off and draw the same screens."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from textual._compositor import Compositor
from textual.css.stylesheet import Stylesheet
from textual.widgets import DataTable, Footer

from tui import textual_hooks
from tui.textual_hooks import ENV, HOOKS

from .samples import feed_samples, sample_app

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def switch(monkeypatch):
    """The switch decided afresh under the test's environment, and again after it."""
    def decide(env: str | None) -> dict[str, bool]:
        if env is None:
            monkeypatch.delenv(ENV, raising=False)
        else:
            monkeypatch.setenv(ENV, env)
        textual_hooks.reset()
        return {name: textual_hooks.active(name) for name in HOOKS}

    yield decide
    textual_hooks.reset()


def test_the_installed_textual_is_the_tested_one():
    # make venv installs constraints.txt: the hooks are tested on what CI runs.
    assert textual_hooks.textual_is_tested()
    pins = (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
    assert f"textual=={textual_hooks.TESTED_TEXTUAL}" in pins


def test_every_hook_is_on_under_the_tested_textual(switch):
    assert all(switch(None).values())
    assert all(switch("0").values())
    assert textual_hooks.stock_reason() is None


@pytest.mark.parametrize("value", ["1", "all", "yes", "compositer"])
def test_the_environment_turns_every_hook_off(switch, value):
    assert not any(switch(value).values())
    assert ENV in textual_hooks.stock_reason()


def test_the_environment_turns_named_hooks_off(switch):
    state = switch("table, compositor")
    assert not state["table"] and not state["compositor"]
    assert all(on for name, on in state.items() if name not in ("table", "compositor"))


def test_another_textual_turns_every_hook_off(switch, monkeypatch):
    monkeypatch.setattr(textual_hooks, "TESTED_TEXTUAL", "8.2.7")     # no such dist-info beside textual
    assert not textual_hooks.textual_is_tested()
    assert not any(switch(None).values())
    assert "not 8.2.7" in textual_hooks.stock_reason()


def test_the_package_pins_the_tested_range():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"textual>=8.2.8,<8.3",' in text
    assert textual_hooks.TESTED_TEXTUAL.startswith("8.2.")


@pytest.mark.skipif(os.environ.get(ENV) != "1", reason=f"run by the stock run below ({ENV}=1)")
async def test_with_every_hook_off_the_dashboard_is_stock_textual(store):
    """In the stock run: nothing of tui/textual_hooks is in the dashboard, and it still draws."""
    import widgets.table

    assert widgets.table.Table is widgets.table.StockTable
    app = sample_app(store)
    async with app.run_test(size=(160, 48)) as pilot:
        await feed_samples(pilot)
        screen = app.screen
        assert type(screen._compositor) is Compositor
        assert type(app.stylesheet) is Stylesheet
        footer = type(screen.query_one(Footer))
        assert not [c for c in footer.__mro__ if c.__module__.startswith("tui.textual_hooks")]
        tables = list(screen.query(DataTable))
        assert tables and not [c for t in tables for c in type(t).__mro__ if c.__module__.startswith("tui.textual_hooks")]
        # Frames come from Textual's own update timer, not the pacing hook's loop timers.
        assert screen._frame_soon is None and screen._frame_wait is None
        text = "\n".join(strip.text for strip in screen._compositor.render_strips())
        assert "payments" in text and "Commander" in text


@pytest.mark.slow
def test_the_app_works_with_every_hook_off():
    """The dashboard under Pilot with real sources (HTTP server, API stand-in, git repo) and
    the snapshot tests, run with WARROOM_STOCK_TEXTUAL=1: same behaviour, same screens."""
    env = {**os.environ, ENV: "1"}
    tests = ["tests/test_live_pilot.py", "tests/test_snapshots_full.py", "tests/test_snapshots_commander.py",
             "tests/test_stock_textual.py::test_with_every_hook_off_the_dashboard_is_stock_textual"]
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
                           "-rs", *tests], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    tail = proc.stdout[-3000:] + proc.stderr[-2000:]
    assert proc.returncode == 0, tail
    assert "skipped" not in proc.stdout.splitlines()[-1], tail      # the stock probe and all others ran
    assert "snapshots passed" in proc.stdout, tail
