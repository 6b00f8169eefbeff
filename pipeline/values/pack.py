"""The pack's values: netpack's ``calico.*`` keys or Palette's ``manifests.calico.*``.

``read_values`` checks them all before anything renders (unknown keys, types,
enum values, malformed or non-canonical CIDRs) and returns one ``Values``;
``pipeline.values.patches`` turns that into RFC 6902 operations.
"""

from __future__ import annotations

import re
from typing import Any

from pipeline.model.cluster import Values
from pipeline.values.fields import FieldReader

ENCAPSULATION_TYPES = ("CALICO_IPV4POOL_IPIP", "CALICO_IPV4POOL_VXLAN")
ENCAPSULATION_MODES = ("Always", "CrossSubnet", "Never")
DATASTORES = ("kubernetes", "etcd")
_ETCD_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::(?P<port>[0-9]{1,5}))?")
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


def read_values(reader: FieldReader, raw: object) -> Values:
    """Check ``values`` (netpack's ``calico.*`` or Palette's ``manifests.calico.*``)."""
    top = reader.mapping(raw, "values", {"calico", "manifests"})
    if "calico" in top and "manifests" in top:
        raise reader.fail("values", "use either calico.* or manifests.calico.*, not both")
    if "manifests" in top:
        manifests = reader.mapping(top["manifests"], "values.manifests", {"calico"})
        return _palette(reader, manifests.get("calico"), "values.manifests.calico")
    return _netpack(reader, top.get("calico"), "values.calico")


def _encapsulation(
    reader: FieldReader, calico: dict[str, Any], key: str
) -> tuple[str | None, str | None]:
    """``encapsulationType`` and ``encapsulationMode``, each checked on its own."""
    kind = reader.attempt(
        lambda: reader.choice(
            calico.get("encapsulationType"), f"{key}.encapsulationType", ENCAPSULATION_TYPES
        ),
        None,
    )
    mode = reader.attempt(
        lambda: reader.choice(
            calico.get("encapsulationMode"), f"{key}.encapsulationMode", ENCAPSULATION_MODES
        ),
        None,
    )
    return kind, mode


def _netpack(reader: FieldReader, raw: object, key: str) -> Values:
    calico = reader.mapping(raw, key, VALUE_KEYS)
    errors = len(reader.errors)
    get = reader.attempt  # each value checked on its own: every problem is reported
    images: dict[str, Any] = get(
        lambda: reader.mapping(calico.get("images"), f"{key}.images", _IMAGES), {}
    )
    env: dict[str, Any] = get(lambda: reader.mapping(calico.get("env"), f"{key}.env", _ENV), {})
    encapsulation_type, encapsulation_mode = _encapsulation(reader, calico, key)
    values = Values(
        encapsulation_type=encapsulation_type,
        encapsulation_mode=encapsulation_mode,
        cidr=get(
            lambda: reader.cidr(calico.get("calicoNetworkCIDR"), f"{key}.calicoNetworkCIDR"), None
        ),
        datastore=get(
            lambda: reader.choice(calico.get("datastore"), f"{key}.datastore", DATASTORES), None
        )
        or "kubernetes",
        etcd_endpoints=get(
            lambda: _endpoints(reader, calico.get("etcdEndpoints"), f"{key}.etcdEndpoints"), None
        ),
        mtu=get(lambda: _mtu(reader, calico.get("mtu"), f"{key}.mtu"), None),
        block_size=get(
            lambda: reader.integer(calico.get("blockSize"), f"{key}.blockSize", 20, 32), None
        ),
        ip_autodetection_method=get(
            lambda: _autodetect(
                reader, calico.get("ipAutodetectionMethod"), f"{key}.ipAutodetectionMethod"
            ),
            None,
        ),
        image_registry=get(
            lambda: _pattern(
                reader,
                images.get("registry"),
                f"{key}.images.registry",
                _REGISTRY,
                "a registry host like quay.io or my.registry:5000/mirror",
            ),
            None,
        ),
        image_tag=get(
            lambda: _pattern(
                reader,
                images.get("tag"),
                f"{key}.images.tag",
                _IMAGE_TAG,
                "an image tag like v3.30.7",
            ),
            None,
        ),
        node_env=get(lambda: reader.env(env.get("calicoNode"), f"{key}.env.calicoNode"), ()),
        controllers_env=get(
            lambda: reader.env(
                env.get("calicoKubeControllers"), f"{key}.env.calicoKubeControllers"
            ),
            (),
        ),
    )
    if len(reader.errors) == errors:  # the values are whole: how they fit together
        _check_consistency(reader, values, key)
    return values


