"""conftest's evaluation semantics over any ``Engine`` (conftest policy/engine.go).

For each namespace and input document conftest queries every distinct
``deny``/``violation``/``warn`` rule and its exceptions.  We get the same
answers from the values of those rules and ``exception`` for the document,
asked of the engine together (``pipeline.gate.rule_values``), and read them
in Python:

- a list value gives one result per element (string -> ``msg``; object -> ``msg``
  required, ``_loc`` -> ``loc``, other keys -> ``metadata``); an empty list or a
  non-list value (``deny if true``) is one success; an undefined rule gives none;
- if ``exception[_][_] == "<name minus prefix>"`` matches, the rule's results are
  dropped and each matching row is one exception whose message is that query;
- successes are padded up to ``ruleCount``, the number of rule definitions.

A rule known to be the empty set for a document without asking the engine
(``pipeline.gate.engines.guards``) counts exactly like one the engine evaluated.

Output order is deterministic: namespaces sorted, then files sorted.  The
pipeline gate passes already-parsed documents::

    policies = load_policies(["policies"], ["policies/data"])
    engine.load(policies.without_tests(), policies.data)
    check_problematic_if(policies)
    results = check(engine, [("aws-prod-1.yaml", docs)], namespaces(policies, ["main"]))
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from pipeline.errors import UsageError
from pipeline.gate import rule_values
from pipeline.gate.engines.protocol import Engine, EngineError, PolicyError, TestOutcome
from pipeline.gate.policies import RULE_NAME, Policies
from pipeline.model.results import CheckResult, Location, Result

FAILURE = re.compile(r"(deny|violation)(_[a-zA-Z0-9]+)*")
COMBINED = "Combined"
EXCEPTION = "exception"
_ABSENT = object()  # a rule missing from a document's values: undefined
Documents = list[tuple[str, list[Any]]]


class Namespace(NamedTuple):
    """A package to check: its distinct rule names (first spelling wins) and definition count."""

    name: str
    rules: tuple[str, ...] = ()
    rule_count: int = 0


def glob_match(pattern: str, name: str) -> bool:
    """Go's ``path.Match``; namespaces hold no ``/``, so ``*`` crosses dots."""
    regex, i = "", 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            regex += "[^/]*"
        elif char == "?":
            regex += "[^/]"
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            regex += re.escape(pattern[i])
        elif char == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] == "^" else i + 1)
            if end < 0:
                raise UsageError(f"bad namespace pattern {pattern!r}", operation="--namespace")
            body = pattern[i + 1 : end].replace("\\", "\\\\")
            regex += f"[^{body[1:]}]" if body.startswith("^") else f"[{body}]"
            i = end
        else:
            regex += re.escape(char)
        i += 1
    return re.fullmatch(regex, name) is not None


def namespace_names(
    patterns: Sequence[str], packages: Iterable[str], *, all_namespaces: bool
) -> list[str]:
    """The namespaces to check, sorted: globs (``*?[``) expand over the loaded packages."""
    known = sorted(set(packages))
    if all_namespaces:
        return known
    chosen: set[str] = set()
    for pattern in patterns:
        if any(c in pattern for c in "*?["):
            chosen.update(p for p in known if glob_match(pattern, p))
        else:
            chosen.add(pattern)
    return sorted(chosen)


def namespace(policies: Policies, name: str) -> Namespace:
    """The rules conftest queries in package ``name`` (modules in path order)."""
    rules: list[str] = []
    count = 0
    for module in policies.scanned:
        if module.package != name:
            continue
        for rule in module.rules:
            if RULE_NAME.fullmatch(rule.name):
                count += 1
                if all(r.lower() != rule.name.lower() for r in rules):
                    rules.append(rule.name)
    return Namespace(name, tuple(rules), count)


def namespaces(
    policies: Policies, patterns: Sequence[str] = ("main",), *, all_namespaces: bool = False
) -> list[Namespace]:
    names = namespace_names(patterns, policies.packages, all_namespaces=all_namespaces)
    return [namespace(policies, n) for n in names]


def file_info(filename: str) -> dict[str, str]:
    """``data.conftest.file``: basename and directory of the absolute path."""
    absolute = os.path.abspath(filename)
    return {"name": os.path.basename(absolute), "dir": os.path.dirname(absolute)}


def exception_name(rule: str) -> str:
    if rule in ("deny", "violation", "warn"):
        return ""
    for prefix in ("violation_", "deny_", "warn_"):
        rule = rule.removeprefix(prefix)
    return rule


