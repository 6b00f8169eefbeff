"""Every Rego engine gives the same values, test outcomes and errors.

The engines: embedded OPA, regopy (skipped visibly when not installed) and an
OPA server, served here by ``OpaRestServer`` (the REST API on embedded OPA)
and, when an ``opa`` binary is on PATH, by a real ``opa run --server``.
"""

from __future__ import annotations

import importlib.util
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.errors import UsageError
from pipeline.gate.engines import common as engines
from pipeline.gate.engines.choose import default_engine_name, make_engine
from pipeline.gate.engines.common import evaluate_many
from pipeline.gate.engines.protocol import Engine, PolicyError
from tests.gate.opa_rest_server import OpaRestServer

FIXTURES = Path(__file__).parent / "fixtures"
DATA = {"clouds": {"settings": {"azure": {"min_replicas": 2}, "aws": {"min_replicas": 3}}}}
FORBIDDEN = {"conftest": {"file": {"name": "forbidden.yaml", "dir": "/repo"}}}
HAS_REGOPY = importlib.util.find_spec("regopy") is not None
HAS_OPA_CLIENT = importlib.util.find_spec("opa_client") is not None
needs_regopy = pytest.mark.skipif(not HAS_REGOPY, reason="regopy is not installed")
needs_client = pytest.mark.skipif(not HAS_OPA_CLIENT, reason="opa-python-client is not installed")
ENGINES = [
    "opa",
    pytest.param("regopy", marks=needs_regopy),
    pytest.param("opa-server", marks=needs_client),
]


def modules(name: str) -> dict[str, str]:
    root = FIXTURES / name
    return {str(p.relative_to(root.parent)): p.read_text() for p in sorted(root.rglob("*.rego"))}


def deployment(name: str, image: str = "nginx:latest", replicas: int = 1) -> dict[str, Any]:
    container = {"name": "app", "image": image}
    spec = {"replicas": replicas, "template": {"spec": {"containers": [container]}}}
    return {
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"cloud": "azure"}},
        "spec": spec,
    }


