"""Presenter mode's masking of hostnames and IP addresses."""
from __future__ import annotations

import socket
from dataclasses import dataclass

from tui.presenter import MASK, mask_hosts, mask_value


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
    assert mask_value((1.0, "db-1.prod.example.com")) == (1.0, MASK)
