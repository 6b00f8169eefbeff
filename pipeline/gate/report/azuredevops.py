"""``-o azuredevops``: Azure Pipelines logging commands (output/azuredevops.go).

A result whose ``source`` the gate knows (the file a user edits) is logged with
``sourcepath``/``linenumber`` (and a structured finding's rule id as ``code``),
so Azure DevOps attaches it to that file; any other in conftest's form
``file=<f> --> <msg>`` (unescaped, as conftest writes it).
"""

from __future__ import annotations

from pipeline.gate.report.standard import summary
from pipeline.model.results import CheckResult, Result


def _issue(kind: str, filename: str, result: Result) -> str:
    if result.source is None:
        return f"##vso[task.logissue type={kind}] file={filename} --> {result.msg}"
    where = result.source
    props = f"type={kind};sourcepath={_prop(where.file)};linenumber={where.line or 1}"
    if result.rule_id:
        props += f";code={_prop(result.rule_id)}"
    return f"##vso[task.logissue {props}]{_text(result.msg)}"


def _prop(text: str) -> str:
    return _text(text).replace(";", "%3B").replace("]", "%5D")


def _text(message: str) -> str:
    """Azure's escapes for a logging command's message (``%``, CR, LF)."""
    return message.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")


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
            lines += [_issue(kind, result.filename, r) for r in items]
        lines.append(f"success file={result.filename} {result.successes}")
        lines.append("##[endgroup]")
    lines.append(summary(results))
    return "".join(f"{line}\n" for line in lines)
