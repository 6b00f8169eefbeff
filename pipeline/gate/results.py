"""What a list of results adds up to: conftest's exit code, and a fleet's tally.

The shapes themselves (``Result``, ``CheckResult``) are ``pipeline.model.results``.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.model.results import CheckResult


def exit_code(results: list[CheckResult], *, fail_on_warn: bool = False) -> int:
    """conftest's exit code: 1 on failure; with ``fail_on_warn`` 2 failure, 1 warning."""
    failed = any(r.failures for r in results)
    warned = any(r.warnings for r in results)
    if fail_on_warn:
        return 2 if failed else 1 if warned else 0
    return 1 if failed else 0


class Tally:
    """A fleet's results as its report needs them, gathered cluster by cluster.

    The ``stdout`` format shows clean files only as a count, so with ``fold``
    every result without a message is folded into one count-only record and
    memory does not grow with the fleet; the other formats list every file.
    """

    def __init__(self, *, fold: bool) -> None:
        self._kept: list[CheckResult] = []
        self._clean = CheckResult("", "") if fold else None

    def add(self, results: Iterable[CheckResult]) -> None:
        for result in results:
            if self._clean is not None and result.tests == result.successes:
                self._clean.successes += result.successes
            else:
                self._kept.append(result)

    @property
    def results(self) -> list[CheckResult]:
        """What the reporters and ``exit_code`` take (the folded count last)."""
        clean = self._clean
        return [*self._kept, clean] if clean is not None else list(self._kept)
