"""`warroom` command line. Bad input exits 2 with one line: what, where, how to mend.

Subcommands that only touch the store (log, status, declare …) never import
textual, so `warroom log` from a second terminal answers in a blink.
"""
from __future__ import annotations

import getpass
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:     # argparse (and gettext) are imported only when the parser is built
    import argparse

EXIT_USAGE = 2
# What a shell reports for a command killed by SIGPIPE (128 + 13): `warroom status | head`
# ends like any other Unix tool whose reader went away, without a word.
EXIT_CLOSED_PIPE = 141
# SQLite's INTEGER (and PostgreSQL's bigint): a larger incident number cannot exist.
_MAX_ID = 2**63 - 1


class UsageError(Exception):
    """Bad input: printed as one line, exit code 2."""


def _one_line_parser() -> type:
    import argparse

    class OneLineParser(argparse.ArgumentParser):
        def error(self, message: str) -> None:  # argparse's default prints the whole usage block
            self.exit(EXIT_USAGE, f"{self.prog}: {message} — see '{self.prog} --help'\n")

    return OneLineParser


def _author(args: argparse.Namespace) -> str:
    if getattr(args, "author", None):
        return args.author
    if os.environ.get("WARROOM_AUTHOR"):
        return os.environ["WARROOM_AUTHOR"]
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def _parse_time(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        when = when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)
    except (ValueError, OverflowError):   # OverflowError: 0001-01-01T00:00+14:00 is before year 1 in UTC
        raise UsageError(f"not a time: {text!r} — use ISO 8601, e.g. 2026-11-21T14:05:00Z") from None
    if when.year < 1970:
        raise UsageError(f"{text!r} is before 1970 — give the time the incident happened, e.g. 2026-11-21T14:05:00Z")
    return when


def _open_store(args: argparse.Namespace, *, read_only: bool = False):
    from .incident.store import Store

    return Store(args.data_dir or None, read_only=read_only)


def _incident(store, args: argparse.Namespace):
    ref = getattr(args, "incident", None)
    if ref:
        text = str(ref).upper().removeprefix("INC-")
        if not text.isdigit() or not 0 < int(text) <= _MAX_ID:
            raise UsageError(f"not an incident id: {ref!r} — use the number or INC-N from 'warroom incidents'")
        return store.incident(int(text))
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


def _load_config(args: argparse.Namespace):
    from .config import default_config_path, load_config

    path = args.config or default_config_path()
    return load_config(path)


# -- commands ------------------------------------------------------------------


def cmd_declare(args: argparse.Namespace) -> int:
    from .incident.model import Severity

    try:
        severity = Severity.parse(args.sev)
    except ValueError as exc:
        raise UsageError(f"--sev: {exc}") from None
    config = _load_config(args)
    roles = {role: getattr(args, role) for role in ("commander", "deputy", "scribe", "comms") if getattr(args, role)}
    with _open_store(args) as store:
        still_open = store.active_incident()
        incident = store.declare(
            args.title, severity, author=_author(args), source="cli",
            started_at=_parse_time(args.started) if args.started else None, roles=roles,
            cadence=_cadence(config), escalate_after=_escalate_after(config), checklists=_checklists(config),
        )
    print(incident.ref)
    if still_open is not None:
        print(f"note: {still_open.ref} ({still_open.title}) is still open; {incident.ref} is now the active one",
              file=sys.stderr)
    return 0


def _cadence(config):
    from .incident.model import DEFAULT_CADENCE, Severity

    cadence = dict(DEFAULT_CADENCE)
    for name, minutes in (config.incident.cadence_minutes or {}).items():
        cadence[Severity.parse(name)] = minutes or None
    return cadence


def _escalate_after(config):
    from datetime import timedelta

    return timedelta(minutes=config.incident.escalate_after_minutes)


def _checklists(config):
    from .incident.model import Phase

    return {Phase.parse(name): tuple(items) for name, items in (config.incident.checklists or {}).items()}


