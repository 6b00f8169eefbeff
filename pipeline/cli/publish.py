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
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pipeline.errors import EXIT_OK, InputError, UsageError

if TYPE_CHECKING:
    from pipeline.model.cluster import Cluster
    from pipeline.publish.commit import Fleet, Outcome
    from pipeline.publish.layout import PolicySet
    from pipeline.publish.repo import Target

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


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``publish``; it sets ``func(args) -> exit code``."""
    from pipeline.cli import main as cli  # at call time: pipeline.cli.main imports this module

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
    cli._pack_option(p)
    cli._gate_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """``netpack publish``."""
    return publish_command(args, {})


def publish_command(args: argparse.Namespace, timings: dict[str, float]) -> int:
    """The command; ``timings`` receives seconds per phase (read, render_gate, commit, report)."""
    from pipeline.cli import main as cli
    from pipeline.publish.commit import parse_identity
    from pipeline.publish.repo import cache_home, open_target
    from pipeline.values.cluster import find_pack, read_cluster_file

    start = time.perf_counter()
    _check_shard_options(args)
    author = parse_identity(args.author) if args.author else None
    if args.from_stage:
        staged = open_target(args.deploy_repo, args.branch, push=args.push, cache_home=cache_home())
        return _land(args, staged, _staged_fleet(args), author, timings)
    every = cluster_files(args)
    files = _selected(args, every)
    clusters = [read_cluster_file(path, args.pack) for path in files]  # all values first
    cli._unique_names(clusters)
    pack = clusters[0].pack if clusters else find_pack(every[0], args.pack)
    policy = _policy_set(args, pack)
    target: Target | None = None
    kept: set[str] = set()
    if args.stage is None:
        target = open_target(args.deploy_repo, args.branch, push=args.push, cache_home=cache_home())
        if not args.full:
            kept = _unchanged(target, clusters, policy, _outputs(args))
    todo = [(f, c) for f, c in zip(files, clusters, strict=True) if c.name not in kept]
    timings["read"] = time.perf_counter() - start
    fleet, code = render_fleet(args, [f for f, _ in todo], [c for _, c in todo], policy, pack)
    # Clusters --changed-since left out are unchanged too: --all must not remove them.
    if len(files) < len(every):
        fleet.kept = kept | ({read_name(p) for p in every} - {c.name for c in clusters})
    else:
        fleet.kept = kept
    if kept and not args.quiet:
        n = len(kept)
        print(
            f"netpack: {n} cluster{'' if n == 1 else 's'} unchanged since the last publish"
            " (inputs digest); not rendered (--full renders them too)",
            file=sys.stderr,
        )
    timings["render_gate"] = time.perf_counter() - start - timings["read"]
    if code != EXIT_OK:
        print("netpack: the gate failed; nothing was published", file=sys.stderr)
        return code
    if args.stage is not None:
        return _stage(args, fleet)
    assert target is not None
    return _land(args, target, fleet, author, timings)


def _land(
    args: argparse.Namespace,
    target: Target,
    fleet: Fleet,
    author: Any,
    timings: dict[str, float],
) -> int:
    """Commit (and push) ``fleet``, then print the diff and a summary."""
    from pipeline.publish.commit import CommitOptions, publish
    from pipeline.publish.repo import DeployError

    mark = time.perf_counter()
    try:
        outcome = publish(target, fleet, CommitOptions(author, args.sign))
    except OSError as err:  # creating the repo or its cache, the lock file
        raise DeployError(
            err.strerror or str(err), file=err.filename or target.shown, operation="publish"
        ) from None
    timings["commit"] = time.perf_counter() - mark
    mark = time.perf_counter()
    # A machine-readable gate report owns stdout; the diff and summary then go to stderr.
    human = sys.stdout if args.format == "stdout" else sys.stderr
    _print_diff(args, target, outcome, fleet, human)
    _say(target, outcome, human)
    timings["report"] = time.perf_counter() - mark
    return EXIT_OK


def cluster_files(args: argparse.Namespace) -> list[Path]:
    """The cluster files named, or with ``--all`` every ``clusters/*.yaml`` of the pack."""
    if args.all_clusters and args.clusters:
        raise UsageError("give cluster files or --all, not both")
    if not args.all_clusters:
        if not args.clusters:
            raise UsageError("name the cluster files to publish, or pass --all")
        return list(args.clusters)
    directory = (args.pack or Path(".")) / "clusters"
    found = sorted(directory.glob("*.yaml"))
    if not found:
        raise InputError(
            "no cluster files (*.yaml) there; refusing to publish an empty fleet",
            file=str(directory),
            operation="publish --all",
        )
    return found


def read_name(path: Path) -> str:
    """A cluster file's ``name`` (cheap: no checks; the full read comes later if needed)."""
    from pipeline.yamlio import read_documents

    docs = read_documents(path)
    name = docs[0].get("name") if docs and isinstance(docs[0], dict) else None
    return name if isinstance(name, str) else path.stem


def _check_shard_options(args: argparse.Namespace) -> None:
    if args.shard and args.stage is None:
        raise UsageError(
            "--shard needs --stage DIR: shards are committed together with --from-stage"
        )
    if args.from_stage and (args.clusters or args.all_clusters or args.stage or args.changed_since):
        raise UsageError("--from-stage commits staged shards; it takes no cluster files")


def _selected(args: argparse.Namespace, files: list[Path]) -> list[Path]:
    """The cluster files this run renders: ``--changed-since`` and ``--shard`` applied."""
    from pipeline.publish.shard import parse_shard, select_changed, select_shard
    from pipeline.values.cluster import find_pack

    if args.changed_since:
        files = select_changed(files, find_pack(files[0], args.pack), args.changed_since)
    if args.shard:
        files = select_shard(files, parse_shard(args.shard))
    return files


def _stage(args: argparse.Namespace, fleet: Fleet) -> int:
    """Write this shard's files and records for ``publish --from-stage``."""
    from pipeline.publish.shard import parse_shard, write_stage

    k, n = parse_shard(args.shard) if args.shard else (1, 1)
    files = {path: fleet.store[oid] for c in fleet.clusters for path, oid in c.files.items()}
    records = {c.name: c.provenance for c in fleet.clusters}
    source = fleet.source
    meta = {
        "shard": k,
        "shards": n,
        "complete": bool(args.all_clusters),
        "flux": bool(args.flux_kustomizations),
        "clusters": sorted(records),
        "source": {"repo": source.repo, "commit": source.commit, "dirty": source.dirty},
    }
    write_stage(args.stage, files, records, meta)
    print(
        f"netpack: staged shard {k}/{n} ({len(records)} clusters) in {args.stage}", file=sys.stderr
    )
    return EXIT_OK


def _staged_fleet(args: argparse.Namespace) -> Fleet:
    """The union of the staged shards, as one fleet to commit."""
    from pipeline.publish.commit import ClusterFiles, Fleet
    from pipeline.publish.layout import PROVENANCE, Source, cluster_root
    from pipeline.publish.shard import read_stages

    stages = read_stages(args.from_stage)
    meta0 = stages[0][0]
    origin = meta0["source"]
    fleet = Fleet(
        [],
        Source(origin["repo"], origin["commit"], bool(origin["dirty"]), Path(".")),
        complete=all(meta["complete"] for meta, _ in stages),
        flux=bool(meta0["flux"]),
        applicationset=args.argocd_applicationset,
    )
    for meta, directory in stages:
        for name in meta["clusters"]:
            root = cluster_root(name)
            record = json.loads((directory / root / PROVENANCE).read_text())
            paths = sorted(p for p in (directory / root).rglob("*") if p.is_file())
            files = {
                p.relative_to(directory).as_posix(): fleet.add(p.read_bytes())
                for p in paths
                if not p.relative_to(directory).as_posix().endswith(PROVENANCE)
            }
            fleet.clusters.append(ClusterFiles(name, files, record))
    return fleet


def _policy_set(args: argparse.Namespace, pack: Path) -> PolicySet:
    from pipeline.pool import Settings
    from pipeline.publish.layout import PolicySet

    settings = Settings.of(args, pack)
    return PolicySet.of(settings.policies, settings.data, args.engine or _default_engine())


def _outputs(args: argparse.Namespace) -> str:
    """Publish options that change a cluster's files, for the inputs digest."""
    return "flux" if args.flux_kustomizations else ""


def _unchanged(
    target: Target, clusters: list[Cluster], policy: PolicySet, outputs: str
) -> set[str]:
    """Clusters whose inputs digest equals the one published: no need to render them."""
    from pipeline.publish.commit import published_digests
    from pipeline.publish.incremental import inputs_digest
    from pipeline.publish.layout import values_digest

    published = published_digests(target)
    return {
        c.name
        for c in clusters
        if published.get(c.name) == inputs_digest(c, values_digest(c), policy.digest, outputs)
    }


def render_fleet(
    args: argparse.Namespace,
    files: list[Path],
    clusters: list[Cluster],
    policy: PolicySet,
    pack: Path,
) -> tuple[Fleet, int]:
    """Render and gate every cluster (``--jobs`` workers, as ``render``), print the gate
    report as ``render -o`` does, and collect the deploy repo's files; the gate's exit code."""
    from pipeline.cli.progress import Progress
    from pipeline.gate import report
    from pipeline.gate.results import Tally, exit_code
    from pipeline.pool import Settings, default_jobs, render_many
    from pipeline.publish.commit import ClusterFiles, Fleet, read_source
    from pipeline.publish.layout import manifest_files, provenance

    settings = Settings.of(args, pack)
    source = read_source(pack)
    fleet = Fleet(
        [],
        source,
        complete=args.all_clusters,
        flux=args.flux_kustomizations,
        applicationset=args.argocd_applicationset,
    )
    tally = Tally(fold=args.format == "stdout")
    empty: list[str] = []
    progress = Progress(len(files), quiet=args.quiet)
    outputs = render_many(files, settings, args.jobs or default_jobs()) if files else iter(())
    for cluster, out in zip(clusters, outputs, strict=True):
        tally.add(out.results)
        progress.update(out.name, "FAILED" if out.failed else "ok", out.failed)
        if not out.files:
            empty.append(out.file)
        blobs = {p: fleet.add(data) for p, data in manifest_files(out.name, out.files).items()}
        record = provenance(cluster, out.results, source, policy, _outputs(args))
        fleet.clusters.append(ClusterFiles(out.name, blobs, record))
    progress.close()
    results = tally.results
    code = exit_code(results, fail_on_warn=args.fail_on_warn)
    text = report.render(results, args.format, color=not args.no_color)
    if files and text and not (args.quiet and code == EXIT_OK):
        sys.stdout.write(text)
    if empty and code == EXIT_OK:
        raise InputError(
            "renders no resources; refusing to publish an empty render",
            file=empty[0],
            operation="publish",
        )
    return fleet, code


def _default_engine() -> str:
    """The engine the gate opens without ``--engine`` (``default_engine_name``'s choice,
    without repeating its notice: the workers print it)."""
    from pipeline.gate.engines.opa_embedded import bindings_error

    return "opa" if bindings_error() is None else "regopy"


def _say(target: Target, outcome: Outcome, out: TextIO) -> None:
    where = f"{target.shown} ({target.branch})"
    if outcome.commit is None:
        print(f"netpack: {where} is up to date; nothing to publish", file=out)
        return
    groups = outcome.changes.grouped()
    detail = "; ".join(f"{how} {', '.join(names)}" for how, names in groups.items())
    n = len(outcome.changes.clusters)
    counted = f"{n} cluster{'' if n == 1 else 's'}" + (f" ({detail})" if detail else "")
    pushed = " and pushed" if target.remote else ""
    print(f"netpack: published {outcome.commit[:7]}{pushed} to {where}: {counted}", file=out)


def _print_diff(
    args: argparse.Namespace, target: Target, outcome: Outcome, fleet: Fleet, out: TextIO
) -> None:
    """The semantic diff of the clusters that changed.

    Added and removed clusters are named in the summary line only: a diff of every
    resource of a whole cluster tells a reviewer nothing more, and costs seconds
    on a first publish of a large fleet.
    """
    from pipeline.publish import git as g
    from pipeline.review import diff, format

    names = set(outcome.changes.grouped().get("changed", []))
    if not names:
        return

    new_files = {p: o for c in fleet.clusters if c.name in names for p, o in c.files.items()}
    old_files = {
        p: e.oid for p, e in outcome.old.items() if p.split("/")[1:2] and p.split("/")[1] in names
    }
    # A file with the same blob on both sides holds the same objects: nothing to parse.
    # (A netpack upgrade changes every cluster's provenance and often nothing else.)
    same = {p for p, oid in new_files.items() if old_files.get(p) == oid}
    new_files = {p: oid for p, oid in new_files.items() if p not in same}
    old_files = {p: oid for p, oid in old_files.items() if p not in same}
    old_blobs = g.read_blobs(g.Git(target.repo), old_files.values())
    changes = diff.diff_trees(
        _bodies(old_files, old_blobs.__getitem__), _bodies(new_files, fleet.store.__getitem__)
    )
    out.write(format.format_text(changes, color=out.isatty() and not args.no_color))


def _bodies(files: dict[str, str], read: Callable[[str], bytes]) -> dict[str, list[Any]]:
    """Each cluster's manifests, parsed: ``clusters/<name>/calico/*.yaml`` but the kustomization."""
    import yaml

    out: dict[str, list[Any]] = {}
    for path, oid in sorted(files.items()):
        parts = path.split("/")
        if len(parts) == 4 and parts[3] != "kustomization.yaml" and parts[3].endswith(".yaml"):
            out.setdefault(parts[1], []).append(yaml.load(read(oid), Loader=yaml.CSafeLoader))
    return out
