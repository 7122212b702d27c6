"""warroom.toml: load it into the frozen specs of ``checks.specs``, or say in one line what is wrong.

Every problem is reported as ``file:line: what is wrong — how to fix it``. The package:

- ``model``: :class:`Config` and :class:`ConfigError`;
- ``loader``: reading the file and walking its tables (:class:`loader._Loader`), on
  ``checker``: reporting problems at their lines, ${NAME}, URLs and paths;
- ``locate``: finding the line of a key (tomllib gives no positions for values);
- ``describe``: quoting values in one line; ``values`` and ``fields``: the parsers;
- ``schemas``: every section's keys (the ranges of numbers are in ``values``);
- ``example``: the example file ``warroom init`` writes.

This package is used by the command line as well as the app, so it imports
neither textual nor any of the heavy client libraries.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

from tui.incident.model import PHASES, SEVERITIES
from tui.incident.specs import NOTIFY_KINDS
from tui.incident.specs import IncidentDefaults as IncidentDefaults
from tui.incident.specs import NotifySpec as NotifySpec

from .example import EXAMPLE_CONFIG
from .loader import _load
from .locate import _Locator as _Locator
from .model import Config, ConfigError
from .schemas import _SECTION_KEYS as _SECTION_KEYS

# Re-exported ("X as X"): tests/test_vocabulary.py wants the very same objects here, and
# tests/test_config.py reaches the locator and the schemas through this package.
__all__ = [
    "Config",
    "ConfigError",
    "EXAMPLE_CONFIG",
    "NOTIFY_KINDS",
    "PHASES",
    "SEVERITIES",
    "check_config",
    "default_config_path",
    "load_config",
    "write_example",
]


# --------------------------------------------------------------------------- public API


def load_config(path: str | os.PathLike[str] | None, env: Mapping[str, str] | None = None) -> Config:
    """Load and validate a config file; ``None`` gives the defaults.

    ``env`` stands in for ``os.environ`` for ``${NAME}`` expansion. Raises
    :class:`ConfigError` (first problem as its message, all in ``.problems``).
    """
    if path is None:
        return Config()
    config, problems = _load(path, os.environ if env is None else env)
    if problems:
        raise ConfigError(problems)
    assert config is not None
    return config


def check_config(path: str | os.PathLike[str] | None, env: Mapping[str, str] | None = None) -> list[str]:
    """Every problem in a config file, one line each, in file order; empty when it is fine."""
    if path is None:
        return []
    return _load(path, os.environ if env is None else env)[1]


def default_config_path() -> Path | None:
    """``$WARROOM_CONFIG`` (even if missing, so loading it explains), else
    ``./warroom.toml``, else the per-user config dir's warroom.toml, if they exist."""
    explicit = os.environ.get("WARROOM_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    local = Path("warroom.toml")
    if local.is_file():
        return local
    import platformdirs  # only needed on this path

    user = Path(platformdirs.user_config_dir("warroom")) / "warroom.toml"
    return user if user.is_file() else None


def write_example(path: str | os.PathLike[str]) -> None:
    """Write :data:`EXAMPLE_CONFIG` to ``path``; never overwrites an existing file."""
    label = os.fspath(path)
    target = Path(label).expanduser()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # e.g. a file is in the way (which mkdir reports as FileExistsError)
        raise ConfigError(f"cannot write {label}: {exc.strerror or exc} — pick a writable path") from None
    try:
        # "x" makes the existence check and the creation one atomic step.
        with open(target, "x", encoding="utf-8") as fh:
            try:
                fh.write(EXAMPLE_CONFIG)
            except BaseException:
                fh.close()
                target.unlink(missing_ok=True)  # only ever our own, just-created file
                raise
    except FileExistsError:
        raise ConfigError(f"{label} already exists — pass another path or remove it") from None
    except OSError as exc:
        raise ConfigError(f"cannot write {label}: {exc.strerror or exc} — pick a writable path") from None

