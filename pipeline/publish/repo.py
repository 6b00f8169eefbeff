"""The deploy repo: where a publish goes, and how a checkout follows the branch.

Targets:

- a local path: committed in place; created (``git init -b BRANCH``) if missing,
  refused when it is a file, a non-empty directory that is no repository, or a
  checkout with uncommitted changes, a detached HEAD or another branch;
- a URL, or a bare repository path with ``--push``: a bare cache clone under
  ``$XDG_CACHE_HOME/netpack/deploy/<sha256 of the URL>``, fetched each run and
  pushed to; publishers sharing a cache take turns (``flock``).

A non-bare deploy repo's checkout follows after the branch moved
(``read-tree -m -u``, which refuses to overwrite local edits). A journal in the
git directory records both commits first, so a publish killed between the two
steps is finished by the next one (``recover``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import NetpackError, UsageError
from pipeline.interrupts import deferred
from pipeline.publish import git as g
from pipeline.publish.git import Git, GitError

JOURNAL = "netpack-publish.json"


class DeployError(NetpackError):
    """The deploy repo cannot take this publish (its state, ownership, a lost race)."""


# --- Targets ---


@dataclass(frozen=True)
class Target:
    """Where a publish goes: the repository committed in, and the remote pushed to, if any."""

    shown: str  # the deploy repo as given, for messages and the ApplicationSet's repoURL
    branch: str
    repo: Path  # the deploy repo itself, or the cache clone of a remote
    remote: str | None = None
    work_tree: bool = False  # a checkout follows the branch
    exists: bool = True  # False: ``git init`` on the first publish
    algorithm: str = "sha1"  # the remote's object format, for a new cache clone

    @property
    def ref(self) -> str:
        return f"refs/heads/{self.branch}"

    @property
    def tracking(self) -> str:
        """Where the cache keeps the remote's tip (keeps its objects from gc)."""
        return f"refs/netpack/remote/{self.branch}"


def is_url(spec: str) -> bool:
    """A URL (``scheme://``) or scp-like ``host:path`` (a colon before any slash), as git says."""
    if "://" in spec:
        return True
    head, colon, _ = spec.partition(":")
    return bool(colon) and "/" not in head and len(head) > 1 and not Path(spec).exists()


def open_target(
    spec: str, branch: str, *, push: bool, cache_home: Path, claim_it: bool = False
) -> Target:
    """Check the deploy repo without changing it; a ``DeployError`` says what is wrong.
    ``claim_it``: hold a local checkout for this process first (``claim``), as publish does."""
    if spec.startswith("-"):
        raise UsageError(f"--deploy-repo {spec}: must not start with '-'")
    if not Git(Path.cwd()).ok("check-ref-format", "--branch", branch):
        raise UsageError(f"--branch {branch}: not a valid branch name")
    if is_url(spec):
        if not push:
            raise UsageError(f"--deploy-repo {spec}: a remote deploy repo needs --push")
        return _remote(spec, spec, branch, cache_home)
    path = Path(spec).absolute()
    kind = _repo_kind(path, spec)
    if push and kind == "new":
        raise DeployError(
            "no such repository; --push publishes to a repository that exists",
            file=spec,
            operation="deploy repo",
        )
    if push:
        if kind != "bare":
            raise UsageError(
                f"--deploy-repo {spec}: --push needs a URL or a bare repository;"
                " publish into a checkout without --push"
            )
        return _remote(spec, str(path), branch, cache_home)
    if kind == "work":
        if claim_it:
            claim(Git(path))
        recover(Git(path))
        _check_checkout(Git(path), branch, spec)
    return Target(spec, branch, path, work_tree=kind in ("work", "new"), exists=kind != "new")


def _repo_kind(path: Path, spec: str) -> str:
    """``bare``, ``work`` (a checkout), or ``new`` (missing or an empty directory)."""
    if not path.exists():
        return "new"
    if not path.is_dir():
        raise DeployError("is a file, not a git repository", file=spec, operation="deploy repo")
    kind = probe(path)
    if kind is not None:
        return kind
    if any(path.iterdir()):
        raise DeployError(
            "is not a git repository (and not empty)", file=spec, operation="deploy repo"
        )
    return "new"


