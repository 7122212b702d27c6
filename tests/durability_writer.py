"""A writer process for the durability tests (tests/test_durability.py).

    python -m tests.durability_writer DATA_DIR --incident N --tag T [--count C] [--wait]
    python -m tests.durability_writer DATA_DIR --open-only [--wait]

Appends entries with deterministic text (:func:`text_for`) and prints one line
``<entry_id> <index>`` per entry, flushed, only after ``Store.append`` returned:
a printed line is an acknowledgement, so the test may kill this process at any
moment and still demand every printed entry back. ``--count 0`` writes until
killed. ``--wait`` prints ``ready`` and blocks on one line of standard input
first, so several writers can be released at the same instant (no sleeps).
Store errors go to stderr as one line, exit status 3.
"""
from __future__ import annotations

import argparse
import sys

from tui.incident.model import Kind
from tui.incident.store import Store, StoreError


def text_for(tag: str, index: int) -> str:
    """The text of entry ``index`` of writer ``tag``; varied length and non-ASCII on purpose."""
    return f"{tag} #{index} ✓ payments-db lag {index * 7 % 1000} ms — שלום [b]x[/b] " + "·" * (index % 41)


def parse_text(text: str) -> tuple[str, int] | None:
    """``(tag, index)`` back from a :func:`text_for` text, None for anything else."""
    head, sep, _ = text.partition(" ✓ ")
    tag, hash_, index = head.rpartition(" #")
    if not sep or not hash_ or not index.isdigit():
        return None
    return tag, int(index)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="durability_writer")
    parser.add_argument("data_dir")
    parser.add_argument("--incident", type=int)
    parser.add_argument("--tag", default="w")
    parser.add_argument("--count", type=int, default=0, help="entries to write; 0 = until killed")
    parser.add_argument("--open-only", action="store_true", help="open the store, print its schema version, exit")
    parser.add_argument("--wait", action="store_true", help="print 'ready', then wait for a line on stdin")
    args = parser.parse_args(argv)
    out = sys.stdout

    if args.wait:
        print("ready", file=out, flush=True)
        sys.stdin.readline()
    try:
        with Store(args.data_dir) as store:
            if args.open_only:
                print("opened", file=out, flush=True)
                return 0
            index = 0
            while args.count == 0 or index < args.count:
                entry = store.append(args.incident, Kind.NOTE, text_for(args.tag, index),
                                     author=args.tag, source="durability")
                print(f"{entry.entry_id} {index}", file=out, flush=True)
                index += 1
    except StoreError as exc:
        print(f"durability_writer: {exc}", file=sys.stderr, flush=True)
        return 3
    except BrokenPipeError:  # the test stopped reading; nothing left to acknowledge to
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
