"""Which rules can read a part of ``data``: the gate's license to reuse a verdict.

A rule whose evaluation cannot reach ``data.netpack`` (the cluster's context)
gives the same value for the same document in every cluster: the policy set and
its static data are fixed for a loaded engine.  ``conftest.check`` may then
answer an identical document (the fleet's CRDs, RBAC, service accounts) from
the first cluster's evaluation (``rule_values.batch_values``).

The answer is read off OPA's own parse of the modules, conservatively: every
reference in a rule (body, head, ``with``, comprehensions, function calls) is
resolved through the module's imports and package to a ``data`` path; a rule
reads ``data.<key>`` when one of its paths is ``data.<key>`` or below it, or
above it (``data`` alone, a dynamic ``data[x]``), or when it refers to a rule
that does.  A name it cannot resolve is a local variable.  Anything this
misses makes a rule *more* context-dependent, never less.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from pipeline.gate.engines.guards import Path, _aliases, _package_path, package_name


def context_free(
    modules: Iterable[Mapping[str, Any]], package: str, keys: Sequence[str]
) -> frozenset[str]:
    """The rules of ``package`` whose value cannot depend on ``data.<key>`` for any key."""
    modules = list(modules)
    rules: dict[Path, list[Path]] = {}  # rule -> the data paths it refers to
    for module in modules:
        aliases = _aliases(module)
        own = aliases[""]
        for rule in module.get("rules", []):
            ref = rule.get("head", {}).get("ref") or []
            if not ref:
                continue
            path = (*own, str(ref[0].get("value")))
            rules.setdefault(path, []).extend(_paths(rule, aliases))
    reading = {p for p, refs in rules.items() if any(_touches(r, keys) for r in refs)}
    changed = True
    while changed:  # a rule reads what the rules it refers to read
        changed = False
        for path, refs in rules.items():
            if path not in reading and any(_reaches(r, reading) for r in refs):
                reading.add(path)
                changed = True
    names = {
        path[-1]
        for module in modules
        if package_name(module) == package
        for path in rules
        if path[:-1] == _package_path(module)
    }
    own_paths = {p for p in rules if p[-1] in names and _name_of(p[:-1]) == package}
    return frozenset(p[-1] for p in own_paths if p not in reading)


def _name_of(path: Path) -> str:
    return package_name({"package": {"path": [{}, *({"value": part} for part in path)]}})


def _touches(path: Path, keys: Sequence[str]) -> bool:
    """``data.<path>`` is ``data.<key>``, below it, or above it."""
    return any(path[:1] == (key,) or not path for key in keys)


def _reaches(path: Path, rules: set[Path]) -> bool:
    """``data.<path>`` is one of ``rules``, inside one's value, or a package holding one."""
    return any(rule[: len(path)] == path or path[: len(rule)] == rule for rule in rules)


def _paths(node: Any, aliases: dict[str, Path]) -> Iterator[Path]:
    """Every ``data`` path a rule's JSON refers to (the static prefix of each ref)."""
    if isinstance(node, dict):
        if node.get("type") == "ref" and isinstance(node.get("value"), list):
            found = _resolve(node["value"], aliases)
            if found is not None:
                yield found
            for term in node["value"][1:]:  # its head is resolved; a dynamic part may refer on
                yield from _paths(term, aliases)
            return
        if node.get("type") == "var" and isinstance(node.get("value"), str):
            name = node["value"]
            if name == "data":
                yield ()
            elif name in aliases and name:
                yield aliases[name]
            else:  # perhaps a rule of the same package, perhaps a local: assume the rule
                yield (*aliases[""], name)
        for value in node.values():
            yield from _paths(value, aliases)
    elif isinstance(node, list):
        for value in node:
            yield from _paths(value, aliases)


def _resolve(terms: list[Any], aliases: dict[str, Path]) -> Path | None:
    """The static data path a ref starts with; None for ``input`` and locals' refs."""
    head = terms[0] if terms else {}
    if not isinstance(head, dict) or head.get("type") != "var":
        return None
    name = str(head.get("value"))
    if name == "input":
        return None
    if name == "data":
        base: Path = ()
    elif name in aliases and name:
        base = aliases[name]
    else:
        base = (*aliases[""], name)  # a rule of this package (or a local: harmless)
    keys = []
    for term in terms[1:]:
        if not isinstance(term, dict) or term.get("type") != "string":
            break  # dynamic from here: the prefix stands for everything below it
        keys.append(str(term["value"]))
    return (*base, *keys)
