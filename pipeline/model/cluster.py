"""A cluster of the fleet and its pack values, as read and checked from its cluster file.

``pipeline.values.cluster`` reads and checks cluster files into these records;
every later stage only reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Values:
    """The pack values, checked; ``None`` means "keep what the overlay renders"."""

    encapsulation_type: str | None = None
    encapsulation_mode: str | None = None
    cidr: str | None = None
    datastore: str = "kubernetes"
    etcd_endpoints: str | None = None
    mtu: int | None = None
    block_size: int | None = None
    ip_autodetection_method: str | None = None
    image_registry: str | None = None
    image_tag: str | None = None
    images: tuple[tuple[str, str], ...] = ()  # (component: cni|node|kube-controllers, image)
    node_env: tuple[tuple[str, str], ...] = ()
    controllers_env: tuple[tuple[str, str], ...] = ()

    def as_data(self) -> dict[str, Any]:
        """The values in netpack's key layout (``{"calico": {...}}``), set keys only."""
        calico: dict[str, Any] = {"datastore": self.datastore}
        pairs = (
            ("encapsulationType", self.encapsulation_type),
            ("encapsulationMode", self.encapsulation_mode),
            ("calicoNetworkCIDR", self.cidr),
            ("etcdEndpoints", self.etcd_endpoints),
            ("mtu", self.mtu),
            ("blockSize", self.block_size),
            ("ipAutodetectionMethod", self.ip_autodetection_method),
        )
        calico.update({k: v for k, v in pairs if v is not None})
        images = {
            k: v for k, v in (("registry", self.image_registry), ("tag", self.image_tag)) if v
        }
        images.update(dict(self.images))
        if images:
            calico["images"] = images
        env = {
            k: dict(v)
            for k, v in (
                ("calicoNode", self.node_env),
                ("calicoKubeControllers", self.controllers_env),
            )
            if v
        }
        if env:
            calico["env"] = env
        return {"calico": calico}


@dataclass(frozen=True)
class Cluster:
    """One cluster of the fleet, read from ``file``."""

    name: str
    cloud: str
    file: str  # display path
    pack: Path  # the directory holding base/ and overlays/
    overlay: Path
    kubernetes_version: str
    pod_cidr: str
    service_cidr: str
    values: Values = field(default_factory=Values)
    # ``doctor.context``: the kubeconfig context ``netpack doctor`` reads this cluster through
    # (None: the cluster's name in a fleet run, the current context for one cluster).
    doctor_context: str | None = None

    def context(self) -> dict[str, Any]:
        """The cluster context the policy gate reads as ``data.netpack``."""
        return {
            "cluster": {
                "name": self.name,
                "cloud": self.cloud,
                "kubernetes": {
                    "version": self.kubernetes_version,
                    "podCIDR": self.pod_cidr,
                    "serviceClusterIpRange": self.service_cidr,
                },
            },
            "values": self.values.as_data(),
        }
