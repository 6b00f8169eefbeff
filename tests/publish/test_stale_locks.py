"""Git lock files a killed publish leaves are recovered, and only then.

A publish killed with its git children (``kill -9`` of the process group) can leave
``.git/index.lock`` or ``refs/heads/main.lock``; git then refuses every later
publish until a person deletes them.  netpack holds a local deploy repo while it
publishes (``publish.repo.claim``: ``flock`` plus ``netpack-active``), so the next
publish knows when the locks are a killed netpack's and removes them; a lock with no
killed netpack behind it is someone else's git and stays.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.fleet import write_fleet
from pipeline.publish import repo as deploy_repo
from tests.conftest import ROOT
from tests.publish.test_commit import head, isolate, make_pack, publish, sh
from tests.publish.test_faults import PUBLISH_ONCE, _children, _descendants_alive


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path / "home")


def _published(tmp_path: Path) -> tuple[Path, list[str]]:
    pack = make_pack(tmp_path, ("aws-prod-1",))
    repo = tmp_path / "deploy"
    argv = ["--all", "--pack", str(pack), "--deploy-repo", str(repo), "--quiet"]
    assert publish(*argv) == 0
    cluster = pack / "clusters" / "aws-prod-1.yaml"
    cluster.write_text(cluster.read_text() + "    blockSize: 27\n")
    return repo, argv


def _fsck_ok(repo: Path) -> bool:
    fsck = subprocess.run(
        ["git", "-C", str(repo), "fsck", "--no-dangling"], capture_output=True, text=True
    )
    return fsck.returncode == 0 and "error" not in fsck.stdout + fsck.stderr


def test_locks_a_killed_publish_left_are_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, argv = _published(tmp_path)
    old = head(repo)
    gitdir = repo / ".git"
    (gitdir / deploy_repo.ACTIVE).write_text("12345\n")  # its holder was killed
    (gitdir / "index.lock").write_bytes(b"half an index")
    (gitdir / "refs" / "heads" / "main.lock").write_text(old + "\n")
    assert publish(*argv) == 0
    assert sh(repo, "rev-parse", "HEAD^") == old
    assert not (gitdir / "index.lock").exists()
    assert not (gitdir / "refs" / "heads" / "main.lock").exists()
    assert not (gitdir / deploy_repo.ACTIVE).exists()  # released at the end
    assert sh(repo, "status", "--porcelain") == "" and _fsck_ok(repo)
    assert (
        f"netpack: removed git lock file(s) a killed publish left in {gitdir.resolve()}:"
        " index.lock, refs/heads/main.lock" in capsys.readouterr().err
    )


def test_a_lock_with_no_killed_netpack_behind_it_stays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, argv = _published(tmp_path)
    old = head(repo)
    lock = repo / ".git" / "refs" / "heads" / "main.lock"
    lock.write_text(old + "\n")  # someone's git, working right now
    assert publish(*argv) == 3
    assert lock.exists() and head(repo) == old
    err = capsys.readouterr().err
    assert "main.lock" in err and "Traceback" not in err


HOLDER = """
import fcntl, sys, time
from pathlib import Path
gitdir = Path(sys.argv[1])
with open(gitdir / "netpack.lock", "a") as handle:
    fcntl.flock(handle, fcntl.LOCK_EX)
    (gitdir / "netpack-active").write_text("live\\n")
    (gitdir / "index.lock").write_text("mine")
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
    intact = (gitdir / "index.lock").read_text() == "mine"
    (gitdir / "index.lock").unlink()
    (gitdir / "netpack-active").unlink()
