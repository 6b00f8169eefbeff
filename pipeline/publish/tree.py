"""The deploy tree: where each file of a published fleet lives, and reading it back.

::

    README.md                                   how the repo was made, how to reproduce a cluster
    .gitattributes                              generated files marked linguist-generated
    argocd/applicationset.yaml                  opt-in: one Argo CD Application per cluster
    flux/<cluster>/calico/                      opt-in: Flux GitRepository + Kustomization
    clusters/<cluster>/calico/<resource>.yaml   one file per resource, as ``netpack render -o``
    clusters/<cluster>/calico/kustomization.yaml     the resources, in render order
    clusters/<cluster>/calico/.netpack/provenance.json  source, values and policy digests

A cluster is netpack's when its ``calico/`` directory holds the provenance
record; only those are ever changed or removed.  ``Tree`` is one commit's tree
read this way, for ``publish`` (what changes) and ``diff`` (what would) alike.
What the files hold is ``pipeline.publish.layout``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pipeline.publish import git as g
from pipeline.publish.git import Entry, Git
from pipeline.publish.repo import read_json

PROVENANCE = ".netpack/provenance.json"
README = "README.md"
ATTRIBUTES = ".gitattributes"
APPLICATIONSET = "argocd/applicationset.yaml"
KUSTOMIZATION = "kustomization.yaml"
_CLUSTER_PATH = re.compile(r"clusters/([^/]+)/calico/")
_LISTED_APART = 256  # more clusters than this: list the whole tree in one call


def cluster_root(name: str) -> str:
    """``clusters/<name>/calico/``: the only directory of a cluster netpack owns."""
    return f"clusters/{name}/calico/"


def flux_path(name: str) -> str:
    """Where netpack before the ``flux/`` layout put a cluster's Flux Kustomization."""
    return f"clusters/{name}/flux-kustomization.yaml"


def flux_root(name: str) -> str:
    """``flux/<name>/calico/``: the cluster's Flux objects (``--flux-kustomizations``)."""
    return f"flux/{name}/calico/"


def provenance_path(name: str) -> str:
    return cluster_root(name) + PROVENANCE


def cluster_of(path: str) -> str | None:
    """The cluster whose ``calico/`` directory holds ``path``, else None."""
    match = _CLUSTER_PATH.match(path)
    return match[1] if match else None


def is_manifest(path: str) -> bool:
    """``clusters/<name>/calico/<file>.yaml``, but not the kustomization."""
    parts = path.split("/")
    return (
        len(parts) == 4
        and parts[0] == "clusters"
        and parts[2] == "calico"
        and parts[3].endswith(".yaml")
        and parts[3] != KUSTOMIZATION
    )


class Tree:
    """A commit's tree (path -> entry), read as netpack's deploy layout."""

    def __init__(self, entries: Mapping[str, Entry]) -> None:
        self.entries = entries
        self._clusters: dict[str, set[str]] | None = None

    @classmethod
    def at(cls, git: Git, commit: str | None) -> Tree:
        """The tree of ``commit`` (None: an empty tree, as before the first publish)."""
        return cls(g.ls_tree(git, g.tree_of(git, commit) if commit else None))

    @classmethod
    def around(cls, git: Git, tree: str | None, names: Iterable[str]) -> Tree:
        """The part of ``tree`` a publish of ``names`` reads: everything but ``clusters/``,
        and ``clusters/<name>/`` of each name.  Two ``ls-tree`` calls, so a publish of
        one cluster of 10,000 does not list 400,000 files; many names: the whole tree."""
        if tree is None:
            return cls({})
        wanted = sorted(set(names))
        if len(wanted) > _LISTED_APART:
            return cls(g.ls_tree(git, tree))
        top = g.ls_paths(git, tree, ["."], recursive=False)
        paths = [p + "/" if e.mode == "040000" else p for p, e in top.items() if p != "clusters"]
        paths += [f"clusters/{name}/" for name in wanted]
        return cls(g.ls_paths(git, tree, paths))

    @staticmethod
    def cluster_names(git: Git, tree: str | None) -> set[str]:
        """The names of the directories under ``clusters/`` (netpack's or not)."""
        if tree is None:
            return set()
        found = g.ls_paths(git, tree, ["clusters/"], recursive=False)
        return {path.split("/", 1)[1] for path, entry in found.items() if entry.mode == "040000"}

    def paths_by_cluster(self) -> dict[str, set[str]]:
        """The paths under each ``clusters/<name>/calico/``, in one pass."""
        if self._clusters is None:
            found: dict[str, set[str]] = {}
            for path in self.entries:
                name = cluster_of(path)
                if name is not None:
                    found.setdefault(name, set()).add(path)
            self._clusters = found
        return self._clusters

    def owns(self, name: str) -> bool:
        """Whether netpack published ``name`` here (its provenance record is there)."""
        return provenance_path(name) in self.entries

    def owned(self) -> list[str]:
        """Every cluster netpack published here, sorted."""
        return sorted(name for name in self.paths_by_cluster() if self.owns(name))

    def oid(self, path: str) -> str | None:
        entry = self.entries.get(path)
        return entry.oid if entry is not None else None

    def manifests(self, names: Iterable[str] | None = None) -> dict[str, str]:
        """``path -> blob id`` of the manifests of the owned clusters (``names``: only those)."""
        wanted = set(self.owned() if names is None else names)
        return {
            path: entry.oid
            for path, entry in self.entries.items()
            if is_manifest(path) and cluster_of(path) in wanted and self.owns(path.split("/")[1])
        }

    def provenance(self, git: Git, names: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """The provenance record of each owned cluster (``names``: only those), parsed."""
        oids = {
            name: oid
            for name in (self.owned() if names is None else names)
            if (oid := self.oid(provenance_path(name))) is not None
        }
        blobs = g.read_blobs(git, oids.values())
        return {name: read_json(blobs.get(oid)) or {} for name, oid in oids.items()}


def bodies(files: Mapping[str, str], read: Callable[[str], bytes]) -> dict[str, list[Any]]:
    """Each cluster's manifests (``path -> blob id``, contents by ``read``), parsed, by path."""
    import yaml

    out: dict[str, list[Any]] = {}
    for path, oid in sorted(files.items()):
        name = cluster_of(path)
        if name is not None and is_manifest(path):
            out.setdefault(name, []).append(yaml.load(read(oid), Loader=yaml.CSafeLoader))
    return out
