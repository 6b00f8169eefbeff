"""Patch targets: which resources a kustomize ``patches`` entry applies to.

Semantics of kustomize's ``types.Selector`` (api/types/selector.go), checked
against kustomize v5.8.1:

* ``group``, ``version``, ``kind``, ``name`` and ``namespace`` are regular
  expressions matched against the whole value (``^(?:re)$``); ``name: calico``
  does not select ``calico-node``.  An absent or empty field selects anything.
* The group is the part of ``apiVersion`` before ``/`` (``""`` for core ``v1``).
* ``namespace`` is matched against kustomize's "effective" namespace: a
  namespaced object without one counts as ``default``; a cluster-scoped object
  counts as ``_non_namespaceable_`` whatever its metadata says.
* ``labelSelector`` / ``annotationSelector`` are Kubernetes label selectors
  (see ``pipeline.kustomize.labelselector``) over ``metadata.labels`` / ``annotations``.

Patterns are compiled with Python's ``re``, not Go's RE2: the common syntax
(``.*``, ``|``, classes, groups) is the same; backreferences and lookaround work
here but would be refused by kustomize.  kustomize also matches a resource's
name and namespace *before* earlier transformations renamed it; netpack sees
resources as they are now, so the loader must target current names.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any

from pipeline.errors import KustomizationError
from pipeline.kustomize.messages import describe_type, quoted
from pipeline.model.resource import Resource, ResourceId

if TYPE_CHECKING:
    from pipeline.kustomize.labelselector import LabelSelector

# The YAML key of each Target field, in display order.
_KEYS = {
    "group": "group",
    "version": "version",
    "kind": "kind",
    "name": "name",
    "namespace": "namespace",
    "labelSelector": "label_selector",
    "annotationSelector": "annotation_selector",
}
_REGEX_FIELDS = ("group", "version", "kind", "name", "namespace")

# What kustomize's resid.EffectiveNamespace reports for a cluster-scoped object.
NOT_NAMESPACED = "_non_namespaceable_"

# The types kustomize v5.8.1 treats as cluster-scoped: it knows them from its
# built-in Kubernetes 1.21 OpenAPI schema.  Found by observation: of 161 built-in
# (apiVersion, kind) pairs, a target ``namespace: _non_namespaceable_`` selected
# exactly these 35 (tests/test_patch.py re-checks them against kubectl).  Every
# other type, including every custom resource, counts as namespaced.
_CLUSTER_SCOPED: frozenset[tuple[str, str]] = frozenset(
    (f"{group}/{version}" if group else version, kind)
    for group, versions, kinds in (
        ("", ("v1",), ("ComponentStatus", "Namespace", "Node", "PersistentVolume")),
        (
            "admissionregistration.k8s.io",
            ("v1", "v1beta1"),
            ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"),
        ),
        ("apiextensions.k8s.io", ("v1", "v1beta1"), ("CustomResourceDefinition",)),
        ("apiregistration.k8s.io", ("v1", "v1beta1"), ("APIService",)),
        ("certificates.k8s.io", ("v1", "v1beta1"), ("CertificateSigningRequest",)),
        (
            "flowcontrol.apiserver.k8s.io",
            ("v1beta1",),
            ("FlowSchema", "PriorityLevelConfiguration"),
        ),
        ("networking.k8s.io", ("v1", "v1beta1"), ("IngressClass",)),
        ("node.k8s.io", ("v1", "v1beta1"), ("RuntimeClass",)),
        ("policy", ("v1beta1",), ("PodSecurityPolicy",)),
        ("rbac.authorization.k8s.io", ("v1", "v1beta1"), ("ClusterRole", "ClusterRoleBinding")),
        ("scheduling.k8s.io", ("v1", "v1beta1"), ("PriorityClass",)),
        (
            "storage.k8s.io",
            ("v1", "v1beta1"),
            ("CSIDriver", "CSINode", "StorageClass", "VolumeAttachment"),
        ),
    )
    for version in versions
    for kind in kinds
)


class Target:
    """A kustomize patch target; ``None`` (or ``""``) fields select anything.

    Constructing one validates it: a bad regular expression or label selector
    is a ``KustomizationError`` (``Target.parse`` adds the file and entry).
    Immutable and compared by value.  (A plain class, not a dataclass: see
    ``pipeline.model``; not a NamedTuple: constructing one validates it.)
    """

    __slots__ = tuple(_KEYS.values())
    group: str | None
    version: str | None
    kind: str | None
    name: str | None
    namespace: str | None
    label_selector: str | None
    annotation_selector: str | None

    def __init__(
        self,
        group: str | None = None,
        version: str | None = None,
        kind: str | None = None,
        name: str | None = None,
        namespace: str | None = None,
        label_selector: str | None = None,
        annotation_selector: str | None = None,
    ) -> None:
        values = (group, version, kind, name, namespace, label_selector, annotation_selector)
        for attr, value in zip(self.__slots__, values, strict=True):
            object.__setattr__(self, attr, value)
        self._check()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Target is immutable: cannot set {name}")

    def _fields(self) -> tuple[str | None, ...]:
        return tuple(getattr(self, attr) for attr in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Target):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        values = zip(self.__slots__, self._fields(), strict=True)
        fields = ", ".join(f"{a}={v!r}" for a, v in values)
        return f"Target({fields})"

    def _check(self) -> None:
        for key, attr in _KEYS.items():
            value = getattr(self, attr)
            if not value:
                continue
            try:
                if attr in _REGEX_FIELDS:
                    _pattern(value)
                else:
                    _selector(value)
            except KustomizationError as err:
                problem = f"target.{key} {quoted(value)}: {err.message}"
                raise KustomizationError(problem) from None

    @classmethod
    def parse(cls, raw: object, *, file: str, operation: str) -> Target:
        """The target of a ``patches`` entry; ``operation`` names it, e.g. ``patches[1]``.

        ``raw`` must be a mapping of the seven known keys to strings (null is
        absent, as in kustomize); anything else is a ``KustomizationError``.
        """
        try:
            return cls(**_arguments(raw))
        except KustomizationError as err:
            raise KustomizationError(err.message, file=file, operation=operation) from None

    def matches(self, resource: Resource) -> bool:
        """Whether kustomize would apply a patch with this target to ``resource``."""
        rid = resource.id
        return (
            _matches(self.group, rid.group)
            and _matches(self.version, rid.version)
            and _matches(self.kind, rid.kind)
            and _matches(self.name, rid.name)
            and _matches(self.namespace, effective_namespace(rid))
            and _selected(self.label_selector, resource.body, "labels")
            and _selected(self.annotation_selector, resource.body, "annotations")
        )

    def as_selector(self) -> dict[str, str]:
        """The set fields under their YAML keys: the inverse of ``parse``."""
        return {key: value for key, attr in _KEYS.items() if (value := getattr(self, attr))}

    def __str__(self) -> str:
        """The set fields as YAML keys, e.g. ``kind=DaemonSet name=calico-node``."""
        parts = [
            f"{key}={_shown(getattr(self, attr))}"
            for key, attr in _KEYS.items()
            if getattr(self, attr)
        ]
        return " ".join(parts) or "(any resource)"


def _arguments(raw: object) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise KustomizationError(f"target must be a mapping, got {describe_type(raw)}")
    arguments: dict[str, str] = {}
    for key, value in raw.items():
        if key not in _KEYS:
            expected = ", ".join(list(_KEYS)[:-1]) + " or " + list(_KEYS)[-1]
            raise KustomizationError(
                f"unknown key {quoted(str(key))} in target (expected {expected})"
            )
        if value is not None and not isinstance(value, str):
            raise KustomizationError(f"target.{key} must be a string, got {describe_type(value)}")
        if value:
            arguments[_KEYS[key]] = value
    return arguments


def effective_namespace(rid: ResourceId) -> str:
    """The namespace kustomize matches a target against (see the module docstring)."""
    if (rid.api_version, rid.kind) in _CLUSTER_SCOPED:
        return NOT_NAMESPACED
    return rid.namespace or "default"


def _matches(regex: str | None, value: str) -> bool:
    return not regex or _pattern(regex).fullmatch(value) is not None


def _selected(selector: str | None, body: dict[str, Any], field: str) -> bool:
    return not selector or _selector(selector).matches(_string_map(body, field))


def _string_map(body: dict[str, Any], field: str) -> dict[str, str]:
    """``metadata.<field>`` as strings.  Kubernetes requires string values; for
    others, kustomize compares the YAML source text, of which only the parsed
    value is left here (``true`` -> "true", ``5`` -> "5", null -> "")."""
    metadata = body.get("metadata")
    values = metadata.get(field) if isinstance(metadata, dict) else None
    if not isinstance(values, dict):
        return {}
    return {str(key): _text(value) for key, value in values.items()}


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@cache
def _pattern(regex: str) -> re.Pattern[str]:
    """``regex`` ready for ``fullmatch``, which anchors it as Go's ``^(?:re)$`` does."""
    try:
        re.compile(regex)  # alone first, so that "a)|(b" is refused, not wrapped
    except re.error as err:
        raise KustomizationError(f"invalid regular expression: {err}") from None
    return re.compile(f"(?:{regex})")


@cache
def _selector(text: str) -> LabelSelector:
    from pipeline.kustomize.labelselector import (
        LabelSelector,  # only targets with selectors need it
    )

    return LabelSelector.parse(text)


def _shown(value: object) -> str:
    """A value as written, JSON-quoted when it is empty or holds spaces or quotes."""
    text = str(value)
    plain = text and not any(c in text for c in " \t\n\"'")
    return text if plain else quoted(text)
