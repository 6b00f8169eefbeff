"""A running OPA server (``opa run --server``), through opa-python-client 3.0.0.

- ``load`` deletes policies left by earlier netpack runs (ids ``netpack-*``),
  replaces the data document, and PUTs each module as ``netpack-<run>/<path>``
  exactly as written (``rego_compat=False``: never rewritten).  OPA compiles the
  whole set on every PUT, so a module calling a function from a module not yet
  pushed is retried after the others; what still fails is the compile error.
  One netpack run per server at a time: packages are global on a server.
- ``evaluate`` pushes each distinct query once, as a generated rule: for each
  of ``input.docs``, ``[v | v := <query>]`` with ``input`` as that document and
  ``data["k"]`` as ``input.extra["k"]`` (``engines.batch_expr``), then POSTs
  ``{"docs", "extra"}`` to it with ``strict-builtin-errors=true``.  So every
  engine agrees: builtin errors raise (``/v1/query`` has no strict mode),
  ``extra_data`` needs no server state, ``None`` input is JSON null, and
  ``evaluate_many`` is one request.
- Any HTTP or connection failure is a one-line ``PolicyError`` naming the URL.
"""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

# opa-python-client has no type hints, and is optional (needed only with --opa-url).
from opa_client import OpaClient  # type: ignore[import-untyped,import-not-found,unused-ignore]
from opa_client.errors import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
    RegoParseError,
)

from pipeline.errors import UsageError
from pipeline.gate.engines.common import (
    TestRule,
    batch_expr,
    locate_failure,
    merged_extra,
    rename_duplicates,
    select_tests,
    tests_from_ast,
    verdict,
)
from pipeline.gate.engines.opa_embedded import opa_issues, policy_error
from pipeline.gate.engines.protocol import EngineError, PolicyError, TestOutcome

ID_PREFIX = "netpack-"
_STRICT = {"strict-builtin-errors": "true"}


def _shape(value: Any) -> str:
    """What a JSON value is, for a message: ``{}``, ``null``, ``a list of 2``, ``a string``."""
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "{" + ", ".join(sorted(map(repr, value))[:3]) + "}" if value else "{}"
    if isinstance(value, list):
        return f"a list of {len(value)}" if value else "[]"
    return {bool: "a boolean", str: "a string"}.get(type(value), "a number")


def parse_opa_url(url: str) -> tuple[bool, str, int]:
    """``(https, host, port)`` of ``http(s)://host[:port]`` (port 8181 by default)."""
    parts = urlsplit(url)
    try:
        port = parts.port or 8181
    except ValueError:
        port = 0
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path.strip("/")
        or not port
    ):
        raise UsageError(
            f"--opa-url {url!r}: expected http(s)://host:port, e.g. http://127.0.0.1:8181"
        )
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return parts.scheme == "https", host, port


