"""Every command's help: each argument explained, in plain text (no reST, no module names)."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

import pytest

from pipeline.cli.main import COMMANDS, _parser
from tests.conftest import ROOT

# reST a user would see verbatim: ``literal``, :role:`x`, `ref`_, and directives.
_REST = re.compile(r"``|:[a-z]+:`|`_|^\s*\.\. [a-z]+::", re.MULTILINE)
_MODULE = re.compile(r"\bpipeline\.[a-z_]+")


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = _parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found: dict[str, argparse.ArgumentParser] = action.choices
    return found


def test_every_command_has_a_parser() -> None:
    assert sorted(_subparsers()) == sorted(COMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_argument_has_plain_help(command: str) -> None:
    parser = _subparsers()[command]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        name = "/".join(action.option_strings) or action.dest
        assert action.help and action.help != argparse.SUPPRESS, f"{command} {name}: no help"
        assert not _REST.search(action.help), f"{command} {name}: reST in {action.help!r}"
    text = parser.format_help()
    assert not _REST.search(text), f"netpack {command} --help shows reST markup:\n{text}"
    assert not _MODULE.search(text), f"netpack {command} --help names a module:\n{text}"


def test_the_top_level_help_is_plain() -> None:
    text = _parser().format_help()
    assert not _REST.search(text) and not _MODULE.search(text)


def test_the_checks_catch_markup() -> None:
    """The patterns above find what they are for (so the tests can fail)."""
    assert _REST.search("see ``pipeline.review.diff``") and _REST.search(":func:`run`")
    assert _MODULE.search("see pipeline.review.diff") and not _REST.search("a `b` c")


def test_python_m_pipeline_is_the_cli() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "--version"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (proc.returncode, proc.stdout) == (0, "netpack 0.1.0\n"), proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "build", "no/such/dir"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 3 and proc.stderr.startswith("netpack: error: no/such/dir load:")