_IMAGES = {"registry", "tag"}
_ENV = {"calicoNode", "calicoKubeControllers"}


def _palette(reader: FieldReader, raw: object, key: str) -> Values:
    calico = reader.mapping(raw, key, _PALETTE)
    errors = len(reader.errors)
    get = reader.attempt  # each setting checked on its own: every problem is reported
    get(lambda: _palette_platform(reader, calico, key), None)
    images: dict[str, Any] = get(
        lambda: reader.mapping(
            calico.get("images"), f"{key}.images", {"cni", "node", "kubecontroller"}
        ),
        {},
    )
    env: dict[str, Any] = get(lambda: reader.mapping(calico.get("env"), f"{key}.env", _ENV), {})
    no_env: tuple[tuple[str, str], ...] = ()
    node_env = dict(get(lambda: reader.env(env.get("calicoNode"), f"{key}.env.calicoNode"), no_env))
    cidr = get(lambda: _palette_cidr(reader, calico, node_env, key), None)
    component = {"cni": "cni", "node": "node", "kubecontroller": "kube-controllers"}
    picked = get(
        lambda: tuple(
            (component[name], ref)
            for name in sorted(images)
            if (ref := reader.string(images[name], f"{key}.images.{name}")) is not None
        ),
        no_env,
    )
    encapsulation_type, encapsulation_mode = _encapsulation(reader, calico, key)
    values = Values(
        encapsulation_type=encapsulation_type,
        encapsulation_mode=encapsulation_mode,
        cidr=cidr,
        images=picked,
        node_env=tuple(sorted(node_env.items())),
        controllers_env=get(
            lambda: reader.env(
                env.get("calicoKubeControllers"), f"{key}.env.calicoKubeControllers"
            ),
            no_env,
        ),
    )
    if len(reader.errors) == errors:  # the values are whole: how they fit together
        _check_consistency(reader, values, key)
    return values


def _palette_platform(reader: FieldReader, calico: dict[str, Any], key: str) -> None:
    """Palette settings this pack supports in one way only: IPAM and no microk8s."""
    reader.attempt(lambda: _palette_ipam_type(reader, calico, key), None)
    reader.attempt(lambda: _palette_microk8s(reader, calico, key), None)
    ipam = reader.mapping(
        calico.get("calico_ipam"), f"{key}.calico_ipam", {"assign_ipv4", "assign_ipv6"}
    )
    if ipam.get("assign_ipv4", True) is not True or ipam.get("assign_ipv6", False) is not False:
        raise reader.fail(
            f"{key}.calico_ipam", "only assign_ipv4: true, assign_ipv6: false is supported"
        )


def _palette_ipam_type(reader: FieldReader, calico: dict[str, Any], key: str) -> None:
    if reader.string(calico.get("ipamType"), f"{key}.ipamType") not in (None, "calico-ipam"):
        raise reader.fail(f"{key}.ipamType", "only calico-ipam is supported by this pack")


def _palette_microk8s(reader: FieldReader, calico: dict[str, Any], key: str) -> None:
    if str(calico.get("microk8s", "false")).lower() != "false":
        raise reader.fail(f"{key}.microk8s", "microk8s is not supported by this pack")


def _palette_cidr(
    reader: FieldReader, calico: dict[str, Any], node_env: dict[str, str], key: str
) -> str | None:
    """The pool CIDR: calicoNetworkCIDR, or env.calicoNode.CALICO_IPV4POOL_CIDR (popped
    from ``node_env``); both must agree."""
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
    return cidr


