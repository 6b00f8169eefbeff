"""A loopback stand-in for ``opa run --server``, built on the embedded OPA engine.

It speaks the part of OPA's REST API that opa-python-client uses, with OPA's
JSON shapes (open-policy-agent/opa server/server.go, docs/rest-api.md):
``GET /health``; ``GET /v1/policies``; ``GET/PUT/DELETE /v1/policies/<id>``
(a compile error is HTTP 400 ``{"code": "invalid_parameter", "message", "errors"}``);
``PUT/DELETE /v1/data/<path>``; ``POST /v1/data/<path>`` (``{"result": ...}``,
no ``result`` when undefined, HTTP 500 on an eval error); ``POST /v1/query``.
Like a real server it names modules by policy id in its error texts.

Differences from OPA: evaluation is always strict about builtin errors (the
bridge cannot turn that off), and only 127.0.0.1 is served.  Set
``fail_with`` to an HTTP status to make every request fail with it, and
``answer_with`` to a JSON body to answer every evaluation (``POST /v1/data``)
and policy read (``GET /v1/policies/<id>``) with it, HTTP 200: a broken or
hostile server.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from pipeline.gate.engines.opa_embedded import BridgeError, OpaHandle, opa_issues

REAL = object()  # ``answer_with`` unset: answer as OPA would


class OpaRestServer:
    """``with OpaRestServer() as opa: ... opa.url ...``: serves until the block ends."""

    def __init__(self) -> None:
        self.policies: dict[str, str] = {}
        self.data: dict[str, Any] = {}
        self.fail_with: int | None = None
        self.answer_with: Any = REAL
        self.requests: list[str] = []  # "METHOD /path", for assertions
        self._lock = threading.Lock()
        self._handle = self._compile(self.policies, self.data)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> OpaRestServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._handle.close()

    # -- the API, as (status, body) ------------------------------------------

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        self.requests.append(f"{method} {path}")
        if self.fail_with:
            return self.fail_with, {"code": "internal_error", "message": "injected failure"}
        route = path.rstrip("/")
        if self.answer_with is not REAL and (
            (method == "POST" and route.startswith("/v1/data"))
            or (method == "GET" and route.startswith("/v1/policies/"))
        ):
            return 200, self.answer_with
        if method == "GET" and route == "/health":
            return 200, {}
        if route == "/v1/policies" and method == "GET":
            return 200, {"result": [self._policy(pid) for pid in sorted(self.policies)]}
        if route.startswith("/v1/policies/"):
            return self._policies(method, route.removeprefix("/v1/policies/"), body)
        if route == "/v1/data" or route.startswith("/v1/data/"):
            segments = [s for s in route.removeprefix("/v1/data").split("/") if s]
            return self._data_api(method, segments, body)
        if method == "POST" and route == "/v1/query":
            request = json.loads(body or b"{}")
            return self._eval(request["query"], request.get("input"), bindings=True)
        return 404, {"code": "resource_not_found", "message": f"no route {method} {path}"}

    def _policies(self, method: str, policy_id: str, body: bytes) -> tuple[int, Any]:
        with self._lock:
            if method == "PUT":
                candidate = {**self.policies, policy_id: body.decode()}
                try:
                    handle = self._compile(candidate, self.data)
                except BridgeError as exc:
                    return 400, _compile_errors(exc)
                self._swap(candidate, self.data, handle)
                return 200, {}
            if policy_id not in self.policies:
                return 404, {
                    "code": "resource_not_found",
                    "message": f'storage_not_found_error: policy id "{policy_id}"',
                }
            if method == "GET":
                return 200, {"result": self._policy(policy_id)}
            if method == "DELETE":
                rest = {k: v for k, v in self.policies.items() if k != policy_id}
                try:
                    handle = self._compile(rest, self.data)
                except BridgeError as exc:  # another module still uses this one
                    return 400, _compile_errors(exc)
                self._swap(rest, self.data, handle)
                return 200, {}
        return 405, {"code": "method_not_allowed", "message": method}

    def _data_api(self, method: str, segments: list[str], body: bytes) -> tuple[int, Any]:
        if method == "POST":
            request = json.loads(body or b"{}")
            ref = "data" + "".join(f"[{json.dumps(s)}]" for s in segments)
            return self._eval(ref, request.get("input"), bindings=False)
        with self._lock:
            data = json.loads(json.dumps(self.data))
            if method == "PUT":
                _set_path(data, segments, json.loads(body))
            elif method == "DELETE" and not _delete_path(data, segments):
                return 404, {"code": "resource_not_found", "message": "storage_not_found_error"}
            elif method not in ("PUT", "DELETE"):
                return 405, {"code": "method_not_allowed", "message": method}
            self._swap(self.policies, data, self._compile(self.policies, data))
        return 204, None

    def _eval(self, query: str, input_doc: Any, *, bindings: bool) -> tuple[int, Any]:
        text = query if bindings else f"__result := {query}"
        payload = b"" if input_doc is None else json.dumps(input_doc).encode()
        try:
            results = self._handle.eval(text, payload).get("result") or []
        except BridgeError as exc:
            code = 400 if exc.code == "prepare_error" else 500
            return code, {
                "code": "invalid_parameter" if code == 400 else "internal_error",
                "message": exc.message,
            }
        if bindings:
            return 200, {"result": [r.get("bindings", {}) for r in results]} if results else {}
        return 200, {"result": results[0]["bindings"]["__result"]} if results else {}

    def _policy(self, policy_id: str) -> dict[str, Any]:
        raw = self.policies[policy_id]
        payload = json.dumps({"id": policy_id, "raw": raw}).encode()
        ast = self._handle.eval("ast := rego.parse_module(input.id, input.raw)", payload)["result"][
            0
        ]["bindings"]["ast"]
        return {"id": policy_id, "raw": raw, "ast": ast}

    @staticmethod
    def _compile(policies: dict[str, str], data: dict[str, Any]) -> OpaHandle:
        handle = OpaHandle()
        try:
            for policy_id, source in policies.items():
                handle.add_policy(policy_id, source)
            handle.add_data(data)
            handle.eval("true")
        except BaseException:
            handle.close()
            raise
        return handle

    def _swap(self, policies: dict[str, str], data: dict[str, Any], handle: OpaHandle) -> None:
        old, self._handle = self._handle, handle
        self.policies, self.data = policies, data
        old.close()


def _compile_errors(exc: BridgeError) -> dict[str, Any]:
    errors = [
        {"code": i.code, "message": i.message, "location": {"file": i.file, "row": i.row, "col": 1}}
        for i in opa_issues(exc.message)
    ]
    return {
        "code": "invalid_parameter",
        "message": "error(s) occurred while compiling module(s)",
        "errors": errors,
    }


def _set_path(data: dict[str, Any], segments: list[str], value: Any) -> None:
    if not segments:
        data.clear()
        data.update(value)
        return
    for segment in segments[:-1]:
        data = data.setdefault(segment, {})
    data[segments[-1]] = value


def _delete_path(data: dict[str, Any], segments: list[str]) -> bool:
    for segment in segments[:-1]:
        data = data.get(segment, {})
    return data.pop(segments[-1], None) is not None if segments else False


def _handler_for(server: OpaRestServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            status, body = server.handle(
                self.command, unquote(urlsplit(self.path).path), self.rfile.read(length)
            )
            raw = (
                b""
                if body is None
                else body
                if isinstance(body, bytes)
                else json.dumps(body).encode()
            )
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_PUT = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

    return Handler
