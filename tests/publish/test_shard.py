"""Shards staged by separate processes combine into exactly the single-run commit;
--changed-since picks the clusters whose inputs changed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.fleet import write_fleet
from pipeline.cli.main import main
from pipeline.publish.shard import parse_shard, select_changed, select_shard
from tests.conftest import ROOT


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(cwd), *args], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    """A copy of the pack with a generated fleet, committed in its own git repo."""
    copy = tmp_path / "pack"
    for name in ("base", "overlays", "policies"):
        shutil.copytree(ROOT / name, copy / name)
    write_fleet(copy / "clusters", 9, seed=2)
    git(tmp_path, "init", "-q", "-b", "main", str(copy))
    git(copy, "add", "-A")
    git(copy, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "fleet")
    return copy


def test_three_shards_in_three_processes_make_the_single_run_commit(
    pack: Path, tmp_path: Path
) -> None:
    base = [
        sys.executable,
        "-m",
        "pipeline.cli.main",
        "publish",
        "--all",
        "--pack",
        str(pack),
        "--quiet",
        "-j",
        "1",
    ]
    stages = [tmp_path / f"stage{k}" for k in (1, 2, 3)]
    procs = [
        subprocess.Popen(
            [*base, "--deploy-repo", "unused", "--shard", f"{k}/3", "--stage", str(stage)]
        )
        for k, stage in zip((1, 2, 3), stages, strict=True)
    ]
    assert [p.wait() for p in procs] == [0, 0, 0]
    combined, single = tmp_path / "combined", tmp_path / "single"
    assert (
        main(
            [
                "publish",
                "--deploy-repo",
                str(combined),
                "--quiet",
                *[arg for s in stages for arg in ("--from-stage", str(s))],
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "publish",
                "--all",
                "--pack",
                str(pack),
                "--deploy-repo",
                str(single),
                "--quiet",
                "-j",
                "1",
            ]
        )
        == 0
    )
    assert git(combined, "ls-tree", "-r", "HEAD") == git(single, "ls-tree", "-r", "HEAD")
    assert git(combined, "log", "--format=%s%n%b") == git(single, "log", "--format=%s%n%b")
    assert len(git(combined, "log", "--oneline").splitlines()) == 1


def test_missing_or_repeated_shards_are_refused(
    pack: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stage = tmp_path / "stage1"
    assert (
        main(
            [
                "publish",
                "--all",
                "--pack",
                str(pack),
                "--deploy-repo",
                "x",
                "--shard",
                "1/2",
                "--stage",
                str(stage),
                "--quiet",
                "-j",
                "1",
            ]
        )
        == 0
    )
    assert main(["publish", "--deploy-repo", str(tmp_path / "d"), "--from-stage", str(stage)]) == 3
    assert "publish needs every shard 1..N exactly once" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()
    assert (
        main(["publish", "--all", "--pack", str(pack), "--deploy-repo", "x", "--shard", "1/2"]) == 2
    )


def test_shards_partition_the_fleet() -> None:
    files = [Path(f"c{i:02d}.yaml") for i in range(10)]
    parts = [select_shard(files, (k, 3)) for k in (1, 2, 3)]
    assert sorted(p for part in parts for p in part) == files
    assert parts[0] == [Path("c00.yaml"), Path("c03.yaml"), Path("c06.yaml"), Path("c09.yaml")]
    with pytest.raises(Exception, match="expected K/N"):
        parse_shard("4/3")


def test_changed_since_picks_changed_clusters_or_all_of_them(pack: Path) -> None:
    files = sorted((pack / "clusters").glob("*.yaml"))
    assert select_changed(files, pack, "HEAD") == []
    one = files[4]
    one.write_text(
        one.read_text()
        .replace("blockSize: 24", "blockSize: 28")
        .replace("blockSize: 26", "blockSize: 28")
    )
    assert select_changed(files, pack, "HEAD") == [one]
    with (pack / "base" / "calico-config.yaml").open("a") as out:
        out.write("# touched\n")
    assert select_changed(files, pack, "HEAD") == files
    with pytest.raises(Exception, match="not a commit"):
        select_changed(files, pack, "no-such-ref")
