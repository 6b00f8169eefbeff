"""What the render says a cluster must run: the objects doctor compares the cluster with.

The render is netpack's own for the cluster file (``pipeline.flow.render_cluster``,
stages 3-4, as ``netpack diff`` renders) or, with ``--deploy-repo``, the manifests the
deploy repo holds for the cluster at its branch tip (what Argo CD or Flux apply).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.errors import InputError
from pipeline.model.cluster import Cluster
from pipeline.model.resource import Body

NODE = "calico-node"
CONTROLLERS = "calico-kube-controllers"
CONFIG = "calico-config"
# calico-node's defaults for the pool env it does not find (configure-calico-node docs).
DEFAULT_BLOCK_SIZE = 26


@dataclass(frozen=True)
class Pool:
    """The IPv4 pool calico-node creates on first start from its ``CALICO_IPV4POOL_*`` env."""

    cidr: str
    ipip: str  # Always | CrossSubnet | Never
    vxlan: str
    block_size: int


@dataclass(frozen=True)
class Expected:
    """The render's calico-node, calico-config, kube-controllers and etcd Secret."""

    source: str  # "the render of <file>" or "<deploy repo> <branch>"
    namespace: str
    node: Body  # the calico-node DaemonSet
    config: dict[str, str]  # calico-config's data
    controllers: Body | None
    secret: Body | None  # the etcd Secret (etcd datastore only)
    pool: Pool
    etcd: bool


def expected(cluster: Cluster, bodies: Sequence[Body], source: str) -> Expected:
    """Read the render ``bodies`` of ``cluster``; an ``InputError`` if calico-node or
    calico-config is not there."""
    by_kind: dict[tuple[str, str], Body] = {}
    for body in bodies:
        meta = body.get("metadata") or {}
        by_kind.setdefault((str(body.get("kind")), str(meta.get("name"))), body)
    node = by_kind.get(("DaemonSet", NODE))
    if node is None:
        raise InputError(
            f"has no DaemonSet {NODE}; nothing to check the cluster against",
            file=source,
            operation="doctor",
        )
    namespace = str(node["metadata"].get("namespace") or "default")
    config_map = by_kind.get(("ConfigMap", CONFIG))
    if config_map is None:
        raise InputError(f"has no ConfigMap {CONFIG}", file=source, operation="doctor")
    config = {str(k): str(v) for k, v in (config_map.get("data") or {}).items()}
    env = env_values(container(node, NODE))
    etcd = "etcd_endpoints" in config
    mounted = secret_names(node)
    secret = next(
        (
            b
            for b in bodies
            if b.get("kind") == "Secret" and (b.get("metadata") or {}).get("name") in mounted
        ),
        None,
    )
    pool = Pool(
        cidr=env.get("CALICO_IPV4POOL_CIDR") or cluster.pod_cidr,
        ipip=mode(env.get("CALICO_IPV4POOL_IPIP")),
        vxlan=mode(env.get("CALICO_IPV4POOL_VXLAN")),
        block_size=int(env.get("CALICO_IPV4POOL_BLOCK_SIZE") or DEFAULT_BLOCK_SIZE),
    )
    controllers = by_kind.get(("Deployment", CONTROLLERS))
    return Expected(source, namespace, node, config, controllers, secret, pool, etcd)


def container(workload: Body | None, name: str) -> Body:
    """The pod template's container ``name`` ({} if there is none)."""
    spec = pod_spec(workload)
    for item in spec.get("containers") or []:
        if isinstance(item, dict) and item.get("name") == name:
            return item
    return {}


def pod_spec(workload: Body | None) -> dict[str, Any]:
    template = ((workload or {}).get("spec") or {}).get("template") or {}
    spec = template.get("spec") if isinstance(template, dict) else None
    return spec if isinstance(spec, dict) else {}


def env_values(item: Body) -> dict[str, str]:
    """A container's literal env values by name (``valueFrom`` entries left out)."""
    return {
        str(e["name"]): str(e.get("value", ""))
        for e in item.get("env") or []
        if isinstance(e, dict) and "name" in e and "valueFrom" not in e
    }


def env_entries(item: Body) -> dict[str, Any]:
    """A container's env by name: the literal value, or its ``valueFrom``."""
    return {
        str(e["name"]): e["valueFrom"] if "valueFrom" in e else str(e.get("value", ""))
        for e in item.get("env") or []
        if isinstance(e, dict) and "name" in e
    }


def secret_names(workload: Body | None) -> list[str]:
    """The Secrets a workload's pod template mounts."""
    return sorted(
        str(v["secret"].get("secretName"))
        for v in pod_spec(workload).get("volumes") or []
        if isinstance(v, dict) and isinstance(v.get("secret"), dict)
    )


def mode(value: str | None) -> str:
    """An IPIP/VXLAN mode as calico-node reads it (case-insensitive; empty, off = Never)."""
    text = (value or "").strip().lower()
    if text in ("", "off", "never", "false"):
        return "Never"
    if text in ("crosssubnet", "cross-subnet"):
        return "CrossSubnet"
    if text == "always":
        return "Always"
    return value or ""
