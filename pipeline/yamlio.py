"""Reading YAML the way Kubernetes tools do, with errors that name the file.

``read_documents`` is the only way netpack reads YAML.  It refuses, with an
``InputError`` naming the file (and the line where there is one): a missing or
unreadable file, bytes that are not UTF-8, malformed YAML, a duplicate mapping
key, and alias expansion beyond ``MAX_NODES`` (a "billion laughs" bomb).

Scalars follow YAML 1.1 as sigs.k8s.io/yaml reads them, except that timestamps
and sexagesimal numbers stay strings (Kubernetes never turns them into dates).
With ``kustomize=True`` they follow kustomize's reader instead (kyaml, go-yaml
v3): only ``true``/``false`` are booleans (``yes``, ``on``, ``y`` stay strings),
``0o17`` and ``1e3`` are numbers, and a plain date becomes the timestamp string
``YYYY-MM-DDT00:00:00Z``, so that netpack's build matches ``kustomize build``.
Empty documents (a bare ``---``) are dropped, as kustomize drops them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.errors import InputError
from pipeline.startup import import_yaml

import_yaml()
import yaml  # noqa: E402  # after import_yaml

MAX_NODES = 1_000_000  # expanded nodes per file; far above any real manifest

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[valid-type,misc]
    """SafeLoader without timestamps or base-60 numbers."""


_DROPPED = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# YAML 1.1 int and float as PyYAML has them, minus base 60 ("12:30" stays a string).
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(
        r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0[0-7_]+
        |[-+]?(?:0|[1-9][0-9_]*)
        |[-+]?0x[0-9a-fA-F_]+)$""",
        re.X,
    ),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
        |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


class _KustomizeLoader(_Loader):
    """Plain scalars as kyaml (go-yaml v3) resolves them; see the module docstring."""


_KustomizeLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in _Loader.yaml_implicit_resolvers.items()
}
_KustomizeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
_KustomizeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?0o[0-7_]+$"), list("-+0")
)
_KustomizeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)
_KustomizeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:timestamp", re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"), list("0123456789")
)


def _kyaml_bool(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> bool:
    return str(node.value).lower() == "true"


def _kyaml_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(node.value).replace("_", "")
    sign, digits = (-1, text[1:]) if text[:1] == "-" else (1, text.lstrip("+"))
    if digits.startswith("0o"):
        return sign * int(digits[2:], 8)
    return int(loader.construct_yaml_int(node))


def _kyaml_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    text = str(node.value).replace("_", "")
    if "e" in text.lower() and "." not in text:
        return float(text)
    return float(loader.construct_yaml_float(node))


def _kyaml_date(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
    return f"{node.value}T00:00:00Z"


_KustomizeLoader.add_constructor("tag:yaml.org,2002:bool", _kyaml_bool)
_KustomizeLoader.add_constructor("tag:yaml.org,2002:int", _kyaml_int)
_KustomizeLoader.add_constructor("tag:yaml.org,2002:float", _kyaml_float)
_KustomizeLoader.add_constructor("tag:yaml.org,2002:timestamp", _kyaml_date)


def _hashable(key: Any, node: yaml.Node) -> Any:
    try:
        hash(key)
    except TypeError:
        raise yaml.constructor.ConstructorError(
            None, None, "unhashable mapping key", node.start_mark
        ) from None
    return key


def unique_keys(
    loader: yaml.SafeLoader,
    node: yaml.MappingNode,
    key_of: Callable[[Any, yaml.Node], Any] = _hashable,
) -> None:
    """Refuse a key written twice in ``node`` (``key_of`` maps each constructed key
    first); keys merged in by ``<<`` may be overridden, that is what ``<<`` is for."""
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = key_of(loader.construct_object(key_node, deep=True), key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first at line {seen[key] + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    """A mapping; a key written twice is an error (see ``unique_keys``)."""
    unique_keys(loader, node)
    loader.flatten_mapping(node)
    return dict(loader.construct_pairs(node, deep=True))


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_KustomizeLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def _count_nodes(node: yaml.Node, memo: dict[int, int]) -> int:
    """Size of the node tree with every alias expanded; memoised per shared node."""
    known = memo.get(id(node))
    if known is not None:
        return known
    memo[id(node)] = 1  # a cycle counts once; the constructor rejects it later anyway
    total = 1
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            total += _count_nodes(child, memo)
            if total > MAX_NODES:
                break
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            total += _count_nodes(key, memo) + _count_nodes(value, memo)
            if total > MAX_NODES:
                break
    memo[id(node)] = total
    return total


def read_text(path: Path, display: str) -> str:
    """The file's text; an ``InputError`` if it is missing, unreadable or not UTF-8."""
    return decode_text(read_bytes(path, display), display)


def read_bytes(path: Path, display: str) -> bytes:
    """The file's bytes; an ``InputError`` naming ``display`` if it is missing or unreadable."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", file=display, operation="read") from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", file=display, operation="read") from None
    except OSError as err:
        raise InputError(err.strerror or str(err), file=display, operation="read") from None


def decode_text(data: bytes, display: str) -> str:
    """``data`` as UTF-8; an ``InputError`` naming the line of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise InputError(
            f"line {line}: not UTF-8 (byte 0x{data[err.start]:02x} at offset {err.start})",
            file=display,
            operation="read",
        ) from None


def parse_documents(
    text: str,
    display: str,
    *,
    kustomize: bool = False,
    loader_class: type[yaml.SafeLoader] | None = None,
    first_line: int = 1,
    first_only: bool = False,
) -> list[Any]:
    """Parse a YAML stream; empty documents are dropped.

    ``loader_class`` replaces the scalar rules (conftest's inputs use their own);
    ``first_line`` is the line ``text`` starts at in its file, for messages;
    ``first_only`` stops after the first document, as sigs.k8s.io/yaml does.
    """
    docs: list[Any] = []
    cls = loader_class or (_KustomizeLoader if kustomize else _Loader)
    aliases = "*" in text  # without an alias indicator no document can expand
    try:
        loader = cls(text)
        try:
            while loader.check_node():
                node = loader.get_node()
                if node is None:
                    continue
                if aliases and _count_nodes(node, {}) > MAX_NODES:
                    raise InputError(
                        f"line {node.start_mark.line + first_line}: document expands to more "
                        f"than {MAX_NODES:,} nodes through aliases (a YAML alias bomb?)",
                        file=display,
                        operation="parse",
                    )
                doc = loader.construct_document(node)
                if doc is not None:
                    docs.append(doc)
                if first_only:
                    break
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + first_line}: " if mark is not None else ""
        context = ""
        if err.context and err.context_mark is not None:
            context = f" ({err.context} at line {err.context_mark.line + first_line})"
        problem = f"{where}{err.problem or err.context}{context}"
        raise InputError(problem, file=display, operation="parse") from None
    except yaml.YAMLError as err:
        raise InputError(str(err).replace("\n", " "), file=display, operation="parse") from None
    except RecursionError:
        raise InputError("nesting too deep", file=display, operation="parse") from None
    return docs


def read_documents(path: Path, display: str | None = None, *, kustomize: bool = False) -> list[Any]:
    """All non-empty YAML documents of ``path``; ``display`` names it in errors."""
    shown = display if display is not None else str(path)
    return parse_documents(read_text(path, shown), shown, kustomize=kustomize)
