"""Issue 14 §2/§4 through the real `warroom` process: no input gets a traceback.

Each reproduction gets one line on stderr and exit 2; a closed pipe ends quietly;
reading commands create nothing and read a read-only store; entries have a size limit;
`--kind system` is warroom's own.
"""
from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tui.incident.store import MAX_ENTRY_CHARS, Store

ROOT = Path(__file__).resolve().parents[1]
# The console script's way in (python -m tui.cli would load cli.py twice, as __main__ and as tui.cli).
WARROOM = [sys.executable, "-c", "import sys; from tui.cli import main; sys.exit(main())"]


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "xdg-config"), XDG_DATA_HOME=str(tmp_path / "xdg-data"),
               WARROOM_AUTHOR="tester")
    return env


@pytest.fixture
def data(tmp_path) -> Path:
    return tmp_path / "data"


def warroom(args, env, *, data: Path | None = None, **kw) -> subprocess.CompletedProcess:
    argv = [*WARROOM, *args] + (["--data-dir", str(data)] if data else [])
    if "input" not in kw:
        kw["stdin"] = subprocess.DEVNULL
    return subprocess.run(argv, cwd=kw.pop("cwd", ROOT), env=env, capture_output=True, text=True, timeout=60, **kw)


def one_line_exit_2(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("warroom: "), lines[0]
    return lines[0]


@pytest.fixture
def declared(env, data) -> Path:
    proc = warroom(["declare", "--title", "Checkout down", "--sev", "2"], env, data=data)
    assert proc.returncode == 0, proc.stderr
    return data


# -- the reproductions ---------------------------------------------------------------------


@pytest.mark.parametrize("args, says", [
    (["log", "--kind", "todo", "--follow-up", "inf", "check replica"], "follow-up of inf minutes is out of range"),
    (["log", "--kind", "todo", "--follow-up", "nan", "check replica"], "follow-up of nan minutes is out of range"),
    (["log", "--kind", "todo", "--follow-up", "99999999999", "check replica"], "out of range"),
    (["log", "--at", "0001-01-01T00:00:00+14:00", "x"], "not a time: '0001-01-01T00:00:00+14:00'"),
    (["log", "--at", "9999-12-31T23:59:59-14:00", "x"], "not a time"),
    (["log", "--at", "1900-01-01T00:00:00Z", "x"], "before 1970"),
    (["log", "--incident", "INC-99999999999999999999999", "x"], "not an incident id: 'INC-99999999999999999999999'"),
    (["status", "--incident", "INC-99999999999999999999999"], "not an incident id"),
    (["export", "--incident", "99999999999999999999999"], "not an incident id"),
    (["log", "--kind", "system", "DOWN: payments"], "--kind system is warroom's own"),
    (["log", "--kind", "SYSTEM", "DOWN: payments"], "--kind system is warroom's own"),
])
def test_bad_numbers_and_kinds_are_one_line(env, declared, args, says):
    line = one_line_exit_2(warroom(args, env, data=declared))
    assert says in line, line
    with Store(declared) as store:       # nothing was written
        assert len(store.timeline(store.require_active().id)) == 1


def test_detector_still_writes_system_entries(declared):
    from tui.incident.model import Kind

    with Store(declared) as store:
        inc = store.require_active()
        store.append_many(inc.id, [(Kind.SYSTEM, "payments DOWN", {"key": "svc:payments"})],
                          author="warroom", source="detector:health")
        assert store.timeline(inc.id)[-1].kind is Kind.SYSTEM


def test_entry_size_limit_cli(env, declared):
    over = "x" * (MAX_ENTRY_CHARS + 1)
    line = one_line_exit_2(warroom(["log", "-"], env, data=declared, input=over))
    assert f"{MAX_ENTRY_CHARS + 1:,} characters, over the limit of {MAX_ENTRY_CHARS:,}" in line
    proc = warroom(["log", "-"], env, data=declared, input="y" * MAX_ENTRY_CHARS)
    assert proc.returncode == 0, proc.stderr
    with Store(declared) as store:
        assert [len(e.text) for e in store.timeline(store.require_active().id)][1:] == [MAX_ENTRY_CHARS]


def test_entry_size_limit_is_the_stores(store):
    """One place: the store refuses, whoever asks (CLI, dashboard, an edit, a todo)."""
    from tui.incident.model import Kind, Severity

    inc = store.declare("t", Severity.SEV2)
    big = "z" * (MAX_ENTRY_CHARS + 1)
    for call in (lambda: store.append(inc.id, Kind.NOTE, big), lambda: store.add_todo(inc.id, big),
                 lambda: store.edit(store.timeline(inc.id)[0].entry_id, text=big)):
        with pytest.raises(ValueError, match="over the limit of 10,000"):
            call()
    assert len(store.entries(inc.id)) == 1


def test_export_into_missing_directory(env, declared, tmp_path):
    line = one_line_exit_2(warroom(["export", "-o", str(tmp_path / "nowhere" / "pm.md")], env, data=declared))
    assert line.startswith("warroom: cannot write") and "No such file or directory" in line, line
    assert not (tmp_path / "nowhere").exists()


def _ignore_sigxfsz() -> None:
    import resource

    # Past RLIMIT_FSIZE a write fails with EFBIG, as on a full disk (SIGXFSZ would kill instead).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    # 48 KiB: room for the store's 32 KiB -shm file, not for the export.
    resource.setrlimit(resource.RLIMIT_FSIZE, (48 * 1024, 48 * 1024))


def test_export_onto_full_disk_by_file_size_limit(env, declared, tmp_path):
    """The write fails part way (EFBIG through RLIMIT_FSIZE): one line, exit 2, no .tmp left."""
    with Store(declared) as store:
        from tui.incident.model import Kind

        for i in range(10):
            store.append(store.require_active().id, Kind.NOTE, f"note {i} " + "filler " * 1200)
    out = tmp_path / "out"
    out.mkdir()
    proc = warroom(["export", "-o", str(out / "pm.md")], env, data=declared, preexec_fn=_ignore_sigxfsz)
    line = one_line_exit_2(proc)
    assert line.startswith("warroom: cannot write") and "File too large" in line, line
    assert list(out.iterdir()) == []


def _can_unshare_mounts() -> bool:
    if not shutil.which("unshare") or not shutil.which("mount"):
        return False
    return subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=16k tmpfs /mnt"],
                          capture_output=True).returncode == 0


