"""tui.config: warroom.toml loading, one-line file:line errors, the example file."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.specs import HostSpec, KubeSpec, RepoSpec, ServiceSpec
from tui.config import (
    EXAMPLE_CONFIG,
    Config,
    ConfigError,
    _Locator,
    check_config,
    default_config_path,
    load_config,
    write_example,
)
from tui.incident.redact import Redactor
from tui.incident.specs import IncidentDefaults, NotifySpec

CONFIGS = Path(__file__).parent / "configs"
REPO_ROOT = Path(__file__).parent.parent
ENV = {
    "PAYMENTS_TOKEN": "tok-payments-123",
    "SEARCH_HOST": "search.internal",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.example/services/T000/B000/XXXX",
    "AM_TOKEN": "tok-alertmanager-456",
    "PROM_TOKEN": "tok-prometheus-789",
    "NODE_TOKEN": "tok-node-000",
}


def write(tmp_path: Path, text: str, name: str = "warroom.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[str]:
    return check_config(write(tmp_path, text), env=ENV if env is None else env)


def assert_one_line(message: str) -> None:
    assert len(message.splitlines()) == 1, message
    assert " — " in message, f"no fix hint: {message}"


# --------------------------------------------------------------------------- the corpus


def corpus_expectations(path: Path) -> list[tuple[int, list[str]]]:
    """``# expect: LINE | fragment | fragment`` comments at the top of a corpus file."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# expect:"):
            number, *fragments = (part.strip() for part in line[len("# expect:"):].split(" | "))
            out.append((int(number), fragments))
    return out


BAD_FILES = sorted(p for p in CONFIGS.glob("bad_*.toml") if corpus_expectations(p))


def test_corpus_is_there():
    assert len(BAD_FILES) >= 30


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.stem)
def test_bad_config_reports_file_line_and_fix(path: Path):
    expected = corpus_expectations(path)
    problems = check_config(path, env=ENV)
    assert len(problems) == len(expected), problems
    for problem, (line, fragments) in zip(problems, expected):
        assert_one_line(problem)
        assert problem.startswith(f"{path}:{line}: "), problem
        for fragment in fragments:
            assert fragment in problem, f"{fragment!r} not in {problem!r}"
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=ENV)
    assert str(caught.value) == problems[0]
    assert caught.value.problems == tuple(problems)
    assert isinstance(caught.value, ValueError)


def test_crlf_line_endings_keep_line_numbers():
    path = CONFIGS / "bad_crlf.toml"
    assert b"\r\n" in path.read_bytes()
    assert check_config(path, env=ENV) == [
        f'{path}:7: unknown key "intervall" in [[services]] "payments" — did you mean "interval"?'
    ]


def test_good_full_config_maps_to_specs():
    config = load_config(CONFIGS / "good_full.toml", env=ENV)
    assert check_config(CONFIGS / "good_full.toml", env=ENV) == []
    assert config.path == (CONFIGS / "good_full.toml").absolute()
    assert config.template_dir == CONFIGS.absolute() / "templates"

    # SEV3 = 0 switches its timer off; sev4 is accepted case-insensitively.
    assert config.incident == IncidentDefaults(
        cadence_minutes={"SEV1": 10, "SEV2": 20, "SEV4": 120},
        escalate_after_minutes=45.0,
        checklists={
            "Triage": ["Confirm customer impact", "Page the owning team"],
            "Mitigate": ["Roll back the last deploy"],
        },
    )
    payments, edge, search = config.services
    assert payments == ServiceSpec(
        name="payments",
        url="https://payments.internal/healthz",
        method="HEAD",
        expect_status=((200, 200), (204, 204)),
        interval=5.0,
        timeout=2.5,
        degraded_ms=800.0,
        fail_threshold=3,
        body_contains="ok",
        json_field="checks.db",
        json_equals="true",
        headers=(("Authorization", "Bearer tok-payments-123"), ("Accept", "application/json")),
        verify=str(CONFIGS.absolute() / "ca-bundle.pem"),
        follow_redirects=True,
    )
    assert edge == ServiceSpec(name="edge", url="http://127.0.0.1:8080/status", expect_status=((200, 299),))
    assert search == ServiceSpec(
        name="search", url="https://search.internal/health",
        expect_status=((200, 299), (301, 301)), verify=False,
    )
    assert config.host == HostSpec(
        cpu=(80.0, 90.0), memory=(70.0, 90.5), disk=(90.0, 95.0), swap=(10.0, 20.0),
        interval=2.0, top_processes=0,
    )
    assert config.kubernetes == KubeSpec(
        context="prod-eu", namespaces=("payments", "edge"),
        kubeconfig=str(CONFIGS.absolute() / "kubeconfig.yaml"), interval=3.0, enabled=False,
    )
    assert config.repos == (
        RepoSpec(path=str(CONFIGS.absolute()), branch="main", limit=30,
                 suspect_window_minutes=90.0, fetch_interval=60.0, interval=15.0),
        RepoSpec(path=str(REPO_ROOT.absolute()), tags="deploy-*"),
    )
    assert config.notify == (
        NotifySpec(kind="slack", url=ENV["SLACK_WEBHOOK_URL"], name="slack"),
        NotifySpec(kind="json", url="https://status.example/api/updates", name="status-page",
                   timeout=3.0, retries=0),
    )


