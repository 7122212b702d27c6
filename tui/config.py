"""warroom.toml: load it into the frozen specs of ``checks.specs``, or say in one line what is wrong.

Every problem is reported as ``file:line: what is wrong — how to fix it``. tomllib
gives no positions for values, so :class:`_Locator` finds them by scanning the
source text for table headers and ``key =`` lines.

This module is used by the command line as well as the app, so it imports
neither textual nor any of the heavy client libraries.
"""
from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence
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
from tui.incident.model import PHASES, SEVERITIES
from tui.incident.specs import NOTIFY_KINDS, IncidentDefaults, NotifySpec

__all__ = [
    "Config",
    "ConfigError",
    "EXAMPLE_CONFIG",
    "NOTIFY_KINDS",
    "PHASES",
    "SEVERITIES",
    "check_config",
    "default_config_path",
    "load_config",
    "write_example",
]

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

# Shorter values are not recorded as secrets: they protect nothing and replacing
# them everywhere would garble the screen (a token "1" would hide every digit 1).
_MIN_SECRET_LEN = 4


class ConfigError(ValueError):
    """A configuration problem. ``str()`` is the first problem, a single line;
    ``problems`` holds every problem that was found (also one line each)."""

    def __init__(self, problems: str | Sequence[str]) -> None:
        if isinstance(problems, str):
            problems = [problems]
        self.problems: tuple[str, ...] = tuple(_one_line(p) for p in problems) or ("invalid configuration",)
        super().__init__(self.problems[0])


@dataclass(frozen=True)
class Config:
    """A whole warroom.toml, validated."""
    incident: IncidentDefaults = field(default_factory=IncidentDefaults)
    services: tuple[ServiceSpec, ...] = ()
    host: HostSpec = field(default_factory=HostSpec)
    kubernetes: KubeSpec | None = None   # None: not configured; the app tries the default kubeconfig
    repos: tuple[RepoSpec, ...] = ()     # empty: not configured; the app tries the cwd
    notify: tuple[NotifySpec, ...] = ()
    alertmanager: AlertmanagerSpec | None = None   # None: no alerts pane
    prometheus: PrometheusSpec | None = None
    metrics: tuple[MetricSpec, ...] = ()           # needs [prometheus]; empty: no metrics pane
    logs: tuple[LogSpec, ...] = ()       # [[logs]]: files followed for error lines
    path: Path | None = None             # the file this came from (absolute), None for defaults
    secrets: frozenset[str] = frozenset()
    template_dir: Path | None = None     # <config dir>/templates; may not exist
    store_url: str | None = None         # [store] url: the shared PostgreSQL store (a secret: its password)


# --------------------------------------------------------------------------- public API


def load_config(path: str | os.PathLike[str] | None, env: Mapping[str, str] | None = None) -> Config:
    """Load and validate a config file; ``None`` gives the defaults.

    ``env`` stands in for ``os.environ`` for ``${NAME}`` expansion. Raises
    :class:`ConfigError` (first problem as its message, all in ``.problems``).
    """
    if path is None:
        return Config()
    config, problems = _load(path, os.environ if env is None else env)
    if problems:
        raise ConfigError(problems)
    assert config is not None
    return config


def check_config(path: str | os.PathLike[str] | None, env: Mapping[str, str] | None = None) -> list[str]:
    """Every problem in a config file, one line each, in file order; empty when it is fine."""
    if path is None:
        return []
    return _load(path, os.environ if env is None else env)[1]


