"""A leading underscore means private to its package: a module may import another's
``_name`` only from the same package (tui/config's parsers share their helpers that way),
never across packages (launch.py once borrowed cli.py's, the dashboard scheduler._why)."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("tui", "widgets", "checks")


def _private_imports() -> list[tuple[str, str, str, str]]:
    """(importing module, its package, imported module, name) for every ``from X import _name``."""
    found = []
    for top in PACKAGES:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            module = ".".join(parts[:-1] if is_package else parts)
            package = module if is_package else module.rpartition(".")[0]
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.ImportFrom):
                    continue
                if node.level:
                    base = package.split(".")
                    base = base[:len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        found.append((module, package, target, alias.name))
    return found


def _crossing(imports: list[tuple[str, str, str, str]]) -> list[str]:
    return [f"{module} imports {name} from {target}" for module, package, target, name in imports
            if target != package and target.rpartition(".")[0] != package]


def test_no_private_name_crosses_a_package():
    imports = _private_imports()
    assert imports, "the walk found no private imports at all: it is not reading the tree"
    assert _crossing(imports) == []


def test_the_walk_sees_a_crossing(tmp_path, monkeypatch):
    """The check above can fail: a module borrowing another package's private helper is caught."""
    fake = tmp_path / "tui" / "screens"
    fake.mkdir(parents=True)
    (fake / "x.py").write_text("from ..scheduler import _why\nfrom .boundary import _ok\n", encoding="utf-8")
    for top in ("widgets", "checks"):
        (tmp_path / top).mkdir()
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    imports = _private_imports()
    assert ("tui.screens.x", "tui.screens", "tui.scheduler", "_why") in imports
    assert ("tui.screens.x", "tui.screens", "tui.screens.boundary", "_ok") in imports
    assert _crossing(imports) == ["tui.screens.x imports _why from tui.scheduler"]
