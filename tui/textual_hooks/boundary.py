"""The exception boundary's two Textual internals: ``Screen._on_message`` and ``App._dispatch_action``.

A message handled by a screen (a prompt's Submitted, a checklist toggle, a snapshot) or a
key's action that raises would end the screen's message loop, and Textual then ends the
app with a traceback: the typed text lost, the war room's screen gone. Here the error is
handed to ``WarroomApp.report_unexpected`` (one red line, the traceback in the crash log,
tui/crash.py) and the screen carries on with its next message.

Unlike the speed hooks of this package these are not switched off by
``WARROOM_STOCK_TEXTUAL``: they are what keeps the app alive. Their stock fallback is
Textual's own: under a release where these methods are named otherwise, the overrides are
never called and Textual's behaviour (a traceback ends the app) is what runs; the tests
(tests/test_boundary_pilot.py) would then fail on the tested range's pin first.
"""
from __future__ import annotations

from typing import Any

from textual.message import Message

__all__ = ["GuardedDispatch", "GuardedScreen"]


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


class GuardedDispatch:
    """Mixed in before ``App`` by WarroomApp, which has ``report_unexpected``: a key's action that
    raises is reported in one line instead of ending the app."""

    async def _dispatch_action(self, namespace: Any, action_name: str, params: Any) -> bool:
        try:
            return bool(await super()._dispatch_action(namespace, action_name, params))  # type: ignore[misc]
        except Exception as exc:  # noqa: BLE001 - the boundary: see WarroomApp.report_unexpected
            self.report_unexpected(exc)  # type: ignore[attr-defined]
            return True
