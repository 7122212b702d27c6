"""The one edge that outside text crosses on its way to a person.

Titles, entries, authors, pod names, commit subjects, HTTP bodies, alert
annotations: any of it may carry terminal control sequences (``ESC ] 0;``
retitles the window, ``ESC ] 52;`` writes the clipboard, ``ESC [ 2J`` blanks
the screen) or bidi overrides that make text read differently from what it is.
The store keeps every byte as typed; text is made safe only where it leaves for
a terminal or a human-readable file, by the functions here and nowhere else:

* :func:`visible` -- C0 and C1 controls (but newline and tab), DEL and the bidi
  overrides and isolates become visible placeholders (``␛``, ``\\u202e``).
* :func:`one_line` -- :func:`visible` for a one-line cell (a newline shows as ``␤``).
* :func:`row_text` -- for rows drawn cell by cell (the timeline, the deploys table):
  every character becomes one printable glyph or nothing, so a row's width is what
  it measures: line breaks ``⏎``, other controls ``�``, other whitespace a space,
  invisible format characters (joiners, bidi marks, BOM) dropped.
* :func:`csv_cell` -- :func:`visible`, and a cell that a spreadsheet would read
  as a formula (OWASP "CSV injection") is quoted with a leading apostrophe.
* :func:`slack` -- Slack's own escapes for ``&``, ``<`` and ``>``, so text can
  neither mention ``<!channel>`` nor dress ``<http://evil|https://status>`` up as
  another link.
* :func:`json_escaped` -- for JSON text: what :func:`visible` would change and
  ``json.dumps`` leaves raw (DEL, C1, bidi) as ``\\uXXXX`` escapes, so the JSON
  export stays exact (it reads back byte for byte) and still safe on a terminal.
"""
from __future__ import annotations

import unicodedata

# C0 controls show as their Unicode "control pictures" (U+2400 + code), which a
# reader recognises (␛ for ESC) and which are one cell wide; DEL is ␡.
_TABLE: dict[int, str] = {code: chr(0x2400 + code) for code in range(0x20) if code not in (0x09, 0x0A)}
_TABLE[0x7F] = "\u2421"
# C1 controls (CSI is 0x9B) and the bidi overrides/isolates have no pictures:
# they are spelled as escapes, so the text still says what was there.
_TABLE.update({code: f"\\x{code:02x}" for code in range(0x80, 0xA0)})
_TABLE.update({code: f"\\u{code:04x}" for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))})

_ONE_LINE = dict(_TABLE)
_ONE_LINE[0x0A] = "\u2424"   # ␤: a newline inside a one-line cell
_ONE_LINE[0x09] = " "

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def visible(text: str) -> str:
    """``text`` with every control character and bidi override made visible."""
    # Almost all text is printable: one C-level scan decides (newline and tab
    # are not "printable", so multi-line text takes the translate path).
    if text.isprintable():
        return text
    return text.translate(_TABLE)


def one_line(text: str) -> str:
    """:func:`visible` for a one-line cell: a newline shows as ``␤``, a tab as a space."""
    if text.isprintable():
        return text
    return text.translate(_ONE_LINE)


_ROW_BREAKS = frozenset("\n\r\x0b\x0c\x85\u2028\u2029")


def _row_char(ch: str) -> str:
    if ch.isprintable():
        return ch
    if ch in _ROW_BREAKS:
        return "⏎"
    if ch.isspace():            # tab, no-break space, ...: a space, not a mystery glyph
        return " "
    if unicodedata.category(ch) == "Cf":
        # Format characters (zero-width joiners, direction marks and overrides, BOM) are
        # invisible by design and terminals disagree on their width and effect, which
        # would shift or reorder the rest of the row: dropped. A ZWJ emoji shows as its parts.
        return ""
    # Control characters (and lone surrogates) would move the cursor or corrupt the row.
    return "\ufffd"


def row_text(text: str) -> str:
    """``text`` as one row of printable glyphs: see the module's docstring."""
    if text.isprintable():      # the usual case, and a long line costs nothing
        return text
    return "".join(_row_char(ch) for ch in text.replace("\r\n", "\n"))


# json.dumps (ensure_ascii=False) escapes the C0 controls itself.
_JSON = {code: f"\\u{code:04x}" for code in (*range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def json_escaped(json_text: str) -> str:
    """JSON text (from ``json.dumps``) with DEL, C1 controls and bidi overrides as ``\\uXXXX``.

    Outside strings JSON is ASCII, so these can only stand inside strings, where the
    escape reads back as the very same character.
    """
    return json_text.translate(_JSON)


def csv_cell(text: str) -> str:
    """A CSV cell a spreadsheet shows as text: visible, and never a formula."""
    if text.startswith(_FORMULA_START):
        # The check is on the raw text: a leading tab or CR is itself the risk.
        return "'" + visible(text)
    return visible(text)


def slack(text: str) -> str:
    """Text for a Slack message: only Slack's three escapes, as its formatting rules say."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
