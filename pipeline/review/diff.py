"""Diff two fleet renders resource by resource, semantically, with Calico-aware notes.

``diff_trees`` compares parsed objects, not text. Key order never matters, and
lists that Kubernetes merges by a key (containers, env, volumes, ...) are matched
by that key, so a moved entry is not a change. A resource whose only differences
are such moves counts as unchanged. For each resource that did change, a
``Change`` carries the unified diff of ``render.dump`` of both sides (what the
deploy repo holds), the semantic field paths that changed, and notes for
reviewers about Calico settings that do not act the way the diff suggests.

Secret values (``data``, ``stringData`` and the last-applied annotation, which
repeats them) are shown as ``*****``, as ``flux diff`` does, on both sides; a
changed value still shows as a ``-``/``+`` pair and in ``paths``.

The formats live in ``pipeline.review.format`` and are re-exported here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.errors import InputError
from pipeline.kustomize.output import sort_key
from pipeline.model.resource import Body, ResourceId
from pipeline.review.summary import ClusterSummary
from pipeline.review.unified import unified

KINDS = ("added", "changed", "removed")


@dataclass(frozen=True)
class Change:
    """One resource that differs between the old and the new render of a cluster.

    ``resource`` is ``Kind/namespace/name`` (``Kind/name`` when it has no
    namespace); ``kind`` is ``added``, ``changed`` or ``removed``. ``lines`` is a
    unified diff (``---``/``+++`` labels ``<cluster> <resource>``, 3 lines of
    context) with Secret values masked. ``paths`` are the changed fields
    (empty for added and removed resources); ``notes`` are for reviewers.
    """

    cluster: str
    resource: str
    kind: str
    lines: tuple[str, ...]
    paths: tuple[str, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class FleetDiff:
    """Every change of a fleet, by cluster name, then in review order within a cluster
    (``review_key``); ``summaries``: the settings and verdict of each changed cluster,
    when the caller had them (``netpack diff``)."""

    changes: tuple[Change, ...]
    summaries: tuple[ClusterSummary, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.changes

    def by_cluster(self) -> dict[str, dict[str, int]]:
        """``{cluster: {"added": n, "changed": n, "removed": n}}`` for each cluster with changes."""
        counts: dict[str, dict[str, int]] = {}
        for change in self.changes:
            counts.setdefault(change.cluster, dict.fromkeys(KINDS, 0))[change.kind] += 1
        return counts

    def total(self) -> dict[str, int]:
        """The fleet's ``{"added": n, "changed": n, "removed": n}``."""
        total = dict.fromkeys(KINDS, 0)
        for change in self.changes:
            total[change.kind] += 1
        return total

    def counts(self) -> dict[str, dict[str, int]]:
        """``by_cluster()`` plus the key ``"total"``.

        A cluster named ``total`` is shadowed here; ``by_cluster`` and ``total``
        keep the two apart.
        """
        return {**self.by_cluster(), "total": self.total()}


def exit_code(diff: FleetDiff) -> int:
    """0 when nothing changed, 1 when something did, as ``flux diff`` exits.

    Errors (``flux diff``'s >1) are ``NetpackError``s, mapped by the CLI's handler.
    """
    return 0 if diff.empty else 1


# --- Trees ------------------------------------------------------------------


def diff_trees(old: Mapping[str, Sequence[Body]], new: Mapping[str, Sequence[Body]]) -> FleetDiff:
    """Diff two fleets, each a mapping of cluster name to that cluster's objects.

    A cluster only in ``new`` has all its resources added, one only in ``old``
    all removed. ``InputError`` if one side of a cluster holds two objects with
    the same identity (API group, kind, namespace, name: the version is not part
    of it, so ``v1beta1`` -> ``v1`` is a change), or an object ``render.dump``
    cannot print.
    """
    changes: list[Change] = []
    for cluster in sorted(old.keys() | new.keys()):
        before, after = old.get(cluster, ()), new.get(cluster, ())
        # The cheap digest first: Python's == in C, which also short-cuts on shared
        # sub-objects. The same list in the same order means nothing to index.
        if list(before) != list(after):
            changes.extend(_diff_cluster(cluster, before, after))
    return FleetDiff(tuple(changes))


