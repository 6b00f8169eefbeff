"""The benchmark helpers (bench/) measure what they say: documents per second."""

from __future__ import annotations

from bench.engines import bench_engine, bench_loaded
from bench.schema import bench_validate
from pipeline.gate.engines.choose import make_engine
from tests.gate.test_engines import DATA, SERVICE, deployment, modules
from tests.gate.test_schema import VERSION, documents


def test_bench_loaded_counts_documents() -> None:
    engine = make_engine("opa")
    engine.load(modules("policy"), DATA)
    assert bench_loaded(engine, [deployment("web"), SERVICE] * 5) > 0
    assert bench_engine("opa", [SERVICE]) > 0


def test_bench_validate_reports_documents_per_second() -> None:
    cold, warm = bench_validate(documents("daemonset.yaml") * 5, VERSION, 2)
    assert cold > 0 and warm > 0
