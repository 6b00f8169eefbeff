"""``-o tap``: Test Anything Protocol, one plan per file (output/tap.go).

::

    1..3
    not ok 1 - deploy.yaml - main - Deployment/web: runs as root
    # warnings
    not ok 2 - deploy.yaml - main - Deployment/web: no probes
    # successes
    ok 3 - deploy.yaml - main - SUCCESS
"""

from __future__ import annotations

from pipeline.model.results import CheckResult


def _file(result: CheckResult) -> list[str]:
    indicator = "-" if result.filename == "-" else f"- {result.filename}"
    where = f"{indicator} - {result.namespace} -"
    sections = [
        ("", "not ok", [r.msg for r in result.failures]),
        ("# warnings", "not ok", [r.msg for r in result.warnings]),
        ("# exceptions", "ok", [r.msg for r in result.exceptions]),
        ("# skip", "ok", [r.msg for r in result.skipped]),
        ("# successes", "ok", ["SUCCESS"] * result.successes),
    ]
    lines, number = [f"1..{result.tests}"], 0
    for title, status, messages in sections:
        if title and messages:
            lines.append(title)
        for message in messages:
            number += 1
            lines.append(f"{status} {number} {where} {message}")
    return lines


def render(results: list[CheckResult]) -> str:
    lines: list[str] = []
    for result in results:
        if result.tests == 0:
            # conftest returns here, which silently drops every later file's results,
            # failures included.  A gate must not hide failures: we skip this file only.
            continue
        lines += _file(result)
    return "".join(f"{line}\n" for line in lines)
