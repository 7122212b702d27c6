"""The alerts pane: Alertmanager's active alerts, one line per alertname, worst first.

Renders :class:`checks.alerts.AlertsSnapshot` only; no I/O. Every remote string
(names, labels, annotations, URLs) goes through ``one_line`` and into ``Text``,
never markup. The selected group (↑/↓ when the pane has focus) is what ``!``
silences; its runbook and dashboard URLs are shown on a line of their own as
terminal hyperlinks (only http/https ones).
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual.binding import Binding

from checks.base import Level
from tui.incident.model import utcnow
from tui.incident.safe_text import one_line

from .signal_pane import SignalPane

if TYPE_CHECKING:
    from checks.alerts import AlertGroup, AlertsSnapshot

BADGE = {"FIRING": "bold white on red", "SILENCED": "bold black on grey70", "INHIBITED": "dim"}
WARN_BADGE = "bold black on dark_orange"
SHORT_STATE = {"FIRING": "FIRE", "SILENCED": "SIL ", "INHIBITED": "INH "}
NAME_MAX = 32           # alertname column at most; longer names end in "…"
SEVERITY_MAX = 8


def _fit(text: str, width: int) -> str:
    text = text if len(text) <= width else text[: max(0, width - 1)] + "…"
    return f"{text:<{width}}"


def _since(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "?"
    from checks.health import format_duration

    return format_duration((now - at).total_seconds())


def _link(url: str) -> Style | None:
    return Style(link=url) if url.startswith(("http://", "https://")) and url.isprintable() else None


class AlertsPane(SignalPane, can_focus=True):
    DEFAULT_CSS = """
    AlertsPane:focus { border: round $accent; }
    """
    BINDINGS = [Binding("up", "move(-1)", show=False), Binding("down", "move(1)", show=False)]
    TITLE = "Alerts"

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.snapshot: AlertsSnapshot | None = None
        self.index = 0
        self.clock = utcnow
        self._ages: tuple[tuple[datetime | None, ...], tuple[str, ...]] = ((), ())   # drawn: starts, "since"s

    def on_mount(self) -> None:
        # The "since" column ages while the alerts stay the same (SignalPane.show draws nothing
        # then): once a second, redrawn only if one of the ages on screen reads differently.
        self.set_interval(1.0, self.tick)

    def tick(self) -> None:
        starts, drawn = self._ages
        if starts:
            now = self.clock()
            if tuple(_since(at, now) for at in starts) != drawn:
                self.refresh()

    def show(self, snapshot: AlertsSnapshot) -> None:
        # The selection follows its group when the order changes (worst first), so `!` silences
        # what the commander picked, not whatever moved into its row since.
        picked = self.selected()
        names = [g.name for g in snapshot.groups]
        if picked is not None and picked.name in names:
            self.index = names.index(picked.name)
        self.index = min(self.index, max(0, len(snapshot.groups) - 1))
        super().show(snapshot)

    def selected(self) -> AlertGroup | None:
        groups = self.snapshot.groups if self.snapshot is not None else ()
        return groups[self.index] if groups else None

    def action_move(self, step: int) -> None:
        if self.snapshot is not None and self.snapshot.groups:
            self.index = max(0, min(len(self.snapshot.groups) - 1, self.index + step))
            self.refresh()

    def line(self, g: AlertGroup, now: datetime, selected: bool, widths: tuple[int, int, int] | None = None) -> Text:
        """State, name, severity, ×count, since, then the summary. ``widths`` (name, severity, count)
        align the columns: a long name is cut so that what follows it stays on the pane."""
        name_w, sev_w, count_w = widths or (len(g.name), len(g.severity), len(f"×{g.count}"))
        text = Text(no_wrap=True, overflow="ellipsis")
        badge = BADGE[g.state] if g.state != "FIRING" or g.level >= Level.CRIT else WARN_BADGE
        text.append(SHORT_STATE[g.state], style=badge)
        text.append(f" {_fit(one_line(g.name), name_w)}", style="bold" if g.firing else "dim")
        if sev_w:
            text.append(f" {_fit(one_line(g.severity), sev_w)}", style="red" if g.level >= Level.CRIT else "")
        text.append(f" {f'×{g.count}':>{count_w}}")
        text.append(f" {_since(g.starts_at, now):>6}", style="dim")
        quiet = [f"{n} {w}" for n, w in ((g.silenced, "silenced"), (g.inhibited, "inhibited")) if n]
        if quiet:
            text.append(f" ({', '.join(quiet)})", style="dim")
        if g.summary:
            text.append(f" {one_line(g.summary)}")
        if selected:
            text.stylize("reverse")
        return text

    def widths(self, groups: Sequence[AlertGroup], width: int) -> tuple[int, int, int]:
        sev_w = min(max((len(g.severity) for g in groups), default=0), SEVERITY_MAX)
        count_w = max((len(f"×{g.count}") for g in groups), default=2)
        # What goes with the name: state, severity, count and since, with their spaces (~24 cells),
        # and one cell to spare: a summary cut at the edge puts its "…" there, not on the "since".
        tail = 4 + (1 + sev_w if sev_w else 0) + 1 + count_w + 7
        name_w = min(max((len(g.name) for g in groups), default=4), NAME_MAX, max(8, width - tail - 2))
        return name_w, sev_w, count_w

    def rows(self, snap: AlertsSnapshot, out: Text) -> Text:
        self._ages = ((), ())
        if not snap.groups:
            out.append("no alerts firing" if not snap.error else "", style="green")
            return out
        now = self.clock()
        height = max(1, self.content_size.height - (1 if snap.error else 0) - 1)
        start = max(0, min(self.index - height + 1, len(snap.groups) - height)) if self.index >= height else 0
        shown = snap.groups[start:start + height]
        widths = self.widths(shown, self.content_size.width)
        starts = tuple(g.starts_at for g in shown)
        self._ages = (starts, tuple(_since(at, now) for at in starts))
        for i, g in enumerate(shown, start):
            out.append_text(self.line(g, now, selected=i == self.index and self.has_focus, widths=widths))
            out.append("\n")
        chosen = self.selected()
        assert chosen is not None  # snap.groups is not empty
        links = [(label, url) for label, url in (("runbook", chosen.runbook_url), ("dashboard", chosen.dashboard_url))
                 if url]
        for n, (label, url) in enumerate(links):
            out.append(("" if not n else "  ") + f"{label}: ", style="dim")
            out.append(one_line(url), style=_link(url) or "")
        if snap.truncated:
            out.append(f"  (+{snap.truncated} alerts not read)", style="dim")
        return out

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

