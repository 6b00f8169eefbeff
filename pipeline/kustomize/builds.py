"""A cluster's kustomization, and one run's builds of it shared across the fleet."""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.kustomize.load import Kustomization, build_kustomization
from pipeline.memo import Memo
from pipeline.model.cluster import Cluster
from pipeline.model.resource import Resource


def cluster_kustomization(cluster: Cluster) -> Kustomization:
    """The kustomization a cluster stands for: its overlay plus its datastore component."""
    component = cluster.pack / "base" / "components" / cluster.values.datastore
    return Kustomization(
        root=Path(cluster.file).parent,
        file=cluster.file,
        kind="Kustomization",
        resources=(("overlay", cluster.overlay),),
        components=((f"datastore {cluster.values.datastore}", component),),
    )


class Builds:
    """One run's overlay builds, shared by the clusters on the same overlay and datastore.

    For one command over a fleet, whose files do not change while it runs (as
    ``kustomize build`` reads each file once): a cluster's render is its
    overlay's build plus its value patches, so the build is done once per
    (cluster directory, overlay, datastore component) and its bodies are frozen
    in ``memo`` for the stages after it.  A build that fails is not kept: each
    cluster gets its own error.
    """

    def __init__(self) -> None:
        self.memo = Memo()
        self._done: dict[tuple[object, ...], tuple[Resource, ...]] = {}

    def build(self, kust: Kustomization) -> list[Resource]:
        key = (os.path.realpath(kust.root), kust.resources, kust.components)
        found = self._done.get(key)
        if found is None:
            found = self._done[key] = tuple(build_kustomization(kust))
            self.memo.freeze(r.body for r in found)
        return list(found)


def build_cluster(cluster: Cluster, builds: Builds | None = None) -> list[Resource]:
    """The cluster's overlay and datastore component, built as kustomize builds them."""
    kust = cluster_kustomization(cluster)
    return builds.build(kust) if builds else build_kustomization(kust)