def test_good_full_config_secrets():
    config = load_config(CONFIGS / "good_full.toml", env=ENV)
    assert {
        "tok-payments-123",            # from ${PAYMENTS_TOKEN}
        "Bearer tok-payments-123",     # a header value
        "application/json",            # also a header value
        "search.internal",             # from ${SEARCH_HOST}
        ENV["SLACK_WEBHOOK_URL"],      # from ${SLACK_WEBHOOK_URL}
        "https://status.example/api/updates",  # notify URLs are credentials
    } == config.secrets
    # What the app, exports and updates do with them: the one Redactor.
    shown = Redactor(config.secrets).text("GET https://search.internal/health with Bearer tok-payments-123")
    assert "search.internal" not in shown and "tok-payments-123" not in shown
    assert shown == "GET https://***/health with ***"   # the whole header value is one secret


def test_empty_file_and_none_give_defaults():
    assert load_config(None) == Config()
    assert check_config(None) == []
    config = load_config(CONFIGS / "good_empty.toml")
    assert config.services == () and config.repos == () and config.notify == ()
    assert config.kubernetes is None
    assert config.incident == IncidentDefaults() and config.host == HostSpec()
    assert config.secrets == frozenset()
    assert Config().path is None and Config().template_dir is None


# --------------------------------------------------------------------------- reading the file


def test_missing_file(tmp_path: Path):
    path = tmp_path / "warroom.toml"
    message = f"cannot read {path}: No such file or directory — create it with 'warroom init {path}'"
    assert check_config(path) == [message]
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(path)


def test_missing_file_path_with_spaces_is_quoted_for_the_shell(tmp_path: Path):
    path = tmp_path / "my dir" / "warroom.toml"
    assert check_config(path) == [f"cannot read {path}: No such file or directory — create it with 'warroom init '{path}''"]


def test_directory_instead_of_file(tmp_path: Path):
    problems = check_config(tmp_path)
    assert problems == [f"cannot read {tmp_path}: Is a directory — pass the path of a .toml file"]


def test_not_utf8(tmp_path: Path):
    path = tmp_path / "warroom.toml"
    path.write_bytes(b'[host]\n\n# caf\xe9\n')
    assert check_config(path) == [f"{path}:3: not UTF-8 text (byte 0xe9) — save the file as UTF-8"]


def test_byte_order_mark_is_accepted(tmp_path: Path):
    path = tmp_path / "warroom.toml"
    path.write_bytes(b"\xef\xbb\xbf[host]\ncpu = [80, 90]\n")
    assert load_config(path).host.cpu == (80.0, 90.0)


def test_unterminated_string_points_at_where_it_opened(tmp_path: Path):
    problems = problems_of(tmp_path, '[[services]]\nname = "payments"\nbody_contains = """\nok\n')
    assert len(problems) == 1
    assert problems[0].startswith(f"{tmp_path / 'warroom.toml'}:3: Unterminated string")
    assert "check the TOML syntax" in problems[0]


def test_label_is_the_path_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "[host]\ncpu = [85]\n")
    assert check_config("warroom.toml")[0].startswith("warroom.toml:2: host.cpu must be a [warn, critical] pair")


# --------------------------------------------------------------------------- ${ENV}


def test_env_expansion_everywhere_it_is_allowed(tmp_path: Path):
    (tmp_path / "kube").mkdir()
    (tmp_path / "kube" / "config").write_text("apiVersion: v1\n")
    env = {"HOST": "pay.internal", "TOKEN": "s3cr3t-value", "HOOK": "https://hooks.example/abc123", "KDIR": str(tmp_path / "kube")}
    config = load_config(write(tmp_path, """
[[services]]
name = "payments"
url = "https://${HOST}:8443/healthz"
headers = { X-Api-Key = "${TOKEN}", X-Literal = "cost $$5 and $${NOT_EXPANDED}" }

[kubernetes]
kubeconfig = "${KDIR}/config"

[[notify]]
kind = "slack"
url = "${HOOK}"
"""), env=env)
    service = config.services[0]
    assert service.url == "https://pay.internal:8443/healthz"
    assert service.headers == (("X-Api-Key", "s3cr3t-value"), ("X-Literal", "cost $5 and ${NOT_EXPANDED}"))
    assert config.kubernetes is not None and config.kubernetes.kubeconfig == str(tmp_path / "kube" / "config")
    assert config.notify[0].url == "https://hooks.example/abc123"
    assert {"pay.internal", "s3cr3t-value", "https://hooks.example/abc123", str(tmp_path / "kube"),
            "cost $5 and ${NOT_EXPANDED}"} == config.secrets


