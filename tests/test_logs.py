"""[[logs]]: the log-follow source on real files being appended, rotated and truncated; its config."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from checks.base import Level
from checks.logs import START_BYTES, LogSource
from checks.specs import LogSpec
from tui.config import ConfigError, load_config


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def append(path: Path, *lines: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))


def source(path: Path | str, **kw) -> tuple[LogSource, Clock]:
    clock = Clock()
    return LogSource(LogSpec(name="api", path=str(path), **kw), clock=clock), clock


def test_follows_appended_lines_and_counts_errors_per_minute(tmp_path):
    log = tmp_path / "api.log"
    append(log, "old ERROR from before warroom started")
    src, clock = source(log)
    first = src.poll()
    # Lines already there are recent context (the file's tail), counted once.
    assert first.last_errors == ("old ERROR from before warroom started",) and first.level is Level.WARN
    append(log, "GET / 200", "db timeout: Exception in worker", "GET / 200")
    clock.now += 60
    append(log, "FATAL out of memory")
    snap = src.poll()
    assert snap.last_errors[-2:] == ("db timeout: Exception in worker", "FATAL out of memory")
    assert snap.errors_per_minute[-1] == 2 and snap.errors_per_minute[-2] == 1
    assert len(snap.errors_per_minute) == 30 and snap.lines_read == 5
    assert src.poll().lines_read == 5          # nothing new: nothing read twice
    src.close()


def test_a_big_file_is_not_read_whole(tmp_path):
    log = tmp_path / "big.log"
    with open(log, "w", encoding="utf-8") as f:
        for i in range(300_000):
            f.write(f"line {i} ERROR\n")
    assert log.stat().st_size > 10 * START_BYTES
    src, _ = source(log)
    snap = src.poll()
    assert src.bytes_read <= START_BYTES
    assert snap.last_errors[-1] == "line 299999 ERROR" and len(snap.last_errors) == 50
    # The first line read from the middle of the file is partial: dropped, not counted as a line.
    assert all(line.startswith("line ") for line in snap.last_errors)
    src.close()


def test_rotation_by_rename_drains_the_old_file_then_follows_the_new_one(tmp_path):
    log = tmp_path / "api.log"
    append(log, "start")
    src, _ = source(log)
    src.poll()
    append(log, "ERROR written just before rotation")
    os.rename(log, tmp_path / "api.log.1")
    append(log, "ERROR in the new file")
    snap = src.poll()
    assert snap.last_errors == ("ERROR written just before rotation", "ERROR in the new file")
    append(log, "ERROR again")
    assert src.poll().last_errors[-1] == "ERROR again"
    src.close()


def test_rotation_within_a_glob_is_not_read_twice(tmp_path):
    log = tmp_path / "api.log"
    append(log, "ERROR one")
    src, _ = source(tmp_path / "api.log*")
    assert src.poll().last_errors == ("ERROR one",)
    os.rename(log, tmp_path / "api.log.1")
    append(tmp_path / "api.log.1", "ERROR two (old file, late writer)")
    append(log, "ERROR three")
    snap = src.poll()
    assert snap.last_errors == ("ERROR one", "ERROR two (old file, late writer)", "ERROR three")
    assert snap.files == (str(log), str(tmp_path / "api.log.1"))
    src.close()


def test_truncation_in_place_reads_from_the_start(tmp_path):
    log = tmp_path / "api.log"
    append(log, "x" * 100, "ERROR before truncation")
    src, _ = source(log)
    src.poll()
    with open(log, "r+", encoding="utf-8") as f:     # logrotate's copytruncate
        f.truncate(0)
    append(log, "ERROR after truncation")
    assert src.poll().last_errors[-1] == "ERROR after truncation"
    src.close()


def test_a_missing_file_is_an_error_until_it_appears(tmp_path):
    log = tmp_path / "later.log"
    src, _ = source(log)
    snap = src.poll()
    assert snap.error and "later.log" in snap.error and snap.level is Level.UNKNOWN
    append(log, "ERROR first words")
    snap = src.poll()
    # Created after warroom started: read from its start.
    assert snap.error is None and snap.last_errors == ("ERROR first words",)
    src.close()


def test_custom_pattern_and_long_lines(tmp_path):
    log = tmp_path / "api.log"
    src, _ = source(log, error_pattern=r"status=5\d\d")
    append(log, "")
    src.poll()
    append(log, "status=200", "status=503 " + "y" * 10_000, "error but not a 5xx")
    snap = src.poll()
    assert len(snap.last_errors) == 1 and snap.last_errors[0].startswith("status=503")
    assert len(snap.last_errors[0]) <= 4096
    src.close()


def test_config_logs_blocks(tmp_path):
    (tmp_path / "w.toml").write_text(
        '[[logs]]\nname = "api"\npath = "logs/*.log"\nerror_pattern = \'(?i)error|timeout\'\ninterval = 2\n',
        encoding="utf-8")
    config = load_config(tmp_path / "w.toml")
    assert config.logs == (LogSpec(name="api", path=str(tmp_path / "logs" / "*.log"),
                                   error_pattern="(?i)error|timeout", interval=2.0),)


@pytest.mark.parametrize("body, expected", [
    ('[[logs]]\nname = "api"\npath = "a.log"\nerror_pattern = "(unclosed"\n', "w.toml:4: error_pattern"),
    ('[[logs]]\nname = "api"\n', "w.toml:1: [[logs]] \"api\" has no path"),
    ('[[logs]]\nname = "a"\npath = "a.log"\n[[logs]]\nname = "a"\npath = "b.log"\n', "w.toml:5: duplicate log name"),
    ('[[logs]]\nname = "a"\npath = "a.log"\ninterval = 0\n', "w.toml:4: "),
])
def test_config_logs_problems_are_one_line_with_file_and_line(tmp_path, body, expected):
    (tmp_path / "w.toml").write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "w.toml")
    assert expected in str(err.value), str(err.value)
    assert "\n" not in str(err.value)


def test_truncated_and_rewritten_past_the_offset_is_still_read_from_the_start(tmp_path):
    # copytruncate, then the service writes more than was there before the next poll: the
    # size alone says "grew", the bytes before our offset say "not the same file content".
    log = tmp_path / "api.log"
    append(log, "ERROR one")
    src, _ = source(log)
    src.poll()
    with open(log, "w", encoding="utf-8") as f:
        f.write("ERROR after truncation, longer than before\n")
    assert src.poll().last_errors[-1] == "ERROR after truncation, longer than before"
    append(log, "ERROR next")
    assert src.poll().last_errors[-2:] == ("ERROR after truncation, longer than before", "ERROR next")
    src.close()
