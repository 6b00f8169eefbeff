"""``netpack test`` and ``netpack verify``: conftest's commands and flags over netpack's engines.

``netpack test FILE...`` checks YAML/JSON files against Rego policies exactly as
``conftest test`` does (rules, exceptions, counts, output formats, exit codes);
``netpack verify`` runs the policies' ``test_*`` rules like ``conftest verify``.

Defaults: ``-p`` is ``policy`` when that directory exists (conftest's default),
else ``policies`` (netpack's own layout); ``-d`` is ``data`` when that
directory exists, as in conftest.  Exit codes: 0 clean, 1 failures (with
``--fail-on-warn``: 2 failures, 1 warnings); errors raise ``NetpackError``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from pipeline.cli.arguments import add_policy_timeout
from pipeline.errors import InputError, UsageError
from pipeline.gate import report
from pipeline.gate.engines.choose import ENGINE_NAMES
from pipeline.gate.engines.protocol import PolicyError
from pipeline.gate.report import pretty
from pipeline.terminal import no_color_env

if TYPE_CHECKING:
    from pipeline.gate.engines.protocol import Engine
    from pipeline.gate.policies import Policies

# The evaluation modules are imported inside the handlers, so that registering
# these commands costs `netpack build` nothing at start-up.


def default_policy_dir() -> str:
    """``policy`` as conftest users expect, unless only netpack's ``policies`` exists."""
    if not os.path.isdir("policy") and os.path.isdir("policies"):
        return "policies"
    return "policy"


def open_engine(name: str | None, opa_url: str | None) -> Engine:
    """The engine named on the command line (or the default one); imported late: native code."""
    from pipeline.gate.engines.choose import default_engine_name, make_engine

    return make_engine(name or default_engine_name(), opa_url=opa_url)