def cmd_log(args: argparse.Namespace) -> int:
    from .incident.model import Kind

    try:
        kind = Kind.parse(args.kind)
    except ValueError as exc:
        raise UsageError(f"--kind: {exc}") from None
    if kind is Kind.SYSTEM:
        raise UsageError("--kind system is warroom's own (what its detector saw) — use note, action, decision, "
                         "finding, mitigation, comms or todo")
    text = " ".join(args.text)
    if text == "-":
        text = sys.stdin.read().strip()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError("the text contains bytes that are not UTF-8 — check the terminal's locale "
                         "(e.g. export LANG=C.UTF-8) or pipe the text through iconv") from None
    if not text.strip():
        raise UsageError("nothing to log — give the entry's text, e.g. warroom log 'restarted payments-db'")
    with _open_store(args) as store:
        incident = _incident(store, args)
        if kind is Kind.TODO and args.follow_up:
            entry = store.add_todo(incident.id, text, follow_up_minutes=args.follow_up, author=_author(args), source="cli")
        else:
            entry = store.append(incident.id, kind, text, author=_author(args), source="cli",
                                 ts=_parse_time(args.at) if args.at else None)
    print(f"{incident.ref} #{entry.entry_id} {entry.ts:%H:%M:%S} UTC {entry.kind.value}: logged")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from .incident.model import fmt_duration, utcnow
    from .incident.timers import update_clock

    with _open_store(args, read_only=True) as store:
        inc = _incident(store, args)
        now = utcnow()
        checklist = store.checklist(inc.id)
        timeline = store.timeline(inc.id)
    phase_items = [it for it in checklist if it.phase == inc.phase]
    clock = update_clock(inc, now)
    print(f"{inc.ref}  {inc.severity.name}  {inc.status.value}  {inc.title}")
    print(f"  started   {inc.started_at:%Y-%m-%d %H:%M:%S} UTC   elapsed {fmt_duration(inc.elapsed(now))}")
    print(f"  phase     {inc.phase.value} ({sum(i.done for i in phase_items)}/{len(phase_items)} done)")
    if clock.deadline is not None:
        state = "OVERDUE by " + clock.text.lstrip("+") if clock.urgency.value == "overdue" else "in " + clock.text
        print(f"  next update {clock.deadline:%H:%M:%S} UTC ({state})")
    if inc.roles:
        print("  roles     " + ", ".join(f"{r}: {p}" for r, p in inc.roles.items()))
    print(f"  timeline  {len(timeline)} {'entry' if len(timeline) == 1 else 'entries'}")
    for entry in timeline[-5:]:
        print(f"    {entry.ts:%H:%M:%S} {entry.kind.value:<10} {entry.text}")
    return 0


def cmd_incidents(args: argparse.Namespace) -> int:
    from .incident.model import fmt_duration, utcnow
    from .incident.store import NoStore

    try:
        with _open_store(args, read_only=True) as store:
            incidents = store.incidents()
    except NoStore as exc:
        print(exc)
        return 0
    if not incidents:
        print("no incidents yet — declare one with 'warroom declare --title T --sev N'")
        return 0
    now = utcnow()
    for inc in incidents:
        print(f"{inc.ref:<8} {inc.severity.name}  {inc.status.value:<13} {inc.started_at:%Y-%m-%d %H:%M} UTC  "
              f"{fmt_duration(inc.elapsed(now))}  {inc.title}")
    return 0


