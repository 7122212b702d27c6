"""Webhook posting against a real local receiver (threaded http.server on 127.0.0.1:0)."""
from __future__ import annotations

import collections
import json
import subprocess
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.servers import MAX_DELAY_S, LocalHTTPServer, Route, refused_port
from tui.incident.model import Kind, Severity, utcnow
from tui.incident.notify import PostResult, apost_update, post_update, summarize
from tui.incident.specs import NotifySpec
from tui.incident.store import Store

ROOT = Path(__file__).resolve().parent.parent


class Receiver:
    """Records every POST body; answers with queued statuses (then 200), or stalls when told to."""

    def __init__(self) -> None:
        self.server = LocalHTTPServer()
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        self.statuses: collections.deque[int] = collections.deque()
        self.stall_next = 0              # how many requests to leave unanswered until close()
        self.answer = b"ok"
        self._lock = threading.Lock()
        self.got_request = threading.Event()

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        body = h.rfile.read(int(h.headers.get("Content-Length", "0")))
        with self._lock:
            self.bodies.append(body)
            self.headers.append(dict(h.headers.items()))
            stall = self.stall_next > 0
            if stall:
                self.stall_next -= 1
            status = self.statuses.popleft() if self.statuses else 200
        self.got_request.set()
        if stall:
            self.server.release.wait(MAX_DELAY_S)
            h.close_connection = True
            return
        try:
            h.send_response(status)
            h.send_header("Content-Type", "text/plain")
            h.send_header("Content-Length", str(len(self.answer)))
            h.end_headers()
            h.wfile.write(self.answer)
        except (BrokenPipeError, ConnectionResetError):
            h.close_connection = True

    def url(self, path: str = "/hook") -> str:
        return self.server.url(path)

    def json_bodies(self) -> list[dict]:
        return [json.loads(b) for b in self.bodies]

    def __enter__(self) -> "Receiver":
        # Every path is the webhook (the redaction test posts to secret-bearing paths).
        self.server.routes = _EveryPath(Route(handler=self._handle))
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.close()


class _EveryPath(dict):
    def __init__(self, route: Route) -> None:
        super().__init__()
        self._route = route

    def get(self, key: object, default: object = None) -> Route:  # type: ignore[override]
        return self._route


@pytest.fixture
def rx():
    with Receiver() as receiver:
        yield receiver


def slack(url: str, **kw: object) -> NotifySpec:
    return NotifySpec(kind="slack", url=url, name="ops-slack", **kw)  # type: ignore[arg-type]


def test_slack_post_sends_text(rx: Receiver) -> None:
    results = post_update("Payments is down.\nWe are on it.", [slack(rx.url())])
    assert results == [PostResult("ops-slack", True, 200, None, 1)]
    assert rx.json_bodies() == [{"text": "Payments is down.\nWe are on it."}]
    assert rx.headers[0]["Content-Type"] == "application/json"


def test_500_then_success_is_retried(rx: Receiver) -> None:
    rx.statuses.append(500)
    [result] = post_update("hello", [slack(rx.url(), retries=2)], backoff=0.01)
    assert result.ok and result.status == 200 and result.attempts == 2 and result.error is None
    assert len(rx.bodies) == 2


def test_persistent_500_gives_up_after_bounded_attempts(rx: Receiver) -> None:
    rx.statuses.extend([500, 502, 503, 500])
    [result] = post_update("hello", [slack(rx.url(), retries=2)], backoff=0.01)
    assert not result.ok
    assert result.attempts == 3 and result.status == 503
    assert result.error == "HTTP 503 after 3 attempts: ok"
    assert len(rx.bodies) == 3


def test_4xx_is_not_retried(rx: Receiver) -> None:
    rx.statuses.append(404)
    rx.answer = b"no_service"
    [result] = post_update("hello", [slack(rx.url(), retries=2)], backoff=0.01)
    assert (result.ok, result.status, result.attempts, result.error) == (False, 404, 1, "HTTP 404: no_service")


