"""Reporters: the exact text of every output format (goldens in cases/report/)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.errors import UsageError
from pipeline.gate.engines.protocol import TestOutcome
from pipeline.gate.report import FORMATS, pretty, render, table
from pipeline.model.results import CheckResult, Location, Result

GOLDEN = Path(__file__).parent / "cases" / "report"
REGENERATE = os.environ.get("NETPACK_REGENERATE") == "1"  # rewrite the goldens on purpose

RESULTS = [
    CheckResult(
        "deploy.yaml",
        "main",
        successes=2,
        warnings=[Result("Deployment/web: no probes", {"query": "data.main.warn"})],
        failures=[
            Result(
                "Deployment/web: runs as root",
                {"query": "data.main.deny", "details": {"uid": 0, "a": [1, "x"]}},
                Location("deploy.tf", 12),
            )
        ],
        exceptions=[Result('data.main.exception[_][_] == "root"')],
    ),
    CheckResult("empty.yaml", "main"),
    CheckResult("svc.yaml", "main", successes=1),
    CheckResult(
        "-",
        "main.gke",
        failures=[Result("stdin <bad> & msg\nsecond line", {"query": "data.main.gke.deny"})],
    ),
]


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden(fmt: str) -> None:
    golden = GOLDEN / f"{fmt}.txt"
    text = render(RESULTS, fmt, color=False)
    if REGENERATE:
        golden.write_text(text)
    assert text == golden.read_text()
    assert render(RESULTS, fmt, color=False) == text  # same results, same bytes


def test_stdout_colours() -> None:
    red, yellow, cyan, reset = "\x1b[31m", "\x1b[33m", "\x1b[36m", "\x1b[0m"
    assert render(RESULTS[:1], "stdout") == (
        f"{yellow}WARN{reset} - deploy.yaml - main - Deployment/web: no probes\n"
        f"{red}FAIL{reset} - deploy.yaml - main - Deployment/web: runs as root\n"
        f'{cyan}EXCP{reset} - deploy.yaml - main - data.main.exception[_][_] == "root"\n'
        "\n"
        f"{red}5 tests, 2 passed, 1 warning, 1 failure, 1 exception{reset}\n"
    )
    clean = [CheckResult("a.yaml", "main", successes=1)]
    assert (
        render(clean, "stdout")
        == "\n\x1b[32m1 test, 1 passed, 0 warnings, 0 failures, 0 exceptions\x1b[0m\n"
    )
    excepted = [CheckResult("a.yaml", "main", exceptions=[Result("e")])]
    assert render(excepted, "stdout").endswith(
        f"{cyan}1 test, 0 passed, 0 warnings, 0 failures, 1 exception{reset}\n"
    )


def test_stdout_suppress_exceptions_and_skipped() -> None:
    assert render(RESULTS[:1], "stdout", color=False, suppress_exceptions=True) == (
        "WARN - deploy.yaml - main - Deployment/web: no probes\n"
        "FAIL - deploy.yaml - main - Deployment/web: runs as root\n"
        "\n"
        "5 tests, 2 passed, 1 warning, 1 failure, 1 exception\n"
    )
    verified = [CheckResult("a_test.rego", "main", skipped=[Result("data.main.todo_test_x")])]
    assert render(verified, "stdout", color=False, show_skipped=True) == (
        "\n1 test, 0 passed, 0 warnings, 0 failures, 0 exceptions, 1 skipped\n"
    )


def test_tap_does_not_stop_at_a_file_without_tests() -> None:
    results = [
        CheckResult("a.yaml", "main"),
        CheckResult("b.yaml", "main", failures=[Result("bad")]),
    ]
    assert render(results, "tap") == "1..1\nnot ok 1 - b.yaml - main - bad\n"


def test_tap_skipped() -> None:
    results = [
        CheckResult("t.rego", "main", successes=1, skipped=[Result("data.main.todo_test_x")])
    ]
    assert render(results, "tap") == (
        "1..2\n# skip\nok 1 - t.rego - main - data.main.todo_test_x\n# successes\nok 2 - t.rego - main - SUCCESS\n"
    )


def test_table_empty_and_wrapping() -> None:
    assert render([CheckResult("a.yaml", "main")], "table") == ""
    assert table.cell_lines("a " * 20) == ["a a a a a a a a a a a a a a a", "a a a a a "]
    assert table.cell_lines("x" * 40 + " y") == ["x" * 40, "y"]  # a long word widens the limit
    assert table.draw(["n"], [["1234"], ["éa"], ["漢字"]]) == (
        "+------+\n|  N   |\n+------+\n| 1234 |\n| éa   |\n| 漢字 |\n+------+\n"
    )


def test_junit_hide_message() -> None:
    text = render(RESULTS[:1], "junit", junit_hide_message=True)
    assert '<testcase name="deploy.yaml" classname="conftest.main" time="0.000">' in text
    assert "deploy.yaml - " not in text


def test_junit_skipped() -> None:
    results = [CheckResult("t.rego", "main", skipped=[Result("data.main.todo_test_x")])]
    assert render(results, "junit") == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<testsuites tests="1" failures="0" skipped="1">\n'
        '\t<testsuite name="conftest.main" tests="1" failures="0" errors="0" id="0" time="0.000" skipped="1">\n'
        '\t\t<testcase name="t.rego - data.main.todo_test_x" classname="conftest.main" time="0.000">\n'
        '\t\t\t<skipped message="Skipped">data.main.todo_test_x</skipped>\n'
        "\t\t</testcase>\n"
        "\t</testsuite>\n"
        "</testsuites>\n"
    )


def test_github_hide_passed_and_quoting() -> None:
    results = [
        CheckResult("ok.yaml", "main", successes=1),
        CheckResult('we"ird.yaml', "main", warnings=[Result("50%")]),
    ]
    assert render(results, "github", github_hide_passed=True) == (
        '::group::Testing "we\\"ird.yaml" against 1 policies in namespace "main"\n'
        '::warning file=we"ird.yaml,line=1::50%25\n'
        "::endgroup::\n"
        "2 tests, 1 passed, 1 warning, 0 failures, 0 exceptions\n"
    )


def test_json_empty() -> None:
    assert render([], "json") == "[]\n"


def test_unknown_format() -> None:
    with pytest.raises(UsageError, match="unknown output format 'xml'"):
        render(RESULTS, "xml")


OUTCOMES = [
    TestOutcome("main", "test_b", "policy/b_test.rego", "fail", duration_ns=1_500_000),
    TestOutcome("main", "test_a", "policy/a_test.rego", "pass", duration_ns=250_300),
    TestOutcome("main", "todo_test_c", "policy/a_test.rego", "skip"),
]


def test_verify_report_full() -> None:
    assert pretty.render(OUTCOMES, "full") == (
        "FAILURES\n"
        f"{'-' * 80}\n"
        "data.main.test_b: FAIL (1.5ms)\n"
        "\n"
        "SUMMARY\n"
        f"{'-' * 80}\n"
        "policy/a_test.rego:\n"
        "data.main.test_a: PASS (250.3µs)\n"
        "data.main.todo_test_c: SKIPPED\n"
        "\n"
        "policy/b_test.rego:\n"
        "data.main.test_b: FAIL (1.5ms)\n"
        f"{'-' * 80}\n"
        "PASS: 1/3\n"
        "FAIL: 1/3\n"
        "SKIPPED: 1/3\n"
    )
    assert pretty.render(OUTCOMES, "notes") == pretty.render(OUTCOMES, "full")


def test_verify_report_fails() -> None:
    assert pretty.render(OUTCOMES, "fails") == (
        "policy/a_test.rego:\n"
        "data.main.todo_test_c: SKIPPED\n"
        "\n"
        "policy/b_test.rego:\n"
        "data.main.test_b: FAIL (1.5ms)\n"
        f"{'-' * 80}\n"
        "PASS: 1/3\n"
        "FAIL: 1/3\n"
        "SKIPPED: 1/3\n"
    )
    assert pretty.render(OUTCOMES[1:2], "fails") == "PASS: 1/1\n"


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0s"),
        (850, "850ns"),
        (1500, "1.5µs"),
        (12_300_000, "12.3ms"),
        (61_500_000_000, "1m1.5s"),
        (7_200_000_000_000, "2h0m0s"),
    ],
)
def test_go_duration(ns: int, text: str) -> None:
    assert pretty.go_duration(ns) == text


FINDING = {
    "query": "data.main.deny_cidr",
    "rule": "deny_cidr",
    "field": "spec.template.spec.containers[calico-node].env[CALICO_IPV4POOL_CIDR]",
    "fix": "set calico.calicoNetworkCIDR to 10.244.0.0/16",
    "setting": "values.calico.calicoNetworkCIDR",
    "help": "policies/README.md#rule-catalog",
}
MSG = "DaemonSet/calico-node: pool 10.96.0.0/16 is wrong; set calico.calicoNetworkCIDR to 10.244.0.0/16"
STRUCTURED = [
    CheckResult(
        "c1/apps_v1_daemonset_calico-node.yaml",
        "main",
        successes=1,
        failures=[Result(MSG, FINDING, source=Location("clusters/c1.yaml", 11))],
        warnings=[Result("DaemonSet/calico-node: plain", {"query": "data.main.warn"})],
    )
]


def test_structured_finding_in_every_reporter() -> None:
    """rule, field and fix travel with the finding; annotations point at the cluster file."""
    import json

    stdout = render(STRUCTURED, "stdout", color=False)
    assert f"FAIL - c1/apps_v1_daemonset_calico-node.yaml - main - {MSG} [deny_cidr]\n" in stdout
    assert (
        "WARN - c1/apps_v1_daemonset_calico-node.yaml - main - DaemonSet/calico-node: plain\n"
        in stdout
    )

    failure = json.loads(render(STRUCTURED, "json"))[0]["failures"][0]
    assert failure == {"msg": MSG, "metadata": dict(sorted(FINDING.items()))}

    junit = render(STRUCTURED, "junit")
    assert (
        'name="c1/apps_v1_daemonset_calico-node.yaml - deny_cidr - DaemonSet/calico-node: pool'
        in junit
    )
    assert 'name="c1/apps_v1_daemonset_calico-node.yaml - DaemonSet/calico-node: plain"' in junit

    github = render(STRUCTURED, "github")
    assert ("::error file=clusters/c1.yaml,line=11,title=deny_cidr::" + MSG + "\n") in github
    assert "ORIGINATING" not in github
    assert "::warning file=c1/apps_v1_daemonset_calico-node.yaml,line=1::" in github

    azure = render(STRUCTURED, "azuredevops")
    assert (
        "##vso[task.logissue type=error;sourcepath=clusters/c1.yaml;linenumber=11;"
        f"code=deny_cidr]{MSG}\n"
    ) in azure
    assert (
        "##vso[task.logissue type=warning] file=c1/apps_v1_daemonset_calico-node.yaml --> " in azure
    )

    sarif = json.loads(render(STRUCTURED, "sarif"))["runs"][0]
    assert sarif["tool"]["driver"]["name"] == "netpack"
    rules = {r["id"]: r for r in sarif["tool"]["driver"]["rules"]}
    assert rules["deny_cidr"]["helpUri"] == "policies/README.md#rule-catalog"
    assert "helpUri" not in rules["main/warn"]
    found = {r["ruleId"]: r for r in sarif["results"]}
    assert found["deny_cidr"]["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "clusters/c1.yaml"},
        "region": {"startLine": 11},
    }
    assert found["deny_cidr"]["properties"] == {
        "field": FINDING["field"],
        "fix": FINDING["fix"],
        "setting": FINDING["setting"],
    }
    assert found["main/warn"]["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "c1/apps_v1_daemonset_calico-node.yaml"}
    }


def test_azure_escapes_located_messages() -> None:
    located = [
        CheckResult(
            "f.yaml",
            "main",
            failures=[
                Result(
                    "100% a\nb",
                    {"query": "data.main.deny", "rule": "r;1"},
                    source=Location("c;]x.yaml", 0),
                )
            ],
        )
    ]
    assert (
        "##vso[task.logissue type=error;sourcepath=c%3B%5Dx.yaml;linenumber=1;code=r%3B1]"
        "100%AZP25 a%0Ab\n"
    ) in render(located, "azuredevops")
