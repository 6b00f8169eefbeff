"""Loading policies and ``--data`` the way conftest does (conftest policy/engine.go).

``load_policies(paths)`` reads every ``*.rego`` under the given files and
directories (``*_test.rego`` too, unless ``include_tests=False``: regopy must
not see them) and scans each module for its package and top-level rule heads.
The engine API has no AST, so the heads come from a small Rego scanner that
knows comments, strings (raw and template ones too), brackets and where a
statement starts.  conftest needs them to count rule definitions (``ruleCount``)
and to reject ``deny[msg] if {...}`` (``check_problematic_if``).

``load_data(paths)`` merges ``.yaml/.yml/.json`` files into one document: the
given directory is the root, each subdirectory adds a key, objects merge.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from pipeline.errors import InputError
from pipeline.gate import inputs
from pipeline.gate.engines.protocol import PolicyError
from pipeline.yamlio import read_text

RULE_NAME = re.compile(r"(deny|violation|warn)(_[a-zA-Z0-9]+)*")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Rego's keywords; a statement never starts with one but default, import and package.
_KEYWORDS = set(
    "as contains default else every false if import in not null package some true with".split()  # noqa: SIM905 (reads better than 15 quoted words)
)
_STARTS = {"default", "import", "package"}
_OPS = (":=", "==", "!=", "<=", ">=")


class Rule(NamedTuple):
    """A top-level rule head; ``name`` is OPA's ``Head.Name``, empty for ref heads (``a[x]``)."""

    name: str
    line: int
    problematic: bool = False  # a deny/violation/warn ref head whose value is ``true``


@dataclass(frozen=True)
class Module:
    path: str
    package: str  # e.g. "main.gke", without "data."
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Policies:
    """The modules (display path -> source), their scanned heads, and the merged data."""

    modules: dict[str, str]
    scanned: tuple[Module, ...]
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def packages(self) -> list[str]:
        return sorted({m.package for m in self.scanned})

    def without_tests(self) -> dict[str, str]:
        """The modules minus ``*_test.rego``: what ``test`` needs to evaluate."""
        return {p: src for p, src in self.modules.items() if not p.endswith("_test.rego")}


class _Token(NamedTuple):
    kind: str  # ident, string, number, op, open, close
    text: str
    line: int
    depth: int
    first: bool  # the first token on its line
    start: int = 0  # offset in the source


def _skip_string(src: str, i: int) -> int:
    """Index just past the string starting at ``src[i]`` (``"``, `````, ``$"`` or ``$```)."""
    template = src[i] == "$"
    if template:
        i += 1
    quote, i = src[i], i + 1
    while i < len(src) and src[i] != quote:
        if src[i] == "\\" and quote == '"':
            i += 2
            continue
        if template and src[i] == "{":
            i = _skip_braces(src, i)
            continue
        i += 1
    return i + 1


def _skip_braces(src: str, i: int) -> int:
    """Index just past the ``{...}`` expression of a template string starting at ``src[i]``."""
    level = 0
    while i < len(src):
        char = src[i]
        if char in '"`' or (char == "$" and src[i + 1 : i + 2] in ('"', "`")):
            i = _skip_string(src, i)
            continue
        level += {"{": 1, "}": -1}.get(char, 0)
        i += 1
        if level == 0:
            break
    return i


def _tokens(src: str) -> Iterator[_Token]:
    i, line, depth, last_line = 0, 1, 0, 0
    while i < len(src):
        char = src[i]
        if char == "\n":
            line, i = line + 1, i + 1
            continue
        if char.isspace():
            i += 1
            continue
        if char == "#":
            end = src.find("\n", i)
            i = len(src) if end < 0 else end
            continue
        start, first = i, line != last_line
        last_line = line
        if char in '"`' or (char == "$" and src[i + 1 : i + 2] in ('"', "`")):
            i = _skip_string(src, i)
            yield _Token("string", src[start:i], line, depth, first, start)
            line += src.count("\n", start, i)
            last_line = line
        elif match := _IDENT.match(src, i):
            i = match.end()
            yield _Token("ident", match.group(), line, depth, first, start)
        elif char.isdigit():
            while i < len(src) and (src[i].isalnum() or src[i] in "._"):
                i += 1
            yield _Token("number", src[start:i], line, depth, first, start)
        elif char in "{[(":
            yield _Token("open", char, line, depth, first, start)
            depth, i = depth + 1, i + 1
        elif char in "}])":
            depth, i = max(depth - 1, 0), i + 1
            yield _Token("close", char, line, depth, first, start)
        else:
            op = next((o for o in _OPS if src.startswith(o, i)), char)
            i += len(op)
            yield _Token("op", op, line, depth, first, start)


