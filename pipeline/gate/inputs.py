"""Reading the files to test the way conftest reads them (parser/parser.go, parser/yaml/yaml.go).

``read_inputs(paths)`` returns one ``(display path, documents)`` pair per file,
sorted by path.  Every file is a list of documents, because conftest evaluates
each element of a top-level array on its own: a YAML file split on ``---``, a
top-level YAML list and a JSON array alike.

YAML follows sigs.k8s.io/yaml (yaml.v2, YAML 1.1 scalars): ``y``/``on``/``off``
are booleans, ``0o17`` is 15, ``1e3`` is 1000, dates and ``12:30`` stay strings,
non-string keys become strings.  Unlike sigs.k8s.io/yaml, a duplicate key is an
error (the last-one-wins rule hides mistakes), and alias bombs and non-UTF-8
bytes are refused as ``pipeline.yamlio`` refuses them.  Numbers reach Rego as
JSON numbers: integral values are ints, integers beyond 2**53 become floats.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import InputError
from pipeline.yamlio import _Loader, parse_documents, read_text, unique_keys

SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"
_EXACT_INT = 2**53  # float64 holds every integer up to here; conftest goes through float64

_PLAIN_TAG = "tag:netpack,2025:yaml11-plain"
_KEPT = {"tag:yaml.org,2002:null", "tag:yaml.org,2002:merge"}
_SPECIAL: dict[str, Any] = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "on", "On", "ON"), True),
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "off", "Off", "OFF"), False),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
# yaml.v2 resolve(): strconv.ParseInt(s, 0, 64) after removing "_", then this float form.
_GO_INT = re.compile(r"([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")
_YAML_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?")


class _Yaml11Loader(_Loader):
    """``pipeline.yamlio``'s loader with yaml.v2's plain-scalar resolution."""


_Yaml11Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag in _KEPT]
    for first, resolvers in _Loader.yaml_implicit_resolvers.items()
}
_Yaml11Loader.add_implicit_resolver(
    _PLAIN_TAG, re.compile(r"(?s).*"), list("-+0123456789.yYnNtTfFoO")
)


def _go_int(plain: str) -> int | None:
    """``strconv.ParseInt(plain, 0, 64)``, falling back to ``ParseUint``."""
    match = _GO_INT.fullmatch(plain)
    if match is None:
        return None
    sign, digits = match.groups()
    prefix = digits[1:2].lower() if len(digits) > 1 else ""
    if prefix in ("x", "o", "b"):
        magnitude = int(digits[2:], {"x": 16, "o": 8, "b": 2}[prefix])
    else:
        magnitude = int(digits, 8 if len(digits) > 1 and digits[0] == "0" else 10)
    value = -magnitude if sign == "-" else magnitude
    limit = 2**63 - 1 if sign else 2**64 - 1
    return value if -(2**63) <= value <= limit else None


def _resolve_plain(text: str) -> Any:
    """The value yaml.v2 gives an untagged plain scalar (resolve.go)."""
    if text in _SPECIAL:
        return _SPECIAL[text]
    if text.startswith("."):
        return float(text) if _DOT_FLOAT.fullmatch(text) else text
    if text[:1] in "-+0123456789":
        plain = text.replace("_", "")
        number = _go_int(plain)
        if number is not None:
            return number
        if _YAML_FLOAT.fullmatch(plain):
            value = float(plain)
            return text if math.isinf(value) else value  # Go: out of range is an error
    return text


def _json_number(value: float, node: yaml.Node) -> int | float:
    if math.isnan(value) or math.isinf(value):
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} cannot be represented in JSON", node.start_mark
        )
    if value.is_integer() and abs(value) <= _EXACT_INT:
        return int(value)
    return value


def _construct_plain(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    value = _resolve_plain(node.value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if isinstance(value, int) and abs(value) <= _EXACT_INT:
        return value
    return _json_number(float(value), node)


def _key_text(key: Any, node: yaml.Node) -> str:
    """sigs.k8s.io/yaml turns every key into a string; a null key is an error."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        return repr(key)
    what = "null" if key is None else type(key).__name__
    raise yaml.constructor.ConstructorError(
        None, None, f"unsupported mapping key ({what})", node.start_mark
    )


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[str, Any]:
    unique_keys(loader, node, _key_text)
    loader.flatten_mapping(node)
    return {
        _key_text(loader.construct_object(k, deep=True), k): loader.construct_object(v, deep=True)
        for k, v in node.value
    }


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int | float:
    return _json_number(loader.construct_yaml_float(node), node)


