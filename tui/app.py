"""The Textual application: holds the store, the clock and the live sources."""
from __future__ import annotations

import gc
import inspect
import os
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.theme import Theme
from textual.widget import Widget

from .incident.model import DEFAULT_CADENCE, Severity, utcnow
from .incident.safe_text import visible
from .incident.store import Store
from .pacing import INPUT_RECENT_S
from .scheduler import LiveSource
from .screens.dashboard import Dashboard
from .session import Session
from .textual_hooks.boundary import GuardedDispatch

if TYPE_CHECKING:
    from .presenter import Hosts

# For screen sharing: pure black and white with saturated state colours survive video compression.
HIGH_CONTRAST = Theme(
    name="warroom-contrast", dark=True,
    primary="#00afff", secondary="#5fd7ff", accent="#ffff00", foreground="#ffffff",
    background="#000000", surface="#000000", panel="#1c1c1c",
    success="#00ff00", warning="#ffaf00", error="#ff2020",
)


GC_YOUNG_THRESHOLD = 10_000
# Quitting with a dashboard command still running: a second quit within this many seconds stops
# it (SIGTERM, SIGKILL 3 s later), waits at most QUIT_STOP_WAIT_S for its ending to be written, quits.
QUIT_AGAIN_S = 5.0
QUIT_STOP_WAIT_S = 5.0
# The same unexpected error again within this many seconds is logged but not toasted again.
REPEAT_TOAST_S = 30.0


