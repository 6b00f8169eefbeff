"""``-o sarif``: SARIF 2.1.0 in conftest's layout (output/sarif.go), tool ``netpack``.

Rule ids are ``<ns>/deny`` (level error), ``<ns>/warn`` (warning), ``<ns>/allow``
(exceptions, note), and ``<ns>/success`` or ``<ns>/skip`` (none) once for a file
with no findings.  A structured finding (``{"msg", "rule", ...}``) is reported
under its own ``rule`` id instead, with its ``help`` as the rule's ``helpUri``
(netpack's rules point at their catalog, policies/README.md); its ``field``,
``fix`` and ``setting`` go into the result's ``properties``.  A result's location
is the file a user edits when the gate knows it (``Result.source``), else its
``_loc``, else the file.
``exitCode`` is plain conftest's (1 on failures), whatever ``--fail-on-warn``.
"""

from __future__ import annotations

from typing import Any

from pipeline.gate.report.jsonfmt import go_json, sorted_keys
from pipeline.model.results import CheckResult, Location, Result

SCHEMA = "https://json.schemastore.org/sarif-2.1.0-rtm.5.json"
TOOL = "netpack"
DESCRIPTIONS = {
    "success": "Policy was satisfied successfully",
    "skip": "Policy check was skipped",
    "allow": "Policy exception",
    "warn": "Policy warning",
    "deny": "Policy violation",
}
_FINDING_KEYS = ("field", "fix", "setting")
LEVELS = {"deny": "error", "warn": "warning", "allow": "note", "success": "none", "skip": "none"}


def _location(filename: str, result: Result) -> dict[str, Any]:
    loc = result.source or result.loc
    return _physical(filename, loc)


def _physical(filename: str, loc: Location | None) -> dict[str, Any]:
    physical: dict[str, Any] = {
        "artifactLocation": {"uri": loc.file if loc and loc.file else filename}
    }
    if loc is not None and loc.line:
        physical["region"] = {"startLine": loc.line}
    return {"physicalLocation": physical}


def _exit(results: list[CheckResult]) -> tuple[int, str]:
    if any(r.failures for r in results):
        return 1, "Policy violations found"
    if any(r.warnings for r in results):
        return 0, "Policy warnings found"
    if any(r.exceptions for r in results):
        return 0, "Policy exceptions found"
    return 0, "No policy violations found"


def render(results: list[CheckResult]) -> str:
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    out: list[dict[str, Any]] = []

    def add(namespace: str, kind: str, filename: str, result: Result) -> None:
        rule_id = result.rule_id or f"{namespace}/{kind}"
        if rule_id not in index:
            text = DESCRIPTIONS[kind]
            rule: dict[str, Any] = {
                "id": rule_id,
                "shortDescription": {"text": text},
                "fullDescription": {"text": text},
            }
            help_uri = result.metadata.get("help")
            if result.rule_id and isinstance(help_uri, str) and help_uri:
                rule["helpUri"] = help_uri
            if result.metadata:
                rule["properties"] = sorted_keys(result.metadata)
            index[rule_id] = len(rules)
            rules.append(rule)
        found: dict[str, Any] = {
            "ruleId": rule_id,
            "ruleIndex": index[rule_id],
            "level": LEVELS[kind],
            "message": {"text": result.msg},
            "locations": [_location(filename, result)],
        }
        if result.rule_id:
            shown = {k: result.metadata[k] for k in _FINDING_KEYS if k in result.metadata}
            found["properties"] = sorted_keys(shown)
        out.append(found)

    for check in results:
        for kind, items in (
            ("deny", check.failures),
            ("warn", check.warnings),
            ("allow", check.exceptions),
        ):
            for item in items:
                add(check.namespace, kind, check.filename, item)
        if not (check.failures or check.warnings or check.exceptions):
            kind = "success" if check.successes else "skip"
            text = DESCRIPTIONS[kind]
            add(check.namespace, kind, check.filename, Result(text, {"description": text}))
    code, description = _exit(results)
    run = {
        "tool": {"driver": {"name": TOOL, "rules": rules}},
        "results": out,
        "invocations": [
            {"executionSuccessful": True, "exitCode": code, "exitCodeDescription": description}
        ],
    }
    report = {"version": "2.1.0", "$schema": SCHEMA, "runs": [run]}
    return go_json(report, indent="  ") + "\n"
