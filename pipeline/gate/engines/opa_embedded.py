"""The real OPA (v1.20.2) in-process, through opa-golib-python-bindings 0.4.4.

We call the bridge's C ABI (``opa_bindings._native``: ``OpaNew``, ``OpaAddPolicy``,
``OpaAddData``, ``OpaEvalQuery``) rather than its ``OpaEngine`` wrapper: the
wrapper serialises every eval behind one lock and costs ~15 µs more per call,
while the Go side (a cached ``rego.PreparedEvalQuery``) is safe for concurrent
evals and ctypes releases the GIL, so threads on one engine run in parallel.
That private module is why the bindings are pinned to 0.4.4.

What the bridge does that matters (phi1010/opa-golib-python-bindings go/bridge.go):

- ``OpaAddPolicy`` only *parses*; compile errors (unsafe vars, types, undefined
  functions) appear at the first prepare, so ``load`` prepares ``true`` once.
  There is no way to remove a module, so every ``load`` starts a new handle.
- Evals run with ``StrictBuiltinErrors(true)``: ``to_number("x")`` is an error,
  where conftest (without ``--show-builtin-errors``) makes it undefined.
- Each distinct query string is prepared once and kept for the handle's life,
  so the query texts are a fixed set: ``extra_data`` travels in the input and
  is applied with ``with data["k"] as input.extra["k"]``, never as a literal.
- ``print()`` output comes back with each eval, with its ``file:line``.

What keeps evals cheap: every query's values are collected inside one
comprehension under one ``with`` (``_request``, ``batch_expr``), so OPA's rule
cache spans a document's whole evaluation; ``evaluate_groups`` asks several
(query, documents) groups in one call; ``rule_guards`` parses the modules with
OPA's own parser so that ``conftest.check`` can skip rules and documents that
cannot match (``pipeline.gate.engines.guards``).

The Go runtime reads ``GOGC`` and ``GOMEMLIMIT`` from the environment the process
started with (setting ``os.environ`` later has no effect).  Its default, GOGC=100,
collects the small heap of compiled policies after every few MB that evals
allocate; with ``GO_ENVIRONMENT`` (``GOGC=800``) the DaemonSet's 22 rules run ~1.3x
faster on one thread and ~1.6x on two.  ``GOMEMLIMIT=64MiB`` then collects early
when the Go heap nears 64 MiB: 300 clusters gated in one process peaked at 120
MiB instead of 142 MiB for the same CPU time (GOGC=100: 87 MiB, 1.15x the CPU).
netpack starts its worker processes with both (``pipeline.flow.render_fleet``);
a user's own values win.
"""

from __future__ import annotations

import ctypes
import json
import re
import shlex
import sys
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.gate.engines.common import (
    VALUE_VAR,
    TestRule,
    batch_expr,
    locate_failure,
    merged_extra,
    reads_data,
    rename_duplicates,
    select_tests,
    tests_from_ast,
    verdict,
    with_extra,
)
from pipeline.gate.engines.guards import RuleGuards, rule_guards
from pipeline.gate.engines.protocol import PolicyError, TestOutcome
from pipeline.gate.engines.reads import context_free

GO_ENVIRONMENT = {"GOGC": "800", "GOMEMLIMIT": "64MiB"}  # for processes loading the bridge
BINDINGS = "opa-golib-python-bindings==0.4.4"
_lib_cache: list[Any] = []
_ALL = "__netpack_values"  # binds the list of a query's values (``EmbeddedOpaEngine._request``)
_TESTS = "__netpack_tests"  # binds each test's values, in order (``_run_tests``)
_ENCODER = json.JSONEncoder(allow_nan=False, separators=(",", ":"))  # no NaN: Go rejects it


def _lib() -> Any:
    if not _lib_cache:
        try:
            # no type hints; may be missing (then regopy is the fallback)
            from opa_bindings import _native  # type: ignore[import-untyped,import-not-found,unused-ignore]

            _lib_cache.append(_native.load())
        except (ImportError, OSError, AttributeError) as exc:
            hint = f"install them with: {install_command()}"
            raise PolicyError(f"{_cannot_load(exc)}; {hint}") from exc
    return _lib_cache[0]


def _cannot_load(exc: BaseException) -> str:
    return f"cannot load opa-golib-python-bindings 0.4.4: {exc}"


