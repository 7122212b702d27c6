"""`warroom run`'s start-up shortcuts (tui/cli.py) mean the same as the slow paths they skip."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui import cli
from tui.config import default_config_path

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("argv", [
    ["run", "--", "true"],
    ["run", "--kind", "mitigation", "--note", "why not", "--", "kubectl", "rollout", "undo", "deploy/x"],
    ["run", "--kind=mitigation", "--incident", "INC-2", "--author", "bob", "--", "ls", "--", "-l"],
    ["run", "--data-dir", "/tmp/x", "--config", "w.toml", "--database", "postgresql://h/db", "--", "echo", "hi"],
])
def test_the_run_fast_path_parses_as_argparse_does(argv):
    fast = cli._run_only(argv)
    slow = cli.build_parser().parse_args(argv)
    assert fast is not None and fast.func is slow.func
    command = slow.argv[1:] if slow.argv[:1] == ["--"] else slow.argv
    assert fast.argv == command
    for name in ("kind", "note", "author", "incident", "config", "data_dir", "database"):
        assert getattr(fast, name, None) == getattr(slow, name, None), name


@pytest.mark.parametrize("argv", [
    ["run", "true"], ["run", "--"], ["run", "--ki", "x", "--", "true"], ["run", "--help", "--", "true"],
    ["run", "--kind", "--", "true"], ["--config", "x", "run", "--", "true"], ["log", "--", "x"],
])
def test_anything_else_goes_to_argparse(argv):
    assert cli._run_only(argv) is None


@pytest.mark.parametrize("local,user,xdg_empty", [
    (False, False, False), (True, False, False), (False, True, False), (False, True, True), (False, False, True)])
def test_no_config_is_decided_as_default_config_path_decides(tmp_path, monkeypatch, local, user, xdg_empty):
    home = tmp_path / "home"
    xdg = tmp_path / "xdg"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("WARROOM_CONFIG", raising=False)
    if xdg_empty:
        monkeypatch.setenv("XDG_CONFIG_HOME", " ")
        config_dir = home / ".config" / "warroom"
    else:
        monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
        config_dir = xdg / "warroom"
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    if local:
        (work / "warroom.toml").write_text('[incident]\n')
    if user:
        config_dir.mkdir(parents=True)
        (config_dir / "warroom.toml").write_text('[incident]\n')
    args = type("Args", (), {"config": None})()
    config = cli._run_config(args)
    found = default_config_path()
    assert (found is None) == (type(config).__name__ == "SimpleNamespace")
    assert config.secrets == frozenset() and config.store_url is None


def test_run_imports_neither_argparse_nor_the_config_package_without_a_config(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env.update(WARROOM_DATA_DIR=str(tmp_path / "data"), WARROOM_AUTHOR="t", XDG_CONFIG_HOME=str(tmp_path / "xdg"),
               PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-m", "tui.cli", "declare", "--title", "t", "--sev", "3"], env=env,
                   cwd=tmp_path, check=True, capture_output=True)
    probe = ("import sys, runpy; sys.argv = ['warroom', 'run', '--', 'true']\n"
             "from tui.cli import main\ncode = main()\n"
             "print(sorted(m for m in ('argparse', 'tui.config', 'platformdirs', 'shutil') if m in sys.modules))\n"
             "sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