SERVICE = {"kind": "Service", "metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}
DOCUMENTS: list[Any] = [deployment("web"), deployment("legacy"), SERVICE, None, {}, [], {"kind": 1}]


@pytest.fixture(scope="module")
def opa_rest() -> Iterator[OpaRestServer]:
    with OpaRestServer() as server:
        yield server


@pytest.fixture
def new_engine(opa_rest: OpaRestServer) -> Iterator[Any]:
    """``new_engine(name)``: an unloaded engine, closed after the test."""
    made: list[Engine] = []

    def make(name: str) -> Engine:
        if name == "opa-server":
            from pipeline.gate.engines.opa_server import OpaServerEngine

            engine: Engine = OpaServerEngine(opa_rest.url, retries=0)
        else:
            engine = make_engine(name)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.close()


def loaded(new_engine: Any, name: str, policy: dict[str, str], data: dict[str, Any]) -> Engine:
    engine: Engine = new_engine(name)
    engine.load(policy, data)
    return engine


def reference(
    policy: dict[str, str], data: dict[str, Any], query: str, docs: list[Any]
) -> list[Any]:
    engine = make_engine("opa")
    engine.load(policy, data)
    try:
        return [engine.evaluate(query, doc, extra_data=FORBIDDEN) for doc in docs]
    finally:
        engine.close()


# -- evaluation parity ---------------------------------------------------------------


@pytest.mark.parametrize("name", ENGINES)
def test_values_match_embedded_opa(new_engine: Any, name: str) -> None:
    engine = loaded(new_engine, name, modules("policy"), DATA)
    got = [engine.evaluate("data.main", doc, extra_data=FORBIDDEN) for doc in DOCUMENTS]
    assert got == reference(modules("policy"), DATA, "data.main", DOCUMENTS)


@pytest.mark.parametrize("name", ENGINES)
def test_values_of_a_web_deployment(new_engine: Any, name: str) -> None:
    engine = loaded(new_engine, name, modules("policy"), DATA)
    [value] = engine.evaluate("data.main", deployment("web"))
    assert value == {
        "deny_forbidden_file": [],
        "deny_latest_tag": ["Deployment/web: container app uses the latest tag"],
        "deny_no_limits": [
            {
                "msg": "Deployment/web: container app has no resource limits",
                "details": {"container": "app"},
            }
        ],
        "exception": [],
        "violation_named": [],
        "warn_replicas": ["Deployment/web: 1 replicas, the cloud needs 2"],
    }


@pytest.mark.parametrize("name", ENGINES)
def test_extra_data_applies_to_one_call_only(new_engine: Any, name: str) -> None:
    engine = loaded(new_engine, name, modules("policy"), DATA)
    rule = "data.main.deny_forbidden_file"
    assert engine.evaluate(rule, SERVICE, extra_data=FORBIDDEN) == [
        ["Service/web: declared in forbidden file forbidden.yaml"]
    ]
    assert engine.evaluate(rule, SERVICE) == [[]]
    other = {"conftest": {"file": {"name": "ok.yaml", "dir": "/repo"}}}
    assert engine.evaluate(rule, SERVICE, extra_data=other) == [[]]


@pytest.mark.parametrize("name", ENGINES)
def test_extra_data_is_merged_over_data(new_engine: Any, name: str) -> None:
    engine = loaded(new_engine, name, {"p.rego": "package p\n\nv := data.clouds.settings\n"}, DATA)
    extra = {"clouds": {"settings": {"gcp": {"min_replicas": 1}}}}
    [value] = engine.evaluate("data.p.v", {}, extra_data=extra)
    assert sorted(value) == ["aws", "azure", "gcp"]


@pytest.mark.parametrize("name", ENGINES)
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("data.main.nothing", []),  # undefined
        ("data.main.deny_latest_tag[m]", ["Deployment/web: container app uses the latest tag"]),
        ("data.main.exception[_][_]", []),
        # a set: regopy walks object keys in insertion order, OPA sorted (CONFTEST.md §3.1)
        (
            '{r | data.main[r]; startswith(r, "deny_")}',
            [["deny_forbidden_file", "deny_latest_tag", "deny_no_limits"]],
        ),
    ],
)
def test_query_shapes(new_engine: Any, name: str, query: str, expected: list[Any]) -> None:
    engine = loaded(new_engine, name, modules("policy"), DATA)
    assert engine.evaluate(query, deployment("web")) == expected


@pytest.mark.parametrize("name", ENGINES)
def test_empty_document_is_null_input(new_engine: Any, name: str) -> None:
    policy = {"p.rego": 'package p\n\nkind := "null" if input == null\n'}
    engine = loaded(new_engine, name, policy, {})
    assert engine.evaluate("data.p.kind", None) == ["null"]
    assert engine.evaluate("data.p.kind", {}) == []


@pytest.mark.parametrize("name", ENGINES)
def test_evaluate_many_matches_evaluate(new_engine: Any, name: str) -> None:
    engine = loaded(new_engine, name, modules("policy"), DATA)
    got = evaluate_many(engine, "data.main", DOCUMENTS, extra_data=FORBIDDEN)
    assert got == reference(modules("policy"), DATA, "data.main", DOCUMENTS)
    assert evaluate_many(engine, "data.main.nothing", [SERVICE, None]) == [[], []]
    assert evaluate_many(engine, "data.main", []) == []


@pytest.mark.parametrize("name", ENGINES)
def test_evaluate_many_names_the_failing_document(new_engine: Any, name: str) -> None:
    policy = {
        "policy/n.rego": 'package main\n\ndeny contains "many" if to_number(input.replicas) > 3\n'
    }
    engine = loaded(new_engine, name, policy, {})
    docs = [{"replicas": "5"}, {"replicas": 1}, {"replicas": "five"}]
    with pytest.raises(PolicyError) as raised:
        evaluate_many(engine, "data.main.deny", docs)
    assert raised.value.resource == "document 2"
    assert raised.value.file in ("policy/n.rego:3", "")  # regopy gives no location


