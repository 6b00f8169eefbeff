"""A JSON Schema of cluster files, for editors (yaml-language-server) and other tools.

Built from the keys, enums and patterns that ``pipeline.values.cluster`` and
``pipeline.values.pack`` accept, so the two cannot drift apart: the repository's
``schemas/cluster.schema.json`` is this function's output (a test compares), and
``python -m pipeline.values.schema > schemas/cluster.schema.json`` writes it anew.
The schema checks keys, types, enums and formats; what needs more than one value
(the pool CIDR against the podCIDR, etcdEndpoints without the etcd datastore) is
netpack's and the gate's job.
"""

from __future__ import annotations

import json
from typing import Any

from pipeline.values import cluster, pack

_IPV4_CIDR = (
    r"^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
    r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])/([0-9]|[12][0-9]|3[0-2])$"
)
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


def _object(properties: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "additionalProperties": False, **more}


def _string(description: str = "", **more: Any) -> dict[str, Any]:
    return {"type": "string", **({"description": description} if description else {}), **more}


def _whole(low: int, high: int, description: str) -> dict[str, Any]:
    """A whole number in ``low..high``, as YAML number or digit string (both are read)."""
    return {
        "description": description,
        "anyOf": [
            {"type": "integer", "minimum": low, "maximum": high},
            {"type": "string", "pattern": "^[0-9]+$"},
        ],
    }


def _env(description: str, refused: tuple[str, ...] = ()) -> dict[str, Any]:
    names: dict[str, Any] = {"pattern": _ENV_NAME}
    if refused:
        names["not"] = {"enum": list(refused)}
    return {
        "type": "object",
        "description": description,
        "propertyNames": names,
        "additionalProperties": {
            "anyOf": [{"type": "string", "minLength": 1}, {"type": ["integer", "boolean"]}]
        },
    }


def _cidr(description: str) -> dict[str, Any]:
    return _string(description, pattern=_IPV4_CIDR)


def _netpack_calico() -> dict[str, Any]:
    about = pack.VALUE_KEYS
    owned = tuple(sorted(pack.OWNED_ENV))
    properties = {
        "encapsulationType": {
            "description": about["encapsulationType"],
            "enum": list(pack.ENCAPSULATION_TYPES),
        },
        "encapsulationMode": {
            "description": about["encapsulationMode"],
            "enum": list(pack.ENCAPSULATION_MODES),
        },
        "calicoNetworkCIDR": _cidr(about["calicoNetworkCIDR"]),
        "datastore": {"description": about["datastore"], "enum": list(pack.DATASTORES)},
        "etcdEndpoints": _string(
            about["etcdEndpoints"],
            pattern=r"^\s*https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?\s*"
            r"(,\s*https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?\s*)*$",
        ),
        "mtu": {
            "description": about["mtu"],
            "anyOf": [
                {"type": "integer", "enum": [0]},
                {"type": "integer", "minimum": 576, "maximum": 65535},
                {"type": "string", "pattern": "^[0-9]+$"},
            ],
        },
        "blockSize": _whole(20, 32, about["blockSize"]),
        "ipAutodetectionMethod": _string(
            about["ipAutodetectionMethod"],
            pattern=r"^(first-found|kubernetes-internal-ip"
            r"|(can-reach|interface|skip-interface|cidr)=.+)$",
        ),
        "images": _object(
            {
                "registry": _string(pattern=pack._REGISTRY.pattern),
                "tag": _string(pattern=pack._IMAGE_TAG.pattern),
            },
            description=about["images"],
        ),
        "env": _object(
            {
                "calicoNode": _env("extra calico-node env", owned),
                "calicoKubeControllers": _env("extra calico-kube-controllers env"),
            },
            description=about["env"],
        ),
    }
    assert set(properties) == set(pack.VALUE_KEYS)
    return _object(properties, description="netpack's Calico values")


def _palette_calico() -> dict[str, Any]:
    refused = tuple(sorted(set(pack.OWNED_ENV) - {"CALICO_IPV4POOL_CIDR"}))
    properties = {
        "encapsulationType": {"enum": list(pack.ENCAPSULATION_TYPES)},
        "encapsulationMode": {"enum": list(pack.ENCAPSULATION_MODES)},
        "calicoNetworkCIDR": _cidr("the IPv4 pool CIDR; must equal podCIDR"),
        "env": _object(
            {
                "calicoNode": _env("calico-node env (CALICO_IPV4POOL_CIDR: the pool)", refused),
                "calicoKubeControllers": _env("calico-kube-controllers env"),
            }
        ),
        "images": _object(
            {
                name: _string(f"the {name} image reference")
                for name in ("cni", "node", "kubecontroller")
            }
        ),
        "ipamType": {"enum": ["calico-ipam"]},
        "calico_ipam": _object({"assign_ipv4": {"const": True}, "assign_ipv6": {"const": False}}),
        "microk8s": {"enum": [False, "false", "False", "FALSE"]},
    }
    assert set(properties) == set(pack._PALETTE)
    return _object(properties, description="values pasted from a Palette cluster profile")


def cluster_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a cluster file."""
    kubernetes = {
        "version": _string(
            'the Kubernetes minor, quoted: "1.32"', pattern=cluster._K8S_VERSION.pattern
        ),
        "podCIDR": _cidr("the cluster's pod CIDR (IPv4)"),
        "serviceClusterIpRange": _cidr("the service CIDR (IPv4)"),
    }
    assert set(kubernetes) == cluster._K8S
    top = {
        "name": _string("a DNS label, unique in the fleet", pattern=cluster._NAME.pattern),
        "cloud": _string("picks overlays/<cloud> unless overlay is set", minLength=1),
        "overlay": _string("an overlay directory, relative to the cluster file", minLength=1),
        "kubernetes": _object(kubernetes, required=sorted(kubernetes)),
        "values": _object(
            {
                "calico": _netpack_calico(),
                "manifests": _object({"calico": _palette_calico()}),
            },
            description="netpack's calico.* keys, or Palette's manifests.calico.*, not both",
            **{"not": {"required": ["calico", "manifests"]}},
        ),
        "doctor": _object(
            {"context": _string("the kubeconfig context netpack doctor reads", minLength=1)},
            description="how netpack doctor reaches the live cluster",
        ),
    }
    assert set(top) == cluster._TOP
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "netpack cluster file",
        "description": "One cluster of the fleet: its cloud, Kubernetes layer and Calico values.",
        **_object(top, required=["name", "cloud", "kubernetes"]),
    }


def schema_text() -> str:
    """``cluster_schema`` as the bytes of ``schemas/cluster.schema.json``."""
    return json.dumps(cluster_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(schema_text())
