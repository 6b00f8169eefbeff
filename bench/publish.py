"""One publish of a generated fleet, timed phase by phase, for ``python -m bench``."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from pipeline.cli.publish import options, register
from pipeline.flow import run_publish

SCENARIOS = ("cold", "unchanged", "one_change")


def bench_publish(
    n: int, workdir: Path, scenario: str, pack: Path | None = None, *, jobs: int = 0
) -> dict[str, float]:
    """One publish of a generated fleet of ``n`` clusters (``bench.fleet``) into the
    bare repo ``workdir/deploy.git``.  ``cold`` writes the fleet and a new repo first;
    ``unchanged`` publishes it again; ``one_change`` changes one value on one cluster
    first.  Run each in a process of its own, in that order: seconds per phase, and the
    peak RSS of this process in MiB (the ``--jobs`` render workers are not counted)."""
    import contextlib
    import io
    import subprocess

    from bench.fleet import write_fleet

    pack = pack or Path(__file__).resolve().parents[1]
    files = sorted((workdir / "clusters").glob("*.yaml"))
    repo = workdir / "deploy.git"
    if scenario == "cold":
        files = write_fleet(workdir / "clusters", n)
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(repo)], check=True)
    elif scenario == "one_change":  # one value on one cluster (valid on every cloud)
        files[0].write_text(files[0].read_text() + "    mtu: 1400\n")
    parser = argparse.ArgumentParser(prog="netpack")
    register(parser.add_subparsers(dest="command", required=True))
    argv = ["publish", *map(str, files), "--deploy-repo", str(repo), "--pack", str(pack)]
    args = parser.parse_args([*argv, "--quiet", *(["--jobs", str(jobs)] if jobs else [])])
    timings: dict[str, float] = {}
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        run_publish(options(args), timings)
    figures = {"seconds": time.perf_counter() - start, **timings}
    figures["peak_rss_mib"] = _peak_rss_mib()
    return figures


def _peak_rss_mib() -> float:
    """This process's peak RSS: VmHWM where Linux has it.  ``ru_maxrss`` survives
    ``execve``, so a process started by a bigger one would report that one's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
