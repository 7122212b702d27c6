"""Positions in warroom.toml: tomllib gives none for values, so :class:`_Locator` finds
them by scanning the source text for table headers and ``key =`` lines; TOML syntax errors
become one ``file:line`` problem each."""
from __future__ import annotations

import re
import tomllib
from typing import Any, Iterable, Sequence


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
