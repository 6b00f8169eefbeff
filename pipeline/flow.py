"""The flow: from cluster files to a deploy-repo commit, every stage in order.

1. ``select``      the cluster files a run takes: named, ``--all``, ``--changed-since``, ``--shard``
2. ``read``        each cluster file, every value checked (``values.cluster``)
3. ``build``       the cluster's overlay and datastore component, as kustomize (``kustomize.load``)
4. ``set_values``  the pack values, as RFC 6902 patches (``values.patches``)
5. ``gate``        schemas, then the Rego policies (``gate.check``)
6. ``serialise``   kustomize's bytes, one file per resource (``kustomize.output``)
7. ``plan``        what changes in the deploy repo, by blob id (``publish.commit``)
8. ``commit``      one commit, or none (``publish.commit``)
9. ``report``      the gate's report, the reviewer's diff, a summary line

Stages 3-6 take one cluster's ``ResourceList`` to the next (``render_cluster``);
``render_fleet`` runs them for many clusters, serially or in worker processes,
in the clusters' order.  The commands put the stages together: ``render`` is
1-6 and writes the files (``run_render``), ``publish`` is 1-9 (``run_publish``),
``diff`` is 1-5 and compares with the deploy repo (``run_diff``).  They take
typed options (``pipeline.options``); the CLI only parses arguments into them.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple, TextIO

import yaml

from pipeline.errors import (
    EXIT_OK,
    InputError,
    NetpackError,
    Problems,
    UsageError,
    ValuesError,
    raise_all,
)
from pipeline.gate.check import Gate, context
from pipeline.gate.engines.choose import default_engine
from pipeline.gate.report import render as render_report
from pipeline.gate.results import Tally, exit_code
from pipeline.interrupts import deferred
from pipeline.kustomize.builds import Builds, build_cluster, cluster_kustomization
from pipeline.kustomize.output import Staging, dump, file_names, ordered
from pipeline.kustomize.patch import Patch
from pipeline.limits import MAX_OBJECT_BYTES, size
from pipeline.memo import Memo
from pipeline.model.cluster import Cluster
from pipeline.model.resource import Body, Resource
from pipeline.model.resourcelist import File, ResourceList
from pipeline.model.results import CheckResult
from pipeline.options import (
    DeployOptions,
    DiffOptions,
    GateSettings,
    PublishOptions,
    RenderOptions,
    Report,
    Selection,
)
from pipeline.pool import ordered_map
from pipeline.progress import Progress
from pipeline.publish.commit import (
    CommitOptions,
    Fleet,
    published_digests,
    published_index,
    summary,
)
from pipeline.publish.commit import publish as commit
from pipeline.publish.git import object_id
from pipeline.publish.incremental import (
    forget,
    shared_digest,
)
from pipeline.publish.layout import ControllerFiles, controller_files, manifest_files
from pipeline.publish.provenance import (
    PolicySet,
    Source,
    provenance,
    read_source,
)
from pipeline.publish.repo import DeployError, Target, cache_home, open_target
from pipeline.publish.repo import release as release_deploy_repos
from pipeline.publish.shard import (
    parse_shard,
    select_changed,
    select_shard,
    stage_fleet,
    staged_fleet,
)
from pipeline.publish.unchanged import kept_by_digest, kept_by_index, refuse_twins, sources_of
from pipeline.review.diff import diff_trees
from pipeline.review.diff import exit_code as diff_exit_code
from pipeline.review.format import format_json, format_markdown, format_text
from pipeline.review.published import published_bodies, review_publish
from pipeline.review.summary import Verdict, summarise
from pipeline.terminal import use_color
from pipeline.values.cluster import find_pack, read_cluster_file, read_name, unique_names
from pipeline.values.hints import for_cluster_file
from pipeline.values.patches import set_values as apply_values
from pipeline.yamlio import read_bytes

# --- 1. select, 2. read ---


def select(selection: Selection) -> list[Path]:
    """The cluster files of this run: those named (or ``--all``: every ``clusters/*.yaml``
    of the pack), then those ``--changed-since`` keeps, then ``--shard``'s."""
    files = every_file(selection)
    if selection.changed_since:
        pack = find_pack(files[0], selection.pack)
        files = select_changed(files, pack, selection.changed_since)
    if selection.shard:
        files = select_shard(files, parse_shard(selection.shard))
    return files


def every_file(selection: Selection) -> list[Path]:
    """The cluster files named, or with ``--all`` every ``clusters/*.yaml`` of the pack."""
    if not selection.all:
        return list(selection.files)
    directory = (selection.pack or Path(".")) / "clusters"
    found = sorted(directory.glob("*.yaml"))
    if not found:
        raise InputError(
            "no cluster files (*.yaml) there; refusing to publish an empty fleet",
            file=str(directory),
            operation="publish --all",
        )
    return found


def read(
    files: Sequence[Path], pack: Path | None, data: Mapping[Path, bytes] | None = None
) -> list[Cluster]:
    """Every cluster file, read and checked before anything renders; names are unique.
    The bad inputs of all the files are raised together (``Problems``).  ``data`` holds
    the bytes of files read already."""
    clusters: list[Cluster] = []
    errors: list[NetpackError] = []
    for path in files:
        try:
            clusters.append(read_cluster_file(path, pack, (data or {}).get(path)))
        except Problems as err:
            errors.extend(err.errors)
        except (InputError, ValuesError) as err:
            errors.append(err)
    raise_all(errors)
    unique_names(clusters)
    return clusters


# --- 3. build, 4. set_values, 5. gate, 6. serialise: one cluster ---


def build(cluster: Cluster, builds: Builds | None = None) -> list[Resource]:
    """Stage 3: the overlay and datastore component, built as kustomize builds them
    (``builds`` shares them across a run's clusters)."""
    return build_cluster(cluster, builds)


def set_values(cluster: Cluster, resources: list[Resource]) -> ResourceList:
    """Stage 4: the pack values applied; the list carries the gate's view of the cluster."""
    resources, _ = apply_values(resources, cluster)
    return ResourceList(cluster, tuple(resources), context(cluster.context(), resources))


def gate(
    found: ResourceList,
    with_gate: Gate,
    memo: Memo | None = None,
    seconds: dict[str, float] | None = None,
) -> ResourceList:
    """Stage 5: schema results, then policy results, for every resource, their fix hints
    in the cluster file's keys (``seconds`` gets the time of each part)."""
    assert found.context is not None
    results = with_gate.check(
        found.name,
        found.resources,
        found.context,
        memo=memo,
        seconds=seconds,
        cluster_file=found.cluster.file,
    )
    return replace(found, results=tuple(for_cluster_file(results)))


def serialise(found: ResourceList, memo: Memo | None = None) -> ResourceList:
    """Stage 6: each resource as ``kubectl kustomize -o`` names and writes it, in its order,
    with its blob id (a shared body's bytes and id are computed once per run)."""
    items = ordered(found.resources)
    names = file_names(items, Path(found.name))
    memo = memo or Memo()
    files = tuple(
        File(name, *memo.get("blob", r.body, _blob)) for name, r in zip(names, items, strict=True)
    )
    for file, res in zip(files, items, strict=True):
        if len(file.data) > MAX_OBJECT_BYTES:
            raise InputError(
                f"renders {size(len(file.data))}, over the API server's"
                f" {size(MAX_OBJECT_BYTES)} limit for one object (etcd's request size)",
                file=found.cluster.file,
                operation="render",
                resource=str(res.id),
            )
    return replace(found, files=files)


def _blob(body: Body) -> tuple[str, bytes]:
    data = dump(body).encode()
    return object_id(data), data


def render_cluster(
    cluster: Cluster, with_gate: Gate | None = None, builds: Builds | None = None
) -> ResourceList:
    """Stages 3-5 for one cluster; ``with_gate=None`` only where no verdict is wanted
    (``netpack ops``, ``context`` and ``diff``, which print or compare, never write)."""
    found = set_values(cluster, build(cluster, builds))
    if with_gate is None:
        return found
    return gate(found, with_gate, builds.memo if builds else None)


def value_patches(cluster: Cluster) -> list[Patch]:
    """The RFC 6902 patches the cluster's values become, as applied after its overlay."""
    _, patches = apply_values(build(cluster), cluster)
    return patches


def as_kustomization(cluster: Cluster, directory: Path) -> dict[str, object]:
    """A kustomization.yaml, placed in ``directory``, that ``kustomize build`` turns into
    exactly this cluster's render: the effective operations for reviewers (``netpack
    ops``), and the oracle tests' input."""
    patches = value_patches(cluster)
    kust = cluster_kustomization(cluster)

    def rel(path: Path) -> str:
        return os.path.relpath(path.resolve(), directory.resolve())

    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [rel(path) for _, path in kust.resources],
        "components": [rel(path) for _, path in kust.components],
        "patches": [_patch_entry(patch) for patch in patches],
    }


def _patch_entry(patch: Patch) -> dict[str, Any]:
    return {
        "target": patch.target.as_selector(),
        "patch": yaml.safe_dump(list(patch.ops), sort_keys=False),
    }


# --- The fleet: stages 3-6 for many clusters ---


class Timings:
    """Seconds per stage, summed over the clusters of a run (and its workers)."""

    STAGES = ("read", "build", "values", "schemas", "policies", "serialise", "commit", "report")
    WORKER = STAGES[1:6]  # the stages a worker runs for each cluster

    def __init__(self) -> None:
        self.seconds: dict[str, float] = dict.fromkeys(self.STAGES, 0.0)

    def add(self, seconds: Mapping[str, float]) -> None:
        for stage, value in seconds.items():
            self.seconds[stage] = self.seconds.get(stage, 0.0) + value


def render_fleet(
    clusters: Sequence[Cluster],
    settings: GateSettings | None,
    jobs: int,
    timings: Timings | None = None,
) -> Iterator[ResourceList]:
    """Every cluster through stages 3-6 (3-4 without ``settings``: no gate, no files, the
    resources kept), in the order given, in ``jobs`` worker processes.

    Gated lists come back serialised and without their resources, so a worker
    sends, and the caller holds, one cluster's bytes at a time.  A blob of a
    body the clusters share (CRDs, RBAC, ...) travels once per worker: after
    that only its id does, and this side fills the bytes back in.
    """
    from pipeline.gate.engines.opa_embedded import GO_ENVIRONMENT

    shared: dict[str, bytes] = {}
    shipments = ordered_map(
        _render_one,
        clusters,
        jobs,
        start=_start_worker,
        start_args=(settings,),
        stop=_stop_worker,
        environment=GO_ENVIRONMENT if settings else None,
    )
    for shipment in shipments:
        shared.update(shipment.blobs)
        if timings is not None:
            timings.add(shipment.seconds)
        found = shipment.found
        if any(not f.data for f in found.files):
            files = tuple(f if f.data else f._replace(data=shared[f.oid]) for f in found.files)
            found = replace(found, files=files)
        yield found


class _Shipment(NamedTuple):
    """What a worker sends back for one cluster."""

    found: ResourceList  # a shared blob shipped before has empty ``data`` here
    blobs: dict[str, bytes]  # shared blobs shipped for the first time
    seconds: dict[str, float]  # stage -> seconds this cluster took


class _Worker:
    """What one process keeps between the clusters it renders in one run."""

    def __init__(self, settings: GateSettings | None) -> None:
        self.gate = settings.open() if settings else None
        self.builds = Builds()
        self.shipped: set[str] = set()  # ids of the shared blobs sent already


_WORKER: _Worker | None = None


def _start_worker(settings: GateSettings | None) -> None:
    global _WORKER
    _WORKER = _Worker(settings)


def _stop_worker() -> None:
    global _WORKER
    if _WORKER is not None and _WORKER.gate is not None:
        _WORKER.gate.close()
    _WORKER = None


def _render_one(cluster: Cluster) -> _Shipment:
    worker = _WORKER
    assert worker is not None, "a worker renders only after _start_worker"
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    resources = build(cluster, worker.builds)
    built = time.perf_counter()
    found = set_values(cluster, resources)
    seconds.update(build=built - start, values=time.perf_counter() - built)
    if worker.gate is None:
        return _Shipment(found, {}, seconds)
    memo = worker.builds.memo
    found = gate(found, worker.gate, memo, seconds)
    seconds["documents"] = len(found.resources)  # not a stage: the bench's gate rate
    start = time.perf_counter()
    found = serialise(found, memo)
    seconds["serialise"] = time.perf_counter() - start
    blobs: dict[str, bytes] = {}
    files = []
    for res, file in zip(ordered(found.resources), found.files, strict=True):
        if memo.frozen(res.body) and file.oid in worker.shipped:
            file = file._replace(data=b"")
        elif memo.frozen(res.body):
            worker.shipped.add(file.oid)
            blobs[file.oid] = file.data
            file = file._replace(data=b"")
        files.append(file)
    return _Shipment(replace(found, resources=(), files=tuple(files)), blobs, seconds)


# --- The commands ---


def run_render(options: RenderOptions) -> int:
    """``netpack render``: stages 1-6, and the files written only when every cluster passed.

    Clusters stream through the workers into a staging directory, so memory holds
    one cluster at a time; it is swapped in as the output directory after the last
    cluster passed the gate (an interrupted run leaves that directory as it was).
    Without ``output`` the one cluster is streamed to stdout, and the report goes
    to stderr; with ``check`` nothing is written but the report (on stdout).
    """
    clusters = read(select(options.selection), options.selection.pack)
    settings = options.gate.resolved(clusters[0].pack)
    tally = Tally(fold=options.report.format == "stdout")
    progress = Progress(len(clusters), quiet=options.report.quiet)
    streamed = b""
    with ExitStack() as stack:
        staging: Staging | None = None
        if options.output:
            with deferred():  # a Ctrl-C between making the staging dir and this leaves it
                staging = stack.enter_context(Staging(options.output))
        for found in render_fleet(clusters, settings, options.jobs):
            tally.add(found.results)
            progress.update(found.name, "FAILED" if found.failed else "ok", found.failed)
            if options.check:
                continue
            if staging is None:
                streamed = b"---\n".join(file.data for file in found.files)
            elif not found.failed:
                for file in found.files:
                    staging.write(f"{found.name}/{file.name}", file.data)
        progress.close()
        streaming = staging is None and not options.check
        code = report_gate(tally.results, options.report, sys.stderr if streaming else sys.stdout)
        if code == EXIT_OK:
            if staging is not None:
                staging.commit()
            elif streaming:
                sys.stdout.buffer.write(streamed)
    return code


def run_publish(options: PublishOptions, timings: dict[str, float] | None = None) -> int:
    """``netpack publish``: stages 1-9.  Nothing is written unless the whole fleet passed
    the gate and every render has resources; no commit when nothing changed.
    ``timings`` receives seconds per phase (read, render_gate, commit, report).
    A local deploy repo is held for the whole run (``publish.repo.claim``)."""
    try:
        return _run_publish(options, {} if timings is None else timings)
    finally:
        release_deploy_repos()


def _run_publish(options: PublishOptions, timings: dict[str, float]) -> int:
    start = time.perf_counter()
    forget()  # the pack's tree digests, as they are now
    if options.from_stage:  # the shards were rendered and gated already
        fleet = staged_fleet(options.from_stage, applicationset=options.deploy.applicationset)
        return _commit_and_report(options, open_deploy_repo(options.deploy), fleet, timings)
    every = every_file(options.selection)
    files = select(options.selection)
    pack = find_pack(files[0] if files else every[0], options.selection.pack)
    settings = options.gate.resolved(pack)
    policy = PolicySet.of(settings.policies, settings.data, settings.engine or default_engine())
    source = read_source(pack)
    shared = shared_digest(pack, policy.digest)
    data = readable(files)
    target: Target | None = None
    index = None
    if options.stage is None:
        target = open_deploy_repo(options.deploy)
        index = published_index(target) if not options.full else None
    # Unchanged since the last publish, so not rendered (``publish.unchanged``).
    kept, found = kept_by_index(index, shared, files, data, source)
    to_read = [p for p in files if p not in found]
    clusters = read(to_read, options.selection.pack, data)
    sources = sources_of(to_read, clusters, data, source)
    refuse_twins(clusters, kept)
    published: dict[str, str] | None = None
    # The names of the files --changed-since or --shard left out (read cheaply, once).
    chosen = set(files)
    others = (
        published_names([p for p in every if p not in chosen]) if chosen != set(every) else set()
    )
    if target is not None:
        check_controllers(options.deploy, target, set(kept) | {c.name for c in clusters} | others)
    if target is not None and not options.full:
        published = index.inputs() if index else published_digests(target)
        kept.update(kept_by_digest(clusters, published, policy, sources))
    timings["read"] = time.perf_counter() - start
    todo = [c for c in clusters if c.name not in kept]
    fleet, code = _render_publish(options, todo, settings, policy, source, timings)
    fleet.shared, fleet.sources, fleet.kept_entries = shared, sources, kept
    fleet.published = published
    # Clusters --changed-since left out are unchanged too: --all must not remove them.
    fleet.kept = set(kept) | (others - {c.name for c in clusters})
    if kept and not options.report.quiet:
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
    if options.stage is not None:
        shard = parse_shard(options.selection.shard) if options.selection.shard else (1, 1)
        stage_fleet(options.stage, fleet, shard, complete=options.selection.all)
        n = len(fleet.clusters)
        print(
            f"netpack: staged shard {shard[0]}/{shard[1]} ({n} clusters) in {options.stage}",
            file=sys.stderr,
        )
        return EXIT_OK
    assert target is not None
    return _commit_and_report(options, target, fleet, timings)


def _render_publish(
    options: PublishOptions,
    clusters: Sequence[Cluster],
    settings: GateSettings,
    policy: PolicySet,
    source: Source,
    timings: dict[str, float],
) -> tuple[Fleet, int]:
    """Stages 3-6 for the clusters to publish, collected as the deploy repo's files with
    their provenance; the gate's report printed; its exit code.  ``timings`` gets the
    seconds each worker stage took, summed over the clusters."""
    fleet = Fleet(
        [],
        source,
        complete=options.selection.all,
        flux=options.deploy.flux,
        applicationset=options.deploy.applicationset,
    )
    tally = Tally(fold=options.report.format == "stdout")
    empty: list[str] = []
    # --quiet: the publish's own summary is the one line
    progress = Progress(len(clusters), quiet=options.report.quiet, summary=not options.report.quiet)
    stages = Timings()
    for found in render_fleet(clusters, settings, options.jobs, stages) if clusters else ():
        tally.add(found.results)
        progress.update(found.name, "FAILED" if found.failed else "ok", found.failed)
        if not found.files:
            empty.append(found.cluster.file)
        record = provenance(found.cluster, found.results, source, policy)
        fleet.add_cluster(found.name, manifest_files(found.name, found.files), record)
    progress.close()
    timings.update((s, stages.seconds.get(s, 0.0)) for s in (*Timings.WORKER, "documents"))
    if clusters:
        code = report_gate(tally.results, options.report, sys.stdout)
    else:
        code = exit_code(tally.results, fail_on_warn=options.report.fail_on_warn)
    if empty and code == EXIT_OK:
        raise InputError(
            "renders no resources; refusing to publish an empty render",
            file=empty[0],
            operation="publish",
        )
    return fleet, code


def _commit_and_report(
    options: PublishOptions, target: Target, fleet: Fleet, timings: dict[str, float]
) -> int:
    """Stages 7-9: plan and land one commit (and push), then the diff and a summary."""
    mark = time.perf_counter()
    fleet.controllers = controllers(options.deploy, target, fleet.applicationset, fleet.flux)
    try:
        outcome = commit(target, fleet, CommitOptions(options.deploy.author, options.deploy.sign))
    except OSError as err:  # creating the repo or its cache, the lock file
        raise DeployError(
            err.strerror or str(err), file=err.filename or target.shown, operation="publish"
        ) from None
    timings["commit"] = time.perf_counter() - mark
    mark = time.perf_counter()
    # A machine-readable gate report owns stdout; the diff and summary then go to stderr.
    human = sys.stdout if options.report.format == "stdout" else sys.stderr
    if not options.report.quiet:
        human.write(
            review_publish(target, outcome, fleet, color=use_color(human, options.report.color))
        )
    print(summary(target, outcome, names=not options.report.quiet), file=human)
    fleet.store.close()
    timings["report"] = time.perf_counter() - mark
    return EXIT_OK


def run_diff(options: DiffOptions) -> int:
    """``netpack diff``: stages 1-5 against the deploy repo's tip, per resource, exit codes
    like ``flux diff`` (0 no change, 1 changes).  The gate runs for the summary table's
    verdict; its findings are shown, not turned into the exit code (``render`` and
    ``publish`` own that)."""
    clusters = read(every_file(options.selection), options.selection.pack)
    names = None if options.selection.all else {c.name for c in clusters}
    old = published_bodies(options.deploy, names)  # a bad deploy repo fails before rendering
    new: dict[str, list[Body]] = {}
    verdicts: dict[str, Verdict] = {}
    with_gate = options.gate.resolved(clusters[0].pack).open()
    try:
        builds = Builds()
        for cluster in clusters:
            found = render_cluster(cluster, with_gate, builds)
            new[found.name] = [r.body for r in found.resources]
            verdicts[found.name] = Verdict.of(found.results)
    finally:
        with_gate.close()
    changes = diff_trees(old, new)
    pod_cidrs = {c.name: c.pod_cidr for c in clusters}
    rows = tuple(
        summarise(name, old.get(name), new.get(name), pod_cidrs.get(name), verdicts.get(name))
        for name in changes.by_cluster()
    )
    changes = replace(changes, summaries=rows)
    if options.format == "json":
        sys.stdout.write(format_json(changes))
    elif options.format == "markdown":
        sys.stdout.write(format_markdown(changes, limit=options.limit))
    else:
        color = use_color(sys.stdout, options.color)
        sys.stdout.write(format_text(changes, color=color, limit=options.limit))
    return diff_exit_code(changes)


# --- 9. report ---


def report_gate(results: list[CheckResult], report: Report, stream: TextIO) -> int:
    """Print the gate's report (nothing with ``quiet`` when it passed); its exit code.
    Colours only on a terminal, as ``pipeline.terminal.use_color`` decides."""
    code = exit_code(results, fail_on_warn=report.fail_on_warn)
    text = render_report(results, report.format, color=use_color(stream, report.color))
    if text and not (report.quiet and code == EXIT_OK):
        stream.write(text)
    return code


def open_deploy_repo(deploy: DeployOptions) -> Target:
    """The deploy repo, checked without changing it (``publish.repo.open_target``)."""
    return open_target(
        deploy.repo, deploy.branch, push=deploy.push, cache_home=cache_home(), claim_it=True
    )


def check_controllers(deploy: DeployOptions, target: Target, names: set[str]) -> None:
    """Refuse, before anything renders or is created, a URL no controller can clone and
    an ``--argocd-destination`` for a cluster neither in ``names`` nor published."""
    if controllers(deploy, target) is None or not deploy.applicationset:
        return
    unknown = {cluster for cluster, _ in deploy.controllers.destinations} - names
    if unknown:
        unknown -= set(published_digests(target))
    if unknown:
        raise UsageError(
            f"--argocd-destination {sorted(unknown)[0]}=...: no such cluster in the deploy repo"
        )


def controllers(
    deploy: DeployOptions,
    target: Target,
    applicationset: bool | None = None,
    flux: bool | None = None,
) -> ControllerFiles | None:
    """The Argo CD / Flux files this publish writes (``deploy``'s flags unless given)."""
    return controller_files(
        deploy.controllers,
        remote=target.remote,
        branch=target.branch,
        applicationset=deploy.applicationset if applicationset is None else applicationset,
        flux=deploy.flux if flux is None else flux,
        shown=target.shown,
    )


def readable(files: Sequence[Path]) -> dict[Path, bytes]:
    """The bytes of each cluster file that can be read; ``read`` reports the others."""
    found = {}
    for path in files:
        try:
            found[path] = read_bytes(path, str(path))
        except InputError:
            continue
    return found


def published_names(every: Sequence[Path]) -> set[str]:
    """The names in cluster files (cheaply: no checks)."""
    return {read_name(path) for path in every}
