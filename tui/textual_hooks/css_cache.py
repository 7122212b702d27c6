"""Parsed CSS kept between runs, as ``.pyc`` files keep compiled modules.

Textual parses the app's ``.tcss`` and every widget's ``DEFAULT_CSS`` at each start:
~18 KB through its tokenizer, ~8 ms of the dashboard's ~0.2 s to its first frame here.
``KeptStylesheet`` keeps the rules it parsed in one pickle under the user's cache
directory and takes them from there on the next start.

The file is only used when everything that went into parsing it is the same: the same
format and Python version, the same Textual files, the same theme variables, and for
each source the same text, origin and flags (the lookup key). A missing, stale,
unreadable or foreign file means parsing as Textual always does; so does a theme change
while running. It is rewritten, whole, when the app ends after something had to be
parsed, so it holds the sources of the last run and never grows.

Hook ``css_cache``: with it off the app keeps Textual's own ``Stylesheet``.
"""
from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path
from typing import Any

import textual
from textual.css.model import RuleSet
from textual.css.stylesheet import Stylesheet

from . import active

FORMAT = 1
FILE_NAME = "css-rules.pickle"


def keep_parsed_css(app: Any) -> None:
    """Give ``app`` (in its ``__init__``, before any CSS is read) a ``KeptStylesheet``."""
    if active("css_cache"):
        # The same variables Textual's own stylesheet was made with (the theme's), read back
        # rather than generated again.
        app.stylesheet = KeptStylesheet(variables=app.stylesheet._variables,
                                        path=default_cache_dir() / FILE_NAME)


def default_cache_dir() -> Path:
    env = os.environ.get("WARROOM_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs  # already imported by Textual; here for its cache-dir rule

    return Path(platformdirs.user_cache_dir("warroom", appauthor=False))


# What the parsed rules depend on in Textual. ``textual.__version__`` would be the obvious
# stamp, but it is read through importlib.metadata: ~10 ms, more than the parse it saves.
# Any other Textual (another version, or a reinstall) has other files.
_TEXTUAL_FILES = ("__init__.py", "css/parse.py", "css/tokenize.py", "css/model.py", "css/styles.py",
                  "css/_styles_builder.py")


def _textual_identity() -> tuple:
    root = Path(textual.__file__).parent
    out = []
    for name in _TEXTUAL_FILES:
        st = (root / name).stat()
        out.append((name, st.st_size, st.st_mtime_ns))
    return (str(root), *out)


def _stamp(variables: dict[str, str]) -> tuple:
    return (FORMAT, sys.version_info[:2], _textual_identity(), variables)


def _trusted(path: Path) -> bool:
    """Ours alone: unpickling runs code, so a file others could have written is not read."""
    try:
        for p in (path.parent, path):
            st = p.stat()
            if st.st_uid != os.getuid() or st.st_mode & 0o022:
                return False
    except OSError:
        return False
    return True


def load(path: Path, variables: dict[str, str]) -> dict[tuple, list[RuleSet]]:
    """The kept rules for these variables, or {} if the file is not usable as it is."""
    if not _trusted(path):
        return {}
    try:
        with open(path, "rb") as f:
            stamp, entries = pickle.load(f)
        if stamp != _stamp(variables) or not isinstance(entries, dict):
            return {}
    except Exception:  # noqa: BLE001 - truncated, corrupt or from another version: parse instead
        return {}
    if not all(isinstance(rules, list) and all(isinstance(r, RuleSet) for r in rules)
               for rules in entries.values()):
        return {}
    return entries


def save(path: Path, variables: dict[str, str], entries: dict[tuple, list[RuleSet]]) -> bool:
    """Write the file whole (a temporary file renamed over it); False if that failed."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            pickle.dump((_stamp(variables), entries), f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        return True
    except Exception:  # noqa: BLE001 - a read-only or full disk only costs the next start its parse
        try:
            tmp.unlink()
        except OSError:
            pass
        return False


class KeptStylesheet(Stylesheet):
    """A ``Stylesheet`` whose parsed sources come from, and go back to, ``path``."""

    def __init__(self, *, variables: dict[str, str], path: Path | None) -> None:
        super().__init__(variables=variables)
        self._kept_path = path
        self._kept: dict[tuple, list[RuleSet]] = load(path, variables) if path is not None else {}
        self._used: dict[tuple, list[RuleSet]] = {}
        self._parsed_any = False

    @property
    def kept_hits(self) -> int:
        """How many of the sources used came from the file."""
        return sum(1 for key in self._used if key in self._kept)

    def set_variables(self, variables: dict[str, str]) -> None:
        # A new theme: every rule is parsed again with its colours, and nothing is written.
        super().set_variables(variables)
        self._kept, self._used, self._kept_path = {}, {}, None

    def _parse_rules(self, css: str, read_from: Any, is_default_rules: bool = False,
                     tie_breaker: int = 0, scope: str = "") -> list[RuleSet]:
        key = (css, read_from, is_default_rules, tie_breaker, scope)
        rules = self._kept.get(key)
        if rules is None:
            rules = super()._parse_rules(css, read_from, is_default_rules, tie_breaker, scope)
            self._parsed_any = True
        if self._kept_path is not None:
            self._used[key] = rules
        return rules

    def save(self) -> bool:
        """Keep what this run used, if any of it had to be parsed; True if a file was written."""
        if self._kept_path is None or not self._parsed_any or not self._used:
            return False
        return save(self._kept_path, self._variables, self._used)
