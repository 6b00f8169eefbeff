"""Which documents a rule can match (``pipeline.gate.engines.guards``), and that using it changes
no result: ``conftest.check`` with and without the document filter, on the real OPA."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

from pipeline.gate import semantics as conftest
from pipeline.gate.engines.guards import ARRAY, Condition, DocumentFilter, Plan, package_name
from pipeline.gate.engines.opa_embedded import EmbeddedOpaEngine
from pipeline.gate.engines.protocol import PolicyError
from pipeline.gate.policies import Policies, scan_module
from pipeline.model.results import CheckResult
from tests.conftest import ROOT

KIND = ("kind",)
NAME = ("metadata", "name")


@pytest.fixture
def engine() -> Iterator[EmbeddedOpaEngine]:
    made = EmbeddedOpaEngine()
    yield made
    made.close()


def guards_of(engine: EmbeddedOpaEngine, rego: str, package: str = "main") -> Any:
    engine.load({"p.rego": textwrap.dedent(rego)}, {})
    return engine.rule_guards(package)


def test_leading_literal_tests_guard_a_body(engine: EmbeddedOpaEngine) -> None:
    guards = guards_of(
        engine,
        """
        package main

        deny_a contains "a" if {
            input.kind == "DaemonSet"
            "calico-node" = input.metadata.name
            input.spec.x == 1
            input.kind == "ignored, after a non-test"
        }

        deny_a contains "b" if input.kind in {"Job", "Pod"}

        warn_b contains "w" if {
            input.kind == "Secret"
        }
        """,
    )
    assert guards["deny_a"] == (
        (Condition(KIND, frozenset({"DaemonSet"})), Condition(NAME, frozenset({"calico-node"}))),
        (Condition(KIND, frozenset({"Job", "Pod"})),),
    )
    assert guards["warn_b"] == ((Condition(KIND, frozenset({"Secret"})),),)


@pytest.mark.parametrize(
    "rule",
    [
        'deny_x contains "x" if input.spec.kind',  # no test at all
        'deny_x contains "x" if { not input.kind == "A" }',
        'deny_x contains "x" if { input.kind == "A" with input as {"kind": "A"} }',
        'deny_x contains "x" if { k := input.kind; k == "A" }',  # not a literal test of input
        'deny_x contains "x" if { input.kind == 1 }',  # only strings are kept
        'deny_x contains "x" if { input.kind in {"A", 1} }',
        'deny_x contains "x" if { input.spec[0] == "A" }',  # an index, not a key
        'deny_x := "x" if { input.kind == "A" }',  # one value: may have an else or a default
        'deny_x contains "x" if { input.kind == "A" }\ndeny_x contains "y" if true',
        'deny_x.y contains "x" if { input.kind == "A" }',  # ref head
    ],
)
def test_anything_else_may_match_every_document(engine: EmbeddedOpaEngine, rule: str) -> None:
    guards = guards_of(engine, f"package main\n\n{rule}\n")
    assert guards["deny_x"] is None


def test_rules_of_other_packages_are_not_listed(engine: EmbeddedOpaEngine) -> None:
    engine.load(
        {
            "a.rego": 'package main\n\ndeny_a contains "a" if input.kind == "A"\n',
            "b.rego": 'package main.sub\n\ndeny_b contains "b" if input.kind == "B"\n',
            "c.rego": 'package other\n\ndeny_c contains "c" if input.kind == "C"\n',
        },
        {},
    )
    assert set(engine.rule_guards("main") or {}) == {"deny_a"}
    assert set(engine.rule_guards("main.sub") or {}) == {"deny_b"}


def test_data_under_the_package_turns_the_filter_off(engine: EmbeddedOpaEngine) -> None:
    engine.load(
        {"a.rego": 'package main\n\ndeny contains "a" if input.kind == "A"\n'}, {"main": {}}
    )
    assert engine.rule_guards("main") is None


def test_package_names_as_conftest_spells_them() -> None:
    path = [{"type": "var", "value": "data"}, {"type": "string", "value": "a"}]
    assert package_name({"package": {"path": path}}) == "a"
    path.append({"type": "string", "value": "b-c"})
    assert package_name({"package": {"path": path}}) == 'a["b-c"]'


def test_document_filter_plans() -> None:
    node = (Condition(KIND, frozenset({"DaemonSet"})), Condition(NAME, frozenset({"calico-node"})))
    found = DocumentFilter(
        ("deny_node", "deny_any", "deny_job", "exception"),
        {
            "deny_node": (node,),
            "deny_any": None,
            "deny_job": ((Condition(KIND, frozenset({"Job"})),),),
        },
    )
    daemonset = {"kind": "DaemonSet", "metadata": {"name": "calico-node"}}
    assert found.plan(daemonset) == Plan(("deny_node", "deny_any"), ("deny_job",))
    assert found.plan({"kind": "Job"}) == Plan(("deny_any", "deny_job"), ("deny_node",))
    for other in ({"kind": "DaemonSet", "metadata": {"name": "x"}}, None, [], {"kind": 1}):
        assert found.plan(other) == Plan(("deny_any",), ("deny_node", "deny_job"))


# -- the filter changes no result -------------------------------------------------------


class Unfiltered:
    """An engine that hides ``rule_guards`` and ``evaluate_groups``: every rule, every doc."""

    def __init__(self, engine: EmbeddedOpaEngine) -> None:
        self.name, self.thread_safe, self._engine = "opa", True, engine

    def evaluate(self, query: str, doc: Any, *, extra_data: Any = None) -> list[Any]:
        return self._engine.evaluate(query, doc, extra_data=extra_data)

    def evaluate_many(self, query: str, docs: list[Any], *, extra_data: Any = None) -> Any:
        return self._engine.evaluate_many(query, docs, extra_data=extra_data)


POLICY = """
package main