_Yaml11Loader.add_constructor(_PLAIN_TAG, _construct_plain)
_Yaml11Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Yaml11Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Yaml11Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_str)


def _first_document(text: str, display: str, first_line: int) -> Any:
    """The first document of ``text`` (sigs.k8s.io/yaml reads no further); empty is None."""
    docs = parse_documents(
        text, display, loader_class=_Yaml11Loader, first_line=first_line, first_only=True
    )
    return _check_json(docs[0], display) if docs else None


def _check_json(value: Any, display: str) -> Any:
    """Refuse values JSON cannot hold (explicit ``!!binary``, ``!!set`` and the like)."""
    if isinstance(value, dict):
        for item in value.values():
            _check_json(item, display)
    elif isinstance(value, list):
        for item in value:
            _check_json(item, display)
    elif value is not None and not isinstance(value, str | int | float):
        raise InputError(
            f"a {type(value).__name__} value cannot be represented in JSON",
            file=display,
            operation="parse",
        )
    return value


def parse_yaml(text: str, display: str) -> Any:
    """conftest's YAML parser: split on the literal ``\\n---\\n``, then one document per part.

    A leading ``---`` does not split (no newline before it); a trailing one adds
    a ``None`` document; ``--- # comment`` is no separator, so only the first
    document before it is read.  More than one part gives a list.
    """
    newline = "\r\n" if "\r\n" in text else "\n"
    parts = text.split(f"{newline}---{newline}")
    if len(parts) > 1 and parts[0].lstrip().startswith("%"):
        parts[:2] = [f"{parts[0]}{newline}---{newline}{parts[1]}"]  # directives stay with doc 1
    if len(parts) == 1:
        return _first_document(text, display, 1)
    docs, line = [], 1
    for part in parts:
        docs.append(_first_document(part, display, line))
        line += part.count("\n") + 2
    return docs


def parse_yaml_document(text: str, display: str) -> Any:
    """The first YAML document of ``text``, as OPA's loader reads a data file."""
    return _first_document(text, display, 1)


def parse_json(text: str, display: str) -> Any:
    """A JSON document; duplicate keys and NaN/Infinity are errors, numbers as in YAML."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise ValueError(f"duplicate key {key!r}")
            out[key] = value
        return out

    def bad_constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    def number(token: str) -> int | float:
        value = float(token)
        if value.is_integer() and abs(value) <= _EXACT_INT:
            return int(value)
        return value

    try:
        return json.loads(
            text,
            object_pairs_hook=pairs,
            parse_constant=bad_constant,
            parse_float=number,
            parse_int=number,
        )
    except json.JSONDecodeError as err:
        raise InputError(f"line {err.lineno}: {err.msg}", file=display, operation="parse") from None
    except (ValueError, RecursionError) as err:
        raise InputError(str(err) or "nesting too deep", file=display, operation="parse") from None


def parse_toml(text: str, display: str) -> Any:
    """A TOML document (conftest's toml parser); dates and times as RFC 3339 text."""
    import tomllib

    try:
        value = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError(str(err), file=display, operation="parse") from None
    return _plain(value)


def _plain(value: Any) -> Any:
    """TOML's values as JSON ones: datetimes as Go's RFC 3339 text, floats as numbers."""
    import datetime

    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        text = value.isoformat()
        return text[: -len("+00:00")] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return value  # refused by the engine's JSON encoder, with the file named there
        return int(value) if value.is_integer() and abs(value) <= _EXACT_INT else value
    return value


# ``--parser`` names netpack reads (conftest also has hcl1/hcl2, cue, ini, xml, ...).
PARSERS = {"yaml": parse_yaml, "json": parse_json, "toml": parse_toml}
_BY_SUFFIX = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".toml": "toml"}
INPUT_SUFFIXES = tuple(_BY_SUFFIX)


