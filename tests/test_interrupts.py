"""A Ctrl-C (SIGINT to the whole process group) at any moment of a fleet run (``-j 2``).

Each loop runs the command once to the end to learn how long it takes, then
interrupts it at spread fractions of that time (start-up, workers starting,
rendering, writing or committing), and checks every time: exit 130 with the
the line ``netpack: interrupted`` last (or 0 when it finished first), no traceback
from any process or thread, an exit within seconds of the signal, no process of
the session left, and the output as it was or complete: the old files or all
the new ones, the deploy repo at the old commit or the new one with a clean
work tree, fsck clean, and the next publish working.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import pytest

from bench.fleet import write_fleet
from pipeline.cli.main import main
from pipeline.errors import InputError
from pipeline.interrupts import deferred
from pipeline.kustomize.output import Staging
from pipeline.pool import WorkerError, ordered_map
from pipeline.publish.git import Git
from tests.conftest import ROOT
from tests.publish.test_commit import head, isolate, make_pack, sh
from tests.test_pool import _session_members, tree

FLEET = 12
# Where the signal lands, as a fraction of an uninterrupted run after Python started.
FRACTIONS = (0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95)
PROMPT = 5.0  # seconds from the signal to the exit, on a busy machine
NETPACK = str(Path(sys.executable).parent / "netpack")

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists() or os.name != "posix",
    reason="needs POSIX process groups and /proc to see a session's processes",
)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path / "home")


def timed(command: list[str]) -> float:
    """Seconds an uninterrupted run of ``command`` takes (it must succeed)."""
    start = time.monotonic()
    proc = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    return time.monotonic() - start


def moments(whole: float) -> list[float]:
    """When to interrupt a run that takes ``whole`` seconds: spread over its time after
    Python has started netpack (a Ctrl-C before that is the interpreter's own)."""
    ready = timed([NETPACK, "--version"])
    return [max(0.2, ready + fraction * (whole - ready)) for fraction in FRACTIONS]


def interrupted(command: list[str], delay: float) -> int:
    """Run ``command`` in a session of its own, SIGINT the group after ``delay`` seconds;
    check what every interrupted run must hold, and return the exit code."""
    proc = subprocess.Popen(
        command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    time.sleep(delay)
    sent = time.monotonic()
    with suppress(ProcessLookupError):  # finished (and reaped) first
        os.killpg(proc.pid, signal.SIGINT)
    try:
        _, raw = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"no exit within 60 s of a SIGINT at {delay:.2f} s")
    took = time.monotonic() - sent
    err = raw.decode("utf-8", "replace")
    assert proc.returncode in (0, 130), (delay, proc.returncode, err[-2000:])
    assert "Traceback" not in err and "Exception in thread" not in err, (delay, err[-3000:])
    if proc.returncode == 130:
        *before, last = err.strip().splitlines()
        assert last == "netpack: interrupted", (delay, err[-2000:])
        # what came before: the run's own lines (a finished render's summary), no error
        assert not any("rror" in line or "xception" in line for line in before), err
    assert took < PROMPT, f"exit {took:.1f} s after a SIGINT at {delay:.2f} s"
    deadline = time.monotonic() + 2
    while _session_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)  # a process that outlives the command would still be here
    assert _session_members(proc.pid) == [], delay
    return proc.returncode


def test_sigint_during_render_leaves_the_output_dir_old_or_whole_new(tmp_path: Path) -> None:
    old_fleet = [str(p) for p in write_fleet(tmp_path / "a", FLEET, seed=1)]
    new_fleet = [str(p) for p in write_fleet(tmp_path / "b", FLEET, seed=2)]
    out = tmp_path / "out"
    assert (
        main(["render", *old_fleet, "--pack", str(ROOT), "-o", str(out), "-j", "2", "--quiet"]) == 0
    )
    (out / "notes.txt").write_text("not netpack's: stays\n")
    pristine = tmp_path / "pristine"
    shutil.copytree(out, pristine, symlinks=True)
    old = tree(out)

    def render(into: Path) -> list[str]:
        return [NETPACK, "render", *new_fleet, "--pack", str(ROOT), "-o", str(into), "-j", "2"]

    expected = tmp_path / "expected"
    shutil.copytree(pristine, expected, symlinks=True)
    whole = timed([*render(expected), "--quiet"])
    new = tree(expected)
    assert new != old and new["notes.txt"] == old["notes.txt"]
    assert set(old) <= set(new)  # files not rewritten stay, as with kubectl

    outcomes = []
    for delay in moments(whole):
        shutil.rmtree(out)
        shutil.copytree(pristine, out, symlinks=True)
        outcomes.append(interrupted([*render(out), "--quiet"], delay))
        now = tree(out)
        assert now in (old, new), (delay, outcomes[-1])
        assert now == new or outcomes[-1] == 130
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")) == []
    assert 130 in outcomes
    assert main([*render(out)[1:], "--quiet"]) == 0
    assert tree(out) == new


