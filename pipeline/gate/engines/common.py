"""What every Rego engine shares: engine-neutral plumbing the engine modules import.

``evaluate_many`` batches the documents of one file where the engine can; the
rest is the value-binding queries, merging ``extra_data``, and ``test_*`` rule
discovery and verdicts (OPA's ``tester`` semantics).  Choosing an engine is
``pipeline.gate.engines.choose``, which imports the engines; nothing here does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from pipeline.gate.engines.protocol import Engine, PolicyError

VALUE_VAR = "__netpack_value"  # the variable every engine binds a query's value to
TEST_PREFIX = "test_"
SKIP_PREFIX = "todo_test_"  # open-policy-agent/opa v1/tester/runner.go SkipTestPrefix


# -- shared evaluation plumbing -------------------------------------------------


def merged_extra(data: Mapping[str, Any], extra: Mapping[str, Any] | None) -> dict[str, Any]:
    """Each top-level key of ``extra`` deep-merged over the same key of ``data``."""
    return {key: _deep_merge(data.get(key), value) for key, value in (extra or {}).items()}


def _deep_merge(base: Any, over: Any) -> Any:
    if isinstance(base, Mapping) and isinstance(over, Mapping):
        out = dict(base)
        for key, value in over.items():
            out[key] = _deep_merge(base.get(key), value)
        return out
    return over


def reads_data(sources: Iterable[str], key: str) -> bool:
    """Whether Rego ``sources`` may read ``data[key]``: they name ``key`` or index ``data``.

    Lets an engine skip applying ``extra_data`` that no rule can see (the usual
    ``data.conftest`` when no policy reads it): that saves a ``with`` per eval
    (embedded OPA) or a bundle per file (regopy).
    """
    word = re.compile(rf"\b{re.escape(key)}\b")
    return any(word.search(text) or _DYNAMIC_DATA.search(text) for text in map(blank, sources))


def with_extra(keys: Iterable[str], source: str = "input.extra") -> str:
    """`` with data["k"] as <source>["k"]`` for each key: extra data rides in the input."""
    return "".join(f" with data[{json.dumps(k)}] as {source}[{json.dumps(k)}]" for k in keys)


def batch_expr(var: str, query: str, keys: Iterable[str]) -> str:
    """``<var> := ...``: for each of ``input.docs``, the list of ``query``'s values for it.

    The data overrides stay outside the comprehension: OPA v1.20.2 silently
    ignores ``with data.x as <var>`` inside a comprehension of an ad-hoc query.
    """
    values = f"[{VALUE_VAR} | {VALUE_VAR} := {query}]"
    each = (
        f"[__netpack_v | some __netpack_doc in input.docs; "
        f"__netpack_v := {values} with input as __netpack_doc]"
    )
    return f"{var} := {each}{with_extra(keys)}"


def evaluate_many(
    engine: Engine, query: str, docs: list[Any], *, extra_data: Mapping[str, Any] | None = None
) -> list[list[Any]]:
    """``[engine.evaluate(query, doc, extra_data=...) for doc in docs]``, batched if it can be.

    Engines with an ``evaluate_many`` method answer in one call (embedded OPA:
    ~1.5-2x faster per document; OPA server: one request instead of one per
    document).  An error names the first failing document (``resource``).
    """
    batch = getattr(engine, "evaluate_many", None)
    if batch is not None:
        values: list[list[Any]] = batch(query, docs, extra_data=extra_data)
        return values
    try:
        return [engine.evaluate(query, doc, extra_data=extra_data) for doc in docs]
    except PolicyError as exc:
        locate_failure(engine, query, docs, extra_data, exc)
        raise  # not reached: locate_failure raises


def locate_failure(
    engine: Engine, query: str, docs: list[Any], extra: Any, error: Exception
) -> None:
    """Re-raise a batch's failure as the ``PolicyError`` of its first failing document."""
    for index, doc in enumerate(docs):
        try:
            engine.evaluate(query, doc, extra_data=extra)
        except PolicyError as exc:
            raise type(exc)(  # keeps an EngineError an EngineError
                exc.message, file=exc.file, operation=exc.operation, resource=f"document {index}"
            ) from None
    raise error


# -- test discovery and verdicts (OPA v1/tester/runner.go) ----------------------

_BLANK = re.compile(r'"(?:\\.|[^"\\\n])*"|`[^`]*`|#[^\n]*')
_PACKAGE = re.compile(r"(?m)^package[ \t]+([\w.]+)")
_DYNAMIC_DATA = re.compile(r"(?<![\w.])data\b(?!\.[A-Za-z_])")  # data[k], walk(data), import data
_TEST_HEAD = re.compile(rf"(?m)^((?:{SKIP_PREFIX}|{TEST_PREFIX})\w*)\b(?![ \t]*\()")


