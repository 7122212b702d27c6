"""Which store to open: the local SQLite file, or a shared PostgreSQL server when a URL is given.

The URL comes from ``--database``, ``$WARROOM_DATABASE_URL`` or ``[store] url`` (the CLI
resolves that order); no URL means the SQLite file in the data directory, as always.
"""
from __future__ import annotations

from pathlib import Path

from .store import Store


def open_store(data_dir: str | Path | None = None, url: str | None = None, *, offline_ok: bool = False) -> Store:
    """``offline_ok``: a shared server that cannot be reached is not an error; writes wait in the outbox."""
    if not url:
        return Store(data_dir)
    from .store_pg import PgStore  # psycopg is imported only for a shared store

    return PgStore(url, data_dir, offline_ok=offline_ok)
