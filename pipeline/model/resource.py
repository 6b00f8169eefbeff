"""The only data shapes the pipeline steps pass around.

A ``Resource`` is one Kubernetes object (a plain dict body) plus the file and
document index it came from.  A ``Bundle`` is the list of resources a step works
on, plus the cluster context and the findings gathered so far.  Steps are either
mutators ``(Bundle) -> Bundle`` or validators ``(Bundle) -> list[Finding]``.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, NamedTuple

Body = dict[str, Any]

# Records are NamedTuples and plain classes, not dataclasses: importing ``dataclasses``
# (and ``inspect``) would cost a whole ``netpack build`` process ~10 ms.


class ResourceId(NamedTuple):
    """Group/version/kind + namespace + name of an object, as kustomize's resid."""

    group: str
    version: str
    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, body: Body) -> ResourceId:
        """Read the id from a manifest body; missing parts become empty strings."""
        api_version = body.get("apiVersion")
        api = api_version if isinstance(api_version, str) else ""
        group, _, version = api.rpartition("/")
        meta = body.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        kind = body.get("kind")
        return cls(
            group=group,
            version=version,
            kind=kind if isinstance(kind, str) else "",
            namespace=_text(meta.get("namespace")),
            name=_text(meta.get("name")),
        )

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def __str__(self) -> str:
        """Stable form, e.g. ``apps/v1/DaemonSet/kube-system/calico-node``."""
        parts = [self.api_version, self.kind, self.namespace, self.name]
        return "/".join(p for p in parts if p)

    @property
    def kustomize(self) -> str:
        """kustomize's form, e.g. ``DaemonSet.v1.apps/calico-node.kube-system``."""
        group = self.group or "[noGrp]"
        namespace = self.namespace or "[noNs]"
        return f"{self.kind}.{self.version}.{group}/{self.name}.{namespace}"

    @property
    def short(self) -> str:
        """``Kind/name``, the prefix of every policy message."""
        return f"{self.kind}/{self.name}"


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


class Origin(NamedTuple):
    """Where a resource was read from: a display path and a 0-based document index."""

    path: str
    index: int  # type: ignore[assignment]  # shadows tuple.index, never called on an Origin

    def __str__(self) -> str:
        return f"{self.path} doc {self.index}"


class Resource:
    """One object: its manifest body and its origin.

    Bodies are shared between builds (parsed files are cached), so no step
    mutates one in place: a step that changes an object builds a new body
    (``pipeline.kustomize.patch.apply_ops`` works on a copy) and a new ``Resource``.
    """

    def __init__(self, body: Body, origin: Origin) -> None:
        self.body = body
        self.origin = origin

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Resource):
            return NotImplemented
        return (self.body, self.origin) == (other.body, other.origin)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return f"Resource(body={self.body!r}, origin={self.origin!r})"

    @cached_property
    def id(self) -> ResourceId:
        """Read once: the body never changes."""
        return ResourceId.of(self.body)

    def describe(self) -> str:
        """``<id> (<origin>)``, the resource part of an error message."""
        return f"{self.id} ({self.origin})"


class Finding(NamedTuple):
    """One result of a validator: a policy or schema verdict on one resource.

    ``severity`` is ``"error"`` (a failure: the gate is red) or ``"warning"``.
    ``field`` is a dotted path with list indices (``spec.template.spec.containers[0]``)
    or empty when the finding is about the whole object.
    """

    rule: str
    severity: str
    message: str
    resource: ResourceId | None = None
    field: str = ""
    origin: Origin | None = None


class Bundle:
    """What flows through the steps: resources in order, plus context and findings."""

    def __init__(
        self,
        resources: list[Resource],
        context: dict[str, Any] | None = None,
        findings: list[Finding] | None = None,
    ) -> None:
        self.resources = resources
        self.context = {} if context is None else context
        self.findings = [] if findings is None else findings

    def __repr__(self) -> str:
        return f"Bundle(resources={self.resources!r}, context={self.context!r})"
