"""Argument groups several commands share, and their values as ``pipeline.options`` records.

``pipeline.options`` is imported by the functions that build its records, not here:
registering a command must not cost ``netpack build`` its dataclasses at start-up.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.options import GateSettings, Report, Selection


def add_pack(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pack",
        type=Path,
        metavar="DIR",
        help="the pack holding base/ and overlays/ (default: the nearest directory"
        " above the cluster file that has both, else .)",
    )


def add_gate(parser: argparse.ArgumentParser) -> None:
    """The gate's options (render, publish): policies, engine, report, jobs."""
    from pipeline.gate.report import FORMATS

    add_policy_sources(parser)
    add = parser.add_argument
    add(
        "--format",
        choices=FORMATS,
        default="stdout",
        help="gate report format, as netpack test -o (default: stdout)",
    )
    add("--fail-on-warn", action="store_true", help="warnings stop the render too")
    add(
        "--no-color",
        action="store_true",
        help="no ANSI colours (there are none off a terminal or with NO_COLOR set either)",
    )
    add(
        "--quiet",
        action="store_true",
        help="one summary line: no gate report when the gate passes, no progress lines",
    )
    add(
        "-j",
        "--jobs",
        type=int,
        metavar="N",
        help="worker processes (default: the number of cores); output is the same for any N",
    )


def add_policy_sources(parser: argparse.ArgumentParser) -> None:
    """The gate's policies, data, engine and timeout (render, publish, diff)."""
    from pipeline.gate.engines.choose import ENGINE_NAMES

    add = parser.add_argument
    add(
        "-p",
        "--policy",
        type=Path,
        action="append",
        metavar="PATH",
        help="Rego policies for the gate (repeatable; default: <pack>/policies)",
    )
    add(
        "-d",
        "--data",
        type=Path,
        action="append",
        metavar="PATH",
        help="policy data (repeatable; default: <pack>/policies/data)",
    )
    add("--engine", choices=ENGINE_NAMES, help="Rego engine (default: embedded OPA)")
    add("--opa-url", metavar="URL", help="OPA server for --engine opa-server")
    add_policy_timeout(parser, "one cluster's policy evaluation")


def add_policy_timeout(parser: argparse.ArgumentParser, what: str) -> None:
    """``--policy-timeout SECONDS`` (default 60): past it the gate fails closed, exit 3."""
    from pipeline.gate.deadline import DEFAULT_SECONDS, parse_seconds

    parser.add_argument(
        "--policy-timeout",
        type=parse_seconds,
        default=DEFAULT_SECONDS,
        metavar="SECONDS",
        help=f"time {what} may take (default: {DEFAULT_SECONDS:g}); past it the gate"
        " fails closed, naming the rule (exit 3)",
    )


def gate_settings(args: argparse.Namespace) -> GateSettings:
    from pipeline.options import GateSettings

    return GateSettings(
        tuple(args.policy or ()),
        tuple(args.data or ()),
        args.engine,
        args.opa_url,
        args.policy_timeout,
    )


def report(args: argparse.Namespace) -> Report:
    from pipeline.options import Report

    return Report(args.format, args.fail_on_warn, not args.no_color, args.quiet)


def jobs(args: argparse.Namespace) -> int:
    from pipeline.pool import default_jobs

    return int(args.jobs or default_jobs())


def selection(args: argparse.Namespace) -> Selection:
    """Named cluster files (``clusters``), ``--all``, ``--pack``, and where the command has
    them ``--changed-since`` and ``--shard``."""
    from pipeline.options import Selection

    return Selection(
        tuple(args.clusters),
        bool(getattr(args, "all_clusters", False)),
        args.pack,
        getattr(args, "changed_since", None),
        getattr(args, "shard", None),
    )
