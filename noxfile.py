"""Every task runs through nox: tests, lint, typecheck, policy, build, diff, publish, bench."""

from __future__ import annotations

import sys

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True

# The real OPA engine ships as a py3-none wheel that declares Requires-Python >=3.14
# but runs on 3.11+; pip must be told to ignore that on older Pythons.
OPA = "opa-golib-python-bindings==0.4.4"
CLUSTERS = "clusters"
OUT = "out/rendered"
DEPLOY = "out/deploy"  # the local deploy repo the quick start publishes into


def _install(session: nox.Session, *extras: str, editable: bool = True) -> None:
    spec = f".[{','.join(extras)}]" if extras else "."
    session.install(*(["-e"] if editable else []), spec)
    flags = ["--ignore-requires-python"] if sys.version_info < (3, 14) else []
    session.install(*flags, OPA)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (real kubectl kustomize and OPA, no network, no cluster)."""
    _install(session, "test")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Lint and format-check with ruff."""
    session.install("ruff>=0.6,<1")
    session.run("ruff", "check", "pipeline", "tests", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    """Type-check pipeline/ with mypy --strict."""
    _install(session, "test")
    session.install("mypy>=1.10,<2", "types-PyYAML", "types-tqdm")
    session.run("mypy")


@nox.session
def policy(session: nox.Session) -> None:
    """Run the Rego unit tests in policies/ (netpack verify)."""
    _install(session)
    session.run("netpack", "verify", "-p", "policies", "-d", "policies/data")


@nox.session
def build(session: nox.Session) -> None:
    """Render and gate every example cluster into out/rendered/<cluster>/."""
    _install(session)
    import glob

    session.run("netpack", "render", *sorted(glob.glob(f"{CLUSTERS}/*.yaml")), "-o", OUT)


@nox.session
def diff(session: nox.Session) -> None:
    """Show what publishing the example fleet would change in out/deploy (exit 1 = changes)."""
    _install(session)
    session.run(
        "netpack", "diff", "--all", "--deploy-repo", DEPLOY, *session.posargs, success_codes=[0, 1]
    )


@nox.session
def publish(session: nox.Session) -> None:
    """Render, gate and commit the example fleet into the local deploy repo out/deploy."""
    _install(session)
    session.run("netpack", "publish", "--all", "--deploy-repo", DEPLOY, *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmark builds and renders against kubectl kustomize; prints medians and ratios."""
    _install(session, "test", editable=False)  # the CLI is timed as users install it
    session.run("python", "-m", "bench", *session.posargs)
