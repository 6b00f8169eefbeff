"""The ``netpack`` command line: argparse, the one error handler, exit codes.

Exit codes (README.md lists them): 0 success; 1 the gate found failures;
2 bad command line; 3 bad input (files, YAML, kustomizations, patches,
values) or a policy-engine failure; 4 an internal error (a bug: the traceback
goes to a log file); 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import __version__
from pipeline.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, NetpackError, UsageError

if TYPE_CHECKING:
    from pipeline.cluster import Cluster
    from pipeline.flow import Rendered

# Command modules are imported inside the handlers: a whole `netpack build` process
# must start faster than `kubectl kustomize` (nox -s bench measures it).

DESCRIPTION = """\
Render, gate and publish Calico network packs for a Kubernetes fleet.

  netpack build overlays/azure              kustomize-style build of a directory
  netpack render clusters/aws-prod-1.yaml   one cluster's manifests on stdout
  netpack render clusters/*.yaml -o out/    every cluster into out/<cluster>/
  netpack ops clusters/aws-prod-1.yaml      the effective patches, as a kustomization
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except NetpackError as err:
        print(f"netpack: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("netpack: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # stdout closed early (e.g. piped into head); not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as err:  # the one place a bug is caught: log it, say where
        return _internal_error(err)


def _internal_error(err: Exception) -> int:
    import tempfile
    import traceback

    fd, log = tempfile.mkstemp(prefix="netpack-crash-", suffix=".log")
    with os.fdopen(fd, "w") as out:
        traceback.print_exc(file=out)
    print(
        f"netpack: internal error: {type(err).__name__}: {err} (a bug; traceback in {log})",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="netpack",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"netpack {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("build", help="build a kustomization directory, like kustomize build")
    p.add_argument(
        "directory", type=Path, metavar="DIR", help="a directory with a kustomization.yaml"
    )
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="OUTDIR",
        help="write one file per resource into OUTDIR (as kubectl kustomize -o)",
    )
    p.set_defaults(func=_build)

    p = sub.add_parser("render", help="render clusters: overlay, datastore, values")
    p.add_argument(
        "clusters",
        type=Path,
        nargs="+",
        metavar="CLUSTER_FILE",
        help="cluster files (clusters/<name>.yaml)",
    )
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="DIR",
        help="write DIR/<cluster>/<one file per resource>; required for several clusters",
    )
    _pack_option(p)
    p.set_defaults(func=_render)

    p = sub.add_parser("ops", help="print a cluster's effective patches as a kustomization.yaml")
    p.add_argument("cluster", type=Path, metavar="CLUSTER_FILE")
    p.add_argument(
        "--relative-to",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="where the kustomization.yaml would live (default: .)",
    )
    _pack_option(p)
    p.set_defaults(func=_ops)

    try:
        from pipeline.policy import cli as policy_cli
    except ImportError:  # the policy commands are optional until their module lands
        pass
    else:
        policy_cli.register(sub)
    return parser


def _pack_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pack",
        type=Path,
        metavar="DIR",
        help="the pack holding base/ and overlays/ (default: the nearest directory"
        " above the cluster file that has both, else .)",
    )


def find_pack(cluster_file: Path, explicit: Path | None) -> Path:
    """The pack directory for a cluster file (see ``--pack``)."""
    if explicit is not None:
        if not (explicit / "overlays").is_dir():
            raise UsageError(f"--pack {explicit}: no overlays/ directory there")
        return explicit
    for parent in cluster_file.resolve().parents:
        if (parent / "base").is_dir() and (parent / "overlays").is_dir():
            return parent
    return Path(".")


def _read(path: Path, pack: Path | None) -> Cluster:
    from pipeline.cluster import read_cluster
    from pipeline.load import display

    return read_cluster(path, find_pack(path, pack), display(path.absolute()))


def _build(args: argparse.Namespace) -> int:
    from pipeline.load import build
    from pipeline.render import render_stream, write_directory

    resources = build(args.directory)
    if args.output is not None:
        write_directory(resources, args.output)
    else:
        sys.stdout.write(render_stream(resources))
    return EXIT_OK


def _render(args: argparse.Namespace) -> int:
    from pipeline.flow import render_cluster
    from pipeline.render import render_stream, write_directory

    if args.output is None and len(args.clusters) > 1:
        raise UsageError("several clusters need -o DIR (one sub-directory per cluster)")
    rendered = [render_cluster(_read(path, args.pack)) for path in args.clusters]
    _unique_names(rendered)
    if args.output is None:
        sys.stdout.write(render_stream(rendered[0].bundle.resources))
        return EXIT_OK
    for item in rendered:
        write_directory(item.bundle.resources, args.output / item.cluster.name)
    return EXIT_OK


def _unique_names(rendered: list[Rendered]) -> None:
    seen: dict[str, str] = {}
    for item in rendered:
        first = seen.setdefault(item.cluster.name, item.cluster.file)
        if first != item.cluster.file:
            raise UsageError(
                f"cluster name {item.cluster.name!r} is used by both {first}"
                f" and {item.cluster.file}"
            )


def _ops(args: argparse.Namespace) -> int:
    import yaml

    from pipeline.flow import as_kustomization, render_cluster

    rendered = render_cluster(_read(args.cluster, args.pack))
    kust = as_kustomization(rendered, args.relative_to)
    sys.stdout.write(
        f"# Effective operations for {rendered.cluster.file}, as kustomize would apply them.\n"
    )
    sys.stdout.write(yaml.safe_dump(kust, sort_keys=False, width=1000))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
