"""The command line: exit codes, one-line errors, nothing half-written, determinism."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli.main import main
from tests.conftest import ROOT


def netpack(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_render_example_fleet_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    clusters = sorted(str(p) for p in (ROOT / "clusters").glob("*.yaml"))
    first, second = tmp_path / "a", tmp_path / "b"
    assert main(["render", *clusters, "-o", str(first)]) == 0
    assert main(["render", *clusters, "-o", str(second)]) == 0
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert len(files) > 7 * 15
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes()
    assert (first / "aws-prod-1" / "apps_v1_daemonset_calico-node.yaml").exists()


def test_render_one_cluster_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", str(ROOT / "clusters" / "azure-eu-1.yaml")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n")
    assert "calico_backend: vxlan" in out and "-bird-live" not in out


def test_build_directory_like_kubectl(tmp_path: Path) -> None:
    assert main(["build", str(ROOT / "overlays" / "aws"), "-o", str(tmp_path / "out")]) == 0
    assert len(list((tmp_path / "out").iterdir())) == 15


def test_ops_prints_a_kustomization(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["ops", str(ROOT / "clusters" / "aws-prod-1.yaml"), "--relative-to", str(ROOT)]) == 0
    )
    out = capsys.readouterr().out
    assert "resources:\n- overlays/aws\n" in out
    assert "components:\n- base/components/kubernetes\n" in out
    assert "value: 10.244.0.0/16" in out


BAD_CLUSTER = "name: c\ncloud: aws\nkubernetes: {version: '1.32', podCIDR: 10.1.0.0/16, serviceClusterIpRange: 10.96.0.0/12}\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            BAD_CLUSTER + "values: {calico: {encapsulationMode: sometimes}}\n",
            "c.yaml values.calico.encapsulationMode: 'sometimes' is not one of Always, CrossSubnet, Never",
        ),
        (BAD_CLUSTER.replace("cloud: aws", "cloud: moon"), "c.yaml cloud: unknown cloud 'moon'"),
        (
            BAD_CLUSTER + "values: {calico: {calicoNetworkCIDR: 10.1.0.1/16}}\n",
            "c.yaml values.calico.calicoNetworkCIDR: 10.1.0.1/16 is not in canonical form; write 10.1.0.0/16",
        ),
        ("name: [\n", "c.yaml parse: line 2"),
    ],
)
def test_bad_cluster_exits_3_with_one_line_and_writes_nothing(
    tmp_path: Path, content: str, message: str
) -> None:
    (tmp_path / "c.yaml").write_text(content)
    good = ROOT / "clusters" / "aws-prod-1.yaml"
    proc = netpack(
        "render",
        str(good),
        str(tmp_path / "c.yaml"),
        "--pack",
        str(ROOT),
        "-o",
        str(tmp_path / "out"),
        cwd=tmp_path,
    )
    assert proc.returncode == 3
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"netpack: error: {message}"), proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_missing_directory_is_a_clean_error() -> None:
    proc = netpack("build", "no/such/dir")
    assert proc.returncode == 3
    assert (
        proc.stderr
        == "netpack: error: no/such/dir load: no kustomization file (kustomization.yaml, kustomization.yml, Kustomization) in this directory\n"
    )


def test_usage_errors_exit_2() -> None:
    assert netpack("render").returncode == 2
    proc = netpack("render", "clusters/aws-prod-1.yaml", "clusters/gcp-us-1.yaml")
    assert proc.returncode == 2
    assert (
        proc.stderr
        == "netpack: error: several clusters need -o DIR (one sub-directory per cluster)\n"
    )


def test_duplicate_cluster_names_are_refused(tmp_path: Path) -> None:
    copy = tmp_path / "copy.yaml"
    copy.write_text((ROOT / "clusters" / "aws-prod-1.yaml").read_text())
    proc = netpack("render", "clusters/aws-prod-1.yaml", str(copy), "-o", str(tmp_path / "out"))
    assert proc.returncode == 3  # bad input, as README says
    assert proc.stderr.endswith(
        " name: cluster name 'aws-prod-1' is used by clusters/aws-prod-1.yaml too\n"
    )


def test_help_is_there_for_every_command() -> None:
    for command in ("build", "render", "ops"):
        proc = netpack(command, "--help")
        assert proc.returncode == 0 and "usage: netpack" in proc.stdout


COMMANDS = (
    "build",
    "render",
    "context",
    "ops",
    "test",
    "parse",
    "verify",
    "validate",
    "publish",
    "diff",
)


def test_top_level_help_lists_every_command_and_a_typo_names_them() -> None:
    proc = netpack("--help")
    assert proc.returncode == 0
    listed = [line.split()[0] for line in proc.stdout.splitlines() if line.startswith("    ")]
    assert tuple(w for w in listed if w in COMMANDS) == COMMANDS
    proc = netpack("biuld", "overlays/aws")
    assert proc.returncode == 2
    assert "invalid choice: 'biuld' (choose from " + ", ".join(f"'{c}'" for c in COMMANDS) in (
        proc.stderr
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_parses_its_own_options(command: str) -> None:
    proc = netpack(command, "--help")
    assert proc.returncode == 0 and proc.stdout.startswith(f"usage: netpack {command} ")


def test_build_imports_no_other_command_nor_heavy_modules() -> None:
    """Start-up time: ``netpack build`` loads only what a build needs (the bench times it).

    ``json`` is one of those now: the ``jsonpatch`` library that applies the patches
    imports it (~1.3 ms of a ~55 ms process, which stays below ``kubectl kustomize``).
    """
    code = (
        "import sys; from pipeline.cli.main import main; main(['build', 'overlays/aws']);"
        "print(sorted(m for m in sys.modules if m in ('dataclasses', 'inspect', 'shutil')"
        " or m.startswith(('pipeline.gate', 'pipeline.gate.schema', 'pipeline.publish.commit'))),"
        " file=sys.stderr)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert proc.stderr == "[]\n"


def test_the_quick_exit_runs_atexit_handlers_and_flushes_everything(tmp_path: Path) -> None:
    """``run`` skips the interpreter's teardown, nothing a user can observe."""
    code = (
        "import atexit, sys; from pipeline.cli.main import run;"
        "atexit.register(lambda: print('atexit ran', file=sys.stderr));"
        "sys.argv = ['netpack', 'render', 'clusters/aws-prod-1.yaml']; run()"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr.endswith("atexit ran\n")
    assert proc.stdout == netpack("render", "clusters/aws-prod-1.yaml").stdout
    assert proc.stdout.count("\nkind: ") + proc.stdout.startswith("kind: ") > 30
    failing = netpack("build", str(tmp_path))
    assert (failing.returncode, failing.stdout) == (3, "")


def test_a_reader_that_stops_early_is_no_error() -> None:
    cmd = f"{sys.executable} -m pipeline.cli.main build overlays/aws | head -n 1"
    proc = subprocess.run(cmd, shell=True, cwd=ROOT, capture_output=True, text=True)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "apiVersion: v1\n", "")
