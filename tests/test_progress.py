"""Colours only on a terminal and never with NO_COLOR; CI-quiet progress; --quiet is one line."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.progress import Progress
from pipeline.terminal import use_color
from tests.conftest import ROOT

ESC = "\x1b["


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _run(stream: io.StringIO, clock: _Clock, total: int, step: float, **kw: bool) -> None:
    progress = Progress(total, stream=stream, clock=clock, **kw)
    for i in range(total):
        clock.now += step
        progress.update(f"c{i}", "FAILED" if i == 7 else "ok", i == 7)
    progress.close()


def test_off_a_terminal_a_big_fleet_gets_a_line_per_tenth_not_per_cluster() -> None:
    out, clock = io.StringIO(), _Clock()
    _run(out, clock, 5000, 0.001)  # 5 s in all: no time-based lines
    lines = out.getvalue().splitlines()
    assert lines[0] == "[8/5000] c7: FAILED (1 failed, 0 s)"  # a failure is always named
    assert lines[1].startswith("[500/5000] c499: ok (1 failed, ")
    assert [line.split()[0] for line in lines[1:-1]] == [
        f"[{n}/5000]" for n in range(500, 5001, 500)
    ]
    assert lines[-1].startswith("5000 clusters in 5.00 s (1000/s): 4999 passed the gate, 1 failed")
    assert len(lines) == 12


def test_off_a_terminal_a_slow_fleet_gets_a_line_every_ten_seconds() -> None:
    out, clock = io.StringIO(), _Clock()
    _run(out, clock, 30, 4.0)
    lines = out.getvalue().splitlines()
    # a line 10 s after the last one (clusters end every 4 s), and the failure at 32 s
    assert [line.split(" (")[0] for line in lines[:5]] == [
        "[3/30] c2: ok",
        "[6/30] c5: ok",
        "[8/30] c7: FAILED",
        "[11/30] c10: ok",
        "[14/30] c13: ok",
    ]
    assert lines[4].endswith("(1 failed, 56 s)")
    assert len(lines) == 11 and lines[-2].startswith("[29/30] c28: ok")


def test_a_small_fleet_prints_only_its_summary_and_quiet_only_the_summary() -> None:
    out, clock = io.StringIO(), _Clock()
    _run(out, clock, 8, 0.1)
    assert out.getvalue().splitlines()[1:] == [
        "8 clusters in 0.80 s (10/s): 7 passed the gate, 1 failed"
    ]
    out = io.StringIO()
    _run(out, _Clock(), 5000, 0.001, quiet=True)
    assert out.getvalue() == "5000 clusters in 5.00 s (1000/s): 4999 passed the gate, 1 failed\n"
    out = io.StringIO()
    _run(out, _Clock(), 5000, 0.001, quiet=True, summary=False)
    assert out.getvalue() == ""


def test_use_color_needs_a_terminal_and_no_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(Tty()) and not use_color(Tty(), requested=False)
    assert not use_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(Tty())
    monkeypatch.setenv("NO_COLOR", "")  # no-color.org: set and empty means colours
    assert use_color(Tty())


def _netpack_on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """What netpack writes to stdout and stderr when both are a terminal (a pty)."""
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", *args],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=child,
        stderr=child,
        env={**os.environ, **env},
    )
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # EIO: the child side is closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    assert proc.wait() == 0
    return b"".join(chunks).decode()


CLUSTER = ["render", "clusters/aws-prod-1.yaml"]


def test_colours_on_a_terminal_but_not_with_no_color_nor_in_a_pipe() -> None:
    env = {"NO_COLOR": "", "CI": ""}
    assert f"{ESC}32m" in _netpack_on_a_terminal(CLUSTER, env)
    assert ESC not in _netpack_on_a_terminal(CLUSTER, {**env, "NO_COLOR": "1"})
    piped = subprocess.run(
        [sys.executable, "-m", "pipeline", *CLUSTER],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )
    assert piped.returncode == 0 and re.search(r"\b\d+ passed\b", piped.stderr)
    assert ESC not in piped.stdout + piped.stderr


def test_netpack_test_keeps_conftest_colours_off_a_terminal_unless_no_color(
    tmp_path: Path,
) -> None:
    doc = tmp_path / "cm.yaml"
    doc.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    args = [sys.executable, "-m", "pipeline", "test", str(doc), "-p", "policies"]
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    plain = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env=env)
    assert f"{ESC}32m" in plain.stdout  # as conftest test
    no_color = subprocess.run(
        args, cwd=ROOT, capture_output=True, text=True, env={**env, "NO_COLOR": "1"}
    )
    assert no_color.returncode == 0 and ESC not in no_color.stdout


def test_render_quiet_prints_one_summary_line(tmp_path: Path) -> None:
    files = sorted(str(p) for p in (ROOT / "clusters").glob("*.yaml"))
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "render", *files, "-o", str(tmp_path / "o"), "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{len(files)} clusters in "), proc.stderr
    assert lines[0].endswith(f": {len(files)} passed the gate, 0 failed")