def _common(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add(
        "-p",
        "--policy",
        action="append",
        metavar="PATH",
        help="policy file or directory, read recursively for *.rego (repeatable; "
        "default: ./policy, else ./policies)",
    )
    add(
        "-d",
        "--data",
        action="append",
        metavar="PATH",
        help="data file or directory of .yaml/.yml/.json (repeatable; default: ./data if present)",
    )
    add(
        "-n",
        "--namespace",
        action="append",
        metavar="NS",
        help="package to use, globs allowed (repeatable)",
    )
    add("-o", "--output", choices=report.FORMATS, default="stdout", help="output format")
    add("--no-color", action="store_true", help="no ANSI colours in stdout output")
    add("--quiet", action="store_true", help="print nothing when the exit code is 0")
    add("--junit-hide-message", action="store_true", help="junit: leave messages out of test names")
    add("--engine", choices=ENGINE_NAMES, help="Rego engine (default: netpack's default engine)")
    add("--opa-url", metavar="URL", help="OPA server for --engine opa-server")
    add(
        "--rego-version",
        type=str.lower,
        choices=("v0", "v1"),
        default="v1",
        help="Rego syntax of the policies (default v1; v0 modules are converted to v1)",
    )
    add(
        "--strict",
        action="store_true",
        help="OPA's strict compile checks (no engine of netpack offers them: an error)",
    )
    add(
        "--trace",
        action="store_true",
        help="OPA's evaluation trace (no engine of netpack prints OPA's trace: an error)",
    )
    add(
        "--capabilities",
        metavar="FILE",
        help="OPA capabilities JSON: calls to builtins it does not list are errors",
    )
    add(
        "--show-builtin-errors",
        action="store_true",
        help="report builtin errors (netpack always does: a failed builtin is never a pass)",
    )


def register(subparsers: argparse._SubParsersAction[Any], command: str | None = None) -> None:
    """Add ``test``, ``verify`` and ``parse``; each sets ``func(args) -> exit code``."""
    test = subparsers.add_parser(
        "test",
        help="check files against Rego policies, like conftest test",
        description="Check YAML/JSON files against Rego policies with conftest's semantics.",
    )
    test.add_argument("files", nargs="+", metavar="FILE", help="files or directories; - is stdin")
    _common(test)
    add = test.add_argument
    add("--all-namespaces", action="store_true", help="use every package of the policies")
    add("--combine", action="store_true", help="evaluate all files as one input list")
    add("--fail-on-warn", action="store_true", help="exit 1 on warnings, 2 on failures")
    add("--no-fail", action="store_true", help="exit 0 even when policies fail")
    add("--suppress-exceptions", action="store_true", help="stdout: leave out EXCP lines")
    add("--github-hide-passed", action="store_true", help="github: leave out clean files")
    add(
        "--parser",
        metavar="NAME",
        help="parse every input with this parser: yaml, json or toml (default: by extension)",
    )
    add(
        "--ignore",
        metavar="REGEX",
        help="skip files found in directories whose path matches this regular expression",
    )
    add_policy_timeout(test, "the evaluation of all the files")
    test.set_defaults(func=run_test)

    parse = subparsers.add_parser(
        "parse",
        help="print files as the policies see them, like conftest parse",
        description="Print the parsed input files as JSON (conftest parse's output).",
    )
    parse.add_argument("files", nargs="+", metavar="FILE", help="files or directories; - is stdin")
    parse.add_argument(
        "--parser", metavar="NAME", help="yaml, json or toml (default: by extension)"
    )
    parse.add_argument("--combine", action="store_true", help="print the --combine input")
    parse.set_defaults(func=run_parse)

    verify = subparsers.add_parser(
        "verify",
        help="run the policies' test_* rules, like conftest verify",
        description="Run the Rego unit tests (test_* rules) of the policies.",
    )
    _common(verify)
    verify.add_argument(
        "--report", choices=pretty.MODES, help="OPA's test report (stdout output only)"
    )
    verify.set_defaults(func=run_verify)


def _policies(args: argparse.Namespace, *, include_tests: bool) -> Policies:
    from pipeline.gate.policies import as_rego_v1, load_policies

    data = args.data if args.data else (["data"] if os.path.isdir("data") else [])
    found = load_policies(args.policy or [default_policy_dir()], data, include_tests=include_tests)
    return as_rego_v1(found) if args.rego_version == "v0" else found


def _load(engine: Engine, policies: Policies, args: argparse.Namespace, *, tests: bool) -> None:
    from pipeline.gate import builtins
    from pipeline.gate.policies import check_problematic_if

    if args.trace:
        raise PolicyError(
            f"engine {engine.name} cannot print OPA's evaluation trace: the OPA bridge "
            "returns trace events, not OPA's pretty trace that conftest prints, so "
            "--trace is refused rather than answered in another format",
            operation="--trace",
        )
    if args.strict:
        raise PolicyError(
            f"engine {engine.name} cannot compile in strict mode: the OPA bridge, the OPA "
            "server API and regopy have no such option, so --strict is refused rather "
            "than ignored",
            operation="--strict",
        )
    modules = policies.modules if tests else policies.without_tests()
    if args.capabilities:
        from pipeline.gate import capabilities

        capabilities.check(engine, modules, args.capabilities)
    builtins.install(engine, modules)
    engine.load(modules, policies.data)
    if args.rego_version == "v1":  # v0 heads are sets by definition (as_rego_v1)
        check_problematic_if(policies)


def _emit(text: str, code: int, quiet: bool) -> int:
    if text and not (quiet and code == 0):
        sys.stdout.write(text)
        sys.stdout.flush()
    return code


def run_test(args: argparse.Namespace) -> int:
    from pipeline.gate import semantics as conftest
    from pipeline.gate.deadline import PolicyTimeout, evaluate_within, rule_files
    from pipeline.gate.inputs import INPUT_SUFFIXES, read_inputs
    from pipeline.gate.results import exit_code

    documents = read_inputs(
        args.files, parser=args.parser, ignore=args.ignore, suffixes=INPUT_SUFFIXES
    )
    if not documents:
        raise InputError("no files found", operation="read " + " ".join(args.files))
    engine = open_engine(args.engine, args.opa_url)
    stuck = False
    try:
        policies = _policies(args, include_tests=True)
        # *_test.rego modules still count (namespaces, rules), but the engine does not get
        # them: evaluating data.<ns> would run every test_* rule per document (22x slower
        # on netpack's policies; conftest#114), and regopy crashes on some (CONFTEST.md 3.2).
        _load(engine, policies, args, tests=False)
        chosen = conftest.namespaces(
            policies, args.namespace or ["main"], all_namespaces=args.all_namespaces
        )
        results = evaluate_within(
            args.policy_timeout,
            engine,
            chosen,
            lambda namespaces: conftest.check(engine, documents, namespaces, combine=args.combine),
            rule_files(policies),
            f"{len(documents)} file(s)",
        )
    except PolicyTimeout:
        stuck = True  # not closed: the timed-out evaluation may still be inside the engine
        raise
    finally:
        if not stuck:
            engine.close()
    code = 0 if args.no_fail else exit_code(results, fail_on_warn=args.fail_on_warn)
    text = report.render(
        results,
        args.output,
        color=not (args.no_color or no_color_env()),  # conftest: on even off a terminal
        suppress_exceptions=args.suppress_exceptions,
        junit_hide_message=args.junit_hide_message,
        github_hide_passed=args.github_hide_passed,
    )
    return _emit(text, code, args.quiet)


def run_verify(args: argparse.Namespace) -> int:
    from pipeline.gate import semantics as conftest
    from pipeline.gate.results import exit_code

    if args.report and args.output != "stdout":
        raise UsageError("report flag is supported with stdout only", operation="verify --report")
    policies = _policies(args, include_tests=True)
    engine = open_engine(args.engine, args.opa_url)
    try:
        _load(engine, policies, args, tests=True)
        packages = None
        if args.namespace:
            packages = conftest.namespace_names(
                args.namespace, policies.packages, all_namespaces=False
            )
        outcomes = engine.run_tests(packages)
    finally:
        engine.close()
    results = conftest.verify_results(outcomes)  # raises on a test that errored
    code = exit_code(results)
    if args.report:
        return _emit(pretty.render(outcomes, args.report), code, args.quiet)
    text = report.render(
        results,
        args.output,
        color=not (args.no_color or no_color_env()),  # conftest: on even off a terminal
        show_skipped=True,
        junit_hide_message=args.junit_hide_message,
    )
    return _emit(text, code, args.quiet)


def run_parse(args: argparse.Namespace) -> int:
    """conftest parse: one file as 2-space JSON, several as an object by path, or the
    ``--combine`` list tab-indented; Go's escapes and sorted keys."""
    from pipeline.gate import semantics as conftest
    from pipeline.gate.inputs import INPUT_SUFFIXES, documents_of, read_values
    from pipeline.gate.report.jsonfmt import go_json, sorted_keys

    values = read_values(args.files, parser=args.parser, suffixes=INPUT_SUFFIXES)
    if not values:
        raise InputError("no files found", operation="parse " + " ".join(args.files))
    if args.combine:
        combined = conftest.combined_input([(n, documents_of(v)) for n, v in values])
        text = go_json(sorted_keys(combined), indent="\t") + "\n"
    elif len(values) == 1:
        text = go_json(sorted_keys(values[0][1]), indent="  ")
    else:
        text = go_json(sorted_keys(dict(values)), indent="  ")
    sys.stdout.write(text + "\n")
    return 0
