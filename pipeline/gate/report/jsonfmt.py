"""``-o json``: a tab-indented array of CheckResults as Go's encoding/json writes it (json.go).

Empty lists are omitted, stdin's filename is ``""``, map keys are sorted and
``<``, ``>``, ``&`` are escaped as Go escapes them.
"""

from __future__ import annotations

import json
from typing import Any

from pipeline.model.results import CheckResult, Result

_GO_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def sorted_keys(value: Any) -> Any:
    """``value`` with every object's keys sorted, as Go marshals a map."""
    if isinstance(value, dict):
        return {k: sorted_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [sorted_keys(v) for v in value]
    return value


def result_object(result: Result) -> dict[str, Any]:
    out: dict[str, Any] = {"msg": result.msg}
    if result.loc is not None:
        loc: dict[str, Any] = {"file": result.loc.file} if result.loc.file else {}
        if result.loc.line:
            loc["line"] = result.loc.line
        out["loc"] = loc
    if result.metadata:
        out["metadata"] = sorted_keys(result.metadata)
    if result.outputs:
        out["outputs"] = list(result.outputs)
    return out


def check_object(result: CheckResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "filename": "" if result.filename == "-" else result.filename,
        "namespace": result.namespace,
        "successes": result.successes,
    }
    for key in ("skipped", "warnings", "failures", "exceptions"):
        items: list[Result] = getattr(result, key)
        if items:
            out[key] = [result_object(r) for r in items]
    return out


def go_json(value: Any, indent: str | None = "\t") -> str:
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    for char, escape in _GO_ESCAPES.items():
        text = text.replace(char, escape)
    return text


def render(results: list[CheckResult]) -> str:
    return go_json([check_object(r) for r in results]) + "\n"
