"""``-o azuredevops``: Azure Pipelines logging commands (output/azuredevops.go)."""

from __future__ import annotations

from pipeline.gate.report.standard import summary
from pipeline.model.results import CheckResult


def render(results: list[CheckResult]) -> str:
    lines = []
    for result in results:
        lines.append(
            f"##[section]Testing '{result.filename}' against {result.tests} policies "
            f"in namespace '{result.namespace}'"
        )
        lines.append("##[group]See conftest results")
        for kind, items in (
            ("error", result.failures),
            ("warning", result.warnings),
            ("warning", result.exceptions),
        ):
            lines += [
                f"##vso[task.logissue type={kind}] file={result.filename} --> {r.msg}"
                for r in items
            ]
        lines.append(f"success file={result.filename} {result.successes}")
        lines.append("##[endgroup]")
    lines.append(summary(results))
    return "".join(f"{line}\n" for line in lines)
