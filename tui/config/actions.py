"""`[[actions]]`: its schema and its block loader (kept apart from loader.py, which is long).

Each problem is reported on the loader with the file:line of the key at fault, like every
other section's; the placeholder rules themselves live in :mod:`checks.actions`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from checks.actions import CONFIRMS, KINDS, PANE_PLACEHOLDERS, ActionSpec, argv_problem

from .describe import _close_match, _quote
from .values import _BAD, _Parser, _text

if TYPE_CHECKING:
    from .checker import _Checker

ARGV_EXAMPLE = '["kubectl", "delete", "pod", "-n", "${namespace}", "${pod}"]'
# Built-in actions the dashboard offers on its own: a [[actions]] block may not take their names.
BUILTIN_NAMES = ("rollout restart", "scale")


def _choice(options: tuple[str, ...], example: str) -> _Parser:
    def parse(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
        if not isinstance(value, str):
            ld.wrong_type(path, "a string", value, example)
            return _BAD
        if value not in options:
            guess = _close_match(value.strip().lower(), options)
            ld.report(path, f"{path[-1]} must be one of {', '.join(options)}, got {_quote(value)}",
                      f'did you mean "{guess}"?' if guess else f"write {path[-1]} = {example}")
            return _BAD
        return value

    return parse


def _argv(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
    if isinstance(value, str):
        ld.report(path, "argv is a string: actions are never given to a shell",
                  f"write it as a list of words, e.g. argv = {ARGV_EXAMPLE}")
        return _BAD
    if not isinstance(value, list) or not value or not all(isinstance(w, str) for w in value):
        ld.wrong_type(path, "a non-empty list of strings", value, ARGV_EXAMPLE)
        return _BAD
    if not value[0].strip():
        ld.report(path, "argv's program (its first word) is empty", f"write e.g. argv = {ARGV_EXAMPLE}")
        return _BAD
    return tuple(value)


ACTION_SCHEMA: dict[str, _Parser] = {
    "name": _text('"delete pod"'),
    "argv": _argv,
    "pane": _choice(tuple(PANE_PLACEHOLDERS), '"pods"'),
    "kind": _choice(KINDS, '"action"'),
    "confirm": _choice(CONFIRMS, '"type"'),
}


def load_actions(ld: Any, value: Any) -> tuple[ActionSpec, ...] | None:
    """The ``[[actions]]`` blocks as specs; None when any is wrong (each problem reported).

    ``ld`` is the config ``_Loader`` (its ``blocks``, ``fields`` and ``locator``)."""
    blocks = ld.blocks("actions", value)
    if blocks is None:
        return None
    specs: list[ActionSpec] = []
    names: dict[str, int] = {}
    ok = True
    for index, block in enumerate(blocks):
        path: tuple[Any, ...] = ("actions", index)
        name = block.get("name")
        where = f"[[actions]] {_quote(name)}" if isinstance(name, str) else f"[[actions]] #{index + 1}"
        got = ld.fields(path, block, ACTION_SCHEMA, where)
        for required, example in (("name", '"delete pod"'), ("argv", ARGV_EXAMPLE)):
            if required not in block:
                ld.report(path, f"{where} has no {required}", f"add {required} = {example}")
                got = None
        if got is not None:
            problem = argv_problem(got["argv"], got.get("pane", "pods"))
            if problem is not None:
                word, what, mend = problem
                ld.report(path + ("argv",), f"{where}: argv word {word + 1}: {what}", mend)
                got = None
        if got is not None and got["name"].strip().lower() in BUILTIN_NAMES:
            ld.report(path + ("name",), f"{where}: {_quote(got['name'])} is a built-in action's name",
                      "give it another name")
            got = None
        if got is not None and got["name"] in names:
            ld.report(path + ("name",), f"duplicate action name {_quote(got['name'])} (first at line "
                      f"{names[got['name']]})", "give each [[actions]] block its own name")
            got = None
        if got is None:
            ok = False
            continue
        names[got["name"]] = ld.locator.line(path + ("name",)) or 0
        specs.append(ActionSpec(**got))
    return tuple(specs) if ok else None