def cmd_resolve(args: argparse.Namespace) -> int:
    from .incident.model import Status
    from .incident.still_red import describe, from_followups, from_timeline, still_red

    with _open_store(args) as store:
        inc = _incident(store, args)
        reds = [] if inc.resolved else still_red(from_timeline(store.timeline(inc.id)),
                                                 from_followups(store.followups(inc.id)))
        if reds and not args.yes:
            what = f"{inc.ref} still has red: {describe(reds)}"
            if not (sys.stdin.isatty() and sys.stderr.isatty()):
                raise UsageError(f"{what} — resolve anyway with 'warroom resolve --yes', or clear them first")
            print(what, file=sys.stderr)
            try:
                answer = input("Resolve anyway? [y/N] ")
            except EOFError:
                answer = ""
            if answer.strip().lower() not in ("y", "yes"):
                print(f"{inc.ref} not resolved")
                return 1
        store.set_status(inc.id, Status.RESOLVED, author=_author(args), source="cli")
    print(f"{inc.ref} resolved")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from .config import write_example

    path = Path(args.file)
    write_example(path)
    print(f"wrote {path} — edit it, then check it with 'warroom check-config {path}'")
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    from .config import check_config

    problems = check_config(args.file)
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        return EXIT_USAGE
    print(f"{args.file}: OK")
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    import gc

    from .launch import run_dashboard

    # Start-up builds tens of thousands of long-lived objects (modules, config, widgets, styles);
    # the cyclic collector, driven by that allocation, spent ~40 ms of it walking them and freed
    # nothing. The app resumes it once its first frame is drawn (WarroomApp.gc_paused).
    gc.disable()
    try:
        return run_dashboard(args, _load_config(args), _author(args))
    finally:
        gc.enable()


def cmd_demo(args: argparse.Namespace) -> int:
    from .launch import run_demo

    return run_demo(args, _author(args))


def cmd_export(args: argparse.Namespace) -> int:
    from .launch import run_export

    return run_export(args, _load_config(args))


def cmd_update(args: argparse.Namespace) -> int:
    from .launch import run_update

    return run_update(args, _load_config(args), _author(args))


# -- parser ---------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    import argparse

    OneLineParser = _one_line_parser()
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS lets the options stand before or after the subcommand.
    common.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS,
                        help="warroom.toml (default: $WARROOM_CONFIG, ./warroom.toml, then the user config dir)")
    common.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS,
                        help="where the incident store lives (default: $WARROOM_DATA_DIR or the user data dir)")

    parser = OneLineParser(prog="warroom", parents=[common],
                           description="A terminal dashboard for the person running a production incident.")
    parser.add_argument("--context", default=argparse.SUPPRESS, help="kubernetes context (as kubectl --context)")
    parser.add_argument("--redact-hosts", action="store_true", default=argparse.SUPPRESS,
                        help="mask hostnames and IPs on screen (for screen sharing)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)

    def add(name: str, help: str, fn) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, parents=[common])
        p.set_defaults(func=fn)
        return p

    p = add("demo", "run a self-contained simulated incident (nothing touches production)", cmd_demo)
    p.add_argument("--speed", type=float, default=1.0, help="time acceleration of the scenario (default 1)")
    p.add_argument("--redact-hosts", action="store_true", default=argparse.SUPPRESS, help="mask hostnames and IPs")

    p = add("declare", "open a new incident and print its id", cmd_declare)
    p.add_argument("--title", required=True)
    p.add_argument("--sev", required=True, help="1-4 or SEV1-SEV4")
    p.add_argument("--started", help="when impact started (ISO 8601, UTC), if before now")
    for role in ("commander", "deputy", "scribe", "comms"):
        p.add_argument(f"--{role}", metavar="NAME")
    p.add_argument("--author", help="who declares (default $WARROOM_AUTHOR or the login name)")

    p = add("log", "append an entry to the active incident's timeline", cmd_log)
    p.add_argument("--kind", default="note", help="note, action, decision, finding, mitigation, comms, todo")
    p.add_argument("--author", help="default $WARROOM_AUTHOR or the login name")
    p.add_argument("--incident", help="INC-N (default: the active incident)")
    p.add_argument("--at", help="when it happened, if not now (ISO 8601, UTC)")
    p.add_argument("--follow-up", type=float, metavar="MIN", help="with --kind todo: alert after MIN minutes")
    p.add_argument("text", nargs="+", help="the entry's text ('-' reads standard input)")

    p = add("status", "print the active incident's state", cmd_status)
    p.add_argument("--incident", help="INC-N (default: the active incident)")
    add("incidents", "list every incident", cmd_incidents)
    p = add("resolve", "mark the active incident resolved (asks first while something is still red)", cmd_resolve)
    p.add_argument("--incident", help="INC-N (default: the active incident)")
    p.add_argument("--yes", action="store_true",
                   help="resolve although services are DOWN, pods crash-loop or follow-ups are open")
    p.add_argument("--author")

    p = add("export", "write the postmortem draft (md) or the timeline (json, csv)", cmd_export)
    p.add_argument("--format", choices=("md", "json", "csv"), default="md")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    p.add_argument("--incident", help="INC-N (default: the active incident, else the latest)")

    p = add("update", "print the status update draft, or post it to the configured webhooks", cmd_update)
    p.add_argument("--template", choices=("initial", "progress", "resolved"), help="default: what fits the incident")
    p.add_argument("--post", action="store_true", help="post to the [[notify]] webhooks and log a comms entry")
    p.add_argument("--force", action="store_true",
                   help="with --post: also retry a post that timed out after sending (it may show twice)")
    p.add_argument("--incident", help="INC-N (default: the active incident)")
    p.add_argument("--author")

    p = add("init", "write a commented example warroom.toml", cmd_init)
    p.add_argument("file", nargs="?", default="warroom.toml")
    p = add("check-config", "validate a warroom.toml", cmd_check_config)
    p.add_argument("file")
    return parser


