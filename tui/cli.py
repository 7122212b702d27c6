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
from typing import TYPE_CHECKING, Any, NoReturn, Sequence

from . import __version__
from .cmdline import UsageError
from .cmdline import chosen_incident as _incident
from .cmdline import database_url as _database_url
from .cmdline import incident_number as _incident_number
from .cmdline import load_config as _load_config
from .cmdline import open_store as _open_store

if TYPE_CHECKING:     # argparse (and gettext) are imported only when the parser is built
    import argparse

EXIT_USAGE = 2
# What a shell reports for a command killed by SIGPIPE (128 + 13): `warroom status | head`
# ends like any other Unix tool whose reader went away, without a word.
EXIT_CLOSED_PIPE = 141
def _one_line_parser() -> type:
    import argparse

    class OneLineParser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:  # argparse's default prints the whole usage block
            self.exit(EXIT_USAGE, f"{self.prog}: {message} — see '{self.prog} --help'\n")

    return OneLineParser


def _author(args: argparse.Namespace, config=None) -> str:
    """--author, else $WARROOM_AUTHOR, else [user] name in the config, else the login name."""
    if getattr(args, "author", None):
        return args.author
    if os.environ.get("WARROOM_AUTHOR"):
        return os.environ["WARROOM_AUTHOR"]
    if hasattr(args, "config"):  # the config is read only when the two above say nothing
        name = (config if config is not None else _load_config(args)).user_name
        if name:
            return name
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


# -- the shared store (issue 16): choosing it, `warroom db …` ------------------------


def _print_queued(args: argparse.Namespace) -> int:
    """What waits in this machine's outbox for the shared server (printed even when it cannot be reached)."""
    url = _database_url(args)
    if not url:
        return 0
    from .incident.outbox import Outbox
    from .incident.store import default_data_dir
    from .incident.store_pg import safe_url

    outbox = Outbox(Path(args.data_dir).expanduser() if args.data_dir else default_data_dir(), safe_url(url))
    try:
        pending = outbox.pending()
    finally:
        outbox.close()
    from .incident.safe_text import one_line

    for item in pending:
        text = next((a for a in item.args if type(a) is str), "")  # the text, not a Kind (a str enum)
        print(f"queued: {item.operation}: {one_line(text)[:80]}")
    return len(pending)


def _require_database_url(args: argparse.Namespace) -> str:
    url = _database_url(args)
    if not url:
        raise UsageError("no database given — pass --database postgresql://USER@HOST/DB, set WARROOM_DATABASE_URL, "
                         "or add [store] url to warroom.toml")
    return url


def cmd_db_init(args: argparse.Namespace) -> int:
    from .incident.store_pg import PgStore, grants, safe_url

    url = _require_database_url(args)
    with PgStore(url, args.data_dir or None, require_schema=False) as store:
        before, after = store.migrate()
    where = safe_url(url)
    print(f"{where}: warroom schema v{after}" + (" (already there)" if before == after else " created"))
    print(f"-- Least privilege for the role everyone's warroom connects as (run as the database's owner);\n"
          f"-- it may add to the timeline but never UPDATE or DELETE it (a trigger refuses that to anyone):\n"
          f"{grants(args.role)}")
    return 0


def cmd_db_migrate(args: argparse.Namespace) -> int:
    from .incident.store_pg import PgStore, safe_url

    url = _require_database_url(args)
    with PgStore(url, args.data_dir or None, require_schema=False) as store:
        if store.schema_version() is None:
            raise UsageError(f"{safe_url(url)} has no warroom schema — create it with 'warroom db init'")
        before, after = store.migrate()
    print(f"{safe_url(url)}: schema v{before} → v{after}" if before != after
          else f"{safe_url(url)}: schema v{after} is current")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from .incident.export import load_json
    from .incident.importer import import_record

    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {args.file}: {getattr(exc, 'strerror', None) or exc} — "
                         "pass a file written by 'warroom export --format json'") from None
    try:
        record = load_json(text)
    except ValueError as exc:
        raise UsageError(f"{args.file}: {exc} — pass a file written by 'warroom export --format json'") from None
    with _open_store(args) as store:
        incident = import_record(store, record)
    entries = len({r.entry_id for r in record.revisions})
    print(f"imported {record.incident.ref} as {incident.ref}: {entries} entries ({len(record.revisions)} revisions), "
          f"{len(record.checklist)} checklist items, {len(record.followups)} follow-ups")
    return 0


