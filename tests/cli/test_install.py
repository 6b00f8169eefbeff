"""Where the default engine is missing, netpack says the exact command that installs it."""

from __future__ import annotations

import shlex
import subprocess
import sys

from tests.conftest import ROOT

INSTALL = (
    f"{shlex.quote(sys.executable)} -m pip install --ignore-requires-python"
    " opa-golib-python-bindings==0.4.4"
)


def _netpack_without(modules: tuple[str, ...], *args: str) -> subprocess.CompletedProcess[str]:
    """netpack in a process where ``modules`` cannot be imported (as if not installed)."""
    hide = "".join(f"sys.modules[{m!r}] = None; " for m in modules)
    code = f"import sys; {hide}from pipeline.cli.main import main; sys.exit(main({list(args)!r}))"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_no_engine_at_all_names_the_install_command_and_the_server_option() -> None:
    proc = _netpack_without(("opa_bindings", "regopy"), "render", "clusters/aws-prod-1.yaml")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (
        "netpack: error: no Rego engine available: the OPA bindings failed (cannot load"
        " opa-golib-python-bindings 0.4.4: import of opa_bindings halted; None in sys.modules)"
        f" and regopy is not installed; install the default engine with: {INSTALL}"
        " (or use an OPA server: --engine opa-server --opa-url URL)\n"
    )


def test_the_opa_engine_asked_for_by_name_names_the_install_command() -> None:
    proc = _netpack_without(("opa_bindings",), "verify", "--engine", "opa", "-p", "policies")
    assert proc.returncode == 3
    assert proc.stderr == (
        "netpack: error: cannot load opa-golib-python-bindings 0.4.4: import of opa_bindings"
        f" halted; None in sys.modules; install them with: {INSTALL}\n"
    )


def test_the_regopy_fallback_says_how_to_get_the_default_engine() -> None:
    proc = _netpack_without(("opa_bindings",), "render", "clusters/aws-prod-1.yaml")
    assert proc.returncode == 0 and "kind: DaemonSet" in proc.stdout
    assert proc.stderr.startswith("netpack: policy engine regopy (rego-cpp), because")
    assert f"install the default engine with: {INSTALL}\n" in proc.stderr
