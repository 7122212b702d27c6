"""`warroom demo` in a real pseudo-terminal: Ctrl-C, SIGTERM and SIGHUP all clean up."""
from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _drain(fd: int, seen: bytearray, ready: threading.Event) -> None:
    """Read the terminal so the app never blocks on a full pty; note when it has drawn."""
    while True:
        try:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                chunk = os.read(fd, 65536)
                if not chunk:
                    return
                seen.extend(chunk)
                if b"DEMO" in seen:
                    ready.set()
        except OSError:
            return


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=["TERM", "HUP", "INT"])
def test_demo_cleans_up_on_signal(tmp_path, sig):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {**os.environ, "TMPDIR": str(tmp), "TERM": "xterm-256color", "WARROOM_DATA_DIR": ""}
    proc = subprocess.Popen([sys.executable, "-m", "tui.cli", "demo", "--speed", "4"], cwd=ROOT, env=env,
                            stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    seen, ready = bytearray(), threading.Event()
    reader = threading.Thread(target=_drain, args=(master, seen, ready), daemon=True)
    reader.start()
    try:
        assert ready.wait(60), f"the demo never drew its header: {bytes(seen[-400:])!r}"
        assert any(p.name.startswith("warroom-demo-") for p in tmp.iterdir())
        proc.send_signal(sig)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert list(tmp.iterdir()) == []
