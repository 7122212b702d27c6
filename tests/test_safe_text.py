"""The sanitising edge itself; the CLI and dashboard tests drive it end to end."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tui.incident.safe_text import csv_cell, one_line, slack, visible

HOSTILE = "x\x1b]0;PWNED\x1b\\\x1b[2J\x1b]52;c;ZXZpbA==\x1b\\"


def test_escape_sequences_become_pictures() -> None:
    out = visible(HOSTILE)
    assert "\x1b" not in out
    assert out == "x␛]0;PWNED␛\\␛[2J␛]52;c;ZXZpbA==␛\\"


def test_newline_and_tab_kept_others_shown() -> None:
    assert visible("a\nb\tc\rd\x07\x00\x7f") == "a\nb\tc␍d␇␀␡"
    assert one_line("a\nb\tc") == "a␤b c"


def test_c1_and_bidi_are_spelled() -> None:
    assert visible("\x9b2J") == "\\x9b2J"
    assert visible("abc\u202etxt.exe\u2066") == "abc\\u202etxt.exe\\u2066"


def test_ordinary_text_is_untouched() -> None:
    for text in ("", "plain", "café ✓ 日本語", "non\u00a0breaking", "emoji 🔥"):
        assert visible(text) == text


@given(st.text())
def test_nothing_unsafe_survives(text: str) -> None:
    out = visible(text)
    for ch in out:
        code = ord(ch)
        assert code in (9, 10) or not (code < 0x20 or 0x7F <= code < 0xA0)
        assert not (0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069)
    assert "\n" not in one_line(text)


def test_csv_formulas_neutralised() -> None:
    for cell in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"):
        assert csv_cell(cell).startswith("'")
    assert csv_cell("ok =1") == "ok =1"


def test_slack_escapes() -> None:
    assert slack("<!channel> & <http://evil|https://status>") == \
        "&lt;!channel&gt; &amp; &lt;http://evil|https://status&gt;"


def test_json_escapes_read_back_exact() -> None:
    import json

    from tui.incident.safe_text import json_escaped

    text = "a\x1b[2J\x7f\x9b\u202e\u2066 ok"
    out = json_escaped(json.dumps({"t": text}, ensure_ascii=False))
    assert json.loads(out) == {"t": text}
    assert visible(out) == out      # nothing left for a terminal to act on


def test_process_and_commit_text_go_through_row_text():
    """checks/host.py and checks/deploys.py clean foreign names with the one sanitiser."""
    from checks.host import clean_text
    from tui.incident.safe_text import row_text

    hostile = "evil\x1b]0;PWNED\x07\u202e\u2028x"
    assert clean_text(hostile, 40) == row_text(hostile) == "evil\ufffd]0;PWNED\ufffd⏎x"
    assert clean_text("a" * 50, 40) == "a" * 40