deny_node contains "node" if {
    input.kind == "DaemonSet"
    input.metadata.name == "calico-node"
    input.spec.bad
}

deny_node contains "other" if {
    input.kind == "ConfigMap"
    input.data.bad
}

warn_job contains {"msg": "job", "details": 1} if {
    input.kind in ["Job", "CronJob"]
    input.spec.bad
}

deny_anything contains "anything" if input.bad

exception contains rules if {
    input.kind == "ConfigMap"
    input.metadata.name == "excused"
    rules := ["node"]
}
"""

DOCS = [
    {"kind": "DaemonSet", "metadata": {"name": "calico-node"}, "spec": {"bad": True}},
    {"kind": "DaemonSet", "metadata": {"name": "other"}, "spec": {"bad": True}},
    {"kind": "ConfigMap", "metadata": {"name": "excused"}, "data": {"bad": True}},
    {"kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"bad": True}, "bad": 1},
    {"kind": "Job", "spec": {"bad": True}},
    {"kind": "CustomResourceDefinition", "metadata": {"name": "x"}},
    None,
    [],
]


def checked(engine: Any, policies: Any, files: list[tuple[str, list[Any]]]) -> list[CheckResult]:
    namespaces = conftest.namespaces(policies, ["main"])
    blind = conftest.check(engine, files, namespaces, data={"netpack": {}}, file_blind=True)
    one_by_one = conftest.check(engine, files, namespaces, data={"netpack": {}})
    assert blind == one_by_one
    return blind


def test_filtered_results_equal_unfiltered_ones(engine: EmbeddedOpaEngine, tmp_path: Any) -> None:
    from pipeline.gate.policies import load_policies

    (tmp_path / "main.rego").write_text(textwrap.dedent(POLICY))
    policies = load_policies([str(tmp_path)])
    engine.load(policies.without_tests(), policies.data)
    files = [(f"f{i}.yaml", [doc]) for i, doc in enumerate(DOCS)] + [("all.yaml", DOCS)]
    filtered = checked(engine, policies, files)
    assert filtered == checked(Unfiltered(engine), policies, files)
    by_file = {r.filename: r for r in filtered}
    assert [r.msg for r in by_file["f0.yaml"].failures] == ["node"]
    assert [r.msg for r in by_file["f2.yaml"].exceptions] == ['data.main.exception[_][_] == "node"']
    assert [r.msg for r in by_file["f4.yaml"].warnings] == ["job"]
    assert (by_file["f5.yaml"].successes, by_file["f5.yaml"].failures) == (4, [])


def test_the_netpack_policies_agree_with_and_without_the_filter(engine: EmbeddedOpaEngine) -> None:
    from pipeline.flow import render_cluster
    from pipeline.gate.check import context
    from pipeline.gate.policies import load_policies
    from pipeline.values.cluster import read_cluster

    policies = load_policies(
        [str(ROOT / "policies")], [str(ROOT / "policies" / "data")], include_tests=False
    )
    engine.load(policies.without_tests(), policies.data)
    namespaces = conftest.namespaces(policies, ["main"])
    for path in sorted((ROOT / "clusters").glob("*.yaml")):
        cluster = read_cluster(path, ROOT, path.name)
        resources = render_cluster(cluster, None).resources
        files = [(f"{i}.yaml", [r.body]) for i, r in enumerate(resources)]
        data = {"netpack": context(cluster.context(), resources)}
        assert conftest.check(engine, files, namespaces, data=data, file_blind=True) == (
            conftest.check(Unfiltered(engine), files, namespaces, data=data, file_blind=True)
        ), path.name


def test_a_failing_document_is_named_by_its_place_in_the_batch(
    engine: EmbeddedOpaEngine, tmp_path: Any
) -> None:
    from pipeline.gate.policies import load_policies

    (tmp_path / "main.rego").write_text(
        'package main\n\ndeny contains "n" if {\n\tinput.kind == "Job"\n\tto_number(input.n) > 1\n}\n'
    )
    policies = load_policies([str(tmp_path)])
    engine.load(policies.without_tests(), policies.data)
    files = [
        ("a.yaml", [{"kind": "Service"}, {"kind": "Job", "n": "1"}, {"kind": "Job", "n": "x"}])
    ]
    with pytest.raises(PolicyError) as raised:
        conftest.check(engine, files, conftest.namespaces(policies, ["main"]), file_blind=True)
    assert raised.value.resource == "document 2"


def test_evaluate_groups_is_evaluate_many_per_group(engine: EmbeddedOpaEngine) -> None:
    engine.load({"p.rego": "package p\n\nk := input.kind\n\nn := data.netpack.n\n"}, {})
    groups = [("data.p.k", [{"kind": "A"}, {}]), ("data.p.n", [None]), ("data.p", [{"kind": 1}])]
    extra = {"netpack": {"n": 2}}
    assert engine.evaluate_groups(groups, extra_data=extra) == [
        engine.evaluate_many(query, docs, extra_data=extra) for query, docs in groups
    ]


HELPERS = """
package lib.calico

