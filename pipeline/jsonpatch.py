"""The RFC 6902 operations on a JSON-like document, with no netpack context.

``check_op`` validates one operation's shape; ``apply_op`` applies it to a
document *in place* and returns the document's new root (only a ``replace`` of
``""`` changes it).  Both raise ``PatchError`` carrying only the problem text;
``pipeline.patch`` adds the file, operation and resource, and works on a copy.

Semantics are those of kustomize (evanphx/json-patch v4) wherever kustomize
follows RFC 6902; where it does not, this refuses (all observed with kustomize
v5.8.1, see ``pipeline.patch``):

* ``replace`` and ``test`` need the path to exist (kustomize adds a missing
  mapping key on ``replace``, and passes a ``test`` of a missing key for null);
* ``copy`` needs ``from`` to exist (kustomize copies null);
* ``add``, ``replace`` and ``test`` need a ``value`` (kustomize uses null);
* the whole object (``""``) can only be replaced, by a mapping (kustomize
  fails every other operation on it, even a ``test`` that should pass).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from pipeline.errors import PatchError
from pipeline.jsonpointer import describe_type, list_index, parent_of, parse_pointer, resolve

OPS = ("add", "remove", "replace", "move", "copy", "test")
NEEDS_FROM = ("move", "copy")
_NEEDS_VALUE = ("add", "replace", "test")
_SHOWN_MAX = 60  # characters of a value shown when a test fails


def check_op(op: Mapping[str, Any]) -> None:
    """Raise ``PatchError`` unless ``op`` is a well-formed operation.

    Members an operation does not use are ignored (RFC 6902 §4).
    """
    if "op" not in op:
        raise PatchError('missing "op"')
    name = op["op"]
    if name not in OPS:
        raise PatchError(
            f"unknown op {json.dumps(name)} (expected add, remove, replace, move, copy or test)"
        )
    path = _pointer(op, "path")
    source = _pointer(op, "from") if name in NEEDS_FROM else None
    if name in _NEEDS_VALUE and "value" not in op:
        raise PatchError('missing "value"')
    if source == () or (path == () and name != "replace"):
        raise PatchError('"" (the whole object) is only allowed as the path of replace')
    if path == () and not isinstance(op["value"], dict):
        kind = describe_type(op["value"])
        raise PatchError(f"the whole object must be replaced by a mapping, not {kind}")


def _pointer(op: Mapping[str, Any], key: str) -> tuple[str, ...]:
    if key not in op:
        raise PatchError(f'missing "{key}"')
    value = op[key]
    if not isinstance(value, str):
        raise PatchError(f'"{key}" must be a string, got {describe_type(value)}')
    return parse_pointer(value, field=key)


def apply_op(doc: Any, op: Mapping[str, Any]) -> Any:
    """Apply one checked operation to ``doc`` in place; return the (new) root.

    On failure ``doc`` may be partly changed: callers work on a copy.
    """
    return _APPLY[op["op"]](doc, op)


def _add(doc: Any, op: Mapping[str, Any]) -> Any:
    _insert(doc, parse_pointer(op["path"]), clone(op["value"]))
    return doc


def _remove(doc: Any, op: Mapping[str, Any]) -> Any:
    _take(doc, parse_pointer(op["path"]))
    return doc


def _replace(doc: Any, op: Mapping[str, Any]) -> Any:
    tokens = parse_pointer(op["path"])
    value = clone(op["value"])
    if not tokens:
        return value
    resolve(doc, tokens)  # it must exist: kustomize would add a missing key
    parent = parent_of(doc, tokens)
    if isinstance(parent, list):
        parent[list_index(tokens[-1], len(parent), allow_end=False)] = value
    else:
        parent[tokens[-1]] = value
    return doc


def _move(doc: Any, op: Mapping[str, Any]) -> Any:
    source, tokens = _source(doc, op), parse_pointer(op["path"])
    if source == tokens:
        return doc
    if tokens[: len(source)] == source:
        raise PatchError("cannot move a value into its own child")
    _insert(doc, tokens, _take(doc, source))
    return doc


def _copy(doc: Any, op: Mapping[str, Any]) -> Any:
    source = _source(doc, op)
    _insert(doc, parse_pointer(op["path"]), clone(resolve(doc, source)))
    return doc


def _test(doc: Any, op: Mapping[str, Any]) -> Any:
    found = resolve(doc, parse_pointer(op["path"]))
    if not json_equal(found, op["value"]):
        raise PatchError(f"test failed: found {_shown(found)}, expected {_shown(op['value'])}")
    return doc


_APPLY: dict[str, Callable[[Any, Mapping[str, Any]], Any]] = {
    "add": _add,
    "remove": _remove,
    "replace": _replace,
    "move": _move,
    "copy": _copy,
    "test": _test,
}


def _source(doc: Any, op: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``from`` tokens of a move or copy, which must name an existing value."""
    source = parse_pointer(op["from"], field="from")
    try:
        resolve(doc, source)
    except PatchError as err:
        raise PatchError(f"from: {err.message}") from None
    return source


def _insert(doc: Any, tokens: tuple[str, ...], value: Any) -> None:
    """RFC 6902 add: set a mapping key, or insert into a list (``-`` appends)."""
    parent = parent_of(doc, tokens)
    if isinstance(parent, list):
        parent.insert(list_index(tokens[-1], len(parent), allow_end=True), value)
    else:
        parent[tokens[-1]] = value


def _take(doc: Any, tokens: tuple[str, ...]) -> Any:
    """Remove and return the value at ``tokens``, which must exist."""
    resolve(doc, tokens)
    parent = parent_of(doc, tokens)
    if isinstance(parent, list):
        return parent.pop(list_index(tokens[-1], len(parent), allow_end=False))
    return parent.pop(tokens[-1])


def json_equal(left: Any, right: Any) -> bool:
    """Deep JSON equality: ``1 == 1.0`` but ``true != 1``; mapping key order is ignored."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(v, right[k]) for k, v in left.items())
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(json_equal, left, right))
    return type(left) is type(right) and bool(left == right)


def clone(value: Any) -> Any:
    """A deep copy of JSON-like data.  Unlike ``copy.deepcopy`` it keeps no
    sharing: a YAML alias becomes an independent copy, as in kustomize."""
    if isinstance(value, dict):
        return {key: clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clone(item) for item in value]
    return value


def _shown(value: Any) -> str:
    """Compact JSON, cut to ``_SHOWN_MAX`` characters."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 3] + "..."
