"""`warroom demo`: a self-contained simulated incident, cleaned up on any exit."""
from __future__ import annotations

import argparse

from .scenario import Demo


def build_app(demo: Demo, *, author: str = "", redact_hosts: bool = False, clock=None):
    from ..app import WarroomApp
    from ..sources import build_panes, build_sources
    from .host_sim import SimulatedHost  # the story's node, not this machine's load

    assert demo.store is not None and demo.incident is not None, "start() the demo first"
    config = demo.config()
    kwargs = {"clock": clock} if clock is not None else {}
    # As the dashboard: the panes drawn empty first, their sources built just after.
    return WarroomApp(demo.store, demo.incident.id, panes=build_panes(config), author=author or "you",
                      demo=True, redact_hosts=redact_hosts, config=config,
                      sources_later=lambda: build_sources(config, incident=demo.incident,
                                                          local_host=SimulatedHost(demo.clock, config.host)),
                      **kwargs)


def run(args: argparse.Namespace, author: str) -> int:
    from ..exit_guard import ExitGuard

    demo = Demo(speed=args.speed, data_dir=args.data_dir)
    # SIGTERM, SIGINT, and SIGHUP from a closed terminal or a dropped SSH session end the app
    # like Ctrl-Q, so the finally below still removes every server and temporary directory;
    # if the process must end before that, the guard removes the temporary directory itself.
    guard = ExitGuard(remove_on_hard_exit=demo.tmp)
    try:
        with guard:
            demo.start()
            guard.app = build_app(demo, author=author, redact_hosts=args.redact_hosts)
            guard.app.run()
    finally:
        demo.stop()
    if guard.exit_code is not None:
        return guard.exit_code
    if args.data_dir:
        print(f"demo incident kept in {args.data_dir} — try: warroom --data-dir {args.data_dir} export --format md")
    return 0
