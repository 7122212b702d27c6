"""`warroom set …` and `warroom mark …`: what the postmortem needs, recorded during the incident (issue 17).

  warroom set impact --users "~12k" --revenue "$38k" --data-loss no --sla-breach yes
  warroom set factor "the pool size was never load-tested"
  warroom set resolution --mitigation "rolled back" --fix "size the pool from peak load"
  warroom set action-item 12 --owner @dave --priority P2 --due 2026-12-15   (or --not-follow-up)
  warroom mark root-cause [--at 14:05 | --at 10m ago]      (notified, root-cause, fix-deployed)

Each writes one timeline entry (tui/incident/review.py); no textual is imported. cli.py's
helpers (opening the store, finding the incident, the author) are passed in, so this module
does not import cli.py (no import cycle).
"""
from __future__ import annotations

import argparse
from typing import Any, Callable

Helpers = dict[str, Callable[..., Any]]


def _record(helpers: Helpers, args: argparse.Namespace, build: Callable[[Any, Any], tuple]) -> int:
    """Open the store, find the incident, append what ``build(store, incident)`` makes, say so."""
    from .incident.safe_text import one_line

    with helpers["open_store"](args) as store:
        incident = helpers["incident"](store, args)
        kind, text, meta, *at = build(store, incident)
        entry = store.append(incident.id, kind, text, author=helpers["author"](args), source="cli",
                             meta=meta, ts=at[0] if at else None)
    print(f"{incident.ref} #{entry.entry_id} {one_line(entry.text)}")
    return 0


def _yes_no(text: str | None, what: str) -> bool | None:
    from .incident.review import parse_yes_no

    return None if text is None else parse_yes_no(text, what)


def cmd_set_impact(helpers: Helpers, args: argparse.Namespace) -> int:
    from .incident.review import impact_entry

    data_loss, sla = _yes_no(args.data_loss, "--data-loss"), _yes_no(args.sla_breach, "--sla-breach")
    made = impact_entry(args.users, args.revenue, data_loss, sla)   # refuses before the store is opened
    return _record(helpers, args, lambda store, inc: made)


def cmd_set_factor(helpers: Helpers, args: argparse.Namespace) -> int:
    from .incident.review import factor_entry

    made = factor_entry(" ".join(args.text))
    return _record(helpers, args, lambda store, inc: made)


def cmd_set_resolution(helpers: Helpers, args: argparse.Namespace) -> int:
    from .incident.review import resolution_entry

    made = resolution_entry(args.mitigation, args.fix)
    return _record(helpers, args, lambda store, inc: made)


def cmd_set_action_item(helpers: Helpers, args: argparse.Namespace) -> int:
    from .incident.model import Kind
    from .incident.review import action_item_entry, parse_due, parse_priority

    text = str(args.entry).lstrip("#")
    if not text.isdigit():
        raise ValueError(f"not an entry id: {args.entry!r} — use the todo's number (#N in 'warroom export' "
                         "and the dashboard's entry detail)")
    if args.priority is not None:
        parse_priority(args.priority)     # says what is wrong before the store is opened

    def build(store: Any, incident: Any) -> tuple:
        todo = next((e for e in store.timeline(incident.id) if e.entry_id == int(text)), None)
        if todo is None:
            todos = [f"#{e.entry_id}" for e in store.timeline(incident.id) if e.kind is Kind.TODO]
            raise ValueError(f"no entry #{text} in {incident.ref} — its todos are {', '.join(todos) or 'none yet'}")
        due = None if args.due is None else parse_due(args.due, incident.started_at.date())
        return action_item_entry(todo, owner=args.owner, priority=args.priority, due=due,
                                 follow_up=not args.not_follow_up)

    return _record(helpers, args, build)


def cmd_mark(helpers: Helpers, args: argparse.Namespace) -> int:
    from .incident.model import utcnow
    from .incident.review import milestone_entry, parse_milestone
    from .incident.when import parse_impact_start

    name = parse_milestone(args.milestone)
    at_text = " ".join(args.at) if args.at else ""
    try:
        at = parse_impact_start(at_text, utcnow())
    except ValueError as exc:
        said = str(exc).replace("impact cannot start in the future", "a milestone cannot be in the future")
        raise ValueError(f"--at: {said.replace('; Enter for now', '; default now')}") from None

    def build(store: Any, incident: Any) -> tuple:
        if at < incident.started_at:
            raise ValueError(f"--at {at:%Y-%m-%d %H:%M} UTC is before {incident.ref}'s impact started "
                             f"({incident.started_at:%Y-%m-%d %H:%M} UTC) — give a later time")
        return (*milestone_entry(name, at), at)

    return _record(helpers, args, build)


def add_review_commands(sub: Any, common: argparse.ArgumentParser, helpers: Helpers) -> None:
    """`set` and `mark`, for cli.py's parser."""
    def bind(fn: Callable[[Helpers, argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        return lambda args: fn(helpers, args)

    def who(p: argparse.ArgumentParser) -> None:
        p.add_argument("--incident", help="INC-N (default: the active incident)")
        p.add_argument("--author", help="default $WARROOM_AUTHOR or the login name")

    p = sub.add_parser("set", help="record the postmortem's impact, factors, resolution, action items",
                       parents=[common], description="record what the postmortem needs, during the incident")
    what = p.add_subparsers(dest="set_what", metavar="WHAT", required=True, parser_class=type(p))
    q = what.add_parser("impact", parents=[common], help="users affected, revenue impact, data loss, SLA breach")
    q.set_defaults(func=bind(cmd_set_impact))
    q.add_argument("--users", metavar="TEXT", help="users affected, e.g. '~12,000 checkouts' or 'all EU users'")
    q.add_argument("--revenue", metavar="TEXT", help="revenue impact, e.g. '$38k delayed' or 'none'")
    q.add_argument("--data-loss", metavar="yes|no")
    q.add_argument("--sla-breach", metavar="yes|no")
    who(q)
    q = what.add_parser("factor", parents=[common], help="add a contributing factor")
    q.set_defaults(func=bind(cmd_set_factor))
    q.add_argument("text", nargs="+")
    who(q)
    q = what.add_parser("resolution", parents=[common], help="the immediate mitigation and the permanent fix")
    q.set_defaults(func=bind(cmd_set_resolution))
    q.add_argument("--mitigation", metavar="TEXT", help="what stopped the impact")
    q.add_argument("--fix", metavar="TEXT", help="what removes the cause for good")
    who(q)
    q = what.add_parser("action-item", parents=[common],
                        help="mark a todo as follow-up work after the incident: owner, priority, due date")
    q.set_defaults(func=bind(cmd_set_action_item))
    q.add_argument("entry", metavar="ID", help="the todo's entry id (#N)")
    q.add_argument("--owner", metavar="WHO")
    q.add_argument("--priority", metavar="P1-P4")
    q.add_argument("--due", metavar="YYYY-MM-DD")
    q.add_argument("--not-follow-up", action="store_true", help="the todo was in-incident work, not an action item")
    who(q)

    p = sub.add_parser("mark", parents=[common], help="mark a milestone: notified, root-cause, fix-deployed",
                       description="mark a milestone of the incident (now, or --at a time)")
    p.set_defaults(func=bind(cmd_mark))
    p.add_argument("milestone", help="notified, root-cause or fix-deployed")
    p.add_argument("--at", nargs="+", metavar="TIME", help="HH:MM (UTC), '10m ago' or ISO 8601; default now")
    who(p)