def _continues(current: list[_Token]) -> bool:
    """Whether a statement ending as ``current`` does must go on on the next line."""
    previous = current[-1]
    if previous.kind == "op" or previous.kind == "open":
        return True
    if len(current) > 1 and current[-2].text == ".":  # future.keywords.if: a name
        return False
    return previous.kind == "ident" and previous.text in _KEYWORDS - {"true", "false", "null"}


def _statements(src: str) -> Iterator[list[_Token]]:
    current: list[_Token] = []
    for token in _tokens(src):
        starts = (
            token.depth == 0
            and token.first
            and token.kind == "ident"
            and (token.text in _STARTS or token.text not in _KEYWORDS)
            and not (current and _continues(current))
        )
        if starts and current:
            yield current
            current = []
        current.append(token)
    if current:
        yield current


def _unquote(token: _Token) -> str:
    text = token.text
    return (
        text[1:-1] if text.startswith("`") else bytes(text[1:-1], "utf-8").decode("unicode_escape")
    )


def _package(tokens: list[_Token]) -> str:
    parts = [
        _unquote(t) if t.kind == "string" else t.text
        for t in tokens[1:]
        if t.kind in ("ident", "string")
    ]
    path = parts[0] if parts else ""
    for part in parts[1:]:
        path += f".{part}" if _IDENT.fullmatch(part) else f'["{part}"]'
    return path


def _rule(tokens: list[_Token]) -> Rule | None:
    head = tokens[1:] if tokens[0].text == "default" else tokens
    if not head or head[0].kind != "ident":
        return None
    is_ref = len(head) > 1 and head[1].text in (".", "[") and head[1].depth == 0
    if not is_ref:
        return Rule(head[0].text, head[0].line)
    body = next((n for n, t in enumerate(head) if t.depth == 0 and t.text == "if"), len(head))
    top = [t.text for t in head[:body] if t.depth == 0]
    assign = next(
        (n for n, t in enumerate(head[:body]) if t.depth == 0 and t.text in (":=", "=")), None
    )
    value = [t.text for t in head[assign + 1 : body]] if assign is not None else ["true"]
    problematic = bool(RULE_NAME.fullmatch(head[0].text)) and "contains" not in top
    return Rule("", head[0].line, problematic and value == ["true"])


def scan_module(path: str, src: str) -> Module:
    """The package and top-level rule heads of one Rego module (``else`` is no new rule)."""
    package, rules = "", []
    for statement in _statements(src):
        keyword = statement[0].text
        if keyword == "package":
            package = _package(statement)
        elif keyword != "import" and (rule := _rule(statement)) is not None:
            rules.append(rule)
    return Module(path, package, tuple(rules))


def as_rego_v1(policies: Policies) -> Policies:
    """``policies`` written in Rego v0, converted module by module (``v0_to_v1``)."""
    modules = {path: v0_to_v1(src) for path, src in policies.modules.items()}
    scanned = tuple(scan_module(path, src) for path, src in modules.items())
    return Policies(modules, scanned, policies.data)


def v0_to_v1(src: str) -> str:
    """A Rego v0 module in v1 syntax, as ``--rego-version v0`` needs: ``if`` before every
    rule body, and ``contains`` in a partial set head (``deny[msg] {`` becomes
    ``deny contains msg if {``).  Everything else is kept byte for byte; v0 modules
    that also import ``future.keywords`` or ``rego.v1`` convert the same way.
    """
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement), non-overlapping
    for statement in _statements(src):
        if statement[0].text in ("package", "import"):
            continue
        head = statement[1:] if statement[0].text == "default" else statement
        body = _v0_bodies(head)
        end = body[0] if body else len(head)
        top = [t for t in head[:end] if t.depth == 0]
        if (
            len(head) > 1
            and head[1].text == "["
            and head[1].depth == 0
            and not any(t.text in (":=", "=", "contains") for t in top)
        ):
            close = next(i for i, t in enumerate(head) if t.depth == 0 and t.text == "]")
            after = head[close + 1] if close + 1 < len(head) else None
            if after is None or after.text in ("if", "{"):
                edits.append((head[1].start, head[1].start + 1, " contains "))
                edits.append((head[close].start, head[close].start + 1, ""))
        edits += [(head[i].start, head[i].start, "if ") for i in body]
    out, last = [], 0
    for start, stop, text in sorted(edits):
        out += [src[last:start], text]
        last = stop
    return "".join([*out, src[last:]])