def test_sigint_during_publish_leaves_a_clean_checkout_at_the_old_or_new_commit(
    tmp_path: Path,
) -> None:
    pack = make_pack(tmp_path, ())
    files = [str(p) for p in write_fleet(pack / "fleet", FLEET, seed=1)]
    repo = tmp_path / "deploy"
    argv = ["publish", *files, "--deploy-repo", str(repo), "-j", "2", "--quiet"]
    assert main(argv) == 0
    old = head(repo)
    write_fleet(pack / "fleet", FLEET, seed=2)  # new values: every cluster changes
    pristine = tmp_path / "pristine"
    shutil.copytree(repo, pristine, symlinks=True)
    whole = timed([NETPACK, *argv])
    expected = head(repo, "HEAD^{tree}")
    assert head(repo, "HEAD^") == old

    outcomes = []
    for delay in moments(whole):
        shutil.rmtree(repo)
        shutil.copytree(pristine, repo, symlinks=True)
        outcomes.append(interrupted([NETPACK, *argv], delay))
        tip = head(repo)
        assert tip == old or (head(repo, "HEAD^") == old and head(repo, "HEAD^{tree}") == expected)
        assert tip != old or outcomes[-1] == 130
        assert sh(repo, "status", "--porcelain", "--untracked-files=all") == "", delay
        fsck = subprocess.run(
            ["git", "-C", str(repo), "fsck", "--no-dangling"], capture_output=True, text=True
        )
        assert fsck.returncode == 0 and "error" not in fsck.stdout + fsck.stderr, fsck.stderr
        assert main([*argv[:-3], "-j", "1", "--quiet"]) == 0, delay  # the next publish works
        assert head(repo, "HEAD^{tree}") == expected
        assert sh(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert 130 in outcomes


def test_sigint_while_the_checkout_follows_the_branch_waits_for_it(tmp_path: Path) -> None:
    """The signal lands while the branch moves and the work tree follows (the journal is
    there): the publish finishes that step, then exits 130 at the new commit, clean."""
    pack = make_pack(tmp_path, ())
    files = [str(p) for p in write_fleet(pack / "fleet", FLEET, seed=1)]
    repo = tmp_path / "deploy"
    argv = [NETPACK, "publish", *files, "--deploy-repo", str(repo), "-j", "2", "--quiet"]
    assert main(argv[1:]) == 0
    old = head(repo)
    write_fleet(pack / "fleet", FLEET, seed=2)
    pristine = tmp_path / "pristine"
    shutil.copytree(repo, pristine, symlinks=True)
    journal = repo / ".git" / "netpack-publish.json"
    caught = 0
    for _ in range(3):
        shutil.rmtree(repo)
        shutil.copytree(pristine, repo, symlinks=True)
        proc = subprocess.Popen(
            argv, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        while proc.poll() is None and not journal.exists():
            time.sleep(0.0005)
        seen = proc.poll() is None
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        if seen and proc.returncode == 130:
            caught += 1
            assert err.decode().strip().splitlines()[-1] == "netpack: interrupted"
            parents = sh(repo, "rev-list", "--parents", "-n", "1", "HEAD").split()[1:]
            assert parents == [old]  # the new commit landed, and
        assert sh(repo, "status", "--porcelain", "--untracked-files=all") == ""  # the checkout
        assert not journal.exists()
    assert caught, "the signal never landed in the branch move"


# --- The parts, one by one ---


def test_deferred_holds_a_sigint_until_the_block_ends() -> None:
    steps = []
    with pytest.raises(KeyboardInterrupt), deferred():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # a handler would have run by now
        steps.append("finished")
    assert steps == ["finished"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with deferred():
        steps.append("quiet")  # no signal, nothing raised
    assert steps == ["finished", "quiet"]


def test_shielded_git_runs_in_its_own_process_group(tmp_path: Path) -> None:
    alias = "alias.pgrp=!cut -d' ' -f5 /proc/$$/stat"
    for git, own in ((Git(tmp_path), False), (Git(tmp_path).shielded(), True)):
        group = int(git.text("-c", alias, "pgrp"))
        assert (group != os.getpgrp()) is own
        assert git.with_env(X="1").own_group is own


def test_a_swap_cut_between_its_renames_is_undone_by_the_next_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with Staging(out) as first:
        first.write("a/old.yaml", b"old\n")
        first.commit()
    # What a run killed between "out -> .out.netpack-old-K" and ".out.netpack-new-K -> out" leaves:
    (tmp_path / ".out.netpack-new-K" / "a").mkdir(parents=True)
    (tmp_path / ".out.netpack-new-K" / "a" / "old.yaml").write_text("new\n")
    out.rename(tmp_path / ".out.netpack-old-K")
    (tmp_path / ".out.netpack-new-L").mkdir()  # a render killed while staging
    with Staging(out) as second:
        assert (out / "a" / "old.yaml").read_text() == "old\n"
        leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))
        assert leftovers == [second.root.name]
        second.write("a/new.yaml", b"new\n")
        second.commit()
    assert tree(out) == {"a/new.yaml": b"new\n", "a/old.yaml": b"old\n"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "out"]


def test_a_live_runs_staging_is_not_cleaned_up(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with Staging(out) as first:
        first.write("a.yaml", b"first\n")
        with Staging(out) as second:  # another render of the same directory meanwhile
            assert first.root.is_dir() and (first.root / "a.yaml").exists()
            second.write("b.yaml", b"second\n")
            second.commit()
        first.commit()
    assert tree(out) == {"a.yaml": b"first\n", "b.yaml": b"second\n"}


def test_a_swap_keeps_the_old_files_modes_and_symlinked_targets(tmp_path: Path) -> None:
    real = tmp_path / "real"
    (real / "sub").mkdir(parents=True)
    (real / "sub" / "mine.txt").write_text("mine\n")
    (real / "a.yaml").write_text("old\n")
    (real / "link").symlink_to("sub/mine.txt")
    real.chmod(0o750)
    out = tmp_path / "out"
    out.symlink_to(real)
    with Staging(out) as staging:
        staging.write("a.yaml", b"new\n")
        staging.write("c/b.yaml", b"b\n")
        assert staging.commit() == [out / "a.yaml", out / "c" / "b.yaml"]
    assert out.is_symlink() and os.readlink(out) == str(real)
    assert tree(real) == {
        "a.yaml": b"new\n",
        "c/b.yaml": b"b\n",
        "link": b"mine\n",
        "sub/mine.txt": b"mine\n",
    }
    assert (real / "link").is_symlink()
    assert real.stat().st_mode & 0o777 == 0o750
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "out", "real"]


# --- The worker pool's other ways to end ---


def _start(fail: bool) -> None:
    if fail:
        raise InputError("cannot start", file="policies/", operation="load")


def _stop() -> None:
    pass


def _step(item: int) -> int:
    if item == 13:
        raise ValueError("thirteen")
    if item == 17:
        os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would
    return item * 2


def test_pool_results_come_in_order_and_errors_cross_with_their_traceback() -> None:
    assert list(
        ordered_map(_step, range(12), 2, start=_start, start_args=(False,), stop=_stop)
    ) == [i * 2 for i in range(12)]
    with pytest.raises(ValueError, match="thirteen") as caught:
        list(ordered_map(_step, range(40), 2, start=_start, start_args=(False,), stop=_stop))
    assert "in _step" in str(caught.value.__cause__)  # the worker's traceback
    with pytest.raises(InputError, match="cannot start"):
        list(ordered_map(_step, range(8), 2, start=_start, start_args=(True,), stop=_stop))


def test_pool_reports_a_worker_killed_mid_run_and_leaves_no_process() -> None:
    before = set(multiprocessing.active_children())
    with pytest.raises(WorkerError, match="exit code -9"):
        list(ordered_map(_step, range(14, 40), 2, start=_start, start_args=(False,), stop=_stop))
    assert set(multiprocessing.active_children()) == before