def test_a_timeout_after_sending_is_not_retried_and_may_have_been_posted(rx: Receiver) -> None:
    # The receiver gets the request and answers too late: it may well have posted it. A retry
    # here had receivers post the same update three times.
    rx.stall_next = 5
    started = time.monotonic()
    [result] = post_update("hello", [slack(rx.url(), timeout=0.3, retries=2)], backoff=0.01)
    elapsed = time.monotonic() - started
    assert len(rx.bodies) == 1
    assert (result.ok, result.uncertain, result.status, result.attempts) == (False, True, None, 1)
    assert result.error == "no answer within 0.3 s after sending (it may have been posted)"
    assert summarize([result]) == "ops-slack: no answer within 0.3 s after sending (it may have been posted)"
    assert elapsed < 5      # only to prove it does not hang


def test_retry_uncertain_forces_the_retry(rx: Receiver) -> None:
    rx.stall_next = 1
    [result] = post_update("hello", [slack(rx.url(), timeout=0.3, retries=2)], backoff=0.01, retry_uncertain=True)
    assert len(rx.bodies) == 2
    assert result.ok and result.attempts == 2 and not result.uncertain


def test_a_connection_dropped_after_sending_is_not_retried(rx: Receiver) -> None:
    def drop(h: BaseHTTPRequestHandler) -> None:
        h.rfile.read(int(h.headers.get("Content-Length", "0")))
        rx.bodies.append(b"seen")
        h.close_connection = True          # no status line at all

    rx.server.routes = _EveryPath(Route(handler=drop))
    [result] = post_update("hello", [slack(rx.url(), retries=2)], backoff=0.01)
    assert rx.bodies == [b"seen"]
    assert not result.ok and result.uncertain and result.attempts == 1
    assert result.error.endswith(" (it may have been posted)")


def test_429_is_retried(rx: Receiver) -> None:
    rx.statuses.append(429)
    [result] = post_update("hello", [slack(rx.url(), retries=1)], backoff=0.01)
    assert result.ok and result.attempts == 2 and len(rx.bodies) == 2


def test_connection_refused() -> None:
    url = f"http://127.0.0.1:{refused_port()}/services/T/B/secretpath"
    [result] = post_update("hello", [NotifySpec(kind="json", url=url, retries=1)], backoff=0.01)
    assert not result.ok and result.attempts == 2
    assert result.error == "connection refused (2 attempts)"
    assert result.target_name.startswith("json http://127.0.0.1:") and "secretpath" not in result.target_name


