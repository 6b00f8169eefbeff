"""``markdown``: results as a Markdown table, for a PR comment, an issue or a ticket.

::

    | result | file | check | message |
    |---|---|---|---|
    | FAIL | clusters/a.yaml | doctor.pool_cidr | IPPool/default-ipv4-ippool: ... |

    **3 tests, 1 passed, 0 warnings, 1 failure, 0 exceptions, 1 skipped**

One row per failure, warning, exception and skipped test (in that order per
file); a file without any has no row and counts in the summary.  ``|``, ``\\``,
``<``, ``>`` and line breaks in messages are escaped so each stays one cell.
conftest has no such format; ``netpack doctor --format markdown`` uses it.
"""

from __future__ import annotations

from pipeline.gate.report.standard import summary
from pipeline.model.results import CheckResult

_ESCAPES = {"\\": "\\\\", "|": "\\|", "<": "&lt;", ">": "&gt;", "\r": " ", "\n": "<br>"}


def cell(text: str) -> str:
    """``text`` as one table cell."""
    return "".join(_ESCAPES.get(char, char) for char in text)


def render(results: list[CheckResult]) -> str:
    rows = []
    for result in results:
        for label, items in (
            ("FAIL", result.failures),
            ("WARN", result.warnings),
            ("EXCP", result.exceptions),
            ("SKIP", result.skipped),
        ):
            rows += [
                f"| {label} | {cell(result.filename)} | {cell(result.namespace)} | {cell(i.msg)} |"
                for i in items
            ]
    head = ["| result | file | check | message |", "|---|---|---|---|"]
    lines = [*head, *rows, ""] if rows else []
    lines.append(f"**{summary(results, show_skipped=True)}**")
    return "\n".join(lines) + "\n"
