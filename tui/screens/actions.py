"""`X`: actions on the selected row, guarded; their output in a panel, their trace in the timeline.

A mixin of the Dashboard (kept apart so the screen module stays about layout and the store).
The steps, each a refusal point where nothing has run yet:

1. the row under the cursor in the focused pane (pods, deploys, health) gives the values of
   the placeholders; the menu offers that pane's ``[[actions]]`` and, for pods, the built-in
   rollout restart and scale of the pod's Deployment;
2. ``${deployment}`` is found through the API (the pod's ReplicaSet's owner); every value is
   checked against what Kubernetes or git allow (checks/actions.py): a hostile one is refused;
3. the built-ins are sent as a server-side dry run, whose answer the confirmation shows;
4. the confirmation wants the target's name typed back (or ``yes``);
5. the "running …" entry is committed, then the command (or the API call) runs, its output
   streaming into a panel; the entry is revised with how it ended, as ``warroom run`` does.
   The panel can be hidden (Esc) and shown again (Enter on the entry): the run keeps its
   output. Quitting while one runs asks once more, then stops it and writes how it ended.

A read-only dashboard has none of this: ``actions`` is one of the Dashboard's WRITE_ACTIONS.
"""
from __future__ import annotations

import asyncio
import shlex
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timezone
from functools import partial
from typing import TYPE_CHECKING, Any, Callable

from textual import work

from ..incident.model import Kind

if TYPE_CHECKING:
    from ..session import Session
    from .dashboard_host import DashboardHost

BUILTINS = (("rollout restart", "restart"), ("scale", "scale"))


@dataclass(frozen=True)
class _Begun:
    """An action whose "running …" entry is written: what its ending needs."""
    entry: Any                  # the entry (or, shared store offline, its place in the outbox)
    redactor: Any
    ended_text: Callable[[Any], str]
    kind: Kind


@dataclass(eq=False)
class _Run:
    """A command or API call started here whose ending is not yet written: its output so far
    (a hidden panel is shown again from it), its stop (None: an API call, short and unstoppable)."""
    title: str
    stop: threading.Event | None
    entry_id: int | None                     # None: its "running …" entry waits in the outbox
    lines: deque[str] = field(default_factory=lambda: _panel_lines())
    panel: Any = None                         # the panel while it is shown
    done_text: str | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)   # its ending is written


def _panel_lines() -> deque[str]:
    # The panel's module (and Textual's Log) loads with the first action, not at start.
    from .action_output import MAX_LINES

    return deque(maxlen=MAX_LINES)


