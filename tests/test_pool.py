"""Fleet runs: the same bytes for any --jobs, progress lines off a TTY, errors across processes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bench.fleet import write_fleet
from pipeline.cli.main import main
from tests.conftest import ROOT, proc_files


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_jobs_1_and_jobs_2_give_the_same_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [str(p) for p in write_fleet(tmp_path / "fleet", 18, seed=5)]
    base = ["render", *paths, "--pack", str(ROOT), "--no-color"]
    assert main([*base, "-o", str(tmp_path / "one"), "-j", "1"]) == 0
    assert main([*base, "-o", str(tmp_path / "two"), "-j", "2"]) == 0
    one, two = tree(tmp_path / "one"), tree(tmp_path / "two")
    assert len(one) > 18 * 15
    assert one == two
    err = capsys.readouterr().err
    assert "18 clusters in " in err and "18 passed the gate, 0 failed" in err


def test_a_failure_in_a_worker_is_a_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = write_fleet(tmp_path / "fleet", 4)
    broken = tmp_path / "fleet" / "broken"
    broken.mkdir()
    (broken / "kustomization.yaml").write_text("resources: [../../nowhere]\n")
    paths[3].write_text(paths[3].read_text() + "overlay: broken\n")
    code = main(
        [
            "render",
            *map(str, paths),
            "--pack",
            str(ROOT),
            "-o",
            str(tmp_path / "out"),
            "-j",
            "2",
            "--quiet",
        ]
    )
    assert code == 3
    assert (
        "broken/kustomization.yaml resources[0] (../../nowhere): no such file or directory"
        in capsys.readouterr().err
    )
    assert not (tmp_path / "out").exists()


def test_progress_lines_follow_the_input_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline import progress

    monkeypatch.setattr(progress, "EVERY_CLUSTERS", 1)  # a line for each cluster
    paths = [str(p) for p in write_fleet(tmp_path / "fleet", 3)]
    assert (
        main(
            [
                "render",
                *paths,
                "--pack",
                str(ROOT),
                "-o",
                str(tmp_path / "out"),
                "-j",
                "2",
                "--no-color",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().err.splitlines()
    shown = [line.split(" (")[0] for line in lines[:3]]
    assert shown == ["[1/3] aws-00000: ok", "[2/3] vmware-00001: ok", "[3/3] azure-00002: ok"]


def test_shared_overlay_builds_give_each_cluster_its_own_render(tmp_path: Path) -> None:
    """``flow.Builds`` (what the workers use) renders exactly what a build per cluster does,
    in any order, and a failing build is not kept: every cluster on it gets the error."""
    from pipeline.errors import KustomizationError
    from pipeline.flow import render_cluster
    from pipeline.kustomize.builds import Builds
    from pipeline.kustomize.output import dump
    from pipeline.values.cluster import read_cluster_file

    clusters = [read_cluster_file(p, ROOT) for p in write_fleet(tmp_path / "fleet", 30, seed=9)]
    alone = {c.name: [dump(r.body) for r in render_cluster(c, None).resources] for c in clusters}
    builds = Builds()
    for cluster in [*clusters[::-1], *clusters]:
        shared = render_cluster(cluster, None, builds).resources
        assert [builds.memo.get("yaml", r.body, dump) for r in shared] == alone[cluster.name]
    assert len(builds._done) == 12  # six clouds x two datastores

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "kustomization.yaml").write_text("resources: [missing.yaml]\n")
    for cluster in clusters[:2]:
        with pytest.raises(KustomizationError, match=r"missing\.yaml"):
            render_cluster(dataclasses.replace(cluster, overlay=broken), None, builds)


def _session_members(sid: int) -> list[str]:
    found = []
    for stat in proc_files("stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # gone meanwhile
        fields = text.rsplit(")", 1)[1].split()
        if int(fields[3]) == sid:  # field 6 of /proc/PID/stat: the session id
            found.append(text.split(" ", 1)[1].rsplit(")", 1)[0] + ")")
    return found


def test_no_process_outlives_a_fleet_run(tmp_path: Path) -> None:
    """The worker pool's processes, its forkserver and resource tracker end with the command."""
    import subprocess
    import sys
    import time

    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc to see a session's processes")
    paths = [str(p) for p in write_fleet(tmp_path / "fleet", 6, seed=2)]
    script = Path(sys.executable).parent / "netpack"
    command = [str(script), "render", *paths, "--pack", str(ROOT), "-o", str(tmp_path / "out")]
    proc = subprocess.Popen(
        [*command, "-j", "2", "--quiet"], start_new_session=True, stderr=subprocess.PIPE
    )
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    time.sleep(0.2)  # an orphan would still be running (or a zombie) by now
    assert _session_members(proc.pid) == []
