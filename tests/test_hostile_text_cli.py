"""Hostile stored and remote text through the real `warroom` command (issue 14 §1).

Every test runs the installed console script as a process against a temporary data
dir: what it writes to the terminal (stdout, stderr) or to a file carries no
control sequence, the store still holds the original, the JSON export is exact,
CSV cells are never formulas and a Slack post (to a real local receiver) pings nobody.
"""
from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_notify import Receiver
from tui.incident.export import load_json
from tui.incident.store import Store

ROOT = Path(__file__).resolve().parents[1]
# Retitles the window, writes "evil" to the clipboard, blanks the screen; then C1 CSI and a bidi override.
HOSTILE = "x\x1b]0;PWNED\x1b\\\x1b[2J\x1b]52;c;ZXZpbA==\x1b\\ \x9b2J \u202etxt.exe\u2066"
UNSAFE = {chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A))} - {
    "\n", "\t"}


def _warroom() -> list[str]:
    script = Path(sys.executable).with_name("warroom")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tui.cli"]


def assert_safe(text: str) -> None:
    bad = sorted({ch for ch in text if ch in UNSAFE})
    assert not bad, f"unsafe characters reached the terminal: {bad!r}"


class CLI:
    def __init__(self, tmp: Path) -> None:
        self.data = tmp / "data"
        self.cwd = tmp
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
        self.env.update(XDG_CONFIG_HOME=str(tmp / "xdg-config"), XDG_DATA_HOME=str(tmp / "xdg-data"),
                        WARROOM_DATA_DIR=str(self.data))

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([*_warroom(), *args], cwd=self.cwd, env=self.env, capture_output=True,
                              text=True, encoding="utf-8", timeout=60)
        if ok:
            assert proc.returncode == 0, proc.stderr
        assert_safe(proc.stdout)
        assert_safe(proc.stderr)
        return proc


@pytest.fixture
def cli(tmp_path) -> CLI:
    return CLI(tmp_path)


@pytest.fixture
def hostile(cli: CLI) -> CLI:
    """An incident with hostile text in the title, a role holder, an author, entries and a follow-up."""
    cli("declare", "--title", HOSTILE, "--sev", "1", "--commander", "ic" + HOSTILE, "--author", "au" + HOSTILE)
    cli("log", "--author", "scribe" + HOSTILE, "entry " + HOSTILE)
    cli("log", "--kind", "finding", "--author", "=cmd|' /C calc'!A0", "=HYPERLINK(\"http://evil\",\"x\")")
    cli("log", "--kind", "todo", "--follow-up", "5", "todo " + HOSTILE)
    cli("log", "--kind", "mitigation", "--author", "@evil", "+1 " + HOSTILE)
    return cli


def test_status_incidents_update_print_no_control_sequences(hostile: CLI) -> None:
    for args in (("status",), ("incidents",), ("update",), ("update", "--template", "progress"),
                 ("update", "--template", "resolved")):
        out = hostile(*args).stdout
        # The text is shown, with its controls as visible placeholders.
        assert "x␛]0;PWNED␛\\␛[2J" in out, args
    assert "\\u202etxt.exe" in hostile("status").stdout
    # The store keeps every byte as typed.
    with Store(hostile.data) as store:
        inc = store.require_active()
        assert inc.title == HOSTILE and inc.roles["commander"] == "ic" + HOSTILE
        texts = {e.text for e in store.timeline(inc.id)}
        assert "entry " + HOSTILE in texts and "todo " + HOSTILE in texts
        assert {e.author for e in store.timeline(inc.id)} >= {"scribe" + HOSTILE, "au" + HOSTILE}
        assert store.followups(inc.id)[0].text == "todo " + HOSTILE