def test_json_document_shape(rx: Receiver, tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        incident = store.declare("Checkout errors", Severity.SEV2, author="alice")
    spec = NotifySpec(kind="json", url=rx.url("/audit"), name="audit")
    [result] = post_update("All good now", [spec], incident=incident)
    assert result.ok
    [doc] = rx.json_bodies()
    assert set(doc) == {"incident", "text", "sent_at"}
    assert doc["text"] == "All good now"
    assert doc["sent_at"].endswith("Z") and len(doc["sent_at"]) == len("2024-05-01T09:00:00.000Z")
    inc = doc["incident"]
    assert {"id", "ref", "title", "severity", "status", "started_at"} <= set(inc)
    assert (inc["id"], inc["ref"], inc["title"], inc["severity"], inc["status"]) == (
        incident.id, f"INC-{incident.id}", "Checkout errors", "SEV2", "Investigating")


def test_unknown_kind_is_an_error_not_an_exception() -> None:
    [result] = post_update("x", [NotifySpec(kind="teams", url="http://127.0.0.1:9/x")])
    assert not result.ok and result.attempts == 0 and "unknown notify kind" in (result.error or "")


def test_several_targets_each_get_a_result(rx: Receiver) -> None:
    bad = NotifySpec(kind="slack", url=f"http://127.0.0.1:{refused_port()}/x", name="dead", retries=0)
    results = post_update("hi", [slack(rx.url()), bad])
    assert [r.ok for r in results] == [True, False]
    assert summarize(results) == "posted to ops-slack; dead failed: connection refused"


async def test_async_twin_posts_in_parallel_and_retries(rx: Receiver) -> None:
    rx.statuses.append(500)
    results = await apost_update(
        "async hello",
        [slack(rx.url(), retries=2), NotifySpec(kind="json", url=rx.url("/audit"), name="audit")],
        backoff=0.01,
    )
    assert [r.target_name for r in results] == ["ops-slack", "audit"]
    assert all(r.ok for r in results)
    assert sum(r.attempts for r in results) == 3
    texts = sorted(d["text"] for d in rx.json_bodies())
    assert texts == ["async hello"] * 3


async def test_async_timeout(rx: Receiver) -> None:
    rx.stall_next = 1
    [result] = await apost_update("x", [slack(rx.url(), timeout=0.3, retries=3)])
    assert result.uncertain and result.attempts == 1 and len(rx.bodies) == 1


def test_one_implementation_for_both_entry_points() -> None:
    """The sync poster is the async one run on a loop of its own, not a near-copy."""
    import inspect

    from tui.incident import notify

    source = inspect.getsource(notify.post_update)
    assert "asyncio.run(apost_update(" in source and "httpx" not in source


def test_successful_post_then_record_update_sent(rx: Receiver, tmp_path: Path) -> None:
    """The app-level flow: post, then log the exact text as a comms entry and reset the countdown."""
    with Store(tmp_path) as store:
        declared_at = utcnow() - timedelta(minutes=20)
        incident = store.declare("Checkout errors", Severity.SEV2, now=declared_at)
        assert incident.next_update_at == declared_at + timedelta(minutes=30)
        text = "[SEV2] INC-1: Checkout errors\n\nWe are investigating; next update by 10:30 UTC.\n"
        [result] = post_update(text, [slack(rx.url())], incident=incident)
        assert result.ok

        before = utcnow()
        updated = store.record_update_sent(incident.id, text, author="alice", source="tui",
                                           meta={"targets": [result.target_name], "template": "initial"})
        after = utcnow()
        comms = [e for e in store.timeline(incident.id) if e.kind is Kind.COMMS]
        assert [e.text for e in comms] == [text]
        assert comms[0].meta["targets"] == ["ops-slack"]
        assert rx.json_bodies() == [{"text": text}]
        assert before + timedelta(minutes=30) <= updated.next_update_at <= after + timedelta(minutes=30)
        assert updated.next_update_at > incident.next_update_at


def test_incident_modules_import_neither_httpx_nor_textual() -> None:
    code = (
        "import sys\n"
        "import tui.incident.notify, tui.incident.export, tui.incident.templates, tui.incident.redact\n"
        "bad = [m for m in ('httpx', 'textual') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


def test_cli_post_that_may_have_arrived_says_so_in_one_line_and_exits_2(rx: Receiver, tmp_path: Path,
                                                                         capsys, monkeypatch) -> None:
    from tui.cli import main

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    config = tmp_path / "warroom.toml"
    config.write_text(f'[[notify]]\nkind = "slack"\nname = "ops-slack"\nurl = "{rx.url()}"\ntimeout = 0.3\n'
                      "retries = 2\n", encoding="utf-8")
    data = tmp_path / "data"
    with Store(data) as store:
        store.declare("payments down", Severity.SEV2, author="ic")
    rx.stall_next = 5
    argv = ["update", "--post", "--config", str(config), "--data-dir", str(data)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["warroom: ops-slack: no answer within 0.3 s after sending (it may have been posted) — "
                   "check the channel before posting again; --force retries even then"]
    assert len(rx.bodies) == 1
    with Store(data) as store:
        last = store.timeline(1)[-1]
    assert last.kind is Kind.SYSTEM and "may have been posted" in last.text and last.meta == {"uncertain": ["ops-slack"]}

    # --force: the same post is retried after the timeout, and the second attempt is answered.
    rx.stall_next = 1
    assert main([*argv, "--force"]) == 0
    assert len(rx.bodies) == 3
    assert capsys.readouterr().err.strip() == "posted: ops-slack"
