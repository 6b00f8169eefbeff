"""``netpack publish`` when things go wrong: bad deploy repos, refused pushes, lost races,
failing writes, a publisher killed mid-way. Each leaves the branch at the old commit or
the new one, says what happened in one line, and lets the next publish succeed."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.fleet import write_fleet
from pipeline.publish import git as g
from pipeline.publish import pack as pack_objects
from pipeline.publish import repo as deploy_repo
from pipeline.publish.pack import write_tree
from tests.conftest import ROOT, proc_files
from tests.publish.test_commit import count, head, isolate, make_pack, publish, sh


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path / "home")


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    return make_pack(tmp_path, ("aws-prod-1",))


def fleet_args(pack: Path, repo: Path | str, *extra: str) -> list[str]:
    return ["--all", "--pack", str(pack), "--deploy-repo", str(repo), *extra]


def touch_value(pack: Path, block_size: int) -> None:
    """Change aws-prod-1's blockSize, so the next publish has something to commit."""
    cluster = pack / "clusters" / "aws-prod-1.yaml"
    lines = [x for x in cluster.read_text().splitlines() if "blockSize" not in x]
    cluster.write_text("\n".join([*lines, f"    blockSize: {block_size}"]) + "\n")


def error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if x.startswith("netpack: error: ")]
    assert len(lines) == 1, err
    return lines[0].removeprefix("netpack: error: ")


# --- Deploy repos that cannot take a publish ---


