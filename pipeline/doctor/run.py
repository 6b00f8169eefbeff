"""``netpack doctor``'s flow: per cluster, its render and its state, the checks, one line.

For each cluster file (``pipeline.flow.select`` and ``read``): what it must run
(``expect``: netpack's render, stages 3-4 as ``netpack diff`` renders, or the
deploy repo's manifests), what it runs (``--snapshot FILE``, else ``kubectl``
through the cluster's context), then ``checks``.  The report (the gate's
reporters) goes to stdout, one line per cluster and a fleet summary to stderr.

Contexts: ``--context`` (one cluster), else the cluster file's ``doctor.context``,
else the cluster's name in a fleet run and the current context for one cluster.
Exit codes: 0 healthy, 1 problems found, 3 bad input (a cluster whose snapshot or
context cannot be read, reported on its line while the others are checked).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from pipeline.doctor.checks import check
from pipeline.doctor.expect import Expected, expected
from pipeline.doctor.live import Kubectl, collect, find_kubectl
from pipeline.doctor.snapshot import parse_snapshot, read_snapshot
from pipeline.errors import EXIT_GATE, EXIT_INPUT, EXIT_OK, InputError, NetpackError, UsageError
from pipeline.model.cluster import Cluster
from pipeline.model.results import CheckResult
from pipeline.options import DoctorOptions


def run_doctor(options: DoctorOptions) -> int:
    """Check every selected cluster; print the report; the exit code."""
    from pipeline.flow import every_file, read

    if options.collect is not None:
        return run_collect(options)
    clusters = read(every_file(options.selection), options.selection.pack)
    if options.snapshot is not None and len(clusters) != 1:
        raise UsageError("--snapshot holds one cluster: name exactly one cluster file")
    if options.context is not None and len(clusters) != 1:
        raise UsageError(
            "--context names one cluster; for a fleet set doctor.context in each cluster file"
            " (default: the cluster's name)"
        )
    results: list[CheckResult] = []
    healthy = errors = 0
    for cluster in clusters:
        try:
            found = check_cluster(cluster, options, fleet=len(clusters) > 1)
        except NetpackError as err:
            errors += 1
            print(f"{cluster.name}: error: {err}", file=sys.stderr)
            continue
        results += found
        failures = [r for r in found if r.failures]
        warnings = [r for r in found if r.warnings]
        bad = failures or (warnings if options.fail_on_warn else [])
        healthy += not bad
        print(_line(cluster, found, bad), file=sys.stderr)
    if len(clusters) > 1:
        problems = len(clusters) - healthy - errors
        print(
            f"doctor: {len(clusters)} clusters: {healthy} healthy, {problems} with problems,"
            f" {errors} not checked",
            file=sys.stderr,
        )
    if results:
        sys.stdout.write(_report(results, options))
        sys.stdout.flush()
    if errors:
        return EXIT_INPUT
    return EXIT_OK if healthy == len(clusters) else EXIT_GATE


def check_cluster(cluster: Cluster, options: DoctorOptions, *, fleet: bool) -> list[CheckResult]:
    """One cluster: its render, its state, the checks."""
    want = render_of(cluster, options)
    if options.snapshot is not None:
        snap = read_snapshot(options.snapshot)
    else:
        kubectl = Kubectl(
            find_kubectl(options.kubectl), options.kubeconfig, context_of(cluster, options, fleet)
        )
        snap = parse_snapshot(collect(kubectl, want.namespace, want.etcd), kubectl.shown)
    return check(cluster, want, snap, max_restarts=options.max_restarts)


def context_of(cluster: Cluster | None, options: DoctorOptions, fleet: bool) -> str | None:
    """The kubeconfig context for ``cluster`` (None: kubectl's current context)."""
    if options.context:
        return options.context
    if cluster is not None and cluster.doctor_context:
        return cluster.doctor_context
    return cluster.name if cluster is not None and fleet else None


def render_of(cluster: Cluster, options: DoctorOptions) -> Expected:
    """What the cluster must run: the deploy repo's manifests, else netpack's render."""
    if options.deploy is not None:
        from pipeline.review.published import published_bodies

        bodies = published_bodies(options.deploy, {cluster.name}).get(cluster.name)
        source = f"{options.deploy.repo} {options.deploy.branch}"
        if not bodies:
            raise InputError(
                f"holds no clusters/{cluster.name}/calico (publish it first)",
                file=source,
                operation="doctor --deploy-repo",
            )
        return expected(cluster, bodies, f"the deploy repo ({source})")
    from pipeline.flow import render_cluster

    found = render_cluster(cluster)
    return expected(cluster, [r.body for r in found.resources], f"the render of {cluster.file}")


def run_collect(options: DoctorOptions) -> int:
    """``--collect -o FILE``: write the live snapshot (read-only on the cluster)."""
    from pipeline.flow import every_file, read

    assert options.collect is not None
    clusters = (
        read(every_file(options.selection), options.selection.pack)
        if options.selection.files or options.selection.all
        else []
    )
    if len(clusters) > 1:
        raise UsageError("--collect writes one cluster's snapshot: name at most one cluster file")
    cluster = clusters[0] if clusters else None
    want = render_of(cluster, options) if cluster is not None else None
    kubectl = Kubectl(
        find_kubectl(options.kubectl), options.kubeconfig, context_of(cluster, options, False)
    )
    listing = collect(kubectl, want.namespace if want else None, bool(want and want.etcd))
    parse_snapshot(listing, kubectl.shown)  # what doctor --snapshot will accept
    text = json.dumps(listing, indent=4, sort_keys=True, ensure_ascii=False) + "\n"
    if str(options.collect) == "-":
        sys.stdout.write(text)
    else:
        _write_atomic(options.collect, text)
        print(
            f"netpack: wrote {len(listing['items'])} objects of {kubectl.shown} to"
            f" {options.collect}",
            file=sys.stderr,
        )
    return EXIT_OK


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except OSError as err:
        raise InputError(
            err.strerror or str(err), file=str(path), operation="write snapshot"
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _line(cluster: Cluster, found: list[CheckResult], bad: list[CheckResult]) -> str:
    skipped = sum(len(r.skipped) for r in found)
    ran = len(found) - sum(1 for r in found if r.skipped and not (r.failures or r.warnings))
    if not bad:
        warned = sum(len(r.warnings) for r in found)
        extra = f", {warned} warning{'' if warned == 1 else 's'}" if warned else ""
        return f"{cluster.name}: healthy ({ran} checks, {skipped} not applicable{extra})"
    count = sum(len(r.failures) + len(r.warnings) for r in bad)
    rules = ", ".join(r.namespace for r in bad)
    return f"{cluster.name}: {count} problem{'' if count == 1 else 's'} ({rules})"


def _report(results: list[CheckResult], options: DoctorOptions) -> str:
    from pipeline.gate import report

    if options.format == "markdown":
        from pipeline.gate.report import markdown

        return markdown.render(results)
    return report.render(results, options.format, color=options.color, show_skipped=True)
