"""Trees computed in Python and packed: the same ids git's own index gives, a clean repo."""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path

import pytest

from pipeline.publish import git as g
from pipeline.publish.git import Entry, Git
from pipeline.publish.pack import write_tree


def git_tree(repo: Path, base: str | None, changes: dict[str, Entry | None]) -> str:
    """The tree git itself makes of ``base`` plus ``changes`` (a temporary index)."""
    env = {**os.environ, "GIT_INDEX_FILE": str(repo / "oracle-index")}

    def run(*args: str, stdin: bytes | None = None) -> str:
        return subprocess.run(
            ["git", "-C", str(repo), *args], env=env, check=True, capture_output=True, input=stdin
        ).stdout.decode()

    (repo / "oracle-index").unlink(missing_ok=True)
    run("read-tree", base or "--empty")
    lines = "".join(
        f"{e.mode} {e.oid}\t{p}\n" if e else f"0 {'0' * 40}\t{p}\n" for p, e in changes.items()
    )
    run("update-index", "--index-info", stdin=lines.encode())
    return run("write-tree").strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", "--bare", str(tmp_path / "r.git")], check=True)
    return tmp_path / "r.git"


def blob(data: bytes) -> Entry:
    return Entry("100644", g.object_id(data))


def test_random_edits_give_the_trees_git_gives(repo: Path) -> None:
    rng = random.Random(5)
    git = Git(repo)
    names = [
        f"clusters/c{i}/calico/{f}"
        for i in range(30)
        for f in ("a.yaml", "b.yaml", ".netpack/p.json")
    ]
    names += ["README.md", ".gitattributes", "argocd/applicationset.yaml"]
    base: str | None = None
    present: set[str] = set()
    for round_ in range(6):
        changes: dict[str, Entry | None] = {}
        datas = []
        for path in rng.sample(names, 40):
            if path in present and rng.random() < 0.4:
                changes[path] = None
            else:
                data = f"{path} {round_} {rng.random()}\n".encode()
                datas.append(data)
                changes[path] = blob(data)
        if round_ == 4:  # empty a whole cluster directory
            changes.update({p: None for p in present if p.startswith("clusters/c3/")})
        tree = write_tree(git, base, changes, [(g.object_id(d), d) for d in datas])
        assert tree == git_tree(repo, base, changes)
        present = {p for p in present | set(changes) if changes.get(p, True) is not None}
        assert set(g.ls_tree(git, tree)) == present
        base = tree
    fsck = subprocess.run(
        ["git", "-C", str(repo), "fsck", "--strict"], capture_output=True, text=True
    )
    assert fsck.returncode == 0, fsck.stderr


def test_an_unchanged_tree_keeps_its_id_and_deleting_everything_gives_the_empty_tree(
    repo: Path,
) -> None:
    git = Git(repo)
    tree = write_tree(git, None, {"a/b": blob(b"1\n")}, [(g.object_id(b"1\n"), b"1\n")])
    assert write_tree(git, tree, {}) == tree
    assert write_tree(git, tree, {"a/b": None}) == "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
