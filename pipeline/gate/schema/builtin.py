"""Kubernetes' own kinds: the OpenAPI schemas that kubernetes-validate ships, per minor version.

kubernetes-validate (PyPI) bundles one ``v<minor>.0-local-strict/_definitions.json``
per supported Kubernetes minor: every type of that release as JSON Schema 2020-12,
each object closed with ``additionalProperties: false`` (unknown fields are
errors, as ``kubectl --validate=strict`` says).  The kinds are the definitions
that carry ``x-kubernetes-group-version-kind``.

Only the data files are used, not the package's ``validate()``: that re-reads and
re-parses the schemas on every call (~10x slower), crashes with ``IndexError``
below its oldest minor, compares versions as strings, and picks a schema file by
dropping the group's domain (so an ``apps.example.com/v1`` Deployment would get
``apps/v1``'s schema).  Here kinds are looked up by their exact group, version
and kind, and each validator is compiled once.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Protocol

# jsonschema ships no type information; with types-jsonschema installed these
# ignores are unused, which unused-ignore allows.
from jsonschema import (  # type: ignore[import-untyped,unused-ignore]
    Draft202012Validator,
    ValidationError,
    validators,
)
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from pipeline.errors import NetpackError

PACKAGE = "kubernetes-validate"
_DIRECTORY = re.compile(r"^v([0-9]+)\.([0-9]+)\.0-local-strict$")
_VERSION = re.compile(r"^v?([0-9]+)\.([0-9]+)(?:\.[0-9]+)?$")
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_METADATA = " metadata"  # a key no definition name can clash with


class SchemaValidator(Protocol):
    """The part of a ``jsonschema`` validator this package uses."""

    def iter_errors(self, instance: object) -> Iterator[Any]: ...


@cache
def schema_root() -> Path:
    """The package's ``kubernetes-json-schema`` directory, found without importing it."""
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise NetpackError(
            f"{PACKAGE} is not installed (pip install '{PACKAGE}>=1.37,<2')",
            operation="schema validation",
        )
    return Path(next(iter(spec.submodule_search_locations))) / "kubernetes-json-schema"


@cache
def supported_versions() -> tuple[str, ...]:
    """The Kubernetes minors with schemas, oldest first, e.g. ``("1.25", ..., "1.37")``."""
    found = [m.groups() for d in schema_root().iterdir() if (m := _DIRECTORY.match(d.name))]
    return tuple(f"{major}.{minor}" for major, minor in sorted(found, key=_numeric))


