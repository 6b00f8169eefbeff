"""Schema validation of rendered objects, offline, like kubeconform: the gate's first check.

Every object of a built-in kind is validated strictly (unknown fields are
errors) against the OpenAPI schema of the cluster's Kubernetes minor
(``pipeline.gate.schema.builtin``).  An object whose group and kind a
CustomResourceDefinition defines, in the same render or pre-installed, is
validated against that CRD's ``openAPIV3Schema`` for its version
(``pipeline.gate.schema.crd``), its metadata against the release's ObjectMeta.

Findings are conftest ``CheckResult``s in namespace ``schema``, so the gate's
reporters and exit codes apply unchanged: one failure per problem, worded
``<Kind>/<name>: <field path>: <problem>`` with ``metadata`` ``{"query":
"schema", "field": <path>}``, and one success per clean object.  A kind that
no schema knows is a failure too.  Input no schema can judge (no apiVersion or
kind, an unsupported Kubernetes version, a CRD schema the API server would
refuse, a version a CRD does not serve) raises ``NetpackError``.

A ``Validator`` keeps what it compiled (per version, apiVersion and kind; per
CRD schema digest), so a fleet pays for each schema once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pipeline.errors import NetpackError
from pipeline.gate.schema import crd as crds
from pipeline.gate.schema.builtin import Release, load_release, minor_version, remembering
from pipeline.gate.schema.crd import CrdVersion
from pipeline.gate.schema.problems import Problem, problems
from pipeline.memo import Memo
from pipeline.model.resource import Body, Origin, Resource
from pipeline.model.results import CheckResult, Result

NAMESPACE = "schema"
QUERY = "schema"
PREINSTALLED = "pre-installed CRD"
Crds = dict[tuple[str, str], crds.Crd]
_REMEMBERED = 100_000  # verdicts kept per Validator (~20 MB at most)


class Validator:
    """Compiled schemas, reused across calls: one instance can check a whole fleet."""

    def __init__(self) -> None:
        self._releases: dict[str, Release] = {}
        self._custom: dict[str, Any] = {}  # CRD schema digest -> draft 4 validator
        self._results: dict[tuple[str, str, bytes], tuple[Problem, ...]] = {}

    def validate_resources(
        self,
        resources: Sequence[Resource],
        version: str,
        *,
        names: Sequence[str] | None = None,
        preinstalled_crds: Sequence[Body | Resource] = (),
        version_source: str = "",
        memo: Memo | None = None,
    ) -> list[CheckResult]:
        """One ``CheckResult`` per file: ``names[i]`` names resource i (the gate passes
        ``<cluster>/<file name>``), else its origin's path (documents of one file share
        one result).  ``version_source`` says where ``version`` came from, for errors;
        ``memo`` keeps the digests of the bodies it has frozen."""
        if names is not None and len(names) != len(resources):
            raise ValueError(f"{len(names)} names for {len(resources)} resources")
        files: dict[str, list[tuple[Resource, str | None]]] = {}
        for index, res in enumerate(resources):
            name = names[index] if names is not None else None
            files.setdefault(name or res.origin.path, []).append((res, name))
        release = self._release(version, version_source)
        known = self._crds(preinstalled_crds, resources, names)
        with remembering(memo.table("schema subtrees") if memo else None):
            return [
                self._check_file(filename, items, release, known, memo)
                for filename, items in files.items()
            ]

    def _release(self, version: str, source: str) -> Release:
        minor = minor_version(version, source)
        release = self._releases.get(minor)
        if release is None:
            release = self._releases[minor] = load_release(minor)
        return release

    def _crds(
        self,
        preinstalled: Sequence[Body | Resource],
        resources: Sequence[Resource],
        names: Sequence[str] | None,
    ) -> Crds:
        """Every CRD by (group, kind), its schemas checked; the render's win over pre-installed."""
        found: Crds = {}
        for index, item in enumerate(preinstalled):
            res = (
                item if isinstance(item, Resource) else Resource(item, Origin(PREINSTALLED, index))
            )
            self._add_crd(found, res, None)
        for index, res in enumerate(resources):
            self._add_crd(found, res, names[index] if names is not None else None)
        return found

    def _add_crd(self, found: Crds, res: Resource, name: str | None) -> None:
        crd = crds.read_crd(res.body, _describe(res, name)) if crds.is_crd(res.body) else None
        if crd is None:
            return
        for version in crd.versions.values():
            if version.schema is None and version.served:
                missing = "missing (apiextensions.k8s.io/v1 needs a schema per served version)"
                raise NetpackError(f"{version.field}: {missing}", **_location(res, name))
            if version.schema is not None and version.key not in self._custom:
                problem = crds.check_schema(version.schema)
                if problem is not None:
                    field = ".".join(p for p in (version.field, problem.field) if p)
                    message = f"{field}: invalid schema: {problem.message}"
                    raise NetpackError(message, **_location(res, name))
                self._custom[version.key] = crds.compile_schema(version.schema)
        found[(crd.group, crd.kind)] = crd

    def _check_file(
        self,
        filename: str,
        items: list[tuple[Resource, str | None]],
        release: Release,
        known: Crds,
        memo: Memo | None,
    ) -> CheckResult:
        result = CheckResult(filename=filename, namespace=NAMESPACE)
        for res, name in items:
            found = self._check(res, name, release, known, memo)
            result.successes += 0 if found else 1
            short = res.id.short
            for p in found:
                msg = f"{short}: {p.field}: {p.message}" if p.field else f"{short}: {p.message}"
                result.failures.append(Result(msg, {"query": QUERY, "field": p.field}))
        return result

    def _check(
        self, res: Resource, name: str | None, release: Release, known: Crds, memo: Memo | None
    ) -> tuple[Problem, ...]:
        api_version, kind = _required(res, name, "apiVersion"), _required(res, name, "kind")
        group, _, version = api_version.rpartition("/")
        crd = known.get((group, kind))
        if crd is not None:
            key = self._served(res, name, crd, version).key
            custom = self._custom[key]
            metadata = release.metadata()
            return self._remember(
                (release.version, key),
                res.body,
                lambda body: [*metadata.iter_errors(body), *custom.iter_errors(body)],
                memo,
            )
        builtin = release.validator(api_version, kind)
        if builtin is None:
            return (Problem("", _unknown_kind(release, group, api_version, kind)),)
        return self._remember((release.version, ""), res.body, builtin.iter_errors, memo)

    def _served(self, res: Resource, name: str | None, crd: crds.Crd, version: str) -> CrdVersion:
        entry = crd.versions.get(version)
        if entry is None or not entry.served:
            offered = ", ".join(crd.served) or "no version"
            raise NetpackError(
                f"CustomResourceDefinition {crd.name} ({crd.where}) serves {offered},"
                f" not {version}",
                **_location(res, name),
            )
        return entry

    def _remember(
        self,
        scope: tuple[str, str],
        body: Body,
        errors: Callable[[Body], Iterable[Any]],
        memo: Memo | None,
    ) -> tuple[Problem, ...]:
        """The problems of ``body``; an equal body was judged by the same schema before,
        its problems again.  A fleet's clusters share most objects (CRDs, RBAC)."""
        digest = memo.get("json digest", body, _digest) if memo else _digest(body)
        if digest is None:  # not JSON: judge it, remember nothing
            return tuple(problems(errors(body)))
        key = (*scope, digest)
        found = self._results.get(key)
        if found is None:
            if len(self._results) >= _REMEMBERED:
                self._results.clear()
            found = self._results[key] = tuple(problems(errors(body)))
        return found