def _add_db_commands(sub, common) -> None:
    p = sub.add_parser("import", help="load a 'warroom export --format json' file into the store (a new incident)",
                       parents=[common], description="load a 'warroom export --format json' file into the store")
    p.set_defaults(func=cmd_import)
    p.add_argument("file", help="the JSON export")

    p = sub.add_parser("db", help="the shared PostgreSQL store: db init, db migrate", parents=[common],
                       description="the shared PostgreSQL store: create or upgrade its schema")
    db = p.add_subparsers(dest="db_command", metavar="ACTION", required=True, parser_class=type(p))
    q = db.add_parser("init", help="create the schema and print the least-privilege grants", parents=[common])
    q.set_defaults(func=cmd_db_init)
    q.add_argument("--role", default="warroom_app", help="the application role the grants name (default warroom_app)")
    q = db.add_parser("migrate", help="upgrade the schema to this warroom's version", parents=[common])
    q.set_defaults(func=cmd_db_migrate)


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
            args.title, severity, author=_author(args, config), source="cli",
            started_at=_parse_time(args.started) if args.started else _impact_start(args), roles=roles,
            cadence=config.incident.cadence(), escalate_after=config.incident.escalate_after(),
            checklists=config.incident.phase_checklists(),
        )
    print(incident.ref)
    if still_open is not None:
        print(f"note: {still_open.ref} ({still_open.title}) is still open; {incident.ref} is now the active one",
              file=sys.stderr)
    return 0


def _impact_start(args: argparse.Namespace) -> datetime | None:
    """`declare --impact-start`: the dashboard's words for it (HH:MM, '10m ago', ISO 8601); None: now."""
    if not getattr(args, "impact_start", None):
        return None
    from .incident.model import utcnow
    from .incident.when import parse_impact_start

    try:
        return parse_impact_start(args.impact_start, utcnow())
    except ValueError as exc:
        raise UsageError(f"--impact-start: {exc}") from None


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
    with _open_store(args, offline_ok=True) as store:
        # A shared store whose server cannot be reached queues the entry (for the incident given, or
        # the one active when it is sent); reading the incident first would need the server.
        incident = None if getattr(store, "offline", False) else _incident_unless_unreachable(store, args)
        incident_id = incident.id if incident else _incident_number(args)
        if kind is Kind.TODO and args.follow_up:
            entry = store.add_todo(incident_id, text, follow_up_minutes=args.follow_up, author=_author(args), source="cli")
        else:
            entry = store.append(incident_id, kind, text, author=_author(args), source="cli",
                                 ts=_parse_time(args.at) if args.at else None)
    if hasattr(entry, "client_id"):  # outbox.Queued
        print(f"{kind.value}: queued ({entry.queued} waiting) — the server cannot be reached; the next warroom "
              "on this machine that reaches it sends it ('warroom status' shows what waits)")
        return 0
    assert incident is not None  # read above unless the store was offline, and then the entry was queued
    print(f"{incident.ref} #{entry.entry_id} {entry.ts:%H:%M:%S} UTC {entry.kind.value}: logged")
    return 0


def _incident_unless_unreachable(store, args: argparse.Namespace):
    """The incident, or None when the shared server went away just now (the entry is then queued)."""
    from .incident.store_pg import Unreachable

    try:
        return _incident(store, args)
    except Unreachable:
        return None


