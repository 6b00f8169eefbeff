"""JSON Pointer (RFC 6901): parse a path and find the value or container it names.

A pointer is ``""`` (the whole document) or ``/``-separated tokens, with ``~1``
for ``/`` and ``~0`` for ``~``.  A token names a mapping key, or a list index
written as decimal digits without leading zeros; ``-`` means "past the end" and
is only valid where a value is being added.

Every function raises ``PatchError`` carrying only the problem text; the caller
adds the file, operation and resource.

This is stricter than evanphx/json-patch v4, the engine inside kustomize, which
(observed with kustomize v5.8.1) reads an unknown escape such as ``~2``
literally, treats a path without a leading ``/`` as if its first token were not
there, and accepts list indices such as ``01``, ``+1`` and ``-1`` (counted from
the end).  netpack refuses these rather than guess what was meant.
"""

from __future__ import annotations

import re
from typing import Any

from pipeline.errors import PatchError

END = "-"  # the token for "after the last list item" (RFC 6901 §4)

_INDEX = re.compile(r"0|[1-9][0-9]*")
_BAD_ESCAPE = re.compile(r"~(?![01])")

Container = dict[str, Any] | list[Any]


def quoted(value: object, **options: Any) -> str:
    """``value`` as JSON, for a message (``json.dumps``; imported on first use, as every
    message is on an error path and the import costs each process start-up)."""
    import json

    return json.dumps(value, **options)


def parse_pointer(path: str, *, field: str = "path") -> tuple[str, ...]:
    """The unescaped tokens of ``path``; ``()`` for the whole document.

    ``field`` ("path" or "from") names the operation member in error messages.
    """
    if path == "":
        return ()
    if not path.startswith("/"):
        raise PatchError(f'{field} {quoted(path)} must be "" or start with "/"')
    return tuple(_unescape(token, path, field) for token in path[1:].split("/"))


def _unescape(token: str, path: str, field: str) -> str:
    bad = _BAD_ESCAPE.search(token)
    if bad is not None:
        escape = token[bad.start() : bad.start() + 2]
        raise PatchError(
            f"{field} {quoted(path)}: invalid escape {quoted(escape)} "
            '(use ~0 for "~" and ~1 for "/")'
        )
    # RFC 6901 §4: "~1" first, then "~0", so that "~01" becomes "~1".
    return token.replace("~1", "/").replace("~0", "~")


def format_pointer(tokens: tuple[str, ...]) -> str:
    """The pointer text for ``tokens``, escaped; ``""`` for the whole document."""
    return "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in tokens)


def list_index(token: str, size: int, *, allow_end: bool) -> int:
    """The position ``token`` names in a list of ``size`` items.

    With ``allow_end`` (adding a value) ``size`` itself and ``-`` are valid too.
    """
    if token == END and allow_end:
        return size
    if token != END and not _INDEX.fullmatch(token):
        raise PatchError(f"invalid list index {quoted(token)}")
    index = size if token == END else int(token)
    if index > size or (index == size and not allow_end):
        noun = "item" if size == 1 else "items"
        raise PatchError(f"index {token} out of range (list has {size} {noun})")
    return index


def describe_type(value: object) -> str:
    """``a mapping``, ``a list``, ``a string``, ``a number``, ``a boolean`` or ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def parent_of(doc: Any, tokens: tuple[str, ...]) -> Container:
    """The mapping or list that holds (or would hold) the value at ``tokens``.

    ``tokens`` must not be empty.  Every ancestor must exist: a missing one is
    ``parent not found: <the first missing ancestor>``.
    """
    node = doc
    for depth, token in enumerate(tokens[:-1]):
        node = _child(node, token, tokens[:depth])
    return _container(node, tokens[:-1])


def resolve(doc: Any, tokens: tuple[str, ...]) -> Any:
    """The value at ``tokens``; ``path not found`` if the last token is missing."""
    if not tokens:
        return doc
    parent = parent_of(doc, tokens)
    key = tokens[-1]
    if isinstance(parent, list):
        return parent[list_index(key, len(parent), allow_end=False)]
    if key not in parent:
        raise PatchError("path not found")
    return parent[key]


def _child(node: Any, token: str, at: tuple[str, ...]) -> Any:
    """One step down from ``node`` (found at ``at``) while walking to a parent."""
    container = _container(node, at)
    if isinstance(container, list):
        return container[list_index(token, len(container), allow_end=False)]
    if token not in container:
        raise PatchError(f"parent not found: {format_pointer((*at, token))}")
    return container[token]


def _container(node: Any, at: tuple[str, ...]) -> Container:
    if isinstance(node, dict | list):
        return node
    where = format_pointer(at) or '""'
    raise PatchError(f"{where} is {describe_type(node)}, not a mapping or list")
