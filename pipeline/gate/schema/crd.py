"""Custom resources: validated against the ``openAPIV3Schema`` of their CRD's version.

A CRD's schema is OpenAPI v3.0, which is JSON Schema draft 4 plus Kubernetes'
extensions.  ``strict`` turns it into a draft 4 schema that judges an object as
``kubectl apply --validate=strict`` would:

- an object's fields not in ``properties`` are errors (the API server would
  prune them), unless ``x-kubernetes-preserve-unknown-fields: true`` keeps them.
  That flag reaches down the tree until a node names ``properties`` or
  ``additionalProperties`` again (apiextensions v1 JSONSchemaProps docs);
- ``nullable: true`` allows ``null``; ``x-kubernetes-int-or-string`` an integer
  or a string; ``x-kubernetes-embedded-resource`` apiVersion, kind and metadata;
- at the root, ``apiVersion`` and ``kind`` are strings and ``metadata`` is left
  to the caller, which checks it as the release's ObjectMeta (as the API server
  does: a CRD may not constrain metadata beyond name).

``check_schema`` refuses a schema the API server would refuse to load: one that
breaks draft 4's meta-schema (a bad ``pattern`` regex included), a ``type`` that
is not one of OpenAPI's six, or a ``$ref``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# jsonschema ships no type information; with types-jsonschema installed these
# ignores are unused, which unused-ignore allows.
from jsonschema import Draft4Validator  # type: ignore[import-untyped,unused-ignore]
from jsonschema.exceptions import best_match  # type: ignore[import-untyped,unused-ignore]

from pipeline.gate.schema.problems import SOURCE_PATTERN, Problem, field_path, problems
from pipeline.model.resource import Body

CRD_API = "apiextensions.k8s.io/v1"
PRESERVE = "x-kubernetes-preserve-unknown-fields"
TYPES = frozenset(("array", "boolean", "integer", "number", "object", "string"))
_ROOT = {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {}}
_EMBEDDED = {"apiVersion": {"type": "string"}, "kind": {"type": "string"}}


def _meta_validator() -> Any:
    """Draft 4's meta-schema, but ``required: []`` allowed (draft 4 wants one name at
    least; the API server takes an empty list)."""
    meta = copy.deepcopy(Draft4Validator.META_SCHEMA)
    del meta["id"]  # "#" refers to this copy, not to the registered original
    del meta["definitions"]["stringArray"]["minItems"]
    return Draft4Validator(meta)  # ``pattern`` is Go's RE2, checked by ``python_pattern``


_META = _meta_validator()


@dataclass(frozen=True)
class CrdVersion:
    """One entry of ``spec.versions``: its index there, its schema (``None``: missing)
    and that schema's ``digest``."""

    index: int
    served: bool
    schema: Body | None
    key: str = ""

    @property
    def field(self) -> str:
        return f"spec.versions[{self.index}].schema.openAPIV3Schema"


@dataclass(frozen=True)
class Crd:
    """What a CustomResourceDefinition says about its kind; ``where`` names it in errors."""

    group: str
    kind: str
    name: str
    versions: dict[str, CrdVersion]
    where: str

    @property
    def served(self) -> list[str]:
        return [name for name, v in self.versions.items() if v.served]


def is_crd(body: Body) -> bool:
    return body.get("apiVersion") == CRD_API and body.get("kind") == "CustomResourceDefinition"


def read_crd(body: Body, where: str) -> Crd | None:
    """The CRD's kind and versions; None when it names no group or kind (its own
    validation as a built-in kind reports that)."""
    spec = body.get("spec")
    spec = spec if isinstance(spec, dict) else {}
    names = spec.get("names")
    group, kind = spec.get("group"), names.get("kind") if isinstance(names, dict) else None
    if not (isinstance(group, str) and isinstance(kind, str)):
        return None
    versions: dict[str, CrdVersion] = {}
    listed = spec.get("versions")
    for index, entry in enumerate(listed if isinstance(listed, list) else []):
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            schema = _dig(entry, "schema", "openAPIV3Schema")
            key = digest(schema) if schema is not None else ""
            served = entry.get("served") is True
            versions.setdefault(entry["name"], CrdVersion(index, served, schema, key))
    meta = body.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return Crd(group, kind, name if isinstance(name, str) else "", versions, where)


def _dig(body: Body, *keys: str) -> Body | None:
    value: Any = body
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else None


