"""The pipeline's steps, in order, in one place.

For one cluster:

1. ``load``: the cluster's overlay (base resources plus the overlay's RFC 6902
   patches) and the datastore component its values pick, built like kustomize;
2. ``set_values``: the pack values, as more RFC 6902 patches;
3. ``check_policies``: the Rego gate (``pipeline.gate.check``) over the result;
4. ``render``: kustomize-identical YAML (``pipeline.kustomize.output``), written only when
   every cluster passed the gate (the CLI does that part).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline.gate.check import Gate, context, findings
from pipeline.kustomize.load import Kustomization, build_kustomization
from pipeline.kustomize.patch import Patch
from pipeline.memo import Memo
from pipeline.model.cluster import Cluster
from pipeline.model.resource import Bundle, Resource
from pipeline.model.results import CheckResult
from pipeline.values.patches import set_values


@dataclass(frozen=True)
class Rendered:
    """A cluster's resources after every step, the value patches applied, the gate's results."""

    cluster: Cluster
    bundle: Bundle
    value_patches: tuple[Patch, ...]
    results: tuple[CheckResult, ...] = ()

    @property
    def failed(self) -> bool:
        return any(f.severity == "error" for f in self.bundle.findings)


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
    in ``memo`` for the steps after it.  A build that fails is not kept: each
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


def render_cluster(cluster: Cluster, gate: Gate | None, builds: Builds | None = None) -> Rendered:
    """Run every step for one cluster; ``gate=None`` only where no verdict is wanted
    (``netpack ops`` and the oracle tests, which print or compare, never write).
    ``builds`` shares overlay builds across the clusters of one run."""
    kust = cluster_kustomization(cluster)
    resources = builds.build(kust) if builds else build_kustomization(kust)  # 1. load
    resources, patches = set_values(resources, cluster)  # 2. set_values
    ctx = context(cluster.context(), resources)
    bundle = Bundle(resources=resources, context=ctx)
    if gate is None:
        return Rendered(cluster=cluster, bundle=bundle, value_patches=tuple(patches))
    memo = builds.memo if builds else None
    results = gate.check(cluster.name, resources, ctx, memo=memo)  # 3. check_policies
    bundle.findings.extend(findings(results, resources, cluster.name))
    return Rendered(cluster, bundle, tuple(patches), tuple(results))


def render_fleet(clusters: Sequence[Cluster], gate: Gate) -> list[Rendered]:
    """Every cluster through every step, in the order given."""
    builds = Builds()
    return [render_cluster(cluster, gate, builds) for cluster in clusters]


def as_kustomization(rendered: Rendered, directory: Path) -> dict[str, object]:
    """A kustomization.yaml, placed in ``directory``, that ``kustomize build`` turns
    into exactly this cluster's render: the effective operations for reviewers,
    and the oracle tests' input."""
    kust = cluster_kustomization(rendered.cluster)

    def rel(path: Path) -> str:
        return os.path.relpath(path.resolve(), directory.resolve())

    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [rel(path) for _, path in kust.resources],
        "components": [rel(path) for _, path in kust.components],
        "patches": [
            {
                "target": patch.target.as_selector(),
                "patch": yaml.safe_dump(list(patch.ops), sort_keys=False),
            }
            for patch in rendered.value_patches
        ],
    }
