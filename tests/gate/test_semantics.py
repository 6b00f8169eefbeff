"""conftest's evaluation semantics, input parsing and policy loading, on the real OPA engine."""

from __future__ import annotations

import io
import os
import textwrap
from pathlib import Path
from typing import Any

import pytest

from pipeline.errors import InputError, UsageError
from pipeline.gate import inputs
from pipeline.gate import semantics as conftest
from pipeline.gate.engines.choose import make_engine
from pipeline.gate.engines.protocol import PolicyError, TestOutcome
from pipeline.gate.policies import (
    Rule,
    check_problematic_if,
    load_data,
    load_policies,
    scan_module,
)
from pipeline.model.results import CheckResult, Location, Result


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def run(
    tmp_path: Path,
    rego: str | dict[str, str],
    documents: list[tuple[str, list[Any]]],
    patterns: tuple[str, ...] = ("main",),
    *,
    all_namespaces: bool = False,
    combine: bool = False,
) -> list[CheckResult]:
    """Load ``rego`` (one main.rego, or files by name) and check ``documents``."""
    write(tmp_path / "policy", {"main.rego": rego} if isinstance(rego, str) else rego)
    policies = load_policies([str(tmp_path / "policy")])
    engine = make_engine("opa")  # the real OPA, embedded
    try:
        engine.load(policies.without_tests(), policies.data)
        check_problematic_if(policies)
        chosen = conftest.namespaces(policies, patterns, all_namespaces=all_namespaces)
        return conftest.check(engine, documents, chosen, combine=combine)
    finally:
        engine.close()


def tally(result: CheckResult) -> tuple[int, list[str], list[str], list[str]]:
    return (
        result.successes,
        [r.msg for r in result.failures],
        [r.msg for r in result.warnings],
        [r.msg for r in result.exceptions],
    )


# -- counting ------------------------------------------------------------------------------


COUNTING = [
    # (policy body, input, (successes, failures, warnings, exceptions))
    ('deny contains "a" if input.x', {"x": True}, (0, ["a"], [], [])),
    ('deny contains "a" if input.x', {"x": False}, (1, [], [], [])),
    # one rule, three messages: 3 tests, 0 passed (conftest tests/return-multiple-failures)
    (
        'deny contains msg if { some n in [1, 2, 3]; msg := sprintf("n=%d", [n]) }',
        {},
        (0, ["n=1", "n=2", "n=3"], [], []),
    ),
    # two definitions of one rule: ruleCount 2 pads the passing one
    ('deny contains "a" if input.a\ndeny contains "b" if input.b', {"a": True}, (1, ["a"], [], [])),
    ('deny contains "a" if input.a\ndeny contains "b" if input.b', {}, (2, [], [], [])),
    # a non-list value is one success, even `deny if true`
    ("deny if true", {}, (1, [], [], [])),
    ('warn_x := "not a list"', {}, (1, [], [], [])),
    # undefined: no result, but the padding counts the definition as passed
    ("violation := [1] if false", {}, (1, [], [], [])),
    ('warn contains "w" if true', {}, (0, [], ["w"], [])),
    ('warn_a contains "w" if true\ndeny_b contains "d" if true', {}, (0, ["d"], ["w"], [])),
    # an empty message counts as a success; non-string, non-object elements are ignored
    ('deny contains ""', {}, (1, [], [], [])),
    ("deny contains 1", {}, (1, [], [], [])),
    # helpers, exception and test_ rules are not counted
    ('helper := 1\ntest_x if true\nwarning contains "x"', {}, (0, [], [], [])),
]


@pytest.mark.parametrize(("body", "document", "expected"), COUNTING)
def test_counting(tmp_path: Path, body: str, document: Any, expected: tuple[Any, ...]) -> None:
    [result] = run(tmp_path, f"package main\n\n{body}\n", [("in.yaml", [document])])
    assert tally(result) == expected


def test_case_insensitive_names_query_the_first_spelling_only(tmp_path: Path) -> None:
    rego = 'package main\ndeny_Foo contains "upper"\ndeny_foo contains "lower"\n'
    [result] = run(tmp_path, rego, [("in.yaml", [{}])])
    assert tally(result) == (1, ["upper"], [], [])


