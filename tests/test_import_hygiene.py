"""The dependency rules of ARCHITECTURE.md that import-linter cannot see (it reads the
import graph, statically; the contracts in pyproject.toml, run by `make lint`, hold the
layers and the absence of cycles), enforced:

* ``tui/incident/`` and ``checks/`` never import textual;
* ``import tui.cli`` and its store-only subcommands stay light (no textual, no
  kubernetes client, no httpx/psutil/git), so ``warroom log`` answers at once;
* ``widgets/`` never imports httpx, psutil, kubernetes or git, nor opens a file (they
  render snapshots);
* opening the dashboard (app, panes, live sources built) imports none of them either:
  the sources' libraries are loaded by their first poll, after the first frame; nor, up
  to the first frame, the checks modules whose snapshot types the panes show.

Modules are found by globbing, so files added later are covered too. Imports are
checked in fresh interpreters: this test process has long since imported textual.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("textual", "kubernetes", "httpx", "psutil", "git")
WIDGET_FORBIDDEN = {"httpx", "psutil", "kubernetes", "git", "sqlite3", "socket", "subprocess"}


def _modules(package_dir: str) -> list[str]:
    base = ROOT / package_dir
    names = []
    for path in sorted(base.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _fresh_python(code: str) -> dict:
    """Run ``code`` in a new interpreter at the repo root; it prints one JSON value last."""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


_IMPORT_EACH = """
import importlib, json, sys
heavy = {heavy!r}
first = {{}}
for name in {modules!r}:
    importlib.import_module(name)
    for mod in heavy:
        if mod in sys.modules and mod not in first:
            first[mod] = name
print(json.dumps(first))
"""


def test_modules_are_discovered():
    incident, checks = _modules("tui/incident"), _modules("checks")
    assert {"tui.incident", "tui.incident.model", "tui.incident.store", "tui.incident.timers"} <= set(incident)
    assert {"checks", "checks.base", "checks.specs"} <= set(checks)


@pytest.mark.parametrize("package_dir", ["tui/incident", "checks"])
def test_domain_and_checks_never_import_textual(package_dir):
    modules = _modules(package_dir)
    first = _fresh_python(_IMPORT_EACH.format(heavy=("textual",), modules=modules))
    assert first == {}, f"{first['textual']} pulled in textual"


def test_importing_the_cli_is_light():
    first = _fresh_python(_IMPORT_EACH.format(heavy=HEAVY, modules=["tui.cli"]))
    assert first == {}, f"import tui.cli pulled in {sorted(first)}"


def test_store_commands_stay_light(tmp_path):
    code = f"""
import contextlib, io, json, os, sys
os.environ.pop("WARROOM_CONFIG", None)
os.environ["XDG_CONFIG_HOME"] = {str(tmp_path / "xdg")!r}
from tui.cli import main
data = ["--data-dir", {str(tmp_path / "data")!r}]
codes = []
with contextlib.redirect_stdout(io.StringIO()):
    for argv in (["declare", "--title", "t", "--sev", "2"], ["log", "--kind", "action", "x"],
                 ["status"], ["incidents"], ["resolve"]):
        codes.append(main(argv + data))