# -- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ENGINES)
def test_syntax_error_names_the_file(new_engine: Any, name: str) -> None:
    policy = {
        **modules("policy"),
        "policy/bad.rego": "package main\n\ndeny contains msg if {\n\tmsg :=\n}\n",
    }
    with pytest.raises(PolicyError) as raised:
        new_engine(name).load(policy, DATA)
    assert raised.value.file.startswith("policy/bad.rego:")
    assert str(raised.value).startswith("policy/bad.rego:")


@pytest.mark.parametrize("name", ["opa", pytest.param("opa-server", marks=needs_client)])
def test_compile_error_names_file_and_line(new_engine: Any, name: str) -> None:
    policy = {"policy/unsafe.rego": "package main\n\ndeny contains msg if {\n\tmsg := unknown\n}\n"}
    with pytest.raises(PolicyError) as raised:
        new_engine(name).load(policy, {})
    assert raised.value.file == "policy/unsafe.rego:4"
    assert "rego_unsafe_var_error: var unknown is unsafe" in raised.value.message


@pytest.mark.parametrize("name", ENGINES)
def test_builtin_error_raises(new_engine: Any, name: str) -> None:
    """Strict builtin errors everywhere: the OPA bridge cannot turn them off."""
    policy = {
        "policy/n.rego": 'package main\n\ndeny contains "many" if to_number(input.replicas) > 3\n'
    }
    engine = loaded(new_engine, name, policy, {})
    assert engine.evaluate("data.main.deny", {"replicas": "5"}) == [["many"]]
    with pytest.raises(PolicyError) as raised:
        engine.evaluate("data.main.deny", {"replicas": "five"})
    assert "eval_builtin_error" in str(raised.value)


@pytest.mark.parametrize("name", ["opa", pytest.param("opa-server", marks=needs_client)])
def test_conflict_error_raises(new_engine: Any, name: str) -> None:
    policy = {"policy/c.rego": "package main\n\nx := input.a\n\nx := input.b\n"}
    engine = loaded(new_engine, name, policy, {})
    with pytest.raises(PolicyError, match="eval_conflict_error") as raised:
        engine.evaluate("data.main.x", {"a": 1, "b": 2})
    assert raised.value.file.startswith("policy/c.rego:")


@needs_regopy
def test_regopy_refuses_an_unsupported_builtin() -> None:
    source = 'package main\n\n# net.cidr_merge(x) in a comment is fine\ndeny contains "open" if {\n\tnet.cidr_contains("0.0.0.0/0", input.cidr)\n}\n'
    with pytest.raises(PolicyError) as raised:
        make_engine("regopy").load({"policy/net.rego": source}, {})
    assert raised.value.file == "policy/net.rego:5"
    assert "regopy does not support net.cidr_contains (1 call(s))" in raised.value.message


def test_embedded_opa_supports_net_builtins() -> None:
    source = 'package main\n\ndeny contains "open" if net.cidr_contains(input.cidr, "10.0.0.1")\n'
    engine = make_engine("opa")
    engine.load({"policy/net.rego": source}, {})
    assert engine.evaluate("data.main.deny", {"cidr": "10.0.0.0/8"}) == [["open"]]


@needs_regopy
def test_regopy_user_functions_and_imports_are_not_builtins() -> None:
    lib = 'package lib\n\ncidr_ok(c) if startswith(c, "10.")\n'
    main = 'package main\n\nimport data.lib\n\nf(x) := x\n\ndeny contains "x" if { not lib.cidr_ok(f(input.cidr)) }\n'
    engine = make_engine("regopy")
    engine.load({"lib.rego": lib, "main.rego": main}, {})
    assert engine.evaluate("data.main.deny", {"cidr": "192.168.0.0/16"}) == [["x"]]