def probe(path: Path) -> str | None:
    """``bare`` or ``work`` when ``path`` itself is a repository's root, else None.

    Repositories above ``path`` are not looked for (``GIT_CEILING_DIRECTORIES``):
    an empty directory inside some checkout is not that checkout.
    """
    confined = Git(path, {"GIT_CEILING_DIRECTORIES": str(path.absolute().parent)})
    out = confined.run("rev-parse", "--is-bare-repository", "--absolute-git-dir", check=False)
    lines = out.stdout.decode().split("\n")
    if out.code != 0 or len(lines) < 2:
        return None
    if lines[0] == "true":
        return "bare" if Path(lines[1]) == path.resolve() else None
    top = confined.run("rev-parse", "--show-toplevel", check=False).stdout.decode().strip()
    return "work" if top and Path(top) == path.resolve() else None


def _check_checkout(git: Git, branch: str, spec: str) -> None:
    """A checkout must have ``branch`` checked out and nothing uncommitted."""
    head = git.run("symbolic-ref", "-q", "HEAD", check=False)
    if head.code != 0:
        raise DeployError(
            f"HEAD is detached; check out {branch} first (git -C {spec} switch {branch})",
            file=spec,
            operation="deploy repo",
        )
    current = head.stdout.decode().strip().removeprefix("refs/heads/")
    if current != branch:
        raise DeployError(
            f"has branch {current} checked out, not {branch};"
            f" switch to {branch} or pass --branch {current}",
            file=spec,
            operation="deploy repo",
        )
    dirty = status(git)
    if dirty:
        shown = ", ".join(sorted(dirty)[:3]) + (" ..." if len(dirty) > 3 else "")
        raise DeployError(
            f"has uncommitted changes ({shown}); commit or stash them first",
            file=spec,
            operation="deploy repo",
        )


def status(git: Git) -> set[str]:
    """Paths with uncommitted changes, untracked files included."""
    out = git.run("status", "--porcelain", "-z", "--no-renames", "--untracked-files=all").stdout
    return {item[3:].decode("utf-8", "surrogateescape") for item in out.split(b"\0") if item}


def _remote(spec: str, url: str, branch: str, cache_home: Path) -> Target:
    """A remote deploy repo, reachable: published through a bare cache clone."""
    try:
        tip = g.remote_tip(Git(Path.cwd()), url, branch)
    except GitError as err:
        raise DeployError(
            f"cannot reach the deploy repo: {err.stderr}", file=spec, operation="git ls-remote"
        ) from None
    key = hashlib.sha256(url.encode()).hexdigest()
    cache = cache_home / "netpack" / "deploy" / key
    algorithm = "sha256" if tip is not None and len(tip) == 64 else "sha1"
    return Target(spec, branch, cache, url, exists=(cache / "HEAD").is_file(), algorithm=algorithm)


def cache_home() -> Path:
    """``$XDG_CACHE_HOME``, else ``~/.cache``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


@contextmanager
def prepared(target: Target) -> Iterator[Git]:
    """The repository to commit in, created if needed; a cache is locked while in use."""
    if target.remote is None:
        if not target.exists:
            target.repo.mkdir(parents=True, exist_ok=True)
            # SHA-1: Argo CD and Flux (go-git) do not read SHA-256 repositories.
            with deferred():  # never half a repository
                init = Git(target.repo).shielded()
                init.run("init", "-q", "-b", target.branch, "--object-format=sha1")
            claim(Git(target.repo))
        yield Git(target.repo)
        return
    target.repo.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target.repo.with_suffix(".lock")):
        git = Git(target.repo)
        if probe(target.repo) != "bare":
            shutil.rmtree(target.repo, ignore_errors=True)  # our own cache, unusable
            target.repo.mkdir()
            git.run("init", "-q", "--bare", f"--object-format={target.algorithm}")
        # Only netpack uses its cache, and holding the lock (its git children hold it
        # too) this process is the only one here: any git lock file is a killed one's.
        for lock in _stale_locks(target.repo):
            (target.repo / lock).unlink(missing_ok=True)
        yield git


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (POSIX ``flock``); publishers sharing a cache take turns."""
    try:
        import fcntl
    except ImportError:  # Windows: the push itself still refuses to lose commits
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        g.HELD_LOCKS.add(handle.fileno())
        try:
            yield
        finally:
            g.HELD_LOCKS.discard(handle.fileno())
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- Holding a local deploy repo, and the locks a killed publish leaves ---

