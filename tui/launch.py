"""What the heavier subcommands do: open the dashboard, run the demo, export, update."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .cmdline import UsageError, chosen_incident, open_store
from .incident.model import Kind, Severity

if TYPE_CHECKING:
    import argparse


def _ask_declare(store, config, author: str):
    """No open incident: ask on the terminal (works over SSH, before the full-screen app):
    title, severity, who commands, and when impact started (the incident's start)."""
    from .incident.model import utcnow
    from .incident.when import parse_impact_start

    if not sys.stdin.isatty():
        raise UsageError("no active incident — declare one with 'warroom declare --title T --sev N'")
    print("No open incident. Declare one (Ctrl-C to quit).")
    try:
        title = ""
        while not title:
            title = input("  Title: ").strip()
        while True:
            answer = input("  Severity 1-4 (1 = outage/data loss, 2 = major, 3 = minor, 4 = cosmetic) [2]: ").strip() or "2"
            try:
                severity = Severity.parse(answer)
                break
            except ValueError as exc:
                print(f"  {exc}")
        commander = " ".join(input(f"  Incident commander [{author}]: ".replace(" []", "")).split()) or author
        while True:
            answer = input("  Impact started (HH:MM UTC, '10m ago'; Enter = now): ")
            now = utcnow()
            try:
                started = parse_impact_start(answer, now)
                break
            except ValueError as exc:
                print(f"  {exc}")
    except EOFError:      # Ctrl-D at a question
        print()
        raise UsageError("no incident declared — run warroom again, or use 'warroom declare --title T --sev N'") from None
    defaults = config.incident
    return store.declare(title, severity, author=author, source="tui", cadence=defaults.cadence(),
                         escalate_after=defaults.escalate_after(), checklists=defaults.phase_checklists(),
                         started_at=started, now=now, roles={"commander": commander} if commander else None)


def run_dashboard(args: argparse.Namespace, config, author: str) -> int:
    """The dashboard; the caller has paused the cyclic GC (cli.cmd_dashboard says why), and
    the app resumes it once its first frame is drawn (WarroomApp.gc_paused)."""
    from .sources import build_panes, build_sources

    store = open_store(args, config)
    if getattr(args, "read_only", False):
        from .incident.stores import ReadOnlyStore

        store = ReadOnlyStore(store)
        if store.active_incident() is None:
            store.close()
            raise UsageError("no active incident to watch — the read-only view declares nothing")
    if hasattr(store, "identify"):  # a shared store: other dashboards list who is watching
        store.identify(author, read_only=getattr(args, "read_only", False))
    incident = store.active_incident() or _ask_declare(store, config, author)
    from .app import WarroomApp

    # The panes are drawn empty first; their sources are built just after (tui/sources.py).
    app = WarroomApp(
        store, incident.id, panes=build_panes(config, kube_context=args.context), author=author,
        cadence=config.incident.cadence(), redact_hosts=args.redact_hosts, config=config, gc_paused=True,
        sources_later=lambda: build_sources(config, incident=incident, kube_context=args.context),
    )
    from .exit_guard import ExitGuard

    # A closed terminal (SIGHUP), SIGTERM or SIGINT ends the dashboard like Ctrl-Q, and soon
    # whatever else hangs (tui/exit_guard.py); every entry is on disk before it is shown.
    guard = ExitGuard(app)
    try:
        with guard:
            app.run()
    finally:
        store.close()
    if app.fatal_error:      # it could not start (a corrupt store): one line, as the CLI says it
        print(f"warroom: {app.fatal_error}", file=sys.stderr)
        return 2
    return guard.exit_code or 0


def run_demo(args: argparse.Namespace, author: str) -> int:
    from .demo import run

    return run(args, author)


def _write_output(text: str, output: str | None) -> None:
    if not output:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    path = Path(output)
    # Exports are written next to the target and renamed, so a crash never leaves half a postmortem.
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        if path.exists() and not path.is_file():
            # /dev/stdout, a fifo, a directory: written to (or refused), never renamed over.
            with open(path, "w", encoding="utf-8") as out:
                out.write(text)
        else:
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
    except OSError as exc:    # a missing directory, a full disk (ENOSPC, EFBIG), no permission
        try:
            tmp.unlink(missing_ok=True)     # only ever our own half-written file
        except OSError:
            pass

        raise UsageError(f"cannot write {output}: {exc.strerror or exc} — "
                         "check that the directory exists, is writable and has free space") from None
    print(f"wrote {path}", file=sys.stderr)


def run_export(args: argparse.Namespace, config) -> int:
    from .incident.export import export
    from .incident.redact import Redactor

    with open_store(args, config, read_only=True) as store:
        if args.incident:
            incident = chosen_incident(store, args)
        else:
            incidents = store.incidents()
            incident = store.active_incident() or (incidents[-1] if incidents else None)
            if incident is None:
        
                raise UsageError("no incidents to export — declare one with 'warroom declare --title T --sev N'")
        text = export(store, incident.id, args.format, redactor=Redactor(config.secrets))
    _write_output(text, args.output)
    return 0


def run_update(args: argparse.Namespace, config, author: str) -> int:
    from .incident.export import currently_impacted
    from .incident.notify import post_update
    from .incident.redact import Redactor
    from .incident.templates import build_context, render_update, suggest_template

    redactor = Redactor(config.secrets)
    with open_store(args, config, read_only=not args.post) as store:   # a draft only reads
        incident = chosen_incident(store, args)
        timeline = store.timeline(incident.id)
        from .incident.model import utcnow

        ctx = build_context(incident, timeline, affected=currently_impacted(timeline), now=utcnow(),
                            checklist=store.checklist(incident.id),
                            followups=store.followups(incident.id, pending_only=False))
        name = args.template or suggest_template(incident, timeline)
        text = render_update(name, ctx, template_dir=config.template_dir, redactor=redactor)
        if not args.post:
            print(text)
            return 0
        if not config.notify:
    
            raise UsageError("nothing to post to — add a [[notify]] section to warroom.toml (kind = \"slack\" or \"json\")")
        results = post_update(text, config.notify, incident=incident, redactor=redactor,
                              retry_uncertain=getattr(args, "force", False))
        failed = [r for r in results if not r.ok]
        uncertain = [r for r in results if r.uncertain]
        for r in results:
            if not r.uncertain:
                print(f"{'posted' if r.ok else 'FAILED'}: {r.target_name}" + (f" — {r.error}" if r.error else ""),
                      file=sys.stderr)
        if len(failed) < len(results):
            store.record_update_sent(incident.id, text, author=author, source="cli",
                                     meta={"template": name, "posted_to": [r.target_name for r in results if r.ok]})
        if failed:
            store.append(incident.id, Kind.SYSTEM, redactor.text("Status update could not be posted: "
                         + "; ".join(f"{r.target_name}: {r.error}" for r in failed)), author=author, source="cli",
                         meta={"uncertain": [r.target_name for r in uncertain]} if uncertain else None)
    if uncertain:
        # Sent, but no answer: posting again unasked could show the update twice.
        print("warroom: " + "; ".join(f"{r.target_name}: {r.error}" for r in uncertain)
              + " — check the channel before posting again; --force retries even then", file=sys.stderr)
        return 2
    return 1 if failed else 0

