"""Reading warroom.toml: the file, its TOML, and :class:`_Loader`, which walks the parsed
tables reporting every problem as ``file:line: what is wrong — how to fix it``."""
from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from checks.specs import (
    AlertmanagerSpec,
    HostSpec,
    KubeSpec,
    LogSpec,
    MetricSpec,
    PrometheusSpec,
    RepoSpec,
    ServiceSpec,
)
from tui.incident.specs import IncidentDefaults, NotifySpec

from .describe import _close_match, _describe, _dotted, _fmt_number, _key_text, _one_line, _quote
from .locate import _deepest_line, _Locator, _shell_quote, _syntax_problem
from .model import Config
from .schemas import (
    _ALERTMANAGER_SCHEMA,
    _HOST_SCHEMA,
    _INCIDENT_SCHEMA,
    _KUBE_SCHEMA,
    _LOG_SCHEMA,
    _METRIC_SCHEMA,
    _NOTIFY_SCHEMA,
    _PROMETHEUS_SCHEMA,
    _REPO_SCHEMA,
    _SECTION_KEYS,
    _SECTIONS,
    _SERVICE_SCHEMA,
    _STORE_SCHEMA,
    _section_header,
)
from .values import _BAD, _Parser

# Shorter values are not recorded as secrets: they protect nothing and replacing
# them everywhere would garble the screen (a token "1" would hide every digit 1).
_MIN_SECRET_LEN = 4

# ${NAME}, ${NAME:-fallback} and $$ in URLs, headers and paths.
_ENV_REF = re.compile(r"\$\$|\$\{([^{}]*)\}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")



def _load(path: str | os.PathLike[str], env: Mapping[str, str]) -> tuple[Config | None, list[str]]:
    label = os.fspath(path)
    file = Path(label).expanduser()
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        return None, [f"cannot read {label}: No such file or directory — create it with 'warroom init {_shell_quote(label)}'"]
    except IsADirectoryError:
        return None, [f"cannot read {label}: Is a directory — pass the path of a .toml file"]
    except OSError as exc:
        return None, [f"cannot read {label}: {exc.strerror or exc} — check the path and its permissions"]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [f"{label}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}) — save the file as UTF-8"]
    try:
        data = tomllib.loads(text)
        file = file.absolute()
        loader = _Loader(label, text, file.parent, env)
        config = loader.build(data, file)
    except tomllib.TOMLDecodeError as exc:
        return None, [_syntax_problem(label, text, str(exc))]
    except RecursionError:   # tomllib (and the checks) recurse once per level of [ or {
        return None, [f"{label}:{_deepest_line(text)}: arrays or tables nested too deeply — "
                      "a warroom.toml needs at most a few levels; remove the extra brackets"]
    problems = loader.sorted_problems()
    return (None if problems else config), problems



