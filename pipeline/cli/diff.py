"""``netpack diff``: the new render of clusters against the deploy repo's branch tip.

Per resource (added, changed, removed), semantic (``pipeline.review.diff``), with
counts per cluster and in total; unified text (colour on a terminal), Markdown
for a PR comment or JSON for bots.  Exit codes like ``flux diff``: 0 no change,
1 changes, 3 (>1) an error.  Each changed cluster's Calico settings and gate
verdict come first; the verdict is shown, not turned into the exit code
(``render`` and ``publish`` own that).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pipeline.cli.arguments import add_pack, add_policy_sources, gate_settings, selection
from pipeline.errors import UsageError

FORMATS = ("text", "markdown", "json")

DESCRIPTION = """\
Render clusters and compare them with what the deploy repo's branch holds, per
resource: added, changed, removed, with counts per cluster and in total. Each
changed cluster's Calico settings and gate verdict come first; the verdict is
shown, not turned into the exit code (render and publish own that). Text
(coloured on a terminal), Markdown for a pull-request comment, or JSON for bots.
Exits like flux diff: 0 no change, 1 changes, 3 an error.

  netpack diff --all --deploy-repo ../deploy
  netpack diff clusters/aws-prod-1.yaml --deploy-repo ../deploy --format markdown
"""


def register(subparsers: argparse._SubParsersAction[Any], command: str | None = None) -> None:
    """Add ``diff``; it sets ``func(args) -> exit code``."""
    p = subparsers.add_parser(
        "diff",
        help="show what a publish would change in the deploy repo, per resource",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "clusters", type=Path, nargs="*", metavar="CLUSTER_FILE", help="cluster files to compare"
    )
    p.add_argument(
        "--all",
        dest="all_clusters",
        action="store_true",
        help="every clusters/*.yaml of the pack; clusters no longer there show as removed",
    )
    p.add_argument(
        "--deploy-repo",
        required=True,
        metavar="PATH_OR_URL",
        help="the deploy repo to compare with: a local repository, a bare one or a URL",
    )
    p.add_argument("--branch", default="main", help="the deploy branch (default: main)")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format")
    p.add_argument(
        "--limit",
        type=int,
        default=65536,
        metavar="N",
        help="cap text and markdown output at N characters (default: 65536)",
    )
    p.add_argument("--no-color", action="store_true", help="no ANSI colours in text output")
    add_policy_sources(p)
    add_pack(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipeline.flow import run_diff
    from pipeline.options import DeployOptions, DiffOptions

    if args.all_clusters and args.clusters:
        raise UsageError("give cluster files or --all, not both")
    if not args.all_clusters and not args.clusters:
        raise UsageError("name the cluster files to publish, or pass --all")
    deploy = DeployOptions(args.deploy_repo, args.branch)
    return run_diff(
        DiffOptions(
            selection(args), deploy, args.format, args.limit, not args.no_color, gate_settings(args)
        )
    )
