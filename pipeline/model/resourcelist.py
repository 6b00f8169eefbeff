"""``ResourceList``: one cluster's resources and the results about them, through every stage.

As kpt's ResourceList (items plus results): the build and values stages fill
``resources``, the gate adds ``results``, serialising adds ``files``; publish
and review read them.  A stage returns a new list (``dataclasses.replace``)
rather than change the one it got, and no stage changes a resource body in place
(``pipeline.model.resource``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from pipeline.model.cluster import Cluster
from pipeline.model.resource import Resource
from pipeline.model.results import CheckResult, Result


class File(NamedTuple):
    """One serialised resource: its file name, the git blob id of its bytes, the bytes.

    The blob id (``git hash-object``'s) is the content address: the fleet runner
    ships a blob its workers share once, and publish stores each blob once.
    """

    name: str
    oid: str
    data: bytes


@dataclass(frozen=True)
class ResourceList:
    """One cluster, as far as the flow has taken it."""

    cluster: Cluster
    resources: tuple[Resource, ...] = ()
    context: dict[str, Any] | None = None  # ``data.netpack``, the gate's view of the cluster
    results: tuple[CheckResult, ...] = ()  # schema results, then policy results
    files: tuple[File, ...] = ()  # serialised, in render order

    @property
    def name(self) -> str:
        return self.cluster.name

    @property
    def failures(self) -> list[Result]:
        """Every failure the gate found, in report order."""
        return [item for result in self.results for item in result.failures]

    @property
    def warnings(self) -> list[Result]:
        return [item for result in self.results for item in result.warnings]

    @property
    def failed(self) -> bool:
        return any(result.failures for result in self.results)
