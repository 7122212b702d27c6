"""One timeline entry in full: its text, author, kind, every revision (who, when), and its meta
(a `warroom run` command's exit status and output lines, pinned evidence lines).

Everything shown came from the store, so from anyone: it is built as rich ``Text``
(never parsed as markup), passed through ``safe_text`` (control characters made
visible) and through the app's redaction (secrets; hostnames in presenter mode).
"""
from __future__ import annotations

import json
from typing import Callable, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..incident.model import Entry
from ..incident.safe_text import one_line, visible

# Meta keys shown in their own sections (or not at all: bookkeeping).
_RUN_KEYS = {"event", "command", "host", "state", "exit_status", "signal", "duration_s", "output_tail",
             "output_lines", "output_bytes", "error", "note"}
_HIDDEN_KEYS = {"edited_by"}
_EVIDENCE_KEYS = ("lines",)
_VALUE_CHARS = 300


def _when(entry: Entry) -> str:
    return f"{entry.recorded_at:%Y-%m-%d %H:%M:%S}.{entry.recorded_at.microsecond // 1000:03d} UTC"


def detail_text(revisions: Sequence[Entry], redact: Callable[[str], str] = lambda s: s) -> Text:
    """The detail of an entry from its revisions (oldest first), as plain styled text."""
    last = revisions[-1]

    def clean(value: object, *, multi_line: bool = False) -> str:
        text = redact(str(value))
        return visible(text) if multi_line else one_line(text)

    out = Text()
    out.append(f"#{last.entry_id}  ", style="bold")
    out.append(last.kind.value, style="bold cyan")
    out.append(f"  by {clean(last.author) or '?'}  at {last.ts:%Y-%m-%d %H:%M:%S} UTC  from {clean(last.source)}\n\n")
    out.append(clean(last.text, multi_line=True) + "\n")

    meta = dict(last.meta)
    if meta.get("event") == "run":
        out.append("\nCommand\n", style="bold underline")
        out.append(f"  {clean(meta.get('command', ''))}\n")
        state = meta.get("state")
        if state == "running":
            ended = "still running (or its terminal went away before it ended)"
        elif state == "failed":
            ended = f"could not start: {clean(meta.get('error', ''))}"
        elif meta.get("signal"):
            ended = f"killed by {clean(meta['signal'])}"
        else:
            ended = f"exit status {clean(meta.get('exit_status'))}"
        facts = [ended]
        if isinstance(meta.get("duration_s"), (int, float)):
            facts.append(f"{meta['duration_s']:.1f} s")
        if meta.get("host"):
            facts.append(f"on {clean(meta['host'])}")
        out.append("  " + " · ".join(facts) + "\n", style="bold red" if state != "exited" or meta.get(
            "exit_status") not in (0, None) else "bold green")
        tail = meta.get("output_tail") or []
        if isinstance(tail, list) and tail:
            total = meta.get("output_lines")
            of = f" of {total:,}" if isinstance(total, int) and total > len(tail) else ""
            out.append(f"\nOutput (last {len(tail)}{of} lines)\n", style="bold underline")
            for line in tail:
                out.append(f"  {clean(line)}\n")
    for key in _EVIDENCE_KEYS:
        lines = meta.get(key)
        if isinstance(lines, list) and lines:
            out.append(f"\nEvidence ({len(lines)} line{'' if len(lines) == 1 else 's'})\n", style="bold underline")
            for line in lines:
                out.append(f"  {clean(line)}\n")
    shown = (_RUN_KEYS if meta.get("event") == "run" else set()) | _HIDDEN_KEYS | set(_EVIDENCE_KEYS)
    rest = {k: v for k, v in meta.items() if k not in shown}
    if rest:
        out.append("\nMeta\n", style="bold underline")
        for key, value in rest.items():
            text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
            if len(text) > _VALUE_CHARS:
                text = text[: _VALUE_CHARS - 1] + "…"
            out.append(f"  {clean(key)}: {clean(text)}\n")

    out.append(f"\nRevisions ({len(revisions)})\n", style="bold underline")
    for rev in revisions:
        who = rev.meta.get("edited_by") if rev.rev > 1 else rev.author
        verb = "written" if rev.rev == 1 else {"run": "completed (warroom run)",
                                               "action": "completed (dashboard action)"}.get(rev.source, "edited")
        out.append(f"  rev {rev.rev}  {_when(rev)}  {verb} by {clean(who or '?')}  ({rev.kind.value}, "
                   f"at {rev.ts:%H:%M:%S})\n", style="dim" if rev is not last else "")
        out.append(f"    {clean(rev.text)}\n")
    return out


class EntryDetailScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    EntryDetailScreen { align: center middle; }
    EntryDetailScreen > VerticalScroll {
        width: 120; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape,q", "close", "Close")]

    def __init__(self, revisions: Sequence[Entry], redact: Callable[[str], str]) -> None:
        super().__init__()
        self.revisions = list(revisions)
        self.text = detail_text(self.revisions, redact)

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(self.text, id="entry-detail", markup=False)
            yield Static(Text("Esc closes.", style="dim"), markup=False)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()     # arrows and PgUp/PgDn scroll long output

    def action_close(self) -> None:
        self.dismiss(None)