class WarroomApp(GuardedDispatch, App):
    # Ctrl-C quits, as in every peer (htop, k9s): everything is already on disk (Textual only
    # says how to quit). A priority binding, so that it also works over the help and pickers.
    BINDINGS = [Binding("ctrl+c", "interrupt", "Quit", show=False, system=True, priority=True)]
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
        self.sources = list(sources)
        self.panes = dict(panes or {})
        self.demo = demo
        self.redact_hosts = redact_hosts   # --redact-hosts: masked from the start, presenter or not
        self.presenter = False
        self._hosts: Hosts | None = None
        self.on_snapshot_hooks = dict(on_snapshot_hooks or {})
        # Builds more sources (and hooks) once the first frame is drawn: a tui.sources.LiveBundle.
        self._sources_later = sources_later
        self.extra_help = list(extra_bindings)
        self._quit_asked_at: float | None = None    # when a quit was refused because a command runs
        self.gc_paused = gc_paused      # the launcher paused the cyclic GC for start-up
        self._last_input = float("-inf")     # monotonic time of the last key, click or resize
        if config is None:
            from .config import Config

            config = Config()
        from .incident.redact import Redactor

        # Secrets from the config (and URL credentials, tokens) never reach the screen, nor the
        # store: the session's one Redactor (StoreSync.write_system uses it before every write).
        # The dashboard is handed this session; the app's store, clock… below are its fields.
        self.session = Session(store=store, incident_id=incident_id, author=author, clock=clock, config=config,
                               redactor=Redactor(config.secrets), cadence=dict(cadence or DEFAULT_CADENCE))
        self._redact_secrets = self.session.redactor.text
        self.first_frame_shown = False
        # Set when the app ends because it could not start (a corrupt store): the launcher
        # prints it as one line and exits 2.
        self.fatal_error: str | None = None
        self._last_unexpected: tuple[str, float] = ("", float("-inf"))

    # The session's fields, as the CLI, the launcher and the other screens know them.
    @property
    def store(self) -> Any:
        return self.session.store

    @property
    def incident_id(self) -> int:
        return self.session.incident_id

    @property
    def author(self) -> str:
        return self.session.author

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.session.clock

    @clock.setter
    def clock(self, clock: Callable[[], datetime]) -> None:
        self.session.clock = clock

    @property
    def config(self) -> Any:
        return self.session.config

    @property
    def redactor(self) -> Any:
        return self.session.redactor

    @property
    def cadence(self) -> Mapping[Severity, int | None]:
        return self.session.cadence

    @property
    def masking_hosts(self) -> bool:
        return self.redact_hosts or self.presenter

    def redact(self, text: str) -> str:
        """The display edge: every piece of text a widget shows from the store goes through here.

        Secrets masked, hosts of ours too while presenting (self.hosts), then control characters
        and bidi overrides made visible (tui/incident/safe_text.py): a title or an entry can never
        retitle the terminal, write its clipboard or blank the screen. The store keeps the original.
        """
        text = self._redact_secrets(text)
        if self.masking_hosts:
            text = self.hosts.mask(text)
        return visible(text)

    @property
    def hosts(self) -> Hosts:
        """The hosts of ours that masking hides: this machine's names, and the node, host and
        service names the sources report (learned as their snapshots are masked)."""
        if self._hosts is None:
            from .presenter import Hosts  # imported when first needed: not before the first frame

            self._hosts = Hosts()
        return self._hosts

    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Every toast, whoever raises it (every screen's notify ends here), shows controls and
        bidi overrides as visible text and is never parsed as markup: toasts quote outside text
        (a webhook's answer, a commit subject), and markup there crashed the app or made a link.
        ``markup`` is accepted for Textual's signature and ignored."""
        super().notify(visible(str(message)), title=visible(str(title)), severity=severity, timeout=timeout,
                       markup=False)

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

    def input_after(self, when: float) -> bool:
        """A key, click or resize came after ``when`` (the loop's clock, which is time.monotonic)."""
        return self._last_input > when

    def first_frame_drawn(self) -> None:
        self.first_frame_shown = True
        if self.gc_paused:
            self.gc_paused = False
            # What start-up built lives as long as the app: out of every later full pass.
            gc.freeze()
            gc.enable()
        # Python's default (700 allocations) ran ~19 young collections per frame of an added
        # entry and a full pass (10-30 ms, inside whatever key was being handled) every few
        # entries; 10,000 makes full passes about 14 times rarer for the same memory bound.
        gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])

    # -- the exception boundary ----------------------------------------------------
    # Every user action reaches the code through one of three doors: an action (a key binding,
    # a palette command, a click: all dispatched here), a message handled by one of warroom's
    # screens (a prompt's Submitted, a checklist toggle: textual_hooks/boundary.py), or the callback
    # of a screen pushed for an answer (push_screen below). An unexpected error at any of them
    # becomes one red line naming the crash log; the app stays up and the screen stays as it
    # was, so a prompt keeps its typed text (it closes only once its entry is saved).

    def report_unexpected(self, exc: Exception) -> None:
        """Log ``exc``'s traceback to the data directory's crash log and say so in one line."""
        from .crash import describe, write_crash_log
        from .incident.store import StoreError

        data_dir = getattr(self.store, "data_dir", None)
        if self.fatal_error is not None:      # already ending: what follows is the first error's fallout
            return
        if not self.first_frame_shown:
            # Failing before the dashboard was ever shown (a corrupt store read at mount):
            # the app cannot do its job, so it ends, with one line and exit 2.
            if isinstance(exc, StoreError):
                from .incident.safe_text import one_line

                self.fatal_error = one_line(str(exc))     # the store's own line: what, which file, how to mend
            else:
                path = write_crash_log(exc, data_dir, self._redact_secrets)
                where = f"details in {path}" if path else "its details could not be saved"
                self.fatal_error = f"could not start: {describe(exc, self._redact_secrets)} — {where}"
            self.exit(return_code=2)
            return
        path = write_crash_log(exc, data_dir, self._redact_secrets)
        what = describe(exc, self._redact_secrets)
        where = f"details in {path}" if path else "its details could not be saved"
        text = f"Unexpected error: {what} — {where}"
        last, when = self._last_unexpected
        now = time.monotonic()
        if text == last and now - when < REPEAT_TOAST_S:
            return
        self._last_unexpected = (text, now)
        self.notify(text, severity="error", timeout=20, markup=False)

    def push_screen(self, screen, callback=None, wait_for_dismiss: bool = False):  # type: ignore[override]
        if callback is None:
            # The overloads take a literal wait_for_dismiss; this wrapper forwards the caller's.
            return super().push_screen(screen, wait_for_dismiss=wait_for_dismiss)  # type: ignore[call-overload]
        answer = callback

        async def guarded(result):   # one parameter: Textual passes the screen's result
            try:
                outcome = answer(result)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception as exc:  # noqa: BLE001 - the boundary: see report_unexpected
                self.report_unexpected(exc)

        return super().push_screen(screen, guarded, wait_for_dismiss=wait_for_dismiss)  # type: ignore[call-overload]

    async def action_quit(self) -> None:
        """Ctrl+Q (and Ctrl+C outside a text field). Entries are on disk already; a command run
        from the dashboard (X) is not: quitting under it would leave its entry "running …" for
        ever. So the first press says what runs; a second within QUIT_AGAIN_S stops it, writes
        how it ended, then quits."""
        dashboard = self.screen_stack[0] if self.screen_stack else None
        running = dashboard.running_actions() if isinstance(dashboard, Dashboard) else []
        if not running:
            self.exit()
            return
        now = time.monotonic()
        if self._quit_asked_at is None or now - self._quit_asked_at > QUIT_AGAIN_S:
            self._quit_asked_at = now
            self.notify(f"Still running: {'; '.join(running)}. Quit again to stop it, write how it ended "
                        "in the timeline, and quit", severity="warning", timeout=QUIT_AGAIN_S)
            return
        assert isinstance(dashboard, Dashboard)
        self.notify("Stopping what runs, then quitting…", severity="warning")
        left = await dashboard.stop_actions(QUIT_STOP_WAIT_S)
        if left:    # its entry still says "running …": the trace of a command whose end is unknown
            self.log.warning(f"quit before these ended: {left}")
        self.exit()

    async def action_interrupt(self) -> None:
        """Ctrl-C: cancels the entry prompt (a shell habit); in another text field (the
        update draft, its file name, the palette) copies the selection as Textual does, so a
        reflex never throws a draft away; anywhere else quits, like Ctrl-Q."""
        from textual.widgets import Input, TextArea

        from widgets.entry_prompt import EntryPrompt

        focused = self.focused
        if focused is not None:
            prompt = next((node for node in focused.ancestors_with_self if isinstance(node, EntryPrompt)), None)
            if prompt is not None:
                prompt.action_cancel()
                return
            if isinstance(focused, (Input, TextArea)):
                focused.action_copy()
                return
        await self.action_quit()

    def get_default_screen(self) -> Screen:
        # The dashboard is the first screen, not pushed over an empty default one that is
        # built, styled and laid out for nothing before the first frame.
        return Dashboard(self.session, self.panes, self)

    def on_mount(self) -> None:
        self.register_theme(HIGH_CONTRAST)

    def help_sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        scribe: list[tuple[str, str]] = []
        commander: list[tuple[str, str]] = []
        for binding in Dashboard.BINDINGS:
            assert isinstance(binding, Binding)  # the dashboard declares Binding objects only
            if binding.action in Dashboard.READ_ONLY_HIDDEN and getattr(self.store, "read_only", False):
                continue
            what = Dashboard.HELP_TEXT.get(binding.action, binding.description)
            (scribe if binding.action.startswith("entry") or binding.action == "edit" else commander).append(
                (binding.key, what))
        moving = [
            ("tab, shift+tab", "Move focus between panes"),
            ("up, down", "Move in the focused pane (timeline: select an entry; checklist: select an item)"),
            ("left, right", "Checklist: show the previous / next phase"),
            ("space", "Checklist: tick / untick the selected item (logged with the time)"),
            ("pageup, pagedown", "Timeline: scroll a page"),
            ("home, end", "Timeline: first / newest entry (end resumes auto-scroll); deploys, pods: first / last row"),
            ("enter", "Timeline: the selected entry in full: every revision, a command's exit status and output"),
            ("shift+↑/↓, v", "Log viewer (l), logs pane: select lines (v marks where a selection starts)"),
            ("p", "Log viewer (l), logs pane: pin the selected lines into the timeline as a finding"),
            ("/", "Log viewer (l): filter lines as you type (Enter keeps the filter, Esc drops it)"),
        ]
        app_keys = [("ctrl+p", "Command palette: every action by name"), ("ctrl+q, ctrl+c", "Quit (nothing is lost: every entry is already on disk; "
                                        "a command run with X is stopped and its end written, after a second press); "
                                        "ctrl+c in the entry prompt cancels the line")]
        sections = [("Scribe", scribe), ("Commander", commander)]
        if self.extra_help:
            sections.append(("Live panes", self.extra_help))
        sections += [("Moving around", moving), ("App", app_keys)]
        return sections

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:
        """The palette's "Screenshot": an SVG in the current directory (Textual's default,
        ~/Downloads, often does not exist on a server), and the toast says where."""
        try:
            saved = self.save_screenshot(filename, path or ".", time_format)
        except OSError as exc:
            self.notify(f"Screenshot not saved in {os.path.abspath(path or '.')}: {exc.strerror or exc}",
                        title="Screenshot", severity="error", timeout=10, markup=False)
            return None
        self.notify(f"Screenshot saved to {os.path.abspath(saved)}", title="Screenshot", timeout=10, markup=False)
        return None

    def palette_actions(self, screen: Screen) -> list[tuple[str, str, str]]:
        """(title, help, action) of the command palette's own entries for ``screen``; every
        action runs on the screen (a test checks each one resolves to a method)."""
        from .screens.help import key_label

        actions: list[tuple[str, str, str]] = []
        if isinstance(screen, Dashboard):
            for binding in Dashboard.BINDINGS:
                assert isinstance(binding, Binding)  # the dashboard declares Binding objects only
                if binding.action in Dashboard.READ_ONLY_HIDDEN and getattr(self.store, "read_only", False):
                    continue
                what = Dashboard.HELP_TEXT.get(binding.action, binding.description)
                actions.append((f"{binding.description} ({key_label(binding.key)})", what, binding.action))
            actions.extend((title, what, action)
                           for action, title, what in getattr(screen, "extra_commands", lambda: [])())
        return actions

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for title, what, action in self.palette_actions(screen):
            yield SystemCommand(title, what, lambda action=action: screen.run_action(action))
        yield from super().get_system_commands(screen)