@needs_regopy
def test_regopy_never_evaluates_test_files() -> None:
    engine = make_engine("regopy")
    engine.load(modules("policy"), DATA)  # main_test.rego would crash rego-cpp
    assert engine.evaluate("data.main_test", {}) == []


@pytest.mark.parametrize(
    ("source", "reads"),
    [
        ("x := data.conftest.file.name", True),
        ("import data.conftest\nx := conftest.file", True),
        ('x := data[k] if k := "conf"', True),  # dynamic: may read anything
        ("x := walk(data)", True),
        ("x := data.clouds # data.conftest in a comment", False),
        ('x := "data.conftest"', False),
        ("x := input.data[0]", False),
    ],
)
def test_reads_data(source: str, reads: bool) -> None:
    assert engines.reads_data([f"package p\n\n{source}\n"], "conftest") is reads


def test_unloaded_engine_raises() -> None:
    with pytest.raises(PolicyError, match="no policies loaded"):
        make_engine("opa").evaluate("data.main", {})


# -- run_tests -------------------------------------------------------------------------

VERIFY = [
    ("test_latest_detected", "pass"),
    ("test_pinned_not_latest", "pass"),
    ("test_registry_default", "pass"),
    ("test_registry_explicit", "pass"),
    ("test_registry_explicit#01", "fail"),
    ("test_fails_on_purpose", "fail"),
    ("test_builtin_error", "error"),
    ("test_by_note", "pass"),
    ("todo_test_digest_pinning", "skip"),
]


@pytest.mark.parametrize("name", ENGINES)
def test_run_tests_like_opa_test(new_engine: Any, name: str) -> None:
    engine = loaded(new_engine, name, modules("verify"), {})
    outcomes = engine.run_tests()
    assert [(t.name, t.status) for t in outcomes] == VERIFY
    assert {(t.package, t.file) for t in outcomes} == {
        ("lib.images_test", "verify/lib/images_test.rego")
    }
    assert all(t.duration_ns > 0 for t in outcomes if t.status in ("pass", "fail"))
    error = next(t for t in outcomes if t.status == "error")
    assert "eval_builtin_error" in error.message


@pytest.mark.parametrize("name", ENGINES)
@pytest.mark.parametrize(
    ("packages", "count"), [(["lib.images_test"], 9), (["lib.*"], 9), (["main"], 0)]
)
def test_run_tests_filters_packages(
    new_engine: Any, name: str, packages: list[str], count: int
) -> None:
    engine = loaded(new_engine, name, modules("verify"), {})
    assert len(engine.run_tests(packages)) == count


