"""Cluster files: a cluster's cloud, its Kubernetes layer and the pack values.

A cluster file (``clusters/<name>.yaml``) looks like::

    name: aws-prod-1
    cloud: aws                       # picks overlays/aws unless overlay: is set
    kubernetes:
      version: "1.32"
      podCIDR: 10.244.0.0/16
      serviceClusterIpRange: 10.96.0.0/12
    values:
      calico:
        encapsulationType: CALICO_IPV4POOL_IPIP
        encapsulationMode: Always
        calicoNetworkCIDR: 10.244.0.0/16

``values`` takes netpack's keys (``calico.*``, see ``VALUE_KEYS``) or values
pasted from a Palette cluster profile (``manifests.calico.*``).  Everything is
checked before anything renders: unknown keys, wrong types, enum values and
malformed or non-canonical CIDRs raise a ``ValuesError`` naming the file and
the key.  Whether the CIDR matches the podCIDR is the policy gate's job.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import ValuesError
from pipeline.source import read_documents

ENCAPSULATION_TYPES = ("CALICO_IPV4POOL_IPIP", "CALICO_IPV4POOL_VXLAN")
ENCAPSULATION_MODES = ("Always", "CrossSubnet", "Never")
DATASTORES = ("kubernetes", "etcd")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_K8S_VERSION = re.compile(r"^1\.[0-9]{1,3}$")
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_REGISTRY = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]+)?(/[a-z0-9._-]+)*$")

# netpack's value keys under values.calico, with their meaning (README lists them).
VALUE_KEYS = {
    "encapsulationType": "CALICO_IPV4POOL_IPIP or CALICO_IPV4POOL_VXLAN (default: the overlay's)",
    "encapsulationMode": "Always, CrossSubnet or Never (default Always)",
    "calicoNetworkCIDR": "the IPv4 pool CIDR (default 192.168.0.0/16); must equal podCIDR",
    "datastore": "kubernetes or etcd (default kubernetes)",
    "etcdEndpoints": "etcd URLs, comma-separated (etcd datastore only)",
    "mtu": "veth MTU, 0 = auto-detect (default: the overlay's)",
    "blockSize": "IPv4 block size, 20-32 (default 26)",
    "ipAutodetectionMethod": "IP_AUTODETECTION_METHOD, e.g. interface=eth0",
    "images": "registry and tag for every Calico image: {registry, tag}",
    "env": "extra env: {calicoNode: {NAME: value}, calicoKubeControllers: {...}}",
}


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


class _Reader:
    """Typed access to a mapping, raising ValuesError with the dotted key."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, key: str, message: str) -> ValuesError:
        return ValuesError(message, file=self.file, operation=key)

    def mapping(
        self, raw: object, key: str, allowed: Mapping[str, object] | set[str] | None
    ) -> dict[str, Any]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise self.fail(key, f"must be a mapping, not {_kind(raw)}")
        for k in raw:
            if not isinstance(k, str):
                raise self.fail(key, f"key {k!r} must be a string")
            if allowed is not None and k not in allowed:
                known = ", ".join(sorted(allowed))
                raise self.fail(f"{key}.{k}" if key else k, f"unknown key (known: {known})")
        return raw

    def string(self, raw: object, key: str, *, required: bool = False) -> str | None:
        if raw is None or raw == "":
            if required:
                raise self.fail(key, "is required")
            return None
        if not isinstance(raw, str):
            raise self.fail(key, f"must be a string, not {_kind(raw)}")
        return raw

    def choice(self, raw: object, key: str, choices: tuple[str, ...]) -> str | None:
        value = self.string(raw, key)
        if value is not None and value not in choices:
            raise self.fail(key, f"{value!r} is not one of {', '.join(choices)}")
        return value

    def integer(self, raw: object, key: str, low: int, high: int) -> int | None:
        if raw is None or raw == "":
            return None
        if isinstance(raw, str) and raw.isdigit():
            raw = int(raw)
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise self.fail(key, f"must be a whole number, not {_kind(raw)}")
        if not low <= raw <= high:
            raise self.fail(key, f"{raw} is outside {low}-{high}")
        return raw

    def cidr(self, raw: object, key: str, *, required: bool = False) -> str | None:
        value = self.string(raw, key, required=required)
        if value is None:
            return None
        try:
            net = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise self.fail(key, f"{value!r} is not a CIDR (like 10.244.0.0/16)") from None
        if net.version != 4:
            raise self.fail(key, f"{value} is IPv6; this pack renders IPv4 pools only")
        if str(net) != value:
            raise self.fail(key, f"{value} is not in canonical form; write {net}")
        return value

    def env(self, raw: object, key: str) -> tuple[tuple[str, str], ...]:
        pairs = []
        for name, value in sorted(self.mapping(raw, key, None).items()):
            if not _ENV_NAME.match(name):
                raise self.fail(f"{key}.{name}", "is not a valid environment variable name")
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, int):
                value = str(value)
            text = self.string(value, f"{key}.{name}", required=True)
            assert text is not None
            pairs.append((name, text))
        return tuple(pairs)


