"""The RFC 6902 operations on a JSON-like document, with no netpack context.

``check_op`` validates one operation's shape; ``apply_op`` applies it to a
``Draft`` of a document, copy-on-write: the mappings and lists on the way to a
changed value are copied (once per draft), everything else stays shared with
the original, which is never changed.  Both raise ``PatchError`` carrying only
the problem text; ``pipeline.kustomize.patch`` adds the file, operation and resource.

Semantics are those of kustomize (evanphx/json-patch v4) wherever kustomize
follows RFC 6902; where it does not, this refuses (all observed with kustomize
v5.8.1, see ``pipeline.kustomize.patch``):

* ``replace`` and ``test`` need the path to exist (kustomize adds a missing
  mapping key on ``replace``, and passes a ``test`` of a missing key for null);
* ``copy`` needs ``from`` to exist (kustomize copies null);
* ``add``, ``replace`` and ``test`` need a ``value`` (kustomize uses null);
* the whole object (``""``) can only be replaced, by a mapping (kustomize
  fails every other operation on it, even a ``test`` that should pass).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pipeline.errors import PatchError
from pipeline.kustomize.jsonpointer import (
    Container,
    describe_type,
    list_index,
    parent_of,
    parse_pointer,
    quoted,
    resolve,
)

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
            f"unknown op {quoted(name)} (expected add, remove, replace, move, copy or test)"
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


class Draft:
    """A document being patched: ``root`` shares every part no operation changed
    with the original, and ``_owned`` holds the ids of the containers copied so
    far (alive in ``root``, so their ids stay unique), which may change in place."""

    def __init__(self, doc: Any) -> None:
        self.replace_root(_shallow(doc))

    def replace_root(self, value: Any) -> None:
        """Make ``value``, which nothing else holds, the whole document."""
        self.root = value
        self._owned = {id(value)}

    def parent(self, tokens: tuple[str, ...]) -> Container:
        """``parent_of`` (its checks and errors), made safe to change: each container
        on the way is this draft's own copy."""
        parent_of(self.root, tokens)  # raises on a bad path before anything is copied
        node: Container = self.root
        for token in tokens[:-1]:
            key: Any = int(token) if isinstance(node, list) else token
            child = node[key]
            if id(child) not in self._owned:
                child = node[key] = _shallow(child)
                self._owned.add(id(child))
            node = child
        return node


def _shallow(value: Any) -> Any:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    return value


def apply_op(draft: Draft, op: Mapping[str, Any]) -> None:
    """Apply one checked operation to ``draft``.

    On failure the draft may be partly changed (the original never is):
    callers drop it.
    """
    _APPLY[op["op"]](draft, op)


def _add(draft: Draft, op: Mapping[str, Any]) -> None:
    _insert(draft, parse_pointer(op["path"]), clone(op["value"]))


def _remove(draft: Draft, op: Mapping[str, Any]) -> None:
    _take(draft, parse_pointer(op["path"]))


def _replace(draft: Draft, op: Mapping[str, Any]) -> None:
    tokens = parse_pointer(op["path"])
    value = clone(op["value"])
    if not tokens:
        draft.replace_root(value)
        return
    resolve(draft.root, tokens)  # it must exist: kustomize would add a missing key
    parent = draft.parent(tokens)
    if isinstance(parent, list):
        parent[list_index(tokens[-1], len(parent), allow_end=False)] = value
    else:
        parent[tokens[-1]] = value


def _move(draft: Draft, op: Mapping[str, Any]) -> None:
    source, tokens = _source(draft.root, op), parse_pointer(op["path"])
    if source == tokens:
        return
    if tokens[: len(source)] == source:
        raise PatchError("cannot move a value into its own child")
    _insert(draft, tokens, _take(draft, source))


def _copy(draft: Draft, op: Mapping[str, Any]) -> None:
    source = _source(draft.root, op)
    _insert(draft, parse_pointer(op["path"]), clone(resolve(draft.root, source)))


def _test(draft: Draft, op: Mapping[str, Any]) -> None:
    found = resolve(draft.root, parse_pointer(op["path"]))
    if not json_equal(found, op["value"]):
        raise PatchError(f"test failed: found {_shown(found)}, expected {_shown(op['value'])}")


_APPLY: dict[str, Callable[[Draft, Mapping[str, Any]], None]] = {
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


def _insert(draft: Draft, tokens: tuple[str, ...], value: Any) -> None:
    """RFC 6902 add: set a mapping key, or insert into a list (``-`` appends)."""
    parent = draft.parent(tokens)
    if isinstance(parent, list):
        parent.insert(list_index(tokens[-1], len(parent), allow_end=True), value)
    else:
        parent[tokens[-1]] = value


def _take(draft: Draft, tokens: tuple[str, ...]) -> Any:
    """Remove and return the value at ``tokens``, which must exist."""
    resolve(draft.root, tokens)
    parent = draft.parent(tokens)
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
    text = quoted(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 3] + "..."
