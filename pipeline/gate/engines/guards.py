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
without ``with``, where ``<path>`` is dotted keys, ``is_array(input)`` (a
``--combine`` input), and a reference to a helper
rule made only of such tests (``calico.is_node``, through the module's imports,
or a rule of the same package): a boolean rule with one body and no ``else``,
whose tests then count as written in place.  Anything else ends a body's guard.
A rule with a body that opens with none, a ``default``, a ref head (``deny.x``)
or a single-value definition counts as matching every document.
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
_INPUT = {"type": "ref", "value": [{"type": "var", "value": "input"}]}
ARRAY = "\x00array"  # what ``is_array(input)`` tests: the text "at" path () of a list input
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


Helpers = dict[Path, Guard]  # data path of a helper rule (("lib", "calico", "is_node")) -> tests


def rule_guards(modules: Iterable[Mapping[str, Any]], package: str) -> dict[str, RuleGuards]:
    """Every rule of ``package`` (across modules) with the guard of each of its bodies."""
    modules = list(modules)
    helpers = _helpers(modules)
    guards: dict[str, RuleGuards] = {}
    for module in modules:
        if package_name(module) != package:
            continue
        aliases = _aliases(module)
        for rule in module.get("rules", []):
            ref = rule.get("head", {}).get("ref") or []
            if not ref:
                continue
            name = str(ref[0].get("value"))
            guard = _rule_guard(rule, helpers, aliases) if len(ref) == 1 else None
            known = guards.get(name, ())
            guards[name] = None if guard is None or known is None else (*known, guard)
    return guards


def _package_path(module: Mapping[str, Any]) -> Path:
    return tuple(str(t.get("value")) for t in module.get("package", {}).get("path", [])[1:])


def _aliases(module: Mapping[str, Any]) -> dict[str, Path]:
    """What each name of a module refers to: its imports of ``data`` and its own package."""
    aliases: dict[str, Path] = {}
    for item in module.get("imports") or []:
        terms = item.get("path", {}).get("value") or []
        if not terms or terms[0] != {"type": "var", "value": "data"} or len(terms) < 2:
            continue
        if any(t.get("type") != "string" for t in terms[1:]):
            continue
        path = tuple(str(t["value"]) for t in terms[1:])
        aliases[str(item.get("alias") or path[-1])] = path
    aliases[""] = _package_path(module)  # a bare name: the module's own package
    return aliases


def _helpers(modules: list[Mapping[str, Any]]) -> Helpers:
    """Boolean rules defined once, by one body of literal tests only, by data path."""
    bodies: dict[Path, list[Guard | None]] = {}
    for module in modules:
        package = _package_path(module)
        for rule in module.get("rules", []):
            head = rule.get("head", {})
            ref = head.get("ref") or []
            if len(ref) != 1 or not ref:
                continue
            path = (*package, str(ref[0].get("value")))
            plain = (
                not rule.get("default")
                and not rule.get("else")
                and not head.get("args")
                and "key" not in head
                and head.get("value") == {"type": "boolean", "value": True}
            )
            tests = [_condition(expr) for expr in rule.get("body", [])] if plain else [None]
            whole = tuple(t for t in tests if t is not None)
            bodies.setdefault(path, []).append(
                whole if whole and len(whole) == len(tests) else None
            )
    return {
        path: found[0] for path, found in bodies.items() if len(found) == 1 and found[0] is not None
    }


def _helper(expr: Mapping[str, Any], helpers: Helpers, aliases: dict[str, Path]) -> Guard | None:
    """The tests of the helper rule ``expr`` refers to (``calico.is_node``, ``is_node``)."""
    if expr.get("negated") or expr.get("with") or expr.get("generated"):
        return None
    term = expr.get("terms")
    if not isinstance(term, dict):
        return None
    if term.get("type") == "var":  # a rule of the module's own package
        return helpers.get((*aliases[""], str(term.get("value"))))
    if term.get("type") != "ref":
        return None
    head, *rest = term.get("value") or [{}]
    if head.get("type") != "var" or any(part.get("type") != "string" for part in rest):
        return None
    name, keys = str(head.get("value")), tuple(str(part["value"]) for part in rest)
    if name in ("input", "data"):
        return helpers.get(keys) if name == "data" else None
    if keys and name in aliases:
        return helpers.get((*aliases[name], *keys))
    return helpers.get((*aliases[""], name)) if not keys else None


def _rule_guard(
    rule: Mapping[str, Any], helpers: Helpers | None = None, aliases: dict[str, Path] | None = None
) -> Guard | None:
    """The tests that open a multi-value (``contains``) rule's body; None if none or not one."""
    head = rule.get("head", {})
    if rule.get("default") or rule.get("else") or "key" not in head or "value" in head:
        return None
    tests: list[Condition] = []
    for expr in rule.get("body", []):
        test = _condition(expr)
        if test is not None:
            tests.append(test)
            continue
        inlined = _helper(expr, helpers or {}, aliases or {"": ()})
        if inlined is None:
            break
        tests.extend(inlined)
    return tuple(tests) or None


def _condition(expr: Mapping[str, Any]) -> Condition | None:
    """``input.a.b == "x"`` or ``input.a in {"x", "y"}`` as a ``Condition``; else None."""
    if expr.get("negated") or expr.get("with") or expr.get("generated"):
        return None
    terms = expr.get("terms")
    if isinstance(terms, list) and len(terms) == 2 and terms[1] == _INPUT:
        operator = tuple(str(t.get("value")) for t in terms[0].get("value", []))
        return Condition((), frozenset([ARRAY])) if operator == ("is_array",) else None
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
        # (rules asked, document digest) -> their values, for documents whose asked
        # rules read no data that varies between calls (``rule_values.batch_values``)
        self.verdicts: dict[tuple[tuple[str, ...], bytes], dict[str, Any]] = {}
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
    """The string at ``path`` in ``document``; None when absent or not a string
    (``ARRAY`` at the empty path for a list document: the test ``is_array(input)``)."""
    if not path:
        return ARRAY if isinstance(document, list) else None
    value = document
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value if isinstance(value, str) else None
