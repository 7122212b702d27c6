"""Build real git repositories with chosen dates, for tests, the bench and the demo.

Every command runs with a fixed identity and without the user's or the
system's git config (no signing prompts, no hooks from a template, the same
default branch everywhere), and with explicit author/committer dates so that
tests can reason about "7 minutes before the incident".

* :func:`init_repo`, :func:`commit`, :func:`tag`, :func:`branch`, :func:`merge`:
  small steps, each one ``git`` subprocess.
* :func:`deploy_history`: a repo from a list of :class:`Step` (minutes ago,
  author, subject, optional tag), e.g. for the demo.
* :func:`fast_import_repo`: a linear history of *n* commits in one
  ``git fast-import`` run (100k commits in seconds), for the bench.
"""
from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

__all__ = [
    "DEFAULT_AUTHOR",
    "Step",
    "branch",
    "checkout",
    "commit",
    "deploy_history",
    "fast_import_repo",
    "git",
    "init_repo",
    "merge",
    "tag",
]

DEFAULT_AUTHOR = ("Alice Example", "alice@example.com")


def _env(when: datetime | None = None, author: tuple[str, str] = DEFAULT_AUTHOR) -> dict[str, str]:
    env = dict(os.environ)
    for key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(key, None)
    env.update({
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1],
        "GIT_COMMITTER_NAME": author[0], "GIT_COMMITTER_EMAIL": author[1],
        "GIT_TERMINAL_PROMPT": "0",
        "LC_ALL": "C",
    })
    if when is not None:
        stamp = _git_date(when)
        env["GIT_AUTHOR_DATE"] = stamp
        env["GIT_COMMITTER_DATE"] = stamp
    return env


def _git_date(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return f"@{int(when.timestamp())} +0000"


def git(path: str | os.PathLike[str], *args: str, when: datetime | None = None,
        author: tuple[str, str] = DEFAULT_AUTHOR, input: bytes | None = None) -> str:
    """Run ``git -C path args...``; return stdout (stripped). Raises on failure."""
    proc = subprocess.run(
        ["git", "-C", str(path), *args], input=input, capture_output=True,
        env=_env(when, author), check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout.decode(errors="replace").strip()


def init_repo(path: str | os.PathLike[str], *, branch: str = "main") -> Path:
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", branch)
    git(path, "config", "commit.gpgsign", "false")
    git(path, "config", "tag.gpgsign", "false")
    return path


def commit(path: str | os.PathLike[str], subject: str, when: datetime, *,
           author: tuple[str, str] = DEFAULT_AUTHOR, files: dict[str, str] | None = None) -> str:
    """Commit (empty unless ``files`` are given) at ``when``; return the full sha."""
    for name, content in (files or {}).items():
        target = Path(path) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
        git(path, "add", "--", name)
    git(path, "commit", "-q", "--allow-empty", "--no-verify", "-m", subject, when=when, author=author)
    return git(path, "rev-parse", "HEAD")


def tag(path: str | os.PathLike[str], name: str, rev: str = "HEAD", *, message: str | None = None,
        when: datetime | None = None, author: tuple[str, str] = DEFAULT_AUTHOR) -> None:
    """A lightweight tag, or an annotated one (tagger date ``when``) when ``message`` is given.

    A lightweight tag has no date; git writes its loose ref file when it is made, and that
    file's time is what checks.deploys reads. Here it is set to ``when`` (the tag made then),
    else to the commit's date (tagged as it was committed, as a CI job does)."""
    if message is None:
        git(path, "tag", name, rev)
        if when is None:
            when = datetime.fromtimestamp(int(git(path, "log", "-1", "--format=%ct", rev)), tz=timezone.utc)
        ref = Path(path) / ".git" / "refs" / "tags" / name
        os.utime(ref, (when.timestamp(), when.timestamp()))
    else:
        git(path, "tag", "-a", name, "-m", message, rev, when=when, author=author)


def branch(path: str | os.PathLike[str], name: str, rev: str = "HEAD") -> None:
    git(path, "branch", name, rev)


def checkout(path: str | os.PathLike[str], rev: str) -> None:
    git(path, "checkout", "-q", rev)


def merge(path: str | os.PathLike[str], other: str, subject: str, when: datetime, *,
          author: tuple[str, str] = DEFAULT_AUTHOR) -> str:
    """A real merge commit (``--no-ff``) of ``other`` into the current branch; return its sha."""
    git(path, "merge", "-q", "--no-ff", "--no-edit", "-m", subject, other, when=when, author=author)
    return git(path, "rev-parse", "HEAD")


@dataclass(frozen=True)
class Step:
    minutes_ago: float
    subject: str
    author: tuple[str, str] = DEFAULT_AUTHOR
    tag: str | None = None          # annotated tag at this commit, tagged at the same time


def deploy_history(path: str | os.PathLike[str], steps: Iterable[Step], *, now: datetime,
                   branch_name: str = "main") -> dict[str, str]:
    """A repo with one commit per step (oldest first); return subject -> sha."""
    init_repo(path, branch=branch_name)
    shas: dict[str, str] = {}
    for i, step in enumerate(sorted(steps, key=lambda s: -s.minutes_ago)):
        when = now - timedelta(minutes=step.minutes_ago)
        sha = commit(path, step.subject, when, author=step.author, files={"CHANGES": f"{i} {step.subject}\n"})
        shas[step.subject] = sha
        if step.tag:
            tag(path, step.tag, message=f"deploy {step.tag}", when=when, author=step.author)
    return shas


def fast_import_repo(path: str | os.PathLike[str], n_commits: int, *, start: datetime | None = None,
                     step_seconds: int = 60, tag_every: int = 0, branch_name: str = "main",
                     authors: Sequence[tuple[str, str]] = (DEFAULT_AUTHOR, ("Bob Builder", "bob@example.com"))) -> Path:
    """A linear history of ``n_commits`` built by one ``git fast-import`` run.

    Commit *i* is dated ``start + i*step_seconds`` and changes one small file;
    every ``tag_every``-th commit gets a lightweight tag ``deploy-<i>``.
    """
    path = init_repo(path, branch=branch_name)
    start = start or datetime(2024, 1, 1, tzinfo=timezone.utc)
    base = int(start.timestamp())
    env = _env()
    proc = subprocess.Popen(["git", "-C", str(path), "fast-import", "--quiet", "--done"],
                            stdin=subprocess.PIPE, env=env)
    assert proc.stdin is not None
    out = proc.stdin
    ref = f"refs/heads/{branch_name}"
    for i in range(1, n_commits + 1):
        name, email = authors[i % len(authors)]
        stamp = f"{base + i * step_seconds} +0000"
        msg = f"change {i}: tweak service config\n".encode()
        blob = f"{i}\n".encode()
        chunks = [
            f"commit {ref}\nmark :{i}\n".encode(),
            f"author {name} <{email}> {stamp}\ncommitter {name} <{email}> {stamp}\n".encode(),
            f"data {len(msg)}\n".encode(), msg,
        ]
        if i > 1:
            chunks.append(f"from :{i - 1}\n".encode())
        chunks.append(f"M 100644 inline file{i % 100}.txt\ndata {len(blob)}\n".encode())
        chunks.append(blob + b"\n")
        if tag_every and i % tag_every == 0:
            chunks.append(f"reset refs/tags/deploy-{i:06d}\nfrom :{i}\n\n".encode())
        out.write(b"".join(chunks))
    out.write(b"done\n")
    out.close()
    if proc.wait() != 0:
        raise RuntimeError("git fast-import failed")
    git(path, "reset", "-q", "--hard", branch_name)
    return path
