"""go-yaml v2's output rules, on top of PyYAML's C emitter: one object to kustomize's bytes.

Kustomize prints each object by marshalling it to JSON and passing that through
``sigs.k8s.io/yaml.JSONToYAML`` (``api/resource/resource.go AsYAML``), which reads
the JSON back with its go-yaml v2 fork and marshals it again.  So the output
follows go-yaml v2's rules, not PyYAML's: keys come in go-yaml's order, a string
is double-quoted when go-yaml v2 would read it back as another type, and numbers
are printed the way Go formats them.  go-yaml's emitter is a port of libyaml, so
once this module has taken those decisions, PyYAML's C emitter does the layout
(block styles, single quotes, folding at 80 columns).  Every rule was checked
against kustomize v5.8.1, and the oracle tests in ``tests/test_render.py`` keep
checking it.  ``pipeline.kustomize.output`` lists where kustomize itself is not
deterministic or loses data, and what netpack does instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import cmp_to_key
from io import StringIO
from typing import Any

from yaml._yaml import CEmitter
from yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)

from pipeline.errors import InputError
from pipeline.model.resource import Body


class _Unrenderable(Exception):
    """Raised for a value that kustomize cannot print. ``path`` is filled in while unwinding."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path: list[str] = []


# --- Strings: when go-yaml v2 (sigs.k8s.io/yaml/goyaml.v2) quotes ---

# In resolve.go's resolveTable, only strings starting with one of these can resolve to a non-string.
_HINTS = frozenset("+-0123456789.yYnNtTfFoO~")
# resolve.go resolveMap without "<<": '<' is not a hint, so go-yaml leaves "<<" plain.
_KEYWORDS = frozenset({
    "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
    "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
    "~", "null", "Null", "NULL", ".nan", ".NaN", ".NAN",
    ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
})  # fmt: skip
# strconv.ParseInt(s, 0, 64) syntax; resolve.go removes underscores before calling it.
_GO_INT = re.compile(r"([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)\Z")
_YAML_STYLE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
# For a '.' hint, ParseFloat gets the raw text: Go syntax, so '_' may only stand between digits.
_DOT_FLOAT = re.compile(r"\.[0-9](_?[0-9])*([eE][-+]?[0-9](_?[0-9])*)?\Z")
_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?\Z")
# parseTimestamp's four time.Parse layouts. The regex checks the shape only;
# _is_timestamp checks the ranges. "2024-13-01" is not a time, so it stays plain.
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"(?:(?:[Tt]|( +))([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,][0-9]+)?"
    r"(Z|[-+]([0-9]{2}):([0-9]{2}))?)?\Z"
)
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _is_timestamp(s: str) -> bool:
    """Return whether ``s`` is a date or time that go-yaml's parseTimestamp accepts."""
    m = _TIMESTAMP.match(s)
    if m is None:
        return False
    year, month, day, spaced, hour, minute, second, zone, zone_h, zone_m = m.groups()
    if hour is not None and (zone is None) != (spaced is not None):
        return False  # the "T" layouts need a zone; the space layout takes none
    y, mo, d = int(year), int(month), int(day)
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    if not 1 <= mo <= 12 or not 1 <= d <= _DAYS[mo - 1] - (mo == 2 and not leap):
        return False
    if hour is not None and (int(hour) > 23 or int(minute) > 59 or int(second) > 59):
        return False
    return zone_h is None or (int(zone_h) <= 24 and int(zone_m) <= 60)


def _go_int(sign: str, digits: str) -> int:
    """Return the value of a ``_GO_INT`` match: 0x, 0o and 0b prefixes, or a leading 0 for octal."""
    prefix = digits[1:2].lower() if digits[:1] == "0" else ""
    value = int(digits, {"x": 16, "o": 8, "b": 2, "": 10}.get(prefix, 8))
    return -value if sign == "-" else value


def _is_number(s: str) -> bool:
    """Apply resolve.go's rules for a digit or sign hint: int, float or (encode.go) base 60."""
    plain = s.replace("_", "")
    m = _GO_INT.match(plain) if len(plain) <= 70 else None  # no 64-bit literal is longer
    # An int must fit int64, or uint64 when it has no sign (ParseUint takes none).
    # Observed: "0x1" followed by 16 zeros stays plain, while 2**64 written in
    # decimal is quoted, because it still parses as a float below.
    if m is not None and -(2**63) <= _go_int(m[1], m[2]) < (2**63 if m[1] else 2**64):
        return True
    # ParseFloat fails on overflow, so "1e999" stays a string. Underflow is not an error.
    if _YAML_STYLE_FLOAT.match(plain) and math.isfinite(float(plain)):
        return True
    return _BASE60.match(s) is not None  # quoted "for compatibility with other parsers"


