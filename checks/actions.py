"""`[[actions]]`: commands the dashboard runs on the selected row, and their guard rails.

An action is an argv list (never a shell string: nothing here is ever given to a shell)
whose words may hold placeholders taken from the selection: ``${pod}``, ``${namespace}``,
``${deployment}`` (pods pane), ``${service}`` (health pane), ``${sha}`` (deploys pane).

The values come from outside (a pod's name is whatever the cluster says; a commit sha is
whatever the repository holds) and are checked against what Kubernetes or git allow in
such names BEFORE they are substituted: a value like ``; rm -rf /``, ``$(reboot)``, a
newline or an option (``--all``) is refused with :class:`PlaceholderRefused`, and the
caller runs nothing. Even a valid value only ever becomes (part of) one argv word.

No I/O here; pure and mypy-strict, like the rest of ``checks``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

# Which placeholders each pane can fill from its selected row.
PANE_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "pods": frozenset({"pod", "namespace", "deployment"}),
    "deploys": frozenset({"sha"}),
    "health": frozenset({"service"}),
}
PLACEHOLDERS = frozenset(name for names in PANE_PLACEHOLDERS.values() for name in names)
KINDS = ("action", "mitigation")
CONFIRMS = ("type", "yes")
# What "confirm = type" asks the user to type, per pane: the name of the thing acted on.
TARGET = {"pods": "pod", "deploys": "sha", "health": "service"}

PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")

# Kubernetes object names (apimachinery's validation): a DNS-1123 subdomain for pods and
# deployments, a DNS-1123 label for namespaces and services. Lowercase letters, digits,
# '-' (and '.' for subdomains); alphanumeric at both ends; so never an option, a space,
# a quote, a '$' or a control character.
_DNS1123_LABEL = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*")
_HEX_SHA = re.compile(r"[0-9a-f]{7,64}")     # git: abbreviated (7+) to full SHA-1 (40) or SHA-256 (64)


def _label(value: str) -> str | None:
    if len(value) > 63 or not _DNS1123_LABEL.fullmatch(value):
        return "not a DNS-1123 label (lowercase letters, digits and '-', at most 63)"
    return None


def _subdomain(value: str) -> str | None:
    if len(value) > 253 or not _DNS1123_SUBDOMAIN.fullmatch(value):
        return "not a DNS-1123 name (lowercase letters, digits, '-' and '.', at most 253)"
    return None


def _sha(value: str) -> str | None:
    if not _HEX_SHA.fullmatch(value):
        return "not a git commit id (7 to 64 lowercase hex digits)"
    return None


_VALIDATORS = {"pod": _subdomain, "deployment": _subdomain, "namespace": _label, "service": _label, "sha": _sha}


class PlaceholderRefused(ValueError):
    """A placeholder's value is not a name Kubernetes or git would allow: nothing is run."""

    def __init__(self, action: str, placeholder: str, value: str, why: str) -> None:
        self.action, self.placeholder, self.value, self.why = action, placeholder, value, why
        super().__init__(f"action {action!r} refused: ${{{placeholder}}} = {value!r} is {why}")


def check_value(placeholder: str, value: str) -> str | None:
    """Why ``value`` cannot fill ``${placeholder}``, or None when it can."""
    validator = _VALIDATORS.get(placeholder)
    if validator is None:
        return "not a known placeholder"
    return validator(value)


@dataclass(frozen=True)
class ActionSpec:
    """One ``[[actions]]`` block (validated by ``warroom check-config``)."""
    name: str
    argv: tuple[str, ...]               # argv[0] is the program, never a placeholder
    pane: str = "pods"                  # pods | deploys | health
    kind: str = "action"                # the timeline entry's kind: action | mitigation
    confirm: str = "type"               # type: type the target's name; yes: answer yes

    @property
    def placeholders(self) -> frozenset[str]:
        return frozenset(m.group(1) for word in self.argv for m in PLACEHOLDER.finditer(word))


def argv_problem(argv: tuple[str, ...], pane: str) -> tuple[int, str, str] | None:
    """The first problem in an action's argv for ``pane``: (word index, what, how to mend)."""
    allowed = PANE_PLACEHOLDERS.get(pane, frozenset())
    for index, word in enumerate(argv):
        for m in PLACEHOLDER.finditer(word):
            name = m.group(1)
            if index == 0:
                return index, f"the program {word!r} is a placeholder", \
                    "start argv with a fixed program, e.g. \"kubectl\""
            if name not in PLACEHOLDERS:
                return index, f"unknown placeholder ${{{name}}}", \
                    "use " + ", ".join(f"${{{p}}}" for p in sorted(PLACEHOLDERS))
            if name not in allowed:
                return index, f"${{{name}}} is not known in the {pane} pane", \
                    "there: " + ", ".join(f"${{{p}}}" for p in sorted(allowed))
        if "\x00" in word:
            return index, "a NUL character", "remove it"
    return None


def substitute(spec: ActionSpec, values: Mapping[str, str]) -> list[str]:
    """``spec.argv`` with its placeholders filled from ``values``.

    Every value used is checked first (:func:`check_value`); one that fails, or one
    that is missing, raises :class:`PlaceholderRefused` and nothing is returned.
    """
    for name in sorted(spec.placeholders):
        value = values.get(name)
        if value is None:
            raise PlaceholderRefused(spec.name, name, "", "not known for the selected row")
        why = check_value(name, value)
        if why is not None:
            raise PlaceholderRefused(spec.name, name, value, why)
    return [PLACEHOLDER.sub(lambda m: values[m.group(1)], word) for word in spec.argv]


def target_of(spec: ActionSpec, values: Mapping[str, str]) -> str:
    """What ``confirm = "type"`` asks for: the deployment when the action names it, else the row's name."""
    if "deployment" in spec.placeholders and values.get("deployment"):
        return values["deployment"]
    return values.get(TARGET.get(spec.pane, ""), "")
