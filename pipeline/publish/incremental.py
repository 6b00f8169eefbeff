"""Incremental publishing: one digest of everything a cluster's output depends on.

The digest covers the pack's ``base/`` and ``overlays/`` trees (and the
cluster's own overlay when it lives elsewhere), the cluster's cloud and overlay, its values and
Kubernetes fields, the policy set, and netpack itself (its version, the source
of the ``pipeline`` package, and the schema package's version).  ``publish``
keeps it in each cluster's provenance and skips clusters whose digest matches,
without rendering them.  Editing a file under ``base/`` or ``overlays/``
re-renders every cluster: conservative on purpose, a stale skip would be a
wrong deploy repo.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from importlib import metadata
from pathlib import Path

from pipeline import __version__
from pipeline.model.cluster import Cluster


@cache
def tree_digest(root: Path) -> str:
    """sha256 over every file below ``root``: relative path and bytes, in sorted order."""
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


def inputs_digest(
    cluster: Cluster, values_digest: str, policy_digest: str, outputs: str = ""
) -> str:
    """The digest of every input of ``cluster``'s render and gate verdict; ``outputs``
    names publish options that add files per cluster (``--flux-kustomizations``)."""
    pack = cluster.pack.resolve()
    parts = [
        tree_digest(pack / "base"),
        tree_digest(pack / "overlays"),
        values_digest,
        policy_digest,
        code_digest(),
        outputs,
    ]
    overlay = cluster.overlay.resolve()
    # which overlay, and the cloud the gate judges by: moving a cluster to another
    # cloud changes neither the trees nor the values
    parts += [cluster.cloud, os.path.relpath(overlay, pack)]  # relative: the pack may move
    if pack / "overlays" not in overlay.parents:
        parts.append(tree_digest(overlay))
    return "sha256:" + hashlib.sha256("\0".join(parts).encode()).hexdigest()
