"""What conftest reads of a package for each document: every rule's value.

``conftest.check`` needs, per document, the value of each ``deny``/``warn``/
``violation`` rule and of ``exception`` (undefined rules are absent).  This
module asks the engine for them in as few calls as it allows:

- one term holds just those rules (``rules_query``), not all of ``data.<pkg>``,
  which would also compute every helper rule of the package;
- with an engine that parses its modules (``rule_guards``), a rule whose bodies
  all open with literal tests that a document fails is known to be ``[]`` for
  it, and a document no rule can match is not sent (``pipeline.gate.engines.guards``);
- a file-blind batch groups documents by the rules they need and asks all
  groups in one call where the engine has ``evaluate_groups``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.gate.engines.common import evaluate_many
from pipeline.gate.engines.guards import DocumentFilter, Plan, RuleGuards
from pipeline.gate.engines.protocol import Engine, EngineError, PolicyError

Values = dict[str, Any]  # rule name -> value, for one document

_VERDICTS = 20_000  # remembered verdicts per document filter (one per engine and rule set)
_FILTERS: dict[tuple[int, tuple[str, ...]], tuple[Mapping[str, RuleGuards], DocumentFilter]] = {}


def rules_query(package: str, rules: Sequence[str]) -> str:
    """One term with the value of each of ``rules`` in ``data.<package>``, each in a list.

    The list is empty when the rule is undefined, so one undefined rule does
    not make the whole object undefined.
    """
    items = (f'"{r}": [__netpack_r | __netpack_r := data.{package}.{r}]' for r in rules)
    return "{" + ", ".join(items) + "}"


def document_values(
    engine: Engine,
    package: str,
    rules: tuple[str, ...],
    document: Any,
    extra: Mapping[str, Any],
) -> Values:
    """The defined values of ``rules`` for one document (``extra`` as in ``Engine.evaluate``)."""
    plan = _plan(_document_filter(engine, package, rules, extra), rules, document)
    values: Values = {rule: [] for rule in plan.empty}
    if plan.asked:
        found = engine.evaluate(rules_query(package, plan.asked), document, extra_data=extra)
        values.update(_defined(found))
    return values


def batch_values(
    engine: Engine,
    package: str,
    rules: tuple[str, ...],
    documents: list[Any],
    data: Mapping[str, Any] | None,
) -> list[Values]:
    """``document_values`` of every document, in one engine call where it can.

    An evaluation error names the failing document by its place in
    ``documents`` (``resource="document N"``), as ``evaluate_many`` does.
    """
    found_filter = _document_filter(engine, package, rules, data)
    plans = [_plan(found_filter, rules, doc) for doc in documents]
    known: dict[Plan, Values] = {}  # what a plan alone says, shared: read-only
    for plan in plans:
        if plan not in known:
            known[plan] = {rule: [] for rule in plan.empty}
    values = [known[plan] for plan in plans]
    free = _context_free(engine, package, data) if found_filter is not None else None
    remember: dict[int, bytes] = {}  # document -> digest: its values are kept once known
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, plan in enumerate(plans):
        if not plan.asked:
            continue
        if free is not None and found_filter is not None and free.issuperset(plan.asked):
            digest = _digest(documents[i])
            hit = found_filter.verdicts.get((plan.asked, digest)) if digest else None
            if hit is not None:  # the same document, judged by rules that read no context
                values[i] = hit
                continue
            if digest is not None:
                remember[i] = digest
        groups.setdefault(plan.asked, []).append(i)
        values[i] = dict(values[i])
    asked = [(rules_query(package, a), [documents[i] for i in m]) for a, m in groups.items()]
    try:
        found = _evaluate_groups(engine, asked, data)
    except PolicyError:
        if len(groups) > 1 or sum(map(len, groups.values())) < len(documents):
            # name the failing document by its place in the whole batch
            evaluate_many(engine, rules_query(package, rules), documents, extra_data=data)
        raise
    for members, answers in zip(groups.values(), found, strict=True):
        for i, value in zip(members, answers, strict=True):
            values[i].update(_defined(value))
    if remember and found_filter is not None:
        if len(found_filter.verdicts) + len(remember) > _VERDICTS:
            found_filter.verdicts.clear()
        for i, digest in remember.items():
            found_filter.verdicts[plans[i].asked, digest] = values[i]
    return values


def _context_free(
    engine: Engine, package: str, data: Mapping[str, Any] | None
) -> frozenset[str] | None:
    """The rules of ``package`` whose values cannot depend on this call's ``data``."""
    find = getattr(engine, "context_free", None)
    if find is None:
        return None
    free: frozenset[str] | None = find(package, tuple(sorted(data or {})))
    return free


def _digest(document: Any) -> bytes | None:
    """A digest of the document's JSON, keys sorted; None for one JSON cannot hold."""
    try:
        text = json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        return None
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def _evaluate_groups(
    engine: Engine, groups: list[tuple[str, list[Any]]], data: Mapping[str, Any] | None
) -> list[list[list[Any]]]:
    together = getattr(engine, "evaluate_groups", None)
    if together is not None and len(groups) > 1:
        answers: list[list[list[Any]]] = together(groups, extra_data=data)
        return answers
    return [evaluate_many(engine, query, docs, extra_data=data) for query, docs in groups]


def _defined(found: list[Any]) -> Values:
    """The defined rules of a ``rules_query`` result.

    The term is an object of lists, so it is always defined: any other answer
    is the engine's fault (a broken OPA server), never "no rule fired".
    """
    value = found[0] if isinstance(found, list) and len(found) == 1 else None
    if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
        raise EngineError(
            f"the engine answered {json.dumps(found)[:80]} for the rules' values,"
            " where an object of lists is the only answer; not evaluated",
            operation="read rule values",
        )
    return {rule: v[0] for rule, v in value.items() if v}


def _document_filter(
    engine: Engine, package: str, rules: tuple[str, ...], data: Mapping[str, Any] | None
) -> DocumentFilter | None:
    """What ``rule_guards`` tells about ``package``; None: every rule for every document.

    Also None when the call's extra data has a value at the package's root.
    """
    find = getattr(engine, "rule_guards", None)
    if find is None or re.split(r"[.\[]", package, maxsplit=1)[0] in (data or {}):
        return None
    guards: Mapping[str, RuleGuards] | None = find(package)
    if guards is None:
        return None
    key = (id(guards), rules)  # the engine keeps one guards object per load
    cached = _FILTERS.get(key)
    if cached is None or cached[0] is not guards:
        if len(_FILTERS) >= 32:
            _FILTERS.clear()
        cached = _FILTERS[key] = (guards, DocumentFilter(rules, guards))
    return cached[1]


def _plan(found: DocumentFilter | None, rules: tuple[str, ...], document: Any) -> Plan:
    return found.plan(document) if found else Plan(rules, ())