def test_env_fallback(tmp_path: Path):
    text = '[[services]]\nname = "a"\nurl = "http://${HOST:-127.0.0.1}:${PORT:-8080}/"\n'
    assert load_config(write(tmp_path, text), env={}).services[0].url == "http://127.0.0.1:8080/"
    assert load_config(write(tmp_path, text), env={"PORT": ""}).services[0].url == "http://127.0.0.1:8080/"
    config = load_config(write(tmp_path, text), env={"HOST": "10.0.0.1", "PORT": "9999"})
    assert config.services[0].url == "http://10.0.0.1:9999/"
    assert {"10.0.0.1", "9999"} == config.secrets


def test_os_environ_is_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WARROOM_TEST_TOKEN", "from-os-environ")
    path = write(tmp_path, '[[services]]\nname = "a"\nurl = "http://127.0.0.1/"\nheaders = { A = "${WARROOM_TEST_TOKEN}" }\n')
    assert load_config(path).services[0].headers == (("A", "from-os-environ"),)
    monkeypatch.delenv("WARROOM_TEST_TOKEN")
    assert "${WARROOM_TEST_TOKEN} is not set in the environment" in check_config(path)[0]


def test_unset_env_in_url_names_the_variable(tmp_path: Path):
    assert problems_of(tmp_path, '[[notify]]\nkind = "slack"\nurl = "${NO_SUCH_HOOK}"\n', env={}) == [
        f"{tmp_path / 'warroom.toml'}:3: ${{NO_SUCH_HOOK}} is not set in the environment"
        " — export it or remove this [[notify]] block"
    ]


@pytest.mark.parametrize("value, fragment", [
    ("Bearer ${TOKEN", 'unclosed "${" in services[0].headers.Authorization'),
    ("Bearer ${1TOKEN}", 'bad variable reference "${1TOKEN}" in services[0].headers.Authorization'),
    ("Bearer ${}", 'bad variable reference "${}"'),
])
def test_malformed_env_references(tmp_path: Path, value: str, fragment: str):
    problems = problems_of(tmp_path, f'[[services]]\nname = "a"\nurl = "http://127.0.0.1/"\n\nheaders.Authorization = "{value}"\n')
    assert len(problems) == 1
    assert problems[0].startswith(f"{tmp_path / 'warroom.toml'}:5: ")
    assert fragment in problems[0]


def test_invalid_url_from_env_does_not_show_the_value(tmp_path: Path):
    problems = problems_of(tmp_path, '[[notify]]\nkind = "slack"\nurl = "${HOOK}"\n', env={"HOOK": "hooks.example/SECRET-PART"})
    assert problems == [f'{tmp_path / "warroom.toml"}:3: invalid URL "${{HOOK}}" (after ${{…}} expansion) — use http:// or https://']
    assert "SECRET" not in problems[0]


def test_short_values_are_not_secrets(tmp_path: Path):
    config = load_config(write(tmp_path, '[[services]]\nname = "a"\nurl = "http://127.0.0.1:${P}/"\nheaders = { X-Debug = "1" }\n'), env={"P": "80"})
    assert config.secrets == frozenset()


def test_url_password_is_a_secret(tmp_path: Path):
    config = load_config(write(tmp_path, '[[services]]\nname = "a"\nurl = "https://user:hunter22@127.0.0.1/"\n'))
    assert "hunter22" in config.secrets


def test_header_value_with_line_break_is_refused(tmp_path: Path):
    problems = problems_of(tmp_path, '[[services]]\nname = "a"\nurl = "http://127.0.0.1/"\nheaders = { A = "${V}" }\n',
                           env={"V": "x\r\nInjected: yes"})
    assert problems == [f'{tmp_path / "warroom.toml"}:4: header "A" contains a line break — keep header values on one line']


# --------------------------------------------------------------------------- more validation


