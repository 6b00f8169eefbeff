"""``netpack validate`` takes a v1 List item by item (as kubeconform does), so the
doctor fixtures' validation can fail: a wrong field in any item is found."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.cli.main import main
from tests.doctor import builder
from tests.doctor.conftest import IPPOOL_CRD, KDD


def validate(path: Path, *extra: str) -> int:
    return main(["validate", str(path), "--kubernetes-version", "1.32", "--no-color", *extra])


def test_a_wrong_field_in_a_list_item_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = builder.healthy(KDD)
    builder.find(snapshot, "DaemonSet", "calico-node")["status"]["numberReady"] = "3"
    pod = builder.calico_pod(snapshot, "aws-prod-1-worker-1")
    pod["status"]["containerStatuses"][0]["restarts"] = 1
    path = tmp_path / "s.json"
    path.write_text(json.dumps(snapshot))
    assert validate(path, "--crd", str(IPPOOL_CRD)) == 1
    out = capsys.readouterr().out
    assert (
        f"FAIL - {path} - schema - DaemonSet/calico-node: status.numberReady: expected integer,"
        ' got string "3"'
    ) in out
    assert "status.containerStatuses[0].restarts: unknown field" in out


def test_an_ippool_needs_its_crd(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(builder.healthy(KDD)))
    assert validate(path) == 1
    assert "no CustomResourceDefinition among the manifests or pre-installed ones defines" in (
        capsys.readouterr().out
    )


def test_a_list_item_that_is_no_object_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"apiVersion": "v1", "kind": "List", "items": [3]}')
    assert validate(path) == 3
    assert capsys.readouterr().err == (
        f"netpack: error: {path} doc 0 items[0]: expected an object (a Kubernetes manifest), got"
        " integer\n"
    )
