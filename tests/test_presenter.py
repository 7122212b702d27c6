"""Presenter mode's masking of hostnames and IP addresses."""
from __future__ import annotations

import socket
from dataclasses import dataclass

from tui.presenter import MASK, Hosts, mask_hosts, mask_value


def test_masks_ips_urls_and_fqdns():
    text = ("GET https://payments.internal:8443/healthz from 10.2.3.4 via fe80::1ff:fe23:4567:890a "
            "node ip-10-0-1-23.ec2.internal, db-prod-1.corp")
    out = mask_hosts(text)
    for secret in ("payments.internal", "10.2.3.4", "fe80::1ff", "ip-10-0-1-23", "db-prod-1.corp"):
        assert secret not in out
    assert out.startswith(f"GET https://{MASK}:8443/healthz")


def test_leaves_times_versions_and_files_alone():
    text = "14:05:00 deploy v2.3.1 edited warroom.toml and README.md; p99 4.2 s"
    assert mask_hosts(text) == text


def test_masks_own_hostname():
    name = socket.gethostname()
    if len(name) >= 3 and name != "localhost":
        assert name not in mask_hosts(f"host {name} at 96%")


@dataclass(frozen=True)
class Inner:
    node: str
    count: int


@dataclass(frozen=True)
class Outer:
    title: str
    items: tuple
    error: str | None = None


def test_mask_value_walks_frozen_snapshots():
    snap = Outer("host db-1.internal", (Inner("10.0.0.7", 3), Inner("node-1", 1)), error="refused (http://10.1.1.1:6443)")
    out = mask_value(snap)
    assert out.title == f"host {MASK}"
    assert out.items[0] == Inner(MASK, 3) and out.items[1] is snap.items[1]
    assert "10.1.1.1" not in out.error
    assert mask_value(snap, lambda s: s) is snap   # nothing changed: the same object


def test_mask_value_keeps_enum_members():
    import enum

    class State(str, enum.Enum):
        UP = "UP"

    @dataclass(frozen=True)
    class Row:
        state: State
        url: str

    out = mask_value(Row(State.UP, "http://10.0.0.1/x"))
    assert out.state is State.UP and "10.0.0.1" not in out.url


def test_mask_value_memo_reuses_the_masked_copy_of_unchanged_items():
    same, changed = Inner("10.0.0.7", 3), Inner("10.0.0.8", 1)
    walked: list[str] = []

    def fn(text: str) -> str:
        walked.append(text)
        return mask_hosts(text)

    memo: tuple[dict, dict] = ({}, {})
    first = mask_value(Outer("a", (same, changed)), fn, memo)
    memo = (memo[1], {})
    walked.clear()
    moved = Inner("10.0.0.8", 2)                      # a new object for the changed item
    second = mask_value(Outer("b", (same, moved)), fn, memo)
    assert second.items[0] is first.items[0]         # not walked again: the same masked object
    assert second.items[1] == Inner(MASK, 2)
    assert walked == ["b", "10.0.0.8"]
    assert set(memo[1]) == {id(same), id(moved)}      # only this call's items are kept


def test_mask_value_hands_number_series_back_as_they_are_and_still_masks_mixed_tuples():
    history = tuple(float(i) for i in range(200)) + (None, 3, True)
    assert mask_value(history) is history
    assert mask_value((1.0, "db-2.payments.svc.cluster.local")) == (1.0, MASK)


# ---- issue 17: mask what is a host of ours, not every dotted word

def test_public_names_in_commit_subjects_stay():
    for text in ("bump github.com/mdlayher/wifi to v0.3", "see docs.python.org for asyncio",
                 "move to golang.org/x/net", "pin example.com fixtures"):
        assert mask_hosts(text, Hosts(())) == text


def test_private_names_and_ips_are_masked_whoever_reports_them():
    out = mask_hosts("failover to db-2.payments.svc.cluster.local (10.3.0.9) from ip-10-0-1-23.ec2.internal",
                     Hosts(()))
    assert out == f"failover to {MASK} ({MASK}) from {MASK}"


def test_this_machines_names_whatever_their_length(monkeypatch):
    from tui import presenter

    monkeypatch.setattr(socket, "gethostname", lambda: "db1")
    monkeypatch.setattr(socket, "getfqdn", lambda: "db1.payments.example.com")
    presenter._own_hostnames.cache_clear()
    try:
        hosts = Hosts()
        out = hosts.mask("db1 at 96% cpu; db1.payments.example.com swapping; db10 fine; db1-replica fine")
        assert out == f"{MASK} at 96% cpu; {MASK} swapping; db10 fine; db1-replica fine"
        monkeypatch.setattr(socket, "gethostname", lambda: "vm")       # two letters: still ours
        monkeypatch.setattr(socket, "getfqdn", lambda: "vm")
        presenter._own_hostnames.cache_clear()
        assert Hosts().mask("host vm: load 4") == f"host {MASK}: load 4"
    finally:
        presenter._own_hostnames.cache_clear()


def test_node_names_and_service_hosts_are_learned_from_snapshots():
    from datetime import datetime, timezone

    from checks.base import Level
    from checks.health import HealthSnapshot, ServiceStatus, State
    from checks.pods import PodsSnapshot, PodStatus

    t = datetime(2026, 11, 21, 14, 30, tzinfo=timezone.utc)
    pod = PodStatus(namespace="edge", name="web-7a3e-b9q4m", phase="Running", status="Running",
                    ready="1/1", ready_containers=1, total_containers=1, restarts=0,
                    node="worker3", created_at=t)
    pods = PodsSnapshot(taken_at=t, pods=(pod,), synced=True, context="prod", namespaces=("edge",),
                        total=1, level=Level.OK, summary="1 pod")
    service = ServiceStatus(name="ledger", url="http://ledger-primary:8080/healthz", state=State.DOWN,
                            reason="connection refused", status_code=None, latency_ms=None, history=(),
                            consecutive_failures=3, since=t, checked_at=t)
    health = HealthSnapshot(taken_at=t, level=Level.CRIT, summary="ledger DOWN", error=None, services=(service,))
    hosts = Hosts(())
    before = hosts.generation
    hosts.learn(pods)
    hosts.learn(health)
    assert hosts.generation > before
    masked = mask_value(pods, hosts.mask)
    assert masked.pods[0].node == MASK and masked.pods[0].name == "web-7a3e-b9q4m"
    assert hosts.mask("evicted from worker3; ledger-primary:8080 refused; worker30 ok") \
        == f"evicted from {MASK}; {MASK}:8080 refused; worker30 ok"
    assert mask_value(health, hosts.mask).services[0].name == "ledger"


async def test_presenter_masks_node_names_and_keeps_public_names(store):
    from tests.samples import feed_samples, sample_app

    app = sample_app(store)
    async with app.run_test(size=(160, 48)) as pilot:
        await feed_samples(pilot)
        await pilot.press("P")
        await pilot.pause()
        await feed_samples(pilot)          # the next snapshots, masked as they arrive
        pods = app.panes["pods"].table
        nodes = {str(pods.get_cell(key, "node")) for key in app.panes["pods"].row_keys}
        assert nodes == {MASK}             # prod-eu-node-1 … : no dots, still hosts of ours
        assert "github.com" in app.redact("bump github.com/mdlayher/wifi")
        assert MASK in app.redact("prod-eu-node-3 is NotReady")
