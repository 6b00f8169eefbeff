"""Choosing a Rego engine by name.

``make_engine`` builds one of the three engines; ``default_engine_name`` prefers
the real OPA (embedded) and falls back to regopy only when the OPA bindings
cannot be imported, saying so on stderr.  Engine modules are imported lazily: a
missing optional dependency only matters for the engine that needs it.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from pipeline.errors import UsageError
from pipeline.gate.engines.protocol import Engine

ENGINE_NAMES = ("opa", "regopy", "opa-server")


def make_engine(name: str, *, opa_url: str | None = None) -> Engine:
    """A new, unloaded engine: ``opa`` (embedded), ``regopy`` or ``opa-server``."""
    if name == "opa":
        from pipeline.gate.engines.opa_embedded import EmbeddedOpaEngine

        return EmbeddedOpaEngine()
    if name == "regopy":
        with _extra("regopy", "regopy"):
            from pipeline.gate.engines.regopy import RegopyEngine

        return RegopyEngine()
    if name == "opa-server":
        if not opa_url:
            raise UsageError("the opa-server engine needs --opa-url, e.g. http://127.0.0.1:8181")
        with _extra("opa-server", "server"):
            from pipeline.gate.engines.opa_server import OpaServerEngine

        return OpaServerEngine(opa_url)
    raise UsageError(f"unknown policy engine {name!r}; choose one of {', '.join(ENGINE_NAMES)}")


# The modules each optional engine imports, by the extra (pyproject.toml) that brings them.
_EXTRA_MODULES = {"regopy": {"regopy"}, "server": {"opa_client", "requests"}}


@contextmanager
def _extra(engine: str, extra: str) -> Iterator[None]:
    """Turn a missing optional dependency of ``engine`` into the install command."""
    try:
        yield
    except ImportError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing not in _EXTRA_MODULES[extra]:
            raise
        raise UsageError(
            f"--engine {engine} needs the {missing!r} package, which is not installed;"
            f" install the extra: pip install 'netpack[{extra}]'"
        ) from None


def default_engine() -> str:
    """The engine a gate opens without ``--engine``, said without a notice: ``opa`` when
    the OPA bindings import, else ``regopy`` (``default_engine_name`` says why)."""
    from pipeline.gate.engines.opa_embedded import bindings_error

    return "opa" if bindings_error() is None else "regopy"


def default_engine_name() -> str:
    """``opa`` when the OPA bindings import, else ``regopy`` (with a notice on stderr)."""
    from pipeline.gate.engines.opa_embedded import bindings_error, install_command

    problem = bindings_error()
    if problem is None:
        return "opa"
    if importlib.util.find_spec("regopy") is None:
        raise UsageError(
            f"no Rego engine available: the OPA bindings failed ({problem}) and regopy is "
            f"not installed; install the default engine with: {install_command()}"
            " (or use an OPA server: --engine opa-server --opa-url URL)"
        )
    print(
        f"netpack: policy engine regopy (rego-cpp), because the OPA bindings failed: {problem}. "
        "regopy lacks some builtins (net.*) and differs from OPA in places; "
        f"install the default engine with: {install_command()}",
        file=sys.stderr,
    )
    return "regopy"