def test_embedded_opa_asks_every_test_in_one_query(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each new query text makes OPA compile every module again: verify asks one query for
    # all tests and halves only a query that errors, so the other tests keep their verdicts.
    from pipeline.gate.engines import opa_embedded

    queries: list[str] = []
    real_eval = opa_embedded.OpaHandle.eval

    def counted(self: Any, query: str, input_json: bytes = b"") -> dict[str, Any]:
        queries.append(query)
        return real_eval(self, query, input_json)

    monkeypatch.setattr(opa_embedded.OpaHandle, "eval", counted)
    engine = make_engine("opa")
    engine.load(modules("policy"), DATA)
    clean = engine.run_tests()
    assert {t.status for t in clean} == {"pass", "fail", "skip"}
    assert sum("__netpack_tests" in q for q in queries) == 1
    queries.clear()
    engine.load(modules("verify"), {})
    assert [(t.name, t.status) for t in engine.run_tests()] == VERIFY
    runs = [q for q in queries if "__netpack_tests" in q]
    # 8 tests with one error: all 8, then 4 + 4, then 2 + 2 of the erroring half, then 1 + 1.
    assert [q.count("data.lib.images_test.") for q in runs] == [8, 4, 4, 2, 2, 1, 1]
    engine.close()


@pytest.mark.parametrize("name", ["opa", pytest.param("opa-server", marks=needs_client)])
def test_run_tests_with_input_overrides(new_engine: Any, name: str) -> None:
    engine = loaded(new_engine, name, modules("policy"), DATA)
    assert [(t.name, t.status) for t in engine.run_tests()] == [
        ("test_latest_tag_denied", "pass"),
        ("test_replicas_warned", "pass"),
        ("test_fails_on_purpose", "fail"),
        ("todo_test_later", "skip"),
    ]


@needs_regopy
def test_regopy_crash_in_a_test_is_an_error() -> None:
    """rego-cpp segfaults on these ``with input as`` tests; the child process absorbs it."""
    engine = make_engine("regopy")
    engine.load(modules("policy"), DATA)
    outcomes = engine.run_tests()
    assert [(t.name, t.status) for t in outcomes] == [
        ("test_latest_tag_denied", "error"),
        ("test_replicas_warned", "error"),
        ("test_fails_on_purpose", "error"),
        ("todo_test_later", "skip"),
    ]
    assert outcomes[0].message == "regopy crashed (SIGSEGV) running this test"


# -- embedded OPA specifics ------------------------------------------------------------


def test_embedded_opa_is_thread_safe() -> None:
    engine = make_engine("opa")
    engine.load(modules("policy"), DATA)
    docs = [deployment(f"d{i}", replicas=i % 4) for i in range(200)]
    expected = [engine.evaluate("data.main", d, extra_data=FORBIDDEN) for d in docs]
    got: dict[int, list[Any]] = {}

    def work(offset: int) -> None:
        for i in range(offset, len(docs), 2):
            got[i] = engine.evaluate("data.main", docs[i], extra_data=FORBIDDEN)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert engine.thread_safe
    assert [got[i] for i in range(len(docs))] == expected


@pytest.mark.parametrize("name", ["opa", pytest.param("regopy", marks=needs_regopy)])
def test_prints_are_captured(new_engine: Any, name: str, capfd: pytest.CaptureFixture[str]) -> None:
    policy = {
        "policy/p.rego": 'package main\n\nwarn contains "w" if {\n\tprint("kind is", input.kind)\n}\n'
    }
    engine: Any = loaded(new_engine, name, policy, {})  # last_prints is not in the Protocol
    assert engine.evaluate("data.main.warn", {"kind": "Pod"}) == [["w"]]
    location = "policy/p.rego:4" if name == "opa" else ""
    assert engine.last_prints() == [(location, "kind is Pod")]
    assert capfd.readouterr().out == ""


# -- OPA server specifics --------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@needs_client
def test_unreachable_server_names_the_url() -> None:
    from pipeline.gate.engines.opa_server import OpaServerEngine

    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(PolicyError) as raised:
        OpaServerEngine(url, retries=0).load(modules("policy"), DATA)
    assert (
        str(raised.value)
        == f"list policies: cannot reach the OPA server at {url} ([Errno 111] Connection refused)"
    )


@needs_client
def test_failing_server_names_the_url(new_engine: Any, opa_rest: OpaRestServer) -> None:
    engine = loaded(new_engine, "opa-server", modules("policy"), DATA)
    engine.evaluate("data.main", SERVICE)
    opa_rest.fail_with = 500
    try:
        with pytest.raises(PolicyError) as raised:
            engine.evaluate("data.main", SERVICE)
    finally:
        opa_rest.fail_with = None
    assert str(raised.value) == (
        f"evaluate data.main: OPA server {opa_rest.url} answered HTTP 500: internal_error: injected failure"
    )


@needs_client
def test_failing_server_on_load(new_engine: Any, opa_rest: OpaRestServer) -> None:
    opa_rest.fail_with = 503
    try:
        with pytest.raises(PolicyError) as raised:
            new_engine("opa-server").load(modules("policy"), DATA)
    finally:
        opa_rest.fail_with = None
    assert str(raised.value) == (
        f"list policies: OPA server {opa_rest.url} answered HTTP 503: internal_error: injected failure"
    )


@needs_client
def test_server_load_replaces_stale_policies(new_engine: Any, opa_rest: OpaRestServer) -> None:
    opa_rest.handle(
        "PUT",
        "/v1/policies/netpack-old/policy/main.rego",
        b'package main\n\ndeny contains "stale"\n',
    )
    opa_rest.handle("PUT", "/v1/policies/someone-else.rego", b"package other\n\nx := 1\n")
    engine = loaded(new_engine, "opa-server", modules("policy"), DATA)
    assert "netpack-old/policy/main.rego" not in opa_rest.policies
    assert engine.evaluate("data.main.deny_latest_tag", SERVICE) == [[]]
    engine.close()
    assert sorted(opa_rest.policies) == ["someone-else.rego"]
    opa_rest.handle("DELETE", "/v1/policies/someone-else.rego", b"")


@needs_client
def test_server_policies_are_sent_verbatim(new_engine: Any, opa_rest: OpaRestServer) -> None:
    loaded(new_engine, "opa-server", modules("policy"), DATA)
    sent = {
        pid.split("/", 1)[1]: src for pid, src in opa_rest.policies.items() if "/query/" not in pid
    }
    assert sent == modules("policy")


@needs_client
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8181", (False, "127.0.0.1", 8181)),
        ("https://opa.example:9443/", (True, "opa.example", 9443)),
        ("http://localhost", (False, "localhost", 8181)),
        ("http://[::1]:8181", (False, "[::1]", 8181)),
    ],
)
def test_parse_opa_url(url: str, expected: tuple[bool, str, int]) -> None:
    from pipeline.gate.engines.opa_server import parse_opa_url

    assert parse_opa_url(url) == expected


