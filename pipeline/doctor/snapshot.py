"""A cluster snapshot: the Kubernetes ``v1`` ``List`` that ``kubectl get ... -o json`` writes.

``read_snapshot`` reads one from a file (JSON, or YAML as ``kubectl -o yaml``
writes it); ``parse_snapshot`` checks the parsed document.  Anything that is not
such a List is refused with an ``InputError`` naming the file and the item: a
top level that is not a mapping of ``kind: List``, ``items`` that is not a list,
an item without a string ``kind`` and ``apiVersion`` or without
``metadata.name``, and in the kinds doctor reads a field it reads that has the
wrong JSON type (``SHAPES``: a ``spec`` that is a string, ``conditions`` that are no
list of objects, a count that is no integer).  Items of other kinds are kept and
ignored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.errors import InputError
from pipeline.model.resource import Body, ResourceId
from pipeline.yamlio import parse_documents, read_text

# (apiVersion, kind) of the objects the checks read.
NODE = ("v1", "Node")
POD = ("v1", "Pod")
CONFIG_MAP = ("v1", "ConfigMap")
SECRET = ("v1", "Secret")
EVENT = ("v1", "Event")
DAEMON_SET = ("apps/v1", "DaemonSet")
DEPLOYMENT = ("apps/v1", "Deployment")
IP_POOL = ("crd.projectcalico.org/v1", "IPPool")

# The fields the checks read, and their JSON types, per kind: "a.b" a nested key,
# "a[]" every element of the list a.  Absent fields are fine; present ones must fit.
OBJECT, LIST, INT, TEXT = dict, list, int, str
_POD_SPEC = (
    ("nodeSelector", OBJECT),
    ("tolerations", LIST),
    ("tolerations[]", OBJECT),
    ("volumes", LIST),
    ("volumes[]", OBJECT),
    ("volumes[].secret", OBJECT),
    *(
        pair
        for key in ("containers", "initContainers")
        for pair in (
            (key, LIST),
            (f"{key}[]", OBJECT),
            (f"{key}[].name", TEXT),
            (f"{key}[].image", TEXT),
            (f"{key}[].env", LIST),
            (f"{key}[].env[]", OBJECT),
            (f"{key}[].env[].name", TEXT),
        )
    ),
)
_WORKLOAD = (
    ("metadata.generation", INT),
    ("spec", OBJECT),
    ("spec.selector", OBJECT),
    ("spec.selector.matchLabels", OBJECT),
    ("spec.template", OBJECT),
    ("spec.template.metadata", OBJECT),
    ("spec.template.spec", OBJECT),
    *((f"spec.template.spec.{path}", kind) for path, kind in _POD_SPEC),
    ("status", OBJECT),
    ("status.conditions", LIST),
    ("status.conditions[]", OBJECT),
    ("status.conditions[].type", TEXT),
    *(
        (f"status.{count}", INT)
        for count in (
            "observedGeneration",
            "desiredNumberScheduled",
            "updatedNumberScheduled",
            "numberReady",
            "availableReplicas",
        )
    ),
)
_STATUSES = tuple(
    pair
    for key in ("containerStatuses", "initContainerStatuses")
    for pair in (
        (f"status.{key}", LIST),
        (f"status.{key}[]", OBJECT),
        (f"status.{key}[].name", TEXT),
        (f"status.{key}[].restartCount", INT),
        (f"status.{key}[].state", OBJECT),
        (f"status.{key}[].lastState", OBJECT),
        *(
            pair
            for state in ("state", "lastState")
            for phase in ("waiting", "running", "terminated")
            for pair in (
                (f"status.{key}[].{state}.{phase}", OBJECT),
                (f"status.{key}[].{state}.{phase}.reason", TEXT),
                (f"status.{key}[].{state}.{phase}.exitCode", INT),
            )
        ),
    )
)
SHAPES: dict[tuple[str, str], tuple[tuple[str, type], ...]] = {
    NODE: (
        ("metadata.labels", OBJECT),
        ("spec", OBJECT),
        ("spec.taints", LIST),
        ("spec.taints[]", OBJECT),
        ("spec.podCIDR", TEXT),
        ("spec.podCIDRs", LIST),
        ("spec.podCIDRs[]", TEXT),
        ("status", OBJECT),
        ("status.conditions", LIST),
        ("status.conditions[]", OBJECT),
        ("status.conditions[].type", TEXT),
        ("status.nodeInfo", OBJECT),
    ),
    POD: (
        ("metadata.labels", OBJECT),
        ("spec", OBJECT),
        *((f"spec.{path}", kind) for path, kind in _POD_SPEC),
        ("status", OBJECT),
        ("status.conditions", LIST),
        ("status.conditions[]", OBJECT),
        ("status.conditions[].type", TEXT),
        *_STATUSES,
    ),
    DAEMON_SET: _WORKLOAD,
    DEPLOYMENT: _WORKLOAD,
    CONFIG_MAP: (("data", OBJECT),),
    SECRET: (("data", OBJECT),),
    EVENT: (("involvedObject", OBJECT),),
    IP_POOL: (
        ("spec", OBJECT),
        ("spec.cidr", TEXT),
        ("spec.blockSize", INT),
        ("spec.ipipMode", TEXT),
        ("spec.vxlanMode", TEXT),
    ),
}


class Snapshot:
    """The objects of one cluster, read from ``source`` (a file, or a kubectl context)."""

    def __init__(self, items: list[Body], source: str) -> None:
        self.items = items
        self.source = source

    def of(self, kind: tuple[str, str], namespace: str | None = None) -> list[Body]:
        """The items of ``kind`` (``(apiVersion, kind)``), in ``namespace`` if given, by name."""
        found = [
            item
            for item in self.items
            if (item.get("apiVersion"), item.get("kind")) == kind
            and (namespace is None or meta(item).get("namespace") == namespace)
        ]
        return sorted(found, key=lambda item: (namespace_of(item), name_of(item)))

    def get(self, kind: tuple[str, str], namespace: str, name: str) -> Body | None:
        """The item of ``kind`` named ``name`` in ``namespace`` ("" for cluster scope)."""
        for item in self.of(kind):
            if name_of(item) == name and namespace_of(item) == namespace:
                return item
        return None


def meta(body: Body) -> dict[str, Any]:
    found = body.get("metadata")
    return found if isinstance(found, dict) else {}


def name_of(body: Body) -> str:
    return str(meta(body).get("name", ""))


def namespace_of(body: Body) -> str:
    return str(meta(body).get("namespace") or "")


def object_id(body: Body) -> ResourceId:
    return ResourceId.of(body)


def read_snapshot(path: Path, shown: str | None = None) -> Snapshot:
    """Read and check the snapshot file ``path`` (JSON or YAML)."""
    display = shown or str(path)
    text = read_text(path, display)
    if text.lstrip().startswith(("{", "[")):
        try:
            document: Any = json.loads(text)
        except json.JSONDecodeError as err:
            raise InputError(
                f"line {err.lineno} column {err.colno}: not valid JSON: {err.msg}",
                file=display,
                operation="read snapshot",
            ) from None
    else:
        documents = parse_documents(text, display)
        if len(documents) != 1:
            raise InputError(
                f"holds {len(documents)} YAML documents; a snapshot is one v1 List",
                file=display,
                operation="read snapshot",
            )
        document = documents[0]
    return parse_snapshot(document, display)


def parse_snapshot(document: Any, source: str) -> Snapshot:
    """Check that ``document`` is a ``v1`` ``List`` of objects; the ``Snapshot`` of it."""

    def fail(message: str, where: str = "") -> InputError:
        return InputError(message, file=source, operation=f"read snapshot{where}")

    if not isinstance(document, dict):
        raise fail(f"is {_kind(document)}, not a Kubernetes v1 List (kubectl get -o json)")
    kind, api = document.get("kind"), document.get("apiVersion")
    if kind != "List" or api != "v1":
        raise fail(
            f"is apiVersion {api!r} kind {kind!r}, not a v1 List; write it with"
            " kubectl get ... -o json or netpack doctor --collect"
        )
    items = document.get("items")
    if not isinstance(items, list):
        raise fail(f"items is {_kind(items)}, not a list", " items")
    for index, item in enumerate(items):
        for problem in _item_problems(item):
            raise fail(problem, f" items[{index}]")
    return Snapshot(items, source)


def _item_problems(item: Any) -> Iterator[str]:
    if not isinstance(item, dict):
        yield f"is {_kind(item)}, not an object"
        return
    for key in ("apiVersion", "kind"):
        if not isinstance(item.get(key), str) or not item[key]:
            yield f"has no {key} (every object of a snapshot has apiVersion, kind and metadata)"
    metadata = item.get("metadata")
    if not isinstance(metadata, dict):
        yield f"{item['kind']} has no metadata"
    elif not isinstance(metadata.get("name"), str) or not metadata["name"]:
        yield f"{item['kind']} has no metadata.name"
    else:
        for path, kind in SHAPES.get((item["apiVersion"], item["kind"]), ()):
            for where, value in _values(item, path):
                # null is an absent field; a null element of a list is not
                if (value is not None or where.endswith("]")) and not _fits(value, kind):
                    yield (
                        f"{item['kind']}/{metadata['name']}: {where} is {_kind(value)},"
                        f" not {_NAMES[kind]}"
                    )
                    return


_NAMES = {dict: "a mapping", list: "a list", int: "an integer", str: "a string"}


def _fits(value: Any, kind: type) -> bool:
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def _values(body: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every value at ``path`` in ``body`` with where it is (``a.b[2].c``); a part that is
    missing or of the wrong type ends the walk (its own entry reports it)."""
    found: list[tuple[str, Any]] = [("", body)]
    for part in path.split("."):
        each = part.endswith("[]")
        key = part.removesuffix("[]")
        step: list[tuple[str, Any]] = []
        for where, value in found:
            if not isinstance(value, dict) or key not in value:
                continue
            here = f"{where}.{key}" if where else key
            child = value[key]
            if each:
                if isinstance(child, list):
                    step += [(f"{here}[{i}]", v) for i, v in enumerate(child)]
            else:
                step.append((here, child))
        found = step
    return iter(found)


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    named = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}
    named.update({int: "an integer", float: "a number"})
    return named.get(type(value), f"a {type(value).__name__}")
