"""The git command line, through one wrapper.

Every call runs ``git -C <directory> ...`` as a subprocess with a pinned
environment: ``LC_ALL=C`` (messages are parsed in one place, ``push``), no
pager, no terminal prompt, no system config for local work (network commands
keep it: credential helpers and proxies often live there), and none of the
``GIT_DIR``-style variables a calling hook or shell may have set.  A failure is
a ``GitError`` that shows the command, the exit code and git's stderr on one line.

The helpers below are plumbing: they write objects and build trees without a
work tree or the repository's index, so nothing a user sees changes until a
ref moves (``update_ref`` is a compare-and-swap).
"""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from pipeline.errors import NetpackError
from pipeline.interrupts import blocked

# Variables that would point git at another repository, index or object store.
_LOCATION_VARS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_QUARANTINE_PATH",
)
_PINNED = {
    "LC_ALL": "C",
    "LANGUAGE": "C",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_PAGER": "cat",
    "PAGER": "cat",
    "GIT_EDITOR": "false",  # nothing may wait for a human
}
_STDERR_LIMIT = 600

# Descriptors of the locks netpack holds on a deploy repo (``publish.repo.claim``): every
# git child inherits them, so a lock stays held until the last git of a killed
# publisher has exited, not only until the publisher itself has.
HELD_LOCKS: set[int] = set()


class GitError(NetpackError):
    """A git command failed; ``str()`` shows the command, exit code and stderr on one line."""

    def __init__(self, directory: Path, args: Iterable[str], code: int, stderr: bytes) -> None:
        self.args_shown = _shown(args)
        self.code = code
        self.stderr = one_line(stderr)
        super().__init__(
            f"exit {code}: {self.stderr or '(no message)'}",
            file=str(directory),
            operation=self.args_shown,
        )


def _shown(args: Iterable[str]) -> str:
    items = list(args)
    text = shlex.join(["git", *items[:12]])
    return text + (" ..." if len(items) > 12 else "")


def one_line(stderr: bytes) -> str:
    """git's stderr as one line: blank and ``hint:`` lines dropped, the rest joined by ``; ``."""
    lines = [
        line.strip()
        for line in stderr.decode("utf-8", "replace").splitlines()
        if line.strip() and not line.startswith("hint:")
    ]
    text = "; ".join(lines)
    return text if len(text) <= _STDERR_LIMIT else text[: _STDERR_LIMIT - 3] + "..."


def environment(extra: Mapping[str, str] = {}, *, network: bool = False) -> dict[str, str]:
    """The environment every git call gets: the caller's, pinned as the module says."""
    env = {k: v for k, v in os.environ.items() if k not in _LOCATION_VARS}
    env.update(_PINNED)
    if not network:
        env["GIT_CONFIG_NOSYSTEM"] = "1"
    env.update(extra)
    return env


class Completed(NamedTuple):
    code: int
    stdout: bytes
    stderr: bytes