def _members(value: Any) -> list[Any]:
    """What ``x[_]`` iterates: list elements or object values; nothing for scalars."""
    if isinstance(value, list):
        return value
    return list(value.values()) if isinstance(value, dict) else []


def _exception_rows(exception: Any, name: str) -> int:
    """Solutions of ``exception[_][_] == name``."""
    return sum(
        1
        for row in _members(exception)
        for item in _members(row)
        if isinstance(item, str) and item == name
    )


def _location(value: Any) -> Location | None:
    if not isinstance(value, dict):
        return None
    file = value.get("file")
    line = value.get("line")
    file = file if isinstance(file, str) else ""
    line = int(line) if isinstance(line, int | float) and not isinstance(line, bool) else 0
    return Location(file, line) if file or line else None


def rule_results(value: Any, query: str) -> list[Result]:
    """conftest's ``query()`` for one rule value; an empty ``msg`` means a success."""
    if not isinstance(value, list) or not value:
        return [Result("")]
    results = []
    for item in value:
        if isinstance(item, str):
            results.append(Result(item, {"query": query}))
        elif isinstance(item, dict):
            msg = item.get("msg")
            if not isinstance(msg, str):
                raise PolicyError('"msg" field must be present and a string', operation=query)
            metadata = {k: v for k, v in item.items() if k not in ("msg", "_loc")}
            metadata["query"] = query
            results.append(Result(msg, metadata, _location(item.get("_loc"))))
    return results


class _RuleQueries(NamedTuple):
    rule: str
    exception_name: str
    exception_query: str  # data.<ns>.exception[_][_] == "<exception_name>"
    query: str  # data.<ns>.<rule>
    failure: bool


@lru_cache(maxsize=64)
def _queries(ns: Namespace) -> tuple[tuple[_RuleQueries, ...], tuple[str, ...]]:
    """Each rule's queries, and all of them in conftest's order without repeats."""
    rules = []
    ordered: dict[str, None] = {}
    for rule in ns.rules:
        name = exception_name(rule)
        entry = _RuleQueries(
            rule,
            name,
            f'data.{ns.name}.exception[_][_] == "{name}"',
            f"data.{ns.name}.{rule}",
            FAILURE.fullmatch(rule) is not None,
        )
        rules.append(entry)
        ordered.update({entry.exception_query: None, entry.query: None})
    return tuple(rules), tuple(ordered)


class Outcome(NamedTuple):
    """One document's results in one namespace, before they join its file's result."""

    successes: int
    failures: list[Result]
    warnings: list[Result]
    exceptions: list[Result]


def evaluate_document(ns: Namespace, values: dict[str, Any], into: CheckResult) -> None:
    """Add one document's results in ``ns`` to ``into``; ``values``: its rules' values."""
    add_outcome(ns, document_outcome(ns, values), into)


def add_outcome(ns: Namespace, outcome: Outcome, into: CheckResult) -> None:
    _, queries = _queries(ns)
    if into.queries:
        seen = set(into.queries)
        into.queries.extend(q for q in queries if q not in seen)
    else:
        into.queries.extend(queries)
    into.successes += outcome.successes
    into.failures.extend(outcome.failures)
    into.warnings.extend(outcome.warnings)
    into.exceptions.extend(outcome.exceptions)


def document_outcome(ns: Namespace, values: dict[str, Any]) -> Outcome:
    """conftest's results of one document from its rules' ``values`` (a pure function)."""
    rules, _ = _queries(ns)
    exception = values.get(EXCEPTION)
    rows = _exception_counts(exception) if exception else None
    failures: list[Result] = []
    warnings: list[Result] = []
    exceptions: list[Result] = []
    successes = 0
    for entry in rules:
        matched = rows[entry.exception_name] if rows else 0
        if matched:
            exceptions.extend(Result(entry.exception_query) for _ in range(matched))
        value = values.get(entry.rule, _ABSENT)
        if value is _ABSENT:
            continue
        if not isinstance(value, list) or not value:  # one success, as rule_results says
            successes += not matched
            continue
        results = rule_results(value, entry.query)
        for result in results if not matched else []:
            if not result.msg:
                successes += 1
            elif entry.failure:
                failures.append(result)
            else:
                warnings.append(result)
    counted = len(failures) + len(warnings) + len(exceptions) + successes
    return Outcome(successes + max(ns.rule_count - counted, 0), failures, warnings, exceptions)


def _exception_counts(exception: Any) -> Counter[str]:
    """``_exception_rows`` for every name at once."""
    return Counter(
        item for row in _members(exception) for item in _members(row) if isinstance(item, str)
    )