def cmd_run(args: argparse.Namespace) -> int:
    from .incident.model import Kind
    from .incident.safe_text import one_line
    from .runcmd import run_and_record

    argv = list(args.argv)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise UsageError("no command to run — e.g. warroom run -- kubectl rollout undo deploy/payments")
    kind = Kind.parse(args.kind) if args.kind in ("action", "mitigation") else None
    if kind is None:
        raise UsageError(f"--kind: must be action or mitigation, got {args.kind!r}")
    config = _run_config(args)      # once: the store's URL and the secrets both come from it
    secrets = config.secrets
    with _open_store(args, config) as store:
        incident = _incident(store, args)
        outcome, entry = run_and_record(
            store, incident, argv, kind=kind, note=args.note or "", author=_author(args), secrets=secrets,
            warn=lambda line: print(f"warroom: {one_line(line)}", file=sys.stderr))
    try:
        print(f"warroom: {incident.ref} #{entry.entry_id} {entry.kind.value}: {one_line(outcome.describe())}",
              file=sys.stderr)
    except OSError:     # the terminal is gone (closed window): the entry is written, the status stands
        pass
    return outcome.shell_status


def _run_config(args: argparse.Namespace):
    """`warroom run`'s config; when there is plainly no file, a stand-in with no secrets and no
    [store], without importing tui.config and platformdirs (~25 ms of run's 150 ms budget).
    "Plainly" is default_config_path()'s own search, spelled out for Linux (tests/test_run_fast_path.py)."""
    if args.config or os.path.isfile("warroom.toml") or not sys.platform.startswith("linux"):
        return _load_config(args)
    xdg = os.environ.get("XDG_CONFIG_HOME", "").strip() or os.path.expanduser("~/.config")
    if os.path.isfile(os.path.join(xdg, "warroom", "warroom.toml")):
        return _load_config(args)
    return SimpleNamespace(secrets=frozenset(), store_url=None)


def cmd_status(args: argparse.Namespace) -> int:
    from .incident.model import fmt_duration, utcnow
    from .incident.store import StoreError
    from .incident.timers import update_clock

    try:
        store = _open_store(args, read_only=True)
    except StoreError:
        _print_queued(args)  # what waits here, even when the server cannot be reached
        raise
    with store:
        inc = _incident(store, args)
        now = utcnow()
        checklist = store.checklist(inc.id)
        timeline = store.timeline(inc.id)
        queued = getattr(store, "queued", lambda: 0)()
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
    if queued:
        print(f"  queued    {queued} change(s) on this machine not yet on the server")
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
        config = _load_config(args)
        return run_dashboard(args, config, _author(args, config))
    finally:
        gc.enable()


def cmd_demo(args: argparse.Namespace) -> int:
    from .config import Config
    from .launch import run_demo

    return run_demo(args, _author(args, Config()))  # the demo reads no config, not even a broken one


def cmd_export(args: argparse.Namespace) -> int:
    from .launch import run_export

    return run_export(args, _load_config(args))


def cmd_update(args: argparse.Namespace) -> int:
    from .launch import run_update

    config = _load_config(args)
    return run_update(args, config, _author(args, config))


# -- parser ---------------------------------------------------------------------


_AUTHOR_HELP = "default $WARROOM_AUTHOR, [user] name in the config, else the login name"


