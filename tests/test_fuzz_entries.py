"""Hostile entry text: stored exactly, shown literally, never breaking the screen.

Scribes paste from chat, terminals and logs: control characters and escape
sequences, Rich markup, 10k-character lines, right-to-left text, emoji and
combining marks, NUL bytes. The store must give back exactly what was written
(or refuse it in one line, writing nothing); the timeline must render it as
plain characters, one cell-character per character, with nothing interpreted.

Examples are derandomized so a run is reproducible; ~170 examples in all.
"""
from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.app import App, ComposeResult

from tui.app import WarroomApp
from tui.incident.model import Entry, Kind, Severity
from tui.incident.store import Store
from widgets.timeline import TimelineView

from .conftest import FIXED_NOW, fixed_clock, seed_incident
from .pilot_wait import wait_for

pytestmark = pytest.mark.timeout(60)

FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

PIECES = [
    # Rich markup and look-alikes: must stay literal text.
    "[bold]", "[/]", "[/bold]", "[link=https://evil.example/?q=1]click[/link]", "[red on white]",
    "[@click=app.quit]quit[/]", "\\[not markup]", "[", "]", ":warning:", ":red_circle:",
    # Terminal control: escape sequences, OSC 8 hyperlinks, bells, carriage returns.
    "\x1b[31m", "\x1b[2J", "\x1b]8;;https://evil.example\x07link\x1b]8;;\x07", "\x07", "\r", "\r\n", "\n",
    "\t", "\x08", "\x7f", "\x85", "\x9b",
    # NUL and other invisibles.
    "\x00", "\u200b", "\u200d", "\ufeff", "\u00a0", "\u2028", "\u2029", "\ufffd",
    # Right-to-left text and bidi controls (a "Trojan Source" reorder).
    "שלום עולם", "مرحبا بالعالم", "\u202e", "\u202dabc\u202c", "\u2066", "\u2069", "\u200f",
    # Emoji, flags, ZWJ sequences, skin tones, combining marks, wide CJK.
    "👩‍🚒", "🇺🇦", "👍🏽", "🔥", "e\u0301", "Z\u0336\u0353\u034d", "\u0301", "漢字テスト", "ｆｕｌｌ",
    # Things other layers might format or execute.
    "%s %d", "{0} {text}", "'); DROP TABLE entries; --", "${HOME}", "$(reboot)",
]