def install_command() -> str:
    """The command that installs the OPA bindings into the Python running netpack.

    Their wheel declares Requires-Python >=3.14 but runs on 3.11+, so pip must be
    told to ignore that (harmless on 3.14).
    """
    return f"{shlex.quote(sys.executable)} -m pip install --ignore-requires-python {BINDINGS}"


def _callback_type() -> Any:
    from opa_bindings import _native  # type: ignore[import-untyped,import-not-found,unused-ignore]

    return _native.CALLBACK


def _libc() -> Any:
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    return libc


def bindings_error() -> str | None:
    """Why the OPA bindings cannot be used here (without the install hint), or ``None``."""
    try:
        _lib()
    except PolicyError as exc:
        return _cannot_load(exc.__cause__) if exc.__cause__ else exc.message
    return None


_OPA_ISSUE = re.compile(
    r"(?:^|occurred: |\n)(?P<file>[^\n:]+):(?P<row>\d+): "
    r"(?P<code>(?:rego|eval)_\w+): (?P<msg>[^\n]*)"
)


@dataclass(frozen=True)
class OpaIssue:
    """A located error in OPA's text: ``p.rego:4: rego_unsafe_var_error: var x is unsafe``."""

    file: str
    row: int
    code: str
    message: str


def opa_issues(text: str) -> list[OpaIssue]:
    """Every ``file:row: code: message`` in an OPA error text."""
    return [
        OpaIssue(m["file"], int(m["row"]), m["code"], m["msg"]) for m in _OPA_ISSUE.finditer(text)
    ]


def policy_error(text: str, operation: str) -> PolicyError:
    """A one-line ``PolicyError`` naming the first file:line of an OPA error text."""
    issues = opa_issues(text)
    if not issues:
        first_line = re.sub(r"^\d+ errors? occurred:\s*", "", text.strip()).split("\n")[0]
        return PolicyError(first_line, operation=operation)
    first = issues[0]
    more = "".join(f"; {i.file}:{i.row}: {i.code}: {i.message}" for i in issues[1:])
    return PolicyError(
        f"{first.code}: {first.message}{more}",
        file=f"{first.file}:{first.row}",
        operation=operation,
    )


class BridgeError(Exception):
    """An error envelope from the bridge: ``code`` (parse_error, prepare_error, ...) and text."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class OpaHandle:
    """One bridge engine holding modules and data; evals return OPA's raw envelope."""

    def __init__(self) -> None:
        self._lib = _lib()
        self._callbacks: list[Any] = []
        self._handle = int(self._lib.OpaNew())
        self._finalizer = weakref.finalize(self, self._lib.OpaDestroy, self._handle)

    def add_policy(self, path: str, source: str) -> None:
        self._call(self._lib.OpaAddPolicy, _cstr(path), _cstr(source))

    def add_data(self, data: Mapping[str, Any]) -> None:
        """Deep-merge ``data`` into the data document (conflicting values are an error)."""
        self._call(self._lib.OpaAddData, b"", _json(data))

    def eval(self, query: str, input_json: bytes = b"") -> dict[str, Any]:
        """``{"result": [{"expressions", "bindings"}...], "prints": [...]}``; no input if empty."""
        return self._call(self._lib.OpaEvalQuery, _cstr(query), input_json, 0, 0)

    def close(self) -> None:
        self._finalizer()

    def register_builtin(self, name: str, arity: int, fn: Callable[..., Any]) -> None:
        """Make ``fn`` the Rego function ``name`` (before the first eval).

        OPA calls it with the arguments' JSON values; a Python exception becomes a
        builtin error, which the bridge's strict builtin errors turn into an eval error.
        """
        libc = _libc()

        def dispatch(_handle: int, _name: bytes, args_json: bytes) -> int | None:
            try:
                response: dict[str, Any] = {"result": fn(*json.loads(args_json))}
            except Exception as exc:  # nothing may cross into Go
                response = {"error": str(exc) or type(exc).__name__}
            try:
                raw = _ENCODER.encode(response).encode()
            except (TypeError, ValueError) as exc:
                raw = _ENCODER.encode({"error": f"result is not JSON: {exc}"}).encode()
            buffer: int | None = libc.malloc(len(raw) + 1)  # Go frees it with C free
            if buffer:
                ctypes.memmove(buffer, raw, len(raw))
                ctypes.memset(buffer + len(raw), 0, 1)
            return buffer

        callback = _callback_type()(dispatch)
        self._callbacks.append(callback)  # alive as long as the handle
        self._call(self._lib.OpaRegisterBuiltin, _cstr(name), arity, callback)

    def _call(self, fn: Any, *args: Any) -> dict[str, Any]:
        if not self._finalizer.alive:
            raise BridgeError("closed", "the OPA engine has been closed")
        ptr = fn(self._handle, *args)
        if not ptr:
            raise BridgeError("internal", "the OPA bridge returned NULL")
        try:
            envelope: dict[str, Any] = json.loads(ctypes.string_at(ptr).decode())
        finally:
            self._lib.OpaFreeString(ptr)
        error = envelope.get("error")
        if error:
            raise BridgeError(error.get("code", "unknown"), error.get("message", ""))
        return envelope


