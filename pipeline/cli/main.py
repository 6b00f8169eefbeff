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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from pipeline import __version__
from pipeline.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, NetpackError, UsageError

if TYPE_CHECKING:
    from pipeline.model.cluster import Cluster

# A whole `netpack build` process must start faster than `kubectl kustomize` (nox -s
# bench measures it): command modules are imported inside the handlers, and only the
# command being run gets its parser.  The commands this module defines are in _OWN (below
# their functions); the others are registered by their own modules.
_REGISTERED_BY = {
    "test": "pipeline.cli.policy",
    "verify": "pipeline.cli.policy",
    "validate": "pipeline.cli.validate",
    "publish": "pipeline.cli.publish",
    "diff": "pipeline.cli.diff",
}

DESCRIPTION = """\
Render, gate and publish Calico network packs for a Kubernetes fleet.

  netpack build overlays/azure              kustomize-style build of a directory
  netpack render clusters/aws-prod-1.yaml   one cluster's manifests on stdout
  netpack render clusters/*.yaml -o out/    every cluster into out/<cluster>/
  netpack ops clusters/aws-prod-1.yaml      the effective patches, as a kustomization
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser(_command(argv)).parse_args(argv)
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


def _command(argv: Sequence[str]) -> str | None:
    """The command ``argv`` runs: its first word (no top-level option takes a value)."""
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    return first if first in _OWN or first in _REGISTERED_BY else None


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with ``command``, just enough to parse that command's line
    (its usage, help and errors do not show the other commands)."""
    parser = _Parser(
        prog="netpack", description=DESCRIPTION, formatter_class=_RawDescriptionFormatter
    )
    parser.add_argument("--version", action="version", version=f"netpack {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, add in _OWN.items():
        if command is None or command == name:
            add(sub)
    import importlib

    for module in dict.fromkeys(_REGISTERED_BY.values()):
        if command is None or _REGISTERED_BY.get(command) == module:
            importlib.import_module(module).register(sub)
    return parser


def _terminal_width() -> int:
    """``shutil.get_terminal_size().columns``, which argparse's help formatter asks for
    on every ``add_argument``, without importing shutil (start-up time)."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _HelpFormatter(argparse.HelpFormatter):
    def __init__(self, prog: str, *args: Any, **kwargs: Any) -> None:
        if len(args) < 3 and kwargs.get("width") is None:
            kwargs["width"] = _terminal_width() - 2  # as argparse does
        super().__init__(prog, *args, **kwargs)


class _RawDescriptionFormatter(argparse.RawDescriptionHelpFormatter, _HelpFormatter):
    pass


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose help formatter (and its sub-commands') needs no shutil."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)


def _add_build(sub: argparse._SubParsersAction[Any]) -> None:
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


def _add_render(sub: argparse._SubParsersAction[Any]) -> None:
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
    _gate_options(p)
    p.set_defaults(func=_render)


def _add_context(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "context", help="print a cluster's context: the data.netpack document the gate reads"
    )
    p.add_argument("cluster", type=Path, metavar="CLUSTER_FILE")
    _pack_option(p)
    p.set_defaults(func=_context)


def _add_ops(sub: argparse._SubParsersAction[Any]) -> None:
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


_OWN: dict[str, Callable[[argparse._SubParsersAction[Any]], None]] = {
    "build": _add_build,
    "render": _add_render,
    "context": _add_context,
    "ops": _add_ops,
}


def _gate_options(parser: argparse.ArgumentParser) -> None:
    from pipeline.gate.engines.choose import ENGINE_NAMES
    from pipeline.gate.report import FORMATS

    add = parser.add_argument
    add(
        "-p",
        "--policy",
        type=Path,
        action="append",
        metavar="PATH",
        help="Rego policies for the gate (repeatable; default: <pack>/policies)",
    )
    add(
        "-d",
        "--data",
        type=Path,
        action="append",
        metavar="PATH",
        help="policy data (repeatable; default: <pack>/policies/data)",
    )
    add("--engine", choices=ENGINE_NAMES, help="Rego engine (default: embedded OPA)")
    add("--opa-url", metavar="URL", help="OPA server for --engine opa-server")
    add(
        "--format",
        choices=FORMATS,
        default="stdout",
        help="gate report format, as netpack test -o (default: stdout)",
    )
    add("--fail-on-warn", action="store_true", help="warnings stop the render too")
    add("--no-color", action="store_true", help="no ANSI colours in the gate report")
    add("--quiet", action="store_true", help="no gate report when the gate passes, no progress")
    add(
        "-j",
        "--jobs",
        type=int,
        metavar="N",
        help="worker processes (default: the number of cores); output is the same for any N",
    )


def _pack_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pack",
        type=Path,
        metavar="DIR",
        help="the pack holding base/ and overlays/ (default: the nearest directory"
        " above the cluster file that has both, else .)",
    )


def _build(args: argparse.Namespace) -> int:
    from pipeline.kustomize.load import build
    from pipeline.kustomize.output import render_stream, write_directory

    resources = build(args.directory)
    if args.output is not None:
        write_directory(resources, args.output)
    else:
        sys.stdout.write(render_stream(resources))
    return EXIT_OK


def _render(args: argparse.Namespace) -> int:
    """Render and gate every cluster; write only when the whole fleet passed.

    Clusters stream through ``--jobs`` worker processes into a staging directory,
    so memory holds one cluster at a time; the staged files move into place only
    after the last cluster passed the gate.
    """
    from pipeline.cli.progress import Progress
    from pipeline.gate import report
    from pipeline.gate.results import Tally, exit_code
    from pipeline.kustomize.output import Staging
    from pipeline.pool import Settings, default_jobs, render_many

    if args.output is None and len(args.clusters) > 1:
        raise UsageError("several clusters need -o DIR (one sub-directory per cluster)")
    from pipeline.values.cluster import read_cluster_file

    clusters = [read_cluster_file(path, args.pack) for path in args.clusters]  # all values first
    _unique_names(clusters)
    settings = Settings.of(args, clusters[0].pack)
    tally = Tally(fold=args.format == "stdout")
    streamed = b""
    staging = Staging(args.output) if args.output is not None else None
    progress = Progress(len(clusters), quiet=args.quiet)
    try:
        for out in render_many(args.clusters, settings, args.jobs or default_jobs()):
            tally.add(out.results)
            progress.update(out.name, "FAILED" if out.failed else "ok", out.failed)
            if staging is None:
                streamed = b"---\n".join(data for _, data in out.files)
            elif not out.failed:
                for name, data in out.files:
                    staging.write(f"{out.name}/{name}", data)
        progress.close()
        results = tally.results
        code = exit_code(results, fail_on_warn=args.fail_on_warn)
        text = report.render(results, args.format, color=not args.no_color)
        if text and not (args.quiet and code == EXIT_OK):
            # The manifests own stdout when they are streamed; the report then goes to stderr.
            (sys.stdout if staging is not None else sys.stderr).write(text)
        if code == EXIT_OK:
            if staging is not None:
                staging.commit()
            else:
                sys.stdout.buffer.write(streamed)
        return code
    finally:
        if staging is not None:
            staging.__exit__(None, None, None)


def _unique_names(clusters: list[Cluster]) -> None:
    seen: dict[str, str] = {}
    for cluster in clusters:
        first = seen.setdefault(cluster.name, cluster.file)
        if first != cluster.file:
            raise UsageError(
                f"cluster name {cluster.name!r} is used by both {first} and {cluster.file}"
            )


def _context(args: argparse.Namespace) -> int:
    import yaml

    from pipeline.flow import render_cluster
    from pipeline.values.cluster import read_cluster_file

    rendered = render_cluster(read_cluster_file(args.cluster, args.pack), None)
    doc = {"netpack": rendered.bundle.context}
    sys.stdout.write(yaml.safe_dump(doc, sort_keys=True, default_flow_style=False))
    return EXIT_OK


def _ops(args: argparse.Namespace) -> int:
    import yaml

    from pipeline.flow import as_kustomization, render_cluster
    from pipeline.values.cluster import read_cluster_file

    rendered = render_cluster(read_cluster_file(args.cluster, args.pack), None)
    kust = as_kustomization(rendered, args.relative_to)
    sys.stdout.write(
        f"# Effective operations for {rendered.cluster.file}, as kustomize would apply them.\n"
    )
    sys.stdout.write(yaml.safe_dump(kust, sort_keys=False, width=1000))
    return EXIT_OK


def run() -> NoReturn:
    """The console script: ``main``, then a quick exit.

    Everything a normal exit does that anyone can observe still happens: the
    atexit handlers run (temporary directories, finalizers) and stdout and
    stderr are flushed.  What is skipped is the interpreter's teardown, freeing
    every module and object one by one: ~7 ms of each netpack process, a tenth of
    a ``netpack build``, for memory the operating system takes back anyway.  A
    process with other threads still running exits normally, joining them.
    """
    code = main()
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        sys.exit(code)
    import atexit
    import contextlib

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        # a reader that went away, a closed stream: nothing left to tell anyone
        with contextlib.suppress(BrokenPipeError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
