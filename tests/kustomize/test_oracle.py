"""Oracle: netpack's output is byte-identical to the real ``kubectl kustomize``.

For every shipped overlay, and for every example cluster (whose value operations
``netpack ops`` writes into a kustomization that kubectl builds).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from pipeline.flow import as_kustomization, render_cluster
from pipeline.kustomize.load import build
from pipeline.kustomize.output import render_stream
from pipeline.values.cluster import find_pack, read_cluster
from tests.conftest import ROOT, kustomize

OVERLAYS = sorted(
    p.name for p in (ROOT / "overlays").iterdir() if (p / "kustomization.yaml").exists()
)
CLUSTERS = sorted(p.name for p in (ROOT / "clusters").glob("*.yaml"))


def test_fleet_is_not_empty() -> None:
    assert {"aws", "azure", "vmware", "gcp", "openstack", "baremetal"} <= set(OVERLAYS)
    assert len(CLUSTERS) >= 6


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_matches_kubectl_kustomize(kubectl: str, overlay: str) -> None:
    directory = ROOT / "overlays" / overlay
    assert render_stream(build(directory)) == kustomize(kubectl, directory)


@pytest.mark.parametrize("name", CLUSTERS)
def test_cluster_matches_kubectl_kustomize(kubectl: str, tmp_path: Path, name: str) -> None:
    path = ROOT / "clusters" / name
    rendered = render_cluster(read_cluster(path, find_pack(path, None), f"clusters/{name}"), None)
    directory = tmp_path / "cluster"
    directory.mkdir()
    kust = as_kustomization(rendered.cluster, directory)
    (directory / "kustomization.yaml").write_text(yaml.safe_dump(kust, sort_keys=False))
    assert render_stream(rendered.resources) == kustomize(kubectl, directory)


@pytest.mark.parametrize("datastore", ["kubernetes", "etcd"])
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_cloud_and_datastore_matches(
    kubectl: str, tmp_path: Path, overlay: str, datastore: str
) -> None:
    cluster = tmp_path / "c.yaml"
    etcd = "\n    etcdEndpoints: https://10.0.0.1:2379" if datastore == "etcd" else ""
    cluster.write_text(
        f"name: c\ncloud: {overlay}\nkubernetes: {{version: '1.32', podCIDR: 10.1.0.0/16, "
        f"serviceClusterIpRange: 10.96.0.0/12}}\nvalues:\n  calico:\n    datastore: {datastore}{etcd}\n"
        "    calicoNetworkCIDR: 10.1.0.0/16\n    blockSize: 24\n    mtu: 1400\n"
        "    images: {registry: my.registry:5000/mirror, tag: v3.30.6}\n"
        "    env: {calicoNode: {FELIX_LOGSEVERITYSCREEN: debug}, calicoKubeControllers: {LOG_LEVEL: debug}}\n"
    )
    rendered = render_cluster(read_cluster(cluster, ROOT, "c.yaml"), None)
    kust = as_kustomization(rendered.cluster, tmp_path)
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(kust, sort_keys=False))
    assert os.path.exists(tmp_path / "kustomization.yaml")
    assert render_stream(rendered.resources) == kustomize(kubectl, tmp_path)
