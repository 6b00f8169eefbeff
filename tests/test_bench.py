"""The benchmark helpers (bench/) measure what they say: documents per second."""

from __future__ import annotations

from pathlib import Path

import pytest

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


def test_bench_fleet_prints_every_scenario_and_the_stages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bench.__main__ import STAGES, bench_fleet

    bench_fleet([4], 1, 1, tmp_path)
    out = capsys.readouterr().out.splitlines()
    rows = [line.split() for line in out if line.strip().startswith("4 ")]
    assert len(rows) == 2, out  # the publish row and the stage row
    publish, stages = rows
    assert all(float(x.rstrip("s")) > 0 for x in publish[1:4])  # cold, clusters/s, no change
    assert len(stages) == 1 + len(STAGES) + 3
    assert float(stages[len(STAGES) + 1]) > 0  # gate documents per second
    assert any("kubectl kustomize" in line for line in out)