@pytest.mark.parametrize("text, line, fragment", [
    ('[[services]]\nurl = "http://127.0.0.1/"\n', 1, '[[services]] #1 has no name — add name = "payments"'),
    ('[[services]]\nname = ""\nurl = "http://127.0.0.1/"\n', 2, 'services[0].name is empty — write name = "payments"'),
    ('[[services]]\nname = "a"\nurl = "https:///healthz"\n', 3, 'invalid URL "https:///healthz" — write it as http(s)://host'),
    ('[[services]]\nname = "a"\nurl = "http://127.0.0.1:99999/"\n', 3, "invalid URL \"http://127.0.0.1:99999/\" — check the host and port"),
    ('[[services]]\nname = "a"\nurl = 5\n', 3, 'services[0].url must be a string, got integer 5'),
    ('[[services]]\nname = "a"\nurl = "http://x/"\ninterval = "30s"\n', 4, "services[0].interval must be a number, got string \"30s\" — write interval = 30.0"),
    ('[[services]]\nname = "a"\nurl = "http://x/"\ninterval = "5m"\n', 4, "got string \"5m\" — write interval = 5"),
    ('[[services]]\nname = "a"\nurl = "http://x/"\ninterval = true\n', 4, "services[0].interval must be a number, got boolean true"),
    ('[[services]]\nname = "a"\nurl = "http://x/"\ntimeout = nan\n', 4, "services[0].timeout must be a number, got number nan"),
    ('[[services]]\nname = "a"\nurl = "http://x/"\nfail_threshold = 0\n', 4, "services[0].fail_threshold must be between 1 and 100, got 0 — write fail_threshold = 2"),
    ('[[services]]\nname = "a"\nurl = "http://x/"\nfail_threshold = 2.5\n', 4, "services[0].fail_threshold must be a whole number, got number 2.5"),
    ('[[services]]\nname = "a"\nurl = "http://x/"\nexpect_status = [[299, 200]]\n', 4, "range [299, 200] is backwards — write [[200, 299]]"),
    ('[[services]]\nname = "a"\nurl = "http://x/"\nexpect_status = []\n', 4, "services[0].expect_status is empty"),
    ('[[services]]\nname = "a"\nurl = "http://x/"\nexpect_status = "ok"\n', 4, "services[0].expect_status must be status codes like [200, 204]"),
    ('[[services]]\nname = "a"\nurl = "http://x/"\nheaders = { "Bad Name" = "x" }\n', 4, '"Bad Name" is not a valid HTTP header name'),
    ('[[services]]\nname = "a"\nurl = "http://x/"\nheaders = { X-Retries = 3 }\n', 4, 'services[0].headers.X-Retries must be a string, got integer 3 — write X-Retries = "3"'),
    ('[[services]]\nname = "a"\nurl = "http://x/"\nverify = 1\n', 4, "services[0].verify must be true, false or a CA bundle path"),
    ('[host]\ntop_processes = -1\n', 2, "host.top_processes must be between 0 and 100, got -1 — write top_processes = 5"),
    ('[host]\ninterval = 0\n', 2, "host.interval must be between 0.5 and 3600 (seconds), got 0 — write interval = 1"),
    ('[host]\nswap = [50, 80, 90]\n', 2, "host.swap must be a [warn, critical] pair of percentages, got array [50, 80, 90] — write swap = [50, 80]"),
    ('[incident]\nescalate_after_minutes = -1\n', 2, "incident.escalate_after_minutes must be between 1 and 1440 (minutes)"),
    ('[incident]\ncadence_minutes = 15\n', 2, "incident.cadence_minutes must be a table of minutes by severity, got integer 15"),
    ('[incident.checklists]\nTriage = "Confirm impact"\n', 2, 'incident.checklists.Triage must be a list of non-empty strings, got string "Confirm impact"'),
    ('[kubernetes]\ncontext = ""\n', 2, 'kubernetes.context is empty — write context = "prod-eu"'),
    ('[kubernetes]\nenabled = "no"\n', 2, "kubernetes.enabled must be true or false"),
    ('[kubernetes]\nnamespaces = [1]\n', 2, "kubernetes.namespaces must be a list of namespace names"),
    ('[[repos]]\nbranch = "main"\n', 1, '[[repos]] #1 has no path — add path = "~/src/payments"'),
    ('[[repos]]\npath = "."\nlimit = 0\n', 3, "repos[0].limit must be between 1 and 1000, got 0"),
    ('[[repos]]\npath = "."\n[[repos]]\npath = "./"\n', 4, 'duplicate repo "./" (first at line 2) — list each repository once'),
    ('[[repos]]\npath = "warroom.toml"\n', 2, 'repo path "warroom.toml" is not a directory'),
    ('[[notify]]\nurl = "http://x/"\n', 1, '[[notify]] #1 has no kind — add kind = "slack"'),
    ('[[notify]]\nkind = "json"\nurl = "http://x/"\nretries = -1\n', 4, "notify[0].retries must be between 0 and 10, got -1"),
    ('repos = ["~/src/payments"]\n', 1, 'repos must be a list of [[repos]] blocks, got array ["~/src/payments"] — write one [[repos]] block per entry'),
    ('host = 5\n', 1, "host must be a [host] table, got integer 5 — put the keys under a [host] header"),
    ('[servics]\n', 1, 'unknown section "servics" — did you mean [[services]]?'),
    ('[zzz]\n', 1, "unknown section \"zzz\" — valid sections: [incident], [[services]], [host], [kubernetes], [[repos]], [[notify]]"),
    ('[host]\nzzz = 1\n', 2, 'unknown key "zzz" in [host] — valid keys: cpu, memory, disk, swap, interval, top_processes'),
    ('[host]\nCPU = [1, 2]\n', 2, 'unknown key "CPU" in [host] — did you mean "cpu"?'),
])
def test_validation_messages(tmp_path: Path, text: str, line: int, fragment: str):
    problems = problems_of(tmp_path, text)
    assert len(problems) == 1, problems
    assert_one_line(problems[0])
    assert problems[0].startswith(f"{tmp_path / 'warroom.toml'}:{line}: "), problems[0]
    assert fragment in problems[0], problems[0]


