"""What every field parser may call on the loader: report a problem at its line, say a
value has the wrong type, expand ``${NAME}``, check a URL, resolve a path, record a secret.

:class:`loader._Loader` adds the walk over the sections; the parsers (``values``, ``fields``)
see only this part."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from .describe import _close_match, _describe, _dotted, _key_text, _one_line, _quote
from .locate import _Locator
from .schemas import (
    _SECTION_KEYS,
    _section_header,
)
from .values import _BAD, _Parser

# Shorter values are not recorded as secrets: they protect nothing and replacing
# them everywhere would garble the screen (a token "1" would hide every digit 1).
_MIN_SECRET_LEN = 4

# ${NAME}, ${NAME:-fallback} and $$ in URLs, headers and paths.
_ENV_REF = re.compile(r"\$\$|\$\{([^{}]*)\}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _Checker:
    """The problems found so far, with the means to find more (their lines, the environment)."""

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
