"""``netpack doctor``: is what Argo CD or Flux applied working, and does it match the render?

Reads each cluster's state live with ``kubectl get`` (read-only) or from a
snapshot file (``--snapshot``: the v1 List ``kubectl get ... -o json`` or
``--collect`` writes) and checks it: calico-node on every node, its pods,
kube-controllers, nodes' network readiness, the IP pools, calico-config and
calico-node's env against the render (install-time-only pool drift is reported
with Calico's migration steps). Exit codes: 0 healthy, 1 problems found, 3 bad
input (snapshot, context), 4 internal error.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pipeline.cli.arguments import add_pack, selection
from pipeline.errors import UsageError


def register(subparsers: argparse._SubParsersAction[Any], command: str | None = None) -> None:
    """Add ``doctor``; it sets ``func(args) -> exit code``."""
    p = subparsers.add_parser(
        "doctor",
        help="check a live cluster (or a snapshot of it) against its render",
        description=__doc__.replace("``", ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = p.add_argument
    add(
        "clusters",
        type=Path,
        nargs="*",
        metavar="CLUSTER_FILE",
        help="cluster files to check (or --all)",
    )
    add("--all", dest="all_clusters", action="store_true", help="every clusters/*.yaml of the pack")
    add(
        "--snapshot",
        type=Path,
        metavar="FILE",
        help="read the cluster from FILE (a v1 List, JSON or YAML) instead of kubectl",
    )
    add(
        "--collect",
        action="store_true",
        help="write the live cluster's snapshot to -o FILE (for support tickets); checks nothing",
    )
    add("-o", "--output", type=Path, metavar="FILE", help="where --collect writes (- is stdout)")
    add("--kubeconfig", metavar="PATH", help="kubeconfig file (default: kubectl's)")
    add(
        "--context",
        metavar="NAME",
        help="kubeconfig context (default: the cluster file's doctor.context; else the"
        " cluster's name in a fleet, the current context for one cluster)",
    )
    add("--kubectl", metavar="PATH", help="kubectl binary (default: on PATH, else beside Python)")
    add(
        "--deploy-repo",
        metavar="PATH_OR_URL",
        help="compare with the manifests published there instead of netpack's render",
    )
    add("--branch", default="main", help="the deploy branch (default: main)")
    from pipeline.doctor import FORMATS

    add("--format", choices=FORMATS, default="stdout", help="report format (default: stdout)")
    add("--fail-on-warn", action="store_true", help="warnings count as problems (exit 1)")
    add(
        "--max-restarts",
        type=int,
        default=5,
        metavar="N",
        help="warn about containers restarted more than N times (default: 5)",
    )
    add("--no-color", action="store_true", help="no ANSI colours in the stdout report")
    add_pack(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipeline.doctor.run import run_doctor
    from pipeline.options import DeployOptions, DoctorOptions

    if args.all_clusters and args.clusters:
        raise UsageError("give cluster files or --all, not both")
    if args.collect:
        if args.output is None:
            raise UsageError("--collect needs -o FILE (or -o - for stdout)")
        if args.snapshot is not None:
            raise UsageError("--collect reads the live cluster; it takes no --snapshot")
    elif args.output is not None:
        raise UsageError("-o is where --collect writes; the report goes to stdout")
    elif not args.all_clusters and not args.clusters:
        raise UsageError("name the cluster files to check, or pass --all")
    if args.snapshot is not None and (args.kubeconfig or args.context):
        raise UsageError("--snapshot reads a file; --kubeconfig and --context are for live runs")
    if args.max_restarts < 0:
        raise UsageError("--max-restarts must be 0 or more")
    deploy = DeployOptions(args.deploy_repo, args.branch) if args.deploy_repo else None
    return run_doctor(
        DoctorOptions(
            selection(args),
            snapshot=args.snapshot,
            collect=args.output if args.collect else None,
            kubeconfig=args.kubeconfig,
            context=args.context,
            kubectl=args.kubectl,
            deploy=deploy,
            format=args.format,
            color=not args.no_color,
            fail_on_warn=args.fail_on_warn,
            max_restarts=args.max_restarts,
        )
    )
