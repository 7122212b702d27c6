"""Row mapping for the SQLite store: database rows to ``Entry`` objects, fast.

Split out of ``tui.incident.store``; ``_row_to_entry`` skips the dataclass ``__init__``
because loading 100k entries is on the start-up path.
"""

from __future__ import annotations

import dataclasses
import gc
import json
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator

from .model import (
    Entry,
    Kind,
    from_ms,
)

_ENTRY_COLUMNS = "seq, entry_id, rev, incident_id, ts_ms, kind, author, text, source, recorded_ms, meta"
_KINDS = {k.value: k for k in Kind}



_ENTRY_FIELDS = ("seq", "entry_id", "rev", "incident_id", "ts", "kind", "author", "text", "source", "recorded_at", "meta")
assert tuple(f.name for f in dataclasses.fields(Entry)) == _ENTRY_FIELDS, "keep _row_to_entry in step with Entry"
_new_entry = object.__new__
_fromtimestamp = datetime.fromtimestamp
_loads = json.loads


def _row_to_entry(row: tuple[Any, ...]) -> Entry:
    seq, entry_id, rev, incident_id, ts_ms, kind, author, text, source, recorded_ms, meta = row
    ts = _fromtimestamp(ts_ms / 1000, timezone.utc)
    # Most entries are recorded when they happen: share one datetime for both.
    recorded_at = ts if recorded_ms == ts_ms else _fromtimestamp(recorded_ms / 1000, timezone.utc)
    entry = _new_entry(Entry)
    entry.__dict__.update(
        seq=seq, entry_id=entry_id, rev=rev, incident_id=incident_id, ts=ts, kind=_KINDS[kind], author=author,
        text=text, source=source, recorded_at=recorded_at, meta=_loads(meta) if meta else {},
    )
    return entry



def _opt_ms(value: int | None) -> datetime | None:
    return None if value is None else from_ms(value)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many acyclic objects.

    Loading 100k entries allocates a few hundred thousand tracked objects, and the
    collector's full passes over that growing heap cost as much as the loading
    itself. Nothing built here forms a cycle, so nothing is left for it to find.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