@needs_client
@pytest.mark.parametrize("url", ["127.0.0.1:8181", "ftp://h:1", "http://h:1/v1", "http://h:port"])
def test_parse_opa_url_rejects(url: str) -> None:
    from pipeline.gate.engines.opa_server import parse_opa_url

    with pytest.raises(UsageError, match="expected http"):
        parse_opa_url(url)


@pytest.fixture(scope="module")
def real_opa() -> Iterator[str]:
    binary = shutil.which("opa")
    if binary is None:
        pytest.skip("no opa binary on PATH: the real OPA server test needs one")
    url = f"http://127.0.0.1:{closed_port()}"
    proc = subprocess.Popen([binary, "run", "--server", "--addr", url.removeprefix("http://")])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(
                    ("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=0.2
                ).close()
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@needs_client
def test_real_opa_server_matches_embedded(real_opa: str) -> None:
    from pipeline.gate.engines.opa_server import OpaServerEngine

    engine = OpaServerEngine(real_opa)
    try:
        engine.load(modules("policy"), DATA)
        got = [engine.evaluate("data.main", doc, extra_data=FORBIDDEN) for doc in DOCUMENTS]
        assert got == reference(modules("policy"), DATA, "data.main", DOCUMENTS)
        engine.load(modules("verify"), {})
        assert [(t.name, t.status) for t in engine.run_tests()] == VERIFY
    finally:
        engine.close()


# -- choosing an engine ----------------------------------------------------------------


def test_make_engine_names() -> None:
    assert make_engine("opa").name == "opa"
    with pytest.raises(UsageError, match="unknown policy engine 'rego'"):
        make_engine("rego")
    with pytest.raises(UsageError, match="needs --opa-url"):
        make_engine("opa-server")


def test_default_engine_is_embedded_opa(capsys: pytest.CaptureFixture[str]) -> None:
    assert default_engine_name() == "opa"
    assert capsys.readouterr().err == ""


@needs_regopy
def test_default_engine_falls_back_to_regopy(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipeline.gate.engines import opa_embedded

    monkeypatch.setattr(opa_embedded, "bindings_error", lambda: "libopabridge.so: cannot open")
    assert default_engine_name() == "regopy"
    err = capsys.readouterr().err
    assert err.startswith(
        "netpack: policy engine regopy (rego-cpp), because the OPA bindings failed: "
    )
    assert "libopabridge.so: cannot open" in err