def default_config_path() -> Path | None:
    """``$WARROOM_CONFIG`` (even if missing, so loading it explains), else
    ``./warroom.toml``, else the per-user config dir's warroom.toml, if they exist."""
    explicit = os.environ.get("WARROOM_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    local = Path("warroom.toml")
    if local.is_file():
        return local
    import platformdirs  # only needed on this path

    user = Path(platformdirs.user_config_dir("warroom")) / "warroom.toml"
    return user if user.is_file() else None


def write_example(path: str | os.PathLike[str]) -> None:
    """Write :data:`EXAMPLE_CONFIG` to ``path``; never overwrites an existing file."""
    label = os.fspath(path)
    target = Path(label).expanduser()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # e.g. a file is in the way (which mkdir reports as FileExistsError)
        raise ConfigError(f"cannot write {label}: {exc.strerror or exc} — pick a writable path") from None
    try:
        # "x" makes the existence check and the creation one atomic step.
        with open(target, "x", encoding="utf-8") as fh:
            try:
                fh.write(EXAMPLE_CONFIG)
            except BaseException:
                fh.close()
                target.unlink(missing_ok=True)  # only ever our own, just-created file
                raise
    except FileExistsError:
        raise ConfigError(f"{label} already exists — pass another path or remove it") from None
    except OSError as exc:
        raise ConfigError(f"cannot write {label}: {exc.strerror or exc} — pick a writable path") from None


# --------------------------------------------------------------------------- reading the file


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


def _deepest_line(text: str) -> int:
    """The line where [ and { nesting is deepest (strings are not told apart: a rough guide)."""
    depth = best = 0
    best_line = line = 1
    for ch in text:
        if ch == "\n":
            line += 1
        elif ch in "[{":
            depth += 1
            if depth > best:
                best, best_line = depth, line
        elif ch in "]}":
            depth = max(0, depth - 1)
    return best_line


_POSITION = re.compile(r"^(?P<msg>.*?)\s*\((?:at line (?P<line>\d+), column (?P<col>\d+)|at end of document)\)\s*$", re.S)
_DECLARE_TWICE = re.compile(r"Cannot declare \((?P<parts>.*?)\) twice")


def _syntax_problem(label: str, text: str, message: str) -> str:
    m = _POSITION.match(message)
    if m is None:  # tomllib changed its wording: still one line, no position
        return f"{label}: {message} — check the TOML syntax"
    msg = m["msg"]
    if m["line"]:
        line, where = int(m["line"]), f" (column {m['col']})"
    else:
        line, where = max(1, text.count("\n") + (0 if text.endswith("\n") else 1)), " (at the end of the file)"
    if msg.startswith(("Unclosed", "Unterminated")):
        # tomllib notices where the value should have ended; the mistake is where it began.
        opened = _Locator(text).open_since.get(line)
        if opened and opened != line:
            where = f" (opened here, still open at line {line})"
            line = opened
    twice = _DECLARE_TWICE.search(msg)
    if twice:
        parts = [p.strip().strip("'\"") for p in twice["parts"].split(",") if p.strip()]
        msg = f"Cannot declare [{'.'.join(parts)}] twice"
    hint = "check the TOML syntax"
    if msg.startswith("Invalid value"):
        hint += ': put text in double quotes, e.g. url = "https://…"; numbers, true/false and [lists] need none'
    elif msg.startswith("Cannot overwrite a value"):
        hint += ": this key is already set in this table — keep one"
    elif msg.startswith("Cannot declare"):
        hint += ": merge the two tables, or use [[name]] for a list of tables"
    elif msg.startswith("Illegal character '\\n'"):
        hint += ": a string is not closed on this line — add the closing quote"
    elif msg.startswith(("Unclosed", "Unterminated")):
        hint += ": close the array, inline table or string that is still open"
    return f"{label}:{line}: {msg}{where} — {hint}"


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


# --------------------------------------------------------------------------- locating keys


class _Locator:
    """Maps a value's path to the line it was written on.

    Paths are tuples of table keys and array-of-tables indices, e.g.
    ``("services", 0, "timeout")`` for the ``timeout =`` line in the first
    ``[[services]]`` block. Only runs on text tomllib has already accepted, so
    it can assume the syntax is valid. :meth:`line` falls back to the closest
    enclosing key or table header that was found.
    """

    def __init__(self, text: str) -> None:
        self._keys: dict[tuple[Any, ...], int] = {}
        self._tables: dict[tuple[Any, ...], int] = {}
        self._aot: dict[tuple[Any, ...], int] = {}   # array-of-tables path -> index of its last block
        # line -> line of the key whose value is still open there (multi-line array or string)
        self.open_since: dict[int, int] = {}
        current: tuple[Any, ...] = ()
        depth, ml = 0, None                            # bracket depth and open multi-line string
        value_line = 0
        # tomllib counts lines by "\n" only; str.splitlines would also split on \x0c etc.
        for lineno, line in enumerate(text.split("\n"), 1):
            if ml or depth > 0:
                self.open_since[lineno] = value_line
                depth, ml = _scan_value(line, 0, depth, ml)
                continue
            start = len(line) - len(line.lstrip(" \t"))
            if start >= len(line) or line[start] in "#\r":
                continue
            if line[start] == "[":
                is_array = line.startswith("[[", start)
                got = _parse_key(line, start + (2 if is_array else 1))
                if got is None:
                    continue
                parts = got[0]
                if is_array:
                    array = self._resolve(parts[:-1]) + (parts[-1],)
                    index = self._aot.get(array, -1) + 1
                    self._aot[array] = index
                    self._tables.setdefault(array, lineno)
                    current = array + (index,)
                else:
                    current = self._resolve(parts)
                self._tables.setdefault(current, lineno)
                continue
            got = _parse_key(line, start)
            if got is None:
                continue
            parts, end = got
            self._keys.setdefault(current + tuple(parts), lineno)
            equals = line.find("=", end)
            value_line = lineno
            depth, ml = _scan_value(line, equals + 1, 0, None)

    def _resolve(self, parts: Iterable[str]) -> tuple[Any, ...]:
        out: tuple[Any, ...] = ()
        for part in parts:
            out += (part,)
            if out in self._aot:  # [services.x] belongs to the latest [[services]] block
                out += (self._aot[out],)
        return out

    def line(self, path: Sequence[Any]) -> int | None:
        key = tuple(path)
        while key:
            if key in self._keys:
                return self._keys[key]
            if key in self._tables:
                return self._tables[key]
            key = key[:-1]
        return None


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _parse_key(line: str, i: int) -> tuple[list[str], int] | None:
    """Parse a (dotted, possibly quoted) key starting at ``i``; return its parts and end."""
    parts: list[str] = []
    n = len(line)
    while True:
        while i < n and line[i] in " \t":
            i += 1
        if i >= n:
            return None
        c = line[i]
        if c == '"':
            j = i + 1
            while j < n and line[j] != '"':
                j += 2 if line[j] == "\\" else 1
            try:  # let tomllib decode the escapes
                parts.append(tomllib.loads("k = " + line[i : j + 1])["k"])
            except tomllib.TOMLDecodeError:
                return None
            i = j + 1
        elif c == "'":
            j = line.find("'", i + 1)
            if j < 0:
                return None
            parts.append(line[i + 1 : j])
            i = j + 1
        else:
            m = _BARE_KEY.match(line, i)
            if m is None:
                return None
            parts.append(m.group())
            i = m.end()
        while i < n and line[i] in " \t":
            i += 1
        if i < n and line[i] == ".":
            i += 1
            continue
        return parts, i


def _scan_value(line: str, i: int, depth: int, ml: str | None) -> tuple[int, str | None]:
    """Follow brackets and strings through a value so that lines inside a
    multi-line array or string are never mistaken for keys or headers."""
    n = len(line)
    while i < n:
        if ml:
            end = _multiline_end(line, i, ml)
            if end < 0:
                return depth, ml
            i, ml = end, None
            continue
        c = line[i]
        if c == "#":
            break
        if line.startswith('"""', i) or line.startswith("'''", i):
            ml = line[i : i + 3]
            i += 3
        elif c == '"':
            i += 1
            while i < n and line[i] != '"':
                i += 2 if line[i] == "\\" else 1
            i += 1
        elif c == "'":
            j = line.find("'", i + 1)
            i = n if j < 0 else j + 1
        else:
            if c in "[{":
                depth += 1
            elif c in "]}":
                depth -= 1
            i += 1
    return depth, ml


def _multiline_end(line: str, i: int, delim: str) -> int:
    """Index just past the closing delimiter on this line, or -1."""
    quote = delim[0]
    n = len(line)
    while i < n:
        if quote == '"' and line[i] == "\\":
            i += 2
            continue
        if line[i] == quote:
            run = i
            while run < n and line[run] == quote:
                run += 1
            if run - i >= 3:  # up to two quotes may precede the closing three
                return run
            i = run
            continue
        i += 1
    return -1


# --------------------------------------------------------------------------- describing values


_LINE_BREAKS = {ord(c): repr(c)[1:-1] for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"}


def _one_line(text: str) -> str:
    return text.translate(_LINE_BREAKS)


def _quote(text: str, limit: int = 60) -> str:
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in escaped)
    return f'"{escaped}"'


def _fmt_number(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:   # 1e300 stays 1e+300
        return str(int(value))
    return str(value)


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {_quote(value)}"
    if isinstance(value, list):
        shown = ", ".join(_short(v) for v in value[:4]) + (", …" if len(value) > 4 else "")
        return f"array [{shown}]"
    if isinstance(value, dict):
        return "a table"
    return f"date/time {value}"


def _short(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return _quote(value, 20)
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "[…]"
    if isinstance(value, dict):
        return "{…}"
    return str(value)


def _dotted(path: Sequence[Any]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = part if _BARE_KEY.fullmatch(part) else _quote(part)
            out += f".{text}" if out else text
    return out


def _key_text(key: Any) -> str:
    return key if isinstance(key, str) and _BARE_KEY.fullmatch(key) else _quote(str(key))


def _close_match(word: str, choices: Iterable[str]) -> str | None:
    import difflib  # only needed when something is misspelt

    by_lower = {c.lower(): c for c in choices}
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[found[0]] if found else None


# --------------------------------------------------------------------------- validation

_BAD: Any = object()   # a field that failed validation (its problem is already reported)
_Parser = Callable[["_Loader", tuple[Any, ...], Any], Any]

_UNIT_WORDS = {"s": "seconds", "ms": "milliseconds", "min": "minutes", "%": "percent"}
_UNIT_SPELLINGS = {
    "s": {"s", "sec", "secs", "second", "seconds"},
    "ms": {"ms", "msec", "millisecond", "milliseconds"},
    "min": {"m", "min", "mins", "minute", "minutes"},
    "%": {"%"},
}
_NUMBER_TEXT = re.compile(r"\s*([-+]?\d+(?:\.\d+)?)\s*([a-z%]*)\s*")


def _suggest_number(value: Any, unit: str, integer: bool) -> str | None:
    """For a number written as text ("2s") the fix is the bare number (2.0)."""
    if not isinstance(value, str):
        return None
    m = _NUMBER_TEXT.fullmatch(value.lower())
    if m is None or (m[2] and m[2] not in _UNIT_SPELLINGS.get(unit, set())):
        return None
    number = float(m[1])
    if integer:
        return str(int(number)) if number.is_integer() else None
    return repr(number)


def _num(example: str, lowest: float, highest: float, *, unit: str = "", integer: bool = False,
         zero_off: bool = False) -> _Parser:
    """A number in [lowest, highest] (``zero_off``: or exactly 0, which switches the thing off).

    Every number has a range the runtime can honour: 1e300 minutes overflowed the clock,
    retries = 2**63 - 1 never returned, an interval of 1e-300 s polled flat out."""
    what = "a whole number" if integer else "a number"
    in_units = f" ({_UNIT_WORDS[unit]})" if unit else ""
    span = f"between {_fmt_number(lowest)} and {_fmt_number(highest)}"
    if zero_off:
        span = f"0 (off) or {span}"

    def parse(ld: _Loader, path: tuple[Any, ...], value: Any) -> Any:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok and isinstance(value, float):
            ok = math.isfinite(value) and (not integer or value.is_integer())
        if not ok:
            fix = _suggest_number(value, unit, integer) or example
            ld.wrong_type(path, what, value, fix + in_units)
            return _BAD
        if not (lowest <= value <= highest or (zero_off and value == 0)):
            ld.report(path, f"{_dotted(path)} must be {span}{in_units}, got {_fmt_number(value)}",
                      f"write {_key_text(path[-1])} = {example}{in_units}")
            return _BAD
        return int(value) if integer else float(value)

    return parse


def _text(example: str) -> _Parser:
    def parse(ld: _Loader, path: tuple[Any, ...], value: Any) -> Any:
        if not isinstance(value, str):
            ld.wrong_type(path, "a string", value, example)
            return _BAD
        if not value.strip():
            ld.report(path, f"{_dotted(path)} is empty", f"write {_key_text(path[-1])} = {example}")
            return _BAD
        return value

    return parse


def _flag(ld: _Loader, path: tuple[Any, ...], value: Any) -> Any:
    if not isinstance(value, bool):
        fix = value.strip().lower() if isinstance(value, str) and value.strip().lower() in ("true", "false") else "true"
        ld.wrong_type(path, "true or false", value, fix)
        return _BAD
    return value


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


_ENV_REF = re.compile(r"\$\$|\$\{([^{}]*)\}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


# -- field parsers that need more than a type check


def _cadence(ld: _Loader, path: tuple[Any, ...], value: Any) -> Any:
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


def _checklists(ld: _Loader, path: tuple[Any, ...], value: Any) -> Any:
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


def _method(ld: _Loader, path: tuple[Any, ...], value: Any) -> Any:
    if not isinstance(value, str):
        ld.wrong_type(path, "a string", value, '"GET"')
        return _BAD
    method = value.strip().upper()
    if method not in HTTP_METHODS:
        guess = _close_match(method, HTTP_METHODS)
        ld.report(path, f"{_dotted(path)} {_quote(value)} is not an HTTP method",
                  f'did you mean "{guess}"?' if guess else "use one of " + ", ".join(HTTP_METHODS))
        return _BAD
    return method


_STATUS_CLASS = re.compile(r"\s*([1-5])xx\s*", re.I)


def _expect_status(ld: _Loader, path: tuple[Any, ...], value: Any) -> Any:
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


def _headers(ld: _Loader, path: tuple[Any, ...], value: Any) -> Any:
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


def _verify(ld: _Loader, path: tuple[Any, ...], value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return ld.file_path(path, value, "CA bundle", '"ca.pem"', "write verify = true to use the system CAs")
    ld.wrong_type(path, 'true, false or a CA bundle path', value, "true")
    return _BAD


def _json_equals(ld: _Loader, path: tuple[Any, ...], value: Any) -> Any:
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

    def parse(ld: _Loader, path: tuple[Any, ...], value: Any) -> Any:
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


def _namespaces(ld: _Loader, path: tuple[Any, ...], value: Any) -> Any:
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


def _kubeconfig(ld: _Loader, path: tuple[Any, ...], value: Any) -> Any:
    return ld.file_path(path, value, "kubeconfig", '"~/.kube/config"',
                        "remove the kubeconfig line to use $KUBECONFIG or ~/.kube/config")


def _repo_path(ld: _Loader, path: tuple[Any, ...], value: Any) -> Any:
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


def _log_path(ld: _Loader, path: tuple[Any, ...], value: Any) -> Any:
    """A file or a glob; it need not exist yet (a log appears when its service first writes)."""
    if not isinstance(value, str) or not value.strip():
        ld.wrong_type(path, "a file path or glob", value, '"/var/log/api/*.log"')
        return _BAD
    expanded = ld.expand(path, value, "export it or write the path directly")
    if expanded is _BAD:
        return _BAD
    return str(ld.resolve_path(expanded[0]))


def _error_pattern(ld: _Loader, path: tuple[Any, ...], value: Any) -> Any:
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


def _notify_kind(ld: _Loader, path: tuple[Any, ...], value: Any) -> Any:
    if not isinstance(value, str):
        ld.wrong_type(path, "a string", value, '"slack"')
        return _BAD
    kind = value.strip().lower()
    if kind not in NOTIFY_KINDS:
        guess = _close_match(kind, NOTIFY_KINDS)
        ld.report(path, f"unknown notify kind {_quote(value)}",
                  f'did you mean "{guess}"?' if guess else 'use "slack" or "json"')
        return _BAD
    return kind


def _service_url(ld: _Loader, path: tuple[Any, ...], value: Any) -> Any:
    return ld.url(path, value, "export it or write the URL directly")


def _notify_url(ld: _Loader, path: tuple[Any, ...], value: Any) -> Any:
    return ld.url(path, value, "export it or remove this [[notify]] block")


def _server_url(ld: _Loader, path: tuple[Any, ...], value: Any) -> Any:
    return ld.url(path, value, f"export it or remove the [{path[0]}] section")


# An Alertmanager matcher: label, operator, value (quoted, or a bare word).
_MATCHER = re.compile(r'\s*[A-Za-z_][A-Za-z0-9_]*\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|[^"\s,{}]+)\s*')


def _matchers(ld: _Loader, path: tuple[Any, ...], value: Any) -> Any:
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


def _unit(ld: _Loader, path: tuple[Any, ...], value: Any) -> Any:
    if not isinstance(value, str) or not _UNIT.fullmatch(value):
        ld.wrong_type(path, "a short unit (up to 12 characters, no spaces)", value, '"req/s" (or "%", "ms", "s", "bytes")')
        return _BAD
    return value


def _better(ld: _Loader, path: tuple[Any, ...], value: Any) -> Any:
    if value not in ("lower", "higher"):
        ld.wrong_type(path, '"lower" or "higher"', value, '"higher" (a value below the thresholds is worse)')
        return _BAD
    return value


# The ranges of numbers: what the runtime can honour and a person could mean.
MAX_MINUTES = 24 * 60            # update cadence, escalation: a day at most
MIN_INTERVAL_S = 0.5             # polls: the screen is drawn once a second (tui/pacing.py)
MAX_INTERVAL_S = 3600.0
MAX_TIMEOUT_S = 300.0
MAX_RETRIES = 10

_INCIDENT_SCHEMA: dict[str, _Parser] = {
    "cadence_minutes": _cadence,
    "escalate_after_minutes": _num("30", 1, MAX_MINUTES, unit="min"),
    "checklists": _checklists,
}
_SERVICE_SCHEMA: dict[str, _Parser] = {
    "name": _text('"payments"'),
    "url": _service_url,
    "method": _method,
    "expect_status": _expect_status,
    "interval": _num("5", MIN_INTERVAL_S, MAX_INTERVAL_S, unit="s"),
    "timeout": _num("2.0", 0.1, MAX_TIMEOUT_S, unit="s"),
    "degraded_ms": _num("800", 0, MAX_TIMEOUT_S * 1000, unit="ms"),
    "fail_threshold": _num("2", 1, 100, integer=True),
    "body_contains": _text('"ok"'),
    "json_field": _text('"status"'),
    "json_equals": _json_equals,
    "headers": _headers,
    "verify": _verify,
    "follow_redirects": _flag,
}
_HOST_SCHEMA: dict[str, _Parser] = {
    "cpu": _threshold(HostSpec.cpu),
    "memory": _threshold(HostSpec.memory),
    "disk": _threshold(HostSpec.disk),
    "swap": _threshold(HostSpec.swap),
    "interval": _num("1", MIN_INTERVAL_S, MAX_INTERVAL_S, unit="s"),
    "top_processes": _num("5", 0, 100, integer=True),
    "top_interval": _num("3", 0, MAX_INTERVAL_S, unit="s"),
}
_KUBE_SCHEMA: dict[str, _Parser] = {
    "context": _text('"prod-eu"'),
    "namespaces": _namespaces,
    "kubeconfig": _kubeconfig,
    "interval": _num("1", MIN_INTERVAL_S, MAX_INTERVAL_S, unit="s"),
    "enabled": _flag,
}
_REPO_SCHEMA: dict[str, _Parser] = {
    "path": _repo_path,
    "branch": _text('"main"'),
    "tags": _text('"deploy-*"'),
    "limit": _num("15", 1, 1000, integer=True),
    "suspect_window_minutes": _num("120", 1, 30 * MAX_MINUTES, unit="min"),
    "fetch_interval": _num("0", 10, 24 * MAX_INTERVAL_S, unit="s", zero_off=True),
    "interval": _num("10", MIN_INTERVAL_S, MAX_INTERVAL_S, unit="s"),
}
_NOTIFY_SCHEMA: dict[str, _Parser] = {
    "kind": _notify_kind,
    "url": _notify_url,
    "name": _text('"slack"'),
    "timeout": _num("5.0", 0.1, MAX_TIMEOUT_S, unit="s"),
    "retries": _num("2", 0, MAX_RETRIES, integer=True),
}

def _store_url(ld: _Loader, path: tuple[Any, ...], value: Any) -> Any:
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


_STORE_SCHEMA: dict[str, _Parser] = {"url": _store_url}

MAX_THRESHOLD = 1e15
_ALERTMANAGER_SCHEMA: dict[str, _Parser] = {
    "url": _server_url,
    "filter": _matchers,
    "headers": _headers,
    "interval": _num("5", MIN_INTERVAL_S, MAX_INTERVAL_S, unit="s"),
    "timeout": _num("3.0", 0.1, MAX_TIMEOUT_S, unit="s"),
}
_PROMETHEUS_SCHEMA: dict[str, _Parser] = {
    "url": _server_url,
    "headers": _headers,
    "interval": _num("15", MIN_INTERVAL_S, MAX_INTERVAL_S, unit="s"),
    "timeout": _num("5.0", 0.1, MAX_TIMEOUT_S, unit="s"),
}
_METRIC_SCHEMA: dict[str, _Parser] = {
    "name": _text('"checkout 5xx"'),
    "query": _text("'sum(rate(http_requests_total{code=~\"5..\"}[5m]))'"),
    "unit": _unit,
    "warn": _num("0.5", -MAX_THRESHOLD, MAX_THRESHOLD),
    "crit": _num("2", -MAX_THRESHOLD, MAX_THRESHOLD),
    "better": _better,
}
_LOG_SCHEMA: dict[str, _Parser] = {
    "name": _text('"api"'),
    "path": _log_path,
    "error_pattern": _error_pattern,
    "interval": _num("1", MIN_INTERVAL_S, MAX_INTERVAL_S, unit="s"),
}

# Section -> is it a list of [[blocks]]?
_SECTIONS = {"incident": False, "services": True, "host": False, "kubernetes": False, "repos": True, "notify": True,
             "store": False, "alertmanager": False, "prometheus": False, "metrics": True, "logs": True}
_SECTION_KEYS = {
    "incident": _INCIDENT_SCHEMA, "services": _SERVICE_SCHEMA, "host": _HOST_SCHEMA,
    "kubernetes": _KUBE_SCHEMA, "repos": _REPO_SCHEMA, "notify": _NOTIFY_SCHEMA, "store": _STORE_SCHEMA,
    "alertmanager": _ALERTMANAGER_SCHEMA, "prometheus": _PROMETHEUS_SCHEMA, "metrics": _METRIC_SCHEMA,
    "logs": _LOG_SCHEMA,
}


def _section_header(name: str) -> str:
    return f"[[{name}]]" if _SECTIONS[name] else f"[{name}]"


# --------------------------------------------------------------------------- the example

# Lines like "#key = value" (no space after "#") are settings to switch on by
# deleting the "#"; "# text" lines explain. tests/test_config.py relies on that.
EXAMPLE_CONFIG = """\
# warroom.toml: what the warroom dashboard watches during an incident.
# Check it with:  warroom check-config warroom.toml
#
# Lines like "#key = value" are examples: delete the "#" to switch them on.
# The values shown are the defaults unless a comment says otherwise.
#
# In URLs, headers and paths, ${NAME} is replaced by the environment variable
# NAME (an error if it is not set), ${NAME:-fallback} falls back when it is
# unset, and $$ is a literal "$". Values taken from the environment, header
# values and notify URLs are secrets: never shown on screen or in exports.
# Relative paths start at this file's directory; "~" is your home directory.

# ---- Incident defaults, used when an incident is declared ------------------
[incident]
# Minutes between stakeholder updates, by severity (SEV1..SEV4). A severity
# that is left out (SEV4 by default) or set to 0 gets no update timer.
cadence_minutes = { SEV1 = 15, SEV2 = 30, SEV3 = 60 }
# Prompt the incident commander when this many minutes pass with no action,
# decision, mitigation or checklist progress.
escalate_after_minutes = 30

# Replace a phase's built-in checklist. Phases: Triage, Mitigate, Investigate,
# Resolve, Verify, Postmortem.
#[incident.checklists]
#Triage = ["Confirm customer impact", "Page the owning team", "Open the incident channel"]

# ---- Service health checks: one [[services]] block per service -------------
# Each is polled over HTTP and shown as UP, DEGRADED (slow) or DOWN.
#[[services]]
#name = "payments"                          # required, unique
#url = "https://payments.internal/healthz"  # required, http:// or https://
#method = "GET"
#interval = 5                               # seconds between checks
#timeout = 2.0                              # seconds before a check fails
#expect_status = [200, 204]                 # default "2xx"; ranges as [[200, 299]]
#degraded_ms = 800                          # slower than this (ms) is DEGRADED
#fail_threshold = 2                         # failures in a row before DOWN
#body_contains = "ok"                       # body must contain this (default: not checked)
#json_field = "status"                      # dotted path into a JSON body (default: none)
#json_equals = "UP"                         # the value json_field must have
#headers = { Authorization = "Bearer ${PAYMENTS_TOKEN}" }   # never shown
#verify = true                              # TLS: true, false, or a CA bundle path
#follow_redirects = false

# ---- This machine: CPU, memory, disk and swap use --------------------------
[host]
cpu = [85, 95]          # [warn, critical] in percent
memory = [85, 95]
disk = [85, 95]         # applies to every mounted filesystem
swap = [50, 80]
interval = 1            # seconds between samples
top_processes = 5       # busiest processes to list; 0 hides the list
top_interval = 3        # seconds between process scans (every process is read; top(1) also uses 3)

# ---- Kubernetes pods: restarts and crash loops -----------------------------
# Without this section warroom uses your default kubeconfig, if you have one.
#[kubernetes]
#context = "prod-eu"                  # default: the kubeconfig's current context
#namespaces = ["payments", "edge"]    # default: the context's namespace; ["*"] for all
#kubeconfig = "~/.kube/config"        # default: $KUBECONFIG, else ~/.kube/config
#interval = 1                         # seconds between pane refreshes
#enabled = true                       # false switches the pane off

# ---- Recent deploys: one [[repos]] block per git repository ----------------
# Without any, warroom uses the current directory if it is a git repository.
#[[repos]]
#path = "~/src/payments"              # required
#branch = "main"                      # default: the checked-out branch
# ...or follow deploy tags instead of a branch (not both):  tags = "deploy-*"
#limit = 15                           # deploys to list
#suspect_window_minutes = 120         # deploys this recent are flagged as suspects
#fetch_interval = 0                   # seconds between background `git fetch`; 0 = never
#interval = 10                        # seconds between reads of the repository

# ---- Where `warroom update --post` sends status updates --------------------
#[[notify]]
#kind = "slack"                       # slack (incoming webhook) or json (POSTs the update as JSON)
#url = "${SLACK_WEBHOOK_URL}"         # required
#name = "slack"                       # label in messages; default: the kind
#timeout = 5.0                        # seconds
#retries = 2

# ---- The shared incident store: several machines, one timeline -------------
# Without it the incident lives in a SQLite file in the data directory (one
# machine). With it, everyone's warroom reads and writes one PostgreSQL server
# (README: "A war room on several machines"). The password: libpq's PGPASSWORD
# or ~/.pgpass, or in the URL from the environment, e.g.
# postgresql://warroom_app:${WARROOM_DB_PASSWORD}@db.internal/warroom
#[store]
#url = "postgresql://warroom_app@db.internal:5432/warroom?sslmode=verify-full"

# ---- Alerts: what Alertmanager says is firing ------------------------------
# The alerts pane (grouped by alertname) appears only with this section.
#[alertmanager]
#url = "http://alertmanager:9093"     # required
#filter = ['team="payments"']         # Alertmanager matchers; default: every active alert
#headers = { Authorization = "Bearer ${AM_TOKEN}" }   # never shown
#interval = 5                         # seconds between polls
#timeout = 3.0                        # seconds

# ---- Metrics: PromQL queries against Prometheus ----------------------------
# The metrics pane appears with [prometheus] and at least one [[metrics]] block.
#[prometheus]
#url = "http://prometheus:9090"       # required
#headers = { Authorization = "Bearer ${PROM_TOKEN}" }
#interval = 15                        # seconds between rounds
#timeout = 5.0                        # seconds per query

#[[metrics]]
#name = "checkout 5xx"                # required, unique
#query = 'sum(rate(http_requests_total{job="checkout",code=~"5.."}[5m]))'   # required
#unit = "req/s"                       # also "%", "ms", "s", "bytes"
#warn = 0.5                           # default: none
#crit = 2                             # default: none
#better = "lower"                     # above the thresholds is worse; "higher" flips it
"""
