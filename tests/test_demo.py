"""The demo, headless at high speed: the incident unfolds and everything is cleaned up."""
from __future__ import annotations

import socket
import threading

from checks.health import State
from tui.demo import build_app
from tui.demo.scenario import CRASHER, Demo
from tui.incident.model import Kind, Status

from .pilot_wait import wait_for as _wait_for


def wait_for(pilot, predicate, timeout: float = 30.0, step: float = 0.1):
    """tests/pilot_wait.py's, with this file's longer bound."""
    return _wait_for(pilot, predicate, timeout=timeout, step=step)


def _port_closed(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) != 0


async def test_demo_runs_the_incident_and_cleans_up():
    demo = Demo(speed=10).start()
    ports = [s.port for s in demo.services.running] + [demo.standin.port, int(demo.signals.url.rsplit(":", 1)[1])]
    try:
        app = build_app(demo, author="tester")
        async with app.run_test(size=(160, 48)) as pilot:
            screen = app.screen

            def snap(name):
                return screen._snapshots.get(name)

            def payments_down():
                health = snap("health")
                return health is not None and any(
                    s.name == "payments" and s.state == State.DOWN for s in health.services)

            assert await wait_for(pilot, payments_down), "payments never went DOWN"
            assert await wait_for(pilot, lambda: snap("pods") is not None and any(
                p.name == CRASHER[1] and p.waiting_reason == "CrashLoopBackOff" for p in snap("pods").pods))
            deploys = snap("deploys")
            suspect = [d for r in deploys.repos for d in r.deploys if d.suspect]
            assert [d.subject for d in suspect] == ["deploy payments v2.3.1"]

            def system_states():
                return {(e.meta.get("key"), e.meta.get("state")) for e in demo.store.timeline(demo.incident.id)
                        if e.kind is Kind.SYSTEM}

            assert await wait_for(pilot, lambda: ("health:payments", "DOWN") in system_states())
            assert await wait_for(pilot, lambda: (f"pod:{CRASHER[0]}/{CRASHER[1]}", "CrashLoopBackOff") in system_states())
            # The demo's Alertmanager and Prometheus tell the same story (tui/demo/signals.py).
            assert await wait_for(pilot, lambda: ("alert:PaymentsHigh5xx", "FIRING") in system_states())
            assert await wait_for(pilot, lambda: snap("metrics") is not None and any(
                r.name == "checkout 5xx" and r.level.name == "CRIT" for r in snap("metrics").rows))
            assert snap("metrics").error is None and all(r.baseline is not None for r in snap("metrics").rows)
            # The scripted scribe writes through another connection; the dashboard shows it.
            assert await wait_for(pilot, lambda: demo.store.incident(demo.incident.id).status is Status.RESOLVED,
                                  timeout=30)
            assert await wait_for(pilot, lambda: any(
                "Resolved" in e.text for e in screen.query_one("TimelineView").entries))
            assert ("health:payments", "UP") in system_states()
            assert not demo.scenario.errors
    finally:
        demo.stop()
    assert not demo.tmp.exists()
    assert all(_port_closed(port) for port in ports)
    leftovers = [t.name for t in threading.enumerate() if t.name.startswith("demo-")]
    assert leftovers == []


def test_demo_services_speak_enough_http_for_a_health_check():
    import httpx

    from tui.demo.services import DemoServices

    services = DemoServices(clock=lambda: 31.0).start()     # 31 s in: payments 503, search 500
    try:
        urls = services.urls()
        with httpx.Client(timeout=5) as client:
            # Two requests on one kept-alive connection, and the scenario's answers.
            first = client.get(urls["auth"])
            second = client.get(urls["auth"])
            assert first.status_code == second.status_code == 200 and second.json() == {"status": "ok"}
            assert client.get(urls["payments"]).status_code == 503
            head = client.head(urls["search"])
            assert head.status_code == 500 and head.content == b"" and head.headers["content-length"] != "0"
            posted = client.post(urls["auth"], content=b"x" * 1000)      # a body is read past, not parsed
            assert posted.status_code == 200
        ports = [s.port for s in services.running]
        port = ports[0]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"not http at all\r\n\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.1 400 ")
            assert sock.recv(100) == b""            # and the connection is closed
    finally:
        services.stop()
    assert all(_port_closed(p) for p in ports)
    assert [t.name for t in threading.enumerate() if t.name == "demo-services"] == []