def _numeric(parts: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(int(p) for p in parts)


def minor_version(version: str, source: str = "") -> str:
    """``"1.32"`` for ``1.32``, ``v1.32`` or ``1.32.4``; ``NetpackError`` if bad or unknown."""
    where = source or "schema validation"
    match = _VERSION.match(version) if isinstance(version, str) else None
    if match is None:
        raise NetpackError(
            f'Kubernetes version {version!r} is not a version like "1.32"', operation=where
        )
    minor = ".".join(str(int(p)) for p in match.groups())
    known = supported_versions()
    if minor not in known:
        raise NetpackError(
            f"Kubernetes {minor} is not supported: {PACKAGE} "
            f"{importlib.metadata.version(PACKAGE)} has schemas for {known[0]} to {known[-1]}",
            operation=where,
        )
    return minor


@dataclass
class Release:
    """One Kubernetes minor's kinds, with their validators compiled on first use."""

    version: str
    kinds: dict[tuple[str, str], str]  # (apiVersion, kind) -> definition name
    served: dict[tuple[str, str], list[str]]  # (group, kind) -> apiVersions serving it
    registry: Registry[Any]
    base: str
    # by (definition, remembering): within ``remembering`` the $ref keyword keeps
    # what it found, elsewhere it is jsonschema's own (no wrapper to pay for)
    _validators: dict[tuple[str, bool], SchemaValidator] = field(default_factory=dict)
    _class: Any = None  # Draft202012Validator with a remembering $ref, made on first use

    def validator(self, api_version: str, kind: str) -> SchemaValidator | None:
        """The validator of a kind, or None when this release has no such kind."""
        name = self.kinds.get((api_version, kind))
        return None if name is None else self.definition(name)

    def definition(self, name: str) -> SchemaValidator:
        """A validator for one definition, compiled once."""
        return self._cached(name, lambda: {"$ref": self._ref(name)})

    def metadata(self) -> SchemaValidator:
        """A validator of an object's ``metadata`` alone, as this release's ObjectMeta."""
        return self._cached(
            _METADATA, lambda: {"properties": {"metadata": {"$ref": self._ref(OBJECT_META)}}}
        )

    def _cached(self, name: str, schema: Callable[[], dict[str, Any]]) -> SchemaValidator:
        key = (name, _SUBTREES.get() is not None)
        found = self._validators.get(key)
        if found is None:
            found = self._validators[key] = self._compile(schema(), remembering=key[1])
        return found

    def _ref(self, name: str) -> str:
        return f"{self.base}#/$defs/{name}"

    def _compile(self, schema: dict[str, Any], *, remembering: bool) -> SchemaValidator:
        cls = Draft202012Validator
        if remembering:
            cls = self._class
            if cls is None:
                cls = self._class = validators.extend(
                    Draft202012Validator, {"$ref": _remembering_ref(self.version)}
                )
        validator: SchemaValidator = cls(schema, registry=self.registry)
        return validator

    def has_group(self, group: str) -> bool:
        return any(g == group for g, _ in self.served)


# The subtree memo of the validation running in this context (``remembering``), if any.
_SUBTREES: ContextVar[dict[Any, Any] | None] = ContextVar("netpack_schema_subtrees", default=None)
_SUBTREES_MAX = 50_000  # entries; each holds a part of a body


@contextmanager
def remembering(table: dict[Any, Any] | None) -> Iterator[None]:
    """Within it, ``$ref`` results are kept in ``table`` by (release, ref, part identity).

    Copy-on-write patching (``pipeline.kustomize.rfc6902``) leaves a cluster's objects
    sharing every untouched part with the overlay's build, so a value-patched
    DaemonSet is checked again only along the paths the values changed.  Parts
    of bodies never change in place (``pipeline.model``); each entry holds its
    part, so an identity is not reused while the entry lives.
    """
    token = _SUBTREES.set(table)
    try:
        yield
    finally:
        _SUBTREES.reset(token)


def _remembering_ref(version: str) -> Any:
    plain = Draft202012Validator.VALIDATORS["$ref"]

    def ref(validator: Any, value: str, instance: Any, schema: Any) -> Iterator[Any]:
        table = _SUBTREES.get()
        if table is None or not isinstance(instance, dict | list):
            yield from plain(validator, value, instance, schema)
            return
        key = (version, value, id(instance))
        hit = table.get(key)
        if hit is None or hit[0] is not instance:
            if len(table) >= _SUBTREES_MAX:
                table.clear()
            # copies: the callers up the tree extend each error's path in place
            found = [
                ValidationError.create_from(e) for e in plain(validator, value, instance, schema)
            ]
            hit = table[key] = (instance, found)
        for error in hit[1]:
            yield ValidationError.create_from(error)

    return ref


def load_release(version: str) -> Release:
    """Read one minor's ``_definitions.json`` (a 1.3 MB file: ~10 ms) and index its kinds."""
    path = schema_root() / f"v{version}.0-local-strict" / "_definitions.json"
    document = json.loads(path.read_bytes())
    kinds: dict[tuple[str, str], str] = {}
    served: dict[tuple[str, str], list[str]] = {}
    for name, definition in document["$defs"].items():
        for gvk in definition.get("x-kubernetes-group-version-kind", ()):
            group, api_version = gvk["group"], gvk["version"]
            if group:
                api_version = f"{group}/{api_version}"
            kinds.setdefault((api_version, gvk["kind"]), name)
            served.setdefault((group, gvk["kind"]), []).append(api_version)
    base = document["$id"]
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(base, resource)
    return Release(version, kinds, served, registry, base)
