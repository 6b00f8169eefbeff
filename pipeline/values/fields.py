"""Typed access to a parsed YAML mapping, failing with the dotted key.

Every check raises a ``ValuesError`` that names the file and the key, so a
cluster file's problems read like ``clusters/a.yaml values.calico.mtu: 100 is
below the IPv4 minimum of 576``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from pipeline.errors import ValuesError
from pipeline.limits import MAX_VALUE_BYTES, size

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DIGITS = re.compile(r"[0-9]+")


class FieldReader:
    """Typed access to a mapping, raising ValuesError with the dotted key."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, key: str, message: str) -> ValuesError:
        return ValuesError(message, file=self.file, operation=key)

    def mapping(
        self, raw: object, key: str, allowed: Mapping[str, object] | set[str] | None
    ) -> dict[str, Any]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise self.fail(key, f"must be a mapping, not {_kind(raw)}")
        for k in raw:
            if not isinstance(k, str):
                raise self.fail(key, f"key {k!r} must be a string")
            if allowed is not None and k not in allowed:
                known = ", ".join(sorted(allowed))
                raise self.fail(f"{key}.{k}" if key else k, f"unknown key (known: {known})")
        return raw

    def string(self, raw: object, key: str, *, required: bool = False) -> str | None:
        if raw is None or raw == "":
            if required:
                raise self.fail(key, "is required")
            return None
        if not isinstance(raw, str):
            raise self.fail(key, f"must be a string, not {_kind(raw)}")
        if len(raw) > MAX_VALUE_BYTES // 4 and len(raw.encode()) > MAX_VALUE_BYTES:
            raise self.fail(
                key,
                f"is {len(raw.encode())} bytes long; a value may hold at most"
                f" {MAX_VALUE_BYTES} ({size(MAX_VALUE_BYTES)})",
            )
        return raw

    def choice(self, raw: object, key: str, choices: tuple[str, ...]) -> str | None:
        value = self.string(raw, key)
        if value is not None and value not in choices:
            raise self.fail(key, f"{value!r} is not one of {', '.join(choices)}")
        return value

    def integer(self, raw: object, key: str, low: int, high: int) -> int | None:
        if raw is None or raw == "":
            return None
        if isinstance(raw, str):
            # ASCII digits only: str.isdigit() and int() also take "²" and "١٤٥٠"
            if not _DIGITS.fullmatch(raw):
                raise self.fail(key, f"{raw!r} is not a whole number (digits 0-9)")
            if len(raw) > 18:  # int() of 4,300+ digits raises; no range here is that wide
                raise self.fail(key, f"{raw[:20]}... is outside {low}-{high}")
            raw = int(raw)
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise self.fail(key, f"must be a whole number, not {_kind(raw)}")
        if not low <= raw <= high:
            raise self.fail(key, f"{raw} is outside {low}-{high}")
        return raw

    def cidr(self, raw: object, key: str, *, required: bool = False) -> str | None:
        value = self.string(raw, key, required=required)
        if value is None:
            return None
        try:
            net = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise self.fail(key, f"{value!r} is not a CIDR (like 10.244.0.0/16)") from None
        if net.version != 4:
            raise self.fail(key, f"{value} is IPv6; this pack renders IPv4 pools only")
        if str(net) != value:
            raise self.fail(key, f"{value} is not in canonical form; write {net}")
        return value

    def env(self, raw: object, key: str) -> tuple[tuple[str, str], ...]:
        pairs = []
        for name, value in sorted(self.mapping(raw, key, None).items()):
            if not _ENV_NAME.match(name):
                raise self.fail(f"{key}.{name}", "is not a valid environment variable name")
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, int):
                value = str(value)
            text = self.string(value, f"{key}.{name}", required=True)
            assert text is not None
            pairs.append((name, text))
        return tuple(pairs)


def _kind(value: object) -> str:
    return {
        dict: "a mapping",
        list: "a list",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(value), "a string" if isinstance(value, str) else type(value).__name__)
