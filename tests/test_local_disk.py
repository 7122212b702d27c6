"""The SQLite store refuses network and FUSE filesystems (issue 16).

Mocked: only the mount table. The tests write their own /proc/mounts-format file
(the kernel's real one here lists no network filesystem to try) and point
``local_disk.MOUNTS`` at it; the store, its directory and the check are real.
"""
from __future__ import annotations

import pytest

from tui.incident import local_disk
from tui.incident.local_disk import filesystem_type, network_filesystem
from tui.incident.store import Store, StoreError

MOUNTS = """\
/dev/vda / ext4 rw,relatime 0 0
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
tmpfs /tmp tmpfs rw,nosuid,nodev 0 0
server:/export /mnt/nfs nfs4 rw,relatime,vers=4.2 0 0
//nas/share /mnt/smb cifs rw,relatime 0 0
alice@bastion:/srv /home/alice/remote fuse.sshfs rw,nosuid,nodev 0 0
/dev/sdb1 /media/usb fuseblk rw,nosuid,nodev 0 0
host0 /mnt/host 9p rw,trans=virtio 0 0
/dev/sdc1 /mnt/nfs/local ext4 rw 0 0
//nas/space /mnt/with\\040space smb3 rw 0 0
"""


@pytest.mark.parametrize("path, fs_type", [
    ("/", "ext4"),
    ("/var/lib/warroom", "ext4"),
    ("/tmp/x", "tmpfs"),
    ("/mnt/nfs", "nfs4"),
    ("/mnt/nfs/data/warroom", "nfs4"),
    ("/mnt/nfsother", "ext4"),            # a prefix of the name is not a parent directory
    ("/mnt/nfs/local/warroom", "ext4"),   # a local disk mounted inside the NFS tree
    ("/mnt/smb/w", "cifs"),
    ("/home/alice/remote/warroom", "fuse.sshfs"),
    ("/media/usb/warroom", "fuseblk"),
    ("/mnt/host/data", "9p"),
    ("/mnt/with space/data", "smb3"),     # \\040 in the table is a space
])
def test_filesystem_type_is_the_longest_mount_point(path, fs_type):
    assert filesystem_type(path, MOUNTS) == fs_type


@pytest.mark.parametrize("path, refused", [
    ("/var/lib/warroom", None),
    ("/tmp/x", None),
    ("/media/usb/warroom", None),        # fuseblk: a block device on this machine
    ("/mnt/nfs/local/warroom", None),
    ("/mnt/nfs/warroom", "nfs4"),
    ("/mnt/smb/warroom", "cifs"),
    ("/home/alice/remote/warroom", "fuse.sshfs"),
    ("/mnt/host/warroom", "9p"),
    ("/mnt/with space/warroom", "smb3"),
])
def test_network_filesystems_are_named(path, refused):
    assert network_filesystem(path, MOUNTS) == refused


def test_no_mount_table_refuses_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(local_disk, "MOUNTS", tmp_path / "absent")
    assert filesystem_type(tmp_path) is None
    assert network_filesystem(tmp_path) is None


def test_the_real_mount_table_is_read():
    # Whatever this machine's root is, it is found (Linux CI); elsewhere there is no table.
    if not local_disk.MOUNTS.exists():
        pytest.skip("no /proc/mounts on this OS")
    assert filesystem_type("/") is not None


def _fake_mounts(tmp_path, monkeypatch, fs_type: str):
    table = tmp_path / "mounts"
    table.write_text(f"/dev/vda / ext4 rw 0 0\nremote:/x {tmp_path} {fs_type} rw 0 0\n")
    monkeypatch.setattr(local_disk, "MOUNTS", table)


@pytest.mark.parametrize("fs_type", ["fuse.sshfs", "nfs", "cifs", "9p"])
def test_sqlite_store_refuses_a_network_filesystem_in_one_line(tmp_path, monkeypatch, fs_type):
    _fake_mounts(tmp_path, monkeypatch, fs_type)
    with pytest.raises(StoreError) as exc:
        Store(tmp_path / "data")
    text = str(exc.value)
    assert "\n" not in text
    assert f"{fs_type} filesystem" in text and "PostgreSQL" in text and "--database" in text
    assert not (tmp_path / "data" / "warroom.db").exists(), "nothing is written there"


def test_sqlite_store_opens_on_a_local_filesystem(tmp_path, monkeypatch):
    _fake_mounts(tmp_path, monkeypatch, "ext4")
    with Store(tmp_path / "data") as store:
        assert store.incidents() == []


def test_cli_says_it_in_one_line_and_exits_2(tmp_path, monkeypatch, capsys):
    from tui.cli import main

    _fake_mounts(tmp_path, monkeypatch, "fuse.sshfs")
    assert main(["--data-dir", str(tmp_path / "data"), "log", "restarted db"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "fuse.sshfs filesystem" in err and "PostgreSQL" in err
