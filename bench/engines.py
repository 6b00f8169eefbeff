"""Policy engine throughput, for ``python -m bench`` and its tests."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from pipeline.gate.engines.choose import make_engine
from pipeline.gate.engines.protocol import Engine


def bench_engine(
    name: str,
    docs: list[Any],
    *,
    modules: Mapping[str, str] | None = None,
    data: Mapping[str, Any] | None = None,
    opa_url: str | None = None,
) -> float:
    """Documents per second for ``evaluate("data.main", doc, extra_data=...)`` over ``docs``.

    ``modules`` and ``data`` default to the engine tests' policy set
    (tests/gate/fixtures/policy, in the source tree).  Load time is excluded.
    """
    if modules is None:
        from pathlib import Path

        root = Path(__file__).resolve().parents[1] / "tests" / "gate" / "fixtures" / "policy"
        modules = {str(p.relative_to(root.parent)): p.read_text() for p in root.rglob("*.rego")}
        data = {"clouds": {"settings": {"azure": {"min_replicas": 2}}}} if data is None else data
    engine = make_engine(name, opa_url=opa_url)
    try:
        engine.load(modules, data or {})
        return bench_loaded(engine, docs)
    finally:
        engine.close()


def bench_loaded(engine: Engine, docs: list[Any], query: str = "data.main") -> float:
    """Documents per second evaluating ``query`` with a conftest-style ``extra_data``."""
    extra = {"conftest": {"file": {"name": "bench.yaml", "dir": "/bench"}}}
    engine.evaluate(query, docs[0], extra_data=extra)  # warm up (prepare, bundle build)
    start = time.perf_counter()
    for doc in docs:
        engine.evaluate(query, doc, extra_data=extra)
    return len(docs) / (time.perf_counter() - start)