def test_undefined_rule_gives_no_result() -> None:
    result = CheckResult("f", "main")
    conftest.evaluate_document(conftest.Namespace("main", ("deny",), 0), {}, result)
    assert (result.tests, result.queries) == (
        0,
        ['data.main.exception[_][_] == ""', "data.main.deny"],
    )


def test_object_results(tmp_path: Path) -> None:
    rego = """\
        package main
        deny contains {"msg": "m", "_loc": {"file": "x.tf", "line": 7}, "details": {"a": 1}}
        warn contains {"msg": "w", "_loc": "not an object"}
    """
    [result] = run(tmp_path, rego, [("in.yaml", [{}])])
    assert result.failures == [
        Result("m", {"details": {"a": 1}, "query": "data.main.deny"}, Location("x.tf", 7))
    ]
    assert result.warnings == [Result("w", {"query": "data.main.warn"})]


def test_string_results_carry_the_query(tmp_path: Path) -> None:
    [result] = run(tmp_path, 'package main\nviolation_x contains "v"\n', [("in.yaml", [{}])])
    assert result.failures == [Result("v", {"query": "data.main.violation_x"})]


@pytest.mark.parametrize("value", ['{"message": "x"}', '{"msg": 1}'])
def test_object_without_string_msg_is_an_error(tmp_path: Path, value: str) -> None:
    with pytest.raises(PolicyError) as err:
        run(tmp_path, f"package main\ndeny contains {value}\n", [("in.yaml", [{}])])
    assert err.value.message == '"msg" field must be present and a string'
    assert str(err.value).startswith("in.yaml data.main.deny: ")


# -- exceptions ----------------------------------------------------------------------------

EXCEPTION_POLICY = """\
    package main
    deny_foo contains "foo denied" if input.kind == "Pod"
    violation_foo contains "foo violated" if input.kind == "Pod"
    warn_foo contains "foo warned" if input.kind == "Pod"
    deny contains "bare denied" if input.kind == "Pod"
    deny_bar contains "bar denied" if input.kind == "Pod"
    exception contains rules if { input.except == "foo"; rules := ["foo"] }
    exception contains rules if { input.except == "bare"; rules := [""] }
    exception contains rules if { input.except == "twice"; rules := ["foo", "bar", "foo"] }
"""
FOO = 'data.main.exception[_][_] == "foo"'
BARE = 'data.main.exception[_][_] == ""'
BAR = 'data.main.exception[_][_] == "bar"'


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            {"kind": "Pod"},
            (0, ["bar denied", "bare denied", "foo denied", "foo violated"], ["foo warned"], []),
        ),
        # deny_foo, violation_foo and warn_foo are all exempted by "foo"
        ({"kind": "Pod", "except": "foo"}, (0, ["bar denied", "bare denied"], [], [FOO, FOO, FOO])),
        # "" exempts the bare names deny, violation and warn
        (
            {"kind": "Pod", "except": "bare"},
            (0, ["bar denied", "foo denied", "foo violated"], ["foo warned"], [BARE]),
        ),
        # every matching row is one exception
        (
            {"kind": "Pod", "except": "twice"},
            (0, ["bare denied"], [], [FOO, FOO, FOO, FOO, FOO, FOO, BAR]),
        ),
        # a matched exception drops the rule's successes too
        ({"kind": "Svc", "except": "foo"}, (2, [], [], [FOO, FOO, FOO])),
    ],
)
def test_exceptions(tmp_path: Path, document: Any, expected: tuple[Any, ...]) -> None:
    [result] = run(tmp_path, EXCEPTION_POLICY, [("in.yaml", [document])])
    successes, failures, warnings, exceptions = tally(result)
    assert (successes, sorted(failures), warnings, exceptions) == expected


def test_exception_rows() -> None:
    rows = [["a", "b"], {"k": "a"}, "a", ["a", 1]]
    assert conftest._exception_rows(rows, "a") == 3
    assert conftest._exception_rows(None, "a") == 0
    assert [
        conftest.exception_name(r) for r in ("deny", "warn_x", "violation_a_b", "deny_warn_x")
    ] == [
        "",
        "x",
        "a_b",
        "x",
    ]


