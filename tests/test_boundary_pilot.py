"""The dashboard's exception boundary, under Pilot, and a corrupt store at start (a real process).

An unexpected error in a key binding, a palette command, a prompt submit or a screen
callback becomes one red toast naming the crash log; the app stays up and the typed
text stays in the prompt. Where the error cannot be made by real input any more (the
reproductions of issue 14 now fail earlier, on purpose), a store method is made to fail.
"""
from __future__ import annotations

import os
import re
import select
import subprocess
import sys
from pathlib import Path

from tui.app import WarroomApp
from tui.incident.model import Severity
from tui.incident.store import MAX_ENTRY_CHARS, Store

from .conftest import fixed_clock, seed_incident

ROOT = Path(__file__).resolve().parents[1]


def make_app(store, incident, **kw) -> WarroomApp:
    return WarroomApp(store, incident.id, author="scribe", clock=fixed_clock, **kw)


def toasts(app, severity: str = "error") -> list:
    return [n for n in app._notifications if n.severity == severity]


def prompt_value(app) -> str:
    return app.screen.query_one("#prompt-input").value


def assert_crash_toast(app, store, error: str) -> None:
    [toast] = toasts(app)
    log = store.data_dir / "crash.log"
    assert toast.markup is False
    assert len(toast.message.splitlines()) == 1, toast.message
    assert toast.message.startswith(f"Unexpected error: {error}"), toast.message
    assert toast.message.endswith(f"details in {log}"), toast.message
    assert "Traceback (most recent call last)" in log.read_text()
    assert app.is_running


def fail_with(exc: Exception):
    def fail(*args, **kwargs):
        raise exc

    return fail


async def test_key_binding_error_is_a_toast_and_the_app_stays_up(store, monkeypatch):
    inc = seed_incident(store)
    app = make_app(store, inc)
    async with app.run_test(size=(120, 40)) as pilot:
        # Markup in the error's text must show as typed, not be parsed (it killed the app).
        monkeypatch.setattr(store, "record_update_sent", fail_with(RuntimeError("boom [link=http://evil]x[/link]")))
        await pilot.press("u")
        await pilot.pause()
        assert_crash_toast(app, store, "RuntimeError: boom [link=http://evil]x[/link]")
        monkeypatch.undo()
        await pilot.press("n", *"still here", "enter")
        await pilot.pause()
        assert store.timeline(inc.id)[-1].text == "still here"


async def test_palette_command_error_is_a_toast(store, monkeypatch):
    inc = seed_incident(store)
    app = make_app(store, inc)
    async with app.run_test(size=(120, 40)) as pilot:
        monkeypatch.setattr(store, "snooze_update", fail_with(KeyError("cadence")))
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Snooze 5m")
        from textual.command import CommandPalette

        palette = app.screen
        assert isinstance(palette, CommandPalette)
        await app.workers.wait_for_complete()      # the palette searches in a worker
        await pilot.pause()
        assert palette.query_one("CommandList").option_count
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        assert_crash_toast(app, store, "KeyError: 'cadence'")


async def test_prompt_submit_error_keeps_the_typed_text(store, monkeypatch):
    inc = seed_incident(store)
    before = len(store.entries(inc.id))
    app = make_app(store, inc)
    async with app.run_test(size=(120, 40)) as pilot:
        monkeypatch.setattr(store, "append", fail_with(OverflowError("date value out of range")))
        await pilot.press("n", *"db failover done", "enter")
        await pilot.pause()
        assert_crash_toast(app, store, "OverflowError: date value out of range")
        assert prompt_value(app) == "db failover done"      # nothing typed is lost
        assert app.screen.query_one("#prompt").has_class("-open")
        monkeypatch.undo()
        await pilot.press("enter")                            # the same draft, saved this time
        await pilot.pause()
        assert store.timeline(inc.id)[-1].text == "db failover done"
        assert len(store.entries(inc.id)) == before + 1


async def test_screen_callback_error_is_a_toast(store):
    """`s`, `1` with a cadence no clock can hold (1e300 minutes, as a config once allowed)."""
    inc = seed_incident(store)
    app = make_app(store, inc, cadence={Severity.SEV1: 1e300, Severity.SEV2: 30})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("1")
        await pilot.pause()
        assert_crash_toast(app, store, "OverflowError")
        assert store.incident(inc.id).severity is Severity.SEV2      # nothing half-written
        assert app.screen is app.screen_stack[0]                     # back on the dashboard, usable
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("3")
        await pilot.pause()
        assert store.incident(inc.id).severity is Severity.SEV3


