"""Hostile stored and remote text in the real dashboard (issue 14 §1, and §2's markup).

Hostile text in every field the dashboard shows: from the store (title, role holders,
authors, entries, a checklist item, a due follow-up) and from remote sources (a local
HTTP server answering with a hostile JSON value and a hostile ``Location``, the
Kubernetes stand-in with hostile waiting and termination reasons, a real git repo with
a hostile commit subject and author). What is drawn (the full frame as the terminal
would get it, and the bytes a pty-run ``warroom`` writes) carries no OSC, no C1, no
bidi override and no hostile ``ESC [ 2J``; the store still holds the original; toasts
quoting a webhook's answer or a commit subject are never parsed as markup.
"""
from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from checks.specs import HostSpec, KubeSpec, RepoSpec, ServiceSpec
from tests.test_notify import Receiver
from tui.app import WarroomApp
from tui.config import Config
from tui.demo.kubeapi_standin import KubeApiStandin
from tui.incident.model import Kind, Phase, Severity, utcnow
from tui.incident.safe_text import visible
from tui.incident.specs import NotifySpec
from tui.incident.store import Store
from tui.sources import build_panes, build_sources

from .gitrepos import commit, init_repo
from .pilot_wait import wait_for
from .servers import LocalHTTPServer, Route

# Retitles the window, writes the clipboard, blanks the screen.
OSC = "\x1b]0;PWNED\x07"
PAYLOAD = f"{OSC}\x1b]52;c;ZXZpbA==\x07\x1b[2J\x9b2J\u202e"
SHOWN_OSC = visible(OSC)        # "␛]0;PWNED␇"
UNSAFE = {chr(c) for c in (*range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def assert_frame_safe(frame: str) -> None:
    """A frame as the terminal gets it: Textual's own CSI sequences, and nothing else."""
    assert "\x1b]" not in frame, "an OSC sequence (title, clipboard, hyperlink) reached the terminal"
    assert "\x1b[2J" not in frame and "\x1bP" not in frame and "\x07" not in frame
    bad = sorted({ch for ch in frame if ch in UNSAFE})
    assert not bad, f"C1 or bidi characters reached the terminal: {bad!r}"


def frame(app: WarroomApp) -> str:
    """The whole screen as Textual would write it to the terminal (a full update)."""
    return app.screen._compositor.render_full_update().render_segments(app.console)


def screen_text(app: WarroomApp) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())




def seed_hostile(store: Store):
    """Hostile text in every stored field the dashboard shows; returns the incident."""
    inc = store.declare("title" + PAYLOAD, Severity.SEV1, author="declarer" + PAYLOAD,
                        roles={"commander": "ic" + OSC, "scribe": "scribe" + PAYLOAD},
                        checklists={Phase.TRIAGE: ("item" + PAYLOAD, "page the DBA")})
    store.append(inc.id, Kind.NOTE, "entry" + PAYLOAD, author="author" + OSC, source="test")
    store.add_todo(inc.id, "followup" + PAYLOAD, follow_up_minutes=1, author="bob", source="test")
    return store.incident(inc.id)


def later() -> datetime:
    return utcnow() + timedelta(minutes=5)       # the follow-up is due


# -- remote sources ------------------------------------------------------------------


@pytest.fixture
def remote(tmp_path):
    """Real sources answering with hostile text."""
    now = datetime.now(timezone.utc)
    repo = init_repo(tmp_path / "payments")
    commit(repo, "first", now - timedelta(days=2))
    commit(repo, "subj" + PAYLOAD + " [/] [link=http://evil]x[/link]", now - timedelta(minutes=7),
           author=("auth" + OSC, "evil@example.com"))
    with LocalHTTPServer() as http, KubeApiStandin() as kube:
        http.route("/json", status=200, body=json.dumps({"status": OSC + "\x9b2J"}).encode())

        def redirect(h):
            # A header value may carry obs-text: 0x9b is C1 CSI read as Latin-1.
            h.send_response(302)
            h.send_header("Location", "/x\x9b2J\u202e".encode("utf-8").decode("latin-1"))
            h.send_header("Content-Length", "0")
            h.end_headers()

        http.routes["/redirect"] = Route(handler=redirect)
        kube.add_pod("payments", "payments-api-1", containers=("app",))
        kube.add_pod("payments", "ledger-0", containers=("ledger",))
        kube.restart_container("payments", "payments-api-1", "app", reason="term" + OSC, then="wait" + OSC)
        kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig", namespace="payments")
        config = Config(
            services=(
                ServiceSpec(name="json", url=http.url("/json"), interval=0.2, fail_threshold=1,
                            json_field="status", json_equals="ok"),
                ServiceSpec(name="moved", url=http.url("/redirect"), interval=0.2, fail_threshold=1),
            ),
            host=HostSpec(interval=0.5),
            kubernetes=KubeSpec(kubeconfig=kubeconfig, interval=0.2),
            repos=(RepoSpec(path=str(repo), interval=0.5),),
        )
        yield {"config": config, "http": http, "kube": kube, "repo": repo, "kubeconfig": kubeconfig}


async def test_hostile_store_and_remote_text_is_drawn_visible(store, remote):
    inc = seed_hostile(store)
    config = remote["config"]
    app = WarroomApp(store, inc.id, panes=build_panes(config), config=config, author="scribe", clock=later,
                     sources_later=lambda: build_sources(config, incident=inc))
    async with app.run_test(size=(200, 60)) as pilot:
        screen = app.screen

        def snap(name):
            return screen._snapshots.get(name)

        assert await wait_for(pilot, lambda: all(snap(n) is not None for n in ("health", "pods", "deploys")))
        assert await wait_for(pilot, lambda: all(s.checked_at for s in snap("health").services))
        assert await wait_for(pilot, lambda: any(p.waiting_reason for p in snap("pods").pods))
        assert await wait_for(pilot, lambda: snap("deploys").all_deploys())
        await pilot.pause()
        text = screen_text(app)
        # Every field is on screen, its controls shown as pictures.
        for shown in ("title" + SHOWN_OSC, "ic" + SHOWN_OSC, "scribe" + SHOWN_OSC, "author" + SHOWN_OSC,
                      "entry" + SHOWN_OSC, "item" + SHOWN_OSC, "followup" + SHOWN_OSC):
            assert shown in text, shown
        assert SHOWN_OSC + "\\x9b2J" in text              # the JSON value in the health reason (border)
        assert "wait" + SHOWN_OSC in text and "term" + SHOWN_OSC in text     # the pod's reasons
        # The deploys source keeps a commit's text as one row of glyphs (safe_text.row_text, in
        # checks/deploys.py): a control shows as U+FFFD; brackets as written, never read as markup.
        assert "subj\ufffd]0;PWNED" in text and "[/] [link=http://evil]x" in text and "auth\ufffd]0;PWNED" in text
        assert_frame_safe(frame(app))
        # Zoomed, the health pane has room for the whole of each reason.
        app.screen.maximize(app.panes["health"], container=False)
        assert await wait_for(pilot, lambda: "/x\\x9b2J\\u202e" in screen_text(app))   # the Location
        assert_frame_safe(frame(app))
    # The store keeps every byte as typed.
    inc_after = store.incident(inc.id)
    assert inc_after.title == "title" + PAYLOAD and inc_after.roles["scribe"] == "scribe" + PAYLOAD
    assert "entry" + PAYLOAD in {e.text for e in store.timeline(inc.id)}


async def test_edit_prompt_shows_visible_text_and_keeps_the_original(store):
    inc = seed_hostile(store)
    app = WarroomApp(store, inc.id, panes={}, config=Config(), author="scribe", clock=later)
    async with app.run_test(size=(160, 48)) as pilot:
        from widgets.timeline import TimelineView

        timeline = app.screen.query_one(TimelineView)
        target = next(i for i, e in enumerate(timeline.entries) if e.text == "entry" + PAYLOAD)
        timeline.cursor = target
        await pilot.press("e")
        prompt = app.screen.query_one("#prompt-input")
        assert prompt.value == "entry" + visible(PAYLOAD)
        await pilot.pause()
        assert_frame_safe(frame(app))
        # Saved unchanged (only the time moved): the original text, byte for byte.
        prompt.value = "@14:05 " + prompt.value
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: any(e.rev > 1 for e in store.entries(inc.id)))
        edited = [e for e in store.entries(inc.id) if e.rev > 1]
        assert edited[-1].text == "entry" + PAYLOAD


