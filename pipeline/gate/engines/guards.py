"""Which documents a rule can match, read off the literal tests that open its bodies.

conftest evaluates every ``deny``/``violation``/``warn`` rule, and ``exception``,
for every document, yet most rules concern one kind of object.  A body that
starts with literal tests on the document, such as::

    deny_node_host_network contains msg if {
        input.kind == "DaemonSet"
        input.metadata.name == "calico-node"
        ...

fails before anything else runs for any other document: OPA evaluates a body
in order, and the compiler only moves expressions whose variables are unbound.
So when every body of a ``contains`` rule opens that way, the rule is the empty
set for every document that passes none of those tests, and ``conftest.check``
answers ``[]`` for it without asking the engine.  A document that no rule can
match never reaches the engine at all: its JSON is not even encoded.

The tests recognised are ``input.<path> == "text"`` (or ``=``, either side) and
``input.<path> in {"a", "b"}`` (a set or array of strings), unnegated and
without ``with``, where ``<path>`` is dotted keys.  Anything else ends a body's
guard.  A rule with a body that opens with none, a ``default``, a ref head
(``deny.x``) or a single-value definition counts as matching every document.
The modules are OPA's own parse (``rego.parse_module``), not a second parser.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

Path = tuple[str, ...]


class Condition(NamedTuple):
    """``input.<path>`` is a string and one of ``values``."""

    path: Path
    values: frozenset[str]


Guard = tuple[Condition, ...]  # the tests that open one body: all must hold
RuleGuards = tuple[Guard, ...] | None  # one guard per body; None: no test on some body

_EQUALITY = {("equal",), ("eq",)}
_MEMBER = ("internal", "member_2")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def package_name(module: Mapping[str, Any]) -> str:
    """The package of a parsed module as conftest names namespaces: ``main``, ``a["b-c"]``."""
    name = ""
    for term in module.get("package", {}).get("path", [])[1:]:
        part = str(term.get("value"))
        if not name:
            name = part
        else:
            name += f".{part}" if _IDENT.fullmatch(part) else f'["{part}"]'
    return name


def rule_guards(modules: Iterable[Mapping[str, Any]], package: str) -> dict[str, RuleGuards]:
    """Every rule of ``package`` (across modules) with the guard of each of its bodies."""
    guards: dict[str, RuleGuards] = {}
    for module in modules:
        if package_name(module) != package:
            continue
        for rule in module.get("rules", []):
            ref = rule.get("head", {}).get("ref") or []
            if not ref:
                continue
            name = str(ref[0].get("value"))
            guard = _rule_guard(rule) if len(ref) == 1 else None
            known = guards.get(name, ())
            guards[name] = None if guard is None or known is None else (*known, guard)
    return guards


def _rule_guard(rule: Mapping[str, Any]) -> Guard | None:
    """The tests that open a multi-value (``contains``) rule's body; None if none or not one."""
    head = rule.get("head", {})
    if rule.get("default") or rule.get("else") or "key" not in head or "value" in head:
        return None
    tests: list[Condition] = []
    for expr in rule.get("body", []):
        test = _condition(expr)
        if test is None:
            break
        tests.append(test)
    return tuple(tests) or None


def _condition(expr: Mapping[str, Any]) -> Condition | None:
    """``input.a.b == "x"`` or ``input.a in {"x", "y"}`` as a ``Condition``; else None."""
    if expr.get("negated") or expr.get("with") or expr.get("generated"):
        return None
    terms = expr.get("terms")
    if not isinstance(terms, list) or len(terms) != 3:
        return None
    operator = tuple(str(t.get("value")) for t in terms[0].get("value", []))
    left, right = terms[1], terms[2]
    if operator in _EQUALITY:
        if (path := _input_path(left)) is not None and (text := _string(right)) is not None:
            return Condition(path, frozenset([text]))
        if (path := _input_path(right)) is not None and (text := _string(left)) is not None:
            return Condition(path, frozenset([text]))
        return None
    if operator == _MEMBER and (path := _input_path(left)) is not None:
        texts = _strings(right)
        return Condition(path, texts) if texts is not None else None
    return None


def _input_path(term: Mapping[str, Any]) -> Path | None:
    """``("kind",)`` for the ref ``input.kind``; None for anything but a string-keyed input ref."""
    if term.get("type") != "ref":
        return None
    head, *rest = term.get("value") or [{}]
    if head != {"type": "var", "value": "input"} or not rest:
        return None
    if any(part.get("type") != "string" for part in rest):
        return None
    return tuple(str(part["value"]) for part in rest)


def _string(term: Mapping[str, Any]) -> str | None:
    value = term.get("value")
    return value if term.get("type") == "string" and isinstance(value, str) else None


def _strings(term: Mapping[str, Any]) -> frozenset[str] | None:
    """The strings of a set or array literal holding only strings."""
    if term.get("type") not in ("set", "array"):
        return None
    texts = [_string(item) for item in term.get("value") or []]
    if not texts or any(t is None for t in texts):
        return None
    return frozenset(t for t in texts if t is not None)


class Plan(NamedTuple):
    """For one document: the rules to ask the engine, and those known to be ``[]``."""

    asked: tuple[str, ...]
    empty: tuple[str, ...]


class DocumentFilter:
    """Which of a namespace's rules to evaluate for a document.

    ``guards`` lists every rule the package defines (``rule_guards``): a rule
    missing from it is undefined for every document and is never asked; one
    whose guard is ``None`` is always asked; any other is asked when one of
    its bodies' guards holds, and is otherwise the empty set.  Plans are
    cached by the document's strings at the tested paths, so a document
    costs a lookup per path and one dict lookup.
    """

    def __init__(self, rules: Sequence[str], guards: Mapping[str, RuleGuards]) -> None:
        self._guards = {r: guards[r] for r in rules if r in guards}
        tested: dict[Path, set[str]] = {}
        for guard in self._guards.values():
            for condition in (c for body in guard or () for c in body):
                tested.setdefault(condition.path, set()).update(condition.values)
        self._tested = sorted(tested.items())
        self._plans: dict[tuple[str | None, ...], Plan] = {}

    def plan(self, document: Any) -> Plan:
        # Only the values some condition names tell documents apart: the cache stays small.
        key = tuple(
            text if (text := _text_at(document, path)) in values else None
            for path, values in self._tested
        )
        found = self._plans.get(key)
        if found is None:
            texts = dict(zip((path for path, _ in self._tested), key, strict=True))
            found = self._plans[key] = self._plan(texts)
        return found

    def _plan(self, texts: Mapping[Path, str | None]) -> Plan:
        asked: list[str] = []
        empty: list[str] = []
        for rule, guard in self._guards.items():
            if guard is None or any(all(texts[t.path] in t.values for t in g) for g in guard):
                asked.append(rule)
            else:
                empty.append(rule)
        return Plan(tuple(asked), tuple(empty))


def _text_at(document: Any, path: Path) -> str | None:
    """The string at ``path`` in ``document``; None when absent or not a string."""
    value = document
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value if isinstance(value, str) else None