needs_mounts = pytest.mark.skipif(not _can_unshare_mounts(),
                                  reason="needs a private mount namespace (unshare -m, root) for a real tmpfs")


@needs_mounts
def test_export_onto_full_tmpfs(env, declared, tmp_path):
    """A real full disk: a 16 KiB tmpfs, in a mount namespace of the command's own."""
    with Store(declared) as store:
        from tui.incident.model import Kind

        inc = store.require_active().id
        for i in range(9):
            store.append(inc, Kind.NOTE, f"note {i} " + "filler " * 1400)
    out = tmp_path / "full"
    out.mkdir()
    script = ('mount -t tmpfs -o size=16k tmpfs "$1" && shift && "$@"; rc=$?; '
              'ls -A "$OUT" >&2; exit $rc')
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", str(out), *WARROOM,
                           "export", "-o", str(out / "pm.md"), "--data-dir", str(declared)],
                          cwd=ROOT, env={**env, "OUT": str(out)}, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("warroom: cannot write") and "No space left on device" in lines[0], lines
    assert lines[1:] == [], f"left behind on the full disk: {lines[1:]}"


def test_closed_pipe_is_quiet(env, declared):
    """`warroom status | head`: the reader is gone before warroom writes; no traceback, no message."""
    with Store(declared) as store:
        from tui.incident.model import Kind

        inc = store.require_active().id
        for i in range(50):
            store.append(inc, Kind.NOTE, f"note {i} " + "x" * 2000)
    for args in (["status"], ["incidents"], ["export"], ["export", "--format", "csv"]):
        read, write = os.pipe()
        os.close(read)
        try:
            proc = subprocess.run([*WARROOM, *args, "--data-dir", str(declared)], cwd=ROOT,
                                  env=env, stdout=write, stderr=subprocess.PIPE, text=True, timeout=60)
        finally:
            os.close(write)
        assert proc.stderr == "", proc.stderr
        assert proc.returncode == 141, args