async def test_update_draft_and_webhook_answer_with_markup(store):
    inc = seed_hostile(store)
    with Receiver() as slack_rx, Receiver() as broken:
        broken.statuses.extend([500])
        broken.answer = b"[link=http://evil]x[/link] [/] " + OSC.encode()
        config = Config(notify=(NotifySpec(kind="slack", url=slack_rx.url(), name="slack", retries=0),
                                NotifySpec(kind="slack", url=broken.url(), name="audit", retries=0)))
        app = WarroomApp(store, inc.id, panes={}, config=config, author="scribe", clock=later)
        async with app.run_test(size=(160, 48), notifications=True) as pilot:
            await pilot.press("U")
            from textual.widgets import TextArea

            assert await wait_for(pilot, lambda: bool(app.screen.query(TextArea)))
            draft = app.screen.query_one(TextArea).text
            assert "title" + SHOWN_OSC in draft and "\x1b" not in draft
            assert_frame_safe(frame(app))
            await pilot.press("ctrl+t")
            assert await wait_for(pilot, lambda: len(slack_rx.bodies) == 1 and len(broken.bodies) == 1)
            # The toast quotes the webhook's answer as written (Textual's run_test hides toasts unless asked).
            assert await wait_for(pilot, lambda: "audit failed: HTTP 500: [link=http://evil]x[/link] [/]" in
                                  screen_text(app).replace("\n", " "))
            assert app.is_running
            assert_frame_safe(frame(app))
        [body] = slack_rx.json_bodies()
        assert "<" not in body["text"] and "\x1b" not in body["text"]
    # The failure is on record, the webhook's answer as it came.
    assert any("[link=http://evil]" in e.text for e in store.timeline(inc.id) if e.kind is Kind.SYSTEM)


