"""Every problem of the cluster files in one run, and a "did you mean" for a misspelt key."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.errors import Problems, ValuesError
from pipeline.flow import read
from pipeline.values.cluster import read_cluster
from tests.conftest import ROOT

GOOD_K8S = (
    "kubernetes: {version: '1.32', podCIDR: 10.1.0.0/16, serviceClusterIpRange: 10.96.0.0/12}\n"
)
KNOWN = (
    "(known: blockSize, calicoNetworkCIDR, datastore, encapsulationMode, encapsulationType, env,"
    " etcdEndpoints, images, ipAutodetectionMethod, mtu)"
)
MANY = """\
name: Bad_Name
cloud: aws
kubernets: {}
kubernetes: {version: '1.32', podCIDR: 10.1.0.1/16, serviceClusterIpRange: 10.96.0.0/12}
values:
  calico: {MTU: 1450, encapsulationMode: sometimes, blockSize: 40, images: {tga: v1}}
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_every_problem_of_a_file_is_raised_at_once(tmp_path: Path) -> None:
    with pytest.raises(Problems) as err:
        read_cluster(_write(tmp_path, "c.yaml", MANY), ROOT, "c.yaml")
    assert err.value.lines() == [
        "c.yaml kubernets: unknown key; did you mean 'kubernetes'? (known: cloud, doctor, kubernetes, name, overlay, values)",
        "c.yaml name: 'Bad_Name' is not a DNS label (lower-case letters, digits, '-')",
        "c.yaml kubernetes.podCIDR: 10.1.0.1/16 is not in canonical form; write 10.1.0.0/16",
        f"c.yaml values.calico.MTU: unknown key; did you mean 'mtu'? {KNOWN}",
        "c.yaml values.calico.images.tga: unknown key; did you mean 'tag'? (known: registry, tag)",
        "c.yaml values.calico.encapsulationMode: 'sometimes' is not one of Always, CrossSubnet, Never",
        "c.yaml values.calico.blockSize: 40 is outside 20-32",
    ]
    assert err.value.exit_code == 3
    again = pickle.loads(pickle.dumps(err.value))  # across worker processes
    assert isinstance(again, Problems) and again.lines() == err.value.lines()


def test_one_problem_is_raised_as_it_is(tmp_path: Path) -> None:
    text = "name: c\ncloud: aws\n" + GOOD_K8S + "values: {calico: {colour: blue}}\n"
    with pytest.raises(ValuesError) as err:
        read_cluster(_write(tmp_path, "c.yaml", text), ROOT, "c.yaml")
    assert str(err.value) == f"c.yaml values.calico.colour: unknown key {KNOWN}"  # nothing close


def test_the_consistency_checks_wait_for_whole_values(tmp_path: Path) -> None:
    """etcdEndpoints without datastore: etcd is a problem only when datastore itself is fine."""
    text = "name: c\ncloud: aws\n" + GOOD_K8S
    bad_store = (
        text + "values: {calico: {datastore: etc, etcdEndpoints: 'https://10.0.0.5:2379'}}\n"
    )
    with pytest.raises(ValuesError) as err:
        read_cluster(_write(tmp_path, "c.yaml", bad_store), ROOT, "c.yaml")
    assert str(err.value) == "c.yaml values.calico.datastore: 'etc' is not one of kubernetes, etcd"


def test_the_problems_of_every_file_come_together(tmp_path: Path) -> None:
    one = _write(tmp_path, "one.yaml", "name: one\ncloud: moon\n" + GOOD_K8S)
    two = _write(tmp_path, "two.yaml", "name: two\ncloud: aws\n" + GOOD_K8S + "overlya: x\n")
    good = ROOT / "clusters" / "aws-prod-1.yaml"
    with pytest.raises(Problems) as err:
        read([good, one, tmp_path / "missing.yaml", two], ROOT)
    lines = err.value.lines()
    assert [line.split(" ", 2)[:2] for line in lines] == [
        [str(one), "cloud:"],
        [str(tmp_path / "missing.yaml"), "read:"],
        [str(two), "overlya:"],
    ]
    assert "did you mean 'overlay'?" in lines[2]


def test_the_cli_prints_one_line_per_problem_and_writes_nothing(tmp_path: Path) -> None:
    bad = _write(tmp_path, "c.yaml", MANY)
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "render",
            str(ROOT / "clusters" / "aws-prod-1.yaml"),
            str(bad),
            "--pack",
            str(ROOT),
            "-o",
            str(out),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (proc.returncode, proc.stdout) == (3, "")
    lines = proc.stderr.splitlines()
    assert len(lines) == 7 and all(line.startswith("netpack: error: c.yaml ") for line in lines)
    assert not out.exists()


def test_every_problem_of_palette_values_too(tmp_path: Path) -> None:
    text = (
        "name: c\ncloud: aws\n" + GOOD_K8S + "values:\n  manifests:\n    calico:\n"
        "      ipamType: host-local\n      microk8s: 'true'\n"
        "      calicoNetworkCIDR: 10.1.0.0/16\n"
        "      env: {calicoNode: {CALICO_IPV4POOL_CIDR: 10.2.0.0/16}}\n"
        "      encapsulationMode: Sometimes\n      imgaes: {}\n"
    )
    with pytest.raises(Problems) as err:
        read_cluster(_write(tmp_path, "c.yaml", text), ROOT, "c.yaml")
    key = "c.yaml values.manifests.calico"
    assert err.value.lines() == [
        f"{key}.imgaes: unknown key; did you mean 'images'? (known: calicoNetworkCIDR, calico_ipam, encapsulationMode, encapsulationType, env, images, ipamType, microk8s)",
        f"{key}.ipamType: only calico-ipam is supported by this pack",
        f"{key}.microk8s: microk8s is not supported by this pack",
        f"{key}.env.calicoNode.CALICO_IPV4POOL_CIDR: 10.2.0.0/16 contradicts calicoNetworkCIDR 10.1.0.0/16",
        f"{key}.encapsulationMode: 'Sometimes' is not one of Always, CrossSubnet, Never",
    ]


def test_a_reader_that_does_not_collect_still_raises_at_once() -> None:
    """Fail closed: without collect=True nothing is only recorded."""
    from pipeline.values.fields import FieldReader
    from pipeline.values.pack import read_values

    reader = FieldReader("f.yaml")
    with pytest.raises(ValuesError, match="ipamType: only calico-ipam"):
        read_values(reader, {"manifests": {"calico": {"ipamType": "x", "microk8s": True}}})
    with pytest.raises(ValuesError, match=r"values\.calico\.MTU: unknown key"):
        read_values(reader, {"calico": {"MTU": 1, "mtuu": 2}})
    assert reader.errors == []
