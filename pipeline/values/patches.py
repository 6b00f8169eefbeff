"""Pack values become RFC 6902 operations, applied after the overlays.

One mechanism carries every change: each value key turns into one ``Patch``
(guarded by ``test`` operations, labelled ``values <key>`` and attributed to the
cluster file), computed against the resources as the overlay left them and
applied at once, so the next key sees the result.  ``value_patches`` returns
them so a reviewer can read the effective operations (``netpack ops``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from pipeline.errors import ValuesError
from pipeline.kustomize.patch import Patch, Target, apply_patch
from pipeline.model.cluster import Cluster, Values
from pipeline.model.resource import Body, Resource

NODE = Target(kind="DaemonSet", name="calico-node", namespace="kube-system")
CONTROLLERS = Target(kind="Deployment", name="calico-kube-controllers", namespace="kube-system")
CONFIG = Target(kind="ConfigMap", name="calico-config", namespace="kube-system")
POD = "/spec/template/spec"
Op = dict[str, Any]
Step = Callable[[list[Resource]], tuple[Target, list[Op]]]

# The one map from a value key to what it sets in the render: a calico-node env var or
# a calico-config data key.  The steps below set them; the gate's fix hints name the
# key instead of the rendered name (``pipeline.values.hints``).  Every other env var of
# calico-node is ``calico.env.calicoNode.<NAME>``.
RENDERED = {
    "calico.calicoNetworkCIDR": "CALICO_IPV4POOL_CIDR",
    "calico.blockSize": "CALICO_IPV4POOL_BLOCK_SIZE",
    "calico.ipAutodetectionMethod": "IP_AUTODETECTION_METHOD",
    "calico.mtu": "veth_mtu",
    "calico.etcdEndpoints": "etcd_endpoints",
}


def set_values(resources: list[Resource], cluster: Cluster) -> tuple[list[Resource], list[Patch]]:
    """Apply every value of ``cluster``; returns the resources and the patches applied."""
    applied: list[Patch] = []
    for key, step in _steps(cluster.values):
        try:
            target, ops = step(resources)
        except ValuesError as err:
            err.file = err.file or cluster.file
            raise
        if not ops:
            continue
        patch = Patch(ops=tuple(ops), target=target, file=cluster.file, label=f"values {key}")
        resources = apply_patch(resources, patch)
        applied.append(patch)
    return resources, applied


def _steps(values: Values) -> Iterator[tuple[str, Step]]:
    """The value keys that are set, in a fixed order, each with its op builder."""
    if values.encapsulation_type or values.encapsulation_mode:
        key = (
            "calico.encapsulationType" if values.encapsulation_type else "calico.encapsulationMode"
        )
        yield key, lambda res: (NODE, _encapsulation(res, values, key))
    for key, value in (
        ("calico.calicoNetworkCIDR", values.cidr),
        ("calico.blockSize", _text(values.block_size)),
        ("calico.ipAutodetectionMethod", values.ip_autodetection_method),
    ):
        if value is not None:
            yield key, _env_step(NODE, "calico-node", key, RENDERED[key], value)
    for name, value in values.node_env:
        key = f"calico.env.calicoNode.{name}"
        yield key, _env_step(NODE, "calico-node", key, name, value)
    for name, value in values.controllers_env:
        yield (
            f"calico.env.calicoKubeControllers.{name}",
            _env_step(
                CONTROLLERS,
                "calico-kube-controllers",
                f"calico.env.calicoKubeControllers.{name}",
                name,
                value,
            ),
        )
    if values.mtu is not None:
        yield "calico.mtu", _config_step("calico.mtu", str(values.mtu))
    if values.etcd_endpoints is not None:
        yield "calico.etcdEndpoints", _config_step("calico.etcdEndpoints", values.etcd_endpoints)
    if values.image_registry or values.image_tag or values.images:
        for target in (NODE, CONTROLLERS):
            yield "calico.images", _image_step(target, values)


def _text(value: int | None) -> str | None:
    return None if value is None else str(value)


def _find(resources: list[Resource], target: Target, key: str) -> Body:
    for res in resources:
        if target.matches(res):
            return res.body
    raise ValuesError(f"the render has no {target} to set it on", operation=key)


def _container(body: Body, name: str, key: str, target: Target) -> tuple[str, Body, list[Op]]:
    """Path of container ``name`` in the pod template, the container, and a guard op."""
    containers = body.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or []
    for i, container in enumerate(containers):
        if isinstance(container, dict) and container.get("name") == name:
            path = f"{POD}/containers/{i}"
            return path, container, [{"op": "test", "path": f"{path}/name", "value": name}]
    raise ValuesError(f"{target} has no container {name!r}", operation=key)


def _env_ops(
    body: Body, container: str, key: str, target: Target, name: str, value: str
) -> list[Op]:
    path, spec, ops = _container(body, container, key, target)
    env = spec.get("env")
    if env is None:
        return [
            *ops,
            {"op": "add", "path": f"{path}/env", "value": [{"name": name, "value": value}]},
        ]
    for i, entry in enumerate(env):
        if isinstance(entry, dict) and entry.get("name") == name:
            at = f"{path}/env/{i}"
            ops.append({"op": "test", "path": f"{at}/name", "value": name})
            if set(entry) == {"name", "value"}:
                return [*ops, {"op": "replace", "path": f"{at}/value", "value": value}]
            return [*ops, {"op": "replace", "path": at, "value": {"name": name, "value": value}}]
    return [*ops, {"op": "add", "path": f"{path}/env/-", "value": {"name": name, "value": value}}]


def _env_step(target: Target, container: str, key: str, name: str, value: str) -> Step:
    return lambda res: (
        target,
        _env_ops(_find(res, target, key), container, key, target, name, value),
    )


def _env_value(body: Body, container: str, name: str) -> str | None:
    _, spec, _ = _container(body, container, "", NODE)
    for entry in spec.get("env") or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            value = entry.get("value")
            return value if isinstance(value, str) else None
    return None


def _encapsulation(resources: list[Resource], values: Values, key: str) -> list[Op]:
    """IPIP and VXLAN env from encapsulationType/Mode; the other one is set to Never."""
    body = _find(resources, NODE, key)
    kind = values.encapsulation_type or _current_encapsulation(body, key)
    mode = values.encapsulation_mode or "Always"
    other = "CALICO_IPV4POOL_VXLAN" if kind == "CALICO_IPV4POOL_IPIP" else "CALICO_IPV4POOL_IPIP"
    ops = _env_ops(body, "calico-node", key, NODE, kind, mode)
    # Both ops guard the same container; the second guard is redundant but harmless.
    return ops + _env_ops(body, "calico-node", key, NODE, other, "Never")[1:]


def _current_encapsulation(body: Body, key: str) -> str:
    enabled = [
        name
        for name in ("CALICO_IPV4POOL_IPIP", "CALICO_IPV4POOL_VXLAN")
        if (_env_value(body, "calico-node", name) or "Never").lower() not in ("never", "off", "")
    ]
    if len(enabled) != 1:
        raise ValuesError(
            "the overlay enables no single encapsulation; set calico.encapsulationType too",
            operation=key,
        )
    return enabled[0]


def _config_step(key: str, value: str) -> Step:
    data_key = RENDERED[key]

    def step(resources: list[Resource]) -> tuple[Target, list[Op]]:
        body = _find(resources, CONFIG, key)
        if data_key not in (body.get("data") or {}):
            raise ValuesError(f"{CONFIG} has no data key {data_key!r}", operation=key)
        return CONFIG, [{"op": "replace", "path": f"/data/{data_key}", "value": value}]

    return step


def _image_step(target: Target, values: Values) -> Step:
    return lambda res: (target, _image_ops(res, target, values))


def _image_ops(resources: list[Resource], target: Target, values: Values) -> list[Op]:
    body = _find(resources, target, "calico.images")
    pod = body.get("spec", {}).get("template", {}).get("spec", {})
    ops: list[Op] = []
    for field in ("initContainers", "containers"):
        for i, container in enumerate(pod.get(field) or []):
            image = container.get("image") if isinstance(container, dict) else None
            new = _new_image(image, values) if isinstance(image, str) else None
            if new is not None and new != image:
                path = f"{POD}/{field}/{i}"
                ops.append({"op": "test", "path": f"{path}/image", "value": image})
                ops.append({"op": "replace", "path": f"{path}/image", "value": new})
    return ops


def split_image(image: str) -> tuple[str, str, str]:
    """``registry``, ``repository`` and ``tag`` of an image reference (digest kept in tag)."""
    name, at, digest = image.partition("@")
    registry, slash, rest = name.partition("/")
    if not slash or not ("." in registry or ":" in registry or registry == "localhost"):
        registry, rest = "", name
    repo, colon, tag = rest.rpartition(":") if ":" in rest else (rest, "", "")
    if at:
        tag = f"{tag}@{digest}" if colon else f"@{digest}"
    return registry, repo, tag


def _new_image(image: str, values: Values) -> str | None:
    registry, repo, tag = split_image(image)
    if not repo.startswith("calico/"):
        return None
    component = repo.removeprefix("calico/")
    for name, ref in values.images:
        if name == component:
            return ref
    new_registry = values.image_registry or registry
    new_tag = values.image_tag or tag
    prefix = f"{new_registry}/" if new_registry else ""
    return (
        f"{prefix}{repo}:{new_tag}" if not new_tag.startswith("@") else f"{prefix}{repo}{new_tag}"
    )
