"""The gate fails closed: a policy set that cannot deny, a policy that never finishes.

The CLI cases of each (exit code, one line, nothing written) are in
``tests/test_fault_corpus.py``; here are the mechanisms.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from pipeline.gate.check import Gate
from pipeline.gate.deadline import TimedOut, parse_seconds, within
from pipeline.gate.engines.protocol import PolicyError
from pipeline.options import GateSettings
from tests.conftest import ROOT, proc_files

SLOW = Path(__file__).parent / "fixtures" / "slow"


def _policies(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path


CANNOT_DENY = {
    "only tests and helpers": {
        "lib.rego": "package lib\n\nx := 1\n",
        "a_test.rego": "package main\n\ntest_a if { true }\n",
    },
    "renamed away from main": {"a.rego": 'package mine\n\ndeny contains "x" if { true }\n'},
    "warnings only": {"a.rego": 'package main\n\nwarn contains "x" if { true }\n'},
}


@pytest.mark.parametrize("case", sorted(CANNOT_DENY))
def test_a_policy_set_that_cannot_deny_is_refused(tmp_path: Path, case: str) -> None:
    policies = _policies(tmp_path, CANNOT_DENY[case])
    with pytest.raises(PolicyError) as raised:
        Gate.open([policies], [])
    assert str(raised.value).startswith(f"{policies} load policies: no deny or violation rule in")
    assert str(raised.value).endswith("this policy set can deny nothing")
    assert raised.value.exit_code == 3


def test_a_policy_set_with_a_deny_rule_opens(tmp_path: Path) -> None:
    policies = _policies(tmp_path, {"a.rego": 'package main\n\ndeny_x contains "x" if { false }\n'})
    Gate.open([policies], []).close()


def test_within_returns_raises_and_times_out() -> None:
    assert within(1.0, lambda: 7) == 7
    assert within(None, lambda: 8) == 8
    with pytest.raises(ZeroDivisionError):
        within(1.0, lambda: 1 // 0)
    start = time.monotonic()
    with pytest.raises(TimedOut):
        within(0.2, lambda: time.sleep(5))
    assert time.monotonic() - start < 2


@pytest.mark.parametrize("text", ["0", "-1", "x", "nan", "1e9"])
def test_policy_timeout_must_be_positive_seconds(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_seconds(text)
    assert parse_seconds("0.5") == 0.5


def test_default_timeout_is_60_seconds() -> None:
    assert GateSettings().timeout == 60.0
    assert GateSettings().resolved(ROOT).timeout == 60.0
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.cli.main", "render", "--help"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert "--policy-timeout SECONDS" in proc.stdout and "(default: 60)" in proc.stdout


def test_timeout_stops_every_worker(tmp_path: Path) -> None:
    """-j 2: each worker's stuck evaluation ends with the run; no process is left."""
    out = tmp_path / "out"
    mark = f"NETPACK_TEST_RUN={uuid.uuid4().hex}"
    start = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline.cli.main",
            "render",
            "clusters/aws-prod-1.yaml",
            "clusters/gcp-us-1.yaml",
            "-o",
            str(out),
            "-j",
            "2",
            "-p",
            str(SLOW),
            "--policy-timeout",
            "1",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=150,
        env={**os.environ, mark.split("=")[0]: mark.split("=")[1]},
    )
    time.sleep(0.5)  # the workers' exit may lag the main process by a moment
    assert proc.returncode == 3, proc.stderr
    assert "the policies did not finish within 1 s (--policy-timeout)" in proc.stderr
    assert f"{SLOW}/slow.rego" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()
    assert time.monotonic() - start < 120
    assert _marked(mark) == []


def _marked(mark: str) -> list[str]:
    """The processes whose environment holds ``mark`` (a run's workers inherit it)."""
    found = []
    for environ in proc_files("environ"):
        try:
            if mark.encode() in environ.read_bytes():
                found.append(environ.parent.name)
        except OSError:  # gone, or not ours
            continue
    return found
