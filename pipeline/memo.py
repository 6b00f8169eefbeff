"""What a fleet run computes once per shared body, not once per cluster.

Clusters on one cloud and datastore share most of their objects (CRDs, RBAC,
the ConfigMap, ...): ``flow.Builds`` hands every such cluster the very same
bodies.  A ``Memo`` remembers values computed from those bodies (their YAML,
their digest) by identity.  It is only correct because no step changes a body
in place (``pipeline.model``): a body is ``freeze``-d when it is shared, and the
memo holds a reference to it, so its ``id`` is not reused while the memo lives.
Bodies that were never frozen are computed every time and never remembered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pipeline.model.resource import Body

T = TypeVar("T")


class Memo:
    """Values of frozen bodies by (purpose, body identity); one per run, not thread-safe."""

    def __init__(self) -> None:
        self._bodies: dict[int, Body] = {}
        self._values: dict[tuple[str, int], Any] = {}
        self._tables: dict[str, dict[Any, Any]] = {}

    def freeze(self, bodies: Iterable[Body]) -> None:
        """Promise that ``bodies`` will not change while this memo lives."""
        for body in bodies:
            self._bodies[id(body)] = body

    def frozen(self, body: Body) -> bool:
        """Whether ``body`` was frozen: shared, so what is computed of it is remembered."""
        return self._bodies.get(id(body)) is body

    def get(self, purpose: str, body: Body, compute: Callable[[Body], T]) -> T:
        """``compute(body)``, remembered under ``purpose`` if ``body`` is frozen.

        ``compute`` must depend on nothing but ``body`` (``purpose`` names it).
        """
        key = (purpose, id(body))
        if key in self._values:
            found: T = self._values[key]
            return found
        value = compute(body)
        if self._bodies.get(id(body)) is body:
            self._values[key] = value
        return value

    def table(self, purpose: str) -> dict[Any, Any]:
        """A dict of its own for ``purpose``, living as long as the memo; its user
        decides what is safe to keep there (``pipeline.gate.schema.builtin`` keeps parts
        of bodies, which never change either)."""
        return self._tables.setdefault(purpose, {})
