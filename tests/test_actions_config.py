"""`[[actions]]`: placeholder checks (checks/actions.py) and the config section (tui/config/actions.py)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from checks.actions import ActionSpec, PlaceholderRefused, argv_problem, check_value, substitute, target_of
from tui.config import EXAMPLE_CONFIG, check_config, load_config

HOSTILE = ["; rm -rf /", "$(reboot)", "`id`", "web-1\nrm -rf /", "--all", "-n", "a b", "Web-1", "", "web-1;",
           "../etc", "web_1", "x" * 254, "web-1\x00", "é"]


@pytest.mark.parametrize("placeholder", ["pod", "deployment", "namespace", "service", "sha"])
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_are_refused_for_every_placeholder(placeholder: str, value: str):
    assert check_value(placeholder, value) is not None


@pytest.mark.parametrize("placeholder,value", [
    ("pod", "payments-7d9f8c-x2x9z"), ("pod", "web.v2-0"), ("deployment", "payments"),
    ("namespace", "prod-eu"), ("service", "checkout"), ("sha", "3f2a9c1"), ("sha", "a" * 40),
])
def test_real_names_pass(placeholder: str, value: str):
    assert check_value(placeholder, value) is None


def test_substitute_fills_words_and_refuses_before_returning_anything():
    spec = ActionSpec("delete", ("kubectl", "delete", "pod", "-n", "${namespace}", "${pod}", "--as=${pod}-x"))
    assert substitute(spec, {"pod": "web-1", "namespace": "prod"}) == [
        "kubectl", "delete", "pod", "-n", "prod", "web-1", "--as=web-1-x"]
    with pytest.raises(PlaceholderRefused) as info:
        substitute(spec, {"pod": "$(reboot)", "namespace": "prod"})
    assert info.value.placeholder == "pod" and "$(reboot)" in str(info.value)
    with pytest.raises(PlaceholderRefused):
        substitute(spec, {"pod": "web-1"})     # ${namespace} unknown for this row


def test_target_is_the_deployment_when_the_action_names_it():
    values = {"pod": "web-1", "namespace": "prod", "deployment": "web"}
    assert target_of(ActionSpec("x", ("kubectl", "${pod}")), values) == "web-1"
    assert target_of(ActionSpec("x", ("kubectl", "${deployment}")), values) == "web"
    assert target_of(ActionSpec("x", ("git", "revert", "${sha}"), pane="deploys"), {"sha": "abcdef1"}) == "abcdef1"


def test_argv_problems():
    assert argv_problem(("${pod}", "x"), "pods")[1].startswith("the program")
    assert "unknown placeholder ${podd}" in argv_problem(("kubectl", "${podd}"), "pods")[1]
    assert "not known in the deploys pane" in argv_problem(("git", "${pod}"), "deploys")[1]
    assert argv_problem(("git", "revert", "${sha}"), "deploys") is None


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "warroom.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_block_loads(tmp_path: Path):
    config = load_config(write(tmp_path, '[[actions]]\nname = "revert"\nargv = ["git", "revert", "--no-edit", "${sha}"]\n'
                                         'pane = "deploys"\nkind = "mitigation"\nconfirm = "yes"\n'), env={})
    assert config.actions == (ActionSpec("revert", ("git", "revert", "--no-edit", "${sha}"), pane="deploys",
                                         kind="mitigation", confirm="yes"),)


@pytest.mark.parametrize("body,line,fragment", [
    ('name = "x"\nargv = "kubectl delete pod ${pod}"\n', 3, "never given to a shell"),
    ('name = "x"\nargv = ["kubectl", "${podname}"]\n', 3, "unknown placeholder ${podname}"),
    ('name = "x"\nargv = ["${pod}"]\n', 3, "is a placeholder"),
    ('name = "x"\nargv = ["git", "revert", "${sha}"]\n', 3, "not known in the pods pane"),
    ('name = "x"\nargv = ["true"]\nconfirm = "maybe"\n', 4, "confirm must be one of type, yes"),
    ('name = "x"\nargv = ["true"]\npane = "pod"\n', 4, 'did you mean "pods"'),
    ('name = "x"\nargv = ["true"]\nkind = "note"\n', 4, "kind must be one of action, mitigation"),
    ('name = "x"\nargv = []\n', 3, "non-empty list"),
    ('name = "x"\n', 1, "has no argv"),
    ('name = "scale"\nargv = ["true"]\n', 2, "built-in action's name"),
    ('name = "x"\nargv = ["true"]\nshell = true\n', 4, 'unknown key "shell"'),
])
def test_check_config_says_what_and_where(tmp_path: Path, body: str, line: int, fragment: str):
    problems = check_config(write(tmp_path, "[[actions]]\n" + body), env={})
    assert len(problems) == 1, problems
    (problem,) = problems
    assert f"warroom.toml:{line}:" in problem and fragment in problem, problem
    assert len(problem.splitlines()) == 1 and " — " in problem


def test_duplicate_names_point_at_the_first(tmp_path: Path):
    text = '[[actions]]\nname = "x"\nargv = ["true"]\n[[actions]]\nname = "x"\nargv = ["false"]\n'
    (problem,) = check_config(write(tmp_path, text), env={})
    assert "warroom.toml:5:" in problem and "first at line 2" in problem


def test_example_block_uncommented_is_valid(tmp_path: Path):
    start = EXAMPLE_CONFIG.index("#[[actions]]")
    block = "\n".join(re.sub(r"^#", "", line) for line in EXAMPLE_CONFIG[start:].split("\n\n")[0].splitlines())
    config = load_config(write(tmp_path, block), env={})
    (spec,) = config.actions
    assert spec.argv == ("kubectl", "delete", "pod", "-n", "${namespace}", "${pod}") and spec.confirm == "type"


def test_cli_check_config_exits_2(tmp_path: Path):
    path = write(tmp_path, '[[actions]]\nname = "x"\nargv = "rm -rf /"\n')
    done = subprocess.run([sys.executable, "-m", "tui.cli", "check-config", str(path)],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 2 and "warroom.toml:3:" in done.stderr + done.stdout
