"""Schema validation throughput, for ``python -m bench`` and its tests."""

from __future__ import annotations

import time
from collections.abc import Sequence

from pipeline.gate.schema.validate import Validator
from pipeline.model.resource import Resource


def bench_validate(resources: Sequence[Resource], version: str, rounds: int) -> tuple[float, float]:
    """(cold, warm) documents per second.  Cold: a new ``Validator``'s first pass (reading
    the release's schemas included).  Warm: ``rounds`` more passes with the schemas
    compiled but no verdict remembered, as for clusters that share no object."""
    validator = Validator()
    start = time.perf_counter()
    validator.validate_resources(resources, version)
    cold = len(resources) / (time.perf_counter() - start)
    elapsed = 0.0
    for _ in range(rounds):
        validator._results.clear()
        start = time.perf_counter()
        validator.validate_resources(resources, version)
        elapsed += time.perf_counter() - start
    return cold, len(resources) * rounds / elapsed
