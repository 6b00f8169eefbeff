"""A generated fleet for benchmarks and tests: N valid cluster files from a seed.

Clusters cycle through every cloud overlay and both datastores; each gets its own
podCIDR (a /24 of 100.64.0.0/10, room for 16,384) and its own service range (a /26
of 172.16.0.0/12, room for 16,384), so no two overlap and none overlaps a pool.
Values are drawn from ``random.Random(seed)`` within what the policy gate
accepts for that cloud, so every generated cluster renders and passes the gate.
The same ``(n, seed)`` always gives the same files.
"""

from __future__ import annotations

import ipaddress
import random
from pathlib import Path

CLOUDS = ("aws", "vmware", "azure", "gcp", "openstack", "baremetal")
MAX_CLUSTERS = 16384
_PODS = ipaddress.IPv4Network("100.64.0.0/10")
_SERVICES = ipaddress.IPv4Network("172.16.0.0/12")
# Modes each cloud's gate accepts for its default encapsulation (policies/data/clouds.yaml);
# aws CrossSubnet only warns, so it is left out to keep the generated fleet clean.
_MODES = {
    "aws": ("Always",),
    "vmware": ("Always", "CrossSubnet"),
    "azure": ("Always", "CrossSubnet"),
    "gcp": ("Always",),
    "openstack": ("Always", "CrossSubnet"),
    "baremetal": ("Always", "CrossSubnet"),
}


def _subnet(network: ipaddress.IPv4Network, prefix: int, index: int) -> str:
    size = 1 << (32 - prefix)
    return f"{network.network_address + index * size}/{prefix}"


def cluster_name(index: int) -> str:
    return f"{CLOUDS[index % len(CLOUDS)]}-{index:05d}"


def cluster_yaml(index: int, rng: random.Random) -> str:
    """The cluster file of fleet member ``index`` (0-based)."""
    cloud = CLOUDS[index % len(CLOUDS)]
    pod = _subnet(_PODS, 24, index)
    lines = [
        f"name: {cluster_name(index)}",
        f"cloud: {cloud}",
        "kubernetes:",
        f'  version: "1.{rng.choice((30, 31, 32, 33))}"',
        f"  podCIDR: {pod}",
        f"  serviceClusterIpRange: {_subnet(_SERVICES, 26, index)}",
        "values:",
        "  calico:",
        f"    calicoNetworkCIDR: {pod}",
        f"    encapsulationMode: {rng.choice(_MODES[cloud])}",
        f"    blockSize: {rng.choice((24, 26, 28))}",
    ]
    if index % 5 == 4:
        host = f"10.{index // 256 % 256}.{index % 256}"
        lines += ["    datastore: etcd", f"    etcdEndpoints: https://{host}.10:2379"]
    if rng.random() < 0.3:
        lines.append("    env: {calicoNode: {FELIX_LOGSEVERITYSCREEN: warning}}")
    return "\n".join(lines) + "\n"


def generate(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """``n`` cluster files as ``(file name, text)``, in index order."""
    if not 0 < n <= MAX_CLUSTERS:
        raise ValueError(f"a generated fleet has 1 to {MAX_CLUSTERS} clusters, not {n}")
    rng = random.Random(seed)
    return [(f"{cluster_name(i)}.yaml", cluster_yaml(i, rng)) for i in range(n)]


def write_fleet(directory: Path, n: int, seed: int = 0) -> list[Path]:
    """Write ``generate(n, seed)`` into ``directory``; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in generate(n, seed):
        path = directory / name
        path.write_text(text)
        paths.append(path)
    return paths
