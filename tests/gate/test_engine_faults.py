"""Engines that fail: a broken OPA server, a missing optional engine.

Whatever an engine does wrong, the gate says so in one line and never passes:
a malformed answer is an ``EngineError`` (exit 5), a missing extra names the
``pip install`` that brings it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest

from pipeline.errors import EXIT_ENGINE, UsageError
from pipeline.gate import semantics as conftest
from pipeline.gate.engines.choose import make_engine
from pipeline.gate.engines.protocol import EngineError
from pipeline.gate.policies import load_policies
from tests.gate.opa_rest_server import REAL, OpaRestServer
from tests.gate.test_engines import DATA, FIXTURES, SERVICE, modules, needs_client

# Each a JSON body an OPA server must never give for a defined rule.
MALFORMED: list[Any] = [
    {},
    {"decision_id": "x"},
    {"result": []},
    {"result": None},
    {"result": "yes"},
    {"result": [None]},
    {"result": [[5]]},
    {"result": [["not an object"]]},
    {"result": [[{"deny_latest_tag": "not a list"}]]},
    {"result": [[], []]},
    [],
    "ok",
    None,
]


@pytest.fixture(scope="module")
def opa_rest() -> Iterator[OpaRestServer]:
    with OpaRestServer() as server:
        yield server


@needs_client
@pytest.mark.parametrize("answer", MALFORMED, ids=[repr(a)[:40] for a in MALFORMED])
def test_malformed_server_answers_are_engine_errors(opa_rest: OpaRestServer, answer: Any) -> None:
    from pipeline.gate.engines.opa_server import OpaServerEngine

    engine = OpaServerEngine(opa_rest.url, retries=0)
    engine.load(modules("policy"), DATA)
    policies = load_policies([str(FIXTURES / "policy")], [])
    opa_rest.answer_with = answer
    try:
        with pytest.raises(EngineError) as raised:
            conftest.check(engine, [("svc.yaml", [SERVICE])], conftest.namespaces(policies))
        with pytest.raises(EngineError):
            engine.run_tests()
    finally:
        opa_rest.answer_with = REAL
        engine.close()
    assert raised.value.exit_code == EXIT_ENGINE
    assert f"OPA server {opa_rest.url} answered" in str(raised.value) or (
        "the engine answered" in str(raised.value)
    )
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("engine", "modules_gone", "extra"),
    [
        ("regopy", ["regopy"], "regopy"),
        ("opa-server", ["opa_client"], "server"),
        ("opa-server", ["requests"], "server"),
    ],
)
def test_missing_extra_names_the_install(
    monkeypatch: pytest.MonkeyPatch, engine: str, modules_gone: list[str], extra: str
) -> None:
    for name in list(sys.modules):
        if name.split(".")[0] in modules_gone or name.startswith(
            "pipeline.gate.engines.opa_server"
        ):
            monkeypatch.delitem(sys.modules, name)
        if name == "pipeline.gate.engines.regopy":
            monkeypatch.delitem(sys.modules, name)
    for name in modules_gone:
        monkeypatch.setitem(sys.modules, name, None)  # import raises ModuleNotFoundError
    with pytest.raises(UsageError) as raised:
        make_engine(engine, opa_url="http://127.0.0.1:8181")
    assert str(raised.value) == (
        f"--engine {engine} needs the {modules_gone[0]!r} package, which is not installed;"
        f" install the extra: pip install 'netpack[{extra}]'"
    )
