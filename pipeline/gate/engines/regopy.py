"""regopy (rego-cpp 1.5.2) as the fallback engine, with guards (CONFTEST.md §3).

- ``load`` refuses a policy calling a function regopy lacks (``net.*``,
  ``json.match_schema``, ...): regopy makes such a call undefined, so a deny
  rule would silently never fire.  Calls are found by scanning the sources
  (strings and comments blanked) and asking ``is_builtin`` about each name
  that is not a user function or an import.
- ``strict_built_in_errors`` is on, as in the embedded OPA bridge: a builtin
  error raises ``PolicyError`` (conftest would swallow it); engines agree.
- ``*_test.rego`` is never loaded for evaluation: ``with input as`` over a rule
  calling a builtin on input crashes rego-cpp (SIGSEGV).  ``run_tests`` runs
  in a child process; a crash is an ``error`` for the test that was running.
- An output that is neither JSON nor ``undefined`` is an error AST: raised.
- ``with`` cannot carry ``extra_data`` (``with input`` crashes, ``with data.x as
  input.y`` is ignored in bundles), so each distinct ``extra_data`` gets its own
  bundle (~5 ms, cached); keys no module can read are left out of the key.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# regopy has no type hints, and is optional (installed only where it is the fallback).
from regopy import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
    Input,
    Interpreter,
    LogLevel,
    RegoError,
)
from regopy import rego_shared as _c  # output and node C calls

from pipeline.gate.engines.common import (
    VALUE_VAR,
    blank,
    merged_extra,
    reads_data,
    rename_duplicates,
    select_tests,
    tests_from_source,
    verdict,
)
from pipeline.gate.engines.protocol import PolicyError, TestOutcome

_CALL = re.compile(r"(?<![\w.])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)[ \t]*\(")
_FUNCTION_HEAD = re.compile(r"(?m)^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)[ \t]*\(")
_IMPORT = re.compile(r"(?m)^import[ \t]+([\w.]+)(?:[ \t]+as[ \t]+(\w+))?")
_LANGUAGE = {"print", "assign", "eq", "not", "if", "else", "in", "some", "every", "with", "as"}
_ERRORMSG = re.compile(r"\(errormsg \d+:([^\n]*)\)")
_ADD_MODULE_ERROR = re.compile(
    r"\(error \d+:(?P<file>[^|\n]*)\|(?P<offset>\d+)\|\d+\s*\(errormsg \d+:(?P<msg>[^\n]*)\)"
)
_MAX_BUNDLES = 16
_KIND_ERROR_SEQ = 1804
_CRASHED = "regopy crashed"


class RegopyEngine:
    """rego-cpp in this process for evaluation; tests in a child process."""

    name = "regopy"
    thread_safe = False  # one interpreter: set_input then query

    def __init__(self) -> None:
        self._modules: dict[str, str] = {}
        self._policy: dict[str, str] = {}
        self._data: dict[str, Any] = {}
        self._bundles: dict[tuple[str, str], Any] = {}
        self._reads: dict[tuple[str, str], bool] = {}  # can (policy, query) read data[key]?
        self._runner: Any = None
        self._print_sink: Any = None  # a temp file catching print() when the policy prints
        self._prints: list[tuple[str, str]] = []

    def load(self, modules: Mapping[str, str], data: Mapping[str, Any]) -> None:
        policy = {path: src for path, src in modules.items() if not path.endswith("_test.rego")}
        _checked_interpreter(policy, data)
        self.close()
        self._modules, self._policy, self._data = dict(modules), policy, dict(data)
        self._runner = _interpreter()
        if any(re.search(r"(?<![\w.])print[ \t]*\(", blank(src)) for src in policy.values()):
            self._print_sink = tempfile.TemporaryFile()  # noqa: SIM115  # closed by close()

    def evaluate(
        self, query: str, input_doc: Any, *, extra_data: Mapping[str, Any] | None = None
    ) -> list[Any]:
        """Values of ``query``; ``None`` input is JSON null (conftest's empty document)."""
        if self._runner is None:
            raise PolicyError("no policies loaded", operation="evaluate")
        bundle = self._bundle(query, extra_data)
        self._runner.set_input(Input(input_doc))
        if self._print_sink is None:
            output = _c.rego_bundle_query(self._runner._impl, bundle._impl)
        else:
            output = self._query_printing(bundle)
        return _values(output, f"evaluate {query} (regopy)")

    def last_prints(self) -> list[tuple[str, str]]:
        """``("", text)`` per ``print()`` line of the last ``evaluate`` (no location in regopy)."""
        return list(self._prints)

    def _query_printing(self, bundle: Any) -> Any:
        """Query with fd 1 sent to the sink: rego-cpp's print() writes there, not to sys.stdout."""
        sink = self._print_sink
        sink.seek(0)
        sink.truncate()
        sys.stdout.flush()
        saved = os.dup(1)
        os.dup2(sink.fileno(), 1)
        try:
            output = _c.rego_bundle_query(self._runner._impl, bundle._impl)
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        sink.seek(0)
        self._prints = [("", line) for line in sink.read().decode(errors="replace").splitlines()]
        return output

    def run_tests(self, packages: list[str] | None = None) -> list[TestOutcome]:
        """``test_*`` rules, run in a child process so that a regopy crash is an ``error``."""
        tests = select_tests(
            [t for p, s in sorted(self._modules.items()) for t in tests_from_source(p, s)], packages
        )
        modules = rename_duplicates(self._modules, tests)
        _checked_interpreter(modules, self._data)
        results = iter(_run_isolated(modules, self._data, [t.ref for t in tests if not t.skipped]))
        outcomes = []
        for t in tests:
            status, message, duration = ("skip", "", 0) if t.skipped else next(results)
            crashed = status == "error" and message.startswith(_CRASHED)
            outcomes.append(
                TestOutcome(t.package, t.name, t.file, status, message, duration, crashed)
            )
        return outcomes

    def close(self) -> None:
        self._bundles.clear()
        self._reads.clear()
        self._runner = None
        if self._print_sink is not None:
            self._print_sink.close()
            self._print_sink = None

    def _bundle(self, query: str, extra: Mapping[str, Any] | None) -> Any:
        merged = {
            k: v for k, v in merged_extra(self._data, extra).items() if self._can_read(k, query)
        }
        key = (query, json.dumps(merged, sort_keys=True))
        bundle = self._bundles.pop(key, None) or self._build(query, {**self._data, **merged})
        self._bundles[key] = bundle  # most recently used last
        while len(self._bundles) > _MAX_BUNDLES:
            del self._bundles[next(iter(self._bundles))]
        return bundle

    def _can_read(self, key: str, query: str) -> bool:
        if (key, query) not in self._reads:
            self._reads[key, query] = reads_data([*self._policy.values(), query], key)
        return self._reads[key, query]

    def _build(self, query: str, data: dict[str, Any]) -> Any:
        interp = _checked_interpreter(self._policy, data, scan=False)  # scanned at load
        bundle = interp.build(f"{VALUE_VAR} := {query}")
        if not bundle.ok():
            raise PolicyError(
                _node_errors(_c.rego_bundle_node(bundle._impl)),
                operation=f"compile {query} (regopy)",
            )
        return bundle


def _interpreter() -> Any:
    interp = Interpreter()
    interp.log_level = LogLevel.NONE  # else compile errors are printed on stdout
    interp.strict_built_in_errors = True
    return interp


def _checked_interpreter(
    modules: Mapping[str, str], data: Mapping[str, Any], *, scan: bool = True
) -> Any:
    """An interpreter holding ``modules`` and ``data``; unsupported calls, syntax errors raise."""
    interp = _interpreter()
    if scan:
        _refuse_unsupported(interp, modules)
    for path, source in modules.items():
        try:
            interp.add_module(path, source)
        except RegoError as exc:
            raise _module_error(path, source, str(exc)) from None
    interp.add_data(dict(data))
    return interp


def _refuse_unsupported(interp: Any, modules: Mapping[str, str]) -> None:
    defined = {m for src in modules.values() for m in _FUNCTION_HEAD.findall(blank(src))}
    missing: list[tuple[str, str]] = []
    for path, source in sorted(modules.items()):
        text = blank(source)
        aliases = {"data", "input"} | {
            alias or ref.rsplit(".", 1)[-1] for ref, alias in _IMPORT.findall(text)
        }
        for match in _CALL.finditer(text):
            name = match.group(1)
            user = name in defined or name.split(".")[0] in aliases or name in _LANGUAGE
            if not user and not interp.is_builtin(name):
                missing.append((name, f"{path}:{text.count(chr(10), 0, match.start()) + 1}"))
    if missing:
        names = sorted({name for name, _ in missing})
        raise PolicyError(
            f"regopy does not support {', '.join(names)} ({len(missing)} call(s)); "
            "use the embedded OPA engine (--engine opa) or an OPA server (--opa-url)",
            file=missing[0][1],
            operation="load (regopy)",
        )


def _module_error(path: str, source: str, text: str) -> PolicyError:
    match = _ADD_MODULE_ERROR.search(text)
    if not match:
        return PolicyError(text.strip().split("\n")[0], file=path, operation="parse (regopy)")
    line = source.encode()[: int(match["offset"])].count(b"\n") + 1
    return PolicyError(match["msg"], file=f"{path}:{line}", operation="parse (regopy)")


def _values(output: Any, operation: str) -> list[Any]:
    """The bound values of a regopy output; an error output or error AST raises."""
    try:
        if not _c.rego_output_ok(output):
            raise PolicyError(_node_errors(_c.rego_output_node(output)), operation=operation)
        text = _c.rego_output_string(output)
    finally:
        _c.rego_free_output(output)
    if text == "undefined":
        return []
    if not text.startswith(("{", "[")):
        messages = _ERRORMSG.findall(text) or [text.strip().split("\n")[0]]
        raise PolicyError("; ".join(messages), operation=operation)
    results = json.loads(text)
    return [
        r.get("bindings", {}).get(VALUE_VAR)
        for r in (results if isinstance(results, list) else [results])
    ]


def _node_errors(node: Any) -> str:
    """``code: message (near term)`` of each error in a regopy Error or ErrorSeq node."""
    errors = [node]
    if _c.rego.regoNodeType(node) == _KIND_ERROR_SEQ:
        errors = [_c.rego_node_get(node, i) for i in range(_c.rego_node_size(node))]
    texts = []
    for error in errors:
        parts = [_node_value(_c.rego_node_get(error, i)) for i in range(_c.rego_node_size(error))]
        message, near, code = [*parts, "", "", ""][:3]
        texts.append((f"{code}: " if code else "") + message + (f" (near {near})" if near else ""))
    return "; ".join(texts) or "regopy failed without a message"


def _node_value(node: Any) -> str:
    """A scalar node's text, or its first child's (an ErrorAst holds the offending term)."""
    if not node:
        return ""
    try:
        value = str(_c.rego_node_value(node))
    except RegoError:
        value = ""
    return value or (_node_value(_c.rego_node_get(node, 0)) if _c.rego_node_size(node) else "")


def _run_isolated(
    modules: Mapping[str, str], data: Mapping[str, Any], refs: list[str]
) -> list[tuple[str, str, int]]:
    """``(status, message, duration_ns)`` per ref; a crash errors one test, then we go on."""
    path = [str(Path(__file__).resolve().parents[3]), os.environ.get("PYTHONPATH", "")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path))
    results: list[tuple[str, str, int]] = []
    while len(results) < len(refs):
        todo = refs[len(results) :]
        request = json.dumps({"modules": dict(modules), "data": dict(data), "refs": todo}).encode()
        command = [sys.executable, "-m", __name__]
        try:
            proc = subprocess.run(
                command, input=request, capture_output=True, env=env, timeout=60 + 5 * len(todo)
            )
            stdout, stderr, code = proc.stdout, proc.stderr, proc.returncode
        except subprocess.TimeoutExpired as exc:
            stdout, stderr, code = exc.stdout or b"", exc.stderr or b"", None
        done = [json.loads(line) for line in stdout.decode().splitlines() if line.startswith("{")]
        results += [(d["status"], d["message"], d["duration_ns"]) for d in done]
        if len(done) < len(todo):
            how = (
                "timed out"
                if code is None
                else f"{_CRASHED.removeprefix('regopy ')} ({_exit(code)})"
            )
            last = stderr.decode(errors="replace").strip().split("\n")[-1][:200]
            results.append(("error", f"regopy {how} running this test{': ' * bool(last)}{last}", 0))
    return results


def _exit(code: int) -> str:
    return signal.Signals(-code).name if code < 0 else f"exit status {code}"


def _worker_main() -> None:
    """Child process: run the refs in the JSON request on stdin, one JSON line each."""
    request = json.loads(sys.stdin.buffer.read())
    results = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # regopy's print() writes to fd 1: keep it off the result stream
    interp = _checked_interpreter(request["modules"], request["data"], scan=False)
    for ref in request["refs"]:
        start = time.perf_counter_ns()
        try:
            status, message = verdict(
                _values(_c.rego_query(interp._impl, f"{VALUE_VAR} := {ref}"), ref)
            )
        except PolicyError as exc:
            status, message = "error", str(exc)
        line = {"status": status, "message": message, "duration_ns": time.perf_counter_ns() - start}
        results.write(json.dumps(line) + "\n")
        results.flush()


if __name__ == "__main__":
    _worker_main()
