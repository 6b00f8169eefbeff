"""The gate's fix hints in a cluster render name the cluster-file keys a user edits."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.cli.main import main
from pipeline.values.hints import cluster_file_hint
from pipeline.values.patches import RENDERED
from tests.conftest import ROOT

NODE = "DaemonSet/calico-node: "


@pytest.mark.parametrize(
    ("rendered", "cluster_file"),
    [
        (
            'calico-config veth_mtu 9001 is above 8981 (cloud aws); set veth_mtu to 8981, or to "0" to auto-detect',
            'calico-config veth_mtu 9001 is above 8981 (cloud aws); set calico.mtu to 8981, or to "0" to auto-detect',
        ),
        (
            "CALICO_IPV4POOL_BLOCK_SIZE 40 is outside 20..32; set it to a value from 20 to 32 (default 26)",
            "CALICO_IPV4POOL_BLOCK_SIZE 40 is outside 20..32; set calico.blockSize to a value from 20 to 32 (default 26)",
        ),
        (
            "pool 10.0.0.0/27 (/27) is smaller than one /26 block; set CALICO_IPV4POOL_BLOCK_SIZE to at least 27 or widen the pool",
            "pool 10.0.0.0/27 (/27) is smaller than one /26 block; set calico.blockSize to at least 27 or widen the pool",
        ),
        (
            "etcd_endpoints is empty or missing; set it to the etcd client URLs (https://host:2379,...)",
            "etcd_endpoints is empty or missing; set calico.etcdEndpoints to the etcd client URLs (https://host:2379,...)",
        ),
        (
            "CALICO_IPV4POOL_IPIP Always needs BGP but calico_backend is vxlan; set calico_backend to bird, or switch to VXLAN",
            "CALICO_IPV4POOL_IPIP Always needs BGP but calico_backend is vxlan; set calico_backend to bird in the overlay's calico-config, or switch to VXLAN",
        ),
        (
            "IPIP CrossSubnet on cloud aws: dropped; disable it (env FELIX_AWSSRCDSTCHECK=Disable) or set FELIX_X to 1",
            "IPIP CrossSubnet on cloud aws: dropped; disable it (calico.env.calicoNode.FELIX_AWSSRCDSTCHECK: Disable) or set calico.env.calicoNode.FELIX_X to 1",
        ),
        (  # already in cluster-file keys, or nothing a cluster file sets: unchanged
            "CALICO_IPV4POOL_CIDR 192.168.0.0/16 does not match podCIDR 10.0.0.0/16; set calico.calicoNetworkCIDR to 10.0.0.0/16",
            "CALICO_IPV4POOL_CIDR 192.168.0.0/16 does not match podCIDR 10.0.0.0/16; set calico.calicoNetworkCIDR to 10.0.0.0/16",
        ),
        ("replicas is 2; set spec.replicas to 1", "replicas is 2; set spec.replicas to 1"),
        ("veth_mtu 9001 is too big", "veth_mtu 9001 is too big"),  # no fix part
    ],
)
def test_fix_parts_name_cluster_file_keys(rendered: str, cluster_file: str) -> None:
    assert cluster_file_hint(NODE + rendered) == NODE + cluster_file


def test_every_rendered_name_has_one_key() -> None:
    assert len(set(RENDERED.values())) == len(RENDERED)
    assert all(key.startswith("calico.") for key in RENDERED)


CLUSTER = """\
name: big-mtu
cloud: aws
kubernetes: {version: "1.32", podCIDR: 10.244.0.0/16, serviceClusterIpRange: 10.96.0.0/12}
values:
  calico: {calicoNetworkCIDR: 10.244.0.0/16, mtu: 9001}
"""


def test_render_says_which_cluster_file_key_to_set_and_test_keeps_conftests_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "c.yaml").write_text(CLUSTER)
    out = tmp_path / "out"
    args = ["render", str(tmp_path / "c.yaml"), "--pack", str(ROOT), "--no-color"]
    assert main([*args, "-o", str(out)]) == 1
    report = capsys.readouterr().out
    assert "veth_mtu 9001 is above 8981" in report and "; set calico.mtu to 8981, or to" in report
    assert "set veth_mtu" not in report and not out.exists()
    # an aws render with that cluster's context (its veth_mtu), as conftest checks it:
    # the policy's own words
    assert main(["render", str(ROOT / "clusters" / "aws-prod-1.yaml"), "-o", str(out)]) == 0
    capsys.readouterr()
    assert main(["context", str(tmp_path / "c.yaml"), "--pack", str(ROOT)]) == 0
    (tmp_path / "ctx.yaml").write_text(capsys.readouterr().out)
    policies = ROOT / "policies"
    data = ["-d", str(policies / "data"), "-d", str(tmp_path / "ctx.yaml")]
    code = main(["test", str(out / "aws-prod-1"), "-p", str(policies), *data, "--no-color"])
    assert code == 1 and "; set veth_mtu to 8981, or to" in capsys.readouterr().out


def test_a_structured_findings_fix_names_the_cluster_file_key_too() -> None:
    from pipeline.model.results import CheckResult, Result
    from pipeline.values.hints import for_cluster_file

    msg = "calico-config veth_mtu 9001 is above 8981 (cloud aws); set veth_mtu to 8981"
    found = Result(msg, {"rule": "deny_mtu", "fix": "set veth_mtu to 8981"})
    (result,) = for_cluster_file([CheckResult("c/x.yaml", "main", failures=[found])])
    assert result.failures[0].msg.endswith("; set calico.mtu to 8981")
    assert result.failures[0].fix == "set calico.mtu to 8981"
    assert result.failures[0].metadata["rule"] == "deny_mtu"
