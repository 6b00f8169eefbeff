"""RFC 6902 operations on a JSON-like document, applied by the ``jsonpatch`` library.

python-json-patch (with ``jsonpointer``) parses every pointer and applies every
operation.  This module adds only what the library cannot know, with no netpack
context: every function raises ``PatchError`` carrying only the problem text, and
``pipeline.kustomize.patch`` adds the file, operation and resource.

* ``check_op``: an operation's shape, and the kustomize-compatible refusals.
* ``Draft``: copy-on-write.  The library changes a document in place; a draft hands
  it one whose containers on the way to each change are the draft's own shallow
  copies, so every other part stays shared with the original, which never changes.
* the problem text of a failure, naming the first missing or mistyped part of a
  path (the library's exception texts are neither as precise nor a stable contract).

Semantics are those of kustomize (evanphx/json-patch v4) wherever kustomize
follows RFC 6902; where it does not, netpack refuses (all observed with kustomize
v5.8.1, see ``pipeline.kustomize.patch``):

* ``replace`` and ``test`` need the path to exist (kustomize adds a missing
  mapping key on ``replace``, and passes a ``test`` of a missing key for null);
* ``copy`` needs ``from`` to exist (kustomize copies null);
* ``add``, ``replace`` and ``test`` need a ``value`` (kustomize uses null);
* the whole object (``""``) can only be replaced, by a mapping (kustomize
  fails every other operation on it, even a ``test`` that should pass);
* a pointer follows RFC 6901 strictly, where kustomize reads an unknown escape such
  as ``~2`` literally, treats a path without a leading ``/`` as if its first token
  were not there, and accepts list indices such as ``01``, ``+1`` and ``-1``
  (counted from the end).

The first three and the last are RFC 6902/6901 themselves, which the library
enforces; ``check_op`` words the pointer refusals it can see without a document.
A ``test`` compares as RFC 6902 §4.6 says: ``1`` equals ``1.0`` but not ``true``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import jsonpatch  # type: ignore[import-untyped,unused-ignore]
from jsonpointer import (  # type: ignore[import-untyped,unused-ignore]
    JsonPointer,
    JsonPointerException,
    escape,
)

from pipeline.errors import PatchError
from pipeline.kustomize.messages import describe_type, quoted

OPS = ("add", "remove", "replace", "move", "copy", "test")
NEEDS_FROM = ("move", "copy")
_NEEDS_VALUE = ("add", "replace", "test")
_INSERTS = ("add", "move", "copy")  # the operations that put a value at ``path``
_SHOWN_MAX = 60  # characters of a value shown when a test fails
_END = "-"  # the token for "after the last list item" (RFC 6901 §4)
_INDEX = re.compile(r"0|[1-9][0-9]*")
_BAD_ESCAPE = re.compile(r"~(?![01])")
# What the library raises for an operation that cannot apply to the document.
_FAILED = (jsonpatch.JsonPatchException, JsonPointerException, LookupError, TypeError)

Container = dict[str, Any] | list[Any]


def check_op(op: Mapping[str, Any]) -> None:
    """Raise ``PatchError`` unless ``op`` is a well-formed operation netpack accepts.

    Members an operation does not use are ignored (RFC 6902 §4).
    """
    if "op" not in op:
        raise PatchError('missing "op"')
    name = op["op"]
    if name not in OPS:
        raise PatchError(
            f"unknown op {quoted(name)} (expected add, remove, replace, move, copy or test)"
        )
    path = _parts(op, "path")
    source = _parts(op, "from") if name in NEEDS_FROM else None
    if name in _NEEDS_VALUE and "value" not in op:
        raise PatchError('missing "value"')
    if source == [] or (path == [] and name != "replace"):
        raise PatchError('"" (the whole object) is only allowed as the path of replace')
    if path == [] and not isinstance(op["value"], dict):
        kind = describe_type(op["value"])
        raise PatchError(f"the whole object must be replaced by a mapping, not {kind}")


def _parts(op: Mapping[str, Any], key: str) -> list[str]:
    """The unescaped tokens of the pointer ``op[key]``, parsed by ``jsonpointer``."""
    if key not in op:
        raise PatchError(f'missing "{key}"')
    path = op[key]
    if not isinstance(path, str):
        raise PatchError(f'"{key}" must be a string, got {describe_type(path)}')
    try:
        parts: list[str] = JsonPointer(path).parts
    except JsonPointerException as err:
        raise PatchError(_pointer_problem(path, key, err)) from None
    return parts


def _pointer_problem(path: str, key: str, err: Exception) -> str:
    if not path.startswith("/"):
        return f'{key} {quoted(path)} must be "" or start with "/"'
    for token in path[1:].split("/"):
        bad = _BAD_ESCAPE.search(token)
        if bad is not None:
            escape_ = token[bad.start() : bad.start() + 2]
            return (
                f"{key} {quoted(path)}: invalid escape {quoted(escape_)} "
                '(use ~0 for "~" and ~1 for "/")'
            )
    return f"{key} {quoted(path)}: {err}"


class Draft:
    """A document being patched, copy-on-write.

    ``root`` shares every part no operation changed with the original; ``_owned``
    holds the containers copied so far by id (the dict keeps them alive, so their
    ids stay unique), and only those are handed to the library to change in place.
    """

    def __init__(self, doc: Any) -> None:
        self._original = doc
        self._applied: list[Mapping[str, Any]] = []
        self._owned: dict[int, Container] = {}
        self.root: Any = self._copy(doc)

    def _copy(self, value: Container) -> Container:
        copy: Container = dict(value) if isinstance(value, dict) else list(value)
        self._owned[id(copy)] = copy
        return copy

    def apply(self, op: Mapping[str, Any]) -> None:
        """Apply one operation that passed ``check_op``.

        On failure the draft may be partly changed (the original never is):
        callers drop it.
        """
        operation = jsonpatch.JsonPatch.operations[op["op"]](op)
        parts: list[str] = operation.pointer.parts
        if op["op"] == "move":
            source: list[str] = JsonPointer(op["from"]).parts
            self._own_parents(source)
            self._own_parents(_before_removal(self.root, parts, source))
        elif op["op"] != "test":
            self._own_parents(parts)
        try:
            root = operation.apply(self.root)
        except _FAILED as err:
            raise PatchError(self._replayed().problem(op) or str(err)) from None
        if root is not self.root:  # replace "": the library's own copy of the value
            self.root, self._owned = root, {id(root): root}
        self._applied.append(op)

    def _own_parents(self, parts: list[str]) -> None:
        """Make every container on the way to ``parts``' parent the draft's own copy.

        Stops quietly at a part that does not exist: the library refuses that path.
        """
        node = self.root
        for part in parts[:-1]:
            key: Any = part
            if isinstance(node, list):
                if not _INDEX.fullmatch(part) or int(part) >= len(node):
                    return
                key = int(part)
            elif part not in node:
                return
            child = node[key]
            if not isinstance(child, dict | list):
                return
            if id(child) not in self._owned:
                child = node[key] = self._copy(child)
            node = child

    def _replayed(self) -> Draft:
        """A new draft of the original with the operations applied so far: the
        document exactly as the failed operation found it (a failed move has
        already removed its value)."""
        draft = Draft(self._original)
        for op in self._applied:
            draft.apply(op)
        return draft

    def problem(self, op: Mapping[str, Any]) -> str | None:
        """Why ``op`` cannot apply to this draft, in netpack's words; ``None`` if
        netpack sees no reason (the caller then shows the library's).  May change
        the draft."""
        name, parts = op["op"], JsonPointer(op["path"]).parts
        try:
            if name in NEEDS_FROM:
                source = JsonPointer(op["from"]).parts
                try:
                    _resolve(self.root, source)
                except PatchError as err:
                    return f"from: {err.message}"
                if name == "move" and source != parts:
                    if parts[: len(source)] == source:
                        return "cannot move a value into its own child"
                    self._own_parents(source)
                    parent = _parent(self.root, source)
                    if isinstance(parent, list):
                        parent.pop(int(source[-1]))
                    else:
                        parent.pop(source[-1])
            if name in _INSERTS:
                parent = _parent(self.root, parts)
                if isinstance(parent, list):
                    _list_index(parts[-1], len(parent), allow_end=True)
            else:
                found = _resolve(self.root, parts)
                if name == "test":
                    return f"test failed: found {_shown(found)}, expected {_shown(op['value'])}"
        except PatchError as err:
            return err.message
        return None


def _before_removal(doc: Any, parts: list[str], source: list[str]) -> list[str]:
    """``parts`` as a move's target reads in ``doc`` before the move removes ``source``.

    The library removes first; where the target goes through the list the value
    leaves, a later index then names the item one further on in ``doc``.
    """
    depth = len(source) - 1
    if depth < 0 or len(parts) - 1 <= depth or parts[:depth] != source[:depth]:
        return parts
    try:
        parent = JsonPointer.from_parts(source[:depth]).resolve(doc)
    except (JsonPointerException, LookupError, TypeError):
        return parts
    removed, at = source[depth], parts[depth]
    if not isinstance(parent, list) or not (_INDEX.fullmatch(removed) and _INDEX.fullmatch(at)):
        return parts
    if int(at) < int(removed):
        return parts
    return [*parts[:depth], str(int(at) + 1), *parts[depth + 1 :]]


# --- the problem text of a failure: walk the path as RFC 6901 does, naming what is wrong ---


def _resolve(doc: Any, parts: list[str]) -> Any:
    """The value at ``parts``; ``path not found`` if the last part is missing."""
    if not parts:
        return doc
    parent = _parent(doc, parts)
    key = parts[-1]
    if isinstance(parent, list):
        return parent[_list_index(key, len(parent), allow_end=False)]
    if key not in parent:
        raise PatchError("path not found")
    return parent[key]


def _parent(doc: Any, parts: list[str]) -> Container:
    """The container that holds (or would hold) the value at non-empty ``parts``;
    a missing ancestor is ``parent not found: <the first missing one>``."""
    node = doc
    for depth, part in enumerate(parts[:-1]):
        container = _container(node, parts[:depth])
        if isinstance(container, list):
            node = container[_list_index(part, len(container), allow_end=False)]
        elif part in container:
            node = container[part]
        else:
            raise PatchError(f"parent not found: {_pointer(parts[: depth + 1])}")
    return _container(node, parts[:-1])


def _container(node: Any, at: list[str]) -> Container:
    if isinstance(node, dict | list):
        return node
    where = _pointer(at) or '""'
    raise PatchError(f"{where} is {describe_type(node)}, not a mapping or list")


def _list_index(part: str, size: int, *, allow_end: bool) -> int:
    """The position ``part`` names in a list of ``size`` items; with ``allow_end``
    (adding a value) ``size`` itself and ``-`` are valid too."""
    if part == _END and allow_end:
        return size
    if part != _END and not _INDEX.fullmatch(part):
        raise PatchError(f"invalid list index {quoted(part)}")
    index = size if part == _END else int(part)
    if index > size or (index == size and not allow_end):
        noun = "item" if size == 1 else "items"
        raise PatchError(f"index {part} out of range (list has {size} {noun})")
    return index


def _pointer(parts: list[str]) -> str:
    """The pointer text for ``parts``, escaped; ``""`` for the whole document."""
    return "".join("/" + escape(part) for part in parts)


def _shown(value: Any) -> str:
    """Compact JSON, cut to ``_SHOWN_MAX`` characters."""
    text = quoted(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 3] + "..."
