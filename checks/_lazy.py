"""A module imported on first attribute access.

The panes import ``checks.*`` for their snapshot types while the dashboard starts;
the libraries that do the polling (httpx, psutil) are only needed once a source
polls, which happens after the first frame and off the UI thread. A module-level
``httpx = LazyModule("httpx")`` keeps call sites as they are (``httpx.URL(...)``)
while nothing is imported, or put in ``sys.modules``, until one runs.
"""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    def __init__(self, name: str) -> None:
        self.__name = name
        self.__module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        # Looked up on the real module every time (not copied here), so a test that
        # patches the real module is seen; the import lock makes a first use from two
        # threads at once safe.
        module = self.__module
        if module is None:
            module = self.__module = importlib.import_module(self.__name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<lazy module {self.__name!r}>"
