"""Config defaults are declared once, on the spec dataclasses: the loader fills them in and
the example `warroom init` writes renders them (tui/config/example.py); the README's config
block is checked against that example (tests/test_config.py)."""
from __future__ import annotations

import dataclasses
import re
import tomllib

from checks.specs import ServiceSpec
from tui.config.example import EXAMPLE_CONFIG, SECTION_SPECS, TEMPLATE, default_of, render, toml_value


def _plain(value):
    """A spec's default as tomllib reads it back (tuples are arrays)."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _switched_on(text: str) -> dict:
    return tomllib.loads(re.sub(r"^#(?=[\[\w])", "", text, flags=re.M))


def _rendered_keys() -> list[tuple[str, str]]:
    section, keys = None, []
    for line in TEMPLATE.splitlines():
        header = re.match(r"^#?\[\[?([\w.]+)\]\]?", line)
        if header:
            section = header[1]
        found = re.match(r"^#?(\w+) = @", line)
        if found:
            keys.append((section, found[1]))
    return keys


def test_every_default_in_the_example_is_the_specs():
    keys = _rendered_keys()
    assert len(keys) >= 25, keys           # most of the example's numbers come from the specs
    example = _switched_on(EXAMPLE_CONFIG)
    for section, key in keys:
        table = example[section][0] if isinstance(example[section], list) else example[section]
        assert table[key] == _plain(default_of(SECTION_SPECS[section], key)), (section, key)
    assert not re.search(r"^#?\w+ = @", EXAMPLE_CONFIG, re.M), "a default was left unrendered"


def test_a_changed_default_changes_the_example():
    @dataclasses.dataclass(frozen=True)
    class SlowerServices(ServiceSpec):
        interval: float = 42.5
        timeout: float = 7.0
        method: str = "HEAD"

    specs = {**SECTION_SPECS, "services": SlowerServices}
    text = render(TEMPLATE, specs)
    services = _switched_on(text)["services"][0]
    assert (services["interval"], services["timeout"], services["method"]) == (42.5, 7, "HEAD")
    # The comment stays in its column whatever the value's width.
    lines = [line for line in text.splitlines() if line.startswith(("#interval = 42.5", "#timeout = 7 "))]
    assert len(lines) == 2 and lines[0].index("# seconds") == lines[1].index("# seconds")


def test_toml_values_read_back():
    for value in (5.0, 2.5, 15, True, False, "GET", 'a "quoted" \\ path', (85.0, 95.0), (), {"SEV1": 15, "SEV2": 30}):
        assert tomllib.loads(f"x = {toml_value(value)}")["x"] == _plain(value)