def _kind(value: object) -> str:
    return {
        dict: "a mapping",
        list: "a list",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(value), "a string" if isinstance(value, str) else type(value).__name__)


_TOP = {"name", "cloud", "overlay", "kubernetes", "values"}
_K8S = {"version", "podCIDR", "serviceClusterIpRange"}
_PALETTE = {
    "encapsulationType",
    "encapsulationMode",
    "calicoNetworkCIDR",
    "env",
    "images",
    "ipamType",
    "calico_ipam",
    "microk8s",
}


def read_cluster(path: Path, pack: Path, display_path: str | None = None) -> Cluster:
    """Read and check one cluster file; ``pack`` holds ``overlays/``."""
    shown = display_path or str(path)
    docs = read_documents(path, shown)
    reader = _Reader(shown)
    if len(docs) != 1:
        raise ValuesError("must hold exactly one YAML document", file=shown, operation="read")
    top = reader.mapping(docs[0], "", _TOP)
    name = reader.string(top.get("name"), "name", required=True)
    assert name is not None
    if not _NAME.match(name):
        raise reader.fail("name", f"{name!r} is not a DNS label (lower-case letters, digits, '-')")
    cloud = reader.string(top.get("cloud"), "cloud", required=True)
    assert cloud is not None
    overlay = _overlay(reader, top.get("overlay"), cloud, pack, path.parent)
    k8s = reader.mapping(top.get("kubernetes"), "kubernetes", _K8S)
    version = reader.string(k8s.get("version"), "kubernetes.version", required=True)
    if version is not None and not _K8S_VERSION.match(version):
        raise reader.fail(
            "kubernetes.version", f'{version!r} is not a Kubernetes minor version like "1.32"'
        )
    pod = reader.cidr(k8s.get("podCIDR"), "kubernetes.podCIDR", required=True)
    svc = reader.cidr(
        k8s.get("serviceClusterIpRange"), "kubernetes.serviceClusterIpRange", required=True
    )
    assert version is not None and pod is not None and svc is not None
    values = read_values(reader, top.get("values"))
    return Cluster(name, cloud, shown, pack, overlay, version, pod, svc, values)


def _overlay(reader: _Reader, raw: object, cloud: str, pack: Path, here: Path) -> Path:
    overlays = pack / "overlays"
    if raw is None:
        path = overlays / cloud
        if not (path / "kustomization.yaml").is_file():
            known = (
                sorted(p.name for p in overlays.iterdir() if (p / "kustomization.yaml").is_file())
                if overlays.is_dir()
                else []
            )
            raise reader.fail(
                "cloud",
                f"unknown cloud {cloud!r}: no {path}/kustomization.yaml"
                f" (known: {', '.join(known) or 'none'})",
            )
        return path
    text = reader.string(raw, "overlay", required=True)
    assert text is not None
    path = (here / text) if not Path(text).is_absolute() else Path(text)
    if not path.is_dir():
        raise reader.fail("overlay", f"no such overlay directory: {text}")
    return path


