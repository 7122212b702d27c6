"""Reading warroom.toml: the file, its TOML, and :class:`_Loader`, which walks the parsed
tables reporting every problem as ``file:line: what is wrong — how to fix it``."""
from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Mapping

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

from .actions import load_actions
from .checker import _Checker
from .describe import _close_match, _describe, _dotted, _fmt_number, _quote
from .hosts import load_hosts
from .locate import _deepest_line, _shell_quote, _syntax_problem
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
    _USER_SCHEMA,
    _section_header,
)
from .values import _Parser


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


class _Loader(_Checker):
    """Walks the parsed TOML, reporting every problem it can find and building the specs."""

    # -- sections

    def build(self, data: dict[str, Any], file: Path) -> Config:
        for key in data:
            if key not in _SECTIONS:
                # "hots" is as close to [host] as to [[hosts]]: the keys written under it decide.
                keys = set(data[key]) if isinstance(data[key], dict) else set()
                fits = [s for s in _SECTIONS if keys and keys <= set(_SECTION_KEYS[s])]
                guess = _close_match(key, fits) or _close_match(key, _SECTIONS)
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
        user_name = self.user(data["user"]) if "user" in data else None
        alertmanager = self.alertmanager(data["alertmanager"]) if "alertmanager" in data else None
        prometheus = self.prometheus(data["prometheus"]) if "prometheus" in data else None
        metrics = self.metrics(data["metrics"]) if "metrics" in data else ()
        if metrics and prometheus is None and "prometheus" not in data:
            self.report(("metrics",), "[[metrics]] needs a [prometheus] section to query",
                        'add [prometheus] with url = "http://prometheus:9090"')
        logs = self.logs(data["logs"]) if "logs" in data else ()
        actions = load_actions(self, data["actions"]) if "actions" in data else ()
        hosts = load_hosts(self, data["hosts"]) if "hosts" in data else ()
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
            actions=actions or (),
            hosts=hosts or (),
            path=file,
            secrets=frozenset(self.secrets),
            template_dir=file.parent / "templates",
            store_url=store_url,
            user_name=user_name,
        )

    def store(self, value: Any) -> str | None:
        table = self.table("store", value)
        if table is None:
            return None
        got = self.fields(("store",), table, _STORE_SCHEMA, "[store]")
        return (got or {}).get("url")

    def user(self, value: Any) -> str | None:
        table = self.table("user", value)
        if table is None:
            return None
        got = self.fields(("user",), table, _USER_SCHEMA, "[user]")
        return (got or {}).get("name")

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