@pytest.mark.parametrize("value, expected", [
    ("204", ((204, 204),)),
    ('"2xx"', ((200, 299),)),
    ('"3XX"', ((300, 399),)),
    ('["2xx", 304, "404"]', ((200, 299), (304, 304), (404, 404))),
    ("[[200, 299], [200, 299]]", ((200, 299),)),
])
def test_expect_status_forms(tmp_path: Path, value: str, expected: tuple):
    path = write(tmp_path, f'[[services]]\nname = "a"\nurl = "http://x/"\nexpect_status = {value}\n')
    assert load_config(path).services[0].expect_status == expected


def test_cadence_merges_with_defaults(tmp_path: Path):
    config = load_config(write(tmp_path, "[incident]\ncadence_minutes = { SEV1 = 5 }\n"))
    assert config.incident.cadence_minutes == {"SEV1": 5, "SEV2": 30, "SEV3": 60}
    config = load_config(write(tmp_path, "[incident]\ncadence_minutes = { SEV2 = 0, SEV4 = 90.5 }\n"))
    assert config.incident.cadence_minutes == {"SEV1": 15, "SEV3": 60, "SEV4": 90.5}


def test_namespaces_forms(tmp_path: Path):
    def namespaces(value: str) -> tuple[str, ...]:
        config = load_config(write(tmp_path, f"[kubernetes]\nnamespaces = {value}\n"))
        assert config.kubernetes is not None
        return config.kubernetes.namespaces

    assert namespaces('["*"]') == ("*",)
    assert namespaces('"payments"') == ("payments",)
    assert namespaces('["a", "a", "b"]') == ("a", "b")
    assert namespaces("[]") == ()


def test_kubernetes_section_present_means_a_spec(tmp_path: Path):
    assert load_config(write(tmp_path, "[kubernetes]\n")).kubernetes == KubeSpec()


def test_repo_path_tilde_and_relative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "home"
    (home / "src" / "payments").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    conf = tmp_path / "etc"
    (conf / "checkout").mkdir(parents=True)
    config = load_config(write(conf, '[[repos]]\npath = "~/src/payments"\n[[repos]]\npath = "checkout"\n'))
    assert [r.path for r in config.repos] == [str(home / "src" / "payments"), str(conf / "checkout")]


def test_all_problems_are_collected_in_file_order(tmp_path: Path):
    problems = problems_of(tmp_path, """\
[[notify]]
kind = "teams"
url = "x"
[host]
cpu = [99, 1]
[incident]
escalate_after_minutes = 0
[[services]]
name = "a"
url = "http://x/"
intervall = 2
""")
    assert [int(p.split(":")[1]) for p in problems] == [2, 3, 5, 7, 11]


# --------------------------------------------------------------------------- the locator


def test_locator_tables_keys_and_array_indices():
    loc = _Locator("""\
top = 1
[incident]
cadence_minutes = { SEV1 = 15 }
[incident.checklists]
Triage = ["a"]

[[services]]
name = "a"
[services.headers]
X-One = "1"
[[services]]
name = "b"
  "quoted.key" = 1
sub . dotted = 2
'lit' = 3
[[services]]
[ host ]   # spaced header
cpu=[1,2]
""")
    assert loc.line(("top",)) == 1
    assert loc.line(("incident",)) == 2
    assert loc.line(("incident", "cadence_minutes", "SEV1")) == 3   # inline: falls back to the key
    assert loc.line(("incident", "checklists")) == 4
    assert loc.line(("incident", "checklists", "Triage")) == 5
    assert loc.line(("services",)) == 7
    assert loc.line(("services", 0)) == 7
    assert loc.line(("services", 0, "name")) == 8
    assert loc.line(("services", 0, "headers")) == 9
    assert loc.line(("services", 0, "headers", "X-One")) == 10
    assert loc.line(("services", 1, "name")) == 12
    assert loc.line(("services", 1, "quoted.key")) == 13
    assert loc.line(("services", 1, "sub", "dotted")) == 14
    assert loc.line(("services", 1, "lit")) == 15
    assert loc.line(("services", 1, "missing")) == 11                # the block's header
    assert loc.line(("services", 2, "name")) == 16
    assert loc.line(("host", "cpu")) == 18
    assert loc.line(("nothing",)) is None


def test_locator_is_not_fooled_by_multiline_values():
    loc = _Locator('''\
[a]
s = """
[b]
x = 1 \\"""
"""
t = \'\'\'
[[c]]\'\'\'
arr = [
  [1, 2],  # [d]
  "]", \']\',
]
y = 2
[e]
''')
    assert loc.line(("a", "y")) == 12
    assert loc.line(("b",)) is None and loc.line(("c",)) is None and loc.line(("d",)) is None
    assert loc.line(("a", "x")) == 1
    assert loc.line(("e",)) == 13
    assert loc.open_since[3] == 2 and loc.open_since[7] == 6 and loc.open_since[10] == 8
    assert 12 not in loc.open_since


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_locator_never_raises(text: str):
    _Locator(text).line(("a", 0, "b"))