def _needs_quotes(s: str) -> bool:
    """Return whether go-yaml v2 would read ``s`` unquoted as a non-string (encode.go stringv)."""
    if not s:
        return True  # "" resolves to null
    first = s[0]
    if first not in _HINTS:
        return False
    if s in _KEYWORDS:
        return True
    if first == ".":
        return _DOT_FLOAT.match(s) is not None and math.isfinite(float(s.replace("_", "")))
    return first in "+-0123456789" and (_is_timestamp(s) or _is_number(s))


_IMPLICIT = (True, True)  # no tag is ever written
_SCALARS: dict[str, ScalarEvent] = {}
_SCALARS_MAX = 200_000  # cached distinct strings; keys and values repeat across a fleet


def _scalar(s: str) -> ScalarEvent:
    """Return the event for ``s``, styled as go-yaml's stringv does.

    A multi-line string is a literal block, an ambiguous one is double-quoted,
    and anything else is requested plain. The emitter still switches to single
    quotes for indicators and blanks, and from literal to double quotes where a
    block cannot be written (a space before a line break). Events are immutable
    inputs to the emitter, so they are cached.
    """
    event = _SCALARS.get(s)
    if event is None:
        if len(_SCALARS) >= _SCALARS_MAX:
            _SCALARS.clear()
        style = "|" if "\n" in s else ('"' if _needs_quotes(s) else None)
        event = _SCALARS[s] = ScalarEvent(None, None, _IMPLICIT, s, style=style)
    return event


# --- Numbers: kustomize's JSON round trip ---


def _go_float(x: float) -> str:
    """Format a float the way kustomize prints it after its JSON round trip.

    encoding/json writes an integral value below 1e21 as its shortest digits
    padded with zeros (2.0**63 becomes 9223372036854776000). go-yaml reads that
    back as an int if it fits int64, or uint64 when unsigned. Every other value
    stays a float64 and is printed with ``strconv.FormatFloat(x, 'g', -1, 64)``:
    shortest digits, in exponent form when the decimal exponent is below -4 or at least 6.
    """
    from decimal import Decimal  # here: most renders hold no float, and it costs start-up

    if not math.isfinite(x):
        raise _Unrenderable(f"{x} has no JSON form (kustomize: json: unsupported value)")
    sign, digit_tuple, exponent = Decimal(repr(x)).normalize().as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + exponent  # abs(x) == 0.<digits> * 10**point
    minus = "-" if sign else ""
    if x.is_integer() and abs(x) < 1e21:
        value = int(minus + digits + "0" * exponent)
        if -(2**63) <= value < (2**63 if sign else 2**64):
            return str(value)
    if not -4 <= point - 1 < 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{minus}{mantissa}e{point - 1:+03d}"
    if point <= 0:
        return f"{minus}0.{'0' * -point}{digits}"
    return f"{minus}{digits[:point]}.{digits[point:]}"  # integral values returned above


def _go_int_text(value: int) -> str:
    """Format an int; beyond 64 bits kustomize's YAML reader has made it a float64."""
    if -(2**63) <= value < 2**64:
        return str(int(value))  # int(): an IntEnum's str() is its name
    try:
        return _go_float(float(value))
    except OverflowError:
        raise _Unrenderable(f"a {value.bit_length()}-bit integer overflows float64") from None


# --- Keys: go-yaml v2 sorter.go keyList.Less ---


def _digit_run(s: str, start: int, value: int) -> tuple[int, int]:
    """Read the digits at ``start`` on top of ``value`` as Go's int64 does; return (end, value)."""
    end = start
    while end < len(s) and s[end].isdecimal():  # unicode.IsDigit
        value = (value * 10 + ord(s[end]) - 48 + 2**63) % 2**64 - 2**63
        end += 1
    return end, value


def _key_cmp(a: str, b: str) -> int:
    """Compare two keys in go-yaml's order: non-letters before letters, digit runs by value."""
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x == y:
            continue
        x_letter, y_letter = x.isalpha(), y.isalpha()  # unicode.IsLetter
        if x_letter and y_letter:
            return -1 if x < y else 1
        if x_letter or y_letter:
            return 1 if x_letter else -1
        seed = 0
        if x == "0" or y == "0":  # a 0 in mid-number continues the digits before it
            j = i - 1
            while j >= 0 and a[j].isdecimal() and seed == 0:
                seed = int(a[j] != "0")
                j -= 1
        a_end, a_num = _digit_run(a, i, seed)
        b_end, b_num = _digit_run(b, i, seed)
        if a_num != b_num:
            return -1 if a_num < b_num else 1
        if a_end != b_end:
            return -1 if a_end < b_end else 1
        return -1 if x < y else 1
    return (len(a) > len(b)) - (len(a) < len(b))