def _v0_bodies(head: list[_Token]) -> list[int]:
    """Indexes of the ``{`` that open rule bodies without ``if``: a top-level brace after
    anything but an operator (``p = {...}`` is a value) or ``if``."""
    found = []
    for i, token in enumerate(head):
        if token.kind != "open" or token.text != "{" or token.depth != 0 or i == 0:
            continue
        before = head[i - 1]
        if before.kind == "op" or (before.kind == "ident" and before.text == "if"):
            continue
        found.append(i)
    return found


def check_problematic_if(policies: Policies) -> None:
    """conftest's load-time check: in Rego v1 ``deny[msg] if {...}`` is an object, not a set."""
    for module in policies.scanned:
        for rule in module.rules:
            if rule.problematic:
                raise PolicyError(
                    "rule is using 'if' keyword without 'contains' keyword: "
                    f"rule in {module.path} at line {rule.line}",
                    operation="load policies",
                )


def _walk(paths: Sequence[str], keep: tuple[str, ...], what: str) -> list[str]:
    files: set[str] = set()
    for given in paths:
        if os.path.isdir(given):
            for root, dirs, names in os.walk(given):
                dirs.sort()
                files.update(os.path.join(root, n) for n in names if n.lower().endswith(keep))
        elif os.path.isfile(given):
            if given.lower().endswith(keep):
                files.add(given)
        else:
            raise InputError("no such file or directory", file=given, operation=f"load {what}")
    return sorted(files)


def load_policies(
    paths: Sequence[str], data_paths: Sequence[str] = (), *, include_tests: bool = True
) -> Policies:
    """Every ``*.rego`` module under ``paths`` plus the ``--data`` document."""
    files = [
        f
        for f in _walk(paths, (".rego",), "policies")
        if include_tests or not f.endswith("_test.rego")
    ]
    if not files:
        shown = " ".join(paths)
        raise PolicyError(f"no policies found in [{shown}]", operation="load policies")
    modules = {f: read_text(Path(f), f) for f in files}
    scanned = tuple(scan_module(f, src) for f, src in modules.items())
    return Policies(modules, scanned, load_data(data_paths))


def _data_key(given: str, file: str) -> list[str]:
    """The data path of ``file``: its directories below the ``-d`` directory ``given``."""
    if not os.path.isdir(given):
        return []
    relative = os.path.relpath(os.path.dirname(file), given)
    return [] if relative == "." else relative.split(os.sep)


def _merge(
    into: dict[str, Any],
    value: dict[str, Any],
    where: list[str],
    owners: dict[tuple[str, ...], str],
    file: str,
) -> None:
    for key, item in value.items():
        path = (*where, key)
        if key not in into:
            into[key] = item
            owners[path] = file
        elif isinstance(into[key], dict) and isinstance(item, dict):
            _merge(into[key], item, list(path), owners, file)
        else:
            first = next((f for p, f in owners.items() if p == path[: len(p)]), file)
            raise InputError(
                f"data.{'.'.join(path)} is set by both {first} and {file}",
                file=file,
                operation="load data",
            )


def load_data(paths: Sequence[str]) -> dict[str, Any]:
    """Merge every data file under ``paths``; a subdirectory adds a key, a file name none."""
    data: dict[str, Any] = {}
    owners: dict[tuple[str, ...], str] = {}
    for given in paths:
        for file in _walk([given], inputs.SUFFIXES, "data"):
            text = read_text(Path(file), file)
            if file.lower().endswith(".json"):
                value = inputs.parse_json(text, file)
            else:
                value = inputs.parse_yaml_document(text, file)
            key = _data_key(given, file)
            for part in reversed(key):
                value = {part: value}
            if value is None:
                continue
            if not isinstance(value, dict):
                raise InputError(
                    "a data file must hold an object", file=file, operation="load data"
                )
            _merge(data, value, [], owners, file)
    return data
