"""The ``netpack`` command line: the one error handler, exit codes, and the command table.

Exit codes (README.md lists them): 0 success; 1 the gate found failures;
2 bad command line; 3 bad input (files, YAML, kustomizations, patches,
values) or policies that cannot be evaluated; 4 an internal error (a bug: the
traceback goes to a log file); 5 the policy engine itself failed (a crash, an
answer that is not OPA's); 130 interrupted.

Each command lives in its own module, which parses its arguments into a
``pipeline.options`` record and calls ``pipeline.flow``.  Only the module of the
command being run is imported, and only its parser is built (``pipeline.startup``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from pipeline import __version__
from pipeline.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, NetpackError
from pipeline.startup import ArgumentParser, RawDescriptionHelpFormatter, fast_exit

# Every command, and the module that registers it (``register(subparsers)``).
COMMANDS = {
    "build": "pipeline.cli.render",
    "render": "pipeline.cli.render",
    "context": "pipeline.cli.render",
    "ops": "pipeline.cli.render",
    "test": "pipeline.cli.policy",
    "verify": "pipeline.cli.policy",
    "parse": "pipeline.cli.policy",
    "validate": "pipeline.cli.validate",
    "publish": "pipeline.cli.publish",
    "diff": "pipeline.cli.diff",
    "doctor": "pipeline.cli.doctor",
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
    try:  # the parse too: it imports the command's module, and a Ctrl-C may come then
        args = _parser(_command(argv)).parse_args(argv)
        code: int = args.func(args)
        return code
    except NetpackError as err:
        for line in err.lines():
            print(f"netpack: error: {line}", file=sys.stderr)
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
    return first if first in COMMANDS else None


def _parser(command: str | None = None) -> ArgumentParser:
    """The whole parser; with ``command``, just enough to parse that command's line
    (its usage, help and errors do not show the other commands)."""
    parser = ArgumentParser(
        prog="netpack", description=DESCRIPTION, formatter_class=RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"netpack {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    import importlib

    for module in dict.fromkeys(COMMANDS.values()):
        if command is None or COMMANDS[command] == module:
            importlib.import_module(module).register(sub, command)
    return parser


def run() -> NoReturn:
    """The console script: ``main``, then a quick exit (``pipeline.startup.fast_exit``)."""
    fast_exit(main())


if __name__ == "__main__":
    run()
