"""Field parsers that need more than a type check: URLs, headers, status codes, paths,
patterns, matchers… Each reports its own problem on the loader and returns ``_BAD``."""
from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlsplit

from tui.incident.model import PHASES, SEVERITIES
from tui.incident.specs import NOTIFY_KINDS

from .describe import _close_match, _dotted, _fmt_number, _quote
from .values import _BAD, MAX_MINUTES, _num, _Parser

if TYPE_CHECKING:
    from .checker import _Checker


HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def _cadence(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
    if not isinstance(value, dict):
        ld.wrong_type(path, "a table of minutes by severity", value, "{ SEV1 = 15, SEV2 = 30, SEV3 = 60 }")
        return _BAD
    out: dict[str, int | float] = {}
    minutes = _num("15", 1, MAX_MINUTES, unit="min", zero_off=True)
    bad = False
    for key, raw in value.items():
        sev = key.upper()
        if sev not in SEVERITIES:
            ld.report(path + (key,), f"unknown severity {_quote(key)} in incident.cadence_minutes",
                      "use SEV1, SEV2, SEV3 or SEV4")
            bad = True
            continue
        got = minutes(ld, path + (key,), raw)
        if got is _BAD:
            bad = True
            continue
        out[sev] = int(got) if got.is_integer() else got
    return _BAD if bad else out


def _checklists(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
    if not isinstance(value, dict):
        ld.wrong_type(path, "a table of checklists by phase", value, '{ Triage = ["Confirm impact"] }')
        return _BAD
    by_lower = {p.lower(): p for p in PHASES}
    out: dict[str, list[str]] = {}
    bad = False
    for key, items in value.items():
        phase = by_lower.get(key.lower())
        if phase is None:
            guess = _close_match(key, PHASES)
            ld.report(path + (key,), f"unknown phase {_quote(key)} in incident.checklists",
                      f'did you mean "{guess}"?' if guess else "use one of " + ", ".join(PHASES))
            bad = True
            continue
        if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
            ld.wrong_type(path + (key,), "a list of non-empty strings", items, '["Confirm impact", "Page the owning team"]')
            bad = True
            continue
        out[phase] = [i.strip() for i in items]
    return _BAD if bad else out


def _choice(choices: tuple[str, ...], *, normalise: Callable[[str], str], example: str,
            problem: Callable[[tuple[Any, ...], str], str], otherwise: str) -> _Parser:
    """A string out of ``choices`` (compared once normalised), a close match suggested."""
    def parse(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
        if not isinstance(value, str):
            ld.wrong_type(path, "a string", value, example)
            return _BAD
        chosen = normalise(value.strip())
        if chosen not in choices:
            guess = _close_match(chosen, choices)
            ld.report(path, problem(path, value), f'did you mean "{guess}"?' if guess else otherwise)
            return _BAD
        return chosen
    return parse


_method = _choice(HTTP_METHODS, normalise=str.upper, example='"GET"',
                  problem=lambda path, value: f"{_dotted(path)} {_quote(value)} is not an HTTP method",
                  otherwise="use one of " + ", ".join(HTTP_METHODS))


_STATUS_CLASS = re.compile(r"\s*([1-5])xx\s*", re.I)


def _expect_status(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
    items = value if isinstance(value, list) else [value]
    what = 'status codes like [200, 204], "2xx" or [[200, 299]]'
    if not items:
        ld.report(path, f"{_dotted(path)} is empty", "write expect_status = [200] (or leave it out for any 2xx)")
        return _BAD
    ranges: list[tuple[int, int]] = []
    for item in items:
        if isinstance(item, str) and _STATUS_CLASS.fullmatch(item):
            base = int(_STATUS_CLASS.fullmatch(item)[1]) * 100  # type: ignore[index]
            ranges.append((base, base + 99))
            continue
        if isinstance(item, str) and item.strip().isdigit():
            item = int(item)
        if isinstance(item, int) and not isinstance(item, bool):
            low = high = item
        elif (isinstance(item, list) and len(item) == 2
              and all(isinstance(i, int) and not isinstance(i, bool) for i in item)):
            low, high = item
        else:
            ld.wrong_type(path, what, value, "[200, 204]")
            return _BAD
        for code in (low, high):
            if not 100 <= code <= 599:
                ld.report(path, f"{_dotted(path)} has {code}, which is not an HTTP status (100–599)",
                          "write expect_status = [200, 204]")
                return _BAD
        if low > high:
            ld.report(path, f"{_dotted(path)} range [{low}, {high}] is backwards",
                      f"write [[{high}, {low}]] (lowest first)")
            return _BAD
        ranges.append((low, high))
    return tuple(dict.fromkeys(ranges))


def _headers(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
    if not isinstance(value, dict):
        ld.wrong_type(path, "a table of header names and values", value, '{ Authorization = "Bearer ${TOKEN}" }')
        return _BAD
    out: list[tuple[str, str]] = []
    bad = False
    for name, raw in value.items():
        here = path + (name,)
        if not _HEADER_NAME.fullmatch(name):
            ld.report(here, f"{_quote(name)} is not a valid HTTP header name",
                      "use letters, digits and -, e.g. X-Api-Key")
            bad = True
            continue
        if not isinstance(raw, str):
            fix = _quote(str(raw).lower() if isinstance(raw, bool) else str(raw)) if isinstance(raw, (int, float)) else '"…"'
            ld.wrong_type(here, "a string", raw, fix)
            bad = True
            continue
        expanded = ld.expand(here, raw, "export it or remove the header")
        if expanded is _BAD:
            bad = True
            continue
        text = expanded[0]
        if "\r" in text or "\n" in text:
            ld.report(here, f"header {_quote(name)} contains a line break", "keep header values on one line")
            bad = True
            continue
        # Header values are credentials more often than not; hide all of them.
        ld.add_secret(text)
        if name.lower() in ("authorization", "proxy-authorization"):
            # "Bearer xyz": the credential alone may be shown elsewhere (e.g. in an error)
            scheme, _, credential = text.strip().partition(" ")
            ld.add_secret(credential.strip())
        out.append((name, text))
    return _BAD if bad else tuple(out)


def _verify(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return ld.file_path(path, value, "CA bundle", '"ca.pem"', "write verify = true to use the system CAs")
    ld.wrong_type(path, 'true, false or a CA bundle path', value, "true")
    return _BAD


def _json_equals(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"   # JSON's spelling, since it is compared as text
    if isinstance(value, (int, float)):
        return _fmt_number(value)
    if isinstance(value, str):
        return value
    ld.wrong_type(path, "a string, number or true/false", value, '"UP"')
    return _BAD


def _threshold(default: tuple[float, float]) -> _Parser:
    example = f"[{_fmt_number(default[0])}, {_fmt_number(default[1])}]"

    def parse(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
        if not (isinstance(value, list) and len(value) == 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
            ld.wrong_type(path, "a [warn, critical] pair of percentages", value, example)
            return _BAD
        warn, crit = value
        for v in (warn, crit):
            if not (math.isfinite(v) and 0 <= v <= 100):
                ld.report(path, f"{_dotted(path)} has {_fmt_number(v)}, which is not a percentage (0–100)",
                          f"write {path[-1]} = {example}")
                return _BAD
        if warn > crit:
            ld.report(path, f"{_dotted(path)} warning {_fmt_number(warn)} is above critical {_fmt_number(crit)}",
                      f"write {path[-1]} = [{_fmt_number(crit)}, {_fmt_number(warn)}] (warn first)")
            return _BAD
        return (float(warn), float(crit))

    return parse


def _namespaces(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
    items = [value] if isinstance(value, str) else value  # one namespace as a bare string is clear enough
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        ld.wrong_type(path, "a list of namespace names", value, '["payments", "edge"]')
        return _BAD
    if "*" in items:
        return ("*",)
    for item in items:
        if not _NAMESPACE.fullmatch(item) or len(item) > 63:
            ld.report(path, f"{_dotted(path)} has {_quote(item)}, which is not a namespace name",
                      'use lowercase letters, digits and -, e.g. ["payments"], or ["*"] for all')
            return _BAD
    return tuple(dict.fromkeys(items))


def _kubeconfig(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
    return ld.file_path(path, value, "kubeconfig", '"~/.kube/config"',
                        "remove the kubeconfig line to use $KUBECONFIG or ~/.kube/config")


def _repo_path(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
    if not isinstance(value, str) or not value.strip():
        ld.wrong_type(path, "a directory path", value, '"~/src/payments"')
        return _BAD
    expanded = ld.expand(path, value, "export it or write the path directly")
    if expanded is _BAD:
        return _BAD
    resolved = ld.resolve_path(expanded[0])
    if not resolved.exists():
        ld.report(path, f"repo path {_quote(value)} does not exist", "fix the path (relative paths start at this file's directory)")
        return _BAD
    if not resolved.is_dir():
        ld.report(path, f"repo path {_quote(value)} is not a directory", "point it at the repository's top directory")
        return _BAD
    return str(resolved)


def _log_path(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
    """A file or a glob; it need not exist yet (a log appears when its service first writes)."""
    if not isinstance(value, str) or not value.strip():
        ld.wrong_type(path, "a file path or glob", value, '"/var/log/api/*.log"')
        return _BAD
    expanded = ld.expand(path, value, "export it or write the path directly")
    if expanded is _BAD:
        return _BAD
    return str(ld.resolve_path(expanded[0]))


def _error_pattern(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
    if not isinstance(value, str) or not value:
        ld.wrong_type(path, "a regular expression", value, "'(?i)error|timeout'")
        return _BAD
    try:
        re.compile(value)
    except re.error as exc:
        ld.report(path, f"error_pattern {_quote(value)} is not a regular expression: {exc}",
                  "fix it (Python re syntax; in TOML prefer 'single quotes' so backslashes stay as typed)")
        return _BAD
    return value


_notify_kind = _choice(NOTIFY_KINDS, normalise=str.lower, example='"slack"',
                       problem=lambda path, value: f"unknown notify kind {_quote(value)}",
                       otherwise='use "slack" or "json"')


def _service_url(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
    return ld.url(path, value, "export it or write the URL directly")


def _notify_url(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
    return ld.url(path, value, "export it or remove this [[notify]] block")


def _server_url(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
    return ld.url(path, value, f"export it or remove the [{path[0]}] section")


def _node_url(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
    return ld.url(path, value, "export it or remove the [[hosts]] block")


# An Alertmanager matcher: label, operator, value (quoted, or a bare word).
_MATCHER = re.compile(r'\s*[A-Za-z_][A-Za-z0-9_]*\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|[^"\s,{}]+)\s*')


def _matchers(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        ld.wrong_type(path, "a list of matchers", value, "['team=\"payments\"']")
        return _BAD
    for matcher in value:
        if not _MATCHER.fullmatch(matcher):
            ld.report(path, f"{_quote(matcher)} is not an Alertmanager matcher",
                      "write label=\"value\" (or !=, =~, !~), e.g. filter = ['team=\"payments\"']")
            return _BAD
    return tuple(value)


_UNIT = re.compile(r"[^\s\x00-\x1f\x7f]{1,12}")


def _unit(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
    if not isinstance(value, str) or not _UNIT.fullmatch(value):
        ld.wrong_type(path, "a short unit (up to 12 characters, no spaces)", value, '"req/s" (or "%", "ms", "s", "bytes")')
        return _BAD
    return value


def _better(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
    if value not in ("lower", "higher"):
        ld.wrong_type(path, '"lower" or "higher"', value, '"higher" (a value below the thresholds is worse)')
        return _BAD
    return value




MAX_USER_NAME = 64


def _user_name(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
    """[user] name: who this machine's warroom writes as (entries' author, the presence list)."""
    if not isinstance(value, str):
        ld.wrong_type(path, "a string", value, '"alice"')
        return _BAD
    name = value.strip()
    if not name:
        ld.report(path, "user.name is empty", 'write name = "alice" (or remove it: the login name is used)')
        return _BAD
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        ld.report(path, "user.name has a control character (a newline, a tab…)", 'write one plain line, e.g. "alice"')
        return _BAD
    if len(name) > MAX_USER_NAME:
        ld.report(path, f"user.name is {len(name)} characters long (at most {MAX_USER_NAME})",
                  "use the short name people know you by")
        return _BAD
    return name


def _store_url(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
    """The shared store's PostgreSQL URL; ${NAME} for the password, which becomes a secret."""
    if not isinstance(value, str):
        ld.wrong_type(path, "a string", value, '"postgresql://warroom_app@db.internal/warroom"')
        return _BAD
    expanded = ld.expand(path, value, "export it, or use libpq's PGPASSWORD or ~/.pgpass instead")
    if expanded is _BAD:
        return _BAD
    url = expanded[0]
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a malformed port
    except ValueError:
        ld.report(path, f"invalid URL {_quote(value)}", "write it as postgresql://USER@HOST:PORT/DATABASE")
        return _BAD
    if parts.scheme not in ("postgresql", "postgres"):
        ld.report(path, f"store.url must be a postgresql:// URL, got {_quote(value)}",
                  "write it as postgresql://USER@HOST:PORT/DATABASE (no [store] section: the local SQLite file)")
        return _BAD
    ld.add_secret(parts.password)
    return url