def test_markdown_export_to_terminal_and_file(hostile: CLI) -> None:
    out = hostile("export", "--format", "md").stdout
    assert "x␛\\]0;PWNED␛" in out       # markdown-escaped, and visible
    hostile("export", "--format", "md", "-o", "pm.md")
    written = (hostile.cwd / "pm.md").read_text(encoding="utf-8")
    assert_safe(written)
    # Two runs of an open incident: only the clock (durations, "generated at") may have ticked on.
    ongoing = re.compile(r"\d+:\d\d:\d\d")
    assert ongoing.sub("…", written.rstrip("\n")) == ongoing.sub("…", out.rstrip("\n"))


def test_csv_export_neutralises_formulas_and_controls(hostile: CLI) -> None:
    hostile("export", "--format", "csv", "-o", "t.csv")
    text = (hostile.cwd / "t.csv").read_text(encoding="utf-8")
    assert_safe(text.replace("\r", ""))     # the csv module's own line ends aside
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "time_utc"
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    cells = {cell for row in rows for cell in row}
    assert "'=cmd|' /C calc'!A0" in cells and "'=HYPERLINK(\"http://evil\",\"x\")" in cells
    assert "'@evil" in cells and any(c.startswith("'+1 x␛]0;PWNED") for c in cells)
    # To a terminal: the same cells.
    assert hostile("export", "--format", "csv").stdout == text


def test_json_export_is_exact(hostile: CLI) -> None:
    out = hostile("export", "--format", "json").stdout      # assert_safe: no raw ESC, C1 or bidi
    record = load_json(out)
    assert record.incident.title == HOSTILE
    assert record.incident.roles["commander"] == "ic" + HOSTILE
    texts = {e.text for e in record.revisions}
    assert {"entry " + HOSTILE, "todo " + HOSTILE, "+1 " + HOSTILE} <= texts
    assert "=HYPERLINK(\"http://evil\",\"x\")" in texts
    assert record.followups[0].text == "todo " + HOSTILE


def _config(cli: CLI, url: str) -> str:
    path = cli.cwd / "warroom.toml"
    path.write_text(f'[[notify]]\nkind = "slack"\nurl = "{url}"\nname = "ops"\nretries = 0\n', encoding="utf-8")
    return str(path)


def test_slack_post_is_escaped(cli: CLI) -> None:
    cli("declare", "--title", "<!channel> pay & <http://evil|https://status> " + HOSTILE, "--sev", "2")
    cli("log", "--kind", "finding", "<@U024BE7LH> did <!here> it")
    with Receiver() as rx:
        config = _config(cli, rx.url())
        cli("update", "--template", "progress", "--post", "--config", config)
        [body] = rx.json_bodies()
    text = body["text"]
    assert "&lt;!channel&gt; pay &amp; &lt;http://evil|https://status&gt;" in text
    assert "&lt;@U024BE7LH&gt; did &lt;!here&gt; it" in text
    assert "<" not in text and ">" not in text
    assert_safe(text)
    assert "x␛]0;PWNED" in text


def test_webhook_error_body_printed_safely(cli: CLI) -> None:
    cli("declare", "--title", "db", "--sev", "2")
    with Receiver() as rx:
        rx.statuses.append(500)
        rx.answer = b"[link=http://evil]x[/link] \x1b]0;PWNED\x07\x1b[2J \xc2\x9b2J"
        proc = cli("update", "--post", "--config", _config(cli, rx.url()), ok=False)
    assert proc.returncode == 1
    assert "FAILED: ops — HTTP 500: [link=http://evil]x[/link] ␛]0;PWNED␇␛[2J \\x9b2J" in proc.stderr


def test_terminal_bytes_of_status_carry_no_escape(hostile: CLI) -> None:
    """The same through a real terminal (a pty): the bytes a user's terminal would interpret."""
    if shutil.which("script") is None:
        pytest.skip("util-linux 'script' is not installed")
    cmd = " ".join(f"'{part}'" for part in (*_warroom(), "status"))
    proc = subprocess.run(["script", "-qec", cmd, "/dev/null"], cwd=hostile.cwd, env=hostile.env,
                          capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert b"\x1b" not in proc.stdout and b"\xc2\x9b" not in proc.stdout
    assert "␛]0;PWNED".encode() in proc.stdout