@dataclass(frozen=True)
class TestRule:
    """One ``test_*`` rule definition to run."""

    __test__ = False  # not a pytest test class

    package: str  # "main_test"
    name: str  # as reported: "test_x", or "test_x#01" for a second definition
    rule: str  # the rule to query: "test_x", or the renamed "test_x__netpack_dup01"
    file: str
    line: int

    @property
    def ref(self) -> str:
        return f"data.{self.package}.{self.rule}"

    @property
    def skipped(self) -> bool:
        return self.name.startswith(SKIP_PREFIX)


def find_tests(file: str, source: str, package: str, names: Iterable[str]) -> list[TestRule]:
    """``TestRule`` for each test rule definition ``names`` (in source order).

    Lines come from the heads at column 0 (``opa fmt`` style); a later definition of
    the same name is renamed like OPA does (``test_x#01``) so that each body
    runs on its own: ``rename_duplicates`` rewrites the source to match.
    """
    out: list[TestRule] = []
    seen: dict[str, int] = {}
    for name in names:
        index = seen.get(name, 0)
        seen[name] = index + 1
        line = _nth_head_line(source, name, index)
        if index == 0:
            out.append(TestRule(package, name, name, file, line))
        else:  # without a line the rename is impossible: run the combined rule
            rule = f"{name}__netpack_dup{index:02d}" if line else name
            out.append(TestRule(package, f"{name}#{index:02d}", rule, file, line))
    return out


def tests_from_ast(file: str, source: str, ast: Mapping[str, Any]) -> list[TestRule]:
    """Test rules of one module from OPA's JSON AST (``rego.parse_module``, GET /v1/policies)."""
    package = ".".join(str(term["value"]) for term in ast["package"]["path"][1:])
    names = []
    for rule in ast.get("rules", []):
        head = rule.get("head", {})
        first = (head.get("ref") or [{"value": head.get("name", "")}])[0].get("value")
        if (
            not head.get("args")
            and isinstance(first, str)
            and first.startswith((TEST_PREFIX, SKIP_PREFIX))
        ):
            names.append(first)
    return find_tests(file, source, package, names)


def tests_from_source(file: str, source: str) -> list[TestRule]:
    """Test rules of one module found by their heads at column 0, as ``opa fmt`` writes them.

    For engines without a Rego parser (regopy); ``tests_from_ast`` is exact.
    """
    text = blank(source)
    package = _PACKAGE.search(text)
    return find_tests(file, source, package.group(1), _TEST_HEAD.findall(text)) if package else []


def blank(source: str) -> str:
    """Rego ``source`` with strings and comments blanked, offsets and newlines kept."""
    return _BLANK.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), source)


def _nth_head_line(source: str, name: str, index: int) -> int:
    heads = [m.start() for m in re.finditer(rf"(?m)^{re.escape(name)}\b", blank(source))]
    if index < len(heads):
        return source.count("\n", 0, heads[index]) + 1
    return 0  # the head is not at column 0: line unknown (and no rename possible)


def rename_duplicates(modules: Mapping[str, str], tests: list[TestRule]) -> dict[str, str]:
    """The module sources with every duplicate test definition renamed to its ``rule``."""
    out = dict(modules)
    for test in tests:
        base = test.name.split("#")[0]
        if test.rule == base:
            continue
        lines = out[test.file].split("\n")
        lines[test.line - 1] = re.sub(rf"^{re.escape(base)}\b", test.rule, lines[test.line - 1])
        out[test.file] = "\n".join(lines)
    return out


def select_tests(tests: list[TestRule], packages: list[str] | None) -> list[TestRule]:
    """Tests in ``packages`` (exact names or globs, ``*`` crossing dots), sorted by file."""
    chosen = [
        t for t in tests if packages is None or any(fnmatchcase(t.package, p) for p in packages)
    ]
    return sorted(chosen, key=lambda t: t.file)  # stable: rule order kept within a file


def verdict(values: list[Any]) -> tuple[str, str]:
    """``(status, message)`` for a test's query values, as OPA's tester decides."""
    if not values:
        return "fail", "undefined"
    value = values[0]
    if isinstance(value, dict):  # a partial-object test (test_x[note]): every leaf true
        failed = sorted(k for k, v in value.items() if not _all_true(v))
        return ("fail", "failed: " + ", ".join(failed)) if failed else ("pass", "")
    if value is True:
        return "pass", ""
    return "fail", json.dumps(value)


def _all_true(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_all_true(v) for v in value.values())
    return value is True
