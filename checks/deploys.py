"""Recent deploys from git repositories (GitPython), and which ones look suspect.

A "deploy" is either a commit on a branch (``RepoSpec.branch``; None: the
checked-out branch, or HEAD when detached) or a tag matching a glob
(``RepoSpec.tags``, e.g. ``"deploy-*"``), newest first, at most ``limit``.

Design choices worth knowing:

* Never walk the history: one ``git log -n N`` (branch) or one
  ``git for-each-ref --sort=-creatordate --count=N`` (tags) subprocess per repo
  and poll, whatever the repository's size.
* A branch deploy's time is the *committer* date (when it landed on the branch,
  e.g. the merge or rebase), not the author date. A tag deploy's time is the
  tag's tagger date when the tag is annotated. A lightweight tag has no date of its
  own: its time is the tagged commit's committer date (``time_source`` says so, and the
  pane marks it), unless git shows it was made later: its loose ref file was written
  after the commit (``git tag`` writes it then; a clone packs refs and leaves none), or
  it appeared while we were watching. A lightweight tag put on an old commit during
  the incident is then a deploy of now, not of 117 days ago.
* Suspect window: the *reference* is the earliest known sign of trouble, i.e.
  the earlier of the incident start and the first failure seen
  (:meth:`DeploysSource.set_first_failure`). A deploy is **suspect** when it
  landed within ``suspect_window_minutes`` before the reference (inclusive). A
  deploy that landed *after* the reference is marked **during incident** and is
  not suspect: it is usually a fix or a rollback, but still worth seeing.
* Failure is data: each repo carries its own ``error`` in words; the snapshot's
  ``error`` is set only when every repo failed. ``git fetch`` (off by default)
  runs inside ``poll`` when due, bounded by a timeout, never prompting for
  credentials; a failed fetch keeps the local deploys and sets the repo's error.
* GitPython is imported lazily: importing it runs ``git`` once, and a missing
  git binary then becomes an error in words instead of an ImportError.
"""
from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Iterator

from checks.base import Event, Level, Snapshot
from checks.specs import RepoSpec
from tui.incident.model import utcnow
from tui.incident.safe_text import row_text

if TYPE_CHECKING:  # pragma: no cover
    import git

__all__ = [
    "NO_REPOS_HINT",
    "Deploy",
    "DeploysSnapshot",
    "DeploysSource",
    "RepoDeploys",
    "changes",
    "diffstat",
    "format_age",
    "mark_deploys",
    "repo_names",
    "revert_command",
    "summarize",
]

NO_REPOS_HINT = "no git repo — add [[repos]] to warroom.toml"
FETCH_TIMEOUT_S = 20.0
GIT_TIMEOUT_S = 10.0
DIFFSTAT_MAX_FILES = 40
DIFFSTAT_MAX_CHARS = 4000
SUBJECT_MAX = 120
# With no ref changed, a poll reuses the last `git log` (a process and a thread per poll,
# for nothing); this often it runs anyway, in case a change slipped past the ref check.
REREAD_AFTER_S = 60.0

# Unit separator between fields, record separator between records: neither
# appears in names or subjects, so parsing needs no quoting.
_LOG_FORMAT = "%H%x1f%h%x1f%ct%x1f%aN%x1f%P%x1f%D%x1f%s%x1e"
_TAG_FORMAT = "%1f".join([
    "%(refname:strip=2)", "%(objecttype)",
    "%(objectname)", "%(objectname:short)", "%(*objectname)", "%(*objectname:short)",
    "%(creatordate:unix)",
    "%(authorname)", "%(*authorname)", "%(parent)", "%(*parent)", "%(subject)", "%(*subject)",
]) + "%1e"
_SHA_RE = re.compile(r"^[0-9a-fA-F]{4,64}$")

TIME_COMMITTED = "committed"
TIME_TAGGED = "tagged"
TIME_COMMIT_OF_TAG = "commit date"
TIME_REF_WRITTEN = "ref written"
TIME_FIRST_SEEN = "first seen"
# A lightweight tag's ref written (or seen) this long after its commit was made later.
_LATER_THAN_COMMIT = timedelta(minutes=1)


