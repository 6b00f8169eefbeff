"""A publish: what changes in the deploy repo, and the one commit that lands.

A publish never writes into a checkout and then commits it. It stores the
blobs and the new trees in one pack (``pipeline.publish.pack``), makes
the commit with ``commit-tree``, then moves the branch with a compare-and-swap
(``update-ref <new> <old>``) or a plain, never forced, push. Until that one
step nothing a consumer reads has changed, so a publish killed at any moment
leaves the branch at the old commit or the new one. A publisher that loses a
race (the CAS fails, or the remote's branch moved before the push) reads the
new tip and lays the same rendered files over it again, at most
``MAX_ATTEMPTS`` times: the render is deterministic, so nothing is rendered twice.

What changes is decided by blob id: one ``ls-tree`` of the old tree against ids
computed here, so unchanged clusters cost no git call. A cluster whose files
are unchanged keeps its old provenance record (and the source commit it names).
Where the deploy repo lives and how its checkout follows is ``pipeline.publish.repo``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipeline.errors import UsageError
from pipeline.model.resourcelist import File
from pipeline.publish import git as g
from pipeline.publish import index as ix
from pipeline.publish import pack
from pipeline.publish.git import Entry, Git
from pipeline.publish.layout import (
    README_MARK,
    ControllerFiles,
    attributes,
    describe_files,
    legacy_paths,
    readme,
)
from pipeline.publish.provenance import Source, provenance_bytes, same_render
from pipeline.publish.repo import (
    DeployError,
    Target,
    base_commit,
    move_branch,
    prepared,
    read_json,
)
from pipeline.publish.spool import Spool
from pipeline.publish.tree import (
    ATTRIBUTES,
    PROVENANCE,
    README,
    Tree,
    cluster_root,
    flux_root,
    provenance_path,
)

MAX_ATTEMPTS = 5
FILE_MODE = "100644"
FALLBACK_IDENTITY = g.Identity("netpack", "netpack@localhost")


# --- What changes ---


@dataclass(frozen=True)
class ClusterFiles:
    """One cluster's files (path -> blob id, contents in the fleet's store) and provenance."""

    name: str
    files: dict[str, str]
    provenance: dict[str, Any]


@dataclass
class Fleet:
    """Everything one publish writes, rendered and gated already."""

    clusters: list[ClusterFiles]
    source: Source
    complete: bool = False  # --all: owned clusters missing here are removed
    kept: set[str] = field(default_factory=set)  # skipped: inputs unchanged, files stay as they are
    flux: bool = False
    applicationset: bool = False
    algorithm: str = "sha1"
    store: Spool = field(default_factory=Spool)  # blob id -> contents
    # For the deploy index (``pipeline.publish.index``):
    shared: str | None = None  # the shared inputs digest of this publish
    sources: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (file, sha256)
    kept_entries: dict[str, ix.Entry] = field(default_factory=dict)  # kept clusters' entries
    published: dict[str, str] | None = None  # name -> inputs digest, if read already
    controllers: ControllerFiles | None = None  # the Argo CD / Flux files, fleet-level

    def add_cluster(self, name: str, files: Mapping[str, File], record: dict[str, Any]) -> None:
        """A rendered cluster: its files (deploy-repo path -> file) and provenance record."""
        ids = {path: self.add(file.data, file.oid) for path, file in files.items()}
        self.clusters.append(ClusterFiles(name, ids, record))

    def add(self, data: bytes, oid: str | None = None) -> str:
        """Keep ``data`` once; return its blob id (``oid``: its sha1 id, known already)."""
        if oid is None or self.algorithm != "sha1":
            oid = g.object_id(data, "blob", self.algorithm)
        self.store.add(oid, data)
        return oid

    def rehash(self, algorithm: str) -> None:
        """Name every blob with the deploy repo's hash (``sha1`` unless it says otherwise)."""
        if algorithm == self.algorithm:
            return
        renamed = {oid: g.object_id(data, "blob", algorithm) for oid, data in self.store.items()}
        self.store = self.store.renamed(renamed)
        for cluster in self.clusters:
            cluster.files.update({path: renamed[oid] for path, oid in cluster.files.items()})
        self.algorithm = algorithm