_DASHBOARD_OPTIONS = {"--config": "config", "--data-dir": "data_dir", "--context": "context"}


def _dashboard_only(argv: Sequence[str]) -> SimpleNamespace | None:
    """The plain dashboard's arguments (options given in full, each with a value), without
    building the parser (or importing argparse): ~3 ms of start-up. Anything else (a
    subcommand, --help, an abbreviation, a value argparse would refuse) -> None."""
    args = SimpleNamespace()
    i = 0
    while i < len(argv):
        token = argv[i]
        name, eq, value = token.partition("=")
        if token == "--redact-hosts":
            args.redact_hosts = True
        elif name in _DASHBOARD_OPTIONS and eq:
            setattr(args, _DASHBOARD_OPTIONS[name], value)
        elif token in _DASHBOARD_OPTIONS and i + 1 < len(argv) and not argv[i + 1].startswith("-"):
            i += 1
            setattr(args, _DASHBOARD_OPTIONS[token], argv[i])
        else:
            return None
        i += 1
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _dashboard_only(argv)
    if args is None:
        args = build_parser().parse_args(argv)
    args.config = getattr(args, "config", None) or os.environ.get("WARROOM_CONFIG")
    args.data_dir = getattr(args, "data_dir", None) or os.environ.get("WARROOM_DATA_DIR")
    args.context = getattr(args, "context", None)
    args.redact_hosts = getattr(args, "redact_hosts", False)
    func = getattr(args, "func", cmd_dashboard)
    from .incident.store import StoreError

    try:
        from .config import ConfigError
    except ImportError:  # config lands separately; the store commands must not depend on it
        ConfigError = UsageError  # type: ignore[assignment,misc]
    try:
        code = func(args)
        sys.stdout.flush()      # a closed pipe shows here, not as a traceback at exit
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_CLOSED_PIPE
    except (UsageError, ConfigError, StoreError, ValueError) as exc:
        print(f"warroom: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - no input gets a traceback: one line, the details on file
        from .crash import one_line_report

        print(f"warroom: {one_line_report(exc, args.data_dir)}", file=sys.stderr)
        return EXIT_USAGE


def _quiet_stdout() -> None:
    """Point standard output at /dev/null: what is still buffered for the closed pipe
    would otherwise fail again when Python flushes it at exit, with a message."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    # `python -m tui.cli` runs this file as __main__, a second copy of the module: run the importable
    # one, whose UsageError is the one launch.py and the others raise.
    from tui.cli import main as _main

    sys.exit(_main())
