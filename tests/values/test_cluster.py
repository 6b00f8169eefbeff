"""Cluster files and values: every bad value is a one-line error naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import InputError, ValuesError
from pipeline.values.cluster import read_cluster

ROOT = Path(__file__).resolve().parents[2]

GOOD = """\
name: c1
cloud: aws
kubernetes: {version: "1.32", podCIDR: 10.244.0.0/16, serviceClusterIpRange: 10.96.0.0/12}
"""


def _read(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "c1.yaml"
    path.write_text(text)
    return read_cluster(path, ROOT, "c1.yaml")


def test_minimal_cluster_defaults(tmp_path: Path) -> None:
    cluster = _read(tmp_path, GOOD)
    assert cluster.overlay == ROOT / "overlays" / "aws"
    assert cluster.values.datastore == "kubernetes"
    assert cluster.values.as_data() == {"calico": {"datastore": "kubernetes"}}
    assert cluster.context()["cluster"]["kubernetes"]["podCIDR"] == "10.244.0.0/16"


def test_palette_values_map_to_netpack_values(tmp_path: Path) -> None:
    text = (
        GOOD
        + """\
values:
  manifests:
    calico:
      encapsulationType: CALICO_IPV4POOL_VXLAN
      encapsulationMode: CrossSubnet
      images: {node: "my.reg/calico/node:v1", cni: ""}
      env:
        calicoNode: {CALICO_IPV4POOL_CIDR: 10.244.0.0/16, FELIX_LOGSEVERITYSCREEN: info}