def read_values(reader: _Reader, raw: object) -> Values:
    """Check ``values`` (netpack's ``calico.*`` or Palette's ``manifests.calico.*``)."""
    top = reader.mapping(raw, "values", {"calico", "manifests"})
    if "calico" in top and "manifests" in top:
        raise reader.fail("values", "use either calico.* or manifests.calico.*, not both")
    if "manifests" in top:
        manifests = reader.mapping(top["manifests"], "values.manifests", {"calico"})
        return _palette(reader, manifests.get("calico"), "values.manifests.calico")
    return _netpack(reader, top.get("calico"), "values.calico")


def _netpack(reader: _Reader, raw: object, key: str) -> Values:
    calico = reader.mapping(raw, key, VALUE_KEYS)
    images = reader.mapping(calico.get("images"), f"{key}.images", {"registry", "tag"})
    env = reader.mapping(calico.get("env"), f"{key}.env", {"calicoNode", "calicoKubeControllers"})
    values = Values(
        encapsulation_type=reader.choice(
            calico.get("encapsulationType"), f"{key}.encapsulationType", ENCAPSULATION_TYPES
        ),
        encapsulation_mode=reader.choice(
            calico.get("encapsulationMode"), f"{key}.encapsulationMode", ENCAPSULATION_MODES
        ),
        cidr=reader.cidr(calico.get("calicoNetworkCIDR"), f"{key}.calicoNetworkCIDR"),
        datastore=reader.choice(calico.get("datastore"), f"{key}.datastore", DATASTORES)
        or "kubernetes",
        etcd_endpoints=_endpoints(reader, calico.get("etcdEndpoints"), f"{key}.etcdEndpoints"),
        mtu=_mtu(reader, calico.get("mtu"), f"{key}.mtu"),
        block_size=reader.integer(calico.get("blockSize"), f"{key}.blockSize", 20, 32),
        ip_autodetection_method=_autodetect(
            reader, calico.get("ipAutodetectionMethod"), f"{key}.ipAutodetectionMethod"
        ),
        image_registry=_pattern(
            reader,
            images.get("registry"),
            f"{key}.images.registry",
            _REGISTRY,
            "a registry host like quay.io or my.registry:5000/mirror",
        ),
        image_tag=_pattern(
            reader, images.get("tag"), f"{key}.images.tag", _IMAGE_TAG, "an image tag like v3.30.7"
        ),
        node_env=reader.env(env.get("calicoNode"), f"{key}.env.calicoNode"),
        controllers_env=reader.env(
            env.get("calicoKubeControllers"), f"{key}.env.calicoKubeControllers"
        ),
    )
    _check_consistency(reader, values, key)
    return values


def _palette(reader: _Reader, raw: object, key: str) -> Values:
    calico = reader.mapping(raw, key, _PALETTE)
    if reader.string(calico.get("ipamType"), f"{key}.ipamType") not in (None, "calico-ipam"):
        raise reader.fail(f"{key}.ipamType", "only calico-ipam is supported by this pack")
    if str(calico.get("microk8s", "false")).lower() != "false":
        raise reader.fail(f"{key}.microk8s", "microk8s is not supported by this pack")
    ipam = reader.mapping(
        calico.get("calico_ipam"), f"{key}.calico_ipam", {"assign_ipv4", "assign_ipv6"}
    )
    if ipam.get("assign_ipv4", True) is not True or ipam.get("assign_ipv6", False) is not False:
        raise reader.fail(
            f"{key}.calico_ipam", "only assign_ipv4: true, assign_ipv6: false is supported"
        )
    images = reader.mapping(
        calico.get("images"), f"{key}.images", {"cni", "node", "kubecontroller"}
    )
    env = reader.mapping(calico.get("env"), f"{key}.env", {"calicoNode", "calicoKubeControllers"})
    node_env = dict(reader.env(env.get("calicoNode"), f"{key}.env.calicoNode"))
    cidr = reader.cidr(calico.get("calicoNetworkCIDR"), f"{key}.calicoNetworkCIDR")
    env_cidr = node_env.pop("CALICO_IPV4POOL_CIDR", None)
    if env_cidr is not None:
        env_cidr = reader.cidr(env_cidr, f"{key}.env.calicoNode.CALICO_IPV4POOL_CIDR")
        if cidr is not None and env_cidr != cidr:
            raise reader.fail(
                f"{key}.env.calicoNode.CALICO_IPV4POOL_CIDR",
                f"{env_cidr} contradicts calicoNetworkCIDR {cidr}",
            )
        cidr = env_cidr
    component = {"cni": "cni", "node": "node", "kubecontroller": "kube-controllers"}
    picked = tuple(
        (component[name], ref)
        for name in sorted(images)
        if (ref := reader.string(images[name], f"{key}.images.{name}")) is not None
    )
    values = Values(
        encapsulation_type=reader.choice(
            calico.get("encapsulationType"), f"{key}.encapsulationType", ENCAPSULATION_TYPES
        ),
        encapsulation_mode=reader.choice(
            calico.get("encapsulationMode"), f"{key}.encapsulationMode", ENCAPSULATION_MODES
        ),
        cidr=cidr,
        images=picked,
        node_env=tuple(sorted(node_env.items())),
        controllers_env=reader.env(
            env.get("calicoKubeControllers"), f"{key}.env.calicoKubeControllers"
        ),
    )
    _check_consistency(reader, values, key)
    return values


