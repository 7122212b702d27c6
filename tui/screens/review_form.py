"""The dashboard's postmortem keys (issue 17): `I` impact & resolution form, `M` mark a milestone,
`A` make the selected todo an action item (owner, priority, due date) or not follow-up work.

A small modal of labelled one-line inputs; what is typed is checked by tui/incident/review.py
(the same words as `warroom set`); a mistake is shown in the form in one line and the form
stays open with everything typed (nothing is lost). Saving appends ordinary timeline entries.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from ..incident.model import Kind
from ..incident.safe_text import one_line
from ..textual_hooks.boundary import GuardedScreen

Item = tuple[Kind, str, dict[str, Any]]
# (label, current value, placeholder)
Field = tuple[str, str, str]


class FieldsForm(GuardedScreen, ModalScreen[list[Item] | None]):
    """Enter moves to the next field and saves on the last; Ctrl+S saves; Esc cancels."""

    DEFAULT_CSS = """
    FieldsForm { align: center middle; }
    FieldsForm > VerticalScroll {
        width: 80; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    FieldsForm .title { text-style: bold; padding: 0 0 1 0; }
    FieldsForm Label { padding: 0 0 0 0; color: $text-muted; }
    FieldsForm Input, FieldsForm Input:focus {
        height: 1; border: none; padding: 0 1; margin: 0 0 1 0; background: $boost;
    }
    FieldsForm Input:focus { background: $accent 35%; }
    FieldsForm #form-error { color: $error; height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Save")]

    def __init__(self, title: str, fields: Sequence[Field], build: Callable[[list[str]], list[Item]]) -> None:
        super().__init__()
        self.title_text, self.fields, self.build = title, list(fields), build

    def compose(self) -> ComposeResult:
        with VerticalScroll():   # 80x24: the form scrolls rather than losing its last fields
            yield Static(f"{self.title_text}  (Enter: next / save · Ctrl+S save · Esc cancel)", classes="title",
                         markup=False)
            for i, (label, value, placeholder) in enumerate(self.fields):
                yield Label(label, markup=False)
                # Typing adds to what is recorded (select-all would replace it at the first key).
                yield Input(value=value, placeholder=placeholder, id=f"field-{i}", select_on_focus=False)
            yield Static("", id="form-error", markup=False)

    def on_mount(self) -> None:
        self.query_one("#field-0", Input).focus()

    def values(self) -> list[str]:
        return [self.query_one(f"#field-{i}", Input).value for i in range(len(self.fields))]

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        index = int(str(event.input.id).removeprefix("field-"))
        if index + 1 < len(self.fields):
            self.query_one(f"#field-{index + 1}", Input).focus()
        else:
            self.action_save()

    def action_save(self) -> None:
        try:
            items = self.build(self.values())
        except ValueError as exc:
            self.query_one("#form-error", Static).update(one_line(str(exc)))
            return          # the form stays open with what was typed
        self.dismiss(items)

    def action_cancel(self) -> None:
        self.dismiss(None)


# -- what the dashboard's keys open ------------------------------------------------------

def _yn(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def impact_form(entries: Sequence[Any]) -> FieldsForm:
    """Impact analysis, one more contributing factor, and the resolution, prefilled with what is recorded."""
    from ..incident import review

    now = review.fold(entries)
    imp = now.impact
    fields: list[Field] = [
        ("Users affected", imp.users or "", "e.g. ~12,000 checkouts, all EU users"),
        ("Revenue impact", imp.revenue or "", "e.g. $38k of orders delayed, none"),
        ("Data loss (yes/no)", _yn(imp.data_loss), "yes or no"),
        ("SLA breach (yes/no)", _yn(imp.sla_breach), "yes or no"),
        (f"Add a contributing factor ({len(now.factors)} recorded)", "", "e.g. no canary stage for payments"),
        ("Immediate mitigation", now.mitigation or "", "what stopped the impact"),
        ("Permanent fix", now.fix or "", "what removes the cause for good"),
    ]

    def build(values: list[str]) -> list[Item]:
        users, revenue, loss, sla, factor, mitigation, fix = (v.strip() for v in values)
        items: list[Item] = []
        changed = [users != (imp.users or ""), revenue != (imp.revenue or ""), loss != _yn(imp.data_loss),
                   sla != _yn(imp.sla_breach)]
        if any(changed):
            items.append(review.impact_entry(
                users if users and changed[0] else None, revenue if revenue and changed[1] else None,
                review.parse_yes_no(loss, "Data loss") if loss and changed[2] else None,
                review.parse_yes_no(sla, "SLA breach") if sla and changed[3] else None))
        if factor:
            items.append(review.factor_entry(factor))
        new_mitigation = mitigation if mitigation and mitigation != (now.mitigation or "") else None
        new_fix = fix if fix and fix != (now.fix or "") else None
        if new_mitigation or new_fix:
            items.append(review.resolution_entry(new_mitigation, new_fix))
        return items

    return FieldsForm("Impact & resolution (for the postmortem)", fields, build)


def action_item_form(todo: Any, entries: Sequence[Any], started: Any) -> FieldsForm:
    """The selected todo as follow-up work: owner, priority, due date; 'no' leaves it in-incident work."""
    from ..incident import review

    mark = review.fold(entries).actions.get(todo.entry_id)
    fields: list[Field] = [
        ("Follow-up work after the incident? (yes/no)", "no" if mark and not mark.follow_up else "yes", "yes or no"),
        ("Owner", (mark.owner if mark else None) or "", "e.g. @dave"),
        ("Priority (P1-P4)", (mark.priority if mark else None) or "", "P1, P2, P3 or P4"),
        ("Due date (YYYY-MM-DD)", (mark.due if mark else None) or "", "e.g. 2026-12-15"),
    ]

    def build(values: list[str]) -> list[Item]:
        follow, owner, priority, due = (v.strip() for v in values)
        is_follow = review.parse_yes_no(follow or "yes", "Follow-up work")
        return [review.action_item_entry(
            todo, owner=owner or None, priority=priority or None, follow_up=is_follow,
            due=review.parse_due(due, started.date()) if due else None)]

    return FieldsForm(f"Action item: #{todo.entry_id} {one_line(todo.text)[:50]}", fields, build)


# -- the dashboard's actions (kept here so dashboard.py only binds the keys) ----------------

def _write_items(dash: Any) -> Callable[[list[Item] | None], None]:
    def done(items: list[Item] | None) -> None:
        if items:
            dash.write(dash.session.store.append_many, dash.session.incident_id, items, author=dash.session.author,
                       source="tui")
        elif items is not None:
            dash.notify("Nothing changed", severity="information")
    return done


def open_impact(dash: Any) -> None:
    from widgets.timeline import TimelineView

    dash.app.push_screen(impact_form(dash.query_one(TimelineView).entries), _write_items(dash))


def open_action_item(dash: Any) -> None:
    from widgets.timeline import TimelineView

    timeline = dash.query_one(TimelineView)
    todo = timeline.selected
    if todo is None or todo.kind is not Kind.TODO:
        dash.notify("Select a todo in the timeline first (Tab to the timeline, arrows to pick): "
                    "A makes it an action item with an owner, priority and due date", severity="warning")
        return
    dash.app.push_screen(action_item_form(todo, timeline.entries, dash.incident.started_at), _write_items(dash))


def open_milestone(dash: Any) -> None:
    from ..incident.review import MILESTONES, milestone_entry
    from .choose import ChoiceScreen

    names = list(MILESTONES)

    def chosen(index: int | None) -> None:
        if index is None:
            return
        now = dash.session.clock()
        kind, text, meta = milestone_entry(names[index], now)
        if dash.write(dash.session.store.append, dash.session.incident_id, kind, text, author=dash.session.author,
                      source="tui", ts=now, meta=meta) is not None:
            dash.notify(f"{MILESTONES[names[index]]}: {now:%H:%M:%S} UTC (the postmortem's key times)")

    dash.app.push_screen(ChoiceScreen("Mark a milestone (now)", [MILESTONES[n] for n in names]), chosen)
