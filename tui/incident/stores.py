"""Which store to open: the local SQLite file, or a shared PostgreSQL server when a URL is given.

The URL comes from ``--database``, ``$WARROOM_DATABASE_URL`` or ``[store] url`` (the CLI
resolves that order); no URL means the SQLite file in the data directory, as always.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

from .store import Store


def open_store(data_dir: str | Path | None = None, url: str | None = None, *, offline_ok: bool = False,
               read_only: bool = False) -> Store:
    """``offline_ok``: a shared server that cannot be reached is not an error; writes wait in the outbox.
    ``read_only``: the SQLite file is opened read-only and nothing is created (the reading commands);
    a shared server is read as usual."""
    if not url:
        return Store(data_dir, read_only=read_only)
    from .store_pg import PgStore  # psycopg is imported only for a shared store

    return PgStore(url, data_dir, offline_ok=offline_ok)


# Every operation that changes a store. A read-only view refuses them all.
WRITES = frozenset({
    "declare", "append", "append_many", "add_todo", "edit", "toggle_check", "set_severity", "set_status", "set_phase",
    "set_role", "set_title", "record_update_sent", "snooze_update", "complete_followup", "snooze_followup", "flush",
})


class ReadOnlyStore:
    """`warroom --read-only`: the store's reads, and no writes at all (stakeholders, the screen-share audience).

    The dashboard also hides every key that writes; this makes sure nothing else can.
    """

    read_only = True

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        if name in WRITES:
            def refused(*args: Any, **kwargs: Any) -> NoReturn:
                from .store import StoreError

                raise StoreError("this is a read-only view (--read-only): nothing is written — "
                                 "run warroom without --read-only to write")
            return refused
        return getattr(self._store, name)

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> "ReadOnlyStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
