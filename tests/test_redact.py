"""Redaction: configured secrets and secret-shaped text never leave through a draft, an export or a post."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_export import T0, entry, fixed_record
from tests.test_notify import Receiver
from tui.incident.export import export_csv, export_json, export_markdown
from tui.incident.model import Kind
from tui.incident.notify import post_update
from tui.incident.redact import MASK, Redactor, url_origin
from tui.incident.specs import NotifySpec
from tui.incident.templates import TEMPLATES, build_context, render_update

SECRET = "hunter2-S3cr3t-Val"       # as Config.secrets would hold it (a ${ENV} expansion)
HEADER_TOKEN = "tok_live_9f8e7d6c5b"  # a header value from config


def test_configured_secrets_are_masked_longest_first() -> None:
    r = Redactor(["abcd", "abcdefgh", "xy"])
    assert r.text("key abcdefgh and abcd and xy") == f"key {MASK} and {MASK} and xy"


def test_short_values_are_ignored() -> None:
    assert Redactor(["abc", "", "   "]).text("abc") == "abc"


def test_percent_encoded_secret_is_masked() -> None:
    r = Redactor(["p@ss word/1"])
    assert "p%40ss" not in r.text("https://h/x?q=p%40ss%20word%2F1")


def test_url_credentials() -> None:
    assert Redactor().text("see https://ops:pa55@db.internal:5432/x") == "see https://***@db.internal:5432/x"
    assert Redactor().text("git clone https://token123@github.com/o/r") == "git clone https://***@github.com/o/r"


def test_token_like_query_parameters() -> None:
    text = "https://h/p?page=2&TOKEN=a1&access_token=b2&api_key=c3&apikey=d4&key=e5&secret=f6" \
           "&password=g7&sig=h8&signature=i9&Auth=j0&client_secret=k1&X-Amz-Signature=l2#frag"
    out = Redactor().text(text)
    for value in ("a1", "b2", "c3", "d4", "e5", "f6", "g7", "h8", "i9", "j0", "k1", "l2"):
        assert f"={value}" not in out
    assert "page=2" in out and out.endswith("#frag")


def test_bearer_and_authorization() -> None:
    r = Redactor()
    assert r.text("Authorization: Bearer eyJhbGciOi.x-y_z") == "Authorization: Bearer ***"
    assert r.text('{"authorization": "Basic dXNlcjpwYXNz"}') == '{"authorization": "Basic ***"}'
    assert r.text("curl -H 'Bearer abc123def'") == "curl -H 'Bearer ***'"
    # Prose survives.
    assert r.text("the bearer of bad news") == "the bearer of bad news"


def test_slack_webhook_urls() -> None:
    out = Redactor().text("posting to https://hooks.slack.com/services/T000/B000/XXXXXXXX now")
    assert out == "posting to https://hooks.slack.com/*** now"


def test_url_origin_hides_path_query_and_userinfo() -> None:
    assert url_origin("https://u:p@hooks.slack.com/services/T/B/X?x=1") == "https://hooks.slack.com/…"
    assert url_origin("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    assert url_origin("not a url") == "(invalid URL)"


def test_data_redacts_nested_strings() -> None:
    r = Redactor([SECRET])
    assert r.data({"a": [SECRET, {"b": f"x{SECRET}"}], SECRET: 1, "n": 2}) == {
        "a": [MASK, {"b": f"x{MASK}"}], MASK: 1, "n": 2}


_PIECES = ["a", "b", "ab", "abab", " ", ":", "/", "@", "?", "&", "=", "_", "-", ".", "*", "https://", "token",
           "token=", "key=", "Bearer ", "Authorization: ", "hooks.slack.com/services/", "%40"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=25).map("".join))
def test_redaction_is_idempotent(text: str) -> None:
    r = Redactor(["abab", "token"])
    once = r.text(text)
    assert r.text(once) == once


# -- end to end: nothing leaks ---------------------------------------------------------

def _planted_record():
    """The golden incident with the secret planted in entry text, URL credentials, a webhook URL and a header."""
    rec = fixed_record()
    extra = [
        entry(90, 90, 1, T0 + timedelta(minutes=21), Kind.NOTE, "bob",
              f"Tried the admin API with token {SECRET}, and Authorization: Bearer {HEADER_TOKEN}"),
        entry(91, 91, 1, T0 + timedelta(minutes=22), Kind.FINDING, "bob",
              f"Replica reachable at https://admin:{SECRET}@db.internal:5432/payments"),
        entry(92, 92, 1, T0 + timedelta(minutes=23), Kind.ACTION, "carol",
              f"Posted in https://hooks.slack.com/services/T01/B02/{SECRET} and "
              f"https://example.com/hook?token={SECRET}&x=1"),
        entry(93, 93, 1, T0 + timedelta(minutes=24), Kind.TODO, "carol", f"Rotate {SECRET} @carol due 2024-05-03"),
    ]
    incident = replace(rec.incident, title=f"Payments down ({SECRET})")
    return incident, list(rec.revisions) + extra, rec.checklist, rec.followups


def _assert_clean(text: str) -> None:
    assert SECRET not in text
    assert HEADER_TOKEN not in text
    assert "S3cr3t" not in text


def test_no_secret_in_any_export() -> None:
    incident, revisions, checklist, followups = _planted_record()
    redactor = Redactor([SECRET, HEADER_TOKEN])
    now = T0 + timedelta(hours=2)
    for exporter in (export_markdown, export_json, export_csv):
        out = exporter(incident, revisions, checklist, followups, redactor=redactor, now=now)
        _assert_clean(out)
    # The JSON is still valid and the masked entry is still there.
    doc = json.loads(export_json(incident, revisions, checklist, followups, redactor=redactor, now=now))
    assert any(MASK in r["text"] for g in doc["entries"] for r in g["revisions"])


def test_no_secret_in_drafts() -> None:
    incident, revisions, checklist, followups = _planted_record()
    from tui.incident.export import current_revisions

    redactor = Redactor([SECRET, HEADER_TOKEN])
    ctx = build_context(incident, current_revisions(revisions), affected=[f"svc-{SECRET}"],
                        now=T0 + timedelta(hours=2), checklist=checklist, followups=followups)
    for name in TEMPLATES:
        _assert_clean(render_update(name, ctx, redactor=redactor))


def test_no_secret_in_post_bodies_or_errors() -> None:
    incident, revisions, checklist, followups = _planted_record()
    redactor = Redactor([SECRET, HEADER_TOKEN])
    with Receiver() as rx:
        rx.statuses.extend([500, 500, 500])
        targets = [
            NotifySpec(kind="slack", url=rx.url(f"/hook?token={SECRET}"), retries=0),
            NotifySpec(kind="json", url=rx.url("/audit").replace("http://", f"http://ops:{SECRET}@"), retries=0),
            NotifySpec(kind="json", url=rx.url(f"/T01/{SECRET}"), retries=0),
        ]
        text = f"Update: token {SECRET} / Bearer {HEADER_TOKEN}"
        results = post_update(text, targets, incident=incident, redactor=redactor, backoff=0.01)
        bodies = [b.decode() for b in rx.bodies]
    assert len(bodies) == 3
    for body in bodies:
        _assert_clean(body)
    for r in results:
        assert not r.ok and r.error == "HTTP 500: ok"
        _assert_clean(r.target_name + (r.error or ""))