def toml_string(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\' or ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


@settings(max_examples=100, deadline=None)
@given(st.text(st.characters(exclude_categories=("Cs",)), max_size=40))
def test_every_problem_is_one_line_whatever_the_value(tmp_path_factory: pytest.TempPathFactory, value: str):
    tmp = tmp_path_factory.mktemp("h")
    text = (
        f"[[services]]\nname = {toml_string(value)}\nurl = {toml_string(value)}\n"
        f"timeout = {toml_string(value)}\n{toml_string(value)} = 1\n"
        f"[[notify]]\nkind = {toml_string(value)}\nurl = \"http://x/\"\n"
    )
    path = write(tmp, text)
    problems = check_config(path, env={})
    assert problems
    for problem in problems:
        assert_one_line(problem)
        assert problem.startswith(f"{path}:")


# --------------------------------------------------------------------------- the example


def test_example_loads_on_a_fresh_machine_and_matches_the_defaults(tmp_path: Path):
    path = tmp_path / "warroom.toml"
    write_example(path)
    assert path.read_text(encoding="utf-8") == EXAMPLE_CONFIG
    assert check_config(path, env={}) == []
    config = load_config(path, env={})
    # The example documents the defaults: what it sets must be what the code uses.
    assert config.incident == IncidentDefaults()
    assert config.host == HostSpec()
    assert config.services == () and config.repos == () and config.notify == () and config.kubernetes is None


def test_example_with_every_setting_switched_on_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "home"
    (home / "src" / "payments").mkdir(parents=True)
    (home / ".kube").mkdir()
    (home / ".kube" / "config").write_text("apiVersion: v1\n")
    monkeypatch.setenv("HOME", str(home))
    uncommented = re.sub(r"^#(?=[\[\w])", "", EXAMPLE_CONFIG, flags=re.M)
    assert uncommented.count("\n[[services]]\n") == 1 and "\n[kubernetes]\n" in uncommented
    path = write(tmp_path, uncommented)
    config = load_config(path, env=ENV)
    assert config.incident.checklists["Triage"][0] == "Confirm customer impact"
    (service,) = config.services
    assert service.name == "payments" and service.headers == (("Authorization", "Bearer tok-payments-123"),)
    assert service.json_field == "status" and service.json_equals == "UP"
    assert config.kubernetes == KubeSpec(context="prod-eu", namespaces=("payments", "edge"),
                                         kubeconfig=str(home / ".kube" / "config"),
                                         error_pattern=r"(?i)\b(error|fatal|panic|exception|oomkilled)\b")
    (log,) = config.logs
    assert (log.name, log.path, log.interval) == ("api", "/var/log/api/*.log", 1)
    assert re.compile(log.error_pattern).search("a FATAL line") and not re.compile(log.error_pattern).search("terror")
    assert config.repos == (RepoSpec(path=str(home / "src" / "payments"), branch="main"),)
    assert config.notify == (NotifySpec(kind="slack", url=ENV["SLACK_WEBHOOK_URL"], name="slack"),)
    assert config.alertmanager.url == "http://alertmanager:9093" and config.alertmanager.filter == ('team="payments"',)
    assert config.prometheus.headers == (("Authorization", "Bearer tok-prometheus-789"),)
    (node,) = config.hosts
    assert (node.name, node.url, node.headers) == ("db-1", "http://db-1:9100/metrics",
                                                   (("Authorization", "Bearer tok-node-000"),))
    (metric,) = config.metrics
    assert (metric.name, metric.unit, metric.warn, metric.crit, metric.better) == ("checkout 5xx", "req/s", 0.5, 2, "lower")
    # Every key of every section appears in the example.
    for key in ("method", "interval", "timeout", "expect_status", "degraded_ms", "fail_threshold", "body_contains",
                "verify", "follow_redirects", "swap", "top_processes", "enabled", "limit", "suspect_window_minutes",
                "fetch_interval", "retries", "tags"):
        assert re.search(rf"\b{key} = ", EXAMPLE_CONFIG), key


def test_readme_config_block_agrees_with_the_example():
    """The README's config block and the file `warroom init` writes show one set of values:
    every key the README sets has the same value in the example (switched on), section by section."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Configuration \(`warroom.toml`\).*?```toml\n(.*?)```", readme, re.S)
    assert block is not None, "the README's configuration section lost its toml block"
    documented = tomllib.loads(block[1])
    example = tomllib.loads(re.sub(r"^#(?=[\[\w])", "", EXAMPLE_CONFIG, flags=re.M))
    assert documented, "the README's toml block sets nothing"
    for section, value in documented.items():
        assert section in example, f"[{section}] is in the README but not in the example"
        readme_table = value[0] if isinstance(value, list) else value
        example_table = example[section][0] if isinstance(example[section], list) else example[section]
        for key, setting in readme_table.items():
            assert key in example_table, f"{section}.{key} is in the README but not in the example"
            assert example_table[key] == setting, f"{section}.{key}: README {setting!r}, example {example_table[key]!r}"


def test_write_example_refuses_to_overwrite(tmp_path: Path):
    path = tmp_path / "warroom.toml"
    path.write_text("# my precious config\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        write_example(path)
    assert str(caught.value) == f"{path} already exists — pass another path or remove it"
    assert path.read_text(encoding="utf-8") == "# my precious config\n"


def test_write_example_creates_parent_directories(tmp_path: Path):
    path = tmp_path / "a" / "b" / "warroom.toml"
    write_example(path)
    assert load_config(path, env={}).path == path


def test_write_example_reports_unwritable_place(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match=r"^cannot write .*: .* — pick a writable path$"):
        write_example(blocker / "warroom.toml")


# --------------------------------------------------------------------------- default path


def test_default_config_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("WARROOM_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    assert default_config_path() is None

    user = tmp_path / "xdg" / "warroom" / "warroom.toml"
    user.parent.mkdir(parents=True)
    user.write_text("")
    assert default_config_path() == user

    (tmp_path / "warroom.toml").write_text("")
    assert default_config_path() == Path("warroom.toml")

    monkeypatch.setenv("WARROOM_CONFIG", str(tmp_path / "elsewhere.toml"))  # even if missing: loading explains
    assert default_config_path() == tmp_path / "elsewhere.toml"


# --------------------------------------------------------------------------- import hygiene


def test_import_is_light():
    code = (
        "import sys, tui.config\n"
        "heavy = {'textual', 'httpx', 'kubernetes', 'psutil', 'git', 'rich'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                         timeout=60, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_documented_example_messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The messages quoted in the brief, exactly (the CLI and README rely on their wording)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "warroom.toml").write_text("""\
[[services]]
name = "payments"
url = "payments.internal/healthz"
timeout = "2s"
intervall = 5
headers = { Authorization = "Bearer ${PAYMENTS_TOKEN}" }
""")
    assert check_config("warroom.toml", env={}) == [
        'warroom.toml:3: invalid URL "payments.internal/healthz" — use http:// or https://',
        'warroom.toml:4: services[0].timeout must be a number, got string "2s" — write timeout = 2.0 (seconds)',
        'warroom.toml:5: unknown key "intervall" in [[services]] "payments" — did you mean "interval"?',
        "warroom.toml:6: ${PAYMENTS_TOKEN} is not set in the environment — export it or remove the header",
    ]
    (tmp_path / "warroom.toml").unlink()
    assert check_config("warroom.toml") == [
        "cannot read warroom.toml: No such file or directory — create it with 'warroom init warroom.toml'"
    ]
    write_example("warroom.toml")
    with pytest.raises(ConfigError, match="^warroom.toml already exists — pass another path or remove it$"):
        write_example("warroom.toml")


# --------------------------------------------------------------------------- number ranges


def _number_keys() -> list[tuple[str, str]]:
    """Every (section, key) whose value is read by a _num parser: found, not listed by hand."""
    from tui.config import _SECTION_KEYS

    found = [(section, key) for section, schema in _SECTION_KEYS.items()
             for key, parser in schema.items() if parser.__qualname__.startswith("_num.")]
    return found + [("incident", "cadence_minutes.SEV1")]


_BLOCK_PREFIX = {"services": '[[services]]\nname = "a"\nurl = "http://x/"\n', "repos": '[[repos]]\npath = "."\n',
                 "notify": '[[notify]]\nkind = "json"\nurl = "http://x/"\n',
                 "alertmanager": '[alertmanager]\nurl = "http://x/"\n', "prometheus": '[prometheus]\nurl = "http://x/"\n',
                 "metrics": '[prometheus]\nurl = "http://x/"\n[[metrics]]\nname = "m"\nquery = "up"\n', "logs": '[[logs]]\nname = "a"\npath = "a.log"\n',
                 "hosts": '[[hosts]]\nname = "a"\nurl = "http://x/"\n'}


@pytest.mark.parametrize("section, key", _number_keys())
@pytest.mark.parametrize("value", ["1e300", "-1e300", "9223372036854775807", "-1", "1e-300"])
def test_every_number_has_a_range(tmp_path: Path, section: str, key: str, value: str):
    """1e300 minutes overflowed the clock, 2**63-1 retries never returned, 1e-300 s intervals spun."""
    prefix = _BLOCK_PREFIX.get(section, f"[{section}]\n")
    if "." in key:
        outer, inner = key.split(".")
        line = f"{outer} = {{ {inner} = {value} }}"
    else:
        line = f"{key} = {value}"
    text = prefix + line + "\n"
    if section == "repos":
        (tmp_path / ".git").mkdir(exist_ok=True)
    problems = problems_of(tmp_path, text)
    if value == "1e-300" and key in ("degraded_ms", "top_interval"):   # 0 is meaningful there: so is nearly 0
        assert problems == []
        return
    if section == "metrics" and value in ("-1", "1e-300"):     # a threshold may be any modest number
        assert problems == []
        return
    if problems == [] and value in ("-1", "1e-300"):
        pytest.fail(f"{section}.{key} = {value} accepted")
    assert len(problems) == 1, problems
    assert_one_line(problems[0])
    line_no = text.count("\n")
    assert problems[0].startswith(f"{tmp_path / 'warroom.toml'}:{line_no}: "), problems[0]
    assert re.search(r"must be (a whole number|(0 \(off\) or )?between \S+ and \S+)", problems[0]), problems[0]


def test_ranges_leave_the_example_and_defaults_valid(tmp_path: Path):
    uncommented = "\n".join(l[1:] if re.match(r"#\w", l) else l for l in EXAMPLE_CONFIG.splitlines())
    uncommented = uncommented.replace('path = "~/src/payments"', 'path = "."').replace("\ntags = ", "\n#tags = ")
    problems = [p for p in problems_of(tmp_path, uncommented, env={**ENV, "PAYMENTS_TOKEN": "x" * 8})
                if "kubeconfig" not in p and "does not exist" not in p]
    assert not [p for p in problems if "must be" in p], problems


def test_zero_still_switches_cadence_and_fetching_off(tmp_path: Path):
    config = load_config(write(tmp_path, '[incident]\ncadence_minutes = { SEV1 = 0 }\n'))
    assert "SEV1" not in config.incident.cadence_minutes
    (tmp_path / ".git").mkdir()
    config = load_config(write(tmp_path, '[[repos]]\npath = "."\nfetch_interval = 0\n'))
    assert config.repos[0].fetch_interval == 0


def test_issue_numbers_through_check_config_cli(tmp_path: Path):
    """The reproductions of issue 14 §2, through the real command: each one line with file:line, exit 2."""
    path = write(tmp_path, '[incident]\ncadence_minutes = { SEV1 = 1e300 }\n'
                           '[host]\ninterval = 1e-300\n'
                           '[[notify]]\nkind = "json"\nurl = "http://x/"\nretries = 9223372036854775807\ntimeout = 1e308\n')
    proc = subprocess.run([sys.executable, "-m", "tui.cli", "check-config", str(path)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert [l.split(": ", 1)[0] for l in lines] == [f"{path}:{n}" for n in (2, 4, 8, 9)], lines
    assert "1e+300" in lines[0] and "1e-300" in lines[1] and "9223372036854775807" in lines[2] and "1e+308" in lines[3]
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("where", ["first line", "inside an array"])
def test_deeply_nested_array_is_one_line(tmp_path: Path, where: str):
    deep = "[" * 5000 + "]" * 5000
    text = f"a = {deep}\n" if where == "first line" else f'[host]\ninterval = 1\nx = [\n{"[" * 5000}\n{"]" * 5001}\n'
    path = write(tmp_path, text)
    proc = subprocess.run([sys.executable, "-m", "tui.cli", "check-config", str(path)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    line = 1 if where == "first line" else 4
    assert proc.stderr.startswith(f"{path}:{line}: arrays or tables nested too deeply"), proc.stderr


# --------------------------------------------------------------------------- alerts and metrics


def test_alertmanager_prometheus_and_metrics_problems_name_file_and_line(tmp_path: Path):
    text = ('[alertmanager]\nurl = "http://am:9093"\nfilter = [\'team="payments"\', "not a matcher"]\n\n'
            '[[metrics]]\nname = "5xx"\nquery = "up"\nwarn = 5\ncrit = 2\n\n'
            '[[metrics]]\nname = "5xx"\nquery = "up"\nbetter = "up"\nunit = "req per s"\n\n'
            '[[metrics]]\nname = "p99"\n')
    problems = problems_of(tmp_path, text)
    where = f"{tmp_path / 'warroom.toml'}"
    assert [p.split(": ", 1)[0] for p in problems] == [f"{where}:{n}" for n in (3, 8, 12, 14, 15, 17)], problems
    assert "is not an Alertmanager matcher" in problems[0]
    assert 'warn 5 is above crit 2 — swap them, or write better = "higher"' in problems[1]
    assert "duplicate metric name" in problems[2] and '"lower" or "higher"' in problems[3]
    assert "short unit" in problems[4] and "has no query" in problems[5]
    for p in problems:
        assert_one_line(p)


def test_metrics_need_prometheus_and_servers_need_a_url(tmp_path: Path):
    problems = problems_of(tmp_path, '[prometheus]\ninterval = 15\n')
    assert len(problems) == 1 and "[prometheus] has no url" in problems[0]
    problems = problems_of(tmp_path, '[[metrics]]\nname = "up"\nquery = "up"\n')
    assert len(problems) == 1 and ":1: [[metrics]] needs a [prometheus] section" in problems[0]
    config = load_config(write(tmp_path, '[prometheus]\nurl = "http://p:9090"\n[[metrics]]\nname = "up"\n'
                                         'query = "up"\nbetter = "higher"\nwarn = 1\ncrit = 0.5\n'), env=ENV)
    assert config.metrics[0].better == "higher" and config.alertmanager is None
