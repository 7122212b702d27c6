"""Frame pacing for a ``Screen``: one loop timer per frame, and frames no key asked for
wait for the rest of their beat (hook ``pacing``).

Textual asks for frames from ``Screen._on_idle``, which resumes the screen's update
timer: a task that then wakes two or three times a frame (resume, tick, its next
sleep). Here a frame is one bare loop timer, and at rest the loop sleeps until the next
thing to draw; a wake-up costs ~0.1 ms of CPU whatever it does, so the dashboard's idle
CPU counts them. A frame nobody's key asked for (a tick, a poll's snapshot) waits
``FRAME_WAIT_S`` for the rest of what arrives on the beat (tui/pacing.py) and is drawn
once for all of it; a key, a click, a resize or the first frame is drawn at once.

With the hook off the screen is paced as Textual paces it: every dirty idle resumes the
update timer, and frames come at most ``UPDATE_PERIOD`` apart.
"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import textual.screen
from textual import events
from textual.screen import Screen

from . import active

# Mixed in before Screen: to the checker, a Screen (whose private attributes it uses); at run time, object.
if TYPE_CHECKING:
    _ScreenBase = Screen[object]
else:
    _ScreenBase = object

# Textual's shortest time between two frames (1/60 s in the tested release).
UPDATE_PERIOD = getattr(textual.screen, "UPDATE_PERIOD", 1 / 60)


class FramePacing(_ScreenBase):
    """Mixed into a ``Screen`` subclass, before ``Screen``. The screen says which frames are
    urgent (``frame_is_urgent``); ``stop_frames`` on unmount."""

    # How long a frame nobody's key asked for waits for the rest of its beat.
    FRAME_WAIT_S = 0.04

    _frame_wait: asyncio.TimerHandle | None = None     # a frame waiting for the rest of its beat
    _frame_soon: asyncio.TimerHandle | None = None     # a frame drawn at once (a key's)
    _last_frame = float("-inf")

    def frame_is_urgent(self) -> bool:
        """Someone is waiting for this frame (a key, the first frame): draw it at once."""
        return True

    def dirty_only_within(self, widget: object) -> bool:
        """All that waits to be drawn is ``widget`` (or its scrollbars) repainting: no layout,
        no other widget. The asked-for time of such a frame is the widget's owner's to judge."""
        dirty = self._dirty_widgets
        return bool(dirty) and not (self._layout_required or self._recompose_required or self._scroll_required) \
            and all(w is widget or w.parent is widget for w in dirty)

    def stop_frames(self) -> None:
        for handle in (self._frame_soon, self._frame_wait):
            if handle is not None:
                handle.cancel()
        self._frame_soon = self._frame_wait = None

    # Textual calls each class's ``_on_idle`` along the MRO until one prevents the default:
    # with the hook off this one does nothing, and Screen's own runs.
    async def _on_idle(self, event: events.Idle) -> None:
        if not active("pacing"):
            return
        event.prevent_default()
        if not self.app._batch_count and self.is_current and (
                self._layout_required or self._scroll_required or self._repaint_required
                or self._recompose_required or self._dirty_widgets):
            self._ask_frame()
            return
        await self._invoke_and_clear_callbacks()

    def _on_timer_update(self) -> None:
        if not active("pacing"):
            Screen._on_timer_update(self)
            return
        # Textual's pilot (Pilot.pause, wait_for_animation) calls this to force a frame: it goes
        # through the same pacing, so tests see the frames a user would.
        self._update_timer.pause()
        self._ask_frame()

    def _ask_frame(self) -> None:
        loop = asyncio.get_running_loop()
        if self.frame_is_urgent():
            # A key, a click, a resize, the first frame: at once (at most MAX_FPS a second),
            # and any frame waiting for its beat goes with it.
            if self._frame_wait is not None:
                self._frame_wait.cancel()
                self._frame_wait = None
            if self._frame_soon is None:
                delay = max(0.0, self._last_frame + UPDATE_PERIOD - loop.time())
                self._frame_soon = loop.call_later(delay, self._draw_soon_frame)
        elif self._frame_wait is None and self._frame_soon is None:
            self._frame_wait = loop.call_later(self.FRAME_WAIT_S, self._draw_waited_frame)

    def draw_now(self) -> None:
        """Draw a frame at once, from inside a handler: what the user just saved is on screen
        before the handler goes on to what costs a layout (closing the prompt, moving focus),
        which the next frame draws. With the hook off, or inside a batch, nothing is drawn
        here and the saved entry comes with the next frame, as in Textual."""
        if not active("pacing") or self.app._batch_count or not self.is_current:
            return
        if self._layout_required or self._recompose_required:
            return      # a frame with a layout in it is no quicker now than with the rest
        self._draw_frame()

    def _draw_soon_frame(self) -> None:
        self._frame_soon = None
        if self.frame_is_urgent():
            self._draw_frame()
        else:       # asked for before the first frame or a key, and what is dirty now is neither's
            self._ask_frame()

    def _draw_waited_frame(self) -> None:
        self._frame_wait = None
        self._draw_frame()

    def _draw_frame(self) -> None:
        self.stop_frames()
        self._last_frame = asyncio.get_running_loop().time()
        try:
            Screen._on_timer_update(self)
        except Exception as exc:  # as from Textual's own timer: the app reports it and exits
            self.app._handle_exception(exc)
