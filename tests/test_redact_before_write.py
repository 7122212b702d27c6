"""Secrets are masked before anything is written, not only before it is drawn.

A ``${ENV}`` secret in a service URL came back in a redirect's Location under a
name that does not look secret (``?x=hunter2abc``); the detector wrote it into a
system entry as it was, and from the store it reached `warroom status` and every
export. The status and exports below run WITHOUT the config, so nothing but the
store's own text can hide the secret.
"""
from __future__ import annotations

import json
import sqlite3

from tui.app import WarroomApp
from tui.cli import main
from tui.config import load_config
from tui.incident.model import Kind, Severity
from tui.sources import build_panes, build_sources

from .servers import LocalHTTPServer
from .test_live_pilot import wait_for

SECRET = "hunter2abc"


def _cli(capsys, *argv: str) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


async def test_a_secret_in_a_redirect_reaches_no_store_row_status_or_export(tmp_path, store, capsys, monkeypatch):
    monkeypatch.delenv("WARROOM_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    with LocalHTTPServer() as http:
        http.route("/healthz", status=200, body=b"ok")
        (tmp_path / "conf").mkdir()
        config_path = tmp_path / "conf" / "warroom.toml"     # not ./warroom.toml: the CLI runs below go without it
        config_path.write_text(
            "[[services]]\n"
            'name = "payments"\n'
            f'url = "{http.url("/healthz")}?token=${{WR_TOKEN}}"\n'
            "interval = 0.5\n"
            "fail_threshold = 1\n", encoding="utf-8")
        config = load_config(config_path, env={"WR_TOKEN": SECRET})
        assert SECRET in config.secrets
        incident = store.declare("payments 503s", Severity.SEV2, author="ic")
        app = WarroomApp(store, incident.id, panes=build_panes(config), config=config, author="scribe",
                         sources_later=lambda: build_sources(config, incident=incident))
        async with app.run_test(size=(160, 48)) as pilot:
            screen = app.screen
            assert await wait_for(pilot, lambda: screen._snapshots.get("health") is not None
                                  and screen._snapshots["health"].services[0].state == "UP")
            # The service now redirects, echoing the token under an innocent name.
            http.route("/healthz", status=302, headers={"Location": f"/login?x={SECRET}&next=%2F"})

            def down_entry():
                return next((e for e in store.timeline(incident.id) if e.kind is Kind.SYSTEM
                             and e.meta.get("key") == "health:payments" and e.meta.get("state") == "DOWN"), None)

            assert await wait_for(pilot, lambda: down_entry() is not None)
            # The source really did say it: the pane's snapshot holds the redirect as it came.
            assert SECRET in screen._snapshots["health"].services[0].reason

    entry = down_entry()
    assert "redirect to" in entry.text and "x=***" in entry.text
    # The row itself, read past the store's own code: text and meta.
    with sqlite3.connect(store.path) as raw:
        rows = raw.execute("SELECT text, COALESCE(meta, '') FROM entries WHERE incident_id = ?",
                           (incident.id,)).fetchall()
    assert rows and not [r for r in rows if SECRET in r[0] or SECRET in r[1]]

    data_dir = str(store.data_dir)
    status = _cli(capsys, "status", "--data-dir", data_dir)
    assert "x=***" in status and SECRET not in status
    for fmt in ("md", "json", "csv"):
        exported = _cli(capsys, "export", "--format", fmt, "--data-dir", data_dir)
        assert SECRET not in exported, fmt
        if fmt != "md":      # the postmortem draft leaves routine system entries out
            assert "x=***" in exported, fmt
    json.loads(_cli(capsys, "export", "--format", "json", "--data-dir", data_dir))


async def test_every_system_write_of_the_dashboard_is_redacted(store, monkeypatch):
    """write_system is the one path: a failed post's text (from a webhook's answer) too."""
    from tui.config import Config

    inc = store.declare("x", Severity.SEV3, author="ic")
    app = WarroomApp(store, inc.id, config=Config(secrets=frozenset({SECRET})))
    async with app.run_test(size=(120, 40)) as pilot:
        app.screen.write_system([(f"receiver said: bad token {SECRET}", {"events": [["k", "S", 1, SECRET]]})],
                                source="tui")
        await pilot.pause()
    last = store.timeline(inc.id)[-1]
    assert last.text == "receiver said: bad token ***"
    assert last.meta == {"events": [["k", "S", 1, "***"]]}
