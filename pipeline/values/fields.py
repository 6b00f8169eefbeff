"""Typed access to a parsed YAML mapping, failing with the dotted key.

Every check raises a ``ValuesError`` that names the file and the key, so a
cluster file's problems read like ``clusters/a.yaml values.calico.mtu: 100 is
below the IPv4 minimum of 576``.  A reader made with ``collect=True`` keeps
going: ``attempt`` records what a check raised and unknown keys are all recorded
(with a "did you mean" where one is close), and ``raise_errors`` raises them
together, so one run reports every problem of a file.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pipeline.errors import NetpackError, Problems, ValuesError, raise_all
from pipeline.limits import MAX_VALUE_BYTES, size

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DIGITS = re.compile(r"[0-9]+")
T = TypeVar("T")


class FieldReader:
    """Typed access to a mapping, raising ValuesError with the dotted key."""

    def __init__(self, file: str, *, collect: bool = False) -> None:
        self.file = file
        self.collect = collect
        self.errors: list[NetpackError] = []

    def fail(self, key: str, message: str) -> ValuesError:
        return ValuesError(message, file=self.file, operation=key)

    def attempt(self, read: Callable[[], T], default: T) -> T:
        """``read()``; when collecting, a ``ValuesError`` it raises is recorded and
        ``default`` stands in for its value."""
        if not self.collect:
            return read()
        try:
            return read()
        except Problems as err:
            self.errors.extend(err.errors)
        except ValuesError as err:
            self.errors.append(err)
        return default

    def raise_errors(self) -> None:
        """Raise what was recorded: one error as it is, several as one ``Problems``."""
        raise_all(self.errors)

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
        unknown = [k for k in raw if allowed is not None and k not in allowed]
        for k in unknown:
            assert allowed is not None
            error = self.fail(f"{key}.{k}" if key else k, _unknown_key(k, allowed))
            if not self.collect:
                raise error
            self.errors.append(error)
        return {k: v for k, v in raw.items() if k not in unknown} if unknown else raw

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


def _unknown_key(key: str, allowed: Mapping[str, object] | set[str]) -> str:
    """``unknown key``, with the closest known key (spelling or case) and all of them."""
    by_lower = {k.lower(): k for k in allowed}
    close = difflib.get_close_matches(key.lower(), by_lower, n=1, cutoff=0.6)
    hint = f"; did you mean {by_lower[close[0]]!r}?" if close else ""
    return f"unknown key{hint} (known: {', '.join(sorted(allowed))})"


def _kind(value: object) -> str:
    return {
        dict: "a mapping",
        list: "a list",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(value), "a string" if isinstance(value, str) else type(value).__name__)