is_node if {
    input.kind == "DaemonSet"
    input.metadata.name == "calico-node"
}

is_either if input.kind == "A"

is_either if input.kind == "B"

not_only_tests if {
    input.kind == "DaemonSet"
    input.spec
}
"""


def test_library_helpers_guard_like_their_tests(engine: EmbeddedOpaEngine) -> None:
    """``calico.is_node`` (imported or aliased) counts as the literal tests it is made of."""
    main = """
    package main

    import data.lib.calico
    import data.lib.calico as c

    node_here if {
        input.kind == "DaemonSet"
        input.metadata.name == "calico-node"
    }

    deny_imported contains "x" if {
        calico.is_node
        input.spec.x == 1
    }

    deny_aliased contains "x" if c.is_node

    deny_full contains "x" if data.lib.calico.is_node

    deny_same_package contains "x" if node_here

    deny_then_test contains "x" if {
        calico.is_node
        input.metadata.namespace == "kube-system"
    }

    deny_or_helper contains "x" if calico.is_either

    deny_mixed_helper contains "x" if calico.not_only_tests

    deny_negated contains "x" if not calico.is_node
    """
    engine.load({"lib.rego": textwrap.dedent(HELPERS), "p.rego": textwrap.dedent(main)}, {})
    guards = engine.rule_guards("main")
    assert guards is not None
    node = (Condition(KIND, frozenset({"DaemonSet"})), Condition(NAME, frozenset({"calico-node"})))
    for rule in ("deny_imported", "deny_aliased", "deny_full", "deny_same_package"):
        assert guards[rule] == (node,), rule
    namespace = Condition(("metadata", "namespace"), frozenset({"kube-system"}))
    assert guards["deny_then_test"] == ((*node, namespace),)
    for rule in ("deny_or_helper", "deny_mixed_helper", "deny_negated"):
        assert guards[rule] is None, rule

    # the guard still skips: another object is not evaluated for these rules at all
    skip = DocumentFilter(("deny_imported", "deny_negated"), guards)
    assert skip.plan({"kind": "ConfigMap", "metadata": {"name": "x"}}) == Plan(
        ("deny_negated",), ("deny_imported",)
    )
    node_doc = {"kind": "DaemonSet", "metadata": {"name": "calico-node"}, "spec": {"x": 1}}
    assert skip.plan(node_doc) == Plan(("deny_imported", "deny_negated"), ())
    modules = {"lib.rego": textwrap.dedent(HELPERS), "p.rego": textwrap.dedent(main)}
    loaded = Policies(modules, tuple(scan_module(p, src) for p, src in modules.items()))
    documents = [
        ("a.yaml", [node_doc]),
        ("b.yaml", [{"kind": "ConfigMap", "metadata": {"name": "x"}}]),
    ]
    results = conftest.check(engine, documents, conftest.namespaces(loaded, ["main"]))
    failed = [sorted(str(f.metadata["query"]) for f in r.failures) for r in results]
    node_rules = ("aliased", "full", "imported", "mixed_helper", "same_package")
    assert failed == [
        [f"data.main.deny_{r}" for r in node_rules],  # not deny_then_test: no namespace
        ["data.main.deny_negated"],
    ]


def test_is_array_input_guards_combined_rules(engine: EmbeddedOpaEngine) -> None:
    """``is_array(input)`` opens a rule for ``--combine`` inputs only: objects skip it."""
    guards = guards_of(
        engine,
        """
        package main

        deny_combined contains "x" if {
            is_array(input)
            count(input) > 1
        }
        """,
    )
    assert guards["deny_combined"] == ((Condition((), frozenset({ARRAY})),),)
    plans = DocumentFilter(("deny_combined",), guards)
    assert plans.plan({"kind": "DaemonSet"}) == Plan((), ("deny_combined",))
    assert plans.plan("text") == Plan((), ("deny_combined",))
    assert plans.plan([{"path": "a", "contents": {}}]) == Plan(("deny_combined",), ())
