"""Who writes (issue 16, presence): --author, else $WARROOM_AUTHOR, else [user] name in the
config, else the login name, for the CLI and the dashboard alike; the dashboard on a shared
store shows itself (name, role, read-only) in every other dashboard's header."""
from __future__ import annotations

import getpass
import time
from pathlib import Path

import pytest

from tests.ptyproc import PtyProcess
from tui.cli import _dashboard_only, main
from tui.config import check_config
from tui.incident.model import Severity
from tui.incident.store import Store
from tui.incident.store_pg import PgStore


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WARROOM_AUTHOR", raising=False)
    monkeypatch.delenv("WARROOM_DATABASE_URL", raising=False)
    monkeypatch.setenv("WARROOM_DATA_DIR", str(tmp_path / "data"))
    config = tmp_path / "warroom.toml"
    monkeypatch.setenv("WARROOM_CONFIG", str(config))
    config.write_text('[user]\nname = "Alice Ng"\n')
    with Store(tmp_path / "data") as store:
        store.declare("Checkout failing", Severity.SEV2, author="setup")
    return tmp_path


def last_author(folder: Path) -> str:
    with Store(folder / "data") as store:
        return store.timeline(1)[-1].author


def test_the_config_names_the_author_when_nothing_else_does(cli, capsys):
    assert main(["log", "from the config"]) == 0
    assert last_author(cli) == "Alice Ng"


def test_the_environment_comes_before_the_config(cli, monkeypatch):
    monkeypatch.setenv("WARROOM_AUTHOR", "env-bob")
    assert main(["log", "from the environment"]) == 0
    assert last_author(cli) == "env-bob"


@pytest.mark.parametrize("argv", [["log", "--author", "flag-carol", "x"], ["--author", "flag-carol", "log", "x"]])
def test_the_option_comes_first_before_or_after_the_command(cli, monkeypatch, argv):
    monkeypatch.setenv("WARROOM_AUTHOR", "env-bob")
    assert main(argv) == 0
    assert last_author(cli) == "flag-carol"


def test_without_any_the_login_name(cli):
    (cli / "warroom.toml").write_text("")
    assert main(["log", "x"]) == 0
    assert last_author(cli) == getpass.getuser()


def test_the_dashboards_fast_path_takes_author():
    assert _dashboard_only(["--author=dana", "--read-only"]).author == "dana"
    assert _dashboard_only(["--author", "dana"]).author == "dana"


@pytest.mark.parametrize("value, problem", [
    ('""', "user.name is empty"),
    ('"   "', "user.name is empty"),
    ("42", "must be a string"),
    ('"alice\\nbob"', "control character"),
    ('"' + "a" * 65 + '"', "65 characters long (at most 64)"),
])
def test_a_bad_user_name_is_one_line_with_its_place(tmp_path, value, problem):
    config = tmp_path / "warroom.toml"
    config.write_text(f'[store]\n\n[user]\nname = {value}\n')
    (line,) = check_config(config)
    assert f"{config}:4:" in line and problem in line and " — " in line


def test_a_misspelt_user_key_is_caught(tmp_path):
    config = tmp_path / "warroom.toml"
    config.write_text('[user]\nnmae = "alice"\n')
    (line,) = check_config(config)
    assert ":2:" in line and "nmae" in line


def test_the_example_config_shows_the_user_section(tmp_path):
    assert main(["init", str(tmp_path / "w.toml")]) == 0
    text = (tmp_path / "w.toml").read_text()
    assert "#[user]\n#name = " in text
    uncommented = text.replace("#[user]", "[user]").replace('#name = "alice"', 'name = "alice"')
    (tmp_path / "u.toml").write_text(uncommented)
    assert check_config(tmp_path / "u.toml") == []


@pytest.mark.slow
def test_a_dashboard_shows_who_it_is_to_the_others(pg_url, tmp_path):
    """A real dashboard process, named by [user] name, read-only: another store lists it."""
    with PgStore(pg_url, tmp_path / "ic") as ic:
        ic.declare("Checkout failing", Severity.SEV2, author="ic", roles={"scribe": "Alice Ng"})
        config = tmp_path / "warroom.toml"
        config.write_text('[user]\nname = "Alice Ng"\n')
        proc = PtyProcess(["-m", "tui.cli", "--read-only"], cwd=tmp_path,
                          env={"WARROOM_DATABASE_URL": pg_url, "WARROOM_CONFIG": str(config),
                               "WARROOM_DATA_DIR": str(tmp_path / "data"), "WARROOM_AUTHOR": ""})
        try:
            ic.identify("ic")
            deadline = time.monotonic() + 60
            while ("Alice Ng", True) not in ic.present and time.monotonic() < deadline:
                time.sleep(0.05)
            assert ("Alice Ng", True) in ic.present
            proc.wait_for(b"Alice Ng Scribe read-only", timeout=60)  # its own header lists it too
        finally:
            proc.close()
