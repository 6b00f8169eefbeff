"""netpack diff against a real deploy repo: exit codes like flux diff, three formats."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.cli.main import main
from tests.conftest import ROOT


@pytest.fixture
def published(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    """A copy of the pack whose example fleet is published into a new deploy repo."""
    pack = tmp_path / "pack"
    for name in ("base", "overlays", "policies", "clusters"):
        shutil.copytree(ROOT / name, pack / name)
    deploy = tmp_path / "deploy"
    code = main(
        [
            "publish",
            "--all",
            "--pack",
            str(pack),
            "--deploy-repo",
            str(deploy),
            "--quiet",
            "-j",
            "1",
        ]
    )
    assert code == 0
    capsys.readouterr()
    return pack, deploy


def test_no_change_exits_0(
    published: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    pack, deploy = published
    assert main(["diff", "--all", "--pack", str(pack), "--deploy-repo", str(deploy)]) == 0
    assert capsys.readouterr().out.startswith("0 clusters changed")


def test_one_value_changed_exits_1_with_the_change_and_its_note(
    published: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    pack, deploy = published
    cluster = pack / "clusters" / "aws-prod-1.yaml"
    cluster.write_text(
        cluster.read_text().replace("encapsulationMode: Always", "encapsulationMode: CrossSubnet")
    )
    args = ["diff", "--all", "--pack", str(pack), "--deploy-repo", str(deploy)]
    assert main([*args, "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["total"] == {"added": 0, "changed": 1, "removed": 0}
    [change] = report["changes"]
    assert (change["cluster"], change["resource"]) == (
        "aws-prod-1",
        "DaemonSet/kube-system/calico-node",
    )
    assert any("install-time" in note or "existing IPPool" in note for note in change["notes"]), (
        change["notes"]
    )
    assert main([*args, "--format", "markdown"]) == 1
    assert "| aws-prod-1 | 0 | 1 | 0 |" in capsys.readouterr().out
    assert main([*args, "--no-color"]) == 1
    text = capsys.readouterr().out
    assert "\n-          value: Always\n+          value: CrossSubnet\n" in text, text


def test_a_removed_cluster_shows_as_removed(
    published: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    pack, deploy = published
    (pack / "clusters" / "gcp-us-1.yaml").unlink()
    assert (
        main(
            ["diff", "--all", "--pack", str(pack), "--deploy-repo", str(deploy), "--format", "json"]
        )
        == 1
    )
    assert json.loads(capsys.readouterr().out)["clusters"]["gcp-us-1"]["removed"] == 39


def test_nothing_published_yet_means_everything_is_added(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy = tmp_path / "empty"
    subprocess.run(["git", "init", "-q", "-b", "main", str(deploy)], check=True)
    cluster = ROOT / "clusters" / "azure-eu-1.yaml"
    assert main(["diff", str(cluster), "--deploy-repo", str(deploy), "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["total"]["added"] == 39


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (None, "no such deploy repo"),
        ("file", "is not a git repository"),
        ("directory", "is not a git repository"),
    ],
)
def test_a_deploy_repo_that_is_not_there_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: str | None, problem: str
) -> None:
    deploy = tmp_path / "no" / "such" / "dir"
    if make == "file":
        deploy.parent.mkdir(parents=True)
        deploy.write_text("x\n")
    elif make == "directory":
        (deploy / "sub").mkdir(parents=True)
    cluster = ROOT / "clusters" / "azure-eu-1.yaml"
    assert main(["diff", str(cluster), "--deploy-repo", str(deploy)]) == 3
    out = capsys.readouterr()
    assert out.out == ""
    [line] = out.err.splitlines()
    assert str(deploy) in line and problem in line and "diff" in line, line
    assert make is not None or not deploy.exists()  # diff never creates it


def test_the_summary_names_settings_and_the_real_gates_verdict(
    published: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    pack, deploy = published
    cluster = pack / "clusters" / "aws-prod-1.yaml"
    cluster.write_text(
        cluster.read_text().replace(
            "calicoNetworkCIDR: 10.244.0.0/16", "calicoNetworkCIDR: 10.245.0.0/16"
        )
    )
    args = ["diff", "--all", "--pack", str(pack), "--deploy-repo", str(deploy)]
    assert main([*args, "--format", "json"]) == 1  # the verdict is shown, the exit is diff's
    [(name, row)] = json.loads(capsys.readouterr().out)["summaries"].items()
    assert name == "aws-prod-1"
    assert row["pool CIDR"] == "10.244.0.0/16 -> 10.245.0.0/16"
    assert row["podCIDR"] == "10.244.0.0/16 (differs)"
    assert row["gate"]["verdict"] == "fail"
    assert any("does not match podCIDR" in m for m in row["gate"]["failures"])
    assert main([*args, "--format", "markdown"]) == 1
    markdown = capsys.readouterr().out
    table = markdown.index("| aws-prod-1 | IPIP | Always | 10.244.0.0/16 -> 10.245.0.0/16 |")
    assert table < markdown.index("<details>")
    assert "| FAIL: 1 failure" in markdown