sys.exit(0 if intact else 1)
"""


def test_a_live_publisher_is_waited_for_and_its_locks_are_left_alone(tmp_path: Path) -> None:
    repo, argv = _published(tmp_path)
    old = head(repo)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(repo / ".git"), "2"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    start = time.monotonic()
    assert publish(*argv) == 0
    assert time.monotonic() - start > 1  # it waited for the holder
    assert holder.wait(timeout=30) == 0  # whose index.lock nobody touched
    assert sh(repo, "rev-parse", "HEAD^") == old
    assert sh(repo, "status", "--porcelain") == "" and _fsck_ok(repo)


FLEET = 30  # clusters: a checkout long enough to be killed in the middle of


def test_kill_9_of_the_process_group_in_a_loop_then_the_next_publish_works(
    tmp_path: Path,
) -> None:
    """The publisher and its git children killed at once, at varied moments of the git
    phase: after each, the next publish succeeds, the checkout is clean, fsck passes."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc to see the publisher's git processes")
    pack = make_pack(tmp_path, ())
    policy = tmp_path / "policy"
    policy.mkdir()
    (policy / "main.rego").write_text(
        'package main\n\ndeny contains msg if {\n\tinput.kind == "Forbidden"\n\tmsg := "no"\n}\n'
    )
    (tmp_path / "data").mkdir()
    files = [str(p) for p in write_fleet(pack / "fleet", FLEET, seed=1)]
    repo = tmp_path / "deploy"
    argv = [*files, "--deploy-repo", str(repo), "-p", str(policy), "-d", str(tmp_path / "data")]
    argv.append("--quiet")
    assert publish(*argv) == 0
    command = [sys.executable, "-c", PUBLISH_ONCE, *argv]
    # (the git command whose start the delay counts from, delay): the object writes,
    # then the ref move and the checkout, which hold refs/heads/main.lock and index.lock
    moments = [("fast-import", d) for d in (0.0, 0.01, 0.03, 0.06, 0.1, 0.2, 0.4)]
    moments += [("update-ref", 0.0), ("update-index", 0.0), ("read-tree", 0.0)]
    moments += [("read-tree", d) for d in (0.005, 0.01, 0.02, 0.04)]
    left: dict[str, list[str]] = {}
    for seed, (trigger, delay) in enumerate(moments, start=2):
        write_fleet(pack / "fleet", FLEET, seed=seed)  # new values: something to commit
        before = head(repo)
        proc = subprocess.Popen(
            command, cwd=ROOT, start_new_session=True, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if any(trigger in c for c in _children(proc.pid)):
                break
            time.sleep(0.001)
        time.sleep(delay)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the publisher and its git children
        proc.wait()
        while _descendants_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        gitdir = repo / ".git"
        moment = f"{trigger}+{delay}s"
        left[moment] = deploy_repo._stale_locks(gitdir)
        done = "finished" if proc.returncode == 0 else "killed"
        left[moment].append(done)
        tip = head(repo)
        assert tip == before or sh(repo, "rev-parse", f"{tip}^") == before, moment
        assert publish(*argv) == 0, moment
        assert deploy_repo._stale_locks(gitdir) == [], moment
        assert sh(repo, "status", "--porcelain") == "", moment
        assert _fsck_ok(repo), moment
    print("kill -9 (process group) loop: locks left:", left)
    assert len(left) == len(moments)


def test_release_lets_another_process_claim(tmp_path: Path) -> None:
    repo, argv = _published(tmp_path)
    shutil.rmtree(tmp_path / "pack" / ".git")  # a pack without git works as well
    assert publish(*argv) == 0
    proc = subprocess.run(
        [sys.executable, "-c", HOLDER, str(repo / ".git"), "0"], capture_output=True, timeout=30
    )
    assert proc.returncode == 0  # nobody holds the repo after a publish ended


def test_a_cache_clones_stale_locks_are_removed(tmp_path: Path) -> None:
    """The bare cache of a remote deploy repo is netpack's alone: a lock there is stale."""
    pack = make_pack(tmp_path, ("aws-prod-1",))
    remote = tmp_path / "remote.git"
    sh(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    argv = ["--all", "--pack", str(pack), "--deploy-repo", remote.as_uri(), "--push", "--quiet"]
    assert publish(*argv) == 0
    (cache,) = (tmp_path / "home" / "cache" / "netpack" / "deploy").glob("*[0-9a-f]")
    (cache / "packed-refs.lock").write_text("")
    (cache / "refs" / "netpack" / "remote" / "main.lock").write_text("")
    cluster = pack / "clusters" / "aws-prod-1.yaml"
    cluster.write_text(cluster.read_text() + "    blockSize: 27\n")
    assert publish(*argv) == 0
    assert deploy_repo._stale_locks(cache) == []
    assert sh(remote, "rev-list", "--count", "main") == "2"
