"""The policy gate over real renders: the cloud x encapsulation x mode x CIDR matrix.

Expected verdicts come from the product rules (CALICO.md sections 4 and 5, the
Palette pack doc), written here independently of the Rego that implements them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.cli.main import main
from pipeline.flow import render_cluster
from pipeline.gate.check import Gate
from pipeline.values.cluster import read_cluster
from tests.conftest import ROOT

CLOUDS = ("aws", "vmware", "azure", "gcp", "openstack", "baremetal")
TYPES = ("CALICO_IPV4POOL_IPIP", "CALICO_IPV4POOL_VXLAN")
MODES = ("Always", "CrossSubnet", "Never")
CIDRS = ("equal", "different", "service-overlap")

# cloud -> (allowed encapsulations, allowed modes); "None" is no encapsulation at all.
ALLOWED = {
    "aws": ({"IPIP"}, {"Always", "CrossSubnet"}),
    "vmware": ({"IPIP"}, {"Always", "CrossSubnet"}),
    "azure": ({"VXLAN"}, {"Always", "CrossSubnet"}),
    "gcp": ({"IPIP", "VXLAN"}, {"Always"}),
    "openstack": ({"IPIP", "VXLAN"}, {"Always", "CrossSubnet"}),
    "baremetal": ({"IPIP", "VXLAN", "None"}, {"Always", "CrossSubnet", "Never"}),
}
BIRD = {"aws", "vmware", "baremetal"}  # overlays whose backend runs BGP (BIRD)


def expected(cloud: str, kind: str, mode: str, cidr: str) -> tuple[set[str], set[str]]:
    """(failing rules, warning rules) for one cell of the matrix."""
    encapsulation = "None" if mode == "Never" else kind.removeprefix("CALICO_IPV4POOL_")
    encapsulations, modes = ALLOWED[cloud]
    fails = set()
    if cidr == "different":
        fails.add("deny_cidr")
    if cidr == "service-overlap":
        fails.add("deny_cidr_service_overlap")
    if encapsulation not in encapsulations:
        fails.add("deny_cloud_encapsulation")
    elif encapsulation != "None" and mode not in modes:
        fails.add("deny_cloud_mode")
    if encapsulation in ("IPIP", "None") and cloud not in BIRD:
        fails.add("deny_backend_bgp")  # IP-in-IP and unencapsulated pools need BGP (R7)
    warns = {"warn_cloud_caveat"} if cloud == "aws" and mode == "CrossSubnet" else set()
    return fails, warns


@pytest.fixture(scope="module")
def gate() -> Iterator[Gate]:
    opened = Gate.open([ROOT / "policies"], [ROOT / "policies" / "data"], engine="opa")
    yield opened
    opened.close()


def verdict(
    gate: Gate, tmp_path: Path, cloud: str, values: str, pod: str = "10.1.0.0/16"
) -> tuple[set[str], set[str]]:
    path = tmp_path / "c.yaml"
    path.write_text(
        f"name: c\ncloud: {cloud}\nkubernetes: {{version: '1.32', podCIDR: {pod}, "
        f"serviceClusterIpRange: 10.96.0.0/12}}\nvalues:\n  calico:\n{values}"
    )
    rendered = render_cluster(read_cluster(path, ROOT, "c.yaml"), gate)
    fails = {f.rule.rsplit(".", 1)[-1] for f in rendered.failures}
    warns = {f.rule.rsplit(".", 1)[-1] for f in rendered.warnings}
    return fails, warns


@pytest.mark.parametrize("cidr", CIDRS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", TYPES)
@pytest.mark.parametrize("cloud", CLOUDS)
def test_matrix(gate: Gate, tmp_path: Path, cloud: str, kind: str, mode: str, cidr: str) -> None:
    pod = "10.96.0.0/16" if cidr == "service-overlap" else "10.1.0.0/16"
    pool = "10.2.0.0/16" if cidr == "different" else pod
    values = f"    encapsulationType: {kind}\n    encapsulationMode: {mode}\n    calicoNetworkCIDR: {pool}\n"
    assert verdict(gate, tmp_path, cloud, values, pod) == expected(cloud, kind, mode, cidr)


def test_every_example_cluster_passes_the_gate(gate: Gate) -> None:
    for path in sorted((ROOT / "clusters").glob("*.yaml")):
        rendered = render_cluster(read_cluster(path, ROOT, path.name), gate)
        assert [f.msg for f in rendered.failures] == [], path.name
        assert rendered.results, path.name


def test_cidr_message_says_what_to_change(gate: Gate, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "name: c\ncloud: aws\nkubernetes: {version: '1.32', podCIDR: 10.244.0.0/16, serviceClusterIpRange: 10.96.0.0/12}\n"
    )
    rendered = render_cluster(read_cluster(path, ROOT, "c.yaml"), gate)
    assert [f.msg for f in rendered.failures + rendered.warnings] == [
        "DaemonSet/calico-node: CALICO_IPV4POOL_CIDR 192.168.0.0/16 does not match podCIDR "
        "10.244.0.0/16; set calico.calicoNetworkCIDR to 10.244.0.0/16"
    ]
    finding = rendered.failures[0]
    assert str(finding.resource) == "apps/v1/DaemonSet/kube-system/calico-node"
    assert finding.origin is not None and finding.origin.path.endswith("base/calico-node.yaml")


def test_a_red_gate_writes_nothing_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\ncloud: azure\nkubernetes: {version: '1.32', podCIDR: 10.20.0.0/16, serviceClusterIpRange: 10.96.0.0/12}\n"
        "values: {calico: {calicoNetworkCIDR: 10.20.0.0/16, encapsulationType: CALICO_IPV4POOL_IPIP}}\n"
    )
    good = ROOT / "clusters" / "aws-prod-1.yaml"
    out = tmp_path / "out"
    code = main(["render", str(good), str(bad), "--pack", str(ROOT), "-o", str(out), "--no-color"])
    assert code == 1
    assert not out.exists()
    report = capsys.readouterr().out
    assert (
        "FAIL - bad/apps_v1_daemonset_calico-node.yaml - main - DaemonSet/calico-node: IP-in-IP"
        in report
    )
    assert report.rstrip().endswith("2 failures, 0 exceptions")


def test_warnings_pass_unless_fail_on_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "name: c\ncloud: aws\nkubernetes: {version: '1.32', podCIDR: 10.1.0.0/16, serviceClusterIpRange: 10.96.0.0/12}\n"
        "values: {calico: {calicoNetworkCIDR: 10.1.0.0/16, encapsulationMode: CrossSubnet}}\n"
    )
    args = ["render", str(path), "--pack", str(ROOT), "-o", str(tmp_path / "out"), "--no-color"]
    assert main(args) == 0
    assert (
        "WARN - c/apps_v1_daemonset_calico-node.yaml - main - DaemonSet/calico-node: IPIP CrossSubnet on cloud aws"
        in capsys.readouterr().out
    )
    assert main([*args, "--fail-on-warn"]) == 1


def test_plain_conftest_over_the_rendered_files_gives_the_same_verdicts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "name: c\ncloud: gcp\nkubernetes: {version: '1.32', podCIDR: 10.1.0.0/16, serviceClusterIpRange: 10.96.0.0/12}\n"
        "values: {calico: {calicoNetworkCIDR: 10.1.0.0/16, encapsulationMode: CrossSubnet}}\n"
    )
    assert main(["render", str(path), "--pack", str(ROOT), "--no-color", "--format", "json"]) == 1
    gate_report = capsys.readouterr().err
    # Render without the gate's verdict getting in the way: same tree, written by build.
    assert main(["context", str(path), "--pack", str(ROOT)]) == 0
    (tmp_path / "ctx.yaml").write_text(capsys.readouterr().out)
    rendered = render_cluster(read_cluster(path, ROOT, "c.yaml"), None)
    from pipeline.kustomize.output import write_directory

    write_directory(rendered.resources, tmp_path / "c")
    import os

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        code = main(
            [
                "test",
                "c",
                "-p",
                str(ROOT / "policies"),
                "-d",
                str(ROOT / "policies" / "data"),
                "-d",
                "ctx.yaml",
                "--no-color",
                "-o",
                "json",
            ]
        )
    finally:
        os.chdir(cwd)
    assert code == 1
    # The gate also reports schema results (namespace "schema"); the policy part is conftest's.
    policy_part = [r for r in json.loads(gate_report) if r["namespace"] == "main"]
    assert json.loads(capsys.readouterr().out) == policy_part
    assert {r["namespace"] for r in json.loads(gate_report)} == {"main", "schema"}


def test_a_schema_error_stops_the_render_like_a_policy_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    overlay = tmp_path / "typo"
    overlay.mkdir()
    base = os.path.relpath(ROOT / "overlays" / "aws", overlay)
    (overlay / "kustomization.yaml").write_text(
        f"resources: [{base}]\npatches:\n- target: {{kind: DaemonSet, name: calico-node}}\n"
        "  patch: '[{op: replace, path: /spec/template/spec/hostNetwork, value: \"true\"}]'\n"
    )
    path = tmp_path / "c.yaml"
    path.write_text(
        "name: c\ncloud: aws\noverlay: typo\nkubernetes: {version: '1.32', podCIDR: 10.1.0.0/16, serviceClusterIpRange: 10.96.0.0/12}\n"
        "values: {calico: {calicoNetworkCIDR: 10.1.0.0/16}}\n"
    )
    out = tmp_path / "out"
    assert main(["render", str(path), "--pack", str(ROOT), "-o", str(out), "--no-color"]) == 1
    assert not out.exists()
    report = capsys.readouterr().out
    assert (
        "FAIL - c/apps_v1_daemonset_calico-node.yaml - schema - DaemonSet/calico-node: "
        'spec.template.spec.hostNetwork: expected boolean, got string "true"'
    ) in report