async def test_diffstat_of_a_commit_subject_with_markup(store, tmp_path):
    now = datetime.now(timezone.utc)
    repo = init_repo(tmp_path / "svc")
    commit(repo, "first", now - timedelta(days=1), files={"a.txt": "a\n"})
    commit(repo, "fix [/] close [link=http://evil]x[/link]" + OSC, now - timedelta(minutes=3), files={"b.txt": "b\n"})
    config = Config(repos=(RepoSpec(path=str(repo), interval=0.5),), host=HostSpec(interval=5))
    inc = store.declare("db", Severity.SEV2, author="ic")
    app = WarroomApp(store, inc.id, panes=build_panes(config), config=config, author="scribe",
                     sources_later=lambda: build_sources(config, incident=inc))
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        pane = app.panes["deploys"]
        assert await wait_for(pilot, lambda: pane.selected() is not None or bool(
            app.screen._snapshots.get("deploys") and app.screen._snapshots["deploys"].all_deploys()))
        pane.focus()
        await pilot.pause()
        assert await wait_for(pilot, lambda: pane.selected() is not None)
        await pilot.press("D")
        # The toast: the subject's brackets as written (not parsed: no crash, no link).
        assert await wait_for(pilot, lambda: "b.txt" in screen_text(app))
        text = screen_text(app)
        assert "fix [/] close [link=http://evil]x[/link]" in text
        assert app.is_running
        assert_frame_safe(frame(app))


async def test_every_toast_path_shows_markup_as_written_even_when_asked_to_parse_it(store):
    """The one edge for toasts is WarroomApp.notify: a screen's, a widget's or the app's own
    notify, with Textual's default markup=True or an explicit one, all end there unparsed."""
    inc = seed_hostile(store)
    app = WarroomApp(store, inc.id, panes={}, config=Config(), author="scribe", clock=later)
    hostile = "[link=http://evil]x[/link] [/] [@click=app.quit]q[/]" + OSC
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        app.screen.notify("screen " + hostile)
        app.screen.query("*").first().notify("widget " + hostile, markup=True)
        app.notify("app " + hostile, title="title " + hostile, markup=True)
        from textual.widgets._toast import Toast

        def drawn() -> str:      # each toast as rendered (the screen wraps them, narrow as they are)
            return " ".join(t.render().plain for t in app.screen.query(Toast))

        shown = visible(hostile)
        assert await wait_for(pilot, lambda: all(f"{who} {shown}" in drawn()
                                                 for who in ("screen", "widget", "app", "title")))
        assert app.is_running
        assert_frame_safe(frame(app))


# -- the bytes a real terminal gets ----------------------------------------------------


def _warroom() -> list[str]:
    script = Path(sys.executable).with_name("warroom")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tui.cli"]


def test_pty_run_dashboard_writes_no_hostile_sequence(tmp_path, remote):
    data = tmp_path / "data"
    with Store(data) as store:
        seed_hostile(store)
    http, repo = remote["http"], remote["repo"]
    config = tmp_path / "warroom.toml"
    config.write_text(
        f'[[services]]\nname = "json"\nurl = "{http.url("/json")}"\ninterval = 0.5\nfail_threshold = 1\n'
        'json_field = "status"\njson_equals = "ok"\n\n'
        f'[[services]]\nname = "moved"\nurl = "{http.url("/redirect")}"\ninterval = 0.5\nfail_threshold = 1\n\n'
        f'[kubernetes]\nkubeconfig = "{remote["kubeconfig"]}"\ninterval = 0.5\n\n'
        f'[[repos]]\npath = "{repo}"\ninterval = 0.5\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WARROOM_", "TEXTUAL"))}
    env.update(TERM="xterm-256color", XDG_CONFIG_HOME=str(tmp_path / "xdg"), COLUMNS="200", LINES="60")
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 60, 200, 0, 0))
    proc = subprocess.Popen([*_warroom(), "--config", str(config), "--data-dir", str(data)], stdin=slave,
                            stdout=slave, stderr=slave, env=env, cwd=tmp_path, start_new_session=True)
    os.close(slave)
    out = bytearray()
    wanted = [("title" + SHOWN_OSC).encode(), ("entry" + SHOWN_OSC).encode(), ("wait" + SHOWN_OSC).encode(),
              (SHOWN_OSC + "\\x9b2J").encode(), b"[/] [link=http://evil]x"]
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and not all(w in out for w in wanted):
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    out += os.read(master, 65536)
                except OSError:
                    break
        os.write(master, b"\x11")        # ctrl+q
        end = time.monotonic() + 10
        while time.monotonic() < end and proc.poll() is None:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    out += os.read(master, 65536)
                except OSError:
                    break
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        os.close(master)
    for w in wanted:
        assert w in out, (w, bytes(out[-3000:]))
    assert b"\x1b]0;" not in out and b"\x1b]52" not in out and b"PWNED\x07" not in out
    assert b"\x1b[2J\xc2\x9b" not in out and b"\xc2\x9b" not in out       # no C1 CSI (UTF-8)
    assert "\u202e".encode() not in out