print(json.dumps({{"codes": codes, "loaded": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""
    result = _fresh_python(code)
    assert result == {"codes": [0, 0, 0, 0, 0], "loaded": []}


def test_dashboard_start_up_imports_no_source_library(tmp_path):
    """Up to the first frame the dashboard needs the sources' snapshot types, not their
    libraries: httpx, psutil, git and kubernetes are imported by the first polls, after the
    first frame and off the UI thread (they cost ~30 ms of start-up on the UI thread)."""
    (tmp_path / "kubeconfig").write_text("apiVersion: v1\n", encoding="utf-8")   # read by the first poll
    config = tmp_path / "warroom.toml"
    config.write_text(
        '[[services]]\nname = "api"\nurl = "https://127.0.0.1:1/healthz"\n\n'
        '[[services]]\nname = "db"\nurl = "http://127.0.0.1:1/healthz"\nverify = false\n\n'
        '[host]\ninterval = 1\n\n'
        f'[kubernetes]\nkubeconfig = {json.dumps(str(tmp_path / "kubeconfig"))}\n\n'
        f'[[repos]]\npath = {json.dumps(str(tmp_path))}\n', encoding="utf-8")
    code = f"""
import json, sys
from tui.config import load_config
from tui.incident.model import Severity
from tui.incident.store import Store
from tui.launch import run_dashboard
from tui.sources import build_panes, build_sources
from tui.app import WarroomApp
config = load_config({str(config)!r})
snapshot_modules = ("checks.health", "checks.host", "checks.pods", "checks.deploys")
with Store({str(tmp_path / "data")!r}) as store:
    incident = store.declare("t", Severity.SEV2, author="a")
    # What run_dashboard builds before the first frame: the panes, empty.
    app = WarroomApp(store, incident.id, panes=build_panes(config), config=config,
                     sources_later=lambda: build_sources(config, incident=incident))
    before = [m for m in snapshot_modules if m in sys.modules]
    app.build_later_sources()      # what the dashboard does just after its first frame
print(json.dumps({{"panes": list(app.panes), "sources": sorted(s.name for s in app.sources),
                  "snapshot_modules_before_first_frame": before,
                  "loaded": [m for m in ("httpx", "psutil", "git", "kubernetes") if m in sys.modules]}}))
"""
    result = _fresh_python(code)
    assert result == {"panes": ["health", "host", "pods", "deploys"], "sources": ["deploys", "health", "host", "pods"],
                      "snapshot_modules_before_first_frame": [], "loaded": []}


def _imported_roots(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, top-level module) for every import anywhere in the file, including
    function-local and TYPE_CHECKING ones, and __import__/import_module("x") calls."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in ("__import__", "import_module"):
                found.append((node.lineno, node.args[0].value.split(".")[0]))
    return found


def test_the_static_check_sees_every_kind_of_import():
    tree = ast.parse(
        "import httpx\nimport os, psutil.tests\nfrom kubernetes import client\n"
        "def f():\n    from git import Repo\n"
        "if TYPE_CHECKING:\n    import textual\n"
        "importlib.import_module('httpx')\n__import__('psutil')\nfrom . import git\n"
    )
    assert sorted(m for _, m in _imported_roots(tree)) == sorted(
        ["httpx", "os", "psutil", "kubernetes", "git", "textual", "httpx", "psutil"])


def test_widgets_never_import_io_libraries():
    files = sorted((ROOT / "widgets").rglob("*.py"))
    assert files, "no widgets found"
    offences = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        offences += [f"{path.relative_to(ROOT)}:{line} imports {mod}"
                     for line, mod in _imported_roots(tree) if mod in WIDGET_FORBIDDEN]
    assert offences == []


def _opens(tree: ast.AST) -> list[int]:
    """Lines that call open(...), Path(...).open/read_text/write_text/read_bytes/write_bytes."""
    io_methods = {"open", "read_text", "write_text", "read_bytes", "write_bytes"}
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if (isinstance(func, ast.Name) and func.id == "open") or \
                    (isinstance(func, ast.Attribute) and func.attr in io_methods):
                lines.append(node.lineno)
    return lines


def test_the_open_check_sees_file_access():
    tree = ast.parse("open('x')\nPath('y').read_text()\nwith p.open() as f: pass\nself.opened()\n")
    assert _opens(tree) == [1, 2, 3]


def test_widgets_never_open_files():
    offences = []
    for path in sorted((ROOT / "widgets").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        offences += [f"{path.relative_to(ROOT)}:{line} opens a file" for line in _opens(tree)]
    assert offences == []


def test_the_layer_contracts_name_every_app_module():
    """The contracts that keep tui/incident and checks below the app list the app's modules
    by name: a module added to tui/ must join them (or it could be imported from below)."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    app_modules = {f"tui.{p.stem if p.is_file() else p.name}" for p in (ROOT / "tui").iterdir()
                   if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()}
    app_modules -= {"tui.incident"}
    for source in (["tui.incident"], ["checks"]):
        [contract] = [c for c in contracts if c["type"] == "forbidden" and c["source_modules"] == source]
        assert sorted(app_modules - set(contract["forbidden_modules"])) == [], contract["name"]