# -- documents, files, combine -------------------------------------------------------------


def test_documents_of_one_file_are_evaluated_separately_and_merged(tmp_path: Path) -> None:
    rego = 'package main\ndeny contains msg if { msg := sprintf("%v", [input.n]) }\n'
    results = run(tmp_path, rego, [("b.yaml", [{"n": 1}, {"n": 2}, None]), ("a.yaml", [{"n": 3}])])
    assert [(r.filename, tally(r)) for r in results] == [
        ("a.yaml", (0, ["3"], [], [])),
        ("b.yaml", (1, ["1", "2"], [], [])),
    ]


def test_null_and_empty_documents(tmp_path: Path) -> None:
    rego = 'package main\ndeny contains "null input" if input == null\n'
    [result] = run(tmp_path, rego, [("empty.yaml", [None])])
    assert tally(result) == (0, ["null input"], [], [])
    [result] = run(tmp_path, rego, [("empty-list.json", [])])
    assert result.tests == 0


def test_data_conftest_file(tmp_path: Path) -> None:
    rego = 'package main\ndeny contains sprintf("%s|%s", [data.conftest.file.name, data.conftest.file.dir])\n'
    [result] = run(tmp_path, rego, [("sub/x.yaml", [{}])])
    assert result.failures[0].msg == f"x.yaml|{os.path.join(os.getcwd(), 'sub')}"


def test_combine(tmp_path: Path) -> None:
    rego = """\
        package main
        deny contains msg if {
            paths := [sprintf("%s:%v", [d.path, d.contents.n]) | some d in input]
            msg := sprintf("%s %s", [data.conftest.file.name, concat(",", paths)])
        }
    """
    docs = [("b.yaml", [{"n": 1}, {"n": 2}]), ("a.yaml", [{"n": 3}])]
    [result] = run(tmp_path, rego, docs, combine=True)
    assert (result.filename, result.failures[0].msg) == (
        "Combined",
        "Combined a.yaml:3,b.yaml:1,b.yaml:2",
    )
    assert conftest.combined_input(docs)[0] == {"path": "a.yaml", "contents": {"n": 3}}


# -- namespaces ------------------------------------------------------------------------------

NAMESPACED = {
    "main.rego": 'package main\ndeny contains "main"\n',
    "gke.rego": 'package main.gke\ndeny contains "gke"\n',
    "deep.rego": 'package main.a.b\nwarn contains "deep"\n',
    "other.rego": 'package other\nviolation contains "other"\n',
    "other_test.rego": "package other_test\ntest_x if true\n",
}


@pytest.mark.parametrize(
    ("patterns", "all_namespaces", "expected"),
    [
        (("main",), False, ["main"]),
        (("main.*",), False, ["main.a.b", "main.gke"]),  # "*" crosses dots
        (("other", "main.g?e"), False, ["main.gke", "other"]),
        (("ma[hij]n",), False, ["main"]),
        (("m[^a]*",), False, []),
        (("nothing",), False, ["nothing"]),  # an unknown package is still checked: 0 tests
        ((), True, ["main", "main.a.b", "main.gke", "other", "other_test"]),
    ],
)
def test_namespaces(
    tmp_path: Path, patterns: tuple[str, ...], all_namespaces: bool, expected: list[str]
) -> None:
    results = run(
        tmp_path, NAMESPACED, [("in.yaml", [{}])], patterns, all_namespaces=all_namespaces
    )
    assert [r.namespace for r in results] == expected
    assert [r.tests for r in results if r.namespace in ("nothing", "other_test")] in ([], [0])


def test_namespace_results_are_ordered_by_namespace_then_file(tmp_path: Path) -> None:
    results = run(tmp_path, NAMESPACED, [("b.yaml", [{}]), ("a.yaml", [{}])], ("main", "main.gke"))
    assert [(r.namespace, r.filename, r.failures[0].msg) for r in results] == [
        ("main", "a.yaml", "main"),
        ("main", "b.yaml", "main"),
        ("main.gke", "a.yaml", "gke"),
        ("main.gke", "b.yaml", "gke"),
    ]