class OpaServerEngine:
    """Policies and queries sent to an OPA server over its REST API."""

    name = "opa-server"
    thread_safe = False  # one requests.Session; queries are pushed on first use

    def __init__(self, url: str, *, timeout: float = 10.0, retries: int = 2) -> None:
        https, host, port = parse_opa_url(url)
        self.url = url.rstrip("/")
        self._client = OpaClient(host=host, port=port, ssl=https, timeout=timeout, retries=retries)
        self._run = ""
        self._ids: dict[str, str] = {}  # display path -> policy id
        self._sources: dict[str, str] = {}
        # (query, extra_data keys) -> the package of its generated ``values`` rule
        self._queries: dict[tuple[str, tuple[str, ...]], str] = {}
        self._data: dict[str, Any] = {}

    def load(self, modules: Mapping[str, str], data: Mapping[str, Any]) -> None:
        self._delete_policies(stale=True)
        self._run, self._ids, self._queries, self._sources = uuid.uuid4().hex[:12], {}, {}, {}
        self._call("replace data", self._client.update_or_create_data, dict(data), "")
        pending = sorted(modules)
        while pending:
            failures = [
                (path, err) for path in pending if (err := self._try_push(path, modules[path]))
            ]
            if len(failures) == len(pending):
                raise self._compile_error(failures[0][1], f"push {failures[0][0]}")
            pending = [path for path, _ in failures]
        self._sources, self._data = dict(modules), dict(data)

    def evaluate(
        self, query: str, input_doc: Any, *, extra_data: Mapping[str, Any] | None = None
    ) -> list[Any]:
        """Values of ``query``; ``None`` input is JSON null (conftest's empty document)."""
        return self._values(query, [input_doc], extra_data)[0]

    def evaluate_many(
        self, query: str, docs: list[Any], *, extra_data: Mapping[str, Any] | None = None
    ) -> list[list[Any]]:
        """``evaluate`` for each document, in one request."""
        try:
            return self._values(query, docs, extra_data)
        except PolicyError as exc:
            if len(docs) > 1 and exc.file:  # a policy error: name the document
                locate_failure(self, query, docs, extra_data, exc)
            raise

    def _values(
        self, query: str, docs: list[Any], extra_data: Mapping[str, Any] | None
    ) -> list[list[Any]]:
        merged = merged_extra(self._data, extra_data)
        package = self._query_package(query, tuple(sorted(merged)))
        request = {"docs": docs, "extra": merged}
        operation = f"evaluate {query}"
        body = self._call(operation, self._client.query_rule, request, package, "values", _STRICT)
        values = self._result(body, operation)
        if not (
            isinstance(values, list)
            and len(values) == len(docs)
            and all(isinstance(v, list) for v in values)
        ):
            raise self._malformed(f"a result of {_shape(values)}", f"{len(docs)} lists", operation)
        return values

    def _result(self, body: Any, operation: str) -> Any:
        """``body["result"]``: the generated rules are always defined, so it must be there."""
        if not isinstance(body, dict) or "result" not in body:
            raise self._malformed(_shape(body), 'an object with "result"', operation)
        return body["result"]

    def _malformed(self, got: str, expected: str, operation: str) -> EngineError:
        return EngineError(
            f"OPA server {self.url} answered {got} where OPA answers {expected};"
            " is this an OPA server (opa run --server)?",
            operation=operation,
        )

    def run_tests(self, packages: list[str] | None = None) -> list[TestOutcome]:
        tests: list[TestRule] = []
        for path, policy_id in sorted(self._ids.items()):
            operation = f"read policy {path}"
            policy = self._result(
                self._call(operation, self._client.get_policy, policy_id), operation
            )
            if not isinstance(policy, dict) or not isinstance(policy.get("ast"), dict):
                raise self._malformed(
                    f"a result of {_shape(policy)}", 'a policy with "ast"', operation
                )
            tests += tests_from_ast(path, self._sources[path], policy["ast"])
        tests = select_tests(tests, packages)
        renamed = {
            p: s
            for p, s in rename_duplicates(self._sources, tests).items()
            if s != self._sources[p]
        }
        for path, source in renamed.items():  # each duplicate body runs alone, as in OPA
            self._push(self._ids[path], source, f"push {path}")
        try:
            return [self._run_test(test) for test in tests]
        finally:
            for path in renamed:
                self._push(self._ids[path], self._sources[path], f"restore {path}")

    def close(self) -> None:
        """Delete this run's policies (best effort) and close the connection."""
        with contextlib.suppress(PolicyError):
            self._delete_policies(stale=False)
        self._client.close_connection()

    def _run_test(self, test: TestRule) -> TestOutcome:
        if test.skipped:
            return TestOutcome(test.package, test.name, test.file, "skip")
        start = time.perf_counter_ns()
        try:
            body = self._client.query_rule(None, test.package, test.rule, _STRICT)
            if not isinstance(body, dict):
                raise self._malformed(_shape(body), "an object", f"run {test.ref}")
            status, message = verdict([body["result"]] if "result" in body else [])
        except requests.HTTPError as exc:
            status, message = "error", str(self._http_error(exc, ""))
        except (requests.RequestException, ValueError) as exc:
            raise self._transport_error(exc, f"run {test.ref}") from None
        return TestOutcome(
            test.package, test.name, test.file, status, message, time.perf_counter_ns() - start
        )

    def _query_package(self, query: str, keys: tuple[str, ...]) -> str:
        if (query, keys) not in self._queries:
            number = len(self._queries)
            package = f"netpack_{self._run}.q{number}"
            rule = f"values := batch if {{\n\t{batch_expr('batch', query, keys)}\n}}"
            self._push(
                f"{ID_PREFIX}{self._run}/query/q{number}",
                f"package {package}\n\n{rule}\n",
                f"evaluate {query}",
            )
            self._queries[query, keys] = package
        return self._queries[query, keys]

    def _try_push(self, path: str, source: str) -> RegoParseError | None:
        try:
            self._client.update_policy_from_string(
                source, f"{ID_PREFIX}{self._run}/{path}", rego_compat=False
            )
        except RegoParseError as exc:
            return exc
        except Exception as exc:  # requests errors and opa_client's own (e.g. an empty module)
            raise self._transport_error(exc, f"push {path}") from None
        self._ids[path] = f"{ID_PREFIX}{self._run}/{path}"
        return None

    def _push(self, policy_id: str, source: str, operation: str) -> None:
        try:
            self._call(operation, self._client.update_policy_from_string, source, policy_id, False)
        except RegoParseError as exc:
            raise self._compile_error(exc, operation) from None

    def _delete_policies(self, *, stale: bool) -> None:
        """Delete netpack's policies (every run's if ``stale``); a module still used waits."""
        prefix = ID_PREFIX if stale else f"{ID_PREFIX}{self._run}/"
        listed = self._call("list policies", self._client.get_policies_list)
        pending = sorted((p for p in listed if p.startswith(prefix)), reverse=True)
        while pending:
            failed: dict[str, PolicyError] = {}
            for policy_id in pending:
                try:
                    self._call(f"delete policy {policy_id}", self._client.delete_policy, policy_id)
                except PolicyError as exc:
                    failed[policy_id] = exc
            if len(failed) == len(pending):
                raise next(iter(failed.values()))
            pending = list(failed)

    def _call(self, operation: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except RegoParseError:
            raise
        except requests.HTTPError as exc:
            raise self._http_error(exc, operation) from None
        except Exception as exc:  # connection errors, bad JSON, opa_client's errors
            raise self._transport_error(exc, operation) from None

    def _local(self, text: str) -> str:
        """OPA names a module by its policy id: give back the display path (none for a query)."""
        if not self._run:
            return text
        text = re.sub(rf"{ID_PREFIX}{self._run}/query/q\d+:\d+: ", "", text)
        return text.replace(f"{ID_PREFIX}{self._run}/", "")

    def _compile_error(self, exc: RegoParseError, operation: str) -> PolicyError:
        located = [e for e in exc.errors or [] if isinstance(e, dict) and e.get("location")]
        if not located:
            return PolicyError(
                f"OPA server {self.url}: {exc.expression}: {exc.message}", operation=operation
            )
        text = "\n".join(
            f"{e['location'].get('file')}:{e['location'].get('row')}: {e['code']}: {e['message']}"
            for e in located
        )
        return policy_error(self._local(text), operation)

    def _http_error(self, exc: requests.HTTPError, operation: str) -> PolicyError:
        response = exc.response
        if response is None:
            return self._transport_error(exc, operation)
        try:
            body = response.json()
            code, message = body.get("code", ""), self._local(str(body.get("message", "")))
        except ValueError:
            code, message = "", response.text.strip().split("\n")[0][:200]
        if opa_issues(message):
            return policy_error(message, operation)
        detail = ": ".join(p for p in (code, message) if p)
        return PolicyError(
            f"OPA server {self.url} answered HTTP {response.status_code}: {detail}",
            operation=operation,
        )

    def _transport_error(self, exc: Exception, operation: str) -> PolicyError:
        if isinstance(exc, requests.ConnectionError):
            reason = re.search(r"\[Errno -?\d+\] [^'\")]*", str(exc))
            why = reason.group(0) if reason else type(exc).__name__
            return PolicyError(
                f"cannot reach the OPA server at {self.url} ({why})", operation=operation
            )
        if isinstance(exc, ValueError):  # requests' JSONDecodeError: a body that is not JSON
            return EngineError(
                f"OPA server {self.url} answered something that is not JSON ({exc})",
                operation=operation,
            )
        if isinstance(exc, requests.Timeout):
            return PolicyError(
                f"the OPA server at {self.url} did not answer in time", operation=operation
            )
        detail = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        return PolicyError(f"OPA server {self.url}: {detail}", operation=operation)