CLAIM = "netpack.lock"  # in the git directory: flock'ed while a netpack publishes here
ACTIVE = "netpack-active"  # in the git directory: present while a claim is held
_CLAIMS: dict[Path, Any] = {}  # git directory -> the open lock file this process holds
# Lock files git leaves when it is killed mid-write (lockfile.c: "<file>.lock").
_GIT_LOCKS = ("index.lock", "HEAD.lock", "ORIG_HEAD.lock", "config.lock", "packed-refs.lock")


def claim(git: Git) -> list[str]:
    """Hold the deploy repo for this process (``release`` or its exit lets go).

    Another netpack publishing here is waited for (``flock`` on ``netpack.lock``,
    inherited by every git child, so a killed publisher's last git must end
    too).  Holding it, this process is the only netpack here; if ``netpack-active``
    is still there, the last holder was killed, and the git lock files it left
    (``index.lock``, ``HEAD.lock``, ``refs/**.lock``...) are removed: without that
    every later publish would fail.  Lock files with no killed netpack behind them
    belong to someone else's git and stay.  Returns the lock files removed.
    """
    gitdir = Path(git.text("rev-parse", "--absolute-git-dir"))
    if gitdir in _CLAIMS:
        return []
    try:
        import fcntl
    except ImportError:  # Windows: no claim, no recovery; git's own locks still hold
        return []
    try:
        handle = open(gitdir / CLAIM, "a")  # noqa: SIM115  # held until release()
    except OSError as err:
        raise _claim_error(err, gitdir / CLAIM) from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        active = gitdir / ACTIVE
        removed = _stale_locks(gitdir) if active.exists() else []
        for lock in removed:
            (gitdir / lock).unlink(missing_ok=True)
        active.write_text(f"{os.getpid()}\n")
    except OSError as err:
        handle.close()
        raise _claim_error(err, gitdir) from None
    except BaseException:
        handle.close()
        raise
    _CLAIMS[gitdir] = handle
    g.HELD_LOCKS.add(handle.fileno())
    if removed:
        print(
            f"netpack: removed git lock file(s) a killed publish left in {gitdir}:"
            f" {', '.join(removed)}",
            file=sys.stderr,
        )
    return removed


def _claim_error(err: OSError, path: Path) -> DeployError:
    return DeployError(
        f"cannot hold the deploy repo: {err.strerror or err}",
        file=err.filename or str(path),
        operation="publish",
    )


def release() -> None:
    """Let go of every deploy repo this process holds (``claim``)."""
    for gitdir, handle in list(_CLAIMS.items()):
        (gitdir / ACTIVE).unlink(missing_ok=True)
        g.HELD_LOCKS.discard(handle.fileno())
        handle.close()  # closing the last descriptor releases the flock
        del _CLAIMS[gitdir]


def _stale_locks(gitdir: Path) -> list[str]:
    """The git lock files under ``gitdir``, relative to it, sorted."""
    found = [name for name in _GIT_LOCKS if (gitdir / name).is_file()]
    found += [str(p.relative_to(gitdir)) for p in (gitdir / "refs").rglob("*.lock")]
    return sorted(found)


def base_commit(target: Target, git: Git) -> str | None:
    """The commit to build on: the branch tip, or the remote's (fetched into the cache)."""
    if target.remote is None:
        return g.resolve(git, target.ref)
    tip = g.remote_tip(git, target.remote, target.branch)
    if tip is None:
        if g.resolve(git, target.tracking):
            git.run("update-ref", "-d", target.tracking)
        return None
    if not git.ok("cat-file", "-e", f"{tip}^{{commit}}"):
        g.fetch(git, target.remote, target.branch, target.tracking)
        return g.resolve(git, target.tracking)
    git.run("update-ref", target.tracking, tip)
    return tip


# --- The checkout of a non-bare deploy repo ---


def move_branch(target: Target, git: Git, base: str | None, commit: str) -> bool:
    """Compare-and-swap the branch from ``base`` to ``commit``, then bring the checkout
    along; False when the branch was no longer at ``base`` (another publisher won).

    A Ctrl-C meanwhile takes effect after both (``pipeline.interrupts.deferred``), so
    an interrupted publish leaves the old commit or the new one with a clean checkout.
    """
    with deferred():
        return _move_branch(target, git.shielded(), base, commit)


