"""What a reviewer checks first in a cluster's diff: its Calico settings and its gate verdict.

``summarise`` reads the settings from the rendered objects themselves (the
calico-node DaemonSet's env and image, the calico-config ConfigMap), not from
the cluster file, so the table shows what would be deployed: encapsulation and
its mode, the IPv4 pool CIDR against the cluster's podCIDR, the veth MTU, the
datastore and the Calico version.  A setting that changed shows ``old -> new``.
The verdict is the gate's on the new render: ``pass``, ``pass, 2 warnings`` or
``FAIL: 3 failures``, with the messages; a cluster that was not gated (removed,
or no verdict asked for) shows ``-``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.model.resource import Body
from pipeline.model.results import CheckResult

COLUMNS = ("encapsulation", "mode", "pool CIDR", "podCIDR", "MTU", "datastore", "Calico")
UNSET = "(unset)"
MESSAGES_SHOWN = 10  # per cluster, failures first


@dataclass(frozen=True)
class Verdict:
    """The gate's verdict on one cluster's new render."""

    failures: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @classmethod
    def of(cls, results: Sequence[CheckResult]) -> Verdict:
        return cls(
            tuple(r.msg for result in results for r in result.failures),
            tuple(r.msg for result in results for r in result.warnings),
        )

    @property
    def text(self) -> str:
        """``pass``, ``pass, 1 warning``, ``FAIL: 2 failures, 1 warning``."""
        parts = [_count(len(self.failures), "failure")] if self.failures else []
        if self.warnings:
            parts.append(_count(len(self.warnings), "warning"))
        if self.failures:
            return "FAIL: " + ", ".join(parts)
        return ", ".join(["pass", *parts])


@dataclass(frozen=True)
class ClusterSummary:
    """One row of the table: the settings (column -> shown value) and the verdict."""

    cluster: str
    settings: dict[str, str]
    verdict: Verdict | None = None

    @property
    def gate(self) -> str:
        return self.verdict.text if self.verdict is not None else "-"

    def messages(self) -> list[str]:
        """The verdict's failures then warnings, at most ``MESSAGES_SHOWN``, then a count."""
        if self.verdict is None:
            return []
        found = [f"failure: {m}" for m in self.verdict.failures]
        found += [f"warning: {m}" for m in self.verdict.warnings]
        more = len(found) - MESSAGES_SHOWN
        return found[:MESSAGES_SHOWN] + ([f"... and {more} more"] if more > 0 else [])

    def as_data(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(self.settings)
        if self.verdict is not None:
            data["gate"] = {
                "verdict": "fail" if self.verdict.failures else "pass",
                "failures": list(self.verdict.failures),
                "warnings": list(self.verdict.warnings),
            }
        return data


def summarise(
    cluster: str,
    old: Sequence[Body] | None,
    new: Sequence[Body] | None,
    pod_cidr: str | None,
    verdict: Verdict | None = None,
) -> ClusterSummary:
    """The row of ``cluster``: the new render's settings (the old one's when it is removed),
    ``old -> new`` where they differ; ``pod_cidr`` is the cluster file's."""
    after = settings(new, pod_cidr) if new is not None else None
    before = settings(old, pod_cidr) if old is not None else None
    shown = after or before or {}
    if before is not None and after is not None:
        shown = {  # podCIDR is the cluster file's: the new side says whether the pool matches
            k: v if before[k] == v or k == "podCIDR" else f"{before[k]} -> {v}"
            for k, v in after.items()
        }
    return ClusterSummary(cluster, shown, verdict)


def settings(bodies: Sequence[Body], pod_cidr: str | None) -> dict[str, str]:
    """The columns' values in one render."""
    node = _find(bodies, "DaemonSet", "calico-node")
    config = _find(bodies, "ConfigMap", "calico-config")
    container = _container(node, "calico-node")
    env = {
        e["name"]: e.get("value")
        for e in _list(container.get("env"))
        if isinstance(e, dict) and isinstance(e.get("name"), str)
    }
    ipip, vxlan = env.get("CALICO_IPV4POOL_IPIP"), env.get("CALICO_IPV4POOL_VXLAN")
    if ipip not in (None, "Never"):
        encapsulation, mode = "IPIP", str(ipip)
    elif vxlan not in (None, "Never"):
        encapsulation, mode = "VXLAN", str(vxlan)
    else:
        encapsulation, mode = "none", "Never" if ipip or vxlan else UNSET
    pool = _text(env.get("CALICO_IPV4POOL_CIDR"))
    data = _mapping(config.get("data"))
    mtu = _text(data.get("veth_mtu"))
    image = container.get("image")
    version = image.rpartition(":")[2] if isinstance(image, str) and ":" in image else UNSET
    pod = pod_cidr or UNSET
    return {
        "encapsulation": encapsulation,
        "mode": mode,
        "pool CIDR": pool,
        "podCIDR": pod if pool in (pod, UNSET) else f"{pod} (differs)",
        "MTU": f"{mtu} (auto)" if mtu == "0" else mtu,
        "datastore": _text(env.get("DATASTORE_TYPE", "etcd" if "ETCD_ENDPOINTS" in env else None)),
        "Calico": version,
    }


def _find(bodies: Sequence[Body], kind: str, name: str) -> Body:
    for body in bodies:
        meta = _mapping(body.get("metadata"))
        if body.get("kind") == kind and meta.get("name") == name:
            return body
    return {}


def _container(body: Body, name: str) -> dict[str, Any]:
    pod = _mapping(_mapping(_mapping(body.get("spec")).get("template")).get("spec"))
    for container in _list(pod.get("containers")):
        if isinstance(container, dict) and container.get("name") == name:
            return container
    return {}


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _text(value: Any) -> str:
    return UNSET if value is None else str(value)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