def test_bad_namespace_glob() -> None:
    with pytest.raises(UsageError, match="bad namespace pattern 'ma\\[in'"):
        conftest.namespace_names(["ma[in"], ["main"], all_namespaces=False)


# -- loading ---------------------------------------------------------------------------------


def test_problematic_if(tmp_path: Path) -> None:
    rego = 'package main\n\n# a comment\ndeny[msg] if {\n    msg := "x"\n}\n'
    with pytest.raises(PolicyError) as err:
        run(tmp_path, rego, [("in.yaml", [{}])])
    path = tmp_path / "policy" / "main.rego"
    assert err.value.message == (
        f"rule is using 'if' keyword without 'contains' keyword: rule in {path} at line 4"
    )


def test_no_policies_found(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "x.yaml").write_text("a: 1\n")
    with pytest.raises(PolicyError) as err:
        load_policies([str(tmp_path / "empty"), str(tmp_path / "empty")])
    assert err.value.message == f"no policies found in [{tmp_path}/empty {tmp_path}/empty]"


def test_policy_files_recursive_with_and_without_tests(tmp_path: Path) -> None:
    write(tmp_path, {"p/a.rego": "package a\n", "p/sub/b_test.rego": "package b\n", "p/c.txt": "x"})
    found = load_policies([str(tmp_path / "p")])
    assert [Path(p).name for p in found.modules] == ["a.rego", "b_test.rego"]
    assert list(found.without_tests()) == [str(tmp_path / "p" / "a.rego")]
    assert [
        Path(p).name for p in load_policies([str(tmp_path / "p")], include_tests=False).modules
    ] == ["a.rego"]


def test_data_merges_with_directory_keys(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "d/services.yaml": "services: {ports: [22, 21]}\n",
            "d/more.json": '{"services": {"names": ["ssh"]}}',
            "d/clouds/aws.yml": "aws: {mtu: 9001}\n",
            "d/clouds/skip.txt": "ignored",
        },
    )
    assert load_data([str(tmp_path / "d")]) == {
        "clouds": {"aws": {"mtu": 9001}},
        "services": {"names": ["ssh"], "ports": [22, 21]},
    }


def test_data_conflict_names_both_files(tmp_path: Path) -> None:
    write(tmp_path, {"d/a.yaml": "x: {z: 1}\n", "d/b.yaml": "x: {z: 2}\n"})
    with pytest.raises(InputError) as err:
        load_data([str(tmp_path / "d")])
    a, b = tmp_path / "d" / "a.yaml", tmp_path / "d" / "b.yaml"
    assert str(err.value) == f"{b} load data: data.x.z is set by both {a} and {b}"


TRICKY_REGO = r"""# deny contains "in a comment"
package main.gke
import rego.v1

deny contains msg if {
    s := "a { brace and \" quote"
    msg := s
}

deny contains {
  "msg": "multi-line head",
} if {
  input.x
}

violation_x := [1,
   2] if false

default warn_a := false
warn_a if {
  true
} else := true

raw := `a raw { string
deny contains "not a rule"
`
template := $"template {concat("}", ["a"])} more"

a.b.c := 1
deny[msg] if { msg := "x" }
warn.foo if true
deny["k"] := "v"
f(x) := x + 1
deny_y contains "a" if
    input.y
deny_y contains "b" if input.z ==
  1
"""


def test_scan_module_finds_top_level_heads() -> None:
    module = scan_module("p.rego", TRICKY_REGO)
    assert module.package == "main.gke"
    assert module.rules == (
        Rule("deny", 5),
        Rule("deny", 10),
        Rule("violation_x", 16),
        Rule("warn_a", 19),
        Rule("warn_a", 20),
        Rule("raw", 24),
        Rule("template", 27),
        Rule("", 29),
        Rule("", 30, problematic=True),
        Rule("", 31, problematic=True),
        Rule("", 32),
        Rule("f", 33),
        Rule("deny_y", 34),
        Rule("deny_y", 36),
    )


def test_scanned_package_with_string_segments() -> None:
    assert scan_module("p", 'package a["b-c"].d\n').package == 'a["b-c"].d'


