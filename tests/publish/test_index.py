"""The deploy index: unchanged cluster files are not even parsed, and a stale index is never trusted."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pipeline import flow
from pipeline.model.cluster import Cluster
from tests.publish.test_commit import EXAMPLES, commit_all, count, head, make_pack, publish, sh


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tests.publish.test_commit import isolate

    isolate(monkeypatch, tmp_path / "home")


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The cluster files each publish parsed (``flow.read`` is stage 2)."""
    calls: list[list[str]] = []
    real = flow.read

    def spy(files: Sequence[Path], pack: Path | None, data: Any = None) -> list[Cluster]:
        calls.append(sorted(Path(f).name for f in files))
        return real(files, pack, data)

    monkeypatch.setattr(flow, "read", spy)
    return calls


def index(deploy: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(sh(deploy, "cat-file", "blob", "refs/netpack/index/main"))
    return data


def args(pack: Path, deploy: Path) -> list[str]:
    return ["--all", "--pack", str(pack), "--deploy-repo", str(deploy), "--quiet"]


def test_an_unchanged_fleet_is_kept_without_parsing_a_file(
    tmp_path: Path, reads: list[list[str]]
) -> None:
    pack, deploy = make_pack(tmp_path), tmp_path / "deploy"
    assert publish(*args(pack, deploy)) == 0
    recorded = index(deploy)
    assert recorded["tip"] == head(deploy)
    clusters = recorded["clusters"]
    assert isinstance(clusters, dict) and sorted(clusters) == sorted(EXAMPLES)
    assert all(e["file"] == f"clusters/{n}.yaml" for n, e in clusters.items())
    assert all(str(e["fileDigest"]).startswith("sha256:") for e in clusters.values())
    provenance = json.loads(
        (deploy / "clusters/aws-prod-1/calico/.netpack/provenance.json").read_text()
    )
    assert clusters["aws-prod-1"]["inputsDigest"] == provenance["cluster"]["inputsDigest"]
    assert publish(*args(pack, deploy)) == 0
    assert reads == [sorted(f"{n}.yaml" for n in EXAMPLES), []]
    assert count(deploy) == 1


def test_an_edited_comment_parses_that_file_only_and_commits_nothing(
    tmp_path: Path, reads: list[list[str]]
) -> None:
    pack, deploy = make_pack(tmp_path), tmp_path / "deploy"
    assert publish(*args(pack, deploy)) == 0
    before = index(deploy)
    cluster = pack / "clusters" / "azure-eu-1.yaml"
    cluster.write_text(cluster.read_text() + "# reviewed\n")
    assert publish(*args(pack, deploy)) == 0
    assert count(deploy) == 1  # same values: nothing to publish
    after = index(deploy)
    assert after["clusters"] != before["clusters"]  # the new file digest is recorded
    assert publish(*args(pack, deploy)) == 0
    assert reads[1:] == [["azure-eu-1.yaml"], []]


def test_a_commit_not_made_by_netpack_makes_the_index_stale(
    tmp_path: Path, reads: list[list[str]]
) -> None:
    pack, deploy = make_pack(tmp_path), tmp_path / "deploy"
    assert publish(*args(pack, deploy)) == 0
    # Someone edits a rendered file in the deploy repo: the index no longer describes the tip.
    manifest = deploy / "clusters/vmware-dc1/calico/apps_v1_daemonset_calico-node.yaml"
    manifest.write_text(manifest.read_text().replace("calico-node", "calico-nodes", 1))
    commit_all(deploy, "hand edit")
    assert index(deploy)["tip"] != head(deploy)
    assert publish(*args(pack, deploy)) == 0
    assert reads[1] == sorted(f"{n}.yaml" for n in EXAMPLES)  # every file read again
    assert index(deploy)["tip"] == head(deploy)


def test_a_change_to_the_base_renders_every_cluster(
    tmp_path: Path, reads: list[list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    pack, deploy = make_pack(tmp_path), tmp_path / "deploy"
    assert publish(*args(pack, deploy)) == 0
    kustomization = pack / "base" / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "# changes the pack's tree digest\n")
    capsys.readouterr()
    assert publish(*args(pack, deploy)[:-1]) == 0  # not --quiet: it says what it kept
    assert "unchanged since the last publish" not in capsys.readouterr().err
    assert reads[1] == sorted(f"{n}.yaml" for n in EXAMPLES)
    assert count(deploy) == 2  # new inputs digests in the provenance records
    assert index(deploy)["tip"] == head(deploy)
    assert publish(*args(pack, deploy)) == 0
    assert reads[2] == []  # the index now has the new shared digest


def test_a_new_file_reusing_a_kept_clusters_name_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack, deploy = make_pack(tmp_path), tmp_path / "deploy"
    assert publish(*args(pack, deploy)) == 0
    twin = pack / "clusters" / "twin.yaml"
    twin.write_text((pack / "clusters" / "aws-prod-1.yaml").read_text() + "# a copy\n")
    capsys.readouterr()
    assert publish(*args(pack, deploy)) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "twin.yaml" in err[0] and "clusters/aws-prod-1.yaml" in err[0]
    assert count(deploy) == 1


def test_a_missing_or_unreadable_cluster_file_is_bad_input_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack, deploy = make_pack(tmp_path), tmp_path / "deploy"
    (tmp_path / "dir.yaml").mkdir()
    good = str(pack / "clusters" / "aws-prod-1.yaml")
    missing, directory = str(tmp_path / "nosuch.yaml"), str(tmp_path / "dir.yaml")
    capsys.readouterr()
    assert publish(good, missing, directory, "--pack", str(pack), "--deploy-repo", str(deploy)) == 3
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"netpack: error: {missing} read: no such file",
        f"netpack: error: {directory} read: is a directory, not a file",
    ]
    assert not deploy.exists()
