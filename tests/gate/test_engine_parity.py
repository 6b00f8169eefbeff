"""netpack's own policies give identical verdicts and messages on real OPA and on regopy.

regopy lacks net.* and formats some values differently (CONFTEST.md section 3);
the policies avoid all of that, and this test proves it on real renders.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.flow import render_cluster
from pipeline.gate.check import Gate
from pipeline.model.results import CheckResult
from pipeline.values.cluster import read_cluster
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("regopy") is None, reason="regopy is not installed (test extra)"
)

CASES = [
    ("aws", "encapsulationMode: CrossSubnet", "10.1.0.0/16", "10.1.0.0/16"),
    ("aws", "encapsulationType: CALICO_IPV4POOL_VXLAN", "10.1.0.0/16", "10.2.0.0/16"),
    ("azure", "encapsulationType: CALICO_IPV4POOL_IPIP", "10.96.0.0/16", "10.96.0.0/16"),
    ("gcp", "encapsulationMode: CrossSubnet", "10.1.0.0/16", "10.1.0.0/16"),
    ("baremetal", "encapsulationMode: Never", "10.1.0.0/16", "10.1.128.0/17"),
    ("openstack", "blockSize: 20", "10.1.0.0/22", "10.1.0.0/22"),
    ("vmware", "mtu: 1490", "10.1.0.0/16", "10.1.0.0/16"),
    ("vmware", "datastore: etcd", "10.1.0.0/16", "10.1.0.0/16"),
    ("aws", "env: {calicoNode: {NO_DEFAULT_POOLS: 'true'}}", "10.1.0.0/16", "10.1.0.0/16"),
    ("azure", "images: {tag: latest}", "10.1.0.0/16", "10.1.0.0/16"),
]


@pytest.fixture(scope="module")
def gates() -> Iterator[tuple[Gate, Gate]]:
    policies, data = [ROOT / "policies"], [ROOT / "policies" / "data"]
    opa = Gate.open(policies, data, engine="opa")
    regopy = Gate.open(policies, data, engine="regopy")
    yield opa, regopy
    opa.close()
    regopy.close()


def results(gate: Gate, path: Path) -> list[CheckResult]:
    return list(render_cluster(read_cluster(path, ROOT, path.name), gate).results)


@pytest.mark.parametrize(("cloud", "values", "pod", "pool"), CASES)
def test_same_verdicts_and_messages(
    gates: tuple[Gate, Gate], tmp_path: Path, cloud: str, values: str, pod: str, pool: str
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        f"name: c\ncloud: {cloud}\nkubernetes: {{version: '1.32', podCIDR: {pod}, "
        f"serviceClusterIpRange: 10.96.0.0/12}}\nvalues:\n  calico:\n    calicoNetworkCIDR: {pool}\n    {values}\n"
    )
    on_opa, on_regopy = (results(gate, path) for gate in gates)
    assert on_opa == on_regopy
    assert any(r.failures or r.warnings for r in on_opa), "each case should trip at least one rule"


def test_example_fleet_is_clean_on_both(gates: tuple[Gate, Gate]) -> None:
    for path in sorted((ROOT / "clusters").glob("*.yaml")):
        on_opa, on_regopy = (results(gate, path) for gate in gates)
        assert on_opa == on_regopy
        assert not any(r.failures for r in on_opa)