Identity = tuple[str, str, str, str]


def _diff_cluster(cluster: str, before: Sequence[Body], after: Sequence[Body]) -> list[Change]:
    olds, news = _index(cluster, before, "old"), _index(cluster, after, "new")
    found: list[tuple[tuple[int, tuple[int, str, str]], Change]] = []
    for key, body in news.items():
        prior = olds.get(key)
        # == ignores key order. It also takes True == 1 and 1 == 1.0; kustomize
        # prints 1.0 as 1, and no Kubernetes field takes both a bool and a number.
        if prior is not None and prior == body:
            continue
        paths = changed_paths(prior, body) if prior is not None else []
        if prior is None or paths:  # no paths: only keyed-list entries moved
            rid = ResourceId.of(body)
            found.append((review_key(rid), _change(cluster, rid, prior, body, paths)))
    for key in olds.keys() - news.keys():
        rid = ResourceId.of(olds[key])
        found.append((review_key(rid), _change(cluster, rid, olds[key], None, ())))
    found.sort(key=lambda item: item[0])
    return [change for _, change in found]


# What a reviewer reads first: Calico's workloads and their configuration, then the
# rest, CRDs last (20+ of them, rarely what a change is about).
_REVIEW_RANK = {"DaemonSet": 0, "Deployment": 1, "ConfigMap": 2, "Secret": 3}
OTHER_RANK = 4
CRD_RANK = 5


def review_rank(kind: str) -> int:
    """0 DaemonSet, 1 Deployment, 2 ConfigMap, 3 Secret, 4 any other kind, 5 a CRD."""
    return CRD_RANK if kind == "CustomResourceDefinition" else _REVIEW_RANK.get(kind, OTHER_RANK)


def review_key(rid: ResourceId) -> tuple[int, tuple[int, str, str]]:
    """Review rank, then kustomize's order."""
    return review_rank(rid.kind), sort_key(rid)


def _index(cluster: str, bodies: Sequence[Body], side: str) -> dict[Identity, Body]:
    index: dict[Identity, Body] = {}
    for body in bodies:
        key = _identity(body)
        if key in index:
            first, second = ResourceId.of(index[key]), ResourceId.of(body)
            raise InputError(
                f"two objects in the {side} render have this identity "
                f"({first.api_version} and {second.api_version})",
                operation=f"diff cluster {cluster}",
                resource=label(second),
            )
        index[key] = body
    return index


def _identity(body: Body) -> Identity:
    """API group, kind, namespace, name: ``ResourceId.of`` without the version, but cheaper."""
    api, kind, meta = body.get("apiVersion"), body.get("kind"), body.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    namespace, name = meta.get("namespace"), meta.get("name")
    return (
        api.rpartition("/")[0] if isinstance(api, str) else "",
        kind if isinstance(kind, str) else "",
        namespace if isinstance(namespace, str) else "",
        name if isinstance(name, str) else "",
    )


def label(rid: ResourceId) -> str:
    """``Kind/namespace/name``, or ``Kind/name`` for an object without a namespace."""
    return "/".join(p for p in (rid.kind, rid.namespace, rid.name) if p)


def _change(
    cluster: str, rid: ResourceId, old: Body | None, new: Body | None, paths: Sequence[str]
) -> Change:
    kind = "added" if old is None else "removed" if new is None else "changed"
    notes = calico_notes(old, new) if old is not None and new is not None else ()
    return Change(
        cluster=cluster,
        resource=label(rid),
        kind=kind,
        lines=unified(f"{cluster} {label(rid)}", old, new),
        paths=tuple(paths),
        notes=notes,
    )