class EmbeddedOpaEngine:
    """conftest's own engine (OPA v1 rego) in this process; safe to share across threads."""

    name = "opa"
    thread_safe = True

    def __init__(self) -> None:
        self._handle: OpaHandle | None = None
        self._modules: dict[str, str] = {}
        self._data: dict[str, Any] = {}
        self._readers: dict[tuple[str, str], bool] = {}  # can (policy, query) read data[key]?
        self._guards: dict[str, dict[str, RuleGuards] | None] = {}  # rule_guards by package
        self._free: dict[tuple[str, tuple[str, ...]], frozenset[str] | None] = {}
        self._local = threading.local()
        self._builtins: dict[str, tuple[int, Callable[..., Any]]] = {}

    def add_builtins(self, functions: Mapping[str, tuple[int, Callable[..., Any]]]) -> None:
        """Custom Rego functions (name -> arity, Python function) for the next ``load``."""
        self._builtins.update(functions)

    def load(self, modules: Mapping[str, str], data: Mapping[str, Any]) -> None:
        self.close()
        self._handle = self._compiled(dict(modules), dict(data), self._builtins)
        self._modules, self._data, self._readers = dict(modules), dict(data), {}
        self._guards = {}
        self._free = {}

    def evaluate(
        self, query: str, input_doc: Any, *, extra_data: Mapping[str, Any] | None = None
    ) -> list[Any]:
        """Values of ``query``; ``None`` input is JSON null (conftest's empty document)."""
        text, payload = self._request(query, input_doc, extra_data)
        try:
            envelope = self._require().eval(text, payload)
        except BridgeError as exc:
            raise policy_error(exc.message, f"evaluate {query}") from None
        self._local.prints = [(p["location"], p["message"]) for p in envelope.get("prints") or []]
        values: list[Any] = envelope["result"][0]["bindings"][_ALL]
        return values

    def evaluate_many(
        self, query: str, docs: list[Any], *, extra_data: Mapping[str, Any] | None = None
    ) -> list[list[Any]]:
        """``evaluate`` for each document, in one eval (``with input as`` per document)."""
        merged = {
            k: v for k, v in merged_extra(self._data, extra_data).items() if self._reads(k, query)
        }
        text = batch_expr("__netpack_batch", query, sorted(merged))
        try:
            envelope = self._require().eval(text, _json({"docs": docs, "extra": merged}))
        except BridgeError as exc:
            error = policy_error(exc.message, f"evaluate {query}")
            if exc.code == "eval_error":  # a document's fault: say which
                locate_failure(self, query, docs, extra_data, error)
            raise error from None
        self._local.prints = [(p["location"], p["message"]) for p in envelope.get("prints") or []]
        values: list[list[Any]] = envelope["result"][0]["bindings"]["__netpack_batch"]
        return values

    def evaluate_groups(
        self,
        groups: Sequence[tuple[str, list[Any]]],
        *,
        extra_data: Mapping[str, Any] | None = None,
    ) -> list[list[list[Any]]]:
        """``evaluate_many`` for several (query, documents) pairs, in one eval.

        ``conftest.check`` asks each kind of document for its own rules; one
        eval instead of one per group saves the call, the input envelope and
        the ``with data`` overrides (~0.1 ms each).
        """
        queries = [query for query, _ in groups]
        merged = {
            k: v
            for k, v in merged_extra(self._data, extra_data).items()
            if any(self._reads(k, q) for q in queries)
        }
        parts = ", ".join(_group_expr(i, q) for i, q in enumerate(queries))
        text = f"__netpack_batch := [{parts}]{with_extra(sorted(merged))}"
        payload = _json({"groups": [docs for _, docs in groups], "extra": merged})
        try:
            envelope = self._require().eval(text, payload)
        except BridgeError as exc:
            raise policy_error(exc.message, "evaluate document groups") from None
        self._local.prints = [(p["location"], p["message"]) for p in envelope.get("prints") or []]
        values: list[list[list[Any]]] = envelope["result"][0]["bindings"]["__netpack_batch"]
        return values

    def rule_guards(self, package: str) -> dict[str, RuleGuards] | None:
        """The rules ``package`` defines, each with the literal tests opening its bodies.

        ``conftest.check`` uses it to skip rules (and documents) that cannot
        match (``pipeline.gate.engines.guards``).  ``None`` when the loaded data has
        a value at the package's root too: rules are then not all it holds.
        """
        if package not in self._guards:
            self._guards[package] = self._rule_guards(package)
        return self._guards[package]

    def context_free(self, package: str, keys: tuple[str, ...]) -> frozenset[str] | None:
        """The rules of ``package`` that cannot read ``data.<key>`` for any of ``keys``
        (``pipeline.gate.engines.reads``); None when the loaded data has a value at the
        package's root (rules are then not all it holds)."""
        if (package, keys) not in self._free:
            if re.split(r"[.\[]", package, maxsplit=1)[0] in self._data:
                self._free[package, keys] = None
            else:
                handle = self._require()
                parsed = [self._parse(handle, p, s) for p, s in self._modules.items()]
                self._free[package, keys] = context_free(parsed, package, keys)
        return self._free[package, keys]

    def _rule_guards(self, package: str) -> dict[str, RuleGuards] | None:
        if re.split(r"[.\[]", package, maxsplit=1)[0] in self._data:
            return None
        handle = self._require()
        return rule_guards([self._parse(handle, p, s) for p, s in self._modules.items()], package)

    def parse_module(self, path: str, source: str) -> Any:
        """OPA's AST of a module (``rego.parse_module``), for checks of the policies' text."""
        handle = self._handle or self._compiled({}, {})
        try:
            return self._parse(handle, path, source)
        except BridgeError as exc:
            raise policy_error(exc.message, "parse") from None
        finally:
            if handle is not self._handle:
                handle.close()

    def last_prints(self) -> list[tuple[str, str]]:
        """``(file:line, text)`` of each ``print()`` in this thread's last ``evaluate``."""
        return list(getattr(self._local, "prints", []))

    def run_tests(self, packages: list[str] | None = None) -> list[TestOutcome]:
        handle = self._require()
        tests = select_tests(self._discover(handle), packages)
        renamed = rename_duplicates(self._modules, tests)
        runner = (
            handle
            if renamed == self._modules
            else self._compiled(renamed, self._data, self._builtins)
        )
        try:
            return _run_tests(runner, tests)
        finally:
            if runner is not handle:
                runner.close()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def _require(self) -> OpaHandle:
        if self._handle is None:
            raise PolicyError("no policies loaded", operation="evaluate")
        return self._handle

    def _request(self, query: str, doc: Any, extra: Mapping[str, Any] | None) -> tuple[str, bytes]:
        """Query text and input: extra data rides in the input, so the text stays a fixed set.

        The values are collected by one comprehension (``_ALL``): OPA gives every
        expression carrying a ``with`` its own rule cache, and the compiler splits
        a query such as ``{"a": [..data.p.a..], "b": [..]}`` into one expression
        per nested term, so without it each rule would recompute the helpers it
        shares with the others (2.4x slower on a calico-node DaemonSet).
        """
        merged = {k: v for k, v in merged_extra(self._data, extra).items() if self._reads(k, query)}
        values = f"{_ALL} := [{VALUE_VAR} | {VALUE_VAR} := {query}]"
        if not merged and doc is not None:
            return values, _json(doc)
        text = f"{values} with input as input.doc{with_extra(sorted(merged))}"
        return text, _json({"doc": doc, "extra": merged})

    def _reads(self, key: str, query: str) -> bool:
        if (key, query) not in self._readers:
            self._readers[key, query] = reads_data([*self._modules.values(), query], key)
        return self._readers[key, query]

    def _discover(self, handle: OpaHandle) -> list[TestRule]:
        tests: list[TestRule] = []
        for path, source in sorted(self._modules.items()):
            tests += tests_from_ast(path, source, self._parse(handle, path, source))
        return tests

    @staticmethod
    def _parse(handle: OpaHandle, path: str, source: str) -> Any:
        """OPA's AST of one module, as ``rego.parse_module`` gives it."""
        payload = _json({"path": path, "source": source})
        envelope = handle.eval(
            f"{VALUE_VAR} := rego.parse_module(input.path, input.source)", payload
        )
        return envelope["result"][0]["bindings"][VALUE_VAR]

    @staticmethod
    def _compiled(
        modules: dict[str, str],
        data: dict[str, Any],
        builtins: Mapping[str, tuple[int, Callable[..., Any]]] | None = None,
    ) -> OpaHandle:
        handle = OpaHandle()
        try:
            for name, (arity, fn) in (builtins or {}).items():
                handle.register_builtin(name, arity, fn)
            for path, source in modules.items():
                try:
                    handle.add_policy(path, source)
                except BridgeError as exc:
                    raise policy_error(exc.message, "parse") from None
            try:
                handle.add_data(data)
                handle.eval("true")  # compiles every module: errors surface here
            except BridgeError as exc:
                raise policy_error(exc.message, "compile") from None
        except BaseException:
            handle.close()
            raise
        return handle