def _values(
    engine: Engine,
    ns: Namespace,
    filename: str,
    document: Any,
    index: str,
    data: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    extra = {**(data or {}), "conftest": {"file": file_info(filename)}}
    try:
        return rule_values.document_values(engine, ns.name, _asked(ns), document, extra)
    except PolicyError as err:
        raise type(err)(  # keeps an EngineError an EngineError
            str(err), file=filename, operation=f"evaluate data.{ns.name}", resource=index
        ) from None


def _batch(
    engine: Engine, ns: Namespace, inputs: Documents, data: Mapping[str, Any] | None
) -> dict[tuple[str, int], dict[str, Any]]:
    """``_values`` of every document in one engine call (``check``'s ``file_blind``)."""
    keys = [(name, i) for name, docs in inputs for i in range(len(docs))]
    flat = [doc for _, docs in inputs for doc in docs]
    values = rule_values.batch_values(engine, ns.name, _asked(ns), flat, data)
    return dict(zip(keys, values, strict=True))


def _asked(ns: Namespace) -> tuple[str, ...]:
    """What conftest reads of ``data.<ns>``: its rules and ``exception``."""
    return (*ns.rules, EXCEPTION)


def combined_input(documents: Documents) -> list[dict[str, Any]]:
    """``--combine``'s input: every document as ``{path, contents}``, sorted by path."""
    combined = [{"path": name, "contents": doc} for name, docs in documents for doc in docs]
    return sorted(combined, key=lambda item: str(item["path"]))


def check(
    engine: Engine,
    documents: Documents,
    namespaces: Sequence[Namespace],
    *,
    combine: bool = False,
    data: Mapping[str, Any] | None = None,
    file_blind: bool = False,
) -> list[CheckResult]:
    """One ``CheckResult`` per (namespace, file), or per namespace with ``combine``.

    ``documents`` holds ``(filename, parsed documents)``; each document is
    evaluated on its own and its results merged under the filename.  ``data``
    is laid over the loaded data for this call (the gate's ``data.netpack``).
    ``file_blind`` says no policy reads ``data.conftest``: then every document
    of every file goes to the engine in one batch (same results, far fewer calls).
    """
    inputs = (
        [(COMBINED, [combined_input(documents)])]
        if combine
        else sorted(documents, key=lambda d: d[0])
    )
    results = []
    for ns in sorted(namespaces):
        batched = _batch(engine, ns, inputs, data) if file_blind and not combine else None
        # A batch shares one values dict among documents no rule can match: one outcome
        # each (keyed by identity: every dict of the batch is alive until it is done).
        outcomes: dict[int, Outcome] = {}
        for filename, docs in inputs:
            result = CheckResult(filename, ns.name)
            for index, document in enumerate(docs):
                where = f"doc {index}" if len(docs) > 1 else ""
                try:
                    if batched is not None:
                        values = batched[(filename, index)]
                        outcome = outcomes.get(id(values))
                        if outcome is None:
                            outcome = outcomes[id(values)] = document_outcome(ns, values)
                    else:
                        values = _values(engine, ns, filename, document, where, data)
                        outcome = document_outcome(ns, values)
                    add_outcome(ns, outcome, result)
                except PolicyError as err:
                    raise type(err)(  # keeps an EngineError an EngineError
                        err.message, file=filename, operation=err.operation, resource=where
                    ) from None
            results.append(result)
    return results


def verify_results(outcomes: Iterable[TestOutcome]) -> list[CheckResult]:
    """conftest verify: one ``CheckResult`` per test, named by its file; an error aborts."""
    results = []
    for test in sorted(outcomes, key=lambda t: (t.file, t.package, t.name)):
        query = f"data.{test.package}.{test.name}"
        if test.status == "error" and test.crashed:
            # rego-cpp 1.5.2 segfaults when a test's `with input as` reaches a rule that
            # calls a function or builtin (policies/README.md, "Engine portability")
            raise EngineError(
                f"{test.message}: the engine failed, not the test; rego-cpp 1.5.2 crashes"
                " when `with input as` reaches a rule that calls a function or builtin,"
                " so run the tests on real OPA (--engine opa)",
                file=test.file,
                operation=f"run test {query}",
            )
        if test.status == "error":
            raise PolicyError(
                test.message or "error", file=test.file, operation=f"run test {query}"
            )
        result = CheckResult(test.file, test.package, queries=[query])
        if test.status == "fail":
            result.failures.append(Result(query))
        elif test.status == "skip":
            result.skipped.append(Result(query))
        else:
            result.successes = 1
        results.append(result)
    return results
