"""Presenter mode's banner: the four facts a call needs, big enough to read off a video stream."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Digits, Static

from .incident_header import SEVERITY_STYLES, append_roles, elapsed_text

if TYPE_CHECKING:
    from tui.incident.model import Incident
    from tui.incident.timers import UpdateClock


class PresenterBanner(Horizontal):
    DEFAULT_CSS = """
    PresenterBanner { height: 5; display: none; background: $panel; padding: 0 1; }
    PresenterBanner #banner-sev { width: 12; height: 5; content-align: center middle; text-style: bold; }
    PresenterBanner #banner-status {
        width: 1fr; height: 5; content-align: left middle; padding: 0 2; text-wrap: nowrap; text-overflow: ellipsis;
    }
    PresenterBanner Vertical { width: auto; height: 5; padding: 0 2; }
    PresenterBanner .label { color: $text-muted; height: 1; }
    PresenterBanner Digits { width: auto; }
    PresenterBanner .-soon Digits { color: #ffaf00; }
    PresenterBanner .-overdue Digits { color: #ff3030; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="banner-sev")
        yield Static(id="banner-status")
        with Vertical(id="banner-elapsed"):
            yield Static("elapsed", classes="label")
            yield Digits("00:00:00", id="elapsed-digits")
        with Vertical(id="banner-update"):
            yield Static("next update", classes="label", id="update-label")
            yield Digits("--:--", id="update-digits")

    def show(self, incident: "Incident", clock: "UpdateClock", now: datetime, redact=lambda t: t,
             demo: bool = False) -> None:
        sev = self.query_one("#banner-sev", Static)
        sev_style = SEVERITY_STYLES.get(incident.severity, "reverse")
        badge = Text(f"\n{incident.severity.name}\n", style=sev_style, justify="center")
        if demo:
            badge.append("DEMO", style="bold #000000 on #d7d700")
        sev.update(badge)
        sev.styles.background = SEVERITY_STYLES.get(incident.severity, "").split(" on ")[-1] or None
        # One fact a line, each cut rather than wrapped: at 80 columns a wrapped title pushed
        # the phase out of the banner's five rows.
        status = Text(no_wrap=True, overflow="ellipsis")
        status.append(incident.status.value.upper() + "\n", style="bold")
        status.append(f"phase {incident.phase.value}\n", style="bold")
        status.append(redact(incident.title) + "\n")
        status.append(incident.ref, style="dim")
        append_roles(status, incident.roles, redact)
        self.query_one("#banner-status", Static).update(status)
        self.query_one("#elapsed-digits", Digits).update(elapsed_text(incident, now))
        box = self.query_one("#banner-update")
        for urgency in ("ok", "soon", "overdue", "off"):
            box.set_class(clock.urgency.value == urgency, f"-{urgency}")
        label = "UPDATE OVERDUE" if clock.urgency.value == "overdue" else "next update"
        self.query_one("#update-label", Static).update(label)
        self.query_one("#update-digits", Digits).update(clock.text)
