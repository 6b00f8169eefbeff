"""The contract every Rego engine implements (embedded OPA, regopy, OPA server).

conftest's semantics (rule discovery, exceptions, counting) live above this
layer and only use these calls, so every engine gives the same verdicts.
Any engine failure (compile error, unsupported builtin, crash, unreachable
server) raises ``PolicyError``: never a silent pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pipeline.errors import EXIT_ENGINE, NetpackError


class PolicyError(NetpackError):
    """The policies could not be evaluated: compile error (file:line), builtin error."""


class EngineError(PolicyError):
    """The engine itself failed, whatever the policies: it crashed (regopy's SIGSEGV)
    or an OPA server answered something that is not OPA's answer.  Never a pass."""

    exit_code = EXIT_ENGINE


@dataclass(frozen=True)
class TestOutcome:
    """One ``test_*`` rule run by ``verify``: ``status`` is pass, fail, skip or error."""

    __test__ = False  # not a pytest test class

    package: str  # e.g. "main"
    name: str  # e.g. "test_cidr_mismatch_denied"
    file: str  # the module that defines it
    status: str
    message: str = ""
    duration_ns: int = 0  # its share of the evaluation that ran it (tests may run together)
    crashed: bool = False  # an error because the engine died (a test cannot cause that)


class Engine(Protocol):
    """A loaded policy set that can evaluate documents.

    ``load`` is called once with every module (display path -> source) and the
    merged ``data`` document; it raises ``PolicyError`` naming file and line on
    a compile error.  After that, ``evaluate`` may be called many times (and
    from several threads for engines that say ``thread_safe``).
    """

    name: str
    thread_safe: bool

    def load(self, modules: Mapping[str, str], data: Mapping[str, Any]) -> None: ...

    def evaluate(
        self, query: str, input_doc: Any, *, extra_data: Mapping[str, Any] | None = None
    ) -> list[Any]:
        """Values of a Rego ``query`` (e.g. ``data.main``) for one input.

        ``query`` is one Rego term (a ref or a comprehension), evaluated as
        ``v := <query>``: a comparison would give ``[False]``, not ``[]``.
        Returns ``[]`` when undefined, else one value per result set (a plain
        ref query gives exactly one).  ``None`` input is JSON ``null``, as
        conftest evaluates an empty document.  Each top-level key of
        ``extra_data`` is deep-merged over that key of ``data`` for this call
        only (conftest's ``{"conftest": {"file": {"name", "dir"}}}``).
        """
        ...

    def run_tests(self, packages: list[str] | None = None) -> list[TestOutcome]:
        """Run every ``test_*`` rule (``todo_test_*`` are skipped), like ``opa test``.

        ``packages`` holds package names or globs (``*`` crosses dots); a
        second definition of a test name runs on its own as ``test_x#01``.
        """
        ...

    def close(self) -> None: ...
