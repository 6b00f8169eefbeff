"""``netpack build``, ``render``, ``context`` and ``ops``: building and rendering, no deploy repo.

``build`` is ``kustomize build`` of a directory.  ``render`` runs the flow's
stages 1-6 for cluster files (``pipeline.flow.run_render``); ``context`` and
``ops`` print what the gate reads of a cluster and the effective patches.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.cli.arguments import add_gate, add_pack, gate_settings, jobs, report, selection
from pipeline.errors import EXIT_OK, UsageError


def register(subparsers: argparse._SubParsersAction[Any], command: str | None = None) -> None:
    """Add this module's commands (only ``command``'s, when given: start-up time)."""
    for name, add in _COMMANDS.items():
        if command is None or command == name:
            add(subparsers)


def _add_build(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("build", help="build a kustomization directory, like kustomize build")
    p.add_argument(
        "directory", type=Path, metavar="DIR", help="a directory with a kustomization.yaml"
    )
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="OUTDIR",
        help="write one file per resource into OUTDIR (as kubectl kustomize -o)",
    )
    p.set_defaults(func=_build)


def _add_render(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("render", help="render clusters: overlay, datastore, values")
    p.add_argument(
        "clusters",
        type=Path,
        nargs="*",
        metavar="CLUSTER_FILE",
        help="cluster files (clusters/<name>.yaml)",
    )
    p.add_argument(
        "--all",
        dest="all_clusters",
        action="store_true",
        help="every clusters/*.yaml of the pack",
    )
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="DIR",
        help="write DIR/<cluster>/<one file per resource>; required for several clusters",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="render and gate only, write nothing: the exit code is the verdict (pre-commit, CI)",
    )
    add_pack(p)
    add_gate(p)
    p.set_defaults(func=_render)


def _add_context(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "context", help="print a cluster's context: the data.netpack document the gate reads"
    )
    p.add_argument("cluster", type=Path, metavar="CLUSTER_FILE", help="a cluster file")
    add_pack(p)
    p.set_defaults(func=_context)


def _add_ops(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("ops", help="print a cluster's effective patches as a kustomization.yaml")
    p.add_argument("cluster", type=Path, metavar="CLUSTER_FILE", help="a cluster file")
    p.add_argument(
        "--relative-to",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="where the kustomization.yaml would live (default: .)",
    )
    add_pack(p)
    p.set_defaults(func=_ops)


_COMMANDS: dict[str, Callable[[argparse._SubParsersAction[Any]], None]] = {
    "build": _add_build,
    "render": _add_render,
    "context": _add_context,
    "ops": _add_ops,
}


def _build(args: argparse.Namespace) -> int:
    from pipeline.kustomize.load import build
    from pipeline.kustomize.output import render_stream, write_directory

    resources = build(args.directory)
    if args.output is not None:
        write_directory(resources, args.output)
    else:
        sys.stdout.write(render_stream(resources))
    return EXIT_OK


def _render(args: argparse.Namespace) -> int:
    from pipeline.flow import run_render
    from pipeline.options import RenderOptions

    if args.all_clusters and args.clusters:
        raise UsageError("give cluster files or --all, not both")
    if not args.all_clusters and not args.clusters:
        raise UsageError("name the cluster files to render, or pass --all")
    if args.check and args.output is not None:
        raise UsageError("--check writes nothing; leave out -o")
    if args.output is None and not args.check and (args.all_clusters or len(args.clusters) > 1):
        raise UsageError("several clusters need -o DIR (one sub-directory per cluster)")
    options = RenderOptions(
        selection(args),
        gate_settings(args),
        report(args),
        args.output,
        jobs(args),
        check=args.check,
    )
    return run_render(options)


def _context(args: argparse.Namespace) -> int:
    import yaml

    from pipeline.flow import render_cluster
    from pipeline.values.cluster import read_cluster_file

    found = render_cluster(read_cluster_file(args.cluster, args.pack))
    doc = {"netpack": found.context}
    sys.stdout.write(yaml.safe_dump(doc, sort_keys=True, default_flow_style=False))
    return EXIT_OK


def _ops(args: argparse.Namespace) -> int:
    import yaml

    from pipeline.flow import as_kustomization
    from pipeline.values.cluster import read_cluster_file

    cluster = read_cluster_file(args.cluster, args.pack)
    kust = as_kustomization(cluster, args.relative_to)
    sys.stdout.write(f"# Effective operations for {cluster.file}, as kustomize would apply them.\n")
    sys.stdout.write(yaml.safe_dump(kust, sort_keys=False, width=1000))
    return EXIT_OK
