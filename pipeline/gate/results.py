"""conftest's result shapes, as plain data (open-policy-agent/conftest output/result.go).

An engine run produces one ``CheckResult`` per (file, namespace).  Reporters
turn a list of them into text; ``exit_code`` turns them into the process status.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Location:
    file: str
    line: int


@dataclass(frozen=True)
class Result:
    """One message: a failure, warning, exception or skipped test.

    ``metadata`` always holds ``query`` (e.g. ``data.main.deny_cidr``) plus any
    extra keys the rule returned besides ``msg`` and ``_loc``.
    """

    msg: str
    metadata: dict[str, Any] = field(default_factory=dict)
    loc: Location | None = None
    outputs: tuple[str, ...] = ()


@dataclass
class CheckResult:
    """All results for one input file (all its documents) in one namespace."""

    filename: str
    namespace: str
    successes: int = 0
    warnings: list[Result] = field(default_factory=list)
    failures: list[Result] = field(default_factory=list)
    exceptions: list[Result] = field(default_factory=list)
    skipped: list[Result] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)

    @property
    def tests(self) -> int:
        """Successes plus every warning, failure, exception and skipped test."""
        found = self.warnings + self.failures + self.exceptions + self.skipped
        return self.successes + len(found)


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
