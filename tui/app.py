"""The Textual application: holds the store, the clock and the live sources."""
from __future__ import annotations

import gc
import time
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping

from textual import events
from textual.app import App, SystemCommand
from textual.screen import Screen
from textual.widget import Widget

from textual.theme import Theme

from .incident.model import DEFAULT_CADENCE, Severity, utcnow
from .incident.store import Store
from .pacing import INPUT_RECENT_S
from .scheduler import LiveSource
from .screens.dashboard import Dashboard


# For screen sharing: pure black and white with saturated state colours survive video compression.
HIGH_CONTRAST = Theme(
    name="warroom-contrast", dark=True,
    primary="#00afff", secondary="#5fd7ff", accent="#ffff00", foreground="#ffffff",
    background="#000000", surface="#000000", panel="#1c1c1c",
    success="#00ff00", warning="#ffaf00", error="#ff2020",
)


GC_YOUNG_THRESHOLD = 10_000


class WarroomApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "warroom"
    ENABLE_COMMAND_PALETTE = True

    def __init__(
        self,
        store: Store,
        incident_id: int,
        *,
        sources: Iterable[LiveSource] = (),
        panes: Mapping[str, Widget] | None = None,
        clock: Callable[[], datetime] = utcnow,
        author: str = "",
        demo: bool = False,
        cadence: Mapping[Severity, int | None] | None = None,
        redact_hosts: bool = False,
        on_snapshot_hooks: Mapping[str, Callable[[Any, list], None]] | None = None,
        extra_bindings: Iterable[tuple[str, str]] = (),
        config: Any = None,
        gc_paused: bool = False,
        sources_later: Callable[[], Any] | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.incident_id = incident_id
        self.sources = list(sources)
        self.panes = dict(panes or {})
        self.clock = clock
        self.author = author
        self.demo = demo
        self.cadence = dict(cadence or DEFAULT_CADENCE)
        self.redact_hosts = redact_hosts   # --redact-hosts: masked from the start, presenter or not
        self.presenter = False
        self.on_snapshot_hooks = dict(on_snapshot_hooks or {})
        # Builds more sources (and hooks) once the first frame is drawn: a tui.sources.LiveBundle.
        self._sources_later = sources_later
        self.extra_help = list(extra_bindings)
        self.gc_paused = gc_paused      # the launcher paused the cyclic GC for start-up
        self._last_input = float("-inf")     # monotonic time of the last key, click or resize
        if config is None:
            from .config import Config

            config = Config()
        self.config = config
        from .incident.redact import Redactor

        # Secrets from the config (and URL credentials, tokens) never reach the screen.
        self._redact_secrets = Redactor(config.secrets).text

    @property
    def masking_hosts(self) -> bool:
        return self.redact_hosts or self.presenter

    def redact(self, text: str) -> str:
        """Every piece of text a widget shows from the store goes through here."""
        text = self._redact_secrets(text)
        if not self.masking_hosts:
            return text
        from .presenter import mask_hosts   # imported when first needed: not before the first frame

        return mask_hosts(text)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.InputEvent, events.Resize)):
            self._last_input = time.monotonic()
        await super().on_event(event)

    def build_later_sources(self) -> None:
        """The sources left for after the first frame (``sources_later``), built once."""
        build, self._sources_later = self._sources_later, None
        if build is not None:
            live = build()
            self.sources.extend(live.sources)
            self.on_snapshot_hooks.update(live.hooks)

    def input_recent(self) -> bool:
        """A key, click or resize came within INPUT_RECENT_S: someone is waiting for the screen."""
        return time.monotonic() - self._last_input < INPUT_RECENT_S

    def first_frame_drawn(self) -> None:
        if self.gc_paused:
            self.gc_paused = False
            # What start-up built lives as long as the app: out of every later full pass.
            gc.freeze()
            gc.enable()
        # Python's default (700 allocations) ran ~19 young collections per frame of an added
        # entry and a full pass (10-30 ms, inside whatever key was being handled) every few
        # entries; 10,000 makes full passes about 14 times rarer for the same memory bound.
        gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])

    def get_driver_class(self):
        driver = super().get_driver_class()
        from textual.drivers.linux_driver import LinuxDriver

        if driver is LinuxDriver:       # not the headless, web or Windows drivers, nor TEXTUAL_DRIVER
            from .driver import IdleInputDriver

            return IdleInputDriver
        return driver

    def get_default_screen(self) -> Screen:
        # The dashboard is the first screen, not pushed over an empty default one that is
        # built, styled and laid out for nothing before the first frame.
        return Dashboard()

    def on_mount(self) -> None:
        self.register_theme(HIGH_CONTRAST)

    def help_sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        scribe, commander = [], []
        for binding in Dashboard.BINDINGS:
            what = Dashboard.HELP_TEXT.get(binding.action, binding.description)
            (scribe if binding.action.startswith("entry") or binding.action == "edit" else commander).append(
                (binding.key, what))
        moving = [
            ("tab, shift+tab", "Move focus between panes"),
            ("up, down", "Move in the focused pane (timeline: select an entry; checklist: select an item)"),
            ("left, right", "Checklist: show the previous / next phase"),
            ("space", "Checklist: tick / untick the selected item (logged with the time)"),
            ("pageup, pagedown", "Timeline: scroll a page"),
            ("home, end", "Timeline: first / newest entry (end resumes auto-scroll)"),
        ]
        app_keys = [("ctrl+p", "Command palette: every action by name"), ("ctrl+q", "Quit (nothing is lost: every entry is already on disk)")]
        sections = [("Scribe", scribe), ("Commander", commander)]
        if self.extra_help:
            sections.append(("Live panes", self.extra_help))
        sections += [("Moving around", moving), ("App", app_keys)]
        return sections

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from .screens.help import key_label

        if isinstance(screen, Dashboard):
            for binding in Dashboard.BINDINGS:
                what = Dashboard.HELP_TEXT.get(binding.action, binding.description)
                yield SystemCommand(
                    f"{binding.description} ({key_label(binding.key)})", what,
                    lambda action=binding.action: screen.run_action(action),
                )
            for action, title, what in getattr(screen, "extra_commands", lambda: [])():
                yield SystemCommand(title, what, lambda action=action: screen.run_action(action))
        yield from super().get_system_commands(screen)