async def test_huge_follow_up_is_refused_and_the_text_kept(store):
    """`t` with `check replica +99999999999` overflowed the clock and quit, losing the text."""
    inc = seed_incident(store)
    before = len(store.entries(inc.id))
    app = make_app(store, inc)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t", *"check replica +99999999999", "enter")
        await pilot.pause()
        [toast] = toasts(app)
        assert "a follow-up of 1e+11 minutes is out of range" in toast.message
        assert prompt_value(app) == "check replica +99999999999"
        assert len(store.entries(inc.id)) == before
        assert not (store.data_dir / "crash.log").exists()      # refused on purpose, not a crash


async def test_entry_over_the_size_limit_is_one_line_and_kept(store):
    inc = seed_incident(store)
    before = len(store.entries(inc.id))
    app = make_app(store, inc)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        await pilot.pause()
        big = "x" * (MAX_ENTRY_CHARS + 1)
        app.screen.query_one("#prompt-input").value = big     # as pasted
        await pilot.press("enter")
        await pilot.pause()
        [toast] = toasts(app)
        assert len(toast.message.splitlines()) == 1
        assert f"{MAX_ENTRY_CHARS + 1:,} characters, over the limit of {MAX_ENTRY_CHARS:,}" in toast.message
        assert prompt_value(app) == big
        assert len(store.entries(inc.id)) == before


# -- a corrupt store at start --------------------------------------------------------------------


def corrupt_entries(data: Path) -> None:
    """Overwrite the entries table's root page: the store opens, the timeline cannot be read."""
    import sqlite3

    db = data / "warroom.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'entries'").fetchone()[0]
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    raw = bytearray(db.read_bytes())
    start = (root - 1) * page
    raw[start + 8:start + page] = b"\x5a" * (page - 8)
    db.write_bytes(bytes(raw))


async def test_corrupt_store_at_start_ends_with_one_line(tmp_path):
    data = tmp_path / "data"
    with Store(data) as store:
        inc = seed_incident(store)
    corrupt_entries(data)
    store = Store(data)
    try:
        app = make_app(store, inc)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
        assert app.return_code == 2
        assert app.fatal_error.startswith(f"store {data / 'warroom.db'}: read failed: database disk image is malformed")
        assert "\n" not in app.fatal_error
    finally:
        store.close()


def test_corrupt_store_at_start_real_process(tmp_path):
    """`warroom` on a terminal (a pty): one line, exit 2, no traceback."""
    data = tmp_path / "data"
    with Store(data) as store:
        seed_incident(store)
    corrupt_entries(data)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "xdg"), TERM="xterm-256color", COLUMNS="120", LINES="40")
    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from tui.cli import main; sys.exit(main())",
                             "--data-dir", str(data)], cwd=tmp_path, env=env, stdin=slave, stdout=slave,
                            stderr=slave, close_fds=True)
    os.close(slave)
    out = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 30)
            if not ready:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:       # EIO: the process and its terminal are gone
                break
            if not chunk:
                break
            out += chunk
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    text = re.sub(r"\x1b(\[[0-9;?<>=$]*[ -/]*[@-~]|\][^\x07]*\x07|[=>])", "", out.decode("utf-8", "replace"))
    lines = [line.strip() for line in text.replace("\r", "\n").splitlines() if line.strip()]
    assert code == 2, text
    assert "Traceback" not in text
    assert lines[-1].startswith(f"warroom: store {data / 'warroom.db'}: read failed:"), lines[-3:]


async def test_crash_log_and_toast_are_redacted_and_not_repeated(store, monkeypatch):
    from tui.config import Config

    inc = seed_incident(store)
    app = make_app(store, inc, config=Config(secrets=frozenset({"tok-hunter22"})))
    async with app.run_test(size=(120, 40)) as pilot:
        monkeypatch.setattr(store, "record_update_sent",
                            fail_with(RuntimeError("POST https://u:pw@hooks.example/x failed: bad key tok-hunter22")))
        await pilot.press("u")
        await pilot.pause()
        await pilot.press("u")        # the same error again at once: logged twice, toasted once
        await pilot.pause()
        [toast] = toasts(app)
        log = (store.data_dir / "crash.log").read_text()
        for secret in ("tok-hunter22", "u:pw@"):
            assert secret not in toast.message and secret not in log
        assert log.count("Traceback (most recent call last)") == 2
