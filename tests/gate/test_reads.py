"""Which rules can read the cluster context (``pipeline.gate.engines.reads``), and that a
verdict is reused only where it is the same evaluation: on the real OPA."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

import pytest

from pipeline.gate import semantics as conftest
from pipeline.gate.engines.opa_embedded import EmbeddedOpaEngine
from pipeline.gate.policies import Policies, scan_module

LIB = """
package lib.ctx

import rego.v1

cidr := data.netpack.cluster.podCIDR

is_role if input.kind == "Role"

plain(x) := upper(x)
"""

MAIN = """
package main

import rego.v1
import data.lib.ctx

deny_static contains msg if {
    ctx.is_role
    msg := ctx.plain(input.metadata.name)
}

deny_by_helper contains msg if {
    ctx.is_role
    msg := ctx.cidr
}

deny_direct contains msg if {
    input.kind == "Role"
    msg := data.netpack.cluster.name
}

deny_dynamic contains msg if {
    input.kind == "Role"
    some key
    msg := data[key].cluster.name
}

deny_local contains msg if {
    input.kind == "Role"
    msg := _mine
}

_mine := data.netpack.cluster.name

deny_with contains msg if {
    input.kind == "Role"
    msg := ctx.plain("x") with data.netpack as {}
}
"""


@pytest.fixture
def engine() -> Iterator[EmbeddedOpaEngine]:
    made = EmbeddedOpaEngine()
    made.load({"lib.rego": textwrap.dedent(LIB), "main.rego": textwrap.dedent(MAIN)}, {})
    yield made
    made.close()


def test_rules_reading_the_context_through_any_path_are_found(engine: EmbeddedOpaEngine) -> None:
    free = engine.context_free("main", ("netpack",))
    assert free is not None
    assert {r for r in free if r.startswith("deny_")} == {"deny_static"}
    assert engine.context_free("main", ("other",)) is not None
    assert "deny_direct" in (engine.context_free("main", ("other",)) or set())


def test_a_verdict_is_reused_only_for_rules_that_read_no_context(
    engine: EmbeddedOpaEngine,
) -> None:
    modules = {"lib.rego": textwrap.dedent(LIB), "main.rego": textwrap.dedent(MAIN)}
    policies = Policies(modules, tuple(scan_module(p, src) for p, src in modules.items()))
    namespaces = conftest.namespaces(policies, ["main"])
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r"}}
    seen = []
    for name, cidr in (("one", "10.0.0.0/16"), ("two", "10.1.0.0/16")):
        ctx = {"cluster": {"name": name, "podCIDR": cidr}}
        (result,) = conftest.check(
            engine, [("r.yaml", [role])], namespaces, data={"netpack": ctx}, file_blind=True
        )
        seen.append(sorted(f.msg for f in result.failures))
    # the second cluster's context shows in every rule that reads it: nothing stale reused
    assert seen[0] == sorted(["R", "X", "10.0.0.0/16", "one", "one", "one"])
    assert seen[1] == sorted(["R", "X", "10.1.0.0/16", "two", "two", "two"])