_any_char = st.characters(exclude_categories=("Cs",))          # lone surrogates: tested separately
_fragments = st.lists(
    st.one_of(st.sampled_from(PIECES), st.text(_any_char, min_size=1, max_size=12)),
    min_size=1, max_size=10,
).map("".join)
_long_lines = st.tuples(_fragments, st.integers(min_value=5_000, max_value=10_000)).map(
    lambda pair: (pair[0] * (pair[1] // len(pair[0]) + 1))[: pair[1]])
HOSTILE_TEXT = st.one_of(_fragments, _fragments, _fragments, _long_lines).filter(lambda t: t.strip() != "")


# --- (a) the store gives back exactly what was written ---------------------------------------

def test_store_round_trips_hostile_text_exactly(tmp_path):
    with Store(tmp_path / "data") as store, Store(tmp_path / "data") as other:
        incident = store.declare("fuzz", Severity.SEV3, author="ic")
        seen = 0

        @FUZZ
        @given(text=HOSTILE_TEXT, author=_fragments)
        def round_trip(text: str, author: str) -> None:
            nonlocal seen
            written = store.append(incident.id, Kind.NOTE, text, author=author, source="fuzz")
            assert (written.text, written.author) == (text, author)
            # Read back on the same connection and on another one (as `warroom log` would).
            for reader in (store, other):
                (back,) = reader.entries(incident.id, after_seq=written.seq - 1)
                assert back.entry_id == written.entry_id
                assert (back.text, back.author, back.kind) == (text, author, Kind.NOTE)
            seen += 1

        round_trip()
        # Nothing was lost or merged along the way.
        assert len([e for e in other.timeline(incident.id) if e.source == "fuzz"]) == seen


@pytest.mark.parametrize("text", ["\ud800", "ok \udfff end", "bytes from a bad terminal: \udcff\udcfe"])
def test_lone_surrogates_are_refused_in_one_line_and_nothing_is_written(store, text):
    # SQLite stores UTF-8 and a lone surrogate has no UTF-8 form: it cannot be stored
    # as given. It must be refused, not half-written or silently altered.
    incident = store.declare("fuzz", Severity.SEV3, author="ic")
    before = store.entries(incident.id)
    with pytest.raises(ValueError) as refused:
        store.append(incident.id, Kind.NOTE, text, author="bob")
    message = str(refused.value)
    assert message and "\n" not in message and len(message) < 200
    assert "surrogate" in message
    assert store.entries(incident.id) == before
    # The store is still fine afterwards.
    ok = store.append(incident.id, Kind.NOTE, "after the refusal", author="bob")
    assert store.timeline(incident.id)[-1].entry_id == ok.entry_id


def test_nul_bytes_survive_edits_too(store):
    incident = store.declare("fuzz", Severity.SEV3, author="ic")
    entry = store.append(incident.id, Kind.NOTE, "before\x00after", author="bob")
    store.edit(entry.entry_id, text="\x00edited\x00", author="alice")
    assert [e.text for e in store.revisions(entry.entry_id)] == ["before\x00after", "\x00edited\x00"]


# --- (b) the timeline renders it literally --------------------------------------------------------

class TimelineApp(App):
    def compose(self) -> ComposeResult:
        yield TimelineView()


def entry_of(text: str, author: str, kind: Kind = Kind.NOTE) -> Entry:
    return Entry(seq=1, entry_id=1, rev=1, incident_id=1, ts=FIXED_NOW, kind=kind, author=author,
                 text=text, source="fuzz", recorded_at=FIXED_NOW)


PLACEHOLDERS = "⏎� "   # what stands in for a line break, a control character, other whitespace


def assert_shown_literally(shown: str, original: str) -> None:
    """Every printable character as written and in order; in between only visible
    stand-ins for what is not printable (invisible format characters are dropped).
    Nothing interpreted, nothing that could move the cursor."""
    assert all(ch.isprintable() for ch in shown), repr(shown)
    assert len(shown) <= len(original)

    def printable(s: str) -> str:
        return "".join(ch for ch in s if ch.isprintable() and ch not in PLACEHOLDERS)

    assert printable(shown) == printable(original)
    if original.isprintable():
        assert shown == original


PREFIX = f"{FIXED_NOW:%H:%M:%S}  NOTE  "   # "14:30:00  NOTE  author: text"


async def test_render_entry_never_raises_and_shows_text_literally():
    app = TimelineApp()
    async with app.run_test(size=(100, 10)) as pilot:
        view = app.query_one(TimelineView)
        await pilot.pause()
        width = view.scrollable_content_region.width
        assert width > 0

        @FUZZ
        @given(text=HOSTILE_TEXT, author=_fragments)
        def render(text: str, author: str) -> None:
            line = view.render_entry(entry_of(text, "bob"))
            text_at = len(PREFIX + "bob: ")
            assert line.plain[:text_at] == PREFIX + "bob: "
            assert_shown_literally(line.plain[text_at:], text)
            # No style was made out of the text: markup stayed characters.
            assert all(span.end <= text_at for span in line.spans)

            by_author = view.render_entry(entry_of("x", author)).plain
            assert by_author.startswith(PREFIX) and by_author.endswith(": x")
            assert_shown_literally(by_author[len(PREFIX):-len(": x")], author)

            # The row it becomes fills exactly the widget's width, however wide the glyphs.
            view.set_entries([entry_of(text, author)])
            assert view.render_line(0).cell_length == width

        render()


def test_what_stands_in_for_the_unprintable():
    from tui.incident.safe_text import row_text as _one_line

    assert _one_line("a\nb\r\nc\u2028d") == "a⏎b⏎c⏎d"
    assert _one_line("a\tb\u00a0c") == "a b c"
    assert _one_line("\x1b[31mred\x00\x07") == "�[31mred��"
    # Zero-width joiners, direction overrides, BOMs: invisible by design, dropped.
    assert _one_line("👩\u200d🚒 \u202eevil\u202c \ufeffx") == "👩🚒 evil x"
    assert _one_line("e\u0301 שלום 漢字") == "e\u0301 שלום 漢字"


async def test_system_entries_and_edits_render_literally():
    app = TimelineApp()
    async with app.run_test(size=(100, 10)):
        view = app.query_one(TimelineView)
        text = "[bold red]payments DOWN[/] \x1b[5m: HTTP 503"
        system = view.render_entry(entry_of(text, "warroom", Kind.SYSTEM)).plain
        assert system == f"{FIXED_NOW:%H:%M:%S}  SYS   [bold red]payments DOWN[/] �[5m: HTTP 503"
        edited = replace(entry_of("[i]x[/i]", "bob"), rev=2)
        assert view.render_entry(edited).plain == PREFIX + "bob: [i]x[/i] (edited)"


# --- (c) typed into the real prompt, stored and shown literally ---------------------------------

ZWJ = "\u200d"
TYPED = f"[bold]rollback[/] [link=https://evil.example]ok[/link] \\[x] :fire: שלום 👩{ZWJ}🚒 e\u0301 漢字 %s {{0}} $(id)"




async def test_hostile_text_typed_in_the_prompt_is_stored_and_shown_literally(store):
    incident = seed_incident(store)
    app = WarroomApp(store, incident.id, author="scribe", clock=fixed_clock)
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.press("n")
        prompt_input = app.screen.query_one("#prompt-input")
        # pilot.press() takes one key per character; set the text the way a paste does.
        prompt_input.value = TYPED
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: store.timeline(incident.id)[-1].text == TYPED)
        last = store.timeline(incident.id)[-1]
        assert (last.kind, last.author, last.source) == (Kind.NOTE, "scribe", "tui")

        view = app.screen.query_one(TimelineView)
        assert await wait_for(pilot, lambda: view.entries and view.entries[-1].entry_id == last.entry_id)
        assert view.render_entry(view.entries[-1]).plain.endswith(f"scribe: {TYPED.replace(ZWJ, '')}")
        # On screen: the newest row (the view follows the bottom) starts with the text as typed.
        await pilot.pause()
        row = len(view.entries) - 1 - int(view.scroll_y)
        assert 0 <= row < view.scrollable_content_region.height
        on_screen = view.render_line(row).text
        before_emoji = TYPED.split(" 👩")[0]          # markup, escapes and Hebrew: all literal, in order
        assert f"scribe: {before_emoji}" in on_screen, on_screen
        assert not app.screen.query_one("#prompt").has_class("-open")

