"""Results as data: conftest's shapes (open-policy-agent/conftest output/result.go).

Every check (schemas, policies, ``netpack doctor``) reports one ``CheckResult``
per (file, namespace) holding ``Result`` messages.  Reporters turn a list of
them into text; ``pipeline.gate.results.exit_code`` into the process status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.model.resource import Origin, ResourceId


@dataclass(frozen=True)
class Location:
    file: str
    line: int


@dataclass(frozen=True)
class Result:
    """One message: a failure, warning, exception or skipped test.

    ``metadata`` always holds ``query`` (e.g. ``data.main.deny_cidr``) plus any
    extra keys the rule returned besides ``msg`` and ``_loc``.  A structured
    finding (``{"msg", "rule", "field", "fix", "setting"?, "help"?}``, see
    policies/README.md) has them there too: ``rule_id``, ``field_path``, ``fix``.
    ``source`` is the file (and line) a user edits to fix it, where the gate
    knows it: annotations and SARIF point there rather than at render paths.
    """

    msg: str
    metadata: dict[str, Any] = field(default_factory=dict)
    loc: Location | None = None
    outputs: tuple[str, ...] = ()
    # Which rendered object the message is about, where the gate knows it (no reporter
    # of conftest's formats prints these; netpack's own views may).
    resource: ResourceId | None = None
    origin: Origin | None = None
    source: Location | None = None

    @property
    def rule(self) -> str:
        """The rule that produced it, e.g. ``main.deny_cidr`` (the query without ``data.``)."""
        return str(self.metadata.get("query", "")).removeprefix("data.")

    @property
    def rule_id(self) -> str:
        """The finding's own ``rule`` id (``deny_cidr``); empty for a plain string result."""
        rule = self.metadata.get("rule")
        return rule if isinstance(rule, str) else ""

    @property
    def fix(self) -> str:
        """What to change, where the finding says."""
        fix = self.metadata.get("fix")
        return fix if isinstance(fix, str) else ""

    @property
    def field_path(self) -> str:
        """The field path it is about, where the check says (schema findings do)."""
        return str(self.metadata.get("field", ""))


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