def test_tricky_module_counts_on_the_engine(tmp_path: Path) -> None:
    rego = TRICKY_REGO.replace("deny[msg] if", "deny_z contains msg if").replace(
        "warn.foo if", "warn.foo := 2 if"
    )
    rego = rego.replace('deny["k"] := "v"', "")
    [result] = run(tmp_path, rego, [("in.yaml", [{"x": True, "y": True}])], ("main.gke",))
    # deny (2 definitions, 2 messages), violation_x (undefined), warn_a x2 (true), deny_y x2, deny_z
    successes, failures, _, _ = tally(result)
    assert (successes, sorted(failures)) == (
        4,
        ["a", 'a { brace and " quote', "multi-line head", "x"],
    )


# -- verify ----------------------------------------------------------------------------------


def test_verify_results() -> None:
    outcomes = [
        TestOutcome("main", "test_b", "p/b_test.rego", "fail"),
        TestOutcome("main", "test_a", "p/a_test.rego", "pass"),
        TestOutcome("lib", "todo_test_c", "p/a_test.rego", "skip"),
    ]
    assert conftest.verify_results(outcomes) == [
        CheckResult(
            "p/a_test.rego",
            "lib",
            skipped=[Result("data.lib.todo_test_c")],
            queries=["data.lib.todo_test_c"],
        ),
        CheckResult("p/a_test.rego", "main", successes=1, queries=["data.main.test_a"]),
        CheckResult(
            "p/b_test.rego",
            "main",
            failures=[Result("data.main.test_b")],
            queries=["data.main.test_b"],
        ),
    ]
    with pytest.raises(PolicyError, match=r"p/x_test\.rego run test data\.main\.test_e: boom"):
        conftest.verify_results([TestOutcome("main", "test_e", "p/x_test.rego", "error", "boom")])


# -- inputs ----------------------------------------------------------------------------------

SCALARS = [
    ("y", True),
    ("Y", True),
    ("yes", True),
    ("on", True),
    ("OFF", False),
    ("n", False),
    ("No", False),
    ("true", True),
    ("0o17", 15),
    ("010", 8),
    ("08", 8),
    ("0x1F", 31),
    ("0b101", 5),
    ("-0b101", -5),
    ("1_000", 1000),
    ("+12", 12),
    ("1e3", 1000),
    ("1.0", 1),
    ("1.5", 1.5),
    (".5", 0.5),
    ("2001-12-14", "2001-12-14"),
    ("2001-12-14T21:59:43.10-05:00", "2001-12-14T21:59:43.10-05:00"),
    ("12:30", "12:30"),
    ("12345678901234567890", 1.2345678901234567e19),
    ("9007199254740993", 9007199254740992),
    ("1e400", "1e400"),
    ("=", "="),
    ("~", None),
    ("", None),
    ("Null", None),
    ('"yes"', "yes"),
    ("!!str 0o17", "0o17"),
    ("yes please", "yes please"),
]


@pytest.mark.parametrize(("text", "expected"), SCALARS)
def test_yaml_1_1_scalars(text: str, expected: Any) -> None:
    value = inputs.parse_yaml(f"v: {text}\n", "x.yaml")["v"]
    assert value == expected
    assert type(value) is type(expected)


def test_yaml_keys_become_strings() -> None:
    assert inputs.parse_yaml("y: 1\n1: 2\n1.5: 3\nfalse: 4\n", "x.yaml") == {
        "true": 1,
        "1": 2,
        "1.5": 3,
        "false": 4,
    }


def test_yaml_merge_keys_may_be_overridden() -> None:
    text = "base: &b {a: 1, b: 2}\nd:\n  <<: *b\n  b: 3\n"
    assert inputs.parse_yaml(text, "x.yaml")["d"] == {"a": 1, "b": 3}


SPLITS = [
    ("a: 1\n", {"a": 1}),
    ("", None),
    ("# only a comment\n", None),
    ("---\na: 1\n", {"a": 1}),  # a leading --- does not split
    ("a: 1\n---\nb: 2\n", [{"a": 1}, {"b": 2}]),
    ("a: 1\n---\nb: 2\n---\n", [{"a": 1}, {"b": 2}, None]),  # a trailing --- adds null
    ("a: 1\n--- # comment\nb: 2\n", {"a": 1}),  # no separator: the rest is dropped
    ("a: 1\r\n---\r\nb: 2\r\n", [{"a": 1}, {"b": 2}]),
    ("%YAML 1.1\n---\na: 1\n---\nb: 2\n", [{"a": 1}, {"b": 2}]),
    ("- a\n- b\n", ["a", "b"]),
]