def test_a_file_is_not_a_deploy_repo(
    tmp_path: Path, pack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "deploy"
    target.write_text("not a repo\n")
    assert publish(*fleet_args(pack, target)) == 3
    assert error_line(capsys) == f"{target} deploy repo: is a file, not a git repository"
    assert target.read_text() == "not a repo\n"


def test_a_directory_with_files_that_is_no_repo_is_refused(
    tmp_path: Path, pack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "deploy"
    target.mkdir()
    (target / "keep.txt").write_text("x\n")
    assert publish(*fleet_args(pack, target)) == 3
    assert error_line(capsys) == (f"{target} deploy repo: is not a git repository (and not empty)")
    assert not (target / ".git").exists()


def test_an_empty_directory_inside_another_checkout_gets_its_own_repo(
    tmp_path: Path, pack: Path
) -> None:
    inside = pack / "out" / "deploy"
    inside.mkdir(parents=True)
    assert publish(*fleet_args(pack, inside)) == 0
    assert (inside / ".git").is_dir()
    assert count(pack) == 1  # the pack's own history is untouched


@pytest.fixture
def checkout(tmp_path: Path, pack: Path) -> Path:
    """A deploy checkout with one publish in it."""
    repo = tmp_path / "deploy"
    assert publish(*fleet_args(pack, repo)) == 0
    return repo


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (
            lambda repo: (repo / "README.md").write_text("edited\n"),
            "has uncommitted changes (README.md); commit or stash them first",
        ),
        (
            lambda repo: (repo / "notes.txt").write_text("x\n"),
            "has uncommitted changes (notes.txt); commit or stash them first",
        ),
        (
            lambda repo: sh(repo, "checkout", "-q", "--detach"),
            "HEAD is detached; check out main first (git -C {repo} switch main)",
        ),
        (
            lambda repo: sh(repo, "switch", "-q", "-c", "feature"),
            "has branch feature checked out, not main; switch to main or pass --branch feature",
        ),
    ],
    ids=["dirty", "untracked", "detached", "wrong-branch"],
)
def test_a_checkout_that_is_not_ready_is_refused_and_left_alone(
    checkout: Path,
    pack: Path,
    spoil: Callable[[Path], object],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    spoil(checkout)
    before = head(checkout, "refs/heads/main")
    touch_value(pack, 27)
    capsys.readouterr()
    assert publish(*fleet_args(pack, checkout)) == 3
    assert error_line(capsys) == f"{checkout} deploy repo: " + message.format(repo=checkout)
    assert head(checkout, "refs/heads/main") == before


@pytest.mark.parametrize(
    ("repo", "message"),
    [
        (
            "{tmp}/missing.git",
            "{tmp}/missing.git deploy repo: no such repository;"
            " --push publishes to a repository that exists",
        ),
        (
            "file://{tmp}/nothing.git",
            "file://{tmp}/nothing.git git ls-remote: cannot reach the deploy repo: fatal:"
            " '{tmp}/nothing.git' does not appear to be a git repository; fatal: Could not read"
            " from remote repository.; Please make sure you have the correct access rights; and"
            " the repository exists.",
        ),
    ],
    ids=["missing-path", "file-url-to-nothing"],
)
def test_an_unreachable_remote_is_a_clear_error(
    tmp_path: Path, pack: Path, repo: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = repo.format(tmp=tmp_path)
    assert publish(*fleet_args(pack, spec, "--push")) == 3
    assert error_line(capsys) == message.format(tmp=tmp_path)
    assert not (tmp_path / "home" / "cache" / "netpack").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--deploy-repo", "https://git.example.com/deploy.git"],
            "a remote deploy repo needs --push",
        ),
        (["--deploy-repo", "{checkout}", "--push"], "--push needs a URL or a bare repository"),
        (
            ["--deploy-repo", "{checkout}", "--branch", "a..b"],
            "--branch a..b: not a valid branch name",
        ),
        (
            ["--deploy-repo", "{checkout}", "--author", "bot"],
            "--author 'bot': write it as 'Name <email>'",
        ),
        (
            ["--deploy-repo", "{checkout}", "clusters/x.yaml"],
            "give cluster files or --all, not both",
        ),
    ],
    ids=["url-without-push", "checkout-with-push", "bad-branch", "bad-author", "files-and-all"],
)
def test_a_bad_command_line_exits_2(
    checkout: Path,
    pack: Path,
    extra: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--all", "--pack", str(pack), *(x.format(checkout=checkout) for x in extra)]
    assert publish(*argv) == 2
    assert message in error_line(capsys)


# --- The remote says no ---


def test_a_push_refused_by_a_pre_receive_hook(
    tmp_path: Path, pack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = tmp_path / "remote.git"
    sh(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'deploy branch is frozen until Monday' >&2\nexit 1\n")
    hook.chmod(0o755)
    assert publish(*fleet_args(pack, remote.as_uri(), "--push")) == 3
    line = error_line(capsys)
    assert " git push --porcelain " in line and ": exit 1: " in line
    assert "remote: deploy branch is frozen until Monday" in line
    assert "[remote rejected] (pre-receive hook declined)" in line
    assert g.resolve(g.Git(remote), "refs/heads/main") is None


# --- Lost races, deterministically ---


def competitor(repo: Path, branch: str = "main") -> str:
    """Another publisher's commit on ``branch`` (adds other/notes.txt), made with plumbing."""
    git = g.Git(repo)
    tip = g.resolve(git, f"refs/heads/{branch}")
    data = f"{time.time_ns()}\n".encode()
    tree = write_tree(
        git,
        g.tree_of(git, tip) if tip else None,
        {"other/notes.txt": g.Entry("100644", g.object_id(data))},
        {g.object_id(data): data},
    )
    who = g.Identity("Other", "other@example.com")
    new = g.commit_tree(git, tree, tip, "other publisher\n", author=who, committer=who)
    git.run("update-ref", f"refs/heads/{branch}", new, *([tip] if tip else []))
    return new


def test_a_lost_compare_and_swap_is_rebuilt_on_the_new_tip(
    tmp_path: Path, pack: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = tmp_path / "deploy.git"
    sh(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    real = g.update_ref
    calls: list[str] = []

    def racing(git: g.Git, ref: str, new: str, old: str | None, reason: str) -> None:
        if not calls:
            calls.append(competitor(bare))
        real(git, ref, new, old, reason)

    monkeypatch.setattr(g, "update_ref", racing)
    assert publish(*fleet_args(pack, bare)) == 0
    assert count(bare, "main") == 2
    assert sh(bare, "rev-parse", "main^") == calls[0]
    files = sh(bare, "ls-tree", "-r", "--name-only", "main").split()
    assert "other/notes.txt" in files and "clusters/aws-prod-1/calico/kustomization.yaml" in files


def test_a_non_fast_forward_push_is_fetched_reapplied_and_pushed(
    tmp_path: Path, pack: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = tmp_path / "remote.git"
    sh(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    assert publish(*fleet_args(pack, remote.as_uri(), "--push")) == 0
    real = g.push
    raced: list[str] = []

    def racing(git: g.Git, url: str, commit: str, branch: str) -> g.PushResult:
        if not raced:
            raced.append(competitor(remote))
        return real(git, url, commit, branch)

    monkeypatch.setattr(g, "push", racing)
    touch_value(pack, 27)
    assert publish(*fleet_args(pack, remote.as_uri(), "--push")) == 0
    assert count(remote, "main") == 3
    assert sh(remote, "rev-parse", "main^") == raced[0]
    assert "other/notes.txt" in sh(remote, "ls-tree", "-r", "--name-only", "main")


def test_a_branch_that_keeps_moving_gives_up_after_five_attempts(
    tmp_path: Path, pack: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = tmp_path / "deploy.git"
    sh(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    real = g.update_ref

    def always(git: g.Git, ref: str, new: str, old: str | None, reason: str) -> None:
        competitor(bare)
        real(git, ref, new, old, reason)

    monkeypatch.setattr(g, "update_ref", always)
    assert publish(*fleet_args(pack, bare)) == 3
    assert error_line(capsys) == (
        f"{bare} publish: main moved on 5 times while publishing (other publishers);"
        " run publish again"
    )
    assert count(bare, "main") == 5  # the competitors' commits, none of ours


# --- Failing writes ---


def test_a_failing_blob_write_is_a_clean_error_and_the_repo_is_untouched(
    checkout: Path, pack: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def full(git: g.Git, base: Any, changes: Any, blobs: Any = (), algorithm: str = "") -> str:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pack_objects, "write_tree", full)
    before = head(checkout)
    touch_value(pack, 27)
    capsys.readouterr()
    assert publish(*fleet_args(pack, checkout)) == 3
    assert error_line(capsys) == (
        f"{checkout} write blobs: cannot store the rendered files: No space left on device"
    )
    assert head(checkout) == before and sh(checkout, "status", "--porcelain") == ""
    monkeypatch.undo()
    isolate(monkeypatch, checkout.parent / "home")
    assert publish(*fleet_args(pack, checkout)) == 0
    assert count(checkout) == 2


def test_a_failing_journal_write_is_a_clean_error_and_the_repo_is_untouched(
    checkout: Path, pack: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def full(path: Path, data: bytes) -> None:
        raise OSError(errno.EDQUOT, "Disk quota exceeded")

    monkeypatch.setattr(deploy_repo, "write_file", full)
    before = head(checkout)
    touch_value(pack, 27)
    capsys.readouterr()
    assert publish(*fleet_args(pack, checkout)) == 3
    journal = checkout / ".git" / "netpack-publish.json"
    assert error_line(capsys) == f"{journal} publish: cannot write the journal: Disk quota exceeded"
    assert head(checkout) == before and sh(checkout, "status", "--porcelain") == ""


# --- Interrupted between the branch move and the checkout ---


def interrupt_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    def killed(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(deploy_repo, "_follow", killed)


def test_the_next_publish_finishes_an_interrupted_checkout(
    checkout: Path, pack: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    interrupt_checkout(monkeypatch)
    touch_value(pack, 27)
    assert publish(*fleet_args(pack, checkout)) == 130
    assert count(checkout) == 2  # the branch moved
    assert sh(checkout, "status", "--porcelain") != ""  # the checkout did not
    monkeypatch.undo()
    isolate(monkeypatch, checkout.parent / "home")
    assert publish(*fleet_args(pack, checkout)) == 0
    assert count(checkout) == 2 and sh(checkout, "status", "--porcelain") == ""
    assert not (checkout / ".git" / "netpack-publish.json").exists()


def test_an_edit_of_your_own_after_an_interrupted_checkout_is_never_thrown_away(
    checkout: Path, pack: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    interrupt_checkout(monkeypatch)
    touch_value(pack, 27)
    assert publish(*fleet_args(pack, checkout)) == 130
    (checkout / "README.md").write_text("my notes\n")
    monkeypatch.undo()
    isolate(monkeypatch, checkout.parent / "home")
    capsys.readouterr()
    assert publish(*fleet_args(pack, checkout)) == 3
    assert error_line(capsys) == (
        f"{checkout} recover: a publish of {head(checkout)[:7]} was interrupted, and README.md"
        " has changes of your own; save them, then run git reset --hard"
    )
    assert (checkout / "README.md").read_text() == "my notes\n"


# --- Separate processes ---

RACER = """
import sys
from pathlib import Path
from tests.publish.test_commit import publish

cluster, url, pack, rounds = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
template = cluster.read_text()
for n in range(1, rounds + 1):
    cluster.write_text(template + f"    env: {{calicoNode: {{RACE_ROUND: '{n}'}}}}\\n")
    code = publish(str(cluster), "--pack", pack, "--deploy-repo", url, "--push", "--quiet")
    if code != 0:
        sys.exit(f"round {n}: exit {code}")
"""


def test_two_publishers_racing_for_fifty_rounds_lose_and_repeat_nothing(
    tmp_path: Path, pack: Path
) -> None:
    rounds = 50
    remote = tmp_path / "remote.git"
    sh(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    template = (pack / "clusters" / "aws-prod-1.yaml").read_text()
    names = ("race-a", "race-b")
    racers = []
    for name in names:
        (pack / "clusters" / f"{name}.yaml").write_text(template.replace("aws-prod-1", name))
        env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / f"cache-{name}")}
        args = [str(pack / "clusters" / f"{name}.yaml"), remote.as_uri(), str(pack), str(rounds)]
        racers.append(
            subprocess.Popen(
                [sys.executable, "-c", RACER, *args],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for racer in racers:
        _, err = racer.communicate(timeout=300)
        assert racer.returncode == 0, err
    history = sh(remote, "rev-list", "--reverse", "--parents", "main").splitlines()
    assert len(history) == 2 * rounds  # no commit lost, none repeated
    assert all(len(line.split()) == (1 if i == 0 else 2) for i, line in enumerate(history))
    seen: dict[str, list[int]] = {name: [] for name in names}
    for line in history:
        commit = line.split()[0]
        body = sh(remote, "log", "-1", "--format=%b", commit).splitlines()
        (touched,) = [x.split()[1] for x in body if x.startswith(("added ", "changed "))]
        daemonset = sh(
            remote, "show", f"{commit}:clusters/{touched}/calico/apps_v1_daemonset_calico-node.yaml"
        )
        round_line = daemonset.split("name: RACE_ROUND\n", 1)[1].splitlines()[0]
        seen[touched].append(int(round_line.split('"')[1]))
    assert seen == {name: list(range(1, rounds + 1)) for name in names}


def _descendants_alive(session: int) -> bool:
    for stat in proc_files("stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            return True
    return False


def _children(pid: int) -> list[str]:
    found = []
    for stat in proc_files("stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append((stat.parent / "cmdline").read_bytes().decode(errors="replace"))
        except (OSError, IndexError):
            continue
    return found


def test_kill_9_leaves_the_old_or_the_new_commit_and_a_republish_succeeds(
    tmp_path: Path,
) -> None:
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc to see the publisher's git processes")
    pack = make_pack(tmp_path, ())
    policy = tmp_path / "policy"
    policy.mkdir()
    (policy / "main.rego").write_text(
        'package main\n\ndeny contains msg if {\n\tinput.kind == "Forbidden"\n\tmsg := "no"\n}\n'
    )
    (tmp_path / "data").mkdir()
    files = [str(p) for p in write_fleet(pack / "fleet", 24, seed=1)]
    repo = tmp_path / "deploy"
    gate = ["-p", str(policy), "-d", str(tmp_path / "data"), "--quiet"]
    argv = [*files, "--deploy-repo", str(repo), *gate]
    assert publish(*argv) == 0
    old = head(repo)
    write_fleet(pack / "fleet", 24, seed=2)  # new values: most clusters change
    pristine = tmp_path / "pristine"
    shutil.copytree(repo, pristine, symlinks=True)
    assert publish(*[*files, "--deploy-repo", str(pristine), *gate]) == 0
    expected = head(pristine, "HEAD^{tree}")  # what a publish that is not killed makes
    sh(pristine, "reset", "-q", "--hard", old)
    command = [sys.executable, "-c", PUBLISH_ONCE, *argv]
    # The delays count from the moment the publisher starts its first git index-pack,
    # so that they land in the git phase: blobs, tree, commit, branch move, checkout.
    outcomes = []
    for delay in (None, 0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.1, 0.3):
        shutil.rmtree(repo)
        shutil.copytree(pristine, repo, symlinks=True)
        proc = subprocess.Popen(command, cwd=ROOT, start_new_session=True, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while delay is not None and proc.poll() is None and time.monotonic() < deadline:
            if any("index-pack" in c for c in _children(proc.pid)):
                break
            time.sleep(0.001)
        time.sleep(0.3 if delay is None else delay)
        if proc.poll() is None:  # (a fast machine may have finished: the new commit)
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        while _descendants_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.01)  # git children run on or end; wait for them
        tip = head(repo)
        assert tip == old or (
            sh(repo, "rev-parse", f"{tip}^") == old and head(repo, f"{tip}^{{tree}}") == expected
        ), delay
        fsck = subprocess.run(
            ["git", "-C", str(repo), "fsck", "--no-dangling"], capture_output=True, text=True
        )
        assert fsck.returncode == 0 and "error" not in fsck.stdout + fsck.stderr, fsck.stderr
        journal = (repo / ".git" / "netpack-publish.json").exists()
        outcomes.append("old" if tip == old else "new, checkout to finish" if journal else "new")
        assert publish(*argv) == 0
        assert head(repo, "HEAD^{tree}") == expected and sh(repo, "rev-parse", "HEAD^") == old
        assert sh(repo, "status", "--porcelain") == ""
    assert outcomes[0] == "old", outcomes  # killed before the git phase
    print("kill -9 outcomes by delay:", outcomes)


PUBLISH_ONCE = """
import sys
from tests.publish.test_commit import publish
sys.exit(publish(*sys.argv[1:]))
"""