@dataclass(frozen=True)
class Deploy:
    """One commit or tag that counts as a deploy."""
    sha: str
    short_sha: str
    when: datetime                 # UTC: what time this is, time_source says
    author: str
    subject: str
    tag: str | None = None         # the deploy tag (tags mode), or the commit's tags joined (branch mode)
    merge: bool = False
    suspect: bool = False
    during_incident: bool = False
    # Minutes between this deploy and the reference (positive: before it). None without a reference.
    minutes_before: float | None = None
    # Identity within a repo: the sha on a branch; the tag name in tags mode, where
    # a re-tag of the same commit is another deploy. Empty: the sha.
    key: str = ""
    # What ``when`` is: TIME_COMMITTED (a branch's commit), TIME_TAGGED (an annotated tag's
    # tagger date), TIME_COMMIT_OF_TAG (a lightweight tag: its commit's date, nothing better
    # known), TIME_REF_WRITTEN or TIME_FIRST_SEEN (a lightweight tag made after its commit).
    time_source: str = "committed"
    committed: datetime | None = None    # the commit's date, when ``when`` is another time

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.sha)


@dataclass(frozen=True)
class RepoDeploys:
    """One repository's recent deploys, or why there are none."""
    name: str
    path: str
    ref: str                       # "main", "HEAD (detached)", "tags deploy-*"
    deploys: tuple[Deploy, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class DeploysSnapshot(Snapshot):
    """Every repository at one poll, with the suspect reference."""
    repos: tuple[RepoDeploys, ...] = ()
    reference: datetime | None = None       # start of trouble the suspect window ends at
    reference_kind: str = ""                # "incident" | "first failure" | ""

    def all_deploys(self) -> list[tuple[RepoDeploys, Deploy]]:
        """Every deploy of every repo, newest first."""
        rows = [(r, d) for r in self.repos for d in r.deploys]
        rows.sort(key=lambda rd: rd[1].when, reverse=True)
        return rows

    def suspects(self) -> list[tuple[RepoDeploys, Deploy]]:
        return [(r, d) for r, d in self.all_deploys() if d.suspect]


# ---------------------------------------------------------------- pure helpers

def revert_command(sha: str, *, merge: bool = False) -> str:
    """The command an IC pastes to roll a deploy back (a merge needs its mainline)."""
    return f"git revert -m 1 {sha}" if merge else f"git revert {sha}"


def format_age(when: datetime, now: datetime) -> str:
    """Compact relative time: "now", "45s ago", "7m ago", "3h ago", "2d ago", "in 5m"."""
    seconds = (now - when).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 10:
        return "now"
    if seconds < 60:
        text = f"{seconds:.0f}s"
    elif seconds < 3600:
        text = f"{seconds // 60:.0f}m"
    elif seconds < 86400 * 2:
        hours, rest = divmod(seconds, 3600)
        text = f"{hours:.0f}h" if hours >= 10 or rest < 60 else f"{hours:.0f}h{rest // 60:.0f}m"
    else:
        text = f"{seconds // 86400:.0f}d"
    return f"in {text}" if future else f"{text} ago"


def _minutes_text(minutes: float) -> str:
    if minutes < 1:
        return f"{minutes * 60:.0f}s"
    if minutes < 120:
        return f"{minutes:.0f}m"
    return f"{minutes / 60:.0f}h"


def mark_deploys(deploys: Sequence[Deploy], reference: datetime | None,
                 window_minutes: float) -> tuple[Deploy, ...]:
    """Set suspect / during_incident / minutes_before against the reference time."""
    if reference is None:
        return tuple(replace(d, suspect=False, during_incident=False, minutes_before=None) for d in deploys)
    out = []
    start = reference - timedelta(minutes=window_minutes)
    for d in deploys:
        before = (reference - d.when).total_seconds() / 60
        out.append(replace(d, suspect=start <= d.when <= reference,
                           during_incident=d.when > reference, minutes_before=before))
    return tuple(out)


def summarize(repos: Sequence[RepoDeploys], now: datetime, reference_kind: str = "") -> tuple[Level, str, str | None]:
    """Level, summary line and snapshot error for a set of repos."""
    if not repos:
        return Level.UNKNOWN, NO_REPOS_HINT, None
    failed = [r for r in repos if r.error]
    error = None
    if len(failed) == len(repos):
        error = failed[0].error if len(repos) == 1 else f"all {len(repos)} repos failing — {failed[0].name}: {failed[0].error}"
    multi = len(repos) > 1
    suspects = sorted(((r, d) for r in repos for d in r.deploys if d.suspect),
                      key=lambda rd: rd[1].when, reverse=True)
    if suspects:
        repo, d = suspects[0]
        tag = f"{d.tag} " if d.tag and d.tag not in d.subject else ""
        what = f"{d.short_sha} {tag}{d.subject}"
        where = f" [{repo.name}]" if multi else ""
        ref = reference_kind or "incident"
        text = f"suspect: {what}{where} ({_minutes_text(d.minutes_before or 0.0)} before {ref})"
        if len(suspects) > 1:
            text += f" +{len(suspects) - 1} more"
        return Level.WARN, text, error
    if error:
        return Level.UNKNOWN, error, error
    latest = max(((r, d) for r in repos for d in r.deploys), key=lambda rd: rd[1].when, default=None)
    level = Level.UNKNOWN if failed else Level.OK
    if latest is None:
        return level, f"{failed[0].name}: {failed[0].error}" if failed else "no deploys", None
    repo, d = latest
    where = f" [{repo.name}]" if multi else ""
    text = f"last deploy {format_age(d.when, now)}: {d.short_sha} {d.subject}{where}"
    if failed:
        text += f" · {len(failed)} repo{'s' if len(failed) > 1 else ''} failing"
    return level, text, None


def changes(prev: DeploysSnapshot | None, cur: DeploysSnapshot) -> list[Event]:
    """One "new deploy" event per deploy not in the previous snapshot, oldest first.

    Key "deploy:<repo>", state the deploy's short sha. Nothing on first sight:
    no previous snapshot, a repo not in it, or a repo that had no deploys then
    (e.g. it was failing) — otherwise opening the dashboard would flood the
    timeline with history.
    """
    if prev is None:
        return []
    before = {r.name: r for r in prev.repos}
    events: list[Event] = []
    for repo in cur.repos:
        old = before.get(repo.name)
        if old is None or not old.deploys:
            continue
        seen = {d.key for d in old.deploys}
        oldest = min(d.when for d in old.deploys)
        # Deploys that only slid into the window from below (a tag deleted, the
        # limit raised) are not new: only what landed since the oldest one shown.
        new = [d for d in repo.deploys if d.key not in seen and d.when >= oldest]
        for d in sorted(new, key=lambda d: d.when):
            tag = f" ({d.tag})" if d.tag else ""
            flag = " — during incident" if d.during_incident else (" — SUSPECT" if d.suspect else "")
            text = f"new deploy in {repo.name}: {d.short_sha}{tag} {d.subject} by {d.author}{flag}"
            level = Level.WARN if (d.during_incident or d.suspect) else Level.OK
            events.append(Event(f"deploy:{repo.name}", d.short_sha, text, level))
    return events


def repo_names(paths: Sequence[str]) -> list[str]:
    """Short unique names: the folder name, with its parent when two collide."""
    norm = [os.path.normpath(os.path.abspath(os.path.expanduser(p))) for p in paths]
    base = [os.path.basename(p) or p for p in norm]
    names = []
    for i, name in enumerate(base):
        if base.count(name) > 1:
            parent = os.path.basename(os.path.dirname(norm[i]))
            name = f"{parent}/{name}" if parent else norm[i]
        names.append(name)
    # Still colliding (same path twice): number them.
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return out


def _clean(text: str, limit: int = SUBJECT_MAX) -> str:
    """Printable text only, shortened: names and subjects are foreign input (escape sequences...),
    made one row of glyphs by the one sanitiser (safe_text.row_text)."""
    text = row_text(text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _utc(epoch: str) -> datetime:
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc)


def _git_reason(exc: BaseException) -> str:
    """A GitCommandError's stderr boiled down to one line in words."""
    raw = getattr(exc, "stderr", "") or ""
    raw = raw.strip()
    if raw.startswith("stderr:"):
        raw = raw[len("stderr:"):].strip()
    raw = raw.strip("'\"").strip()
    lines = [ln.strip() for ln in raw.splitlines() if ln.strip()]
    text = str(exc) if not lines else next((ln for ln in lines if ln.startswith(("fatal:", "error:"))), lines[0])
    if "timed out" in text or "kill_after_timeout" in text or "did not complete in" in text:
        return "timed out"
    for prefix in ("fatal:", "error:"):
        if text.startswith(prefix):
            text = text[len(prefix):].strip()
    return _clean(text, 160) or "git failed"


def _records(out: str, n_fields: int) -> Iterator[list[str]]:
    """The first ``n_fields`` fields of each record (\x1e-separated, fields \x1f); short ones skipped."""
    for record in out.split("\x1e"):
        record = record.strip("\n")
        if record and len(fields := record.split("\x1f")) >= n_fields:
            yield fields[:n_fields]


def _parse_log(out: str) -> list[Deploy]:
    deploys = []
    for sha, short, ct, author, parents, decoration, subject in _records(out, 7):
        tags = [d.strip()[len("tag: "):] for d in decoration.split(",") if d.strip().startswith("tag: ")]
        deploys.append(Deploy(
            sha=sha, short_sha=short, when=_utc(ct), author=_clean(author, 60), subject=_clean(subject),
            tag=_clean(", ".join(tags), 60) or None, merge=len(parents.split()) > 1,
        ))
    return deploys


def _parse_tags(out: str) -> list[Deploy]:
    deploys = []
    for (name, objtype, sha, short, psha, pshort, created, author, pauthor, parents, pparents, subject,
         psubject) in _records(out, 13):
        if objtype == "tag":
            # Annotated: the deploy is the commit the tag points at.
            sha, short, author, parents, subject = psha, pshort, pauthor, pparents, psubject
            source = TIME_TAGGED
        elif objtype == "commit":
            source = TIME_COMMIT_OF_TAG
        else:
            continue
        if not sha or not created:
            continue
        deploys.append(Deploy(
            sha=sha, short_sha=short, when=_utc(created), author=_clean(author, 60), subject=_clean(subject),
            tag=_clean(name, 60), merge=len(parents.split()) > 1, key=name, time_source=source,
        ))
    return deploys


def _loose_tag_written(repo: git.Repo, name: str) -> datetime | None:
    """When the loose ref of tag ``name`` was last written, if it has one."""
    tags = os.path.join(repo.common_dir, "refs", "tags")
    path = os.path.normpath(os.path.join(tags, name))
    if not path.startswith(tags + os.sep):
        return None
    try:
        return datetime.fromtimestamp(os.stat(path).st_mtime, tz=timezone.utc)
    except OSError:
        return None     # packed (a clone, gc) or a reftable: nothing but the commit's date


def _date_lightweight_tags(repo: git.Repo, deploys: list[Deploy], first_seen: dict[str, datetime]) -> list[Deploy]:
    """A lightweight tag made after its commit gets the time git shows it was made."""
    out = []
    for d in deploys:
        if d.time_source == TIME_COMMIT_OF_TAG:
            written, seen = _loose_tag_written(repo, d.key), first_seen.get(d.key)
            later = [(t, kind) for t, kind in ((written, TIME_REF_WRITTEN), (seen, TIME_FIRST_SEEN))
                     if t is not None and t - d.when >= _LATER_THAN_COMMIT]
            if later:
                when, kind = min(later, key=lambda tk: tk[0])
                d = replace(d, when=when, time_source=kind, committed=d.when)
        out.append(d)
    return out


# ---------------------------------------------------------------- the source

class _RepoProblem(Exception):
    """A per-repo failure whose message is already in words."""


class _RepoState:
    def __init__(self, spec: RepoSpec, name: str) -> None:
        self.spec = spec
        self.name = name
        self.path = os.path.abspath(os.path.expanduser(spec.path))
        self.repo: git.Repo | None = None
        self.polled = False
        self.next_fetch = 0.0
        self.fetch_error: str | None = None
        # The refs as last read, and the deploys (unmarked) and ref name read with them.
        self.refs_seen: tuple[Any, ...] | None = None
        self.read: tuple[list[Deploy], str] | None = None
        self.read_at = 0.0
        # Tags mode: every tag read so far (None before the first read), and when those
        # that appeared after it were first read.
        self.tags_known: set[str] | None = None
        self.first_seen: dict[str, datetime] = {}


class DeploysSource:
    """Polls recent deploys of every configured repo; ``poll()`` is synchronous and never raises."""

    def __init__(self, specs: Sequence[RepoSpec], *, incident_started: datetime | None = None) -> None:
        names = repo_names([s.path for s in specs])
        self._repos = [_RepoState(spec, name) for spec, name in zip(specs, names)]
        self.incident_started = incident_started
        self.first_failure: datetime | None = None

    def set_incident_started(self, when: datetime | None) -> None:
        self.incident_started = when

    def set_first_failure(self, when: datetime | None) -> None:
        """Record the first failure seen; the earliest one wins. None forgets it."""
        if when is None or self.first_failure is None or when < self.first_failure:
            self.first_failure = when

    def reference(self) -> tuple[datetime | None, str]:
        """The earliest known start of trouble and what it is."""
        known = [(t, kind) for t, kind in ((self.incident_started, "incident"), (self.first_failure, "first failure"))
                 if t is not None]
        if not known:
            return None, ""
        return min(known, key=lambda tk: tk[0])

    def close(self) -> None:
        for state in self._repos:
            if state.repo is not None:
                state.repo.close()
                state.repo = None

    def poll(self) -> DeploysSnapshot:
        try:
            return self._poll()
        except Exception as exc:  # noqa: BLE001 - failure is data
            text = f"deploys failed: {exc}"
            return DeploysSnapshot(level=Level.UNKNOWN, summary=text, error=text)

    def _poll(self) -> DeploysSnapshot:
        now = utcnow()
        reference, kind = self.reference()
        repos = tuple(self._poll_repo(state, reference) for state in self._repos)
        level, summary, error = summarize(repos, now, kind)
        return DeploysSnapshot(taken_at=now, level=level, summary=summary, error=error,
                               repos=repos, reference=reference, reference_kind=kind)

    def _poll_repo(self, state: _RepoState, reference: datetime | None) -> RepoDeploys:
        spec = state.spec
        ref = f"tags {spec.tags}" if spec.tags else (spec.branch or "HEAD")
        try:
            repo = self._open(state)
            if not spec.tags and not spec.branch:
                ref = _current_branch(repo)
            self._maybe_fetch(state, repo)
            refs = _refs_fingerprint(repo)
            if refs is not None and refs == state.refs_seen and state.read is not None \
                    and time.monotonic() - state.read_at < REREAD_AFTER_S:
                deploys, ref = state.read
            else:
                if spec.tags:
                    deploys = _tag_deploys(repo, spec.tags, spec.limit, state)
                else:
                    deploys, ref = _branch_deploys(repo, spec.branch, ref, spec.limit)
                state.refs_seen, state.read, state.read_at = refs, (deploys, ref), time.monotonic()
        except _RepoProblem as exc:
            state.read = None
            return RepoDeploys(state.name, state.path, ref, (), str(exc))
        except Exception as exc:  # noqa: BLE001 - one odd repo must not hide the others
            state.read = None
            state.repo = None
            reason = _git_reason(exc) if getattr(exc, "stderr", None) else (str(exc).splitlines() or [""])[0]
            return RepoDeploys(state.name, state.path, ref, (), _clean(f"git failed: {reason or type(exc).__name__}", 200))
        finally:
            state.polled = True
        marked = mark_deploys(deploys, reference, spec.suspect_window_minutes)
        return RepoDeploys(state.name, state.path, ref, marked, state.fetch_error)

    def _open(self, state: _RepoState) -> git.Repo:
        if not os.path.exists(state.path):
            state.repo = None
            raise _RepoProblem(f"path does not exist: {state.path}")
        if state.repo is not None:
            return state.repo
        try:
            import git
        except ImportError as exc:
            raise _RepoProblem(f"git is not available: {exc}".splitlines()[0]) from exc
        try:
            state.repo = git.Repo(state.path)
        except git.NoSuchPathError as exc:
            raise _RepoProblem(f"path does not exist: {state.path}") from exc
        except git.InvalidGitRepositoryError as exc:
            raise _RepoProblem(f"not a git repository: {state.path}") from exc
        except OSError as exc:
            raise _RepoProblem(f"cannot open {state.path}: {exc.strerror or exc}") from exc
        return state.repo

    def _maybe_fetch(self, state: _RepoState, repo: git.Repo) -> None:
        interval = state.spec.fetch_interval
        if interval <= 0:
            return
        now = time.monotonic()
        # The first poll shows local data at once; the first fetch comes with the next one.
        if not state.polled or now < state.next_fetch:
            if not state.polled:
                state.next_fetch = now
            return
        state.next_fetch = now + interval
        args = ["--quiet"]
        if state.spec.tags:
            args.append("--tags")
        timeout = FETCH_TIMEOUT_S
        try:
            repo.git.fetch(*args, kill_after_timeout=timeout, env=_fetch_env())
        except Exception as exc:  # noqa: BLE001 - any fetch failure is the repo's error text
            reason = _git_reason(exc)
            if reason == "timed out":
                reason = f"timed out after {timeout:g} s"
            state.fetch_error = f"git fetch failed: {reason}"
        else:
            state.fetch_error = None


def _fetch_env() -> dict[str, str]:
    # A dashboard must never stop at a password or host-key prompt.
    return {
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_SSH_COMMAND": os.environ.get("GIT_SSH_COMMAND", "ssh -o BatchMode=yes"),
    }


def _refs_fingerprint(repo: git.Repo) -> tuple[Any, ...] | None:
    """Every file that says where a ref points, as (path, mtime, size, inode): HEAD, the
    loose refs (branches, tags, remotes, notes, replacements) and packed-refs (or a
    reftable). Git moves a ref by writing a new file over the old, so a commit, a tag, a
    fetch, a checkout or a gc changes this. None: unreadable (read the log every poll)."""
    seen: list[tuple[Any, ...]] = []
    try:
        roots = {str(repo.git_dir), str(getattr(repo, "common_dir", repo.git_dir))}
        for root in sorted(roots):
            for name in ("HEAD", "packed-refs"):
                _stat_into(seen, os.path.join(root, name))
            for top in ("refs", "reftable"):
                for folder, _dirs, files in os.walk(os.path.join(root, top)):
                    _stat_into(seen, folder)
                    for name in files:
                        _stat_into(seen, os.path.join(folder, name))
    except OSError:
        return None
    return tuple(seen)


def _stat_into(seen: list[tuple[Any, ...]], path: str) -> None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    seen.append((path, st.st_mtime_ns, st.st_size, st.st_ino))


def _is_empty(repo: git.Repo) -> bool:
    try:
        return len(repo.refs) == 0 and not repo.head.is_valid()
    except Exception:  # noqa: BLE001
        return False


def _current_branch(repo: git.Repo) -> str:
    try:
        if repo.head.is_detached:
            return "HEAD (detached)"
        return repo.head.reference.name
    except Exception:  # noqa: BLE001 - an odd HEAD still gets logged as "HEAD"
        return "HEAD"


def _git(repo: git.Repo, command: str, *args: Any) -> str:
    out: str = getattr(repo.git, command)(*args, kill_after_timeout=GIT_TIMEOUT_S)
    return out


def _branch_deploys(repo: git.Repo, branch: str | None, ref: str, limit: int) -> tuple[list[Deploy], str]:
    import git

    candidates = [branch] if branch else ["HEAD"]
    if branch and "/" not in branch:
        # With fetching on, the local branch may not exist but its remote twin does.
        candidates.append(f"origin/{branch}")
    last: Exception | None = None
    for rev in candidates:
        try:
            out = _git(repo, "log", f"-n{max(1, int(limit))}", "--no-show-signature", "--no-color",
                       "--decorate-refs=refs/tags/", f"--format={_LOG_FORMAT}", "--end-of-options", rev, "--")
        except git.GitCommandError as exc:
            last = exc
            continue
        return _parse_log(out), (ref if rev == candidates[0] else rev)
    if _is_empty(repo):
        raise _RepoProblem("empty repository (no commits yet)")
    reason = _git_reason(last) if last else "git log failed"
    if "bad revision" in reason or "unknown revision" in reason or "ambiguous argument" in reason \
            or "does not have any commits" in reason:
        if branch:
            raise _RepoProblem(f"branch '{branch}' not found")
        raise _RepoProblem(f"branch '{ref}' has no commits yet")
    raise _RepoProblem(reason)


def _tag_deploys(repo: git.Repo, pattern: str, limit: int, state: _RepoState | None = None) -> list[Deploy]:
    import git

    # Every matching tag, not the newest ``limit`` by creator date: a lightweight tag on an
    # old commit sorts by that commit's date, and the tag made during the incident would be
    # cut. One for-each-ref still; history is never walked.
    try:
        out = _git(repo, "for_each_ref", "--sort=-creatordate", f"--format={_TAG_FORMAT}", f"refs/tags/{pattern}")
    except git.GitCommandError as exc:
        raise _RepoProblem(_git_reason(exc)) from exc
    deploys = _parse_tags(out)
    if not deploys:
        if _is_empty(repo):
            raise _RepoProblem("empty repository (no commits yet)")
        raise _RepoProblem(f"no tags match '{pattern}'")
    first_seen: dict[str, datetime] = {}
    if state is not None:
        keys = {d.key for d in deploys}
        if state.tags_known is not None:
            now = utcnow()
            for key in keys - state.tags_known:
                state.first_seen.setdefault(key, now)
        state.tags_known = keys
        state.first_seen = {k: t for k, t in state.first_seen.items() if k in keys}
        first_seen = state.first_seen
    deploys = _date_lightweight_tags(repo, deploys, first_seen)
    deploys.sort(key=lambda d: d.when, reverse=True)
    return deploys[:max(1, int(limit))]


def diffstat(repo_path: str, sha: str, *, max_files: int = DIFFSTAT_MAX_FILES,
             max_chars: int = DIFFSTAT_MAX_CHARS) -> str:
    """``git show --stat`` of one deploy, bounded; an error comes back as text, never raised.

    A merge is shown against its first parent: what the merge brought to the branch.
    """
    if not _SHA_RE.match(sha or ""):
        return f"diffstat unavailable: not a commit id: {sha!r}"
    try:
        import git

        repo = git.Repo(os.path.expanduser(repo_path))
    except Exception as exc:  # noqa: BLE001
        return f"diffstat unavailable: cannot open {repo_path}: {type(exc).__name__}"
    try:
        out = _git(repo, "show", "--stat=100", f"--stat-count={max_files}", "-m", "--first-parent",
                   "--format=", "--no-color", sha, "--")
    except Exception as exc:  # noqa: BLE001
        return f"diffstat unavailable: {_git_reason(exc)}"
    finally:
        repo.close()
    out = out.strip("\n")
    if len(out) > max_chars:
        out = out[:max_chars].rsplit("\n", 1)[0] + "\n…"
    return out or "(no file changes)"