def _group_expr(index: int, query: str) -> str:
    """``batch_expr``'s comprehension over the documents of ``input.groups[index]``."""
    values = f"[{VALUE_VAR} | {VALUE_VAR} := {query}]"
    return (
        f"[__netpack_v | some __netpack_doc in input.groups[{index}]; "
        f"__netpack_v := {values} with input as __netpack_doc]"
    )


def _run_tests(handle: OpaHandle, tests: list[TestRule]) -> list[TestOutcome]:
    """Every test's outcome, from as few evaluations as the tests allow.

    The bridge prepares each new query text once, compiling every module for it
    (~0.2 s and ~5 MB kept per query on netpack's policies), so one query per test
    made ``verify`` compile the policies 124 times (35 s, 880 MB).  Here one query
    asks every test; a query that errors is halved until the erroring test stands
    alone, so each other test still gets its own verdict.  A test's ``duration_ns``
    is its share of the evaluation that ran it.
    """
    outcomes: dict[int, TestOutcome] = {}
    _run_group(handle, [(i, t) for i, t in enumerate(tests) if not t.skipped], outcomes)
    return [
        outcomes.get(i) or TestOutcome(t.package, t.name, t.file, "skip")
        for i, t in enumerate(tests)
    ]


def _run_group(
    handle: OpaHandle, group: list[tuple[int, TestRule]], outcomes: dict[int, TestOutcome]
) -> None:
    if not group:
        return
    each = ", ".join(f"[{VALUE_VAR} | {VALUE_VAR} := {test.ref}]" for _, test in group)
    start = time.perf_counter_ns()
    try:
        envelope = handle.eval(f"{_TESTS} := [{each}]")
    except BridgeError as exc:
        if len(group) > 1:
            half = len(group) // 2
            _run_group(handle, group[:half], outcomes)
            _run_group(handle, group[half:], outcomes)
            return
        (index, test), message = group[0], str(policy_error(exc.message, ""))
        duration = time.perf_counter_ns() - start
        outcomes[index] = TestOutcome(
            test.package, test.name, test.file, "error", message, duration
        )
        return
    share = max(1, (time.perf_counter_ns() - start) // len(group))
    values = envelope["result"][0]["bindings"][_TESTS]
    for (index, test), found in zip(group, values, strict=True):
        status, message = verdict(found)
        outcomes[index] = TestOutcome(test.package, test.name, test.file, status, message, share)


def _cstr(text: str) -> bytes:
    if "\0" in text:  # Go reads C strings up to the first NUL
        raise PolicyError("text contains a NUL character", operation="OPA call")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise PolicyError(f"text is not UTF-8: {exc}", operation="OPA call") from None


def _json(value: Any) -> bytes:
    try:
        return _ENCODER.encode(value).encode()
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"value is not JSON: {exc}", operation="OPA call") from None