"""
    )
    values = _read(tmp_path, text).values
    assert values.encapsulation_type == "CALICO_IPV4POOL_VXLAN"
    assert values.encapsulation_mode == "CrossSubnet"
    assert values.cidr == "10.244.0.0/16"
    assert values.images == (("node", "my.reg/calico/node:v1"),)
    assert values.node_env == (("FELIX_LOGSEVERITYSCREEN", "info"),)


VALUES = GOOD + "values:\n  calico:\n"
BAD = [
    (
        VALUES + "    encapsulationTyp: x\n",
        "c1.yaml values.calico.encapsulationTyp: unknown key; did you mean 'encapsulationType'? (known: blockSize, calicoNetworkCIDR, datastore, encapsulationMode, encapsulationType, env, etcdEndpoints, images, ipAutodetectionMethod, mtu)",
    ),
    (
        VALUES + "    encapsulationType: CALICO_IPV4POOL_GRE\n",
        "c1.yaml values.calico.encapsulationType: 'CALICO_IPV4POOL_GRE' is not one of CALICO_IPV4POOL_IPIP, CALICO_IPV4POOL_VXLAN",
    ),
    (
        VALUES + "    encapsulationMode: always\n",
        "c1.yaml values.calico.encapsulationMode: 'always' is not one of Always, CrossSubnet, Never",
    ),
    (
        VALUES + "    calicoNetworkCIDR: 10.244.0.0\n",
        "c1.yaml values.calico.calicoNetworkCIDR: 10.244.0.0 is not in canonical form; write 10.244.0.0/32",
    ),
    (
        VALUES + "    calicoNetworkCIDR: 10.244.1.0/16\n",
        "c1.yaml values.calico.calicoNetworkCIDR: 10.244.1.0/16 is not in canonical form; write 10.244.0.0/16",
    ),
    (
        VALUES + "    calicoNetworkCIDR: 10.244.0.0/33\n",
        "c1.yaml values.calico.calicoNetworkCIDR: '10.244.0.0/33' is not a CIDR (like 10.244.0.0/16)",
    ),
    (
        VALUES + "    calicoNetworkCIDR: fd00::/48\n",
        "c1.yaml values.calico.calicoNetworkCIDR: fd00::/48 is IPv6; this pack renders IPv4 pools only",
    ),
    (
        VALUES + "    calicoNetworkCIDR: [10.0.0.0/8]\n",
        "c1.yaml values.calico.calicoNetworkCIDR: must be a string, not a list",
    ),
    (VALUES + "    blockSize: 19\n", "c1.yaml values.calico.blockSize: 19 is outside 20-32"),
    (
        VALUES + "    blockSize: big\n",
        "c1.yaml values.calico.blockSize: 'big' is not a whole number (digits 0-9)",
    ),
    # str.isdigit() and int() take these; a value must be ASCII digits
    (
        VALUES + '    mtu: "\u00b2"\n',
        "c1.yaml values.calico.mtu: '\u00b2' is not a whole number (digits 0-9)",
    ),
    (
        VALUES + '    blockSize: "2\u00b3"\n',
        "c1.yaml values.calico.blockSize: '2\u00b3' is not a whole number (digits 0-9)",
    ),
    (
        VALUES + '    mtu: "\u0661\u0664\u0665\u0660"\n',
        "c1.yaml values.calico.mtu: '\u0661\u0664\u0665\u0660' is not a whole number (digits 0-9)",
    ),
    (
        VALUES + '    mtu: " 1450"\n',
        "c1.yaml values.calico.mtu: ' 1450' is not a whole number (digits 0-9)",
    ),
    (
        VALUES + '    mtu: "1450"\n    blockSize: "' + "9" * 5000 + '"\n',
        "c1.yaml values.calico.blockSize: 99999999999999999999... is outside 20-32",
    ),
    (
        VALUES + "    mtu: 100\n",
        "c1.yaml values.calico.mtu: 100 is below the IPv4 minimum of 576 (0 means auto-detect)",
    ),
    (
        VALUES + "    datastore: consul\n",
        "c1.yaml values.calico.datastore: 'consul' is not one of kubernetes, etcd",
    ),
    (
        VALUES + "    etcdEndpoints: https://e:2379\n",
        "c1.yaml values.calico.etcdEndpoints: is only used with datastore: etcd",
    ),
    (
        VALUES + "    datastore: etcd\n    etcdEndpoints: e:2379\n",
        "c1.yaml values.calico.etcdEndpoints: 'e:2379' is not an etcd URL like https://10.0.0.5:2379",
    ),
    (
        VALUES + "    datastore: etcd\n    etcdEndpoints: https://10.0.0.5:99999\n",
        "c1.yaml values.calico.etcdEndpoints: 'https://10.0.0.5:99999': port 99999 is outside 1-65535",
    ),
    (
        VALUES + "    datastore: etcd\n    etcdEndpoints: https://a:2379,http://b:0\n",
        "c1.yaml values.calico.etcdEndpoints: 'http://b:0': port 0 is outside 1-65535",
    ),
    (
        VALUES + "    datastore: etcd\n    etcdEndpoints: ftp://a:2379\n",
        "c1.yaml values.calico.etcdEndpoints: 'ftp://a:2379' is not an etcd URL like https://10.0.0.5:2379",
    ),
    (
        VALUES + "    ipAutodetectionMethod: eth0\n",
        "c1.yaml values.calico.ipAutodetectionMethod: 'eth0' is not first-found, kubernetes-internal-ip, can-reach=, interface=, skip-interface= or cidr=",
    ),
    (
        VALUES + "    images: {tag: 'v3 30'}\n",
        "c1.yaml values.calico.images.tag: 'v3 30' is not an image tag like v3.30.7",
    ),
    (
        VALUES + "    env: {calicoNode: {CALICO_IPV4POOL_IPIP: Never}}\n",
        "c1.yaml values.calico.env.calicoNode.CALICO_IPV4POOL_IPIP: set it with encapsulationType/encapsulationMode instead",
    ),
    # every Calico workload: the values own datastore, pool and credential env
    (
        VALUES + "    env: {calicoKubeControllers: {DATASTORE_TYPE: etcdv3}}\n",
        "c1.yaml values.calico.env.calicoKubeControllers.DATASTORE_TYPE: 'etcdv3' contradicts datastore: kubernetes; set it with datastore instead",
    ),
    (
        VALUES
        + "    datastore: etcd\n    env: {calicoKubeControllers: {DATASTORE_TYPE: etcdv3}}\n",
        "c1.yaml values.calico.env.calicoKubeControllers.DATASTORE_TYPE: set it with datastore instead",
    ),
    (
        VALUES + "    env: {calicoKubeControllers: {ETCD_ENDPOINTS: 'http://10.0.0.5:2379'}}\n",
        "c1.yaml values.calico.env.calicoKubeControllers.ETCD_ENDPOINTS: set it with etcdEndpoints instead",
    ),
    (
        VALUES + "    env: {calicoNode: {FELIX_DATASTORETYPE: kubernetes}}\n",
        "c1.yaml values.calico.env.calicoNode.FELIX_DATASTORETYPE: set it with datastore instead",
    ),
    (
        VALUES + "    env: {calicoKubeControllers: {CALICO_IPV4POOL_NAT_OUTGOING: 'false'}}\n",
        "c1.yaml values.calico.env.calicoKubeControllers.CALICO_IPV4POOL_NAT_OUTGOING: the IP pool is set by calicoNetworkCIDR, blockSize and encapsulationType/encapsulationMode, not by env",
    ),
    (
        VALUES + "    env: {calicoNode: {ETCD_KEY: '-----BEGIN PRIVATE KEY-----'}}\n",
        "c1.yaml values.calico.env.calicoNode.ETCD_KEY: is a datastore connection or credential setting, which the datastore component sets (datastore: kubernetes|etcd); key material belongs in the calico-etcd-secrets Secret, delivered outside Git",
    ),
    (
        VALUES + "    env: {calicoKubeControllers: {KUBECONFIG: /etc/k}}\n",
        "c1.yaml values.calico.env.calicoKubeControllers.KUBECONFIG: is a datastore connection or credential setting, which the datastore component sets (datastore: kubernetes|etcd); key material belongs in the calico-etcd-secrets Secret, delivered outside Git",
    ),
    (
        VALUES + "    env: {calicoNode: {1BAD: x}}\n",
        "c1.yaml values.calico.env.calicoNode.1BAD: is not a valid environment variable name",
    ),
    (
        GOOD.replace("cloud: aws", "cloud: mars"),
        "c1.yaml cloud: unknown cloud 'mars': no {root}/overlays/mars/kustomization.yaml (known: aws, azure, baremetal, gcp, openstack, vmware)",
    ),
    (
        VALUES + "    ipAutodetectionMethod: interface=" + "e" * 4096 + "\n",
        "c1.yaml values.calico.ipAutodetectionMethod: is 4106 bytes long; a value may hold at most 4096 (4 KiB)",
    ),
    (
        VALUES + "    env: {calicoNode: {FELIX_X: '" + "\u00e9" * 2100 + "'}}\n",
        "c1.yaml values.calico.env.calicoNode.FELIX_X: is 4200 bytes long; a value may hold at most 4096 (4 KiB)",
    ),
    (
        GOOD.replace("cloud: aws", "cloud: ../base"),
        "c1.yaml cloud: '../base' is not a plain cloud name (letters, digits, '-', '_'; no path)",
    ),
    (
        GOOD.replace("cloud: aws", "cloud: aws/."),
        "c1.yaml cloud: 'aws/.' is not a plain cloud name (letters, digits, '-', '_'; no path)",
    ),
    (
        GOOD.replace("cloud: aws", "cloud: '..'"),
        "c1.yaml cloud: '..' is not a plain cloud name (letters, digits, '-', '_'; no path)",
    ),
    (GOOD + "overlay: nowhere\n", "c1.yaml overlay: no such overlay directory: nowhere"),
    (GOOD.replace('"1.32"', "1.32"), "c1.yaml kubernetes.version: must be a string, not a number"),
    (
        GOOD.replace('"1.32"', '"v1.32"'),
        "c1.yaml kubernetes.version: 'v1.32' is not a Kubernetes minor version like \"1.32\"",
    ),
    (GOOD.replace("podCIDR: 10.244.0.0/16, ", ""), "c1.yaml kubernetes.podCIDR: is required"),
    (
        GOOD.replace("name: c1", "name: C_1"),
        "c1.yaml name: 'C_1' is not a DNS label (lower-case letters, digits, '-')",
    ),
    (
        GOOD + "extra: 1\n",
        "c1.yaml extra: unknown key (known: cloud, doctor, kubernetes, name, overlay, values)",
    ),
    (
        GOOD + "values:\n  manifests:\n    calico:\n      ipamType: host-local\n",
        "c1.yaml values.manifests.calico.ipamType: only calico-ipam is supported by this pack",
    ),
    (
        GOOD
        + "values:\n  manifests:\n    calico:\n      calicoNetworkCIDR: 10.1.0.0/16\n      env: {calicoNode: {CALICO_IPV4POOL_CIDR: 10.2.0.0/16}}\n",
        "c1.yaml values.manifests.calico.env.calicoNode.CALICO_IPV4POOL_CIDR: 10.2.0.0/16 contradicts calicoNetworkCIDR 10.1.0.0/16",
    ),
    (
        GOOD + "values:\n  calico: {}\n  manifests: {}\n",
        "c1.yaml values: use either calico.* or manifests.calico.*, not both",
    ),
]


@pytest.mark.parametrize(
    ("text", "message"),
    BAD,
    ids=[m.split(": ")[0].split(" ", 1)[1] + str(i) for i, (_, m) in enumerate(BAD)],
)
def test_bad_values_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ValuesError) as err:
        _read(tmp_path, text)
    assert str(err.value) == message.replace("{root}", str(ROOT))


def test_cluster_file_must_be_one_document(tmp_path: Path) -> None:
    with pytest.raises(ValuesError, match="must hold exactly one YAML document"):
        _read(tmp_path, GOOD + "---\n" + GOOD)


def test_missing_cluster_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"gone\.yaml read: no such file"):
        read_cluster(tmp_path / "gone.yaml", ROOT, "gone.yaml")