# Env names that a value key owns: setting them through env.* would fight the key.
# IP_AUTODETECTION_METHOD is the exception: Palette profiles set it through env.
_OWNED = {
    "CALICO_IPV4POOL_IPIP": "encapsulationType/encapsulationMode",
    "CALICO_IPV4POOL_VXLAN": "encapsulationType/encapsulationMode",
    "CALICO_IPV4POOL_CIDR": "calicoNetworkCIDR",
    "CALICO_IPV4POOL_BLOCK_SIZE": "blockSize",
    "DATASTORE_TYPE": "datastore",
    "ETCD_ENDPOINTS": "etcdEndpoints",
}


def _check_consistency(reader: _Reader, values: Values, key: str) -> None:
    for name, _ in values.node_env:
        env_key = f"{key}.env.calicoNode.{name}"
        if name in _OWNED:
            raise reader.fail(env_key, f"set it with {_OWNED[name]} instead")
        if name == "IP_AUTODETECTION_METHOD" and values.ip_autodetection_method:
            raise reader.fail(env_key, "set it once: ipAutodetectionMethod sets it too")
    if values.etcd_endpoints is not None and values.datastore != "etcd":
        raise reader.fail(f"{key}.etcdEndpoints", "is only used with datastore: etcd")


def _endpoints(reader: _Reader, raw: object, key: str) -> str | None:
    value = reader.string(raw, key)
    if value is None:
        return None
    for url in value.split(","):
        if not re.match(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$", url.strip()):
            raise reader.fail(key, f"{url.strip()!r} is not an etcd URL like https://10.0.0.5:2379")
    return value


def _mtu(reader: _Reader, raw: object, key: str) -> int | None:
    value = reader.integer(raw, key, 0, 65535)
    if value is not None and 0 < value < 576:
        raise reader.fail(key, f"{value} is below the IPv4 minimum of 576 (0 means auto-detect)")
    return value


def _autodetect(reader: _Reader, raw: object, key: str) -> str | None:
    value = reader.string(raw, key)
    if value is None:
        return None
    plain = ("first-found", "kubernetes-internal-ip")
    prefixed = ("can-reach=", "interface=", "skip-interface=", "cidr=")
    if value not in plain and not any(
        value.startswith(p) and len(value) > len(p) for p in prefixed
    ):
        raise reader.fail(
            key,
            f"{value!r} is not first-found, kubernetes-internal-ip, can-reach=, interface=,"
            " skip-interface= or cidr=",
        )
    if value.startswith("cidr="):
        for item in value[len("cidr=") :].split(","):
            reader.cidr(item.strip(), key)
    return value


def _pattern(
    reader: _Reader, raw: object, key: str, pattern: re.Pattern[str], what: str
) -> str | None:
    value = reader.string(raw, key)
    if value is not None and not pattern.match(value):
        raise reader.fail(key, f"{value!r} is not {what}")
    return value
