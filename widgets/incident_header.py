"""The incident header: what is burning, how badly, for how long, and who is on it."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text

from tui.incident.model import Severity, Status

from .layout_width import LayoutWidthWidget

if TYPE_CHECKING:
    from tui.incident.model import Incident

NARROW = 120
# Keyed by the domain's own enums (an IntEnum and a str enum: plain 1 or "Resolved" find them too).
SEVERITY_STYLES = {
    Severity.SEV1: "bold #ffffff on #d70000",
    Severity.SEV2: "bold #000000 on #ff8700",
    Severity.SEV3: "bold #000000 on #ffd700",
    Severity.SEV4: "bold #000000 on #87afd7",
}
STATUS_STYLES = {
    Status.INVESTIGATING: "bold #ff5f5f",
    Status.IDENTIFIED: "bold #ffaf00",
    Status.MITIGATING: "bold #ffd700",
    Status.MONITORING: "bold #5fafff",
    Status.RESOLVED: "bold #5fd75f",
}

CONNECTION_STYLES = {
    "ok": "bold #5fd75f",
    "warn": "bold #000000 on #ffaf00",
    "error": "bold #ffffff on #d70000",
}


def elapsed_text(incident: "Incident", now: datetime) -> str:
    total = max(0, int(incident.elapsed(now).total_seconds()))
    hours, rest = divmod(total, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


class IncidentHeader(LayoutWidthWidget):
    """One or two lines: badge, title, status, phase, elapsed, roles."""

    DEFAULT_CSS = """
    IncidentHeader {
        height: auto;
        min-height: 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        background: $panel;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.incident: "Incident | None" = None
        self.now: datetime | None = None
        self.demo = False
        self.redact = lambda text: text
        # The shared store's connection, e.g. ("LIVE", "ok"), ("RECONNECTING 12s", "warn"); None: a local store.
        self.connection: tuple[str, str] | None = None
        self.present: list[str] = []  # who else has the incident open (shared store)

    def show(self, incident: "Incident", now: datetime) -> None:
        # Called every second for the elapsed clock. The height depends on the width alone (one
        # line, two when narrow; never wrapped), so only the first incident shown changes it.
        relayout = self.incident is None
        self.incident, self.now = incident, now
        self.refresh(layout=relayout)

    def render(self) -> Text:
        inc, now = self.incident, self.now
        width = self.render_width
        if inc is None or now is None:
            return Text("no incident", style="dim")
        line = Text()
        if self.demo:
            append_badge(line, "DEMO", "bold #000000 on #d7d700")
            line.append(" ")
        append_badge(line, inc.severity.name, SEVERITY_STYLES.get(inc.severity, "reverse"))
        line.append(" ")
        line.append(f"{inc.ref} ", style="dim")
        line.append(self.redact(inc.title), style="bold")
        # Narrow terminals: badges and title on one line, the state on the next, each cut with "…".
        line.append("\n" if width < NARROW else "  ")
        # Every gap between cells is written at the END of a run, never at the start of the next:
        # SVG renderers (rsvg/pango) draw a text run's leading spaces after its glyphs, so in the
        # PNGs of our screenshots '00:25:00' + '  IC ' read '00:25:00IC'.
        line.append(inc.status.value.upper() + " ", style=STATUS_STYLES.get(inc.status, "bold"))
        line.append("· ", style="dim")
        line.append(inc.phase.value + " ", style="bold")
        line.append("· ", style="dim")
        line.append(elapsed_text(inc, now), style="bold")
        if self.connection is not None:
            text, level = self.connection
            # The gap ends the run before it, as append_roles does (see render).
            line.append("  ", style=line.spans[-1].style if line.spans and line.spans[-1].end == len(line) else "")
            line.append(f" {text} ", style=CONNECTION_STYLES.get(level, "bold"))
        if self.present:
            line.append("  ", style=line.spans[-1].style if line.spans and line.spans[-1].end == len(line) else "")
            line.append("here: ", style="dim")
            line.append(", ".join(self.redact(who) for who in self.present))
        append_roles(line, inc.roles, self.redact)
        return line


def append_badge(line: Text, label: str, style: str) -> None:
    """' SEV2 ' on a colour. The left pad is a run of its own (background only), so no run
    starts with a space (see IncidentHeader.render)."""
    parsed = Style.parse(style)
    line.append(" ", style=Style(bgcolor=parsed.bgcolor, reverse=parsed.reverse) if parsed.bgcolor or parsed.reverse
                else "")
    line.append(f"{label} ", style=parsed)


ROLE_LABELS = {"commander": "IC", "deputy": "Deputy", "scribe": "Scribe", "comms": "Comms"}


def append_roles(line: Text, roles, redact, style: str = "", label_style: str = "dim") -> None:
    """'  IC alice  Scribe bob': two spaces before each role, ending the run before it (see render)."""
    for role, short in ROLE_LABELS.items():
        person = roles.get(role)
        if person:
            line.append("  ", style=line.spans[-1].style if line.spans and line.spans[-1].end == len(line) else "")
            line.append(f"{short} ", style=label_style)
            line.append(redact(person), style=style)
