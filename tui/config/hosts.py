"""The [[hosts]] blocks: other machines whose node_exporter the host pane reads (checks.node_exporter)."""
from __future__ import annotations

from typing import Any

from checks.specs import RemoteHostSpec

from .describe import _quote
from .schemas import _HOSTS_SCHEMA


def load_hosts(ld: Any, value: Any) -> tuple[RemoteHostSpec, ...] | None:
    """The specs, or None when a block is wrong (each problem reported with its file:line)."""
    blocks = ld.blocks("hosts", value)
    if blocks is None:
        return None
    specs: list[RemoteHostSpec] = []
    first_seen: dict[str, int] = {}
    ok = True
    for index, block in enumerate(blocks):
        path: tuple[Any, ...] = ("hosts", index)
        name = block.get("name")
        where = f"[[hosts]] {_quote(name)}" if isinstance(name, str) else f"[[hosts]] #{index + 1}"
        got = ld.fields(path, block, _HOSTS_SCHEMA, where)
        for required, example in (("name", '"db-1"'), ("url", '"http://db-1:9100/metrics"')):
            if required not in block:
                ld.report(path, f"{where} has no {required}", f"add {required} = {example}")
                got = None
        if got is not None and got["name"] in first_seen:
            ld.report(path + ("name",), f"duplicate host name {_quote(got['name'])} (first at line "
                      f"{first_seen[got['name']]})", "give each [[hosts]] block its own name")
            got = None
        if got is None:
            ok = False
            continue
        first_seen[got["name"]] = ld.locator.line(path + ("name",)) or 0
        specs.append(RemoteHostSpec(**got))
    return tuple(specs) if ok else None
