"""Fix hints in the keys of a cluster file, for the gate of a cluster render.

The policies speak of the rendered objects, as conftest users see them:
``...; set veth_mtu to 8981``.  A user of ``netpack render`` or ``publish`` edits
the cluster file, so there the fix part of a message (after the first ``"; "``)
names the value key that sets it: ``set calico.mtu to 8981``.  The names come
from ``pipeline.values.patches.RENDERED``; any other calico-node env var is
``calico.env.calicoNode.<NAME>``.  What no cluster file sets (``calico_backend``)
is said to live in the overlay.  The problem part is left as it was: it names
what the render holds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from pipeline.model.results import CheckResult, Result
from pipeline.values.pack import OWNED_ENV
from pipeline.values.patches import RENDERED

_KEYS = {name: key for key, name in RENDERED.items()}
_NAMES = re.compile(r"\b(" + "|".join(map(re.escape, sorted(_KEYS))) + r")\b")
_SET_ENV = re.compile(r"\bset ([A-Z][A-Z0-9_]*) to ")
_ENV_EQUALS = re.compile(r"\benv ([A-Z][A-Z0-9_]*)=(\S+)")
_BACKEND = re.compile(r"\bset calico_backend to (\w+)")
_SUBJECT = re.compile(r"^[A-Za-z]+/[^:]+: (?:calico-config )?([A-Za-z_][A-Za-z0-9_]*)\b")


def for_cluster_file(results: Sequence[CheckResult]) -> list[CheckResult]:
    """``results`` with every failure's and warning's fix hint in cluster-file keys."""
    out = []
    for result in results:
        if result.failures or result.warnings:
            result = replace(
                result,
                failures=[_hinted(r) for r in result.failures],
                warnings=[_hinted(r) for r in result.warnings],
            )
        out.append(result)
    return out


def _hinted(result: Result) -> Result:
    """The message's fix part and a structured finding's ``fix`` (the same words)."""
    text = cluster_file_hint(result.msg)
    metadata = result.metadata
    fix = metadata.get("fix")
    if isinstance(fix, str) and fix:
        hinted = text.partition("; ")[2]
        if hinted and result.msg.endswith(fix):  # the fix is the message's fix part
            metadata = {**metadata, "fix": hinted}
    if text == result.msg and metadata is result.metadata:
        return result
    return replace(result, msg=text, metadata=metadata)


def cluster_file_hint(msg: str) -> str:
    """``msg`` with its fix part naming the cluster-file keys (see the module's doc)."""
    problem, sep, fix = msg.partition("; ")
    if not sep:
        return msg
    subject = _SUBJECT.match(problem)
    if subject and subject[1] in _KEYS:
        fix = re.sub(r"\bset it to ", f"set {_KEYS[subject[1]]} to ", fix)
    fix = _NAMES.sub(lambda m: _KEYS[m[1]], fix)
    fix = _SET_ENV.sub(lambda m: f"set {_env_key(m[1])} to ", fix)
    fix = _ENV_EQUALS.sub(lambda m: f"{_env_key(m[1])}: {m[2]}", fix)
    fix = _BACKEND.sub(r"set calico_backend to \1 in the overlay's calico-config", fix)
    return f"{problem}{sep}{fix}"


def _env_key(name: str) -> str:
    """The cluster-file key of a calico-node env var (owned ones keep their name)."""
    if name in _KEYS:
        return _KEYS[name]
    return name if name in OWNED_ENV else f"calico.env.calicoNode.{name}"