# --- Semantic paths ---------------------------------------------------------

# Lists Kubernetes merges by key (the patchMergeKey of k8s.io/api/core/v1 types.go,
# e.g. VolumeMount's is mountPath, not name), by field name. Each option lists the
# key fields; the first is required, the others take the API default. The first
# option that identifies every entry on both sides uniquely is used; otherwise
# the list is compared by position.
_LIST_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "containers": (("name",),),
    "initContainers": (("name",),),
    "ephemeralContainers": (("name",),),
    "env": (("name",),),
    "volumes": (("name",),),
    "volumeMounts": (("mountPath",),),
    "volumeDevices": (("devicePath",),),
    "ports": (("name",), ("containerPort", "protocol"), ("port", "protocol")),
    "imagePullSecrets": (("name",),),
    "hostAliases": (("ip",),),
    "readinessGates": (("conditionType",),),
    "resourceClaims": (("name",),),
    "webhooks": (("name",),),
}
_KEY_DEFAULTS = {"protocol": "TCP"}
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_/:-]+\Z")


def changed_paths(old: Any, new: Any) -> list[str]:
    """The semantic paths where ``old`` and ``new`` differ, e.g. ``spec.containers[app].image``.

    An empty list means they are equal up to key order and the order of keyed lists.
    """
    out: list[str] = []
    _walk(old, new, "", "", out)
    return out


def _walk(old: Any, new: Any, path: str, field: str, out: list[str]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys(), key=str):
            sub = _join(path, key)
            if key in old and key in new:
                _walk(old[key], new[key], sub, key if isinstance(key, str) else "", out)
            else:
                out.append(sub)
    elif isinstance(old, list) and isinstance(new, list):
        _walk_list(old, new, path, field, out)
    elif old != new or (type(old) is bool) != (type(new) is bool):
        out.append(path or "(document)")


def _walk_list(old: list[Any], new: list[Any], path: str, field: str, out: list[str]) -> None:
    fields = _list_key(field, old, new)
    if fields is None:
        if len(old) != len(new):
            out.append(path)
            return
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            _walk(a, b, f"{path}[{index}]", "", out)
        return
    olds = {_entry_key(entry, fields): entry for entry in old}
    news = {_entry_key(entry, fields): entry for entry in new}
    for key, entry in news.items():
        if key in olds:
            _walk(olds[key], entry, f"{path}[{key}]", "", out)
        else:
            out.append(f"{path}[{key}]")
    out.extend(f"{path}[{key}]" for key in olds if key not in news)


def _list_key(field: str, *lists: list[Any]) -> tuple[str, ...] | None:
    for fields in _LIST_KEYS.get(field, ()):
        if all(_keyable(entries, fields) for entries in lists):
            return fields
    return None


def _keyable(entries: list[Any], fields: tuple[str, ...]) -> bool:
    keys = set()
    for entry in entries:
        if not isinstance(entry, dict):
            return False
        value = entry.get(fields[0])
        if not isinstance(value, str | int) or isinstance(value, bool):
            return False
        keys.add(_entry_key(entry, fields))
    return len(keys) == len(entries)


def _entry_key(entry: dict[str, Any], fields: tuple[str, ...]) -> str:
    return "/".join(str(entry.get(f, _KEY_DEFAULTS.get(f, ""))) for f in fields)


def _join(path: str, key: object) -> str:
    if isinstance(key, str) and _PLAIN_KEY.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(str(key))}]"


# --- Calico notes (CALICO.md section 4 MTU and section 5 notes) -------------------

_ENCAPSULATION = frozenset({
    "CALICO_IPV4POOL_IPIP", "CALICO_IPV4POOL_VXLAN", "CALICO_IPV6POOL_VXLAN",
    "CALICO_NETWORKING_BACKEND",
})  # fmt: skip
_FELIX_MTU = re.compile(r"FELIX_\w*MTU(V6)?\Z")