def build_parser() -> argparse.ArgumentParser:
    import argparse

    OneLineParser = _one_line_parser()
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS lets the options stand before or after the subcommand.
    common.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS,
                        help="warroom.toml (default: $WARROOM_CONFIG, ./warroom.toml, then the user config dir)")
    common.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS,
                        help="where the incident store lives (default: $WARROOM_DATA_DIR or the user data dir)")
    common.add_argument("--database", metavar="URL", default=argparse.SUPPRESS,
                        help="a shared PostgreSQL store, postgresql://USER@HOST/DB (default: $WARROOM_DATABASE_URL, "
                             "[store] url, else the SQLite file in the data dir); the password: PGPASSWORD or ~/.pgpass")

    parser = OneLineParser(prog="warroom", parents=[common],
                           description="A terminal dashboard for the person running a production incident.")
    parser.add_argument("--version", action="version", version=f"warroom {__version__}")
    parser.add_argument("--context", default=argparse.SUPPRESS, help="kubernetes context (as kubectl --context)")
    parser.add_argument("--redact-hosts", action="store_true", default=argparse.SUPPRESS,
                        help="mask hostnames and IPs on screen (for screen sharing)")
    parser.add_argument("--author", default=argparse.SUPPRESS,
                        help="who this dashboard is (entries' author, the header's presence list); " + _AUTHOR_HELP)
    parser.add_argument("--read-only", action="store_true", default=argparse.SUPPRESS,
                        help="a view that writes nothing (for stakeholders and the screen-share audience)")
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
    p.add_argument("--impact-start", metavar="TIME", help="when impact started: HH:MM (UTC), '10m ago' or ISO 8601")
    for role in ("commander", "deputy", "scribe", "comms"):
        p.add_argument(f"--{role}", metavar="NAME")
    p.add_argument("--author", default=argparse.SUPPRESS, help="who declares; " + _AUTHOR_HELP)

    p = add("log", "append an entry to the active incident's timeline", cmd_log)
    p.add_argument("--kind", default="note", help="note, action, decision, finding, mitigation, comms, todo")
    p.add_argument("--author", default=argparse.SUPPRESS, help=_AUTHOR_HELP)
    p.add_argument("--incident", help="INC-N (default: the active incident)")
    p.add_argument("--at", help="when it happened, if not now (ISO 8601, UTC)")
    p.add_argument("--follow-up", type=float, metavar="MIN", help="with --kind todo: alert after MIN minutes")
    p.add_argument("text", nargs="+", help="the entry's text ('-' reads standard input)")

    p = add("run", "run a command here and record it in the timeline: warroom run [--kind K] -- COMMAND …", cmd_run)
    p.add_argument("--kind", default="action", help="action (default) or mitigation")
    p.add_argument("--note", metavar="TEXT", help="why it was run, added to the entry")
    p.add_argument("--author", default=argparse.SUPPRESS, help=_AUTHOR_HELP)
    p.add_argument("--incident", help="INC-N (default: the active incident)")
    p.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- COMMAND", help="the command and its arguments")

    p = add("status", "print the active incident's state", cmd_status)
    p.add_argument("--incident", help="INC-N (default: the active incident)")
    add("incidents", "list every incident", cmd_incidents)
    p = add("resolve", "mark the active incident resolved (asks first while something is still red)", cmd_resolve)
    p.add_argument("--incident", help="INC-N (default: the active incident)")
    p.add_argument("--yes", action="store_true",
                   help="resolve although services are DOWN, pods crash-loop or follow-ups are open")
    p.add_argument("--author", default=argparse.SUPPRESS, help=_AUTHOR_HELP)

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
    p.add_argument("--author", default=argparse.SUPPRESS, help=_AUTHOR_HELP)

    p = add("init", "write a commented example warroom.toml", cmd_init)
    p.add_argument("file", nargs="?", default="warroom.toml")
    p = add("check-config", "validate a warroom.toml", cmd_check_config)
    p.add_argument("file")
    _add_db_commands(sub, common)
    from .cli_review import add_review_commands  # set impact/factor/resolution/action-item, mark (issue 17)

    add_review_commands(sub, common, {"open_store": _open_store, "incident": _incident, "author": _author})
    return parser


