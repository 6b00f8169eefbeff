"""How values are shown in the kustomize stage's one-line error messages."""

from __future__ import annotations

import json
from typing import Any


def quoted(value: object, **options: Any) -> str:
    """``value`` as JSON, for a message (``json.dumps`` with ``options``)."""
    return json.dumps(value, **options)


def describe_type(value: object) -> str:
    """``a mapping``, ``a list``, ``a string``, ``a number``, ``a boolean`` or ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"
