"""The docs and the code cite only files that are in this repository, and the map in
ARCHITECTURE.md names files that exist (a moved or renamed module must move its line)."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("tui", "widgets", "checks", "tests")
# A file path as the docs write it: `tui/sources.py`, `checks/specs.py`, `tests/servers.py`.
PATH = re.compile(r"`((?:tui|widgets|checks|tests|screenshots)/[\w./-]+\.(?:py|tcss|txt|svg|md|toml))`")
MD_NAME = re.compile(r"\b([A-Z][A-Z_]+\.md)\b")


def _texts():
    yield ROOT / "README.md"
    yield ROOT / "ARCHITECTURE.md"
    for folder in SCANNED:
        yield from (p for p in (ROOT / folder).rglob("*.py") if "__snapshots__" not in p.parts)


def test_every_markdown_file_cited_is_in_the_repository():
    missing = []
    for path in _texts():
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for name in MD_NAME.findall(line):
                if not (ROOT / name).is_file():
                    missing.append(f"{path.relative_to(ROOT)}:{line_no} cites {name}")
    assert missing == []


def test_the_architecture_map_names_files_that_exist():
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    named = set(PATH.findall(text))
    assert len(named) > 20, "the map names the files to open"
    assert sorted(p for p in named if not (ROOT / p).is_file()) == []


def test_the_readme_names_files_that_exist():
    named = set(PATH.findall((ROOT / "README.md").read_text(encoding="utf-8")))
    assert sorted(p for p in named if not (ROOT / p).is_file()) == []
