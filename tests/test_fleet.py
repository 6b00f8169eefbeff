"""The generated fleet: reproducible, distinct ranges, and every cluster passes the gate."""

from __future__ import annotations

import ipaddress
import itertools
from pathlib import Path

import pytest

from bench.fleet import generate, write_fleet
from pipeline.flow import render_fleet
from pipeline.options import GateSettings
from pipeline.values.cluster import read_cluster
from tests.conftest import ROOT


def test_same_seed_same_files_other_seed_other_values() -> None:
    assert generate(50, seed=7) == generate(50, seed=7)
    assert generate(50, seed=7) != generate(50, seed=8)
    assert [name for name, _ in generate(3)] == [
        "aws-00000.yaml",
        "vmware-00001.yaml",
        "azure-00002.yaml",
    ]


def test_ranges_are_distinct_and_disjoint(tmp_path: Path) -> None:
    clusters = [read_cluster(p, ROOT, p.name) for p in write_fleet(tmp_path, 600)]
    nets = [ipaddress.ip_network(c.pod_cidr) for c in clusters]
    nets += [ipaddress.ip_network(c.service_cidr) for c in clusters]
    ordered = sorted(nets)
    assert all(not a.overlaps(b) for a, b in itertools.pairwise(ordered))
    assert {c.cloud for c in clusters} == {
        "aws",
        "vmware",
        "azure",
        "gcp",
        "openstack",
        "baremetal",
    }
    assert {c.values.datastore for c in clusters} == {"kubernetes", "etcd"}


def test_every_generated_cluster_passes_the_gate(tmp_path: Path) -> None:
    clusters = [read_cluster(p, ROOT, p.name) for p in write_fleet(tmp_path, 24, seed=3)]
    settings = GateSettings((ROOT / "policies",), (ROOT / "policies" / "data",), "opa")
    rendered = list(render_fleet(clusters, settings, 1))
    assert [f.msg for r in rendered for f in r.failures + r.warnings] == []


def test_size_is_bounded() -> None:
    with pytest.raises(ValueError, match="1 to 16384"):
        generate(0)
