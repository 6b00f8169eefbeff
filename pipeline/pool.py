"""Render and gate many clusters across worker processes, in a fixed order.

Each worker opens its own policy engine once and returns each cluster as plain
bytes (file name -> rendered YAML) plus its gate results, so the parent holds
one cluster at a time, not the fleet.  Outputs come back in the order of the
input paths whatever ``jobs`` is, so ``--jobs 1`` and ``--jobs N`` give the same
bytes.  ``jobs == 1`` runs in this process (no pool, no pickling).  Workers start
with the embedded OPA's ``GO_ENVIRONMENT`` unless the user set those variables.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.flow import Builds
from pipeline.gate.check import Gate
from pipeline.model.resource import Finding
from pipeline.model.results import CheckResult


@dataclass(frozen=True)
class Settings:
    """What every worker needs to render and gate a cluster (picklable)."""

    pack: Path | None
    policies: tuple[Path, ...]
    data: tuple[Path, ...]
    engine: str | None = None
    opa_url: str | None = None

    @classmethod
    def of(cls, args: Any, pack: Path) -> Settings:
        """From the gate options of ``render``/``publish``; policies default to the pack's."""
        return cls(
            pack=args.pack,
            policies=tuple(args.policy or [pack / "policies"]),
            data=tuple(args.data or [pack / "policies" / "data"]),
            engine=args.engine,
            opa_url=args.opa_url,
        )


@dataclass(frozen=True)
class Output:
    """One cluster, rendered and gated: its files as bytes, in render order."""

    name: str
    file: str
    files: tuple[tuple[str, bytes], ...]
    results: tuple[CheckResult, ...]
    findings: tuple[Finding, ...]

    @property
    def failed(self) -> bool:
        return any(f.severity == "error" for f in self.findings)


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


_GATE: Gate | None = None  # one per worker process, opened by _start
_BUILDS: Builds | None = None  # the overlay builds this worker has done, for this run


def _start(settings: Settings) -> None:
    global _GATE, _BUILDS
    _GATE = Gate.open(
        settings.policies, settings.data, engine=settings.engine, opa_url=settings.opa_url
    )
    _BUILDS = Builds()


def _work(args: tuple[Path, Settings]) -> Output:
    from pipeline.flow import render_cluster
    from pipeline.kustomize.output import dump, file_names, ordered
    from pipeline.values.cluster import read_cluster_file

    path, settings = args
    assert _GATE is not None and _BUILDS is not None, "worker started without its gate"
    cluster = read_cluster_file(path, settings.pack)
    rendered = render_cluster(cluster, _GATE, _BUILDS)
    items = ordered(rendered.bundle.resources)
    names = file_names(items, Path(cluster.name))
    memo = _BUILDS.memo
    files = tuple(
        (n, memo.get("yaml", r.body, lambda body: dump(body).encode()))
        for n, r in zip(names, items, strict=True)
    )
    return Output(
        cluster.name, cluster.file, files, rendered.results, tuple(rendered.bundle.findings)
    )


def render_many(paths: Sequence[Path], settings: Settings, jobs: int) -> Iterator[Output]:
    """Render and gate every cluster file; yields in the order of ``paths``."""
    if jobs <= 1 or len(paths) <= 1:
        _start(settings)
        try:
            for path in paths:
                yield _work((path, settings))
        finally:
            _stop()
        return
    from pipeline.gate.engines.opa_embedded import GO_ENVIRONMENT

    for key, value in GO_ENVIRONMENT.items():  # read by the Go runtime at a worker's start
        os.environ.setdefault(key, value)
    context = multiprocessing.get_context("forkserver" if os.name == "posix" else "spawn")
    chunk = max(1, min(32, len(paths) // (jobs * 8)))
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_start, initargs=(settings,)
    ) as pool:
        yield from pool.map(_work, [(p, settings) for p in paths], chunksize=chunk)


def _stop() -> None:
    global _GATE, _BUILDS
    _BUILDS = None
    if _GATE is not None:
        _GATE.close()
        _GATE = None