def digest(schema: Body) -> str:
    """A stable key for a schema, so equal schemas share one compiled validator."""
    text = json.dumps(schema, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def check_schema(schema: Body) -> Problem | None:
    """The first reason the API server would refuse this ``openAPIV3Schema``, or None."""
    found = sorted(_kubernetes_rules(schema, "")) or problems(
        _deepest(e) for e in _META.iter_errors(schema)
    )
    return found[0] if found else None


def _deepest(error: Any) -> Any:
    """The most telling error under a meta-schema ``anyOf`` (``items: 5``: not an object)."""
    while error.context:
        error = best_match(error.context)
    return error


def _kubernetes_rules(node: Any, path: str) -> Iterator[Problem]:
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind is not None and not (isinstance(kind, str) and kind in TYPES):
        yield Problem(field_path(["type"], path), f"{json.dumps(kind)} is not one of {_TYPES}")
    if "$ref" in node:
        yield Problem(field_path(["$ref"], path), "$ref is not allowed in a CRD schema")
    pattern = node.get("pattern")
    if (
        isinstance(pattern, str)
        and python_pattern(pattern) is None
        and not _RE2_ONLY.search(pattern)
    ):
        yield Problem(field_path(["pattern"], path), f"{json.dumps(pattern)} is not a valid regex")
    for key in ("properties", "patternProperties"):
        children = node.get(key)
        for name, child in children.items() if isinstance(children, dict) else ():
            yield from _kubernetes_rules(child, field_path([key, name], path))
    for key in ("items", "additionalProperties", "not"):
        yield from _kubernetes_rules(node.get(key), field_path([key], path))
    for key in ("allOf", "anyOf", "oneOf"):
        branches = node.get(key)
        for index, child in enumerate(branches if isinstance(branches, list) else ()):
            yield from _kubernetes_rules(child, field_path([key, index], path))


_TYPES = ", ".join(sorted(TYPES))
_END_OF_TEXT = re.compile(r"(?<!\\)((?:\\\\)*)\\z")  # an unescaped \z
_LEADING_FLAGS = re.compile(r"^\^\(\?([ims]+)\)")
# RE2 syntax Python's re lacks: Unicode classes, the ungreedy flag, flags mid-pattern.
_RE2_ONLY = re.compile(r"\\[pP]|\(\?[imsU]*U|.\(\?[imsU]+\)")


def python_pattern(pattern: str) -> str | None:
    """A ``pattern`` (Go RE2 syntax) as Python's ``re`` reads it; None when it cannot.

    RE2 takes flags after ``^`` (``^(?i)(Drop|Reject)?$``, all over Calico's CRDs);
    Python only at the start, where they mean the same.  ``\\z`` is Python's ``\\Z``."""
    text = _END_OF_TEXT.sub(r"\1\\Z", pattern)
    lead = _LEADING_FLAGS.match(text)
    if lead:
        text = f"(?{lead.group(1)})^{text[lead.end() :]}"
    try:
        re.compile(text)
    except re.error:
        return None
    return text


def strict(schema: Body) -> Body:
    """The draft 4 schema that validates a custom resource (see the module docstring)."""
    root = _strict(schema, preserve=False)
    root["properties"] = {**root.get("properties", {}), **_ROOT}
    return root


def _strict(node: Body, *, preserve: bool) -> Body:
    out = dict(node)
    names_fields = "properties" in node or "additionalProperties" in node
    open_ended = node.get(PRESERVE) is True or (preserve and not names_fields)
    if node.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        if isinstance(out.get("enum"), list):
            out["enum"] = [*out["enum"], None]
    if isinstance(node.get("pattern"), str):
        translated = python_pattern(node["pattern"])
        if translated is None:  # RE2-only syntax (check_schema let it pass): not checked
            del out["pattern"]
        elif translated != node["pattern"]:
            out["pattern"], out[SOURCE_PATTERN] = translated, node["pattern"]
    if node.get("x-kubernetes-int-or-string") is True and "type" not in node:
        out["type"] = ["integer", "string"]
    if isinstance(node.get("properties"), dict):
        out["properties"] = {
            k: _strict(v, preserve=open_ended) if isinstance(v, dict) else v
            for k, v in node["properties"].items()
        }
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            out[key] = _strict(node[key], preserve=open_ended)
    if node.get("x-kubernetes-embedded-resource") is True:
        out["properties"] = {
            **_EMBEDDED,
            "metadata": {"type": "object"},
            **out.get("properties", {}),
        }
    is_object = node.get("type") == "object" or "properties" in node
    if is_object and not open_ended and "additionalProperties" not in node:
        out["additionalProperties"] = False
    return out


def compile_schema(schema: Body) -> Any:
    """A draft 4 validator of ``strict(schema)``; ``check_schema`` must have passed."""
    return Draft4Validator(strict(schema), format_checker=None)
