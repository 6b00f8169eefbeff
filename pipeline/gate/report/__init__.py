"""Reporters: conftest's output formats, one small module each.

``render(results, fmt, ...)`` turns CheckResults into the exact text conftest
prints for ``-o fmt``; the same results always give the same bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.errors import UsageError

if TYPE_CHECKING:
    from pipeline.model.results import CheckResult

FORMATS = ("stdout", "json", "tap", "table", "junit", "github", "azuredevops", "sarif")


def render(
    results: list[CheckResult],
    fmt: str = "stdout",
    *,
    color: bool = True,
    suppress_exceptions: bool = False,
    show_skipped: bool = False,
    junit_hide_message: bool = False,
    github_hide_passed: bool = False,
) -> str:
    """The report for ``results`` in format ``fmt`` (one of ``FORMATS``)."""
    # Imported here so that `netpack build` does not pay for every format at start-up.
    from pipeline.gate.report import (
        azuredevops,
        github,
        jsonfmt,
        junit,
        sarif,
        standard,
        table,
        tap,
    )

    if fmt == "stdout":
        return standard.render(
            results, color=color, suppress_exceptions=suppress_exceptions, show_skipped=show_skipped
        )
    if fmt == "junit":
        return junit.render(results, hide_message=junit_hide_message)
    if fmt == "github":
        return github.render(results, hide_passed=github_hide_passed)
    plain = {
        "json": jsonfmt.render,
        "tap": tap.render,
        "table": table.render,
        "azuredevops": azuredevops.render,
        "sarif": sarif.render,
    }
    if fmt not in plain:
        raise UsageError(
            f"unknown output format {fmt!r} (choose from {', '.join(FORMATS)})",
            operation="--output",
        )
    return plain[fmt](results)
