"""The gate: each rendered cluster checked against its schemas, then the Rego policies.

Schema validation (``pipeline.gate.schema``: built-in kinds against the cluster's
Kubernetes version, custom resources against their CRDs in the render) reports
under the namespace ``schema``, in the same shape as the policies' results.
The policies then evaluate every rendered object as its own document, named by the
file ``render -o`` writes it to, with conftest's semantics (``pipeline.gate``)
and the cluster's context laid over the policy data as ``data.netpack``.  So
``netpack context CLUSTER > ctx.yaml`` plus ``conftest test DIR -p policies
-d policies/data -d ctx.yaml`` over the rendered files gives the same verdicts.
There is deliberately no way to skip it: exceptions live in Rego, where a
reviewer sees them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pipeline.gate import semantics as conftest
from pipeline.gate.deadline import DEFAULT_SECONDS, PolicyTimeout, evaluate_within, rule_files
from pipeline.gate.engines.choose import default_engine_name, make_engine
from pipeline.gate.engines.common import reads_data
from pipeline.gate.engines.protocol import Engine, PolicyError
from pipeline.gate.policies import Policies, check_problematic_if, load_policies
from pipeline.gate.schema.validate import validate_resources
from pipeline.gate.sources import Sources
from pipeline.kustomize.output import file_names, ordered
from pipeline.memo import Memo
from pipeline.model.resource import Resource
from pipeline.model.results import CheckResult, Result

CONFIG = ("ConfigMap", "kube-system", "calico-config")


def context(base: dict[str, Any], resources: Sequence[Resource]) -> dict[str, Any]:
    """``data.netpack``: the cluster context plus the rendered calico-config data."""
    for res in resources:
        rid = res.id
        if (rid.kind, rid.namespace, rid.name) == CONFIG:
            return {**base, "calico_config": dict(res.body.get("data") or {})}
    return dict(base)


def _from_input(ctx: dict[str, Any]) -> dict[str, Any]:
    """``ctx`` saying its calico-config is the input's own: the gate's documents are one
    render, so a message may state its values as the input's (``lib.calico.config_in_input``;
    a context file given to ``netpack test -d`` does not say so)."""
    return {**ctx, "calico_config_from": "input"} if "calico_config" in ctx else ctx


GATE_NAMESPACES = ("main",)


def can_deny(loaded: Policies, paths: Sequence[Path]) -> list[conftest.Namespace]:
    """The namespaces the gate queries; a ``PolicyError`` when no rule there can deny.

    A set of only ``_test.rego`` files and helpers, or one whose packages all moved
    away from ``main``, would pass every render: refused, as an empty directory is.
    """
    chosen = conftest.namespaces(loaded, GATE_NAMESPACES)
    if not any(conftest.FAILURE.fullmatch(r) for ns in chosen for r in ns.rules):
        packages = ", ".join(loaded.packages) or "none"
        raise PolicyError(
            f"no deny or violation rule in package {', '.join(GATE_NAMESPACES)} (the package"
            f" the gate queries; loaded: {packages}): this policy set can deny nothing",
            file=" ".join(str(p) for p in paths),
            operation="load policies",
        )
    return chosen


@dataclass
class Gate:
    """A loaded policy set and engine; ``check`` may run for many clusters."""

    engine: Engine
    namespaces: list[conftest.Namespace]
    file_blind: bool = False  # no policy reads data.conftest: batch a cluster's files
    timeout: float | None = DEFAULT_SECONDS  # one cluster's policy evaluation
    rule_files: dict[str, tuple[str, ...]] = field(default_factory=dict)  # data.ns.rule -> files
    stuck: bool = False  # an evaluation timed out: its thread may still be in the engine

    @classmethod
    def open(
        cls,
        policies: Sequence[Path],
        data: Sequence[Path],
        *,
        engine: str | None = None,
        opa_url: str | None = None,
        timeout: float | None = DEFAULT_SECONDS,
    ) -> Gate:
        """Load the policies (without ``_test.rego``) and data into a new engine;
        ``timeout``: seconds one cluster's policy evaluation may take (``None``: no limit)."""
        loaded = load_policies(
            [str(p) for p in policies], [str(d) for d in data], include_tests=False
        )
        check_problematic_if(loaded)
        can_deny(loaded, policies)  # before an engine starts
        instance = make_engine(engine or default_engine_name(), opa_url=opa_url)
        try:
            instance.load(loaded.without_tests(), loaded.data)
        except BaseException:
            instance.close()
            raise
        blind = not reads_data(loaded.without_tests().values(), "conftest")
        return cls(instance, can_deny(loaded, policies), blind, timeout, rule_files(loaded))

    def check(
        self,
        name: str,
        resources: Sequence[Resource],
        ctx: dict[str, Any],
        *,
        memo: Memo | None = None,
        seconds: dict[str, float] | None = None,
        cluster_file: str | None = None,
    ) -> list[CheckResult]:
        """Schema results, then conftest results, for one cluster: one document per file,
        each message tied to its resource and, with ``cluster_file``, to the file a user
        edits (``pipeline.gate.sources``).  ``memo`` remembers what is computed of the
        bodies it has frozen; ``seconds`` gets the time of ``schemas`` and ``policies``."""
        start = time.perf_counter()
        items = ordered(resources)
        names = [f"{name}/{n}" for n in file_names(items, Path(name))]
        version = ctx["cluster"]["kubernetes"]["version"]
        schema = validate_resources(
            items,
            version,
            names=names,
            version_source=f"cluster {name} kubernetes.version",
            memo=memo,
        )
        checked = time.perf_counter()
        documents = [(n, [r.body]) for n, r in zip(names, items, strict=True)]

        def evaluate(namespaces: list[conftest.Namespace]) -> list[CheckResult]:
            return conftest.check(
                self.engine,
                documents,
                namespaces,
                data={"netpack": _from_input(ctx)},
                file_blind=self.file_blind,
            )

        if self.stuck:
            raise PolicyError("an earlier evaluation timed out", operation="evaluate")
        try:
            results = schema + evaluate_within(
                self.timeout,
                self.engine,
                self.namespaces,
                evaluate,
                self.rule_files,
                f"cluster {name}",
            )
        except PolicyTimeout:
            self.stuck = True
            raise
        if seconds is not None:
            seconds["schemas"] = checked - start
            seconds["policies"] = time.perf_counter() - checked
        sources = Sources(cluster_file) if cluster_file is not None else None
        return _attached(results, dict(zip(names, items, strict=True)), sources)

    def close(self) -> None:
        if not self.stuck:  # else a thread may still be inside it: the process ends soon
            self.engine.close()


def _attached(
    results: list[CheckResult], by_file: dict[str, Resource], sources: Sources | None = None
) -> list[CheckResult]:
    """Each failure and warning with the resource (and origin) of its file, and with
    ``sources`` the file a user edits to fix it (``pipeline.gate.sources``)."""
    out = []
    for result in results:
        res = by_file.get(result.filename)
        if res is not None and (result.failures or result.warnings):
            result = replace(
                result,
                failures=[_located(r, res, sources) for r in result.failures],
                warnings=[_located(r, res, sources) for r in result.warnings],
            )
        out.append(result)
    return out


def _located(found: Result, res: Resource, sources: Sources | None) -> Result:
    source = sources.of(found, res) if sources is not None else None
    return replace(found, resource=res.id, origin=res.origin, source=source)