def _digest(body: Body) -> bytes | None:
    """A digest of the body's JSON, keys sorted; None for a body JSON cannot hold."""
    try:
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        return None
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def _unknown_kind(release: Release, group: str, api_version: str, kind: str) -> str:
    others = release.served.get((group, kind))
    if others:
        served = ", ".join(others)
        return f"{api_version} {kind} is not served by Kubernetes {release.version} ({served} is)"
    if group == "" or release.has_group(group):
        return f"{api_version} {kind} is not a kind of Kubernetes {release.version}"
    return (
        "no CustomResourceDefinition among the manifests or pre-installed ones"
        f" defines {api_version} {kind}"
    )


def _required(res: Resource, name: str | None, key: str) -> str:
    value = res.body.get(key)
    if isinstance(value, str) and value:
        return value
    problem = f"no {key}" if value in (None, "") else f"{key} {value!r} is not a string"
    raise NetpackError(
        f"{problem} (every object needs apiVersion and kind)", **_location(res, name)
    )


def _location(res: Resource, name: str | None) -> dict[str, str]:
    """NetpackError fields naming a document: the gate's name and the origin, or the origin."""
    if name is None:
        origin = res.origin
        return {"file": origin.path, "operation": f"doc {origin.index}", "resource": str(res.id)}
    return {"file": name, "operation": "", "resource": res.describe()}


def _describe(res: Resource, name: str | None) -> str:
    """Where a document is, for messages about another one (the CRD a resource needs)."""
    return str(res.origin) if name is None else f"{name}, {res.origin}"


_DEFAULT: Validator | None = None


def validate_resources(
    resources: Sequence[Resource],
    version: str,
    *,
    names: Sequence[str] | None = None,
    preinstalled_crds: Sequence[Body | Resource] = (),
    version_source: str = "",
    memo: Memo | None = None,
) -> list[CheckResult]:
    """``Validator.validate_resources`` on one process-wide ``Validator`` (its caches shared)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Validator()
    return _DEFAULT.validate_resources(
        resources,
        version,
        names=names,
        preinstalled_crds=preinstalled_crds,
        version_source=version_source,
        memo=memo,
    )
