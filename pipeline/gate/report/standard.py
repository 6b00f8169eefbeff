"""``-o stdout``: conftest's human-readable lines and summary (output/standard.go).

::

    WARN - deploy.yaml - main - Deployment/web: no probes
    FAIL - deploy.yaml - main - Deployment/web: runs as root
    EXCP - deploy.yaml - main - data.main.exception[_][_] == "root"

    3 tests, 0 passed, 1 warning, 1 failure, 1 exception

A structured finding ends in its rule id: ``... - main - <msg> [deny_cidr]``.

Colours are on unless ``color=False``, even when stdout is no terminal (as in
conftest): FAIL red, WARN yellow, EXCP cyan, the summary by its worst count.
"""

from __future__ import annotations

from pipeline.model.results import CheckResult, Result

RED, GREEN, YELLOW, CYAN = 31, 32, 33, 36


def paint(text: str, code: int, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def totals(results: list[CheckResult]) -> tuple[int, int, int, int, int]:
    """(successes, warnings, failures, exceptions, skipped) over all results."""
    return (
        sum(r.successes for r in results),
        sum(len(r.warnings) for r in results),
        sum(len(r.failures) for r in results),
        sum(len(r.exceptions) for r in results),
        sum(len(r.skipped) for r in results),
    )


def summary(results: list[CheckResult], *, show_skipped: bool = False) -> str:
    """``5 tests, 4 passed, 1 warning, 0 failures, 0 exceptions`` (``, 0 skipped`` for verify)."""
    passed, warned, failed, excepted, skipped = totals(results)
    tests = passed + warned + failed + excepted + skipped
    text = (
        f"{_count(tests, 'test')}, {passed} passed, {_count(warned, 'warning')}, "
        f"{_count(failed, 'failure')}, {_count(excepted, 'exception')}"
    )
    return text + (f", {skipped} skipped" if show_skipped else "")


def _summary_color(results: list[CheckResult]) -> int:
    _, warned, failed, excepted, _ = totals(results)
    return RED if failed else YELLOW if warned else CYAN if excepted else GREEN


def shown(result: Result) -> str:
    """The message as a line shows it: a structured finding with its rule id."""
    return f"{result.msg} [{result.rule_id}]" if result.rule_id else result.msg


def render(
    results: list[CheckResult],
    *,
    color: bool = True,
    suppress_exceptions: bool = False,
    show_skipped: bool = False,
) -> str:
    lines = []
    for result in results:
        indicator = "-" if result.filename == "-" else f"- {result.filename}"
        where = f"{indicator} - {result.namespace} -"
        groups = [("WARN", YELLOW, result.warnings), ("FAIL", RED, result.failures)]
        if not suppress_exceptions:
            groups.append(("EXCP", CYAN, result.exceptions))
        for label, code, items in groups:
            lines += [f"{paint(label, code, color)} {where} {shown(item)}" for item in items]
    text = summary(results, show_skipped=show_skipped)
    lines += ["", paint(text, _summary_color(results), color)]
    return "\n".join(lines) + "\n"