# Env names that decide the datastore, the IP pool or the datastore credentials, on
# every Calico workload (calico-node, calico-kube-controllers): the values own them,
# so no env map may set them.  Calico reads most under several spellings
# (libcalico-go apiconfig takes a CALICO_ prefix too; Felix has FELIX_DATASTORETYPE,
# FELIX_ETCD*).  IP_AUTODETECTION_METHOD is the exception: Palette profiles set it
# through env, once.
OWNED_ENV = {
    "CALICO_IPV4POOL_IPIP": "set it with encapsulationType/encapsulationMode instead",
    "CALICO_IPV4POOL_VXLAN": "set it with encapsulationType/encapsulationMode instead",
    "CALICO_IPV4POOL_CIDR": "set it with calicoNetworkCIDR instead",
    "CALICO_IPV4POOL_BLOCK_SIZE": "set it with blockSize instead",
    "ETCD_ENDPOINTS": "set it with etcdEndpoints instead",
    "CALICO_ETCD_ENDPOINTS": "set it with etcdEndpoints instead",
}
_DATASTORE_NAMES = {"DATASTORE_TYPE", "CALICO_DATASTORE_TYPE", "FELIX_DATASTORETYPE"}
_POOL = ("CALICO_IPV4POOL_", "CALICO_IPV6POOL_")  # NO_DEFAULT_POOLS: deny_no_default_pools
_CREDENTIALS = (
    "ETCD_",
    "CALICO_ETCD_",
    "FELIX_ETCD",
    "KUBECONFIG",
    "CALICO_KUBECONFIG",
    "K8S_API_",
    "K8S_CERT_FILE",
    "K8S_KEY_FILE",
    "K8S_CA_FILE",
    "K8S_INSECURE_SKIP_TLS_VERIFY",
    "CALICO_K8S_API_",
)
_CREDENTIALS_HOW = (
    "is a datastore connection or credential setting, which the datastore component sets"
    " (datastore: kubernetes|etcd); key material belongs in the calico-etcd-secrets Secret,"
    " delivered outside Git"
)


def owned_env(name: str, value: str, datastore: str) -> str | None:
    """Why ``name`` may not be set through an env map, or ``None`` when it may."""
    if name in OWNED_ENV:
        return OWNED_ENV[name]
    if name in _DATASTORE_NAMES:
        said = "etcd" if value.lower().startswith("etcd") else value
        if said != datastore:
            return f"{value!r} contradicts datastore: {datastore}; set it with datastore instead"
        return "set it with datastore instead"
    if name.startswith(_POOL):
        return (
            "the IP pool is set by calicoNetworkCIDR, blockSize and"
            " encapsulationType/encapsulationMode, not by env"
        )
    if name.startswith(_CREDENTIALS):
        return _CREDENTIALS_HOW
    return None


def _check_consistency(reader: FieldReader, values: Values, key: str) -> None:
    for workload, env in (
        ("calicoNode", values.node_env),
        ("calicoKubeControllers", values.controllers_env),
    ):
        for name, value in env:
            why = owned_env(name, value, values.datastore)
            if why is not None:
                raise reader.fail(f"{key}.env.{workload}.{name}", why)
    for name, _ in values.node_env:
        if name == "IP_AUTODETECTION_METHOD" and values.ip_autodetection_method:
            raise reader.fail(
                f"{key}.env.calicoNode.{name}", "set it once: ipAutodetectionMethod sets it too"
            )
    if values.etcd_endpoints is not None and values.datastore != "etcd":
        raise reader.fail(f"{key}.etcdEndpoints", "is only used with datastore: etcd")


def _endpoints(reader: FieldReader, raw: object, key: str) -> str | None:
    value = reader.string(raw, key)
    if value is None:
        return None
    for url in value.split(","):
        match = _ETCD_URL.fullmatch(url.strip())
        if not match:
            raise reader.fail(key, f"{url.strip()!r} is not an etcd URL like https://10.0.0.5:2379")
        if match["port"] is not None and not 1 <= int(match["port"]) <= 65535:
            raise reader.fail(key, f"{url.strip()!r}: port {match['port']} is outside 1-65535")
    return value


def _mtu(reader: FieldReader, raw: object, key: str) -> int | None:
    value = reader.integer(raw, key, 0, 65535)
    if value is not None and 0 < value < 576:
        raise reader.fail(key, f"{value} is below the IPv4 minimum of 576 (0 means auto-detect)")
    return value


def _autodetect(reader: FieldReader, raw: object, key: str) -> str | None:
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
    reader: FieldReader, raw: object, key: str, pattern: re.Pattern[str], what: str
) -> str | None:
    value = reader.string(raw, key)
    if value is not None and not pattern.match(value):
        raise reader.fail(key, f"{value!r} is not {what}")
    return value
