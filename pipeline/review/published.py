"""What reviewers read about the deploy repo: its published manifests, and a publish's diff."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.options import DeployOptions
from pipeline.publish import git as g
from pipeline.publish.commit import Fleet, Outcome
from pipeline.publish.repo import (
    DeployError,
    Target,
    base_commit,
    cache_home,
    is_url,
    open_target,
    prepared,
    probe,
)
from pipeline.publish.tree import Tree, bodies, cluster_of
from pipeline.review.diff import diff_trees
from pipeline.review.format import format_text


def published_bodies(deploy: DeployOptions, names: set[str] | None) -> dict[str, list[Any]]:
    """The manifests of each netpack-owned cluster at the branch tip (``names``: only those).

    A repository without the branch has nothing published yet (every resource is
    added); a path that does not exist or is no repository is a ``DeployError``:
    ``diff`` only reads, and a typo must not read as "everything is new".
    """
    if is_url(deploy.repo):
        target = open_target(deploy.repo, deploy.branch, push=True, cache_home=cache_home())
        with prepared(target) as git:
            return _bodies_at(git, base_commit(target, git), names)
    path = Path(deploy.repo)
    if not path.exists():
        raise DeployError(
            "no such deploy repo (publish creates it; diff compares with one that exists)",
            file=deploy.repo,
            operation="diff",
        )
    if not path.is_dir() or probe(path) is None:
        raise DeployError("is not a git repository", file=deploy.repo, operation="diff")
    git = g.Git(path)
    return _bodies_at(git, g.resolve(git, f"refs/heads/{deploy.branch}"), names)


def _bodies_at(git: g.Git, tip: str | None, names: set[str] | None) -> dict[str, list[Any]]:
    if tip is None:
        return {}
    files = Tree.at(git, tip).manifests(names)
    blobs = g.read_blobs(git, files.values())
    return bodies(files, blobs.__getitem__)


def review_publish(target: Target, outcome: Outcome, fleet: Fleet, *, color: bool) -> str:
    """The semantic diff of the clusters a publish changed.

    Added and removed clusters are named in the summary line only: a diff of every
    resource of a whole cluster tells a reviewer nothing more, and costs seconds
    on a first publish of a large fleet.
    """
    names = set(outcome.changes.grouped().get("changed", []))
    if not names:
        return ""
    new_files = {p: o for c in fleet.clusters if c.name in names for p, o in c.files.items()}
    old_files = {p: e.oid for p, e in outcome.old.entries.items() if cluster_of(p) in names}
    # A file with the same blob on both sides holds the same objects: nothing to parse.
    # (A netpack upgrade changes every cluster's provenance and often nothing else.)
    same = {p for p, oid in new_files.items() if old_files.get(p) == oid}
    new_files = {p: oid for p, oid in new_files.items() if p not in same}
    old_files = {p: oid for p, oid in old_files.items() if p not in same}
    old_blobs = g.read_blobs(g.Git(target.repo), old_files.values())
    changes = diff_trees(
        bodies(old_files, old_blobs.__getitem__), bodies(new_files, fleet.store.__getitem__)
    )
    if changes.empty:  # only their provenance records changed (policies, netpack, source)
        n = len(names)
        return (
            f"netpack: {n} cluster{'' if n == 1 else 's'} changed only in provenance.json"
            " (policy set, netpack version or inputs); no manifest changed\n"
        )
    return format_text(changes, color=color)
