"""The dashboard's keys and what the help screen and the command palette say of each.

Kept apart from the screen so the screen module stays about layout and wiring; the README's
key table and the help screen (WarroomApp.help_sections) are written from these.
"""
from __future__ import annotations

from textual.binding import Binding

__all__ = ["BINDINGS", "HELP_TEXT", "PROMPT_ACTIONS", "READ_ONLY_HIDDEN", "WRITE_ACTIONS"]

BINDINGS: list[Binding | tuple[str, str] | tuple[str, str, str]] = [
    Binding("question_mark", "help", "Help"),
    # The keys that open the entry prompt are priority bindings: the app runs them itself, before
    # it hands on the keys queued behind them, so a burst ("n" and the text, pasted or arriving
    # together over a laggy SSH link) goes into the prompt instead of to the widget that had focus
    # (where "a", "u", "s"… would have run as keys). While the prompt is open they are the text's
    # (Dashboard.check_action).
    Binding("n", "entry('note')", "Note", priority=True),
    Binding("a", "entry('action')", "Action", priority=True),
    Binding("d", "entry('decision')", "Decision", priority=True),
    Binding("f", "entry('finding')", "Finding", priority=True),
    Binding("m", "entry('mitigation')", "Mitigation", priority=True),
    Binding("c", "entry('comms')", "Comms", show=False, priority=True),
    Binding("t", "entry('todo')", "Todo", priority=True),
    Binding("e", "edit", "Edit entry", priority=True),
    Binding("s", "severity", "Severity"),
    Binding("S", "status", "Status"),
    Binding("p", "phase", "Phase", show=False),
    Binding("R", "role", "Set role", show=False, priority=True),
    Binding("u", "update_sent", "Update sent"),
    Binding("U", "update_draft", "Draft update"),
    Binding("x", "export", "Export postmortem", show=False),
    Binding("z", "snooze", "Snooze 5m", show=False),
    Binding("F", "followup_done", "Follow-up done", show=False),
    Binding("Z", "zoom", "Zoom pane", show=False),
    Binding("P", "presenter", "Presenter", show=False),
    Binding("H", "hide_healthy", "Hide healthy pods", show=False),
    Binding("l", "pod_log", "Pod log", show=False),
    Binding("y", "copy_revert", "Copy git revert", show=False),
    Binding("D", "diffstat", "Deploy diffstat", show=False),
    Binding("exclamation_mark", "silence_alert", "Silence alert", show=False),
    Binding("V", "verify", "Verify", show=False),
    Binding("L", "copy_alert_link", "Copy alert link", show=False),
    Binding("I", "impact", "Impact & resolution", show=False),
    Binding("M", "milestone", "Mark milestone", show=False),
    Binding("A", "action_item", "Action item", show=False),
    Binding("X", "actions", "Actions on row", show=False),
]

# The actions of the priority keys above: each opens the entry prompt.
PROMPT_ACTIONS = frozenset({"entry", "edit", "role"})

HELP_TEXT: dict[str, str] = {
    "entry('note')": "Add a note (one-line prompt; Enter saves, Esc cancels)",
    "entry('action')": "Add an action taken",
    "entry('decision')": "Add a decision",
    "entry('finding')": "Add a finding (feeds the postmortem's root cause)",
    "entry('mitigation')": "Add a mitigation (feeds the postmortem's resolution)",
    "entry('comms')": "Add a communications entry",
    "entry('todo')": "Add a todo; end with +10 to get a follow-up alert in 10 min",
    "edit": "Edit the selected entry (text, or @HH:MM to change its time); the old revision is kept",
    "severity": "Change severity (SEV1-SEV4); the update cadence follows",
    "status": "Change status (Investigating … Resolved)",
    "phase": "Move the incident to another phase",
    "role": "Assign a role: e.g. 'commander alice' (commander, deputy, scribe, comms)",
    "update_sent": "Record 'status update sent' and restart the update countdown",
    "update_draft": "Draft a status update from the incident (edit, then copy / save / post to webhooks)",
    "export": "Write the postmortem draft (markdown) to a file in the current directory",
    "snooze": "Snooze the update countdown by 5 minutes",
    "followup_done": "Mark the oldest due follow-up as done",
    "zoom": "Maximize the focused pane / restore (header, banners and keys stay)",
    "presenter": "Presenter mode for screen sharing: high contrast, big status banner, hostnames and IPs masked",
    "hide_healthy": "Pods: hide / show pods that are healthy",
    "pod_log": "Pods: the selected pod's log (a restarted container's previous one), followed live; "
               "/ filters, p pins the selected lines to the timeline",
    "copy_revert": "Deploys: copy 'git revert <sha>' of the selected deploy to the clipboard",
    "diffstat": "Deploys: show the selected deploy's diffstat",
    "silence_alert": "Alerts: silence the selected alert group in Alertmanager (pick how long, say why); "
                     "written to the timeline",
    "copy_alert_link": "Alerts: copy the selected group's runbook_url (else dashboard_url) to the clipboard",
    "actions": "Pods / Deploys / Health: actions on the selected row ([[actions]]; for a pod's Deployment "
               "rollout restart and scale, dry-run first); confirmed, run, output shown, logged",
    "verify": "Evaluate every metric and the alerts now; one entry with each value against its baseline",
    "help": "This help",
    "impact": "Postmortem: users affected, revenue, data loss, SLA breach, a contributing factor, "
              "the mitigation and the permanent fix (a small form; also 'warroom set')",
    "milestone": "Postmortem: mark now as team notified, root cause identified or fix deployed ('warroom mark')",
    "action_item": "Postmortem: make the selected todo an action item (owner, priority, due date) "
                   "or mark it not follow-up work",
}

# Actions that write to the store: a read-only view (warroom --read-only) has none of these keys.
WRITE_ACTIONS = frozenset({"entry", "edit", "severity", "status", "phase", "role", "update_sent", "snooze",
                           "followup_done", "impact", "milestone", "action_item", "actions"})
# ... and of these not even a line in the help or the palette: a read-only view runs no commands.
READ_ONLY_HIDDEN = frozenset({"actions"})
