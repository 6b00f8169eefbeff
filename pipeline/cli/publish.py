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
    from pipeline.options import Controllers, PublishOptions

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
        help="also write flux/<cluster>/calico/: a Flux GitRepository and a Kustomization"
        " applying clusters/<cluster>/calico (bootstrap Flux at flux/<cluster>)",
    )
    add_controllers(p)
    add_pack(p)
    add_gate(p)
    p.set_defaults(func=run)


def add_controllers(parser: argparse.ArgumentParser) -> None:
    """What the ApplicationSet and the Flux objects say."""
    group = parser.add_argument_group("Argo CD and Flux objects")
    add = group.add_argument
    add(
        "--repo-url",
        metavar="URL",
        help="the URL Argo CD and Flux clone the deploy repo from"
        " (default: the --deploy-repo URL; required when that is a local path)",
    )
    add("--revision", metavar="BRANCH", help="the branch they follow (default: --branch)")
    add(
        "--argocd-project",
        default="default",
        metavar="NAME",
        help="the Applications' Argo CD project (default: default)",
    )
    add(
        "--argocd-namespace",
        default="argocd",
        metavar="NS",
        help="the ApplicationSet's namespace (default: argocd)",
    )
    add(
        "--argocd-destination",
        action="append",
        default=[],
        metavar="CLUSTER=SERVER_OR_NAME",
        help="deploy CLUSTER to this Argo CD destination: a server URL (https://...) or a"
        " cluster name (repeatable; default: the Argo CD cluster named like the cluster)",
    )
    add(
        "--destination-namespace",
        default="kube-system",
        metavar="NS",
        help="the Applications' destination namespace (default: kube-system)",
    )
    add(
        "--flux-namespace",
        default="flux-system",
        metavar="NS",
        help="namespace of the Flux objects (default: flux-system)",
    )
    add(
        "--flux-source",
        default="netpack-deploy",
        metavar="NAME",
        help="the GitRepository's name (default: netpack-deploy; flux-system: reuse the"
        " bootstrap's own source, none written)",
    )
    add("--flux-secret", metavar="NAME", help="the GitRepository's secretRef (credentials)")
    add(
        "--flux-wait",
        action="store_true",
        help="Flux waits for every object (spec.wait) instead of health-checking the"
        " calico-node DaemonSet and calico-kube-controllers Deployment",
    )


def controllers(args: argparse.Namespace) -> Controllers:
    """``--repo-url``, ``--argocd-*``, ``--flux-*`` as the flow's ``Controllers``."""
    from pipeline.options import Controllers

    destinations = []
    for text in args.argocd_destination:
        cluster, sep, where = text.partition("=")
        if not (sep and cluster and where):
            raise UsageError(f"--argocd-destination {text}: write it as CLUSTER=SERVER_OR_NAME")
        destinations.append((cluster, where))
    names = [cluster for cluster, _ in destinations]
    if len(set(names)) != len(names):
        raise UsageError("--argocd-destination: a cluster is mapped twice")
    return Controllers(
        repo_url=args.repo_url,
        revision=args.revision,
        argocd_project=args.argocd_project,
        argocd_namespace=args.argocd_namespace,
        destination_namespace=args.destination_namespace,
        destinations=tuple(sorted(destinations)),
        flux_namespace=args.flux_namespace,
        flux_source=args.flux_source,
        flux_secret=args.flux_secret,
        flux_wait=args.flux_wait,
    )


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
        controllers(args),
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
