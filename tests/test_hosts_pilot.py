"""[[hosts]] end to end: warroom.toml checked with file:line, and the host pane inside the real
dashboard showing a real node_exporter (Debian's prometheus-node-exporter) next to this machine."""
from __future__ import annotations

from pathlib import Path

from checks.specs import KubeSpec, RemoteHostSpec
from tui.app import WarroomApp
from tui.config import Config, check_config, load_config
from tui.config.example import EXAMPLE_CONFIG
from tui.incident.model import Kind, Severity
from tui.sources import build_panes, build_sources
from widgets.host import HostPane

from .nodeexporter import NodeExporter, node_exporter  # noqa: F401 - a fixture
from .servers import refused_port
from .test_live_pilot import wait_for


def test_hosts_blocks_load_and_bad_ones_say_file_line_and_fix(tmp_path: Path):
    good = tmp_path / "good.toml"
    good.write_text('[[hosts]]\nname = "db-1"\nurl = "http://db-1:9100/metrics"\n'
                    'headers = { Authorization = "Bearer ${NODE_TOKEN}" }\ninterval = 2\ntimeout = 1.5\n')
    config = load_config(good, env={"NODE_TOKEN": "tok-node-1"})
    assert config.hosts == (RemoteHostSpec("db-1", "http://db-1:9100/metrics",
                                           (("Authorization", "Bearer tok-node-1"),), 2.0, 1.5),)
    assert "tok-node-1" in config.secrets
    bad = tmp_path / "bad.toml"
    bad.write_text('[[hosts]]\nname = "db-1"\nurl = "ftp://db-1/metrics"\ninterval = 0.2\n\n'
                   '[[hosts]]\nurl = "http://db-2:9100/metrics"\ntimeot = 3\n\n'
                   '[[hosts]]\nname = "db-3"\nurl = "http://db-3:9100/metrics"\n\n'
                   '[[hosts]]\nname = "db-3"\nurl = "http://db-4:9100/metrics"\n')
    problems = check_config(bad, env={})
    assert problems == [
        f'{bad}:3: invalid URL "ftp://db-1/metrics" — use http:// or https://',
        f"{bad}:4: hosts[0].interval must be between 0.5 and 3600 (seconds), got 0.2 — write interval = 5 (seconds)",
        f'{bad}:6: [[hosts]] #2 has no name — add name = "db-1"',
        f'{bad}:8: unknown key "timeot" in [[hosts]] #2 — did you mean "timeout"?',
        f'{bad}:15: duplicate host name "db-3" (first at line 11) — give each [[hosts]] block its own name',
    ]


def test_the_example_config_shows_hosts(tmp_path: Path):
    assert "#[[hosts]]" in EXAMPLE_CONFIG
    # Uncommented, the example's block is valid.
    block = EXAMPLE_CONFIG[EXAMPLE_CONFIG.index("#[[hosts]]"):].split("\n\n")[0]
    path = tmp_path / "w.toml"
    path.write_text("\n".join(line[1:] for line in block.splitlines() if line.startswith("#")) + "\n")
    assert check_config(path, env={"NODE_TOKEN": "t"}) == []
    assert load_config(path, env={"NODE_TOKEN": "t"}).hosts[0].name == "db-1"


async def test_dashboard_shows_a_remote_host_next_to_this_machine_and_its_outage(store, node_exporter: NodeExporter):  # noqa: F811
    config = Config(kubernetes=KubeSpec(enabled=False),
                    hosts=(RemoteHostSpec("db-1", node_exporter.url, interval=0.5, timeout=1.0),
                           RemoteHostSpec("cache-2", f"http://127.0.0.1:{refused_port()}/metrics", interval=0.5)))
    incident = store.declare("db slow", Severity.SEV2, author="ic")
    app = WarroomApp(store, incident.id, panes=build_panes(config), config=config, author="scribe",
                     sources_later=lambda: build_sources(config, incident=incident))
    async with app.run_test(size=(160, 48)) as pilot:
        pane = app.screen.query_one(HostPane)

        def remote(name):
            return next((r for r in pane.remotes if r.hostname == name), None)

        assert await wait_for(pilot, lambda: remote("db-1") is not None and remote("db-1").cpu is not None)
        assert await wait_for(pilot, lambda: remote("cache-2") is not None and remote("cache-2").error is not None)
        await pilot.pause()
        lines = [line.plain for line in pane.build_lines(pane.content_size.width, pane.content_size.height)]
        text = "\n".join(lines)
        assert "· this machine" in lines[0]
        assert any(line.startswith("▸ db-1") for line in lines)
        assert any(line.startswith("▸ cache-2") and "not answering" in line for line in lines)
        assert "connection refused" in text
        assert pane.has_class("-crit") and "cache-2 not answering" in str(pane.border_subtitle)
        assert "+ 2 more" in str(pane.border_title)

        # It stops answering mid-incident: its rows turn red with the reason, and the timeline says so.
        node_exporter.stop()
        assert await wait_for(pilot, lambda: remote("db-1").error is not None)

        def written():
            return [e.text for e in store.timeline(incident.id) if e.kind is Kind.SYSTEM]
        assert await wait_for(pilot, lambda: any("host db-1 not answering" in t for t in written()))
        node_exporter.start()
        assert await wait_for(pilot, lambda: remote("db-1").error is None, timeout=20)
        assert await wait_for(pilot, lambda: any("host db-1 answering again" in t for t in written()))
