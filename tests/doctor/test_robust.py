"""Whatever a snapshot holds, doctor answers with findings or a bad-input error, never a crash.

A deterministic sample of single-field changes to a (not quite healthy) snapshot:
every field replaced by a value of another JSON type, a null, an empty object.
"""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from pipeline.doctor.checks import check
from pipeline.doctor.expect import expected
from pipeline.doctor.snapshot import parse_snapshot
from pipeline.errors import InputError
from pipeline.flow import render_cluster
from pipeline.values.cluster import read_cluster_file
from tests.doctor import builder
from tests.doctor.conftest import ETCD, KDD

WRONG: tuple[Any, ...] = ("x", ["x"], 7, True, None, {}, "10.0.0.0/33")


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path] if len(path) >= 3 else []  # items.N.field and below
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*path, index))
    return found


@pytest.mark.parametrize("cluster_file", [KDD, ETCD], ids=["kdd", "etcd"])
def test_no_field_change_crashes_doctor(cluster_file: Any) -> None:
    cluster = read_cluster_file(cluster_file)
    want = expected(cluster, [r.body for r in render_cluster(cluster).resources], "render")
    base = builder.healthy(cluster_file, workers=1)
    builder.bird_not_ready(base, f"{cluster.name}-worker-0")
    changes = [(path, bad) for path in _paths(base) for bad in WRONG]
    for path, bad in random.Random(12).sample(changes, 600):
        snapshot = copy.deepcopy(base)
        parent = snapshot
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = bad
        try:
            results = check(cluster, want, parse_snapshot(snapshot, "s.json"))
        except InputError:
            continue
        assert len(results) == 18, (path, bad)
