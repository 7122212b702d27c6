"""Parsed CSS kept between runs (tui/textual_hooks/css_cache.py): same rules, same screen, never trusted blindly."""
from __future__ import annotations

import os
import pickle
import re

import pytest
from textual.css.stylesheet import Stylesheet

from tui.textual_hooks import active, css_cache
from tui.textual_hooks.css_cache import KeptStylesheet
from tui.incident.store import Store

from .samples import feed_samples, sample_app


def _describe(rules) -> list:
    """What a rule set means to Textual, field by field (RuleSet has no __eq__ of its own, and
    a layout value compares by identity, so values are compared by their repr)."""
    return [(r.selector_set, {k: repr(v) for k, v in r.styles.get_rules().items()}, r.is_default_rules,
             r.tie_breaker, r.selector_names, r.pseudo_classes, r.errors) for r in rules]


async def _run(data_dir, size=(160, 48)):
    with Store(data_dir) as store:        # a store of its own: the same incident, INC-1, each run
        return await _run_on(store, size)


async def _run_on(store, size):
    app = sample_app(store)
    async with app.run_test(size=size) as pilot:
        await feed_samples(pilot)
        # The SVG's class names carry a per-export id; the cells and styles are what matter.
        screen = re.sub(r"terminal-\d+", "terminal", app.export_screenshot())
        sheet = app.stylesheet
        used = dict(sheet._used)
        hits, parsed = sheet.kept_hits, sheet._parsed_any
    return screen, used, hits, parsed, sheet._variables


@pytest.mark.skipif(not active("css_cache"), reason="the css_cache hook is off (tui/textual_hooks)")
async def test_second_start_takes_every_rule_from_the_file_and_draws_the_same(tmp_path, monkeypatch):
    monkeypatch.setenv("WARROOM_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "cache" / css_cache.FILE_NAME

    first, used1, hits1, parsed1, variables = await _run(tmp_path / "data1")
    assert hits1 == 0 and parsed1 and path.exists()       # nothing kept yet: parsed, then written
    assert oct(path.stat().st_mode & 0o777) == "0o600"

    second, used2, hits2, parsed2, _ = await _run(tmp_path / "data2")
    assert not parsed2 and hits2 == len(used2) > 20       # every source came from the file
    assert second == first                                # and the screen is the same, cell for cell

    # Each kept source means what a fresh parse of its text means.
    fresh = Stylesheet(variables=variables)
    for (css, read_from, is_default, tie_breaker, scope), rules in used2.items():
        parsed = fresh._parse_rules(css, read_from, is_default, tie_breaker, scope)
        assert _describe(rules) == _describe(parsed), read_from

    # The file holds the last run's sources only: it never grows with old ones.
    _, entries = pickle.loads(path.read_bytes())
    assert set(entries) == set(used2)


def _kept_file(tmp_path, variables):
    sheet = KeptStylesheet(variables=variables, path=tmp_path / "rules.pickle")
    sheet.add_source("Screen { background: $background; } #x { color: red; }", read_from=("t.tcss", ""))
    sheet.parse()
    assert sheet.save()
    return tmp_path / "rules.pickle"


VARIABLES = {"background": "#000000"}


def test_a_file_for_other_variables_or_textual_files_is_not_used(tmp_path, monkeypatch):
    path = _kept_file(tmp_path, VARIABLES)
    assert len(css_cache.load(path, VARIABLES)) == 1
    assert css_cache.load(path, {"background": "#ffffff"}) == {}      # another theme
    monkeypatch.setattr(css_cache, "_TEXTUAL_FILES", css_cache._TEXTUAL_FILES + ("css/match.py",))
    assert css_cache.load(path, VARIABLES) == {}                      # another Textual


@pytest.mark.parametrize("damage", ["truncated", "garbage", "not rules", "missing"])
def test_a_damaged_file_means_parsing_as_usual(tmp_path, damage):
    path = _kept_file(tmp_path, VARIABLES)
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    elif damage == "garbage":
        path.write_bytes(b"\x00not a pickle at all")
    elif damage == "not rules":
        stamp, entries = pickle.loads(path.read_bytes())
        path.write_bytes(pickle.dumps((stamp, {key: ["a string"] for key in entries})))
    else:
        path.unlink()
    assert css_cache.load(path, VARIABLES) == {}
    sheet = KeptStylesheet(variables=VARIABLES, path=path)
    sheet.add_source("#x { color: red; }", read_from=("t.tcss", ""))
    assert len(sheet.rules) == 1 and sheet.kept_hits == 0


def test_a_file_others_can_write_is_not_read(tmp_path):
    path = _kept_file(tmp_path, VARIABLES)
    os.chmod(path, 0o666)
    assert css_cache.load(path, VARIABLES) == {}
    os.chmod(path, 0o600)
    os.chmod(tmp_path, 0o777)
    try:
        assert css_cache.load(path, VARIABLES) == {}
    finally:
        os.chmod(tmp_path, 0o700)
    assert len(css_cache.load(path, VARIABLES)) == 1


def test_an_unwritable_cache_only_costs_the_next_parse(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory would go")
    sheet = KeptStylesheet(variables=VARIABLES, path=blocker / "rules.pickle")
    sheet.add_source("#x { color: red; }", read_from=("t.tcss", ""))
    assert len(sheet.rules) == 1
    assert sheet.save() is False
    assert list(tmp_path.iterdir()) == [blocker]          # no temporary file left behind


def test_a_theme_change_parses_again_and_writes_nothing(tmp_path):
    path = _kept_file(tmp_path, VARIABLES)
    before = path.read_bytes()
    sheet = KeptStylesheet(variables=VARIABLES, path=path)
    sheet.add_source("Screen { background: $background; } #x { color: red; }", read_from=("t.tcss", ""))
    sheet.parse()
    assert sheet.kept_hits == 1
    assert sheet.rules[0].styles.background.hex == "#000000"
    sheet.set_variables({"background": "#FFFFFF"})
    sheet.reparse()
    assert sheet.rules[0].styles.background.hex == "#FFFFFF"
    assert sheet.save() is False and path.read_bytes() == before


def test_nothing_parsed_nothing_written(tmp_path):
    path = _kept_file(tmp_path, VARIABLES)
    mtime = path.stat().st_mtime_ns
    sheet = KeptStylesheet(variables=VARIABLES, path=path)
    sheet.add_source("Screen { background: $background; } #x { color: red; }", read_from=("t.tcss", ""))
    sheet.parse()
    assert sheet.kept_hits == 1 and sheet.save() is False and path.stat().st_mtime_ns == mtime