@dataclass(frozen=True)
class Git:
    """``git -C directory`` with the pinned environment plus ``env``."""

    directory: Path
    env: Mapping[str, str] = field(default_factory=dict)
    own_group: bool = False  # children in their own process group: see ``shielded``

    def run(
        self,
        *args: str,
        stdin: bytes | None = None,
        check: bool = True,
        network: bool = False,
        env: Mapping[str, str] = {},
    ) -> Completed:
        """Run git; ``GitError`` on a non-zero exit when ``check``."""
        try:
            with blocked() if self.own_group else nullcontext():
                proc = subprocess.run(
                    ["git", "-C", str(self.directory), *args],
                    input=stdin if stdin is not None else b"",
                    capture_output=True,
                    env=environment({**self.env, **env}, network=network),
                    check=False,
                    pass_fds=tuple(HELD_LOCKS),
                    process_group=self._group(),
                )
        except OSError as err:  # no git at all, or the directory vanished
            raise GitError(self.directory, args, 127, str(err).encode()) from None
        if check and proc.returncode != 0:
            raise GitError(self.directory, args, proc.returncode, proc.stderr)
        return Completed(proc.returncode, proc.stdout, proc.stderr)

    def feed(self, *args: str, chunks: Iterable[bytes]) -> Completed:
        """Run git with ``chunks`` streamed to its stdin (never all in memory at once);
        ``GitError`` on a non-zero exit.  Its output goes to temporary files meanwhile,
        so a full pipe cannot stall either side."""
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            try:
                with blocked() if self.own_group else nullcontext():  # the child keeps it
                    proc = subprocess.Popen(
                        ["git", "-C", str(self.directory), *args],
                        stdin=subprocess.PIPE,
                        stdout=out,
                        stderr=err,
                        env=environment(self.env),
                        pass_fds=tuple(HELD_LOCKS),
                        process_group=self._group(),
                    )
            except OSError as exc:  # no git at all, or the directory vanished
                raise GitError(self.directory, args, 127, str(exc).encode()) from None
            assert proc.stdin is not None
            try:
                for chunk in chunks:
                    proc.stdin.write(chunk)
                proc.stdin.close()
            except BrokenPipeError:
                pass  # git stopped reading: its exit code and stderr say why
            finally:
                if not proc.stdin.closed:
                    proc.stdin.close()
                code = proc.wait()
            out.seek(0)
            err.seek(0)
            done = Completed(code, out.read(), err.read())
        if code != 0:
            raise GitError(self.directory, args, code, done.stderr)
        return done

    def text(self, *args: str, network: bool = False) -> str:
        """stdout of a successful call, decoded and stripped."""
        return self.run(*args, network=network).stdout.decode("utf-8", "replace").strip()

    def ok(self, *args: str) -> bool:
        """Whether the call exits 0 (its output is discarded)."""
        return self.run(*args, check=False).code == 0

    def with_env(self, **extra: str) -> Git:
        return Git(self.directory, {**self.env, **extra}, self.own_group)

    def shielded(self) -> Git:
        """This git, its commands started with SIGINT blocked and in their own process
        group: a Ctrl-C (sent to the terminal's process group) does not stop them
        half-way (``pipeline.interrupts.deferred`` holds it back from this process)."""
        return Git(self.directory, self.env, own_group=True)

    def _group(self) -> int | None:
        return 0 if self.own_group and os.name == "posix" else None


# --- Objects ---


def object_id(data: bytes, kind: str = "blob", algorithm: str = "sha1") -> str:
    """The id git gives an object of ``kind`` holding ``data`` (no git call needed)."""
    digest = hashlib.new(algorithm, f"{kind} {len(data)}\0".encode())
    digest.update(data)
    return digest.hexdigest()


def object_format(git: Git) -> str:
    """``sha1`` or ``sha256``: the hash this repository names objects with."""
    return git.text("rev-parse", "--show-object-format")


def resolve(git: Git, ref: str) -> str | None:
    """The commit ``ref`` points at, or None when it does not exist."""
    proc = git.run("rev-parse", "-q", "--verify", f"{ref}^{{commit}}", check=False)
    return proc.stdout.decode().strip() if proc.code == 0 else None


def tree_of(git: Git, commit: str) -> str:
    return git.text("rev-parse", f"{commit}^{{tree}}")


class Entry(NamedTuple):
    mode: str
    oid: str


_LISTED: list[tuple[tuple[str, str], Mapping[str, Entry]]] = []  # the last tree listed


def ls_tree(git: Git, tree: str | None) -> Mapping[str, Entry]:
    """Every file of ``tree`` (recursively): path -> (mode, object id); {} for None.

    Read-only.  A tree never changes under its id, so the last listing is kept:
    a publish lists the branch tip's tree to find what it published before and
    again to plan its commit (~0.2 s for 1,000 clusters).
    """
    if tree is None:
        return {}
    key = (str(git.directory), tree)
    if _LISTED and _LISTED[0][0] == key:
        return _LISTED[0][1]
    listed = MappingProxyType(_entries(git.run("ls-tree", "-r", "-z", "--full-tree", tree).stdout))
    _LISTED[:] = [(key, listed)]
    return listed


def ls_paths(git: Git, tree: str, paths: Iterable[str], recursive: bool = True) -> dict[str, Entry]:
    """``ls_tree`` of just ``paths`` (files, or directories ending in ``/``) of ``tree``;
    without ``recursive`` a directory's own entries, subdirectories as trees."""
    flags = ["-r"] if recursive else []
    wanted = list(paths)
    if not wanted:
        return {}
    literal = git.with_env(GIT_LITERAL_PATHSPECS="1")  # a name is a name, never a glob
    return _entries(literal.run("ls-tree", *flags, "-z", "--full-tree", tree, "--", *wanted).stdout)


