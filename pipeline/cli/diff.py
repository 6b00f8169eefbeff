"""``netpack diff``: the new render of clusters against the deploy repo's branch tip.

Per resource (added, changed, removed), semantic (``pipeline.review.diff``), with
counts per cluster and in total; unified text (colour on a terminal), Markdown
for a PR comment or JSON for bots.  Exit codes like ``flux diff``: 0 no change,
1 changes, 3 (>1) an error.  The gate does not run here: ``render`` and
``publish`` own the verdict; this shows what a publish would change.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.publish import git as g

FORMATS = ("text", "markdown", "json")


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``diff``; it sets ``func(args) -> exit code``."""
    from pipeline.cli import main as cli

    p = subparsers.add_parser(
        "diff",
        help="show what a publish would change in the deploy repo, per resource",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("clusters", type=Path, nargs="*", metavar="CLUSTER_FILE")
    p.add_argument(
        "--all",
        dest="all_clusters",
        action="store_true",
        help="every clusters/*.yaml of the pack; clusters no longer there show as removed",
    )
    p.add_argument("--deploy-repo", required=True, metavar="PATH_OR_URL")
    p.add_argument("--branch", default="main", help="the deploy branch (default: main)")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format")
    p.add_argument("--limit", type=int, default=65536, help="cap text/markdown at N characters")
    p.add_argument("--no-color", action="store_true", help="no ANSI colours in text output")
    cli._pack_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipeline.cli.publish import cluster_files
    from pipeline.flow import render_cluster
    from pipeline.review import diff, format
    from pipeline.values.cluster import read_cluster_file

    files = cluster_files(args)
    clusters = [read_cluster_file(path, args.pack) for path in files]
    new = {c.name: [r.body for r in render_cluster(c, None).bundle.resources] for c in clusters}
    names = None if args.all_clusters else set(new)
    changes = diff.diff_trees(old_bodies(args.deploy_repo, args.branch, names), new)
    if args.format == "json":
        sys.stdout.write(format.format_json(changes))
    elif args.format == "markdown":
        sys.stdout.write(format.format_markdown(changes, limit=args.limit))
    else:
        color = sys.stdout.isatty() and not args.no_color
        sys.stdout.write(format.format_text(changes, color=color, limit=args.limit))
    return diff.exit_code(changes)


def old_bodies(spec: str, branch: str, names: set[str] | None) -> dict[str, list[Any]]:
    """The manifests each netpack-owned cluster has at the branch tip (``names``: only those)."""
    from pipeline.publish import git as g
    from pipeline.publish.repo import base_commit, cache_home, is_url, open_target, prepared

    if is_url(spec):
        target = open_target(spec, branch, push=True, cache_home=cache_home())
        with prepared(target) as git:
            tip = base_commit(target, git)
            return _read(git, tip, names) if tip else {}
    path = Path(spec)
    if not path.exists():
        return {}  # nothing published yet: every resource is added
    git = g.Git(path)
    tip = g.resolve(git, f"refs/heads/{branch}")
    return _read(git, tip, names) if tip else {}


def _read(git: g.Git, tip: str, names: set[str] | None) -> dict[str, list[Any]]:
    import yaml

    from pipeline.publish import git as g
    from pipeline.publish.layout import PROVENANCE

    entries = g.ls_tree(git, g.tree_of(git, tip))
    owned = {p.split("/")[1] for p in entries if p.endswith("/calico/" + PROVENANCE)}
    wanted = {
        path: entry.oid
        for path, entry in entries.items()
        if _manifest(path)
        and path.split("/")[1] in owned
        and (names is None or path.split("/")[1] in names)
    }
    blobs = g.read_blobs(git, wanted.values())
    out: dict[str, list[Any]] = {}
    for path, oid in sorted(wanted.items()):
        out.setdefault(path.split("/")[1], []).append(
            yaml.load(blobs[oid], Loader=yaml.CSafeLoader)
        )
    return out


def _manifest(path: str) -> bool:
    """``clusters/<name>/calico/<file>.yaml``, but not the kustomization."""
    parts = path.split("/")
    return (
        len(parts) == 4
        and parts[0] == "clusters"
        and parts[2] == "calico"
        and parts[3].endswith(".yaml")
        and parts[3] != "kustomization.yaml"
    )
