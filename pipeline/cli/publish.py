"""``netpack publish``: render and gate the fleet, then commit it to a deploy repo.

The command checks the deploy repo first (read-only), renders and gates every
cluster, and writes nothing unless the whole fleet passed and every render has
resources. ``pipeline.publish.commit`` then lands one commit, or none when nothing
changed. Exit codes are the CLI's: 0 published or up to date, 1 the gate
failed (conftest's code with ``--fail-on-warn``), 2 bad command line, 3 a bad
input or a deploy repo that cannot take the publish.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.cli.arguments import add_gate, add_pack, gate_settings, jobs, report, selection
from pipeline.errors import UsageError

if TYPE_CHECKING:
    from pipeline.options import PublishOptions

# Everything heavy is imported inside the handler: registering the command
# must cost `netpack build` nothing at start-up.

DESCRIPTION = """\
Render and gate clusters, then commit the result to a deploy repo for Argo CD or Flux:
clusters/<cluster>/calico/ holds one file per resource, a kustomization.yaml and
.netpack/provenance.json. Nothing is written when the gate fails or a render is
empty, and no commit is made when nothing changed.

  netpack publish --all --deploy-repo ../deploy
  netpack publish clusters/aws-prod-1.yaml --deploy-repo git@host:org/deploy.git --push
"""


def register(subparsers: argparse._SubParsersAction[Any], command: str | None = None) -> None:
    """Add ``publish``; it sets ``func(args) -> exit code``."""
    p = subparsers.add_parser(
        "publish",
        help="render, gate and commit clusters to a deploy repo",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = p.add_argument
    add("clusters", type=Path, nargs="*", metavar="CLUSTER_FILE", help="cluster files to publish")
    add(
        "--all",
        action="store_true",
        dest="all_clusters",
        help="every clusters/*.yaml of the pack; clusters no longer there are removed",
    )
    add(
        "--deploy-repo",
        required=True,
        metavar="PATH_OR_URL",
        help="a local repository (created if missing), or a URL / bare repository with --push",
    )
    add("--branch", default="main", help="the deploy branch (default: main)")
    add(
        "--changed-since",
        metavar="GIT_REF",
        help="only clusters whose inputs changed since GIT_REF",
    )
    add("--shard", metavar="K/N", help="render the K-th of N deterministic shards (needs --stage)")
    add(
        "--stage",
        type=Path,
        metavar="DIR",
        help="write the shard's files to DIR instead of committing",
    )
    add(
        "--from-stage",
        type=Path,
        action="append",
        metavar="DIR",
        help="commit the union of staged shards (every K of N once), in one commit",
    )
    add(
        "--full",
        action="store_true",
        help="render every cluster, even those whose inputs digest matches the deploy repo",
    )
    add("--push", action="store_true", help="publish to a remote through a cache clone")
    add("--author", metavar="'NAME <EMAIL>'", help="commit author (default: git config)")
    add("--sign", action="store_true", help="sign the commit with git's signing config")
    add(
        "--argocd-applicationset",
        action="store_true",
        help="also write argocd/applicationset.yaml",
    )
    add(
        "--flux-kustomizations",
        action="store_true",
        help="also write clusters/<cluster>/flux-kustomization.yaml",
    )
    add_pack(p)
    add_gate(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """``netpack publish``."""
    from pipeline.flow import run_publish

    return run_publish(options(args))


def options(args: argparse.Namespace) -> PublishOptions:
    """The parsed command line as the flow's options; ``UsageError`` where they clash."""
    from pipeline.options import DeployOptions, PublishOptions
    from pipeline.publish.commit import parse_identity

    if args.shard and args.stage is None:
        raise UsageError(
            "--shard needs --stage DIR: shards are committed together with --from-stage"
        )
    if args.from_stage and (args.clusters or args.all_clusters or args.stage or args.changed_since):
        raise UsageError("--from-stage commits staged shards; it takes no cluster files")
    author = parse_identity(args.author) if args.author else None
    if not args.from_stage and args.all_clusters and args.clusters:
        raise UsageError("give cluster files or --all, not both")
    if not args.from_stage and not args.all_clusters and not args.clusters:
        raise UsageError("name the cluster files to publish, or pass --all")
    deploy = DeployOptions(
        args.deploy_repo,
        args.branch,
        args.push,
        author,
        args.sign,
        args.argocd_applicationset,
        args.flux_kustomizations,
    )
    return PublishOptions(
        selection(args),
        deploy,
        gate_settings(args),
        report(args),
        jobs(args),
        args.full,
        args.stage,
        tuple(args.from_stage or ()),
    )
