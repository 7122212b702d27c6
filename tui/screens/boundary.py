"""The screens' part of the dashboard's exception boundary (the rest is in tui/app.py).

A message handled by a screen (a prompt's Submitted, a checklist toggle, a snapshot)
that raises would end the screen's message loop, and Textual then ends the app with a
traceback: the typed text lost, the war room's screen gone. Here the error is handed
to ``WarroomApp.report_unexpected`` (one red line, the traceback in the crash log) and
the screen carries on with its next message.
"""
from __future__ import annotations

from textual.message import Message


class GuardedScreen:
    """Mixed in before ``Screen`` by warroom's screens."""

    async def _on_message(self, message: Message) -> None:
        try:
            await super()._on_message(message)  # type: ignore[misc]
        except Exception as exc:  # noqa: BLE001 - the boundary
            report = getattr(self.app, "report_unexpected", None)  # type: ignore[attr-defined]
            if report is None:        # hosted by another app (a test harness): its rules
                raise
            report(exc)
