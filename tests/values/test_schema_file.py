"""schemas/cluster.schema.json: what netpack accepts of a cluster file, for editors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from pipeline.errors import NetpackError
from pipeline.values.cluster import read_cluster
from pipeline.values.schema import schema_text
from tests.conftest import ROOT

SCHEMA_FILE = ROOT / "schemas" / "cluster.schema.json"
GOOD = """\
name: c
cloud: aws
kubernetes: {version: "1.32", podCIDR: 10.1.0.0/16, serviceClusterIpRange: 10.96.0.0/12}
"""


def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_file_is_what_netpack_generates() -> None:
    """python -m pipeline.values.schema > schemas/cluster.schema.json keeps it current."""
    assert SCHEMA_FILE.read_text() == schema_text()


@pytest.mark.parametrize("path", sorted((ROOT / "clusters").glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_cluster_file_is_valid(path: Path) -> None:
    errors = list(_validator().iter_errors(yaml.safe_load(path.read_text())))
    assert errors == [], [e.message for e in errors]


VALID = [
    GOOD,
    GOOD
    + "values: {calico: {mtu: 0, blockSize: 24, datastore: etcd, etcdEndpoints: 'https://10.0.0.5:2379,http://e2:2379'}}\n",
    GOOD
    + "values: {calico: {ipAutodetectionMethod: 'cidr=10.0.0.0/8', images: {registry: 'my.registry:5000/mirror', tag: v3.30.7}}}\n",
    GOOD
    + "values: {calico: {env: {calicoNode: {FELIX_LOGSEVERITYSCREEN: info, FELIX_X: 1, FELIX_Y: true}}}}\n",
    GOOD
    + "values: {manifests: {calico: {ipamType: calico-ipam, microk8s: 'false', env: {calicoNode: {CALICO_IPV4POOL_CIDR: 10.1.0.0/16}}}}}\n",
]
INVALID = [
    GOOD.replace("name: c", "name: Bad_Name"),
    GOOD.replace("cloud: aws\n", ""),
    GOOD.replace('"1.32"', "1.32"),  # a number, not the minor as text
    GOOD.replace("10.1.0.0/16", "fd00::/64"),
    GOOD + "kubernets: {}\n",
    GOOD + "values: {calico: {MTU: 1450}}\n",
    GOOD + "values: {calico: {encapsulationMode: sometimes}}\n",
    GOOD + "values: {calico: {mtu: 100}}\n",
    GOOD + "values: {calico: {blockSize: 40}}\n",
    GOOD + "values: {calico: {ipAutodetectionMethod: somewhere}}\n",
    GOOD + "values: {calico: {images: {tga: v1}}}\n",
    GOOD + "values: {calico: {env: {calicoNode: {CALICO_IPV4POOL_IPIP: Always}}}}\n",
    GOOD + "values: {calico: {env: {calicoNode: {'BAD-NAME': x}}}}\n",
    GOOD + "values: {calico: {}, manifests: {calico: {}}}\n",
    GOOD + "values: {manifests: {calico: {ipamType: host-local}}}\n",
    GOOD + "values: {manifests: {calico: {calico_ipam: {assign_ipv6: true}}}}\n",
]


def _netpack_accepts(tmp_path: Path, text: str) -> bool:
    (tmp_path / "c.yaml").write_text(text)
    try:
        read_cluster(tmp_path / "c.yaml", ROOT, "c.yaml")
    except NetpackError:
        return False
    return True


@pytest.mark.parametrize("text", VALID)
def test_files_netpack_accepts_are_valid(tmp_path: Path, text: str) -> None:
    doc: Any = yaml.safe_load(text)
    assert _netpack_accepts(tmp_path, text)
    assert list(_validator().iter_errors(doc)) == []


@pytest.mark.parametrize("text", INVALID)
def test_files_netpack_refuses_are_invalid(tmp_path: Path, text: str) -> None:
    doc: Any = yaml.safe_load(text)
    assert not _netpack_accepts(tmp_path, text)
    assert list(_validator().iter_errors(doc)) != []
