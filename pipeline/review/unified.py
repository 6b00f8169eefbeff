"""The unified diff of one object's two sides, as reviewers read it: YAML lines, Secrets masked.

Both sides are rendered with ``kustomize.output.dump`` (the bytes the deploy repo
holds) and compared with 3 lines of context.  Secret ``data``/``stringData`` (and
a last-applied annotation that would repeat them) are shown as ``*****``, as
``flux diff`` does; a changed value still shows as a changed line.
"""

from __future__ import annotations

import difflib
from typing import Any

from pipeline.errors import InputError
from pipeline.kustomize.output import dump
from pipeline.model.resource import Body

MASK = "*****"  # flux diff's mask (fluxcd/flux2 internal/build/diff.go)


# --- One resource: unified diff, Secret values masked ----------------------------

# A changed Secret value is masked as MASK plus a side tag, so that the two sides'
# lines differ and the diff shows a -/+ pair; the tags are removed afterwards.
_TAGS = {"old": f"{MASK}~netpack-old~", "new": f"{MASK}~netpack-new~"}
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"  # repeats the data


def unified(header: str, old: Body | None, new: Body | None) -> tuple[str, ...]:
    """The unified diff (3 lines of context) of ``render.dump`` of both sides, both labelled
    ``header``; ``None`` is a side without the object. Secret values are ``*****``."""
    before = _yaml_lines(header, old, new, "old")
    after = _yaml_lines(header, new, old, "new")
    lines = difflib.unified_diff(before, after, header, header, n=3, lineterm="")
    return tuple(_untag(line) for line in lines)


def _yaml_lines(header: str, body: Body | None, other: Body | None, side: str) -> list[str]:
    if body is None:
        return []
    try:
        return dump(_masked(body, other, side)).splitlines()
    except InputError as err:
        raise InputError(err.message, operation="diff", resource=f"{header} ({side})") from None


def _untag(line: str) -> str:
    return line.replace(_TAGS["old"], MASK).replace(_TAGS["new"], MASK) if MASK in line else line


def _masked(body: Body, other: Body | None, side: str) -> Body:
    """``body`` with its Secret values replaced; any other object as it is."""
    if body.get("kind") != "Secret" or body.get("apiVersion") != "v1":
        return body
    theirs = other or {}
    out = dict(body)
    for field in ("data", "stringData"):
        if field in body:
            out[field] = _mask(body[field], theirs.get(field), side)
    meta, their_meta = body.get("metadata"), theirs.get("metadata")
    notes = meta.get("annotations") if isinstance(meta, dict) else None
    if isinstance(meta, dict) and isinstance(notes, dict) and _LAST_APPLIED in notes:
        their_notes = their_meta.get("annotations") if isinstance(their_meta, dict) else None
        masked = _mask({_LAST_APPLIED: notes[_LAST_APPLIED]}, their_notes, side)
        out["metadata"] = {**meta, "annotations": {**notes, **masked}}
    return out


def _mask(values: Any, theirs: Any, side: str) -> Any:
    """Mask every value of a mapping, or a malformed non-mapping as a whole."""
    if not isinstance(values, dict):
        return MASK if theirs is None or theirs == values else _TAGS[side]
    if not isinstance(theirs, dict):
        theirs = {}
    return {
        key: _TAGS[side] if key in theirs and theirs[key] != value else MASK
        for key, value in values.items()
    }
