"""The ``apply_patch`` step: RFC 6902 patches with kustomize targets.

Each resource a ``Patch``'s ``Target`` selects gets the patch's operations.
Every failure is a one-line ``PatchError`` that names everything::

    <file> <label> op <i> (<op> <path>): target <id> (<origin>): <problem>

Contract: any patch netpack accepts gives the body ``kubectl kustomize`` gives
(kustomize v5.8.1, whose engine is evanphx/json-patch v4; tests/test_patch.py
keeps an oracle).  Where kustomize silently does something RFC 6902 forbids,
netpack refuses instead; the list is in ``pipeline.kustomize.rfc6902``, which
applies the operations through the ``jsonpatch`` library.  Two more refusals live here:

* a target that matches no resource (kustomize ignores such a patch:
  kubernetes-sigs/kustomize#4379, #5093);
* a patched object without a string ``kind`` and ``metadata.name`` (kustomize
  refuses a missing one, but keeps ``name: 5``).

Renaming an object (``metadata.name``, ``kind``) is allowed, as in kustomize.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from pipeline.errors import PatchError
from pipeline.kustomize.messages import describe_type, quoted
from pipeline.kustomize.rfc6902 import NEEDS_FROM, Draft, check_op
from pipeline.kustomize.target import Target
from pipeline.model.resource import Body, Resource

__all__ = ["Patch", "Target", "apply_ops", "apply_patch", "describe_op"]


class Patch(NamedTuple):
    """A list of RFC 6902 operations, the resources it targets, and where it came from.

    ``file`` is the display path of the declaring kustomization; ``label`` names
    the entry, e.g. ``patches[1]`` or ``patches[1] (overlays/azure/vxlan.yaml)``.
    """

    ops: tuple[dict[str, Any], ...]
    target: Target
    file: str
    label: str

    @classmethod
    def parse_ops(cls, raw: object, *, file: str, label: str) -> tuple[dict[str, Any], ...]:
        """Checked copies of the operations in ``raw``, which must be a list of mappings.

        ``PatchError`` on anything that could never apply: an operation that is
        not a mapping, an unknown ``op``, a missing or non-string ``path`` or
        ``from``, a malformed pointer, a missing ``value``.
        """
        if not isinstance(raw, list):
            problem = f"a JSON patch must be a list of operations, got {describe_type(raw)}"
            raise PatchError(problem, file=file, operation=label)
        return tuple(_parse_op(op, file, f"{label} op {index}") for index, op in enumerate(raw))


def _parse_op(raw: object, file: str, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        problem = f"an operation must be a mapping, got {describe_type(raw)}"
        raise PatchError(problem, file=file, operation=where)
    try:
        check_op(raw)
    except PatchError as err:
        raise PatchError(
            err.message, file=file, operation=f"{where} ({describe_op(raw)})"
        ) from None
    op: dict[str, Any] = copy.deepcopy(raw)
    return op


def describe_op(op: Mapping[str, Any]) -> str:
    """``<op> <path>``, plus `` from <from>`` for move and copy: ``remove /spec/x``,
    ``move /b from /a``.  The root path shows as ``""``, a missing member as ``?``."""
    text = f"{_member(op, 'op')} {_member(op, 'path')}"
    if op.get("op") in NEEDS_FROM:
        text += f" from {_member(op, 'from')}"
    return text


def _member(op: Mapping[str, Any], key: str) -> str:
    if key not in op:
        return "?"
    value = op[key]
    if isinstance(value, str) and value:
        return value
    return quoted(value, ensure_ascii=False, default=str)


def apply_ops(
    body: Body, ops: Sequence[Mapping[str, Any]], *, file: str, label: str, resource: str
) -> Body:
    """``body`` with ``ops`` applied in order; ``body`` itself is never changed, and
    the result shares the parts no operation touched with it (bodies are never
    changed in place, ``pipeline.model``).

    All or nothing: the first failing operation raises a ``PatchError`` naming
    ``file``, ``label``, the operation's 0-based index and ``resource`` (a
    ``Resource.describe()``).  The result must keep a ``kind`` and a
    ``metadata.name``.
    """
    draft = Draft(body)  # copy-on-write: unchanged parts stay shared with ``body``
    for index, op in enumerate(ops):
        try:
            check_op(op)
            draft.apply(op)
        except PatchError as err:
            raise PatchError(
                err.message,
                file=file,
                operation=f"{label} op {index} ({describe_op(op)})",
                resource=f"target {resource}",
            ) from None
    try:
        return _identified(draft.root)
    except PatchError as err:
        raise PatchError(
            err.message, file=file, operation=label, resource=f"target {resource}"
        ) from None


def _identified(doc: Any) -> Body:
    """``doc`` if it still has a non-empty string ``kind`` and ``metadata.name``."""
    if not isinstance(doc, dict) or not _text(doc.get("kind")):
        raise PatchError("the patched object has no kind")
    metadata = doc.get("metadata")
    if not isinstance(metadata, dict) or not _text(metadata.get("name")):
        raise PatchError("the patched object has no metadata.name")
    return doc


def _text(value: object) -> bool:
    return isinstance(value, str) and value != ""


def apply_patch(resources: list[Resource], patch: Patch) -> list[Resource]:
    """A new list: each resource ``patch.target`` selects is replaced by a patched
    copy with the same origin; the others are the same objects, in the same order.

    A target that selects nothing is a ``PatchError``, where kustomize would
    ignore the patch silently (kubernetes-sigs/kustomize#4379, #5093).
    """
    result: list[Resource] = []
    matched = False
    for resource in resources:
        if patch.target.matches(resource):
            matched = True
            body = apply_ops(
                resource.body,
                patch.ops,
                file=patch.file,
                label=patch.label,
                resource=resource.describe(),
            )
            resource = Resource(body=body, origin=resource.origin)
        result.append(resource)
    if not matched:
        raise PatchError(
            "matches no resource",
            file=patch.file,
            operation=patch.label,
            resource=f"target {patch.target}",
        )
    return result
