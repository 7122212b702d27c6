"""The status-update modal, driven with Pilot: it dismisses with what the app should do, and does no I/O."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from textual.app import App
from textual.widgets import Input, TextArea

from tui.screens.update import UpdateResult, UpdateScreen

NOW = datetime(2024, 5, 1, 9, 42, tzinfo=timezone.utc)
DRAFT = "[SEV2] INC-7: Checkout errors\n\nWe are investigating.\n"


class Host(App[None]):
    def __init__(self, screen: UpdateScreen) -> None:
        super().__init__()
        self.update_screen = screen
        self.results: list[UpdateResult] = []

    def on_mount(self) -> None:
        self.push_screen(self.update_screen, self.results.append)


def make(tmp_path: Path, targets=("ops-slack",), render=None) -> Host:  # type: ignore[no-untyped-def]
    rendered: list[str] = []

    def default_render(name: str) -> str:
        rendered.append(name)
        return f"{name} draft\n"

    screen = UpdateScreen(DRAFT, "progress", list(targets), render=render or default_render, incident_id=7,
                          now=NOW, directory=tmp_path)
    host = Host(screen)
    host.rendered = rendered  # type: ignore[attr-defined]
    return host


async def test_edit_then_post_dismisses_with_the_exact_text(tmp_path: Path) -> None:
    app = make(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("U", "p", "d", "a", "t", "e", ":", "space")
        await pilot.press("ctrl+t")
        await pilot.pause()
    assert app.results == [UpdateResult("post", "Update: " + DRAFT, None, "progress")]


async def test_copy_returns_the_text_for_the_app_to_copy(tmp_path: Path) -> None:
    app = make(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+o")
        await pilot.pause()
    assert app.results == [UpdateResult("copy", DRAFT, None, "progress")]


async def test_escape_cancels(tmp_path: Path) -> None:
    app = make(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert [r.action for r in app.results] == ["cancel"]


async def test_template_switch_re_renders_and_undo_restores(tmp_path: Path) -> None:
    app = make(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("f2")
        await pilot.pause()
        area = app.screen.query_one("#update-text", TextArea)
        assert area.text == "initial draft\n"
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert area.text == DRAFT
        await pilot.press("f4")
        await pilot.pause()
        await pilot.click("#act-copy")
        await pilot.pause()
    assert app.rendered == ["initial", "resolved"]  # type: ignore[attr-defined]
    assert app.results == [UpdateResult("copy", "resolved draft\n", None, "resolved")]


async def test_save_proposes_the_default_name(tmp_path: Path) -> None:
    app = make(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        path_input = app.screen.query_one("#update-path", Input)
        assert path_input.has_focus
        assert path_input.value == str(tmp_path / "incident-7-update-0942.txt")
        await pilot.press("enter")
        await pilot.pause()
    assert app.results == [UpdateResult("save", DRAFT, str(tmp_path / "incident-7-update-0942.txt"), "progress")]
    assert list(tmp_path.iterdir()) == []      # the screen wrote nothing


async def test_save_never_targets_an_existing_file(tmp_path: Path) -> None:
    (tmp_path / "incident-7-update-0942.txt").write_text("earlier update")
    (tmp_path / "mine.txt").write_text("keep me")
    app = make(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        path_input = app.screen.query_one("#update-path", Input)
        # The proposed default already skips the taken name.
        assert path_input.value == str(tmp_path / "incident-7-update-0942-2.txt")
        # Typing an existing name asks instead of overwriting: a new name is proposed, Enter confirms it.
        path_input.value = "mine.txt"
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == []
        assert path_input.value == "mine-2.txt"
        await pilot.press("enter")
        await pilot.pause()
    assert app.results == [UpdateResult("save", DRAFT, str(tmp_path / "mine-2.txt"), "progress")]
    assert (tmp_path / "mine.txt").read_text() == "keep me"


async def test_escape_in_the_save_row_goes_back_to_editing(tmp_path: Path) -> None:
    app = make(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == []
        assert app.screen.query_one("#update-text", TextArea).has_focus
        await pilot.press("escape")
        await pilot.pause()
    assert [r.action for r in app.results] == ["cancel"]


async def test_post_is_unavailable_without_webhooks(tmp_path: Path) -> None:
    app = make(tmp_path, targets=())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert app.results == []
        await pilot.press("ctrl+o")
        await pilot.pause()
    assert [r.action for r in app.results] == ["copy"]


async def test_empty_text_is_not_sent(tmp_path: Path) -> None:
    app = make(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.screen.query_one("#update-text", TextArea).clear()
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert app.results == []


async def test_fits_a_small_terminal_with_footer(tmp_path: Path) -> None:
    app = make(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        area = app.screen.query_one("#update-text", TextArea)
        assert area.region.height >= 5
        keys = {b.key for b in app.screen.active_bindings.values() if hasattr(b, "key")} | set(
            app.screen.active_bindings)
        assert {"ctrl+t", "ctrl+o", "ctrl+s", "escape", "f2"} <= keys