def parser_named(name: str) -> Any:
    """The parse function of ``--parser name``; a ``UsageError`` for one netpack lacks."""
    from pipeline.errors import UsageError

    found = PARSERS.get(name)
    if found is None:
        raise UsageError(
            f"parser {name!r} is not available in netpack (available: {', '.join(PARSERS)})",
            operation="--parser",
        )
    return found


def documents_of(value: Any) -> list[Any]:
    """conftest's Check(): a top-level array is several documents, anything else one."""
    return list(value) if isinstance(value, list) else [value]


def parse_value(path: Path, display: str, parser: str | None = None) -> Any:
    """One input file parsed as a whole (``parser``, else by extension; YAML by default)."""
    text = read_text(path, display)
    name = parser or _BY_SUFFIX.get(path.suffix.lower(), "yaml")
    return parser_named(name)(text, display)


def parse_file(path: Path, display: str, parser: str | None = None) -> list[Any]:
    """The documents of one input file (``parse_value`` split as conftest's Check splits)."""
    return documents_of(parse_value(path, display, parser))


def read_stdin_value(parser: str | None = None) -> Any:
    """Standard input parsed as a whole: YAML unless ``parser`` says otherwise."""
    data = sys.stdin.buffer.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(f"not UTF-8 (offset {err.start})", file=STDIN, operation="read") from None
    return parser_named(parser or "yaml")(text, STDIN)


def input_files(
    paths: Sequence[str], ignore: str | None = None, suffixes: tuple[str, ...] = SUFFIXES
) -> list[str]:
    """Display paths of the files to test: directories are walked for files with
    ``suffixes`` (``netpack test`` and ``parse`` also read ``.toml``, ``INPUT_SUFFIXES``).

    ``ignore`` is conftest's ``--ignore``: a regular expression searched in each
    path found while walking a directory; matching files are skipped (files
    named on the command line are always read).
    """
    pattern = _ignore_pattern(ignore)
    found: set[str] = set()
    for given in paths:
        if given == STDIN:
            found.add(STDIN)
        elif os.path.isdir(given):
            for root, dirs, files in os.walk(given):
                dirs.sort()
                for name in files:
                    path = os.path.join(root, name)
                    if os.path.splitext(name)[1].lower() not in suffixes:
                        continue
                    if pattern is None or not pattern.search(path):
                        found.add(path)
        elif not os.path.lexists(given):
            raise InputError("no such file or directory", file=given, operation="read")
        else:
            found.add(given)
    return sorted(found)


def _ignore_pattern(ignore: str | None) -> re.Pattern[str] | None:
    if not ignore:
        return None
    from pipeline.errors import UsageError

    try:
        return re.compile(ignore)
    except re.error as err:
        raise UsageError(f"given regexp couldn't be parsed: {err}", operation="--ignore") from None


def _check_type(name: str, parser: str | None, suffixes: tuple[str, ...]) -> None:
    if parser is None and name != STDIN and os.path.splitext(name)[1].lower() not in suffixes:
        shown = ", ".join(suffixes[:-1]) + f" and {suffixes[-1]}"
        raise InputError(
            f"unsupported file type (netpack reads {shown})", file=name, operation="parse"
        )


def read_values(
    paths: Sequence[str],
    *,
    parser: str | None = None,
    ignore: str | None = None,
    suffixes: tuple[str, ...] = SUFFIXES,
) -> list[tuple[str, Any]]:
    """``(display path, parsed value)`` for every input file, sorted by path (``netpack parse``)."""
    if parser is not None:
        parser_named(parser)
    names = input_files(paths, ignore, suffixes)
    for name in names:
        _check_type(name, parser, suffixes)
    return [
        (name, read_stdin_value(parser) if name == STDIN else parse_value(Path(name), name, parser))
        for name in names
    ]


def read_inputs(
    paths: Sequence[str],
    *,
    parser: str | None = None,
    ignore: str | None = None,
    suffixes: tuple[str, ...] = SUFFIXES,
) -> list[tuple[str, list[Any]]]:
    """``(display path, documents)`` for every input file, sorted by path; ``-`` is stdin."""
    found = read_values(paths, parser=parser, ignore=ignore, suffixes=suffixes)
    return [(name, documents_of(value)) for name, value in found]