@dataclass
class Changes:
    """The tree edit one publish makes: path -> new entry (None deletes), and what it means."""

    entries: dict[str, Entry | None] = field(default_factory=dict)
    clusters: dict[str, str] = field(default_factory=dict)  # name -> added|changed|removed
    files: list[str] = field(default_factory=list)  # other paths written
    _entries: dict[str, Entry] = field(default_factory=dict, repr=False)  # oid -> its entry

    def grouped(self) -> dict[str, list[str]]:
        """The clusters by change, ``added`` then ``changed`` then ``removed``, names sorted."""
        groups: dict[str, list[str]] = {how: [] for how in ("added", "changed", "removed")}
        for name, how in sorted(self.clusters.items()):
            groups[how].append(name)
        return {how: names for how, names in groups.items() if names}

    def set(self, old: Mapping[str, Entry], path: str, oid: str) -> bool:
        """Write ``path`` unless the old tree has it already; True when it changes."""
        entry = self._entries.get(oid)
        if entry is None:  # one per blob: a fleet's clusters share most of theirs
            entry = self._entries[oid] = Entry(FILE_MODE, oid)
        if old.get(path) == entry:
            return False
        self.entries[path] = entry
        return True


def plan(git: Git, old: Tree, fleet: Fleet, target: Target) -> Changes:
    """Compare the rendered fleet with the old tree by blob id; read only the blobs it must."""
    owned = old.paths_by_cluster()
    wanted = [oid for p in (ATTRIBUTES, README) if (oid := old.oid(p)) is not None]
    wanted += [old.entries[provenance_path(c.name)].oid for c in fleet.clusters if old.owns(c.name)]
    blobs = g.read_blobs(git, wanted)
    changes = Changes()
    for cluster in fleet.clusters:
        _plan_cluster(cluster, old, owned.get(cluster.name, set()), blobs, fleet, changes, target)
    if fleet.complete:
        for name in sorted(set(owned) - {c.name for c in fleet.clusters} - fleet.kept):
            if old.owns(name):
                _plan_removal(name, old.entries, owned[name], fleet, changes)
    _plan_root(old.entries, blobs, fleet, changes, target)
    removed = {name for name, how in changes.clusters.items() if how == "removed"}
    names = set(old.owned()) | {c.name for c in fleet.clusters}
    _plan_controllers(old, fleet, names, removed, changes)
    return changes


def published_digests(target: Target) -> dict[str, str]:
    """The ``inputsDigest`` of every cluster netpack published at the branch tip."""
    if not target.exists:
        return {}
    with prepared(target) as git:
        base = base_commit(target, git)
        if base is None:
            return {}
        index = ix.read_index(git, target.branch, base)
        if index is not None:
            return index.inputs()
        return _digests(Tree.at(git, base).provenance(git))


def published_index(target: Target) -> ix.DeployIndex | None:
    """The deploy index at the branch tip, if there is a valid one (``publish.index``)."""
    if not target.exists:
        return None
    with prepared(target) as git:
        return ix.read_index(git, target.branch, base_commit(target, git))