def _move_branch(target: Target, git: Git, base: str | None, commit: str) -> bool:
    journal = _journal(git) if target.work_tree else None
    if journal is not None:
        record = {"branch": target.branch, "old": base, "new": commit}
        try:
            write_file(journal, json.dumps(record).encode())
        except OSError as err:
            raise DeployError(
                f"cannot write the journal: {err.strerror or err}",
                file=str(journal),
                operation="publish",
            ) from None
    try:
        g.update_ref(git, target.ref, commit, base, "netpack publish")
    except GitError:
        if journal is not None:
            journal.unlink(missing_ok=True)
        if g.resolve(git, target.ref) != base:
            return False  # lost the compare-and-swap: rebuild on the new tip
        raise
    if journal is not None:
        _follow(git, base, commit, target.shown)
        journal.unlink(missing_ok=True)
    return True


def write_file(path: Path, data: bytes) -> None:
    """Write a file whole or not at all (a temporary file, then ``os.replace``)."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _journal(git: Git) -> Path:
    return Path(git.text("rev-parse", "--absolute-git-dir")) / JOURNAL


def _empty_tree(git: Git) -> str:
    return g.object_id(b"", "tree", g.object_format(git))


def _follow(git: Git, old: str | None, new: str, shown: str) -> None:
    """Bring index and work tree from ``old`` to ``new``; local edits make it fail, not vanish."""
    old_tree = g.tree_of(git, old) if old else _empty_tree(git)
    try:
        git.run("update-index", "-q", "--refresh", check=False)
        git.run("read-tree", "-m", "-u", old_tree, g.tree_of(git, new))
    except GitError as err:
        raise DeployError(
            f"published {new[:7]}, but the checkout could not follow ({err.stderr});"
            " the next publish finishes it",
            file=shown,
            operation="update work tree",
        ) from None


def recover(git: Git) -> None:
    """Finish a publish that was killed after moving the branch but before the checkout followed.

    The work tree is reset to the branch only when every uncommitted change is a
    file that publish was changing and that holds its old or its new contents;
    anything else is a human's edit and stops the publish.
    """
    journal = _journal(git)
    if not journal.exists():
        return
    record = read_json(journal.read_bytes()) or {}
    old, new, branch = record.get("old"), record.get("new"), record.get("branch")
    with deferred():  # as the publish it finishes
        if isinstance(new, str) and g.resolve(git, f"refs/heads/{branch}") == new:
            _finish(git.shielded(), old if isinstance(old, str) else None, new)
        journal.unlink(missing_ok=True)


def _finish(git: Git, old: str | None, new: str) -> None:
    before = g.ls_tree(git, g.tree_of(git, old) if old else None)
    after = g.ls_tree(git, g.tree_of(git, new))
    algorithm = g.object_format(git)
    for path in status(git):
        target = git.directory / path
        data = target.read_bytes() if target.is_file() else None
        current = g.object_id(data, "blob", algorithm) if data is not None else None
        allowed = {e.oid if e else None for e in (before.get(path), after.get(path))}
        changing = before.get(path) != after.get(path)
        if changing and current not in allowed and _half_written(git, data, after.get(path)):
            continue  # the checkout was killed while writing it: the reset finishes it
        if before.get(path) == after.get(path) or current not in allowed:
            raise DeployError(
                f"a publish of {new[:7]} was interrupted, and {path} has changes of your own;"
                " save them, then run git reset --hard",
                file=str(git.directory),
                operation="recover",
            )
    git.run("reset", "-q", "--hard", new)


def _half_written(git: Git, data: bytes | None, new: g.Entry | None) -> bool:
    """Whether ``data`` is what a killed checkout leaves of ``new``: git replaces a file
    by unlink, create, write (entry.c), so nothing (``None``), or a strict prefix of it."""
    if new is None:
        return False
    if data is None:
        return True
    whole = g.read_blobs(git, [new.oid])[new.oid]
    return len(data) < len(whole) and whole.startswith(data)


def read_json(data: bytes | None) -> dict[str, Any] | None:
    """A JSON object from ``data``; None when absent or not an object (edited by hand)."""
    try:
        value = json.loads(data) if data is not None else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
