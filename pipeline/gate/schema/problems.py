"""``jsonschema`` errors as ``Problem`` records: a field path and a plain-words problem.

jsonschema words its errors for schema authors, with Python reprs
(``'true' is not of type 'boolean', 'null'``) and the field only in a deque.
These are worded for whoever edits the manifest: the field path points at the
field itself (an unknown or missing field included), values are shown as JSON,
and Kubernetes' everywhere-``null`` type unions are left out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

_PLAIN_KEY = re.compile(r"^[$A-Za-z0-9_-]+$")
_TYPE_NAMES = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)
_SHOWN = 60  # longest value shown in a message, in characters
# Beside a ``pattern`` rewritten for Python's re: the pattern as the schema wrote it.
SOURCE_PATTERN = "x-netpack-source-pattern"


@dataclass(frozen=True, order=True)
class Problem:
    """One violation; ``field`` like ``spec.containers[0].env[4].valu``, ``""`` for the object."""

    field: str
    message: str


def field_path(parts: Iterable[str | int], start: str = "") -> str:
    """Dotted path with list indices in brackets; keys like ``a.b/c`` as ``["a.b/c"]``."""
    out = start
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out


def problems(errors: Iterable[Any]) -> list[Problem]:
    """The problems of jsonschema ``ValidationError``s, sorted and without duplicates."""
    found: set[Problem] = set()
    for error in errors:
        found.update(describe(error))
    return sorted(found)


def describe(error: Any) -> list[Problem]:
    """One jsonschema error as problems (an ``additionalProperties`` error names each key)."""
    path = field_path(error.absolute_path)
    keyword, value, instance = error.validator, error.validator_value, error.instance
    if keyword == "additionalProperties" and value is False and isinstance(instance, dict):
        return [Problem(field_path([key], path), "unknown field") for key in _extras(error)]
    if keyword == "required" and isinstance(instance, dict):
        missing = [name for name in value if name not in instance]
        return [Problem(field_path([name], path), "missing required field") for name in missing]
    if keyword in ("oneOf", "anyOf"):
        message = _alternatives(error)
        return [] if message is None else [Problem(path, message)]
    wording = _WORDING.get(keyword)
    message = wording(value, instance, error.schema) if wording else error.message
    return [Problem(path, message)]


def _extras(error: Any) -> list[str]:
    known = error.schema.get("properties", {})
    patterns = list(error.schema.get("patternProperties", {}))
    return sorted(
        key
        for key in error.instance
        if key not in known and not any(re.search(p, key) for p in patterns)
    )


def _alternatives(error: Any) -> str | None:
    """IntOrString-style unions of bare types say which types; others say how many forms."""
    branches = error.validator_value
    types = [b.get("type") for b in branches if isinstance(b, dict) and set(b) == {"type"}]
    if len(types) == len(branches):
        if error.instance is None:
            return None  # null matches every nullable branch: Kubernetes accepts it
        wanted = [
            str(t) for entry in types for t in (entry if isinstance(entry, list) else [entry])
        ]
        return _type_message(wanted, error.instance)
    if error.context:
        return f"matches none of the {len(branches)} allowed forms"
    return f"matches more than one of the {len(branches)} allowed forms"


def type_name(value: object) -> str:
    """The JSON type of a value: ``boolean``, ``integer``, ``number``, ``string``..."""
    for python, name in _TYPE_NAMES:
        if isinstance(value, python):
            return name
    return "null"


def show(value: object) -> str:
    """A value for a message: scalars as JSON (long strings cut), containers by type."""
    if isinstance(value, dict | list):
        return type_name(value)
    text = json.dumps(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 4] + '..."'


def _type_message(types: str | list[str], instance: object) -> str:
    wanted = [types] if isinstance(types, str) else list(types)
    named = list(dict.fromkeys(t for t in wanted if t != "null")) or ["null"]
    got = type_name(instance)
    value = "" if got in ("null", "object", "array") else f" {show(instance)}"
    return f"expected {' or '.join(named)}, got {got}{value}"


def _minimum(limit: Any, instance: Any, schema: Any) -> str:
    if schema.get("exclusiveMinimum") is True:  # OpenAPI v3 / draft 4 boolean form
        return f"{show(instance)} is not above the exclusive minimum {show(limit)}"
    return f"{show(instance)} is below the minimum {show(limit)}"


def _maximum(limit: Any, instance: Any, schema: Any) -> str:
    if schema.get("exclusiveMaximum") is True:
        return f"{show(instance)} is not below the exclusive maximum {show(limit)}"
    return f"{show(instance)} is above the maximum {show(limit)}"


def _count(instance: Any) -> int:
    return len(instance) if isinstance(instance, dict | list | str) else 0


_Wording = Callable[[Any, Any, Any], str]
_WORDING: dict[str, _Wording] = {
    "type": lambda types, instance, _: _type_message(types, instance),
    "enum": lambda allowed, instance, _: (
        f"{show(instance)} is not one of {', '.join(show(a) for a in allowed)}"
    ),
    "const": lambda const, instance, _: f"{show(instance)} is not {show(const)}",
    "minimum": _minimum,
    "maximum": _maximum,
    "exclusiveMinimum": lambda limit, instance, _: f"{show(instance)} is not above {show(limit)}",
    "exclusiveMaximum": lambda limit, instance, _: f"{show(instance)} is not below {show(limit)}",
    "multipleOf": lambda step, instance, _: f"{show(instance)} is not a multiple of {show(step)}",
    "minLength": lambda n, instance, _: f"{show(instance)} is shorter than {n} characters",
    "maxLength": lambda n, instance, _: f"{show(instance)} is longer than {n} characters",
    "pattern": lambda rx, instance, schema: (
        f"{show(instance)} does not match {show(schema.get(SOURCE_PATTERN, rx))}"
    ),
    "minItems": lambda n, instance, _: f"has {_count(instance)} items, fewer than {n}",
    "maxItems": lambda n, instance, _: f"has {_count(instance)} items, more than {n}",
    "uniqueItems": lambda _v, _i, _s: "has duplicate items",
    "minProperties": lambda n, instance, _: f"has {_count(instance)} fields, fewer than {n}",
    "maxProperties": lambda n, instance, _: f"has {_count(instance)} fields, more than {n}",
    "not": lambda _v, _i, _s: "matches a form it must not match",
    "format": lambda fmt, instance, _: f"{show(instance)} is not a valid {fmt}",
}