_DASHBOARD_OPTIONS = {"--config": "config", "--data-dir": "data_dir", "--context": "context", "--database": "database",
                      "--author": "author"}


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
        elif token == "--read-only":
            args.read_only = True
        elif name in _DASHBOARD_OPTIONS and eq:
            setattr(args, _DASHBOARD_OPTIONS[name], value)
        elif token in _DASHBOARD_OPTIONS and i + 1 < len(argv) and not argv[i + 1].startswith("-"):
            i += 1
            setattr(args, _DASHBOARD_OPTIONS[token], argv[i])
        else:
            return None
        i += 1
    return args


_RUN_OPTIONS = {"--kind": "kind", "--note": "note", "--author": "author", "--incident": "incident",
                "--config": "config", "--data-dir": "data_dir", "--database": "database"}


def _run_only(argv: Sequence[str]) -> SimpleNamespace | None:
    """`warroom run [OPTIONS] -- COMMAND …` without argparse: building the whole parser costs
    ~10 ms of run's budget (every subcommand's help is formatted, shutil and locale imported).
    Options in full, each with a value, all before ``--``; anything else -> None (argparse)."""
    if len(argv) < 3 or argv[0] != "run" or "--" not in argv:
        return None
    split = list(argv).index("--")
    options, command = argv[1:split], list(argv[split + 1:])
    if not command:
        return None
    args = SimpleNamespace(func=cmd_run, kind="action", note=None, author=None, incident=None, argv=command)
    i = 0
    while i < len(options):
        name, eq, value = options[i].partition("=")
        if name not in _RUN_OPTIONS:
            return None
        if not eq:
            if i + 1 >= len(options):
                return None
            i += 1
            value = options[i]
        setattr(args, _RUN_OPTIONS[name], value)
        i += 1
    return args


class _SafeStream:
    """A text stream whose writes pass through :func:`~tui.incident.safe_text.visible`.

    Every subcommand prints through ``sys.stdout`` and ``sys.stderr``; wrapping them
    for the command's run is the CLI's one edge to the terminal, so stored and remote
    text (titles, entries, a webhook's error body) can never print as control sequences,
    whichever ``print`` a command (or a new one) uses.
    """

    def __init__(self, stream, visible) -> None:
        self._stream, self._visible = stream, visible

    def write(self, text: str) -> int:
        self._stream.write(self._visible(text))
        return len(text)

    def __getattr__(self, name: str):       # flush, isatty, fileno, encoding …
        return getattr(self._stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # argparse's Namespace, or the dashboard's fast path's SimpleNamespace: the same attributes.
    args: Any = _dashboard_only(argv) or _run_only(argv)
    if args is None:
        args = build_parser().parse_args(argv)
    args.config = getattr(args, "config", None) or os.environ.get("WARROOM_CONFIG")
    args.data_dir = getattr(args, "data_dir", None) or os.environ.get("WARROOM_DATA_DIR")
    args.context = getattr(args, "context", None)
    args.database = getattr(args, "database", None)
    args.read_only = getattr(args, "read_only", False)
    args.redact_hosts = getattr(args, "redact_hosts", False)
    func = getattr(args, "func", cmd_dashboard)
    from .incident.store import StoreError

    # tui.config's ConfigError is a ValueError: caught below without importing the config
    # package (~20 ms), which `warroom run` without a config file never needs.
    # The full-screen commands draw through Textual (whose widgets make text safe); every
    # other command's output goes to the terminal through the sanitising streams.
    safe = func not in (cmd_dashboard, cmd_demo)
    if safe:
        from .incident.safe_text import visible

        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _SafeStream(sys.stdout, visible), _SafeStream(sys.stderr, visible)
    try:
        code = func(args)
        sys.stdout.flush()      # a closed pipe shows here, not as a traceback at exit
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_CLOSED_PIPE
    except (UsageError, StoreError, ValueError) as exc:
        print(f"warroom: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - no input gets a traceback: one line, the details on file
        from .crash import one_line_report

        print(f"warroom: {one_line_report(exc, args.data_dir)}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        if safe:
            sys.stdout, sys.stderr = saved


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