class _Loader:
    """Walks the parsed TOML, reporting every problem it can find and building the specs."""

    def __init__(self, label: str, text: str, base_dir: Path, env: Mapping[str, str]) -> None:
        self.label = label
        self.locator = _Locator(text)
        self.base_dir = base_dir
        self.env = env
        self.problems: list[tuple[int, int, str]] = []
        self.secrets: set[str] = set()

    # -- reporting

    def report(self, path: Sequence[Any], message: str, hint: str) -> None:
        line = self.locator.line(path)
        where = f"{self.label}:{line}" if line else self.label
        self.problems.append((line or 0, len(self.problems), _one_line(f"{where}: {message} — {hint}")))

    def wrong_type(self, path: tuple[Any, ...], what: str, value: Any, example: str) -> None:
        self.report(path, f"{_dotted(path)} must be {what}, got {_describe(value)}",
                    f"write {_key_text(path[-1])} = {example}")

    def sorted_problems(self) -> list[str]:
        return [text for _, _, text in sorted(self.problems)]

    def add_secret(self, value: str | None) -> None:
        if value and len(value) >= _MIN_SECRET_LEN:
            self.secrets.add(value)

    # -- shared field helpers

    def resolve_path(self, text: str) -> Path:
        """``~`` expanded, relative to the config file's directory, ``..`` folded (symlinks kept)."""
        return Path(os.path.normpath(self.base_dir / Path(text).expanduser()))

    def fields(self, path: tuple[Any, ...], table: dict[str, Any], schema: dict[str, _Parser], where: str) -> dict[str, Any] | None:
        """Parse the known keys of ``table``; report unknown ones. None if anything was wrong."""
        before = len(self.problems)
        out: dict[str, Any] = {}
        for key, value in table.items():
            parser = schema.get(key)
            if parser is None:
                self.unknown_key(path + (key,), key, schema, where)
                continue
            parsed = parser(self, path + (key,), value)
            if parsed is not _BAD:
                out[key] = parsed
        return out if len(self.problems) == before else None

    def unknown_key(self, path: tuple[Any, ...], key: str, allowed: Iterable[str], where: str) -> None:
        allowed = list(allowed)
        guess = _close_match(key, allowed)
        if guess:
            hint = f'did you mean "{guess}"?'
        else:
            home = next((s for s, keys in _SECTION_KEYS.items() if key in keys), None)
            if home:
                hint = f'"{key}" belongs in {_section_header(home)}'
            else:
                hint = "valid keys: " + ", ".join(allowed)
        self.report(path, f"unknown key {_quote(key)} in {where}", hint)

    def expand(self, path: tuple[Any, ...], raw: str, missing_hint: str) -> tuple[str, bool] | Any:
        """Expand ``${NAME}`` / ``${NAME:-fallback}`` / ``$$``; returns (value, used_env)."""
        before = len(self.problems)
        used: list[str] = []

        def substitute(m: re.Match[str]) -> str:
            token = m.group(0)
            if token == "$$":
                return "$"
            name, has_fallback, fallback = m.group(1).partition(":-")
            if not _ENV_NAME.fullmatch(name):
                self.report(path, f"bad variable reference {_quote(token)} in {_dotted(path)}",
                            "write ${NAME} with letters, digits and _ (or $$ for a literal $)")
                return ""
            value = self.env.get(name)
            if value is None or (has_fallback and value == ""):
                if has_fallback:
                    return fallback
                self.report(path, f"${{{name}}} is not set in the environment", missing_hint)
                return ""
            used.append(value)
            return value

        value = _ENV_REF.sub(substitute, raw)
        if "${" in _ENV_REF.sub("", raw):
            self.report(path, f'unclosed "${{" in {_dotted(path)}', "write ${NAME}, or $${ for a literal ${")
        if len(self.problems) != before:
            return _BAD
        for secret in used:
            self.add_secret(secret)
        return value, bool(used)

    def url(self, path: tuple[Any, ...], value: Any, missing_hint: str) -> Any:
        if not isinstance(value, str):
            self.wrong_type(path, "a string", value, '"https://…"')
            return _BAD
        expanded = self.expand(path, value, missing_hint)
        if expanded is _BAD:
            return _BAD
        url, from_env = expanded
        # An expanded URL may hold a secret: show what was written, not what it became.
        shown = _quote(value) + (" (after ${…} expansion)" if from_env else "")
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError for a malformed port
        except ValueError:
            self.report(path, f"invalid URL {shown}", "check the host and port, e.g. https://host:8443/healthz")
            return _BAD
        if parts.scheme.lower() not in ("http", "https"):
            self.report(path, f"invalid URL {shown}", "use http:// or https://")
            return _BAD
        if not parts.hostname or any(c.isspace() for c in url):
            self.report(path, f"invalid URL {shown}", "write it as http(s)://host[:port]/path with no spaces")
            return _BAD
        self.add_secret(parts.password)
        return url

    def file_path(self, path: tuple[Any, ...], value: Any, what: str, example: str, fix: str) -> Any:
        """A readable file (``~``, ``${NAME}`` and config-relative paths allowed); absolute str."""
        if not isinstance(value, str):
            self.wrong_type(path, "a string (a file path)", value, example)
            return _BAD
        expanded = self.expand(path, value, f"export it or {fix}")
        if expanded is _BAD:
            return _BAD
        resolved = self.resolve_path(expanded[0])
        try:
            with open(resolved, "rb"):
                pass
        except OSError as exc:
            self.report(path, f"{what} {_quote(value)} cannot be read: {exc.strerror or exc}", f"fix the path, or {fix}")
            return _BAD
        return str(resolved)

    # -- sections

    def build(self, data: dict[str, Any], file: Path) -> Config:
        for key in data:
            if key not in _SECTIONS:
                guess = _close_match(key, _SECTIONS)
                hint = (f"did you mean {_section_header(guess)}?" if guess
                        else "valid sections: " + ", ".join(_section_header(s) for s in _SECTIONS))
                self.report((key,), f"unknown section {_quote(key)}", hint)
        incident = self.incident(data["incident"]) if "incident" in data else IncidentDefaults()
        services = self.services(data["services"]) if "services" in data else ()
        host = self.host(data["host"]) if "host" in data else HostSpec()
        kube = self.kubernetes(data["kubernetes"]) if "kubernetes" in data else None
        repos = self.repos(data["repos"]) if "repos" in data else ()
        notify = self.notify(data["notify"]) if "notify" in data else ()
        store_url = self.store(data["store"]) if "store" in data else None
        alertmanager = self.alertmanager(data["alertmanager"]) if "alertmanager" in data else None
        prometheus = self.prometheus(data["prometheus"]) if "prometheus" in data else None
        metrics = self.metrics(data["metrics"]) if "metrics" in data else ()
        if metrics and prometheus is None and "prometheus" not in data:
            self.report(("metrics",), "[[metrics]] needs a [prometheus] section to query",
                        'add [prometheus] with url = "http://prometheus:9090"')
        logs = self.logs(data["logs"]) if "logs" in data else ()
        return Config(
            incident=incident or IncidentDefaults(),
            services=services or (),
            host=host or HostSpec(),
            kubernetes=kube,
            repos=repos or (),
            notify=notify or (),
            alertmanager=alertmanager,
            prometheus=prometheus,
            metrics=metrics or (),
            logs=logs or (),
            path=file,
            secrets=frozenset(self.secrets),
            template_dir=file.parent / "templates",
            store_url=store_url,
        )

    def store(self, value: Any) -> str | None:
        table = self.table("store", value)
        if table is None:
            return None
        got = self.fields(("store",), table, _STORE_SCHEMA, "[store]")
        return (got or {}).get("url")

    def table(self, name: str, value: Any) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        if isinstance(value, list):
            self.report((name,), f"{name} must be a single [{name}] table, got a list",
                        f"write [{name}] with single brackets, once")
        else:
            self.report((name,), f"{name} must be a [{name}] table, got {_describe(value)}",
                        f"put the keys under a [{name}] header")
        return None

    def blocks(self, name: str, value: Any) -> list[dict[str, Any]] | None:
        if isinstance(value, dict):
            self.report((name,), f"{name} must be a list of [[{name}]] blocks, got a single [{name}] table",
                        f"write [[{name}]] with double brackets")
            return None
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.report((name,), f"{name} must be a list of [[{name}]] blocks, got {_describe(value)}",
                        f"write one [[{name}]] block per entry")
            return None
        return value

    def incident(self, value: Any) -> IncidentDefaults | None:
        table = self.table("incident", value)
        if table is None:
            return None
        got = self.fields(("incident",), table, _INCIDENT_SCHEMA, "[incident]")
        if got is None:
            return None
        cadence = dict(IncidentDefaults().cadence_minutes)
        for sev, minutes in got.pop("cadence_minutes", {}).items():
            if minutes == 0:  # 0 switches the update timer off, like SEV4's default
                cadence.pop(sev, None)
            else:
                cadence[sev] = minutes
        return IncidentDefaults(cadence_minutes=dict(sorted(cadence.items())), **got)

    def services(self, value: Any) -> tuple[ServiceSpec, ...] | None:
        blocks = self.blocks("services", value)
        if blocks is None:
            return None
        specs: list[ServiceSpec] = []
        first_seen: dict[str, int] = {}
        ok = True
        for index, block in enumerate(blocks):
            path: tuple[Any, ...] = ("services", index)
            name = block.get("name")
            where = f"[[services]] {_quote(name)}" if isinstance(name, str) else f"[[services]] #{index + 1}"
            got = self.fields(path, block, _SERVICE_SCHEMA, where)
            for required, example in (("name", '"payments"'), ("url", '"https://payments.internal/healthz"')):
                if required not in block:
                    self.report(path, f"{where} has no {required}", f"add {required} = {example}")
                    got = None
            if isinstance(name, str) and name.strip():
                if name in first_seen:
                    self.report(path + ("name",), f"duplicate service name {_quote(name)} (first at line {first_seen[name]})",
                                "give each [[services]] block its own name")
                    got = None
                else:
                    first_seen[name] = self.locator.line(path + ("name",)) or 0
            if got is not None and "json_equals" in got and "json_field" not in got:
                self.report(path + ("json_equals",), f"{_dotted(path)}.json_equals needs json_field",
                            'add json_field = "status" (the dotted path of the value to compare)')
                got = None
            if got is None:
                ok = False
                continue
            specs.append(ServiceSpec(**got))
        return tuple(specs) if ok else None

    def host(self, value: Any) -> HostSpec | None:
        table = self.table("host", value)
        if table is None:
            return None
        got = self.fields(("host",), table, _HOST_SCHEMA, "[host]")
        return None if got is None else HostSpec(**got)

    def kubernetes(self, value: Any) -> KubeSpec | None:
        table = self.table("kubernetes", value)
        if table is None:
            return None
        got = self.fields(("kubernetes",), table, _KUBE_SCHEMA, "[kubernetes]")
        return None if got is None else KubeSpec(**got)

    def repos(self, value: Any) -> tuple[RepoSpec, ...] | None:
        blocks = self.blocks("repos", value)
        if blocks is None:
            return None
        specs: list[RepoSpec] = []
        first_seen: dict[str, int] = {}
        ok = True
        for index, block in enumerate(blocks):
            path: tuple[Any, ...] = ("repos", index)
            where = f"[[repos]] {_quote(block['path'])}" if isinstance(block.get("path"), str) else f"[[repos]] #{index + 1}"
            got = self.fields(path, block, _REPO_SCHEMA, where)
            if "path" not in block:
                self.report(path, f"{where} has no path", 'add path = "~/src/payments" (a git checkout)')
                got = None
            if "branch" in block and "tags" in block:
                self.report(path + ("tags",), f"{where} sets both branch and tags",
                            "keep one: branch follows commits, tags follows deploy tags")
                got = None
            if got is not None:
                if got["path"] in first_seen:
                    self.report(path + ("path",), f"duplicate repo {_quote(block['path'])} (first at line {first_seen[got['path']]})",
                                "list each repository once")
                    got = None
                else:
                    first_seen[got["path"]] = self.locator.line(path + ("path",)) or 0
            if got is None:
                ok = False
                continue
            specs.append(RepoSpec(**got))
        return tuple(specs) if ok else None

    def logs(self, value: Any) -> tuple[LogSpec, ...] | None:
        blocks = self.blocks("logs", value)
        if blocks is None:
            return None
        specs: list[LogSpec] = []
        names: dict[str, int] = {}
        ok = True
        for index, block in enumerate(blocks):
            path: tuple[Any, ...] = ("logs", index)
            where = f"[[logs]] {_quote(block['name'])}" if isinstance(block.get("name"), str) else f"[[logs]] #{index + 1}"
            got = self.fields(path, block, _LOG_SCHEMA, where)
            for required, example in (("name", '"api"'), ("path", '"/var/log/api/*.log"')):
                if required not in block:
                    self.report(path, f"{where} has no {required}", f"add {required} = {example}")
                    got = None
            if got is not None and got["name"] in names:
                self.report(path + ("name",), f"duplicate log name {_quote(got['name'])} (first at line "
                            f"{names[got['name']]})", "give each [[logs]] block its own name")
                got = None
            if got is None:
                ok = False
                continue
            names[got["name"]] = self.locator.line(path + ("name",)) or 0
            specs.append(LogSpec(**got))
        return tuple(specs) if ok else None

    def notify(self, value: Any) -> tuple[NotifySpec, ...] | None:
        blocks = self.blocks("notify", value)
        if blocks is None:
            return None
        specs: list[NotifySpec] = []
        ok = True
        for index, block in enumerate(blocks):
            path: tuple[Any, ...] = ("notify", index)
            label = block.get("name") or block.get("kind")
            where = f"[[notify]] {_quote(label)}" if isinstance(label, str) else f"[[notify]] #{index + 1}"
            got = self.fields(path, block, _NOTIFY_SCHEMA, where)
            for required, example in (("kind", '"slack"'), ("url", '"${SLACK_WEBHOOK_URL}"')):
                if required not in block:
                    self.report(path, f"{where} has no {required}", f"add {required} = {example}")
                    got = None
            if got is None:
                ok = False
                continue
            # A webhook URL is a credential in itself (anyone holding it can post).
            self.add_secret(got["url"])
            got.setdefault("name", got["kind"])
            specs.append(NotifySpec(**got))
        return tuple(specs) if ok else None

    def _server(self, name: str, value: Any, schema: dict[str, _Parser], example: str) -> dict[str, Any] | None:
        table = self.table(name, value)
        if table is None:
            return None
        got = self.fields((name,), table, schema, f"[{name}]")
        if "url" not in table:
            self.report((name,), f"[{name}] has no url", f"add url = {example}")
            return None
        return got

    def alertmanager(self, value: Any) -> AlertmanagerSpec | None:
        got = self._server("alertmanager", value, _ALERTMANAGER_SCHEMA, '"http://alertmanager:9093"')
        return None if got is None else AlertmanagerSpec(**got)

    def prometheus(self, value: Any) -> PrometheusSpec | None:
        got = self._server("prometheus", value, _PROMETHEUS_SCHEMA, '"http://prometheus:9090"')
        return None if got is None else PrometheusSpec(**got)

    def metrics(self, value: Any) -> tuple[MetricSpec, ...] | None:
        blocks = self.blocks("metrics", value)
        if blocks is None:
            return None
        specs: list[MetricSpec] = []
        first_seen: dict[str, int] = {}
        ok = True
        for index, block in enumerate(blocks):
            path: tuple[Any, ...] = ("metrics", index)
            name = block.get("name")
            where = f"[[metrics]] {_quote(name)}" if isinstance(name, str) else f"[[metrics]] #{index + 1}"
            got = self.fields(path, block, _METRIC_SCHEMA, where)
            for required, example in (("name", '"checkout 5xx"'), ("query", "'sum(rate(http_requests_total[5m]))'")):
                if required not in block:
                    self.report(path, f"{where} has no {required}", f"add {required} = {example}")
                    got = None
            if isinstance(name, str) and name.strip():
                if name in first_seen:
                    self.report(path + ("name",), f"duplicate metric name {_quote(name)} (first at line {first_seen[name]})",
                                "give each [[metrics]] block its own name")
                    got = None
                else:
                    first_seen[name] = self.locator.line(path + ("name",)) or 0
            if got is not None and got.get("warn") is not None and got.get("crit") is not None:
                warn, crit, better = got["warn"], got["crit"], got.get("better", "lower")
                if (warn > crit) if better == "lower" else (warn < crit):
                    side = "above" if better == "lower" else "below"
                    self.report(path + ("warn",), f"{where} warn {_fmt_number(warn)} is {side} crit {_fmt_number(crit)}",
                                f'swap them, or write better = "{"higher" if better == "lower" else "lower"}"')
                    got = None
            if got is None:
                ok = False
                continue
            specs.append(MetricSpec(**got))
        return tuple(specs) if ok else None
