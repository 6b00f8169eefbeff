"""Kubernetes label selectors, as kustomize's ``labelSelector``/``annotationSelector``.

The syntax is k8s.io/apimachinery's ``labels.Parse``, which kustomize uses for
both fields.  A selector is requirements joined by ``,`` (AND); each one is

    key            key exists              !key              key is absent
    key=v, key==v  key exists and is v     key!=v            key is absent or not v
    key in (a,b)   key exists, value in set  key notin (a,b)  key is absent or not in set
    key>3, key<3   key exists and its value is an integer greater / less than 3

Keys are label keys (``[prefix/]name``), values label values; an empty value is
allowed (``key=``, ``key in (a,)``; ``key in ()`` is the set holding only "").
The empty selector matches everything.  All of this was checked against
kustomize v5.8.1.  Parse errors are ``KustomizationError`` with only the problem.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from pipeline.errors import KustomizationError
from pipeline.kustomize.messages import quoted

_SPACE = " \t\r\n"
_SYMBOLS = "=!(),<>"
_OPERATORS = ("==", "!=", "=", "!", "(", ")", ",", "<", ">")
_COMPARE = ("=", "==", "!=", "in", "notin", ">", "<")
_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = re.compile(rf"{_DNS_LABEL}(\.{_DNS_LABEL})*")
_INTEGER = re.compile(r"[+-]?[0-9]+")  # Go strconv.ParseInt(s, 10, 64)
_INT64 = range(-(2**63), 2**63)
_END = ""  # the token list ends with this


class Requirement(NamedTuple):
    """One condition: ``operator`` is one of ``=``, ``!=``, ``in``, ``notin``,
    ``exists``, ``!``, ``>``, ``<``; ``values`` is empty for ``exists`` and ``!``."""

    key: str
    operator: str
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy this condition (apimachinery's semantics)."""
        value = labels.get(self.key)
        if self.operator == "exists":
            return value is not None
        if self.operator == "!":
            return value is None
        if self.operator in ("=", "in"):
            return value is not None and value in self.values
        if self.operator in ("!=", "notin"):
            return value is None or value not in self.values
        return value is not None and _compare(self.operator, value, next(iter(self.values)))


def _compare(operator: str, actual: str, wanted: str) -> bool:
    """``>``/``<`` on integers; a label value that is not an integer never matches."""
    if not _INTEGER.fullmatch(actual) or int(actual) not in _INT64:
        return False
    return int(actual) > int(wanted) if operator == ">" else int(actual) < int(wanted)


class LabelSelector(NamedTuple):
    """All requirements must hold; no requirements selects everything."""

    requirements: tuple[Requirement, ...]

    @classmethod
    def parse(cls, text: str) -> LabelSelector:
        """Parse ``text``; ``KustomizationError`` names the offending token."""
        return cls(_Parser(_tokenize(text)).selector())

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)


def _tokenize(text: str) -> list[str]:
    """Operators and words (keys, values, ``in``, ``notin``), then ``_END``."""
    tokens: list[str] = []
    pos = 0
    while pos < len(text):
        if text[pos] in _SPACE:
            pos += 1
        elif text[pos] in _SYMBOLS:
            operator = next((o for o in _OPERATORS if text.startswith(o, pos)), text[pos])
            tokens.append(operator)
            pos += len(operator)
        else:
            start = pos
            while pos < len(text) and text[pos] not in _SPACE + _SYMBOLS:
                pos += 1
            tokens.append(text[start:pos])
    return [*tokens, _END]


def _is_word(token: str) -> bool:
    return token != _END and token[0] not in _SYMBOLS


def _shown(token: str) -> str:
    return "the end" if token == _END else quoted(token)


class _Parser:
    """Recursive descent over the tokens; one method per grammar rule."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str:
        return self.tokens[self.pos]

    def take(self) -> str:
        token = self.tokens[self.pos]
        self.pos += 1 if token != _END else 0
        return token

    def fail(self, token: str, expected: str) -> KustomizationError:
        return KustomizationError(f"found {_shown(token)}, expected {expected}")

    def selector(self) -> tuple[Requirement, ...]:
        if self.peek() == _END:
            return ()
        requirements = [self.requirement()]
        while (token := self.take()) != _END:
            if token != ",":
                raise self.fail(token, '"," or the end')
            requirements.append(self.requirement())
        return tuple(requirements)

    def requirement(self) -> Requirement:
        absent = self.peek() == "!"
        if absent:
            self.take()
        key = self.take()
        if not _is_word(key):
            raise self.fail(key, "a label key")
        _check_key(key)
        if absent:
            return Requirement(key, "!")
        if self.peek() in (",", _END):
            return Requirement(key, "exists")
        operator = self.take()
        if operator not in _COMPARE:
            raise self.fail(operator, '"=", "==", "!=", "in", "notin", ">" or "<"')
        if operator in ("in", "notin"):
            return Requirement(key, operator, self.value_set())
        value = self.value()
        if operator in (">", "<") and not (_INTEGER.fullmatch(value) and int(value) in _INT64):
            raise KustomizationError(f'the value of "{operator}" must be an integer, got "{value}"')
        return Requirement(key, "=" if operator == "==" else operator, frozenset({value}))

    def value(self) -> str:
        if self.peek() in (",", _END):
            return ""
        token = self.take()
        if not _is_word(token):
            raise self.fail(token, "a label value")
        return _checked_value(token)

    def value_set(self) -> frozenset[str]:
        token = self.take()
        if token != "(":
            raise self.fail(token, '"("')
        values: set[str] = set()
        want_value = True
        while (token := self.take()) != ")":
            if _is_word(token) and want_value:
                values.add(_checked_value(token))
                want_value = False
            elif token == ",":
                if want_value:
                    values.add("")  # "(,a)" and "(a,,b)" hold ""
                want_value = True
            else:
                raise self.fail(token, 'a value, "," or ")"' if want_value else '"," or ")"')
        if want_value:
            values.add("")  # "()" and "(a,)" hold ""
        return frozenset(values)


def _check_key(key: str) -> None:
    """A label key: an optional DNS-subdomain prefix and ``/``, then a name."""
    prefix, slash, name = key.rpartition("/")
    good_prefix = not slash or (len(prefix) <= 253 and _DNS_SUBDOMAIN.fullmatch(prefix) is not None)
    if not (good_prefix and len(name) <= 63 and _NAME.fullmatch(name)):
        raise KustomizationError(f"invalid label key {quoted(key)}")


def _checked_value(value: str) -> str:
    """``value`` if it is a label value (at most 63 characters, like a key's name)."""
    if len(value) > 63 or not _NAME.fullmatch(value):
        raise KustomizationError(f"invalid label value {quoted(value)}")
    return value
