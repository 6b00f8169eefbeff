"""``-o junit``: JUnit XML, a ``<testsuite name="conftest.<ns>">`` per namespace (junit.go).

Warnings and failures are failed test cases, successes passed ones, skipped
``verify`` tests skipped ones; exceptions are not emitted.  A test case is named
``<file> - <first line of the message>`` (just ``<file>`` for successes or with
``hide_message``); a structured finding's rule id comes first:
``<file> - deny_cidr - <first line>``.  Unlike go-junit-report we write no hostname, timestamp or
duration, so the same results give the same bytes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pipeline.model.results import CheckResult


def _name(filename: str, message: str, hide_message: bool) -> str:
    if message and not hide_message:
        return f"{filename} - {message.splitlines()[0] if message.strip() else message}"
    return filename


def _case(suite: ET.Element, name: str, outcome: str, message: str) -> None:
    case = ET.SubElement(
        suite, "testcase", {"name": name, "classname": suite.get("name", ""), "time": "0.000"}
    )
    if outcome != "pass":
        tag, label = ("skipped", "Skipped") if outcome == "skip" else ("failure", "Failed")
        ET.SubElement(case, tag, {"message": label}).text = message


def _count(element: ET.Element, *suites: ET.Element) -> None:
    """Set ``tests``, ``failures`` and ``skipped`` of ``element`` from the suites' test cases."""
    cases = [case for suite in suites for case in suite.iter("testcase")]
    failed = sum(1 for case in cases if case.find("failure") is not None)
    skipped = sum(1 for case in cases if case.find("skipped") is not None)
    element.set("tests", str(len(cases)))
    element.set("failures", str(failed))
    if skipped:
        element.set("skipped", str(skipped))


def render(results: list[CheckResult], *, hide_message: bool = False) -> str:
    root = ET.Element("testsuites")
    suites: dict[str, ET.Element] = {}
    for result in results:
        name = f"conftest.{result.namespace}"
        if name not in suites:
            attrs = {
                "name": name,
                "tests": "0",
                "failures": "0",
                "errors": "0",
                "id": str(len(suites)),
                "time": "0.000",
            }
            suites[name] = ET.SubElement(root, "testsuite", attrs)
        suite = suites[name]
        cases = [("fail", r) for r in (*result.warnings, *result.failures)]
        cases += [("skip", r) for r in result.skipped]
        for outcome, found in cases:
            filename = result.filename
            if found.rule_id:
                filename = f"{filename} - {found.rule_id}"
            _case(suite, _name(filename, found.msg, hide_message), outcome, found.msg)
        for _ in range(result.successes):
            _case(suite, result.filename, "pass", "")
    for suite in suites.values():
        _count(suite, suite)
    _count(root, *suites.values())
    ET.indent(root, space="\t")
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