def _entries(out: bytes) -> dict[str, Entry]:
    files: dict[str, Entry] = {}
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        mode, _, oid = meta.decode().split(" ")
        files[path.decode("utf-8", "surrogateescape")] = Entry(mode, oid)
    return files


def read_blobs(git: Git, oids: Iterable[str]) -> dict[str, bytes]:
    """The contents of the given blobs, read in one ``cat-file --batch`` call."""
    wanted = sorted(set(oids))
    if not wanted:
        return {}
    out = git.run("cat-file", "--batch", stdin="".join(f"{o}\n" for o in wanted).encode()).stdout
    blobs: dict[str, bytes] = {}
    pos = 0
    for oid in wanted:
        end = out.index(b"\n", pos)
        header = out[pos:end].decode().split(" ")
        if len(header) != 3:  # "<oid> missing"
            raise GitError(git.directory, ["cat-file", "--batch"], 0, f"{oid}: missing".encode())
        size = int(header[2])
        blobs[oid] = out[end + 1 : end + 1 + size]
        pos = end + 1 + size + 1
    return blobs


@dataclass(frozen=True)
class Identity:
    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


def configured_identity(git: Git) -> Identity | None:
    """``user.name`` and ``user.email`` from git's config, when both are set."""
    name = git.run("config", "user.name", check=False).stdout.decode().strip()
    email = git.run("config", "user.email", check=False).stdout.decode().strip()
    return Identity(name, email) if name and email else None


def commit_tree(
    git: Git,
    tree: str,
    parent: str | None,
    message: str,
    *,
    author: Identity,
    committer: Identity,
    sign: bool = False,
) -> str:
    """A new commit object (no ref moves); ``sign`` uses git's own signing config (``-S``)."""
    args = ["commit-tree", tree, *(["-p", parent] if parent else []), *(["-S"] if sign else [])]
    env = {
        "GIT_AUTHOR_NAME": author.name,
        "GIT_AUTHOR_EMAIL": author.email,
        "GIT_COMMITTER_NAME": committer.name,
        "GIT_COMMITTER_EMAIL": committer.email,
    }
    return git.run(*args, "-F", "-", stdin=message.encode(), env=env).stdout.decode().strip()


def update_ref(git: Git, ref: str, new: str, old: str | None, reason: str) -> None:
    """Move ``ref`` to ``new`` only if it is still at ``old`` (None: must not exist yet)."""
    expected = old if old is not None else "0" * len(new)
    git.run("update-ref", "-m", reason, ref, new, expected)


# --- Remotes ---


class PushResult(NamedTuple):
    accepted: bool
    refusal: GitError | None = None  # why the remote said no, as an error ready to raise


def push(git: Git, url: str, commit: str, branch: str) -> PushResult:
    """Push ``commit`` to ``url``'s ``branch``, never forced.

    A refusal of the ref update (not a fast-forward, a lost race on the server's
    ref lock, a hook, permissions) comes back as ``accepted=False`` with the
    remote's words, so the caller can tell a lost race (the branch moved) from a
    "no"; a failure before any ref was considered (no connection) is a ``GitError``.
    """
    args = ["push", "--porcelain", url, f"{commit}:refs/heads/{branch}"]
    proc = git.run(*args, check=False, network=True)
    if proc.code == 0:
        return PushResult(True)
    refused = [line for line in proc.stdout.splitlines() if line.startswith(b"!")]
    error = GitError(git.directory, args, proc.code, proc.stderr + b"\n" + b"\n".join(refused))
    if not refused:
        raise error
    return PushResult(False, error)


def remote_tip(git: Git, url: str, branch: str) -> str | None:
    """The commit ``url``'s ``branch`` points at (None if the branch does not exist)."""
    out = git.text("ls-remote", "--heads", url, f"refs/heads/{branch}", network=True)
    for line in out.splitlines():
        oid, _, ref = line.partition("\t")
        if ref == f"refs/heads/{branch}":
            return oid
    return None


def fetch(git: Git, url: str, branch: str, into: str) -> None:
    """Fetch ``url``'s ``branch`` into the local ref ``into`` (forced: it mirrors the remote)."""
    git.run("fetch", "--no-tags", "--quiet", url, f"+refs/heads/{branch}:{into}", network=True)
