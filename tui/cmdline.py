"""What every subcommand shares: the usage error, which config, which store, which incident.

``tui/cli.py`` (the parser, the light commands) and ``tui/launch.py`` (the heavy ones) both
use these; they live here so that neither imports the other's helpers (no cli <-> launch
cycle). Nothing here imports textual.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

# SQLite's INTEGER (and PostgreSQL's bigint): a larger incident number cannot exist.
MAX_INCIDENT_ID = 2**63 - 1


class UsageError(Exception):
    """Bad input: printed as one line, exit code 2."""


def load_config(args: argparse.Namespace) -> Any:
    from .config import default_config_path
    from .config import load_config as load

    return load(args.config or default_config_path())


def database_url(args: argparse.Namespace, config: Any = None) -> str | None:
    """--database, else $WARROOM_DATABASE_URL, else [store] url in the config; None: the SQLite file."""
    url = getattr(args, "database", None)
    if url:
        from .incident.store_pg import safe_url

        if safe_url(url) != url:
            raise UsageError("--database: a password on the command line is visible to every user in 'ps' — "
                             "put it in PGPASSWORD, ~/.pgpass or WARROOM_DATABASE_URL instead")
        return url
    if os.environ.get("WARROOM_DATABASE_URL"):
        return os.environ["WARROOM_DATABASE_URL"]
    return (config if config is not None else load_config(args)).store_url


def open_store(args: argparse.Namespace, config: Any = None, *, offline_ok: bool = False,
               read_only: bool = False) -> Any:
    """``read_only``: the reading commands open the SQLite file read-only and create nothing."""
    from .incident.stores import open_store as open_any

    return open_any(args.data_dir or None, database_url(args, config), offline_ok=offline_ok,
                    read_only=read_only)


def incident_number(args: argparse.Namespace) -> int | None:
    """--incident as a number (None: the active one); bad input is a UsageError."""
    ref = getattr(args, "incident", None)
    if not ref:
        return None
    text = str(ref).upper().removeprefix("INC-")
    if not text.isdigit() or not 0 < int(text) <= MAX_INCIDENT_ID:
        raise UsageError(f"not an incident id: {ref!r} — use the number or INC-N from 'warroom incidents'")
    return int(text)


def chosen_incident(store: Any, args: argparse.Namespace) -> Any:
    """--incident N (or INC-N), else the active incident (the store says, in one line, if none)."""
    number = incident_number(args)
    if number is not None:
        return store.incident(number)
    from .incident.store import NoActiveIncident

    try:
        return store.require_active()
    except NoActiveIncident:
        latest = store.incidents()[-1:]
        if not latest or not latest[0].resolved:
            raise
    # Not "declare one": that invites a duplicate of the incident just resolved.
    from .incident.safe_text import one_line

    inc = latest[0]
    when = f" at {inc.resolved_at:%H:%M} UTC" if inc.resolved_at is not None else ""
    raise UsageError(f"no active incident: {inc.ref} ({one_line(inc.title)}) was resolved{when} — add to it with "
                     f"--incident {inc.ref}, or declare a new one with 'warroom declare --title T --sev N'")
