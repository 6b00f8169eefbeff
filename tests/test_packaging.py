"""What the wheel ships: the package with py.typed (PEP 561) and python -m pipeline."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT


def test_the_wheel_ships_py_typed_and_the_main_module(tmp_path: Path) -> None:
    pytest.importorskip("setuptools")  # built offline, with this environment's setuptools
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "pipeline", source / "pipeline", ignore=shutil.ignore_patterns("__pycache__")
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path / "dist"),
            str(source),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    (wheel,) = (tmp_path / "dist").glob("netpack-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"pipeline/py.typed", "pipeline/__main__.py", "pipeline/values/schema.py"} <= names
    assert not any(n.startswith(("tests/", "bench/")) for n in names)
