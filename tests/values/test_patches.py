"""Values become guarded RFC 6902 operations: table tests, YAML in and ops out."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.errors import ValuesError
from pipeline.flow import render_cluster, value_patches
from pipeline.kustomize.patch import describe_op
from pipeline.values.cluster import read_cluster
from pipeline.values.patches import split_image
from tests.conftest import ROOT

HEAD = "name: c\ncloud: {cloud}\nkubernetes: {{version: '1.32', podCIDR: 10.1.0.0/16, serviceClusterIpRange: 10.96.0.0/12}}\n"
NODE = "/spec/template/spec/containers/0"


def ops_for(tmp_path: Path, values: str, cloud: str = "aws") -> list[tuple[str, list[str]]]:
    path = tmp_path / "c.yaml"
    path.write_text(HEAD.format(cloud=cloud) + values)
    patches = value_patches(read_cluster(path, ROOT, "c.yaml"))
    return [(p.label, [describe_op(op) for op in p.ops]) for p in patches]


def env_of(tmp_path: Path, values: str, cloud: str = "aws") -> dict[str, object]:
    path = tmp_path / "c.yaml"
    path.write_text(HEAD.format(cloud=cloud) + values)
    rendered = render_cluster(read_cluster(path, ROOT, "c.yaml"), None)
    node = next(r for r in rendered.resources if r.id.kind == "DaemonSet")
    env = node.body["spec"]["template"]["spec"]["containers"][0]["env"]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in env}


def test_no_values_no_operations(tmp_path: Path) -> None:
    assert ops_for(tmp_path, "") == []


def test_encapsulation_vxlan_turns_ipip_off(tmp_path: Path) -> None:
    values = "values:\n  calico: {encapsulationType: CALICO_IPV4POOL_VXLAN, encapsulationMode: CrossSubnet}\n"
    assert ops_for(tmp_path, values) == [
        (
            "values calico.encapsulationType",
            [
                f"test {NODE}/name",
                f"test {NODE}/env/4/name",
                f"replace {NODE}/env/4/value",
                f"test {NODE}/env/3/name",
                f"replace {NODE}/env/3/value",
            ],
        )
    ]
    env = env_of(tmp_path, values)
    assert (env["CALICO_IPV4POOL_VXLAN"], env["CALICO_IPV4POOL_IPIP"]) == ("CrossSubnet", "Never")


def test_mode_alone_keeps_the_overlays_encapsulation(tmp_path: Path) -> None:
    env = env_of(tmp_path, "values:\n  calico: {encapsulationMode: CrossSubnet}\n", cloud="azure")
    assert (env["CALICO_IPV4POOL_VXLAN"], env["CALICO_IPV4POOL_IPIP"]) == ("CrossSubnet", "Never")


def test_type_alone_defaults_the_mode_to_always(tmp_path: Path) -> None:
    env = env_of(
        tmp_path, "values:\n  calico: {encapsulationType: CALICO_IPV4POOL_IPIP}\n", cloud="gcp"
    )
    assert (env["CALICO_IPV4POOL_IPIP"], env["CALICO_IPV4POOL_VXLAN"]) == ("Always", "Never")


def test_mode_alone_needs_an_overlay_with_one_encapsulation(tmp_path: Path) -> None:
    overlay = tmp_path / "plain"
    overlay.mkdir()
    base = Path("..") / Path(*[".."] * len(tmp_path.parts[1:])) / ROOT.relative_to("/") / "base"
    (overlay / "kustomization.yaml").write_text(
        f"resources: [{base}]\npatches:\n- target: {{kind: DaemonSet}}\n  patch: |\n"
        f"    - {{op: test, path: {NODE}/env/3/name, value: CALICO_IPV4POOL_IPIP}}\n"
        f"    - {{op: replace, path: {NODE}/env/3/value, value: Never}}\n"
    )
    with pytest.raises(ValuesError) as err:
        ops_for(tmp_path, "overlay: plain\nvalues:\n  calico: {encapsulationMode: CrossSubnet}\n")
    assert str(err.value) == (
        "c.yaml calico.encapsulationMode: the overlay enables no single encapsulation; "
        "set calico.encapsulationType too"
    )


def test_cidr_block_size_and_extra_env(tmp_path: Path) -> None:
    values = (
        "values:\n  calico:\n    calicoNetworkCIDR: 10.1.0.0/16\n    blockSize: 24\n"
        "    env: {calicoNode: {FELIX_IPTABLESBACKEND: nft, CLUSTER_TYPE: 'k8s'}}\n"
    )
    labels = [label for label, _ in ops_for(tmp_path, values)]
    assert labels == [
        "values calico.calicoNetworkCIDR",
        "values calico.blockSize",
        "values calico.env.calicoNode.CLUSTER_TYPE",
        "values calico.env.calicoNode.FELIX_IPTABLESBACKEND",
    ]
    env = env_of(tmp_path, values)
    assert env["CALICO_IPV4POOL_CIDR"] == "10.1.0.0/16"
    assert env["CALICO_IPV4POOL_BLOCK_SIZE"] == "24"
    assert env["FELIX_IPTABLESBACKEND"] == "nft"
    assert env["CLUSTER_TYPE"] == "k8s"


def test_env_that_comes_from_a_configmap_is_replaced_whole(tmp_path: Path) -> None:
    values = "values:\n  calico:\n    env: {calicoNode: {FELIX_VXLANMTU: '1400'}}\n"
    assert ops_for(tmp_path, values)[0][1][-1] == f"replace {NODE}/env/7"
    assert env_of(tmp_path, values)["FELIX_VXLANMTU"] == "1400"


def test_images_registry_and_tag_rewrite_every_calico_image(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        HEAD.format(cloud="aws")
        + "values:\n  calico:\n    images: {registry: quay.io, tag: v3.30.6}\n"
    )
    rendered = render_cluster(read_cluster(path, ROOT, "c.yaml"), None)
    images = sorted(
        {
            c["image"]
            for r in rendered.resources
            if r.id.kind in ("DaemonSet", "Deployment")
            for key in ("containers", "initContainers")
            for c in r.body["spec"]["template"]["spec"].get(key, [])
        }
    )
    assert images == [
        "quay.io/calico/cni:v3.30.6",
        "quay.io/calico/kube-controllers:v3.30.6",
        "quay.io/calico/node:v3.30.6",
    ]


def test_mtu_and_etcd_endpoints_go_to_the_configmap(tmp_path: Path) -> None:
    values = (
        "values:\n  calico: {datastore: etcd, etcdEndpoints: 'https://10.0.0.1:2379', mtu: 1400}\n"
    )
    assert ops_for(tmp_path, values) == [
        ("values calico.mtu", ["replace /data/veth_mtu"]),
        ("values calico.etcdEndpoints", ["replace /data/etcd_endpoints"]),
    ]


@pytest.mark.parametrize(
    ("image", "parts"),
    [
        ("docker.io/calico/node:v3.30.7", ("docker.io", "calico/node", "v3.30.7")),
        ("calico/node:v3.30.7", ("", "calico/node", "v3.30.7")),
        ("my.reg:5000/mirror/calico/cni:v1", ("my.reg:5000", "mirror/calico/cni", "v1")),
        ("localhost/calico/cni@sha256:ab", ("localhost", "calico/cni", "@sha256:ab")),
        ("calico/cni", ("", "calico/cni", "")),
    ],
)
def test_split_image(image: str, parts: tuple[str, str, str]) -> None:
    assert split_image(image) == parts


def test_values_run_after_overlays_and_are_printable(tmp_path: Path) -> None:
    values = "values:\n  calico: {calicoNetworkCIDR: 10.1.0.0/16}\n"
    ops = ops_for(tmp_path, values, cloud="azure")
    assert yaml.safe_dump(ops)  # plain data a reviewer can print