class DashboardActions:
    """`X`; mixed into the Dashboard (uses its session, panes, wapp, focused, _snapshots, write, notify)."""

    if TYPE_CHECKING:   # provided by the Dashboard this is mixed into
        @property
        def wapp(self) -> DashboardHost: ...
        @property
        def _snapshots(self) -> dict[str, Any]: ...
        session: Session
        panes: Mapping[str, Any]
        app: Any
        focused: Any
        notify: Callable[..., None]
        _action_runs: list[_Run]
        write: Callable[..., Any]

    # -- 1. the selected row ------------------------------------------------------------

    def _action_row(self) -> tuple[str, dict[str, str], str] | None:
        """(pane name, placeholder values, what to call the row) of the focused pane's cursor row."""
        panes = {id(p): name for name, p in self.panes.items()}
        target = self.focused
        while target is not None and id(target) not in panes:
            target = target.parent
        if target is None:
            return None
        name = panes[id(target)]
        if name == "deploys":
            picked = target.selected()
            return (name, {"sha": picked[1].sha}, f"deploy {picked[1].sha[:12]}") if picked else None
        key = _cursor_key(getattr(target, "table", None))
        if key is None:
            return None
        if name == "pods" and "/" in key:
            namespace, pod = key.split("/", 1)
            return name, {"pod": pod, "namespace": namespace}, f"pod {namespace}/{pod}"
        if name == "health":
            service = key.split("#", 1)[0]
            return name, {"service": service}, f"service {service}"
        return None

    def action_actions(self) -> None:
        row = self._action_row()
        if row is None:
            self.notify("Select a row first: Tab to the Pods, Deploys or Health pane, ↑/↓ to pick, then X",
                        severity="warning")
            return
        pane, values, label = row
        titles: list[str] = []
        handlers: list[Callable[[], None]] = []
        if pane == "pods":
            for title, builtin in BUILTINS:
                titles.append(f"{title}: its Deployment, via the Kubernetes API (dry run first)")
                handlers.append(partial(self._kube_start, builtin, values))
        for spec in self.session.config.actions:
            if spec.pane == pane:
                titles.append(f"{spec.name}: {shlex.join(spec.argv)}")
                handlers.append(partial(self._custom_start, spec, values))
        if not titles:
            self.notify(f"No actions for the {pane} pane: add an [[actions]] block with pane = \"{pane}\" "
                        "to warroom.toml", severity="warning")
            return
        from .choose import ChoiceScreen

        def chosen(index: int | None) -> None:
            if index is not None:
                handlers[index]()

        shown = [self.wapp.redact(t) for t in titles]
        self.app.push_screen(ChoiceScreen(self.wapp.redact(f"Actions on {label}"), shown), chosen)

    # -- 2-4. custom [[actions]] ----------------------------------------------------------

    def _custom_start(self, spec: Any, values: dict[str, str]) -> None:
        if "deployment" in spec.placeholders:
            self._deployment_worker(values, lambda found: self._custom_ready(spec, found))
        else:
            self._custom_ready(spec, values)

    def _custom_ready(self, spec: Any, values: dict[str, str]) -> None:
        from checks.actions import PlaceholderRefused, substitute, target_of

        try:
            argv = substitute(spec, values)
        except PlaceholderRefused as exc:
            self.notify(f"Not run: {exc}", severity="error", timeout=15)
            return
        lines = ["Will run (a list of words, no shell):", "  " + shlex.join(argv),
                 f"Logged to the timeline as a{'n' if spec.kind == 'action' else ''} {spec.kind}, with its output."]

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._start_command(spec.name, Kind.parse(spec.kind), argv)

        from .action_confirm import ConfirmActionScreen

        self.app.push_screen(ConfirmActionScreen(
            self.wapp.redact(f"Run “{spec.name}”?"), [self.wapp.redact(line) for line in lines],
            confirm=spec.confirm, expected=target_of(spec, values)), confirmed)

    @work(thread=True, group="action-prepare", exit_on_error=False)
    def _deployment_worker(self, values: dict[str, str], then: Callable[[dict[str, str]], None]) -> None:
        from checks.kube_actions import KubeActionError

        kube = self._kube()
        try:
            found = kube.deployment_of(values["namespace"], values["pod"])
        except KubeActionError as exc:
            self._from_thread(self.notify, f"Not run: {exc}", severity="error", timeout=10)
            return
        finally:
            kube.close()
        if found is None:
            self._from_thread(self.notify, f"Not run: pod {values['pod']} is not owned by a Deployment",
                              severity="warning", timeout=10)
            return
        self._from_thread(then, {**values, "deployment": found})

    # -- 2-4. built-in: rollout restart and scale ---------------------------------------------

    def _kube(self) -> Any:
        from checks.kube_actions import KubeActions
        from checks.specs import KubeSpec

        raw = self._snapshots.get("pods")
        return KubeActions(self.session.config.kubernetes or KubeSpec(), getattr(raw, "context", None))

    def _kube_start(self, builtin: str, values: dict[str, str]) -> None:
        from checks.actions import check_value

        for name in ("pod", "namespace"):
            why = check_value(name, values[name])
            if why is not None:
                self.notify(f"Not run: ${{{name}}} = {values[name]!r} is {why}", severity="error", timeout=15)
                return
        if builtin == "restart":
            self._kube_dry_run(builtin, values, None)
            return
        from checks.kube_actions import MAX_REPLICAS

        from .action_confirm import ReplicasScreen

        def chosen(replicas: int | None) -> None:
            if replicas is not None:
                self._kube_dry_run(builtin, values, replicas)

        self.app.push_screen(ReplicasScreen(self.wapp.redact(f"Scale the Deployment of pod {values['pod']}"),
                                            MAX_REPLICAS), chosen)

    @work(thread=True, group="action-prepare", exit_on_error=False)
    def _kube_dry_run(self, builtin: str, values: dict[str, str], replicas: int | None) -> None:
        from checks.kube_actions import KubeActionError

        kube = self._kube()
        try:
            deployment = kube.deployment_of(values["namespace"], values["pod"])
            if deployment is None:
                raise KubeActionError(f"pod {values['pod']} is not owned by a Deployment")
            at = self.session.clock().astimezone(timezone.utc)
            if builtin == "restart":
                dry = kube.restart(values["namespace"], deployment, at, dry_run=True)
            else:
                assert replicas is not None
                dry = kube.scale(values["namespace"], deployment, replicas, dry_run=True)
        except KubeActionError as exc:
            self._from_thread(self.notify, f"Not run: {exc}", severity="error", timeout=10)
            return
        finally:
            kube.close()
        self._from_thread(self._kube_confirm, builtin, values["namespace"], deployment, replicas, dry.summary)

    def _kube_confirm(self, builtin: str, namespace: str, deployment: str, replicas: int | None,
                      summary: str) -> None:
        what = (f"rollout restart deployment/{deployment} -n {namespace}" if builtin == "restart"
                else f"scale deployment/{deployment} -n {namespace} --replicas={replicas}")
        lines = ["The API server's dry run (dryRun=All) of it:", "  " + summary,
                 "Runs through the Kubernetes API as your kubeconfig's user; logged as a mitigation."]

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._start_kube(builtin, namespace, deployment, replicas, what)

        from .action_confirm import ConfirmActionScreen

        self.app.push_screen(ConfirmActionScreen(
            self.wapp.redact(f"{what}?"), [self.wapp.redact(line) for line in lines],
            confirm="type", expected=deployment), confirmed)

    # -- runs in progress: shown again, stopped on quit -----------------------------------

    @property
    def _runs(self) -> list[_Run]:
        runs: list[_Run] | None = getattr(self, "_action_runs", None)
        if runs is None:
            runs = []
            self._action_runs = runs
        return runs

    def running_actions(self) -> list[str]:
        """What is still running (or still writing how it ended), by title."""
        return [run.title for run in self._runs]

    async def stop_actions(self, timeout: float) -> list[str]:
        """Stop every command still running and wait, at most ``timeout`` s, for each ending to
        be written (SIGTERM, SIGKILL 3 s later: action_runner); returns those that did not end."""
        runs = list(self._runs)
        for run in runs:
            if run.stop is not None:
                run.stop.set()
        try:
            await asyncio.wait_for(asyncio.gather(*(run.ended.wait() for run in runs)), timeout)
        except asyncio.TimeoutError:
            pass
        return [run.title for run in runs if not run.ended.is_set()]

    def show_action_output(self, entry_id: int) -> bool:
        """Enter on a running command's entry: its panel again, with what it printed so far."""
        run = next((r for r in self._runs if r.entry_id == entry_id), None)
        if run is None:
            return False
        if run.panel is None:
            self._push_panel(run)
        return True

    # -- 5. running, streaming, recording -------------------------------------------------

    def _begin_entry(self, name: str, kind: Kind, argv: list[str]) -> _Begun | None:
        """Commit the "running …" entry (as `warroom run` writes it); None when it could not be written."""
        import os

        from ..incident.redact import Redactor
        from ..runcmd import argv_secrets, command_line, entry_texts

        redactor = Redactor([*self.session.config.secrets, *argv_secrets(argv)])
        command = command_line(argv, redactor)
        note = f"dashboard action “{redactor.text(name)}”"
        running_text, ended_text = entry_texts(command, note)
        meta = {"event": "run", "command": command, "host": os.uname().nodename, "state": "running",
                "note": note, "action": name}
        entry = self.write(self.session.store.append, self.session.incident_id, kind, running_text,
                           author=self.session.author, source="action", meta=meta)
        if entry is None:
            self.notify("Not run: its timeline entry could not be written first", severity="error", timeout=10)
            return None
        return _Begun(entry, redactor, ended_text, kind)

    def _start_command(self, name: str, kind: Kind, argv: list[str]) -> None:
        begun = self._begin_entry(name, kind, argv)
        if begun is None:
            return
        stop = threading.Event()
        run = self._open_output(f"{name}: {shlex.join(argv)}", stop, begun)
        self._command_worker(argv, begun, run, stop, kind)

    def _start_kube(self, builtin: str, namespace: str, deployment: str, replicas: int | None, what: str) -> None:
        argv = ["kubernetes-api", *what.split()]        # how the entry shows it; never executed
        begun = self._begin_entry(what.split(" deployment/")[0], Kind.MITIGATION, argv)
        if begun is None:
            return
        run = self._open_output(what, None, begun)
        self._kube_worker(builtin, namespace, deployment, replicas, begun, run)

    def _open_output(self, title: str, stop: threading.Event | None, begun: _Begun) -> _Run:
        run = _Run(self.wapp.redact(title), stop, getattr(begun.entry, "entry_id", None))
        self._runs.append(run)
        self._push_panel(run)
        return run

    def _push_panel(self, run: _Run) -> None:
        from .action_output import ActionOutputScreen

        def hidden(_: object) -> None:
            run.panel = None

        run.panel = ActionOutputScreen(run.title, run.stop.set if run.stop is not None else None,
                                       lines=run.lines, done_text=run.done_text)
        self.app.push_screen(run.panel, hidden)

    def _run_lines(self, run: _Run, lines: list[str]) -> None:
        run.lines.extend(lines)
        if run.panel is not None:
            run.panel.add_lines(lines)

    @work(thread=True, group="action-run", exit_on_error=False)
    def _command_worker(self, argv: list[str], begun: _Begun, run: _Run, stop: threading.Event,
                        kind: Kind) -> None:
        from ..action_runner import run_streaming
        from ..runcmd import OutputTail

        tail = OutputTail()
        outcome = run_streaming(argv, lambda lines: self._from_thread(
            self._run_lines, run, [self.wapp.redact(begun.redactor.text(line)) for line in lines]), tail=tail, stop=stop)
        self._from_thread(self._action_ended, begun, outcome, tail, run)

    @work(thread=True, group="action-run", exit_on_error=False)
    def _kube_worker(self, builtin: str, namespace: str, deployment: str, replicas: int | None,
                     begun: _Begun, run: _Run) -> None:
        import time

        from checks.kube_actions import KubeActionError

        from ..runcmd import Outcome, OutputTail

        tail = OutputTail()
        outcome = Outcome()
        started = time.monotonic()
        kube = self._kube()
        try:
            if builtin == "restart":
                done = kube.restart(namespace, deployment, self.session.clock().astimezone(timezone.utc), dry_run=False)
            else:
                assert replicas is not None
                done = kube.scale(namespace, deployment, replicas, dry_run=False)
            line, outcome.exit_status = done.summary, 0
        except KubeActionError as exc:
            line, outcome.exit_status = f"refused: {exc}", 1
        finally:
            kube.close()
        outcome.duration_s = time.monotonic() - started
        tail.feed(line.encode() + b"\n")
        self._from_thread(self._run_lines, run, [self.wapp.redact(line)])
        self._from_thread(self._action_ended, begun, outcome, tail, run)

    def _action_ended(self, begun: _Begun, outcome: Any, tail: Any, run: _Run) -> None:
        from ..runcmd import ended_meta

        entry = begun.entry
        meta = ended_meta(outcome, tail, begun.redactor)
        text = begun.ended_text(outcome)
        if hasattr(entry, "entry_id"):
            self.write(self.session.store.edit, entry.entry_id, text=text, author=self.session.author, source="action",
                       meta=meta)
        else:       # the "running" entry is queued (shared store offline): the ending follows it
            self.write(self.session.store.append, self.session.incident_id, begun.kind, text, author=self.session.author,
                       source="action", meta=meta)
        run.done_text = outcome.describe()
        if run.panel is not None:
            run.panel.finished(run.done_text)
        if run in self._runs:
            self._runs.remove(run)
        run.ended.set()
        self.notify(f"{run.title}: {outcome.describe()}: written to the timeline",
                    severity="information" if outcome.exit_status == 0 else "warning")

    def _from_thread(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """call_from_thread that gives up quietly once the app is gone (a worker outliving a quit)."""
        try:
            self.app.call_from_thread(fn, *args, **kwargs)
        except RuntimeError:
            pass


def _cursor_key(table: Any) -> str | None:
    if table is None or getattr(table, "row_count", 0) == 0:
        return None
    try:
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
    except Exception:  # noqa: BLE001 - a cursor outside the rows
        return None