_KEY_ORDERS: dict[tuple[Any, ...], list[str]] = {}
_KEY_ORDERS_MAX = 50_000  # cached distinct key sets; a whole fleet has a few thousand


def _key_order(mapping: dict[Any, Any]) -> list[str]:
    """Return the keys of ``mapping`` in go-yaml's order.

    The result is cached, because every object repeats the same key sets.
    Sorting the keys plainly first makes the result independent of insertion
    order even where go-yaml's comparison is not transitive.
    """
    keys = tuple(mapping)
    found = _KEY_ORDERS.get(keys)
    if found is None:
        for key in keys:
            if type(key) is not str:
                raise _Unrenderable(f"key {key!r} is not a string (kustomize: json: unsupported)")
            if key == "<<":
                raise _Unrenderable('key "<<" would be dropped by kustomize as a YAML merge key')
        if len(_KEY_ORDERS) >= _KEY_ORDERS_MAX:
            _KEY_ORDERS.clear()
        found = _KEY_ORDERS[keys] = sorted(sorted(keys), key=cmp_to_key(_key_cmp))
    return found


# --- Documents ---


_MAPPING_START = MappingStartEvent(None, None, True, flow_style=False)  # libyaml writes {} if empty
_SEQUENCE_START = SequenceStartEvent(None, None, True, flow_style=False)
_MAPPING_END, _SEQUENCE_END = MappingEndEvent(), SequenceEndEvent()
_FIXED = {
    True: ScalarEvent(None, None, _IMPLICIT, "true"),
    False: ScalarEvent(None, None, _IMPLICIT, "false"),
}


def _emit(data: Any, emit: Callable[[object], None]) -> None:
    """Emit the events for a JSON-like value, every choice taken as go-yaml v2 takes it."""
    kind = type(data)
    if kind is str:
        emit(_SCALARS.get(data) or _scalar(data))  # inlined cache hit: most scalars repeat
    elif kind is dict:
        emit(_MAPPING_START)
        for key in _key_order(data):
            emit(_SCALARS.get(key) or _scalar(key))
            try:
                _emit(data[key], emit)
            except _Unrenderable as err:
                err.path.append(key)
                raise
        emit(_MAPPING_END)
    elif kind is list:
        emit(_SEQUENCE_START)
        for index, item in enumerate(data):
            try:
                _emit(item, emit)
            except _Unrenderable as err:
                err.path.append(f"[{index}]")
                raise
        emit(_SEQUENCE_END)
    elif kind is bool:
        emit(_FIXED[data])
    else:
        _emit_other(data, emit)


def _emit_other(data: object, emit: Callable[[object], None]) -> None:
    """Emit a number or null, or what Python's json module would treat as a string or list."""
    if isinstance(data, str | dict):  # subclasses
        _emit(str(data) if isinstance(data, str) else dict(data), emit)
    elif isinstance(data, list | tuple):
        _emit(list(data), emit)
    elif isinstance(data, bytes):  # a "!!binary" scalar: kustomize prints the decoded text
        _emit(data.decode("utf-8", "replace"), emit)
    else:
        emit(ScalarEvent(None, None, _IMPLICIT, _plain_text(data)))


def _plain_text(data: object) -> str:
    """Return the text of a number or null; it is written plain."""
    if data is None:
        return "null"
    if isinstance(data, int) and not isinstance(data, bool):
        return _go_int_text(data)
    if isinstance(data, float):
        return _go_float(data)
    raise _Unrenderable(f"a {type(data).__name__} is not a JSON value: {data!r}"[:200])


def _field_path(reversed_path: list[str]) -> str:
    return ".".join(reversed(reversed_path)).replace(".[", "[") or "(document)"


def dump(body: Body) -> str:
    """Return one document as kustomize prints it: no ``---``, ending in a newline.

    Raises ``InputError`` (operation ``render``) naming the field when the body
    holds something kustomize cannot print: a non-string or ``"<<"`` key, NaN,
    an infinity, or a value that is not JSON.
    """
    stream = StringIO()
    emitter = CEmitter(stream, indent=2, width=80, allow_unicode=True, line_break="\n")
    try:
        emitter.emit(StreamStartEvent())
        emitter.emit(DocumentStartEvent(explicit=False))
        _emit(body, emitter.emit)
        emitter.emit(DocumentEndEvent(explicit=False))
        emitter.emit(StreamEndEvent())
    except _Unrenderable as err:
        raise InputError(f"{_field_path(err.path)}: {err.problem}", operation="render") from None
    finally:
        emitter.dispose()
    text = stream.getvalue()
    # libyaml ends a document with "..." after a "|+" scalar. go-yaml's encoder turns
    # that off (encode.go finish: open_ended = false). A "..." line at column 0 can
    # only be that marker.
    return text[:-4] if text.endswith("\n...\n") else text
