"""Incremental publishing: one digest of everything a cluster's output depends on.

The digest covers the pack's ``base/`` and ``overlays/`` trees (and the
cluster's own overlay when it lives elsewhere), the cluster's cloud and overlay, its values and
Kubernetes fields, the policy set, and netpack itself (its version, the source
of the ``pipeline`` package, and the schema package's version); never the flags
that choose the Argo CD / Flux files, which are fleet-level.  ``publish``
keeps it in each cluster's provenance and skips clusters whose digest matches,
without rendering them.  Editing a file under ``base/`` or ``overlays/``
re-renders every cluster: conservative on purpose, a stale skip would be a
wrong deploy repo.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache, lru_cache
from importlib import metadata
from pathlib import Path

from pipeline import __version__
from pipeline.model.cluster import Cluster


@lru_cache(maxsize=1024)
def resolved(path: Path) -> Path:
    """``path.resolve()``, remembered: a fleet's clusters share their directories."""
    return path.resolve()


@lru_cache(maxsize=1024)
def relative_directory(directory: Path, root: Path) -> str | None:
    """``directory`` resolved, relative to ``root`` resolved (POSIX); None if outside."""
    try:
        return resolved(directory).relative_to(resolved(root)).as_posix()
    except ValueError:
        return None


@cache
def tree_digest(root: Path) -> str:
    """sha256 over every file below ``root``: relative path and bytes, in sorted order.
    Remembered until ``forget``: each publish starts with it."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@cache
def code_digest() -> str:
    """netpack's own version and source, and the bundled schemas' package version."""
    try:
        schemas = metadata.version("kubernetes-validate")
    except metadata.PackageNotFoundError:
        schemas = "none"
    code = tree_digest(Path(__file__).resolve().parents[1])
    return hashlib.sha256(f"{__version__}\0{schemas}\0{code}".encode()).hexdigest()


def inputs_digest(cluster: Cluster, values_digest: str, policy_digest: str) -> str:
    """The digest of every input of ``cluster``'s render and gate verdict, and of nothing
    else: publish flags for the Argo CD / Flux files change no cluster's render (those
    files are compared on their own), so they are not in it."""
    pack = resolved(cluster.pack)
    parts = [
        tree_digest(pack / "base"),
        tree_digest(pack / "overlays"),
        values_digest,
        policy_digest,
        code_digest(),
    ]
    overlay = resolved(cluster.overlay)
    # which overlay, and the cloud the gate judges by: moving a cluster to another
    # cloud changes neither the trees nor the values
    parts += [cluster.cloud, os.path.relpath(overlay, pack)]  # relative: the pack may move
    if pack / "overlays" not in overlay.parents:
        parts.append(tree_digest(overlay))
    return "sha256:" + hashlib.sha256("\0".join(parts).encode()).hexdigest()


def shared_digest(pack: Path, policy_digest: str) -> str:
    """The digest of the inputs every cluster of the pack shares: its ``base/`` and
    ``overlays/`` trees, the policy set and netpack itself.  Equal
    shared digests and equal cluster files give equal ``inputs_digest``s (for clusters
    whose overlay lives in the pack's ``overlays/``)."""
    pack = resolved(pack)
    parts = [
        tree_digest(pack / "base"),
        tree_digest(pack / "overlays"),
        policy_digest,
        code_digest(),
    ]
    return "sha256:" + hashlib.sha256("\0".join(parts).encode()).hexdigest()


def in_pack(cluster: Cluster) -> bool:
    """Whether the cluster's overlay is one of its pack's ``overlays/`` (``shared_digest``)."""
    return resolved(cluster.pack) / "overlays" in resolved(cluster.overlay).parents


def file_digest(data: bytes) -> str:
    """The sha256 of a cluster file's bytes, as the deploy index records it."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def forget() -> None:
    """Forget the tree digests and resolved paths: files may have changed since (a
    process that publishes more than once: tests, the bench)."""
    tree_digest.cache_clear()
    resolved.cache_clear()
    relative_directory.cache_clear()