def test_unexpected_error_is_one_line_with_crash_log(env, declared, tmp_path):
    """The last resort: an error nobody foresaw still gets one line, the traceback goes to the crash log."""
    # A start time no clock can hold (written behind warroom's back): reading it overflows where no
    # check expects it.
    conn = sqlite3.connect(declared / "warroom.db")
    conn.execute("UPDATE incidents SET started_ms = 1e300")
    conn.commit()
    conn.close()
    line = one_line_exit_2(warroom(["incidents"], env, data=declared))
    assert line.startswith("warroom: unexpected error: OverflowError: timestamp out of range"), line
    assert line.endswith(f"details in {declared / 'crash.log'}; please report it"), line
    log = (declared / "crash.log").read_text()
    assert "Traceback" in log and "OverflowError" in log


# -- reading commands: read-only, create nothing -----------------------------------------------


@pytest.mark.parametrize("args, code", [(["incidents"], 0), (["status"], 2), (["export"], 2), (["update"], 2)])
def test_reading_commands_create_nothing(env, tmp_path, args, code):
    missing = tmp_path / "never" / "made"
    proc = warroom(args, env, data=missing)
    assert proc.returncode == code, proc.stderr
    said = proc.stdout if code == 0 else one_line_exit_2(proc)
    assert f"no incidents yet in {missing}" in said
    assert not (tmp_path / "never").exists()


def test_reading_commands_create_nothing_in_an_existing_empty_dir(env, data):
    data.mkdir()
    assert warroom(["incidents"], env, data=data).returncode == 0
    assert list(data.iterdir()) == []


def test_reading_commands_open_the_store_read_only(declared):
    with Store(declared, read_only=True) as store:
        assert store.require_active().title == "Checkout down"
        from tui.incident.model import Kind
        from tui.incident.store import StoreError

        with pytest.raises(StoreError, match="write failed"):
            store.append(store.require_active().id, Kind.NOTE, "nope")


@needs_mounts
def test_reading_commands_on_a_read_only_data_directory(env, declared):
    """A read-only bind mount (chmod does not bind root): status, incidents and export read it."""
    for args, expect in ((["status"], "Checkout down"), (["incidents"], "INC-1"),
                         (["export", "--format", "json"], '"title": "Checkout down"'),
                         (["update"], "Checkout down"), (["log", "still writable?"], None)):
        script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'
        proc = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", str(declared), *WARROOM, *args, "--data-dir", str(declared)],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        if expect is None:       # a writing command says why in one line
            assert "not writable" in one_line_exit_2(proc)
        else:
            assert proc.returncode == 0, proc.stderr
            assert expect in proc.stdout
    assert sorted(p.name for p in declared.iterdir()) == ["warroom.db"]


def test_ctrl_d_at_the_declare_question_is_one_line(env, tmp_path):
    """No open incident on a terminal: warroom asks; Ctrl-D there ends it with one line, exit 2."""
    import select

    master, slave = os.openpty()
    proc = subprocess.Popen([*WARROOM, "--data-dir", str(tmp_path / "data")], cwd=tmp_path, env=env,
                            stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    out = b""
    try:
        while b"Title: " not in out:
            ready, _, _ = select.select([master], [], [], 30)
            assert ready, out
            out += os.read(master, 4096)
        os.write(master, b"\x04")
        while True:
            ready, _, _ = select.select([master], [], [], 30)
            if not ready:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:     # EIO: the process is gone
                break
            if not chunk:
                break
            out += chunk
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    text = out.decode("utf-8", "replace")
    assert code == 2, text
    assert "Traceback" not in text
    assert text.rstrip().splitlines()[-1] == ("warroom: no incident declared — run warroom again, "
                                              "or use 'warroom declare --title T --sev N'")


@pytest.mark.parametrize("speed", ["nan", "inf", "0", "-1", "1e300"])
def test_demo_speed_out_of_range_is_one_line(env, speed):
    line = one_line_exit_2(warroom(["demo", "--speed", speed], env))
    assert line.startswith("warroom: --speed must be above 0 and at most 1000, got "), line


def test_export_to_a_fifo_writes_into_it_not_over_it(env, declared, tmp_path):
    """-o /dev/stdout or a named pipe: written to, never replaced by a renamed file (as root, it was)."""
    import stat
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    proc = warroom(["export", "-o", str(fifo)], env, data=declared)
    reader.join(timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert got and got[0].startswith(b"# Postmortem (draft): INC-1"), got
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_export_onto_a_directory_is_one_line(env, declared, tmp_path):
    line = one_line_exit_2(warroom(["export", "-o", str(tmp_path)], env, data=declared))
    assert line == f"warroom: cannot write {tmp_path}: Is a directory — check that the directory exists, " \
                   "is writable and has free space"
