"""Recent deploys against real temporary git repos (built by tests.gitrepos), the
suspect window, ``changes()``, helpers, and the pane in a tiny app."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from textual.app import App, ComposeResult

from checks.base import Level
from checks.deploys import (
    NO_REPOS_HINT,
    Deploy,
    DeploysSnapshot,
    DeploysSource,
    RepoDeploys,
    changes,
    diffstat,
    format_age,
    mark_deploys,
    repo_names,
    revert_command,
)
from checks.specs import RepoSpec
from tests import gitrepos as g
from widgets.deploys import DeploysPane

NOW = datetime(2026, 11, 21, 14, 30, tzinfo=timezone.utc)
BOB = ("Bob Builder", "bob@example.com")


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def poll_one(spec: RepoSpec, **kw) -> RepoDeploys:
    snap = DeploysSource([spec], **kw).poll()
    assert len(snap.repos) == 1
    return snap.repos[0]


@pytest.fixture
def linear(tmp_path) -> tuple[Path, dict[str, str]]:
    """main: five commits at 300, 200, 100, 7 minutes before NOW and 5 after."""
    path = tmp_path / "payments"
    shas = g.deploy_history(path, [
        g.Step(300, "init"),
        g.Step(200, "tune pool size"),
        g.Step(100, "deploy payments v2.3.0", author=BOB, tag="v2.3.0"),
        g.Step(7, "deploy payments v2.3.1", tag="v2.3.1"),
        g.Step(-5, "roll back payments to v2.3.0", author=BOB),
    ], now=NOW)
    return path, shas


# ---------------------------------------------------------------- branches

def test_current_branch_newest_first_with_fields(linear):
    path, shas = linear
    repo = poll_one(RepoSpec(str(path)))
    assert repo.error is None
    assert repo.name == "payments" and repo.ref == "main" and repo.path == str(path)
    subjects = [d.subject for d in repo.deploys]
    assert subjects == ["roll back payments to v2.3.0", "deploy payments v2.3.1", "deploy payments v2.3.0",
                        "tune pool size", "init"]
    top = repo.deploys[0]
    assert top.sha == shas["roll back payments to v2.3.0"] and len(top.sha) == 40
    assert top.sha.startswith(top.short_sha) and len(top.short_sha) >= 7
    assert top.when == ago(-5) and top.when.tzinfo == timezone.utc
    assert top.author == "Bob Builder"
    assert top.merge is False and top.tag is None and top.key == top.sha
    assert repo.deploys[1].tag == "v2.3.1", "tags on a branch commit are shown"
    assert repo.deploys[1].key == repo.deploys[1].sha, "on a branch a deploy is its commit"


def test_limit_is_respected(tmp_path):
    path = g.init_repo(tmp_path / "r")
    for i in range(20):
        g.commit(path, f"c{i}", ago(100 - i))
    repo = poll_one(RepoSpec(str(path), limit=5))
    assert [d.subject for d in repo.deploys] == ["c19", "c18", "c17", "c16", "c15"]


def test_named_branch_detached_head_and_remote_fallback(linear):
    path, _ = linear
    g.checkout(path, "HEAD~2")
    g.branch(path, "release")
    g.commit(path, "hotfix on release", ago(1))  # detached: this commit is on no branch yet
    detached = poll_one(RepoSpec(str(path)))
    assert detached.ref == "HEAD (detached)" and detached.deploys[0].subject == "hotfix on release"
    main = poll_one(RepoSpec(str(path), branch="main"))
    assert main.ref == "main" and main.deploys[0].subject == "roll back payments to v2.3.0"
    release = poll_one(RepoSpec(str(path), branch="release", limit=1))
    assert [d.subject for d in release.deploys] == ["deploy payments v2.3.0"]
    # A branch that only exists as origin/<name> (fetched, never checked out) is followed there.
    g.git(path, "update-ref", "refs/remotes/origin/prod", "main~1")
    prod = poll_one(RepoSpec(str(path), branch="prod", limit=1))
    assert prod.error is None and prod.ref == "origin/prod"
    assert prod.deploys[0].subject == "deploy payments v2.3.1"


def test_merge_commits_are_flagged(tmp_path):
    path = g.init_repo(tmp_path / "r")
    g.commit(path, "base", ago(60), files={"a.txt": "a\n"})
    g.branch(path, "feature")
    g.checkout(path, "feature")
    g.commit(path, "feature work", ago(50), files={"feature.txt": "f\n"})
    g.checkout(path, "main")
    g.commit(path, "main work", ago(40), files={"b.txt": "b\n"})
    merge_sha = g.merge(path, "feature", "Merge branch 'feature'", ago(30))
    repo = poll_one(RepoSpec(str(path)))
    top = repo.deploys[0]
    assert top.sha == merge_sha and top.merge is True
    assert [d.merge for d in repo.deploys[1:]] == [False, False, False]
    assert revert_command(top.sha, merge=top.merge) == f"git revert -m 1 {merge_sha}"
    assert revert_command("abc1234") == "git revert abc1234"
    stat = diffstat(str(path), merge_sha)
    assert "feature.txt" in stat and "b.txt" not in stat, "a merge is shown against its first parent"


def _count_git_runs(monkeypatch) -> list[str]:
    import checks.deploys as d

    runs: list[str] = []
    original = d._git

    def counting(repo, command, *args):
        runs.append(command)
        return original(repo, command, *args)

    monkeypatch.setattr(d, "_git", counting)
    return runs


def test_unchanged_refs_reuse_the_last_log_and_any_ref_change_rereads(linear, monkeypatch):
    path, _ = linear
    runs = _count_git_runs(monkeypatch)
    source = DeploysSource([RepoSpec(str(path))], incident_started=NOW)
    first = source.poll().repos[0]
    assert source.poll().repos[0] == first and len(runs) == 1     # nothing moved: no git process
    g.commit(path, "hotfix: cap the card-token cache", NOW)        # the branch moves
    assert source.poll().repos[0].deploys[0].subject == "hotfix: cap the card-token cache"
    g.tag(path, "v2.3.2")                                          # a tag on the newest commit
    assert "v2.3.2" in (source.poll().repos[0].deploys[0].tag or "")
    g.git(path, "pack-refs", "--all")                              # a gc packs every ref
    g.git(path, "update-ref", "refs/heads/main", "HEAD~1")         # and a packed branch moves back
    assert source.poll().repos[0].deploys[0].subject == "roll back payments to v2.3.0"
    g.branch(path, "other")
    g.checkout(path, "other")                                      # HEAD itself changes
    g.commit(path, "on another branch", NOW)
    assert source.poll().repos[0].ref == "other"
    assert len(runs) == 5


def test_the_log_is_read_again_after_a_while_even_with_no_ref_change(linear, monkeypatch):
    import checks.deploys as d

    path, _ = linear
    runs = _count_git_runs(monkeypatch)
    source = DeploysSource([RepoSpec(str(path))])
    source.poll()
    monkeypatch.setattr(d, "REREAD_AFTER_S", 0.0)
    source.poll()
    assert len(runs) == 2


def test_the_suspect_marking_follows_the_reference_on_a_reused_log(linear):
    path, _ = linear
    source = DeploysSource([RepoSpec(str(path))])
    assert not any(d.suspect for d in source.poll().repos[0].deploys)      # no reference yet
    source.set_incident_started(NOW)
    assert [d.subject for d in source.poll().repos[0].deploys if d.suspect] == ["deploy payments v2.3.1", "deploy payments v2.3.0"]


# ---------------------------------------------------------------- tags

def test_tags_pattern_sorted_by_creator_date(tmp_path):
    path = g.init_repo(tmp_path / "svc")
    a = g.commit(path, "first", ago(300), files={"x": "1"})
    b = g.commit(path, "second", ago(200), author=BOB, files={"x": "2"})
    c = g.commit(path, "third", ago(100), files={"x": "3"})
    g.tag(path, "deploy-1", a)                                   # lightweight: the commit's date
    g.tag(path, "deploy-3", c, message="ship it", when=ago(90))  # annotated: the tagger's date
    g.tag(path, "deploy-2b", b, message="re-deploy", when=ago(5), author=BOB)  # old commit, tagged late
    g.tag(path, "v9", c)                                         # does not match
    repo = poll_one(RepoSpec(str(path), tags="deploy-*"))
    assert repo.error is None and repo.ref == "tags deploy-*"
    assert [(d.tag, d.subject) for d in repo.deploys] == [
        ("deploy-2b", "second"), ("deploy-3", "third"), ("deploy-1", "first")]
    newest = repo.deploys[0]
    assert newest.sha == b and newest.when == ago(5) and newest.author == "Bob Builder"
    assert newest.key == "deploy-2b", "a re-tag of a commit is its own deploy"
    assert repo.deploys[2].when == ago(300)
    limited = poll_one(RepoSpec(str(path), tags="deploy-*", limit=2))
    assert [d.tag for d in limited.deploys] == ["deploy-2b", "deploy-3"]


# ---------------------------------------------------------------- errors in words

def test_errors_in_words(tmp_path, linear):
    path, _ = linear
    empty = g.init_repo(tmp_path / "empty")
    plain = tmp_path / "plain"
    plain.mkdir()
    missing = tmp_path / "missing"
    cases = [
        (RepoSpec(str(empty)), "empty repository (no commits yet)"),
        (RepoSpec(str(empty), branch="main"), "empty repository (no commits yet)"),
        (RepoSpec(str(empty), tags="deploy-*"), "empty repository (no commits yet)"),
        (RepoSpec(str(plain)), f"not a git repository: {plain}"),
        (RepoSpec(str(missing)), f"path does not exist: {missing}"),
        (RepoSpec(str(path), branch="nope"), "branch 'nope' not found"),
        (RepoSpec(str(path), tags="deploy-*"), "no tags match 'deploy-*'"),
    ]
    for spec, expected in cases:
        repo = poll_one(spec)
        assert (repo.error, repo.deploys) == (expected, ()), spec


def test_one_failing_repo_does_not_hide_the_others(tmp_path, linear):
    path, _ = linear
    missing = tmp_path / "gone"
    snap = DeploysSource([RepoSpec(str(path)), RepoSpec(str(missing))]).poll()
    assert snap.error is None
    assert [r.name for r in snap.repos] == ["payments", "gone"]
    assert len(snap.repos[0].deploys) == 5 and snap.repos[1].error == f"path does not exist: {missing}"
    assert snap.level == Level.UNKNOWN
    assert snap.summary.endswith("· 1 repo failing")

    all_bad = DeploysSource([RepoSpec(str(missing)), RepoSpec(str(tmp_path / "also-gone"))]).poll()
    assert all_bad.error == f"all 2 repos failing — gone: path does not exist: {missing}"
    single = DeploysSource([RepoSpec(str(missing))]).poll()
    assert single.error == f"path does not exist: {missing}" and single.level == Level.UNKNOWN


def test_an_unexpected_failure_stays_in_its_repo(linear, monkeypatch, tmp_path):
    import checks.deploys as deploys_mod

    path, _ = linear
    other = tmp_path / "other"
    g.deploy_history(other, [g.Step(5, "fine")], now=NOW)
    real = deploys_mod._branch_deploys

    def flaky(repo, branch, ref, limit):
        if "payments" in str(repo.working_dir):
            raise ValueError("odd object\nsecond line")
        return real(repo, branch, ref, limit)

    monkeypatch.setattr(deploys_mod, "_branch_deploys", flaky)
    snap = DeploysSource([RepoSpec(str(path)), RepoSpec(str(other))]).poll()
    assert snap.repos[0].error == "git failed: odd object"
    assert [d.subject for d in snap.repos[1].deploys] == ["fine"]
    assert snap.error is None


def test_no_repos_configured():
    snap = DeploysSource([]).poll()
    assert (snap.level, snap.summary, snap.error, snap.repos) == (Level.UNKNOWN, NO_REPOS_HINT, None, ())


def test_repo_appearing_later_is_picked_up(tmp_path):
    path = tmp_path / "later"
    src = DeploysSource([RepoSpec(str(path))])
    assert src.poll().repos[0].error == f"path does not exist: {path}"
    g.init_repo(path)
    g.commit(path, "hello", ago(1))
    assert [d.subject for d in src.poll().repos[0].deploys] == ["hello"]


# ---------------------------------------------------------------- suspects

def test_suspect_window_before_incident_start(linear):
    path, shas = linear
    snap = DeploysSource([RepoSpec(str(path), suspect_window_minutes=120)], incident_started=NOW).poll()
    flags = {d.subject: (d.suspect, d.during_incident) for d in snap.repos[0].deploys}
    assert flags == {
        "roll back payments to v2.3.0": (False, True),   # after the start: relevant, not suspect
        "deploy payments v2.3.1": (True, False),
        "deploy payments v2.3.0": (True, False),
        "tune pool size": (False, False),                # 200 min: outside the window
        "init": (False, False),
    }
    assert snap.level == Level.WARN
    short = shas["deploy payments v2.3.1"][:7]
    assert snap.summary.startswith(f"suspect: {short}") and "deploy payments v2.3.1" in snap.summary
    assert snap.summary.endswith("(7m before incident) +1 more")
    assert snap.reference == NOW and snap.reference_kind == "incident"
    minutes = {d.subject: d.minutes_before for d in snap.repos[0].deploys}
    assert minutes["deploy payments v2.3.1"] == pytest.approx(7)
    assert minutes["roll back payments to v2.3.0"] == pytest.approx(-5)


def test_first_failure_earlier_than_incident_moves_the_window(linear):
    path, _ = linear
    src = DeploysSource([RepoSpec(str(path), suspect_window_minutes=180)], incident_started=NOW)
    src.set_first_failure(ago(30))
    src.set_first_failure(ago(10))   # later than the first one: ignored
    snap = src.poll()
    flags = {d.subject: (d.suspect, d.during_incident) for d in snap.repos[0].deploys}
    assert flags["deploy payments v2.3.1"] == (False, True), "landed after the first failure"
    assert flags["deploy payments v2.3.0"] == (True, False)
    assert flags["tune pool size"] == (True, False), "200 min before the incident, but 170 before the failure"
    assert snap.reference == ago(30) and snap.reference_kind == "first failure"
    assert snap.summary.endswith("(70m before first failure) +1 more")


def test_no_reference_no_suspects(linear):
    path, _ = linear
    snap = DeploysSource([RepoSpec(str(path))]).poll()
    assert not any(d.suspect or d.during_incident for d in snap.repos[0].deploys)
    assert snap.level == Level.OK
    assert snap.summary.startswith("last deploy ") and "roll back payments" in snap.summary


def test_mark_deploys_window_is_inclusive():
    d = [Deploy("a" * 40, "aaaaaaa", ago(m), "x", f"m{m}") for m in (121, 120, 0, -1)]
    marked = mark_deploys(d, NOW, 120)
    assert [(x.suspect, x.during_incident) for x in marked] == [(False, False), (True, False), (True, False), (False, True)]
    assert all(x.minutes_before is None and not x.suspect for x in mark_deploys(marked, None, 120))


# ---------------------------------------------------------------- changes()

def test_changes_new_deploys_only_after_first_sight(linear):
    path, _ = linear
    src = DeploysSource([RepoSpec(str(path))], incident_started=NOW)
    first = src.poll()
    assert changes(None, first) == []
    assert changes(first, src.poll()) == []
    g.tag(path, "v2.3.2", "HEAD")           # a tag on a known commit is not a new deploy
    assert changes(first, src.poll()) == []
    s1 = g.commit(path, "fix connection leak", ago(-8))
    s2 = g.commit(path, "bump timeout", ago(-9), author=BOB)
    cur = src.poll()
    events = changes(first, cur)
    assert [(e.key, e.state) for e in events] == [("deploy:payments", s1[:7]), ("deploy:payments", s2[:7])]
    assert events[1].text == f"new deploy in payments: {s2[:7]} bump timeout by Bob Builder — during incident"
    assert events[1].level == Level.WARN


def test_changes_first_sight_of_a_repo_is_silent():
    d = Deploy("b" * 40, "bbbbbbb", NOW, "x", "s")
    prev = DeploysSnapshot(repos=(RepoDeploys("a", "/a", "main", (), "empty repository (no commits yet)"),))
    cur = DeploysSnapshot(repos=(RepoDeploys("a", "/a", "main", (d,)), RepoDeploys("b", "/b", "main", (d,))))
    assert changes(prev, cur) == []


# ---------------------------------------------------------------- fetch

def test_fetch_when_due_and_fetch_errors(tmp_path):
    origin = g.init_repo(tmp_path / "origin")
    g.commit(origin, "one", ago(20))
    clone = tmp_path / "clone"
    g.git(tmp_path, "clone", "-q", str(origin), str(clone))
    src = DeploysSource([RepoSpec(str(clone), branch="origin/main", fetch_interval=0.001)])
    assert [d.subject for d in src.poll().repos[0].deploys] == ["one"]
    g.commit(origin, "two", ago(10))
    repo = src.poll().repos[0]     # the fetch is due now
    assert repo.error is None and [d.subject for d in repo.deploys] == ["two", "one"]

    g.git(clone, "remote", "set-url", "origin", str(tmp_path / "no-such-remote"))
    repo = src.poll().repos[0]
    assert repo.error is not None and repo.error.startswith("git fetch failed: ")
    assert [d.subject for d in repo.deploys] == ["two", "one"], "local deploys stay visible"


def test_fetch_that_hangs_is_cut_off(tmp_path, monkeypatch):
    import checks.deploys as deploys_mod

    origin = g.init_repo(tmp_path / "origin")
    g.commit(origin, "one", ago(20))
    clone = tmp_path / "clone"
    g.git(tmp_path, "clone", "-q", str(origin), str(clone))
    g.git(clone, "remote", "set-url", "origin", "ssh://warroom.invalid/x.git")
    # An "ssh" that never answers, like a server behind a black-holing firewall.
    monkeypatch.setenv("GIT_SSH_COMMAND", "sh -c 'sleep 30' --")
    monkeypatch.setattr(deploys_mod, "FETCH_TIMEOUT_S", 0.5)
    src = DeploysSource([RepoSpec(str(clone), fetch_interval=0.001)])
    src.poll()
    repo = src.poll().repos[0]
    assert repo.error == "git fetch failed: timed out after 0.5 s"
    assert [d.subject for d in repo.deploys] == ["one"]


def test_fetch_is_off_by_default(tmp_path):
    origin = g.init_repo(tmp_path / "origin")
    g.commit(origin, "one", ago(20))
    clone = tmp_path / "clone"
    g.git(tmp_path, "clone", "-q", str(origin), str(clone))
    src = DeploysSource([RepoSpec(str(clone), branch="origin/main")])
    src.poll()
    g.commit(origin, "two", ago(10))
    assert [d.subject for d in src.poll().repos[0].deploys] == ["one"]


# ---------------------------------------------------------------- helpers

def test_diffstat_and_bad_input(linear):
    path, shas = linear
    stat = diffstat(str(path), shas["tune pool size"])
    assert "CHANGES" in stat and "1 file changed" in stat
    assert diffstat(str(path), "--output=/tmp/x").startswith("diffstat unavailable: not a commit id")
    assert diffstat(str(path), "deadbeef").startswith("diffstat unavailable: ")
    assert diffstat(str(path / "nope"), shas["init"]).startswith("diffstat unavailable: cannot open")


def test_diffstat_is_bounded(tmp_path):
    path = g.init_repo(tmp_path / "wide")
    sha = g.commit(path, "many files", ago(1), files={f"f{i:03d}.txt": "x\n" for i in range(60)})
    stat = diffstat(str(path), sha, max_files=5)
    assert stat.count("f0") == 5 and "60 files changed" in stat
    assert len(diffstat(str(path), sha, max_chars=100)) <= 102


def test_foreign_text_is_cleaned(tmp_path):
    path = g.init_repo(tmp_path / "r")
    g.commit(path, "evil \x1b[31mred\x1b[0m [bold]markup[/bold]", ago(1), author=("Mallory\x07", "m@x"))
    d = poll_one(RepoSpec(str(path))).deploys[0]
    assert "\x1b" not in d.subject and "\x07" not in d.author
    assert "[bold]markup[/bold]" in d.subject


def test_repo_names_and_format_age():
    assert repo_names(["/a/x/api", "/b/y/api", "/srv/web"]) == ["x/api", "y/api", "web"]
    assert repo_names(["/a/api", "/a/api"]) == ["a/api", "a/api#2"]
    assert format_age(ago(0.05), NOW) == "now"
    assert format_age(ago(0.5), NOW) == "30s ago"
    assert format_age(ago(7), NOW) == "7m ago"
    assert format_age(ago(130), NOW) == "2h10m ago"
    assert format_age(ago(60 * 30), NOW) == "30h ago"
    assert format_age(ago(60 * 24 * 3), NOW) == "3d ago"
    assert format_age(ago(-5), NOW) == "in 5m"


# ---------------------------------------------------------------- the pane

def dep(sha: str, minutes: float, subject: str, *, suspect=False, during=False, tag=None, author="alice") -> Deploy:
    return Deploy(sha * 40, sha * 7, ago(minutes), author, subject, tag=tag, suspect=suspect,
                  during_incident=during, minutes_before=minutes)


def dsnap(*repos: RepoDeploys, error: str | None = None, level: Level = Level.OK, summary: str = "s") -> DeploysSnapshot:
    return DeploysSnapshot(taken_at=NOW, level=level, summary=summary, error=error, repos=repos)


class DeploysApp(App):
    def __init__(self) -> None:
        super().__init__()
        self.selected: list[tuple[str, str]] = []

    def compose(self) -> ComposeResult:
        yield DeploysPane()

    def on_deploys_pane_deploy_selected(self, event: DeploysPane.DeploySelected) -> None:
        self.selected.append((event.repo.path, event.deploy.sha))


def plain_row(pane: DeploysPane, key: str) -> list[str]:
    return [cell.plain for cell in pane.table.get_row(key)]


async def test_pane_rows_badges_and_classes():
    app = DeploysApp()
    async with app.run_test(size=(100, 14)) as pilot:
        pane = app.query_one(DeploysPane)
        repo = RepoDeploys("payments", "/srv/payments", "main", (
            dep("c", -3, "rollback", during=True),
            dep("b", 7, "deploy payments v2.3.1", suspect=True, tag="v2.3.1"),
            dep("a", 200, "[red]not markup[/red]", author="bob"),
        ))
        pane.show(dsnap(repo, level=Level.WARN, summary="suspect: bbbbbbb deploy payments v2.3.1 (7m before incident)"))
        await pilot.pause()
        assert pane.row_keys() == ["payments:" + "c" * 40, "payments:" + "b" * 40, "payments:" + "a" * 40]
        assert plain_row(pane, "payments:" + "b" * 40) == [
            "14:23 7m ago", "bbbbbbb", " SUSPECT ", "alice", "deploy payments v2.3.1"]
        assert plain_row(pane, "payments:" + "c" * 40)[:3] == ["14:33 in 3m", "ccccccc", " DURING "]
        assert plain_row(pane, "payments:" + "a" * 40)[2:] == ["", "bob", "[red]not markup[/red]"]
        assert pane.has_class("-warn")
        assert pane.border_subtitle.startswith("suspect: bbbbbbb")
        suspect_style = pane.get_component_rich_style("deploys-pane--suspect", partial=True)
        assert pane.table.get_row("payments:" + "b" * 40)[1].style == suspect_style
        # No message to show: the line is not even made (widgets/lazy_children.py).
        assert pane.existing_child("message") is None
        pane.show(dsnap(repo, level=Level.WARN, summary="suspect: aaaaaaa [red]not markup[/red] (7m before incident)"))
        await pilot.pause()
        assert pane._border_subtitle.plain == "suspect: aaaaaaa [red]not markup[/red] (7m before incident)"

        pane.table.move_cursor(row=1)
        await pilot.pause()
        assert pane.selected_deploy().sha == "b" * 40
        assert pane.selected()[0].path == "/srv/payments"
        pane.table.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.selected == [("/srv/payments", "b" * 40)]


async def test_pane_updates_in_place_and_keeps_the_cursor():
    app = DeploysApp()
    async with app.run_test(size=(100, 14)) as pilot:
        pane = app.query_one(DeploysPane)
        a, b = dep("a", 200, "old"), dep("b", 100, "newer")
        pane.show(dsnap(RepoDeploys("r", "/r", "main", (b, a))))
        await pilot.pause()
        pane.table.move_cursor(row=1)            # on "old"
        await pilot.pause()
        # A new deploy lands, "b" becomes suspect (reference moved), nothing is rebuilt.
        c = dep("c", 5, "newest", during=True)
        b2 = dep("b", 100, "newer", suspect=True)
        pane.show(dsnap(RepoDeploys("r", "/r", "main", (c, b2, a)), level=Level.WARN))
        await pilot.pause()
        assert pane.row_keys() == ["r:" + "c" * 40, "r:" + "b" * 40, "r:" + "a" * 40]
        assert pane.selected_deploy().subject == "old", "the cursor follows the deploy, not the row number"
        assert plain_row(pane, "r:" + "b" * 40)[2] == " SUSPECT "
        # "a" slides out of the window.
        pane.show(dsnap(RepoDeploys("r", "/r", "main", (c, b2))))
        await pilot.pause()
        assert pane.row_keys() == ["r:" + "c" * 40, "r:" + "b" * 40]
        assert pane.selected_deploy() is not None


async def test_pane_errors_keep_rows_and_show_messages():
    app = DeploysApp()
    async with app.run_test(size=(100, 14)) as pilot:
        pane = app.query_one(DeploysPane)
        good = RepoDeploys("r", "/r", "main", (dep("a", 10, "ok"),))
        pane.show(dsnap(good))
        await pilot.pause()
        failing = RepoDeploys("r", "/r", "main", (), "not a git repository: /r")
        pane.show(dsnap(failing, error="not a git repository: /r", level=Level.UNKNOWN))
        await pilot.pause()
        msg = pane.query_one("#deploys-message")
        assert msg.has_class("-shown") and msg.has_class("-error")
        assert str(msg.render()) == "⚠ not a git repository: /r"
        assert pane.row_keys() == ["r:" + "a" * 40], "last good rows stay"
        assert pane.has_class("-error") and pane.border_subtitle == "not a git repository: /r"

        other = RepoDeploys("web", "/web", "main", (), "branch 'main' not found")
        pane.show(dsnap(good, other, level=Level.UNKNOWN))
        await pilot.pause()
        assert msg.has_class("-warn") and not msg.has_class("-error")
        assert str(msg.render()) == "⚠ web: branch 'main' not found"
        assert pane.has_class("-unknown") and not pane.has_class("-error")
        assert [str(c.label) for c in pane.table.columns.values()] == [
            "when (UTC)", "sha", "", "repo", "author", "subject"]


async def test_pane_drops_the_author_when_narrow():
    app = DeploysApp()
    async with app.run_test(size=(100, 12)) as pilot:
        pane = app.query_one(DeploysPane)
        pane.show(dsnap(RepoDeploys("r", "/r", "main", (dep("a", 10, "ok"), dep("b", 5, "newer")))))
        await pilot.pause()
        pane.table.move_cursor(row=1)
        assert [str(c.label) for c in pane.table.columns.values()] == ["when (UTC)", "sha", "", "author", "subject"]
        await pilot.resize_terminal(50, 12)
        await pilot.pause()
        assert [str(c.label) for c in pane.table.columns.values()] == ["when (UTC)", "sha", "", "subject"]
        assert plain_row(pane, "r:" + "a" * 40) == ["14:20 10m ago", "aaaaaaa", "", "ok"]
        assert pane.selected_deploy().subject == "ok", "the selection survives the re-layout"


async def test_pane_without_repos_shows_the_hint():
    app = DeploysApp()
    async with app.run_test(size=(80, 10)) as pilot:
        pane = app.query_one(DeploysPane)
        pane.show(DeploysSource([]).poll())
        await pilot.pause()
        msg = pane.query_one("#deploys-message")
        assert msg.has_class("-shown") and str(msg.render()) == NO_REPOS_HINT
        assert pane.has_class("-unknown") and pane.table.row_count == 0
        assert pane.selected_deploy() is None


async def test_pane_with_a_real_repo(linear):
    path, _ = linear
    app = DeploysApp()
    async with app.run_test(size=(100, 14)) as pilot:
        pane = app.query_one(DeploysPane)
        pane.show(DeploysSource([RepoSpec(str(path))], incident_started=NOW).poll())
        await pilot.pause()
        assert pane.table.row_count == 5
        flags = [plain_row(pane, k)[2] for k in pane.row_keys()]
        assert flags == [" DURING ", " SUSPECT ", " SUSPECT ", "", ""]


async def test_home_and_end_move_the_selection():
    """README: Home/End move in the focused pane. DataTable's go to the first/last column,
    which a row cursor does not have, so the selection stayed put."""
    app = DeploysApp()
    async with app.run_test(size=(100, 14)) as pilot:
        pane = app.query_one(DeploysPane)
        deploys = tuple(dep(c, 10 * i + 1, f"change {c}") for i, c in enumerate("abcdefghijkl"))
        pane.show(dsnap(RepoDeploys("r", "/r", "main", deploys)))
        await pilot.pause()
        pane.table.focus()
        await pilot.press("down", "down")
        assert pane.selected_deploy().subject == "change c"
        await pilot.press("end")
        assert pane.selected_deploy().subject == "change l"
        assert pane.table.scroll_y == pane.table.max_scroll_y > 0        # the last row is in view
        await pilot.press("home")
        assert pane.selected_deploy().subject == "change a" and pane.table.scroll_y == 0


# ---------------------------------------------------------------- tags mode: what time a deploy's time is

def test_a_lightweight_tag_made_during_the_incident_on_an_old_commit_is_a_deploy_of_now(tmp_path):
    """Issue 17: it showed as "117d ago", neither DURING nor SUSPECT."""
    from checks.deploys import TIME_COMMIT_OF_TAG, TIME_REF_WRITTEN, TIME_TAGGED

    path = g.init_repo(tmp_path / "svc")
    old = g.commit(path, "old stable build", ago(117 * 24 * 60), files={"x": "1"})
    mid = g.commit(path, "newer", ago(600), files={"x": "2"})
    new = g.commit(path, "newest", ago(400), files={"x": "3"})
    g.tag(path, "deploy-old", old)                                     # tagged as committed
    g.tag(path, "deploy-mid", mid, message="ship", when=ago(590))      # annotated
    g.tag(path, "deploy-new", new)
    g.tag(path, "deploy-rollback", old, when=ago(3))                  # lightweight, made 3 min ago
    source = DeploysSource([RepoSpec(str(path), tags="deploy-*", limit=3)], incident_started=ago(10))
    repo = source.poll().repos[0]
    assert [d.tag for d in repo.deploys] == ["deploy-rollback", "deploy-new", "deploy-mid"]   # kept within the limit
    rollback = repo.deploys[0]
    assert rollback.sha == old and rollback.when == ago(3) and rollback.during_incident
    assert rollback.time_source == TIME_REF_WRITTEN and rollback.committed == ago(117 * 24 * 60)
    assert repo.deploys[1].time_source == TIME_COMMIT_OF_TAG and repo.deploys[1].when == ago(400)
    assert repo.deploys[2].time_source == TIME_TAGGED and repo.deploys[2].when == ago(590)


def test_packed_lightweight_tags_keep_the_commit_date_and_new_ones_are_dated_when_first_seen(tmp_path):
    from checks.deploys import TIME_COMMIT_OF_TAG, TIME_FIRST_SEEN
    from tui.incident.model import utcnow

    path = g.init_repo(tmp_path / "svc")
    old = g.commit(path, "old stable build", ago(117 * 24 * 60), files={"x": "1"})
    g.commit(path, "current", ago(60), files={"x": "2"})
    g.tag(path, "deploy-1", old, when=ago(5))
    g.git(path, "pack-refs", "--all")                 # as a clone or gc leaves them: no ref file
    source = DeploysSource([RepoSpec(str(path), tags="deploy-*")], incident_started=ago(10))
    first = source.poll().repos[0].deploys[0]
    assert first.time_source == TIME_COMMIT_OF_TAG and first.when == ago(117 * 24 * 60)
    assert not first.during_incident and not first.suspect

    g.tag(path, "deploy-2", old)
    g.git(path, "pack-refs", "--all")
    before = utcnow()
    deploys = source.poll().repos[0].deploys
    second = next(d for d in deploys if d.tag == "deploy-2")
    assert second.time_source == TIME_FIRST_SEEN and before <= second.when <= utcnow()
    assert second.committed == ago(117 * 24 * 60) and deploys[0] is second


async def test_pane_says_what_time_each_deploy_time_is(tmp_path):
    from checks.deploys import TIME_COMMIT_OF_TAG, TIME_FIRST_SEEN, TIME_REF_WRITTEN
    from widgets.deploys import TIME_MARKS

    assert set(TIME_MARKS) == {TIME_COMMIT_OF_TAG, TIME_REF_WRITTEN, TIME_FIRST_SEEN}
    path = g.init_repo(tmp_path / "svc")
    old = g.commit(path, "old stable build", ago(117 * 24 * 60), files={"x": "1"})
    mid = g.commit(path, "current", ago(60), files={"x": "2"})
    g.tag(path, "deploy-1", old)
    g.tag(path, "deploy-2", mid, message="ship", when=ago(50))
    g.tag(path, "deploy-3", old, when=ago(3))
    source = DeploysSource([RepoSpec(str(path), tags="deploy-*")], incident_started=ago(10))
    snap = source.poll()
    snap = dataclasses.replace(snap, taken_at=NOW)
    app = DeploysApp()
    async with app.run_test(size=(120, 14)) as pilot:
        pane = app.query_one(DeploysPane)
        pane.show(snap)
        await pilot.pause()
        assert str(pane.table.ordered_columns[0].label) == "tagged (UTC)"
        rows = {plain_row(pane, k)[4].split("] ")[0].lstrip("["): plain_row(pane, k) for k in pane.row_keys()}
        assert rows["deploy-3"][0] == "14:27 3m ago (tag ref written)" and rows["deploy-3"][2] == " DURING "
        assert rows["deploy-2"][0] == "13:40 50m ago"                      # the tagger's date: no mark
        assert rows["deploy-1"][0].endswith("117d ago (commit date)") and rows["deploy-1"][2] == ""
