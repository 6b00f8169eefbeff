"""Incremental publish: the inputs digest notices every kind of input, and skips the rest."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.cli.main import main
from pipeline.publish import incremental
from pipeline.publish.incremental import inputs_digest
from pipeline.publish.provenance import values_digest
from pipeline.values.cluster import read_cluster
from tests.conftest import ROOT


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    copy = tmp_path / "pack"
    for name in ("base", "overlays", "policies", "clusters"):
        shutil.copytree(ROOT / name, copy / name)
    return copy


def digest(pack: Path, name: str = "aws-prod-1", policy: str = "p") -> str:
    incremental.tree_digest.cache_clear()
    cluster = read_cluster(pack / "clusters" / f"{name}.yaml", pack, name)
    return inputs_digest(cluster, values_digest(cluster), policy)


@pytest.mark.parametrize(
    "edit",
    [
        "base/calico-node.yaml",
        "base/components/kubernetes/crds/crd.projectcalico.org_ippools.yaml",
        "overlays/aws/kustomization.yaml",
        "overlays/azure/kustomization.yaml",  # any overlay: conservative
    ],
)
def test_a_pack_file_changes_the_digest(pack: Path, edit: str) -> None:
    before = digest(pack)
    with (pack / edit).open("a") as out:
        out.write("# edited\n")
    assert digest(pack) != before


def test_values_policies_and_code_change_the_digest(
    pack: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = digest(pack)
    assert digest(pack) == before  # stable
    path = pack / "clusters" / "aws-prod-1.yaml"
    path.write_text(
        path.read_text().replace("encapsulationMode: Always", "encapsulationMode: CrossSubnet")
    )
    changed = digest(pack)
    assert changed != before
    assert digest(pack, policy="q") != changed  # the policy set's digest (policies + data)
    monkeypatch.setattr(incremental, "code_digest", lambda: "other netpack")
    assert digest(pack) != changed


def test_publish_skips_unchanged_clusters_and_renders_changed_ones(
    pack: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy = tmp_path / "deploy"
    args = ["publish", "--all", "--pack", str(pack), "--deploy-repo", str(deploy), "-j", "1"]
    assert main([*args, "--quiet"]) == 0
    capsys.readouterr()
    assert main(args) == 0
    out = capsys.readouterr()
    assert "7 clusters unchanged since the last publish" in out.err
    assert "is up to date; nothing to publish" in out.out
    path = pack / "clusters" / "gcp-us-1.yaml"
    path.write_text(
        path.read_text().replace(
            "calicoNetworkCIDR: 10.30.0.0/16", "calicoNetworkCIDR: 10.30.0.0/16\n    blockSize: 24"
        )
    )
    assert main(args) == 0
    out = capsys.readouterr()
    assert "6 clusters unchanged" in out.err
    assert "1 cluster (changed gcp-us-1)" in out.out
    log = subprocess.run(
        ["git", "-C", str(deploy), "log", "--oneline"], capture_output=True, text=True
    )
    assert len(log.stdout.splitlines()) == 2
    # --full renders everything again, and finds nothing new to commit.
    assert main([*args, "--full", "--quiet"]) == 0
    log = subprocess.run(
        ["git", "-C", str(deploy), "log", "--oneline"], capture_output=True, text=True
    )
    assert len(log.stdout.splitlines()) == 2


def test_a_change_only_to_provenance_says_so_and_shows_no_empty_diff(
    pack: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A new policy that passes everything re-renders every cluster and changes only their
    provenance records: the output says that, not "0 clusters changed" then "7 changed"."""
    deploy = tmp_path / "deploy"
    args = ["publish", "--all", "--pack", str(pack), "--deploy-repo", str(deploy), "-j", "1"]
    assert main([*args, "--quiet"]) == 0
    (pack / "policies" / "never.rego").write_text(
        'package main\n\nwarn contains msg if {\n\tinput.kind == "NoSuchKind"\n\tmsg := "x"\n}\n'
    )
    capsys.readouterr()
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "clusters changed:" not in out
    assert "netpack: 7 clusters changed only in provenance.json" in out
    assert out.splitlines()[-1].split(": ", 2)[-1].startswith("7 clusters (changed ")


def test_another_cloud_or_overlay_changes_the_digest(pack: Path) -> None:
    """A cluster moved to another cloud changes neither the pack trees nor its values."""
    before = digest(pack)
    path = pack / "clusters" / "aws-prod-1.yaml"
    text = path.read_text()
    path.write_text(text.replace("cloud: aws", "cloud: vmware"))
    moved = digest(pack)
    assert moved != before
    path.write_text(text + "overlay: ../overlays/vmware\n")
    assert digest(pack) not in (before, moved)  # aws by name, the vmware overlay by path
    copy = pack.parent / "elsewhere"
    shutil.copytree(pack, copy)
    path.write_text(text)
    assert digest(copy) != digest(pack)  # (the copy still has the overlay: line)
    (copy / "clusters" / "aws-prod-1.yaml").write_text(text)
    assert digest(copy) == digest(pack)  # where the pack lives does not count
