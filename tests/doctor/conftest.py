"""Shared doctor fixtures: write a snapshot, run ``netpack doctor`` on it, validate it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipeline.cli.main import main
from tests.conftest import ROOT

IPPOOL_CRD = ROOT / "base/components/kubernetes/crds/crd.projectcalico.org_ippools.yaml"
KDD = ROOT / "clusters/aws-prod-1.yaml"
ETCD = ROOT / "clusters/vmware-dc1.yaml"


def claimed_version(snapshot: dict[str, Any]) -> str:
    """The Kubernetes minor the snapshot's kubelets report, e.g. ``1.32``."""
    versions = {
        ".".join(i["status"]["nodeInfo"]["kubeletVersion"].lstrip("v").split(".")[:2])
        for i in snapshot["items"]
        if i["kind"] == "Node"
    }
    assert len(versions) == 1, versions
    return versions.pop()


def validate(path: Path, snapshot: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """``netpack validate`` the snapshot file against its version and the IPPool CRD."""
    version = claimed_version(snapshot)
    code = main(
        [
            *("validate", str(path), "--kubernetes-version", version),
            *("--crd", str(IPPOOL_CRD), "--no-color"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out


class Doctor:
    """Run ``netpack doctor CLUSTER --snapshot FILE`` and keep what it printed."""

    def __init__(self, tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.tmp = tmp
        self.capsys = capsys
        self.out = self.err = ""

    def write(self, snapshot: dict[str, Any], name: str = "snapshot.json") -> Path:
        path = self.tmp / name
        path.write_text(json.dumps(snapshot, indent=4, sort_keys=True) + "\n")
        return path

    def __call__(
        self, snapshot: dict[str, Any], cluster: Path = KDD, *extra: str, check: bool = True
    ) -> int:
        path = self.write(snapshot)
        if check:  # every fixture keeps the API's real shapes
            validate(path, snapshot, self.capsys)
        code = main(["doctor", str(cluster), "--snapshot", str(path), "--no-color", *extra])
        captured = self.capsys.readouterr()
        self.out, self.err = captured.out, captured.err
        return code

    def failures(self) -> list[dict[str, Any]]:
        """The failures of the last run as (rule, msg) from its JSON report."""
        assert self.out.startswith("["), "run with --format json"
        return [
            {"rule": r["namespace"], **f}
            for r in json.loads(self.out)
            for f in r.get("failures", [])
        ]


@pytest.fixture
def doctor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Doctor:
    return Doctor(tmp_path, capsys)
