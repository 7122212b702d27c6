"""Is a directory on a local disk? SQLite's WAL mode needs one.

WAL relies on shared memory (the -shm file mapped by every process) and on POSIX
locks that network and FUSE filesystems do not honour: on sshfs, concurrent
writers produced bus errors and a database that `.recover` could not save. So the
SQLite store refuses such a directory and points at the PostgreSQL store instead.

The filesystem type is read from the mount table (``/proc/mounts`` on Linux): the
mount point that is the longest prefix of the directory's real path wins. Where
there is no mount table (macOS, Windows) nothing is refused.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

MOUNTS = Path("/proc/mounts")

# Filesystem types whose locking or shared memory SQLite's WAL cannot trust.
NETWORK_TYPES = frozenset({
    "nfs", "nfs4", "cifs", "smb", "smb3", "smbfs", "ncpfs", "9p", "afs", "ceph", "glusterfs", "lustre",
    "gpfs", "davfs", "fuse", "sshfs",
})

_OCTAL = re.compile(r"\\([0-7]{3})")


def _unescape(field: str) -> str:
    # The kernel writes a space in a mount point as \040, a tab as \011, a backslash as \134.
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


def filesystem_type(path: str | os.PathLike[str], mounts_text: str | None = None) -> str | None:
    """The type of the filesystem holding ``path`` (``None`` when there is no mount table)."""
    if mounts_text is None:
        try:
            mounts_text = MOUNTS.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
    target = os.path.realpath(path)
    best, best_type = "", None
    for line in mounts_text.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        mount_point, fs_type = _unescape(fields[1]), fields[2]
        inside = target == mount_point or target.startswith(mount_point.rstrip("/") + "/")
        # ">=": of two mounts on one point the later one (listed last) is the visible one.
        if inside and len(mount_point) >= len(best):
            best, best_type = mount_point, fs_type
    return best_type


def is_network_type(fs_type: str) -> bool:
    # fuse.sshfs, fuse.rclone …: any FUSE filesystem but the block-device kind (fuseblk: ntfs-3g on a local disk).
    return fs_type in NETWORK_TYPES or fs_type.startswith("fuse.")


def network_filesystem(path: str | os.PathLike[str], mounts_text: str | None = None) -> str | None:
    """The filesystem type when ``path`` is on a network or FUSE filesystem, else ``None``."""
    fs_type = filesystem_type(path, mounts_text)
    return fs_type if fs_type and is_network_type(fs_type) else None
