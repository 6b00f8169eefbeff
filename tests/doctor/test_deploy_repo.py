"""doctor --deploy-repo: the cluster compared with what the deploy repo holds for it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.cli.main import main
from tests.conftest import ROOT
from tests.doctor import builder
from tests.doctor.conftest import Doctor


@pytest.fixture
def published(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    """A copy of the pack with aws-prod-1 published into a new deploy repo."""
    pack = tmp_path / "pack"
    for name in ("base", "overlays", "policies", "clusters"):
        shutil.copytree(ROOT / name, pack / name)
    deploy = tmp_path / "deploy"
    cluster = pack / "clusters/aws-prod-1.yaml"
    args = ["publish", str(cluster), "--deploy-repo", str(deploy), "--quiet", "-j", "1"]
    assert main(args) == 0
    capsys.readouterr()
    return cluster, deploy


def test_the_deploy_repos_manifests_are_the_reference(
    published: tuple[Path, Path], doctor: Doctor
) -> None:
    cluster, deploy = published
    snapshot = builder.healthy(cluster)
    assert doctor(snapshot, cluster, "--deploy-repo", str(deploy)) == 0
    # A value changed in the cluster file but not yet published: the cluster still
    # matches the deploy repo, and differs from the new render.
    cluster.write_text(cluster.read_text().replace("Always", "CrossSubnet"))
    assert doctor(snapshot, cluster, "--deploy-repo", str(deploy), "--format", "json") == 0
    assert doctor(snapshot, cluster, "--format", "json") == 1
    assert "doctor.pool_encapsulation" in {f["rule"] for f in doctor.failures()}


def test_a_cluster_the_deploy_repo_does_not_hold_exits_3(
    published: tuple[Path, Path], doctor: Doctor
) -> None:
    cluster, deploy = published
    other = cluster.parent / "gcp-us-1.yaml"
    assert doctor(builder.healthy(other), other, "--deploy-repo", str(deploy)) == 3
    assert doctor.err == (
        f"gcp-us-1: error: {deploy} main doctor --deploy-repo: holds no"
        " clusters/gcp-us-1/calico (publish it first)\n"
    )