def _digests(records: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    digests = {}
    for name, record in records.items():
        digest = record.get("cluster", {}).get("inputsDigest")
        if isinstance(digest, str):
            digests[name] = digest
    return digests


def _plan_cluster(
    cluster: ClusterFiles,
    tree: Tree,
    mine: set[str],
    blobs: Mapping[str, bytes],
    fleet: Fleet,
    changes: Changes,
    target: Target,
) -> None:
    old = tree.entries
    record_path = provenance_path(cluster.name)
    if mine and record_path not in mine:
        raise DeployError(
            f"{cluster_root(cluster.name)} exists but netpack did not write it (no {PROVENANCE});"
            " move it away or rename the cluster",
            file=target.shown,
            operation="publish",
            resource=cluster.name,
        )
    files = dict(cluster.files)
    old_record = read_json(blobs.get(old[record_path].oid)) if record_path in old else None
    calico = {p for p in files if p.startswith(cluster_root(cluster.name))}
    same_files = mine - {record_path} == calico and all(
        old.get(p) == Entry(FILE_MODE, oid) for p, oid in files.items()
    )
    if same_files and same_render(old_record, cluster.provenance):
        return
    changes.clusters[cluster.name] = "changed" if old_record is not None else "added"
    for path, oid in files.items():
        changes.set(old, path, oid)
    changes.set(old, record_path, fleet.add(provenance_bytes(cluster.provenance)))
    for path in mine - set(files) - {record_path}:
        changes.entries[path] = None


def _plan_removal(
    name: str, old: Mapping[str, Entry], mine: set[str], fleet: Fleet, changes: Changes
) -> None:
    """Drop a cluster netpack wrote and the fleet no longer has (its Flux files with it)."""
    changes.clusters[name] = "removed"
    for path in mine:
        changes.entries[path] = None
    oids = {p: e.oid for p, e in old.items() if p.startswith(("clusters/", "flux/"))}
    for path in legacy_paths(name, oids, fleet.algorithm):
        changes.entries[path] = None
    for path in old:
        if path.startswith(flux_root(name)):
            changes.entries[path] = None


def _plan_root(
    old: Mapping[str, Entry],
    blobs: Mapping[str, bytes],
    fleet: Fleet,
    changes: Changes,
    target: Target,
) -> None:
    """README.md (unless someone else wrote it), .gitattributes, the ApplicationSet."""
    files: dict[str, bytes] = {}
    if README not in old or blobs[old[README].oid].startswith(README_MARK.encode()):
        files[README] = readme(fleet.source.repo)
    files[ATTRIBUTES] = attributes(blobs.get(old[ATTRIBUTES].oid) if ATTRIBUTES in old else None)
    for path, data in files.items():
        if changes.set(old, path, fleet.add(data)):
            changes.files.append(path)


def _plan_controllers(
    old: Tree, fleet: Fleet, names: set[str], removed: set[str], changes: Changes
) -> None:
    """The Argo CD / Flux files for every cluster the new tree holds, compared on their own:
    they follow the set of clusters and the ``--argocd-*``/``--flux-*`` flags, never a
    cluster's render, so changing them re-publishes no cluster."""
    if fleet.controllers is None:
        return
    clusters = names - removed
    wanted = fleet.controllers.files(clusters)
    for path, data in wanted.items():
        if changes.set(old.entries, path, fleet.add(data)):
            changes.files.append(path)
    if not fleet.controllers.flux:
        return
    oids = {p: e.oid for p, e in old.entries.items() if p.startswith(("clusters/", "flux/"))}
    for name in sorted(clusters):
        stale = [p for p in oids if p.startswith(flux_root(name)) and p not in wanted]
        for path in [*stale, *legacy_paths(name, oids, fleet.algorithm)]:
            changes.entries[path] = None
            changes.files.append(path)


def summary(target: Target, outcome: Outcome, *, names: bool = True) -> str:
    """The line a publish ends with: the commit and its clusters by change, or up to date
    (``names=False``: how many clusters per change, not which)."""
    where = f"{target.shown} ({target.branch})"
    if outcome.commit is None:
        return f"netpack: {where} is up to date; nothing to publish"
    groups = outcome.changes.grouped()
    detail = "; ".join(
        f"{how} {', '.join(found)}" if names else f"{len(found)} {how}"
        for how, found in groups.items()
    )
    n = len(outcome.changes.clusters)
    counted = f"{n} cluster{'' if n == 1 else 's'}" + (f" ({detail})" if detail else "")
    if not n:  # only fleet-level files: say which, not "0 clusters"
        counted = f"updated {', '.join(describe_files(outcome.changes.files))}"
    pushed = " and pushed" if target.remote else ""
    return f"netpack: published {outcome.commit[:7]}{pushed} to {where}: {counted}"


# --- The commit ---


@dataclass(frozen=True)
class CommitOptions:
    author: g.Identity | None = None
    sign: bool = False


@dataclass(frozen=True)
class Outcome:
    """What a publish did: the new commit (None: nothing to commit) on top of ``base``."""

    commit: str | None
    base: str | None
    changes: Changes
    old: Tree  # the tree the commit was made on
    attempts: int


def parse_identity(text: str) -> g.Identity:
    """``Name <email>``, as ``git commit --author`` takes it."""
    match = re.fullmatch(r"\s*([^<>]*?)\s*<([^<>]+)>\s*", text)
    if not match or not match[1]:
        raise UsageError(f"--author {text!r}: write it as 'Name <email>'")
    return g.Identity(match[1], match[2])


def message(source: Source, changes: Changes) -> str:
    """``<sha7>: render <n> clusters``, the clusters by change, then the source trailers."""
    n = len(changes.clusters)
    noun = "cluster" if n == 1 else "clusters"
    files = describe_files(changes.files)
    subject = f"render {n} {noun}" if n else f"update {', '.join(files)}"
    body = [f"{how} {name}" for how, names in changes.grouped().items() for name in names]
    body += [f"updated {item}" for item in files if n]
    trailers = [f"Netpack-Source-Commit: {source.commit}"] if source.commit else []
    trailers.append(f"Netpack-Source-Repo: {source.repo}")
    parts = [f"{source.short}: {subject}", "\n".join(body), "\n".join(trailers)]
    return "\n\n".join(p for p in parts if p) + "\n"


def publish(target: Target, fleet: Fleet, options: CommitOptions) -> Outcome:
    """Commit the fleet on the branch tip; retry on a lost race, at most ``MAX_ATTEMPTS`` times."""
    with prepared(target) as git:
        fleet.rehash(g.object_format(git))
        for attempt in range(1, MAX_ATTEMPTS + 1):
            base = base_commit(target, git)
            base_tree = g.tree_of(git, base) if base else None
            old = Tree.around(git, base_tree, _read_names(git, base_tree, fleet))
            changes = plan(git, old, fleet, target)
            index = ix.read_index(git, target.branch, base)
            entries = index_entries(git, index, base, fleet, changes)
            if not changes.entries:
                if base is not None and (index is None or entries != index.clusters):
                    ix.write_index(git, target.branch, base, fleet.shared, entries)
                return Outcome(None, base, changes, old, attempt)
            commit = _commit(git, base_tree, base, fleet, changes, options)
            if _land(target, git, base, commit):
                ix.write_index(git, target.branch, commit, fleet.shared, entries)
                git.run("gc", "--auto", "--quiet", check=False)
                return Outcome(commit, base, changes, old, attempt)
    raise DeployError(
        f"{target.branch} moved on {MAX_ATTEMPTS} times while publishing (other publishers);"
        " run publish again",
        file=target.shown,
        operation="publish",
    )


def index_entries(
    git: Git, index: ix.DeployIndex | None, base: str | None, fleet: Fleet, changes: Changes
) -> dict[str, ix.Entry]:
    """The deploy index's entries after this publish: the old ones (``index``, else every
    owned cluster's provenance), this publish's clusters laid over them."""
    if index is not None:
        before = dict(index.clusters)
    else:
        published = fleet.published
        if published is None:
            published = _digests(Tree.at(git, base).provenance(git))
        before = {name: ix.Entry(digest) for name, digest in published.items()}
    new = dict(fleet.kept_entries)
    for cluster in fleet.clusters:
        digest = cluster.provenance.get("cluster", {}).get("inputsDigest")
        if isinstance(digest, str):
            file, sha = fleet.sources.get(cluster.name, (None, None))
            new[cluster.name] = ix.Entry(digest, file, sha)
    removed = [name for name, how in changes.clusters.items() if how == "removed"]
    return ix.merged(before, new, removed)


def _read_names(git: Git, tree: str | None, fleet: Fleet) -> set[str]:
    """The clusters a publish must see in the old tree: its own; with ``--all`` every
    other one there that it did not keep (it may have to remove them); with Argo CD or
    Flux files, every one (those files list the whole fleet)."""
    names = {c.name for c in fleet.clusters}
    if fleet.controllers is not None:
        names |= Tree.cluster_names(git, tree)
    elif fleet.complete:
        names |= Tree.cluster_names(git, tree) - fleet.kept
    return names


def _commit(
    git: Git,
    base_tree: str | None,
    base: str | None,
    fleet: Fleet,
    changes: Changes,
    options: CommitOptions,
) -> str:
    """Store the new blobs, build the tree, make the commit object; no ref moves."""
    try:
        tree = pack.write_tree(git, base_tree, changes.entries, fleet.store, fleet.algorithm)
    except OSError as err:
        raise DeployError(
            f"cannot store the rendered files: {err.strerror or err}",
            file=str(git.directory),
            operation="write blobs",
        ) from None
    configured = g.configured_identity(git)
    author = options.author or configured or FALLBACK_IDENTITY
    text = message(fleet.source, changes)
    return g.commit_tree(
        git, tree, base, text, author=author, committer=configured or author, sign=options.sign
    )


def _land(target: Target, git: Git, base: str | None, commit: str) -> bool:
    """Move the branch (CAS) or push; False when another publisher got there first."""
    if target.remote is None:
        return move_branch(target, git, base, commit)
    pushed = g.push(git, target.remote, commit, target.branch)
    if pushed.refusal is not None:
        if g.remote_tip(git, target.remote, target.branch) != base:
            return False  # someone else pushed first: rebuild on their tip
        raise pushed.refusal
    git.run("update-ref", target.tracking, commit)
    return True


# --- The source repository ---