@pytest.mark.parametrize(("text", "expected"), SPLITS)
def test_yaml_splitting(text: str, expected: Any) -> None:
    assert inputs.parse_yaml(text, "x.yaml") == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\nb: 2\na: 3\n", "x.yaml parse: line 3: duplicate key 'a' (first at line 1)"),
        ("y: 1\ntrue: 2\n", "x.yaml parse: line 2: duplicate key 'true' (first at line 1)"),
        ("a: .inf\n", "x.yaml parse: line 1: '.inf' cannot be represented in JSON"),
        ("~: 1\n", "x.yaml parse: line 1: unsupported mapping key (null)"),
        (
            "a: 1\n---\nb: 2\nc: [\n",
            "x.yaml parse: line 5: did not find expected node content (while parsing a flow node at line 5)",
        ),
        ("a: !!binary aGk=\n", "x.yaml parse: a bytes value cannot be represented in JSON"),
        (
            "a: &a [" + ",".join(["1"] * 1001) + "]\nb: &b [" + ",".join(["*a"] * 1000) + "]\n",
            "x.yaml parse: line 1: document expands to more than 1,000,000 nodes through aliases (a YAML alias bomb?)",
        ),
    ],
)
def test_yaml_errors(text: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        inputs.parse_yaml(text, "x.yaml")
    assert str(err.value) == message


def test_json() -> None:
    assert inputs.parse_json('[1, 1.0, 1e3, 1.5, {"a": null}]', "j.json") == [
        1,
        1,
        1000,
        1.5,
        {"a": None},
    ]
    for text, message in [
        ('{"a": 1, "a": 2}', "duplicate key 'a'"),
        ("[NaN]", "NaN is not JSON"),
        ('{"a":', "line 1: Expecting value"),
    ]:
        with pytest.raises(InputError) as err:
            inputs.parse_json(text, "j.json")
        assert str(err.value) == f"j.json parse: {message}"


def test_read_inputs_walks_directories_and_splits_arrays(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "in/b.yaml": "a: 1\n---\na: 2\n",
            "in/sub/c.JSON": '[{"c": 1}, {"c": 2}]',
            "in/d.yml": "- x\n- z\n",
            "in/e.txt": "ignored",
            "in/f.tf": "ignored",
            "empty.yaml": "",
        },
    )
    found = inputs.read_inputs([str(tmp_path / "in"), str(tmp_path / "empty.yaml")])
    assert [(Path(name).relative_to(tmp_path).as_posix(), docs) for name, docs in found] == [
        ("empty.yaml", [None]),
        ("in/b.yaml", [{"a": 1}, {"a": 2}]),
        ("in/d.yml", ["x", "z"]),
        ("in/sub/c.JSON", [{"c": 1}, {"c": 2}]),
    ]


def test_read_inputs_errors(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text("x = 1\n")
    with pytest.raises(InputError) as err:
        inputs.read_inputs([str(tmp_path / "main.tf")])
    assert err.value.message == "unsupported file type (netpack reads .yaml, .yml and .json)"
    with pytest.raises(InputError, match="no such file or directory"):
        inputs.read_inputs([str(tmp_path / "missing.yaml")])


def test_stdin_is_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"a: yes\n---\nb: 0o10\n")))
    assert inputs.read_inputs(["-"]) == [("-", [{"a": True}, {"b": 8}])]


def test_engine_errors_name_the_file_and_document(tmp_path: Path) -> None:
    rego = "package main\nx := 1 if input.a\nx := 2 if input.b\ndeny contains x\n"
    with pytest.raises(PolicyError) as err:
        run(tmp_path, rego, [("in.yaml", [{}, {"a": True, "b": True}])])
    assert str(err.value).startswith("in.yaml evaluate data.main: doc 1: ")
