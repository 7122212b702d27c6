"""Textual's Linux driver with an input thread that sleeps until there is input.

Textual's input thread wakes ten times a second (``select`` with a 0.1 s timeout) to
look for the exit flag and to time out a lone Escape: 0.1 % of a core, all day, on a
dashboard that mostly waits. This one sleeps until a key arrives, until the parser's
own deadline (the Escape timeout) when it has one, until ``disable_input`` wakes it
through a pipe, or for MAX_WAIT_S at most. Its body is Textual 8.2's ``run_input_thread`` (pinned in
constraints.txt) with only the wait changed.
"""
from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder

from textual._loop import loop_last
from textual._parser import ParseError
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

# The longest sleep: a disable_input racing the thread's start (it reads no pipe yet) is
# noticed within this, rather than never.
MAX_WAIT_S = 2.0


class IdleInputDriver(LinuxDriver):
    _wake_fd = -1

    def disable_input(self) -> None:
        # Left unread, the byte keeps the thread's select returning until it sees exit_event
        # (set by the call below, an instant later).
        if self._wake_fd >= 0:
            try:
                os.write(self._wake_fd, b"x")
            except OSError:
                pass
        super().disable_input()

    def run_input_thread(self) -> None:
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        wake_read, self._wake_fd = os.pipe()
        selector.register(wake_read, selectors.EVENT_READ)

        fileno = self.fileno
        EVENT_READ = selectors.EVENT_READ
        parser = XTermParser(self._debug)
        feed = parser.feed
        tick = parser.tick
        decode = getincrementaldecoder("utf-8")().decode
        read = os.read

        def process_selector_events(selector_events, final: bool = False) -> None:
            for last, (selector_key, mask) in loop_last(selector_events):
                if selector_key.fd == wake_read:
                    continue
                if mask & EVENT_READ:
                    unicode_data = decode(read(fileno, 1024 * 4), final=final and last)
                    if not unicode_data:
                        break
                    for event in feed(unicode_data):
                        self.process_message(event)
            for event in tick():
                self.process_message(event)

        def wait() -> float:
            deadline = parser._timeout_time
            return MAX_WAIT_S if deadline is None else min(MAX_WAIT_S, max(0.0, deadline - get_time()))

        try:
            while not self.exit_event.is_set():
                process_selector_events(selector.select(wait()))
            selector.unregister(self.fileno)
            process_selector_events(selector.select(0.1), final=True)
        finally:
            wake_write, self._wake_fd = self._wake_fd, -1
            selector.close()
            os.close(wake_read)
            os.close(wake_write)
            try:
                for _event in feed(""):
                    pass
            except (EOFError, ParseError):
                pass