def calico_notes(old: Body, new: Body) -> tuple[str, ...]:
    """Reviewer notes for a changed calico-node DaemonSet or calico-config ConfigMap."""
    rid = ResourceId.of(new)
    if (rid.kind, rid.name) == ("DaemonSet", "calico-node"):
        return _node_notes(_node_env(old), _node_env(new))
    if (rid.kind, rid.name) == ("ConfigMap", "calico-config"):
        return _config_notes(_mapping(old.get("data")), _mapping(new.get("data")))
    return ()


def _node_notes(old: dict[str, Any], new: dict[str, Any]) -> tuple[str, ...]:
    changed = [name for name in sorted(old.keys() | new.keys()) if old.get(name) != new.get(name)]

    def shown(names: list[str]) -> str:
        return ", ".join(f"{n} {_env_text(old.get(n))} -> {_env_text(new.get(n))}" for n in names)

    pool = [n for n in changed if n.startswith(("CALICO_IPV4POOL_", "CALICO_IPV6POOL_"))]
    encapsulation = [n for n in changed if n in _ENCAPSULATION]
    mtu = [n for n in changed if _FELIX_MTU.match(n)]
    notes = []
    if pool:
        families = sorted({n[len("CALICO_") : len("CALICO_IPV4")].lower() for n in pool})
        notes.append(_pool_note(shown(pool), [f"default-{f}-ippool" for f in families]))
    if encapsulation:
        notes.append(_ENCAPSULATION_NOTE.format(shown(encapsulation)))
    if mtu:
        notes.append(_MTU_NOTE.format(shown(mtu)))
    return tuple(notes)


def _config_notes(old: dict[str, Any], new: dict[str, Any]) -> tuple[str, ...]:
    notes = []
    for key, template in (("calico_backend", _ENCAPSULATION_NOTE), ("veth_mtu", _MTU_NOTE)):
        if old.get(key) != new.get(key):
            change = f"calico-config {key} {_text(old.get(key))} -> {_text(new.get(key))}"
            notes.append(template.format(change))
    return tuple(notes)


def _pool_note(change: str, pools: list[str]) -> str:
    edits = " / ".join(f"kubectl edit ippool {pool}" for pool in pools)
    subject = f"IPPool {pools[0]} keeps its" if len(pools) == 1 else "IPPools keep their"
    return (
        f"{change}: IP pool settings are install-time only. On an existing cluster the "
        f"{subject} CIDR, encapsulation and block size; edit or recreate the IPPool "
        f"(calicoctl, or {edits}) for the change to take effect (projectcalico/calico#962)."
    )


_ENCAPSULATION_NOTE = (
    "{}: changes the encapsulation or networking backend; pod traffic between nodes is "
    "disrupted while calico-node rolls out node by node."
)
_MTU_NOTE = (
    "{}: the new MTU reaches only pods created after calico-node restarts on their node; "
    "restart workloads to pick it up."
)


def _node_env(body: Body) -> dict[str, Any]:
    """The calico-node container's env as ``{name: entry without its name}``; later entries win."""
    pod = _mapping(_mapping(_mapping(body.get("spec")).get("template")).get("spec"))
    for container in _list(pod.get("containers")):
        if isinstance(container, dict) and container.get("name") == "calico-node":
            return {
                entry["name"]: {k: v for k, v in entry.items() if k != "name"}
                for entry in _list(container.get("env"))
                if isinstance(entry, dict) and isinstance(entry.get("name"), str)
            }
    return {}


def _env_text(entry: Any) -> str:
    if entry is None:
        return "(unset)"
    if "valueFrom" in entry:
        return "(valueFrom)"
    return _text(entry.get("value"))


def _text(value: Any) -> str:
    return "(unset)" if value is None else value if isinstance(value, str) else json.dumps(value)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
