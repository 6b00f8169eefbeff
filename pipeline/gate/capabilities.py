"""conftest's ``--capabilities FILE``: policies may call only the builtins the file lists.

OPA's compiler takes a capabilities document; the engines here do not expose that
option, so netpack checks the modules itself, on OPA's own parse
(``rego.parse_module``): every call and operator whose name is not a function of
the policies (a rule of the module's package, or one reached through an import) must
be one of the file's ``builtins``, else the load fails as OPA's compiler fails it
(``rego_type_error: undefined function NAME``).  conftest's own builtins count as
listed.  The other parts of a capabilities document (features, future keywords,
``allow_net``) are not checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pipeline.errors import InputError
from pipeline.gate.builtins import NAMES as CONFTEST_BUILTINS
from pipeline.gate.engines.protocol import Engine, PolicyError


def allowed_builtins(path: str) -> set[str]:
    """The builtin names of a capabilities file (``{"builtins": [{"name": ...}, ...]}``)."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(str(err), file=path, operation="load capabilities") from None
    except json.JSONDecodeError as err:
        raise InputError(
            f"line {err.lineno}: {err.msg}", file=path, operation="load capabilities"
        ) from None
    builtins = document.get("builtins") if isinstance(document, dict) else None
    if not isinstance(builtins, list):
        raise InputError("no builtins list", file=path, operation="load capabilities")
    return {str(b["name"]) for b in builtins if isinstance(b, dict) and "name" in b}


def check(engine: Engine, modules: Mapping[str, str], path: str) -> None:
    """Refuse ``modules`` when they call a builtin the capabilities file ``path`` lacks."""
    allowed = allowed_builtins(path) | set(CONFTEST_BUILTINS)
    parse = getattr(engine, "parse_module", None)
    if parse is None:
        raise PolicyError(
            f"engine {engine.name} cannot check --capabilities (it needs OPA's parser: "
            "--engine opa)",
            operation="--capabilities",
        )
    asts = {name: parse(name, source) for name, source in sorted(modules.items())}
    own = _functions(asts.values())
    for name, module in asts.items():
        aliases = _aliases(module)
        for called in sorted(set(_calls(module.get("rules", [])))):
            first = called.split(".", 1)[0]
            if first in aliases or first == "data" or called in own.get(_package(module), ()):
                continue
            if called not in allowed:
                raise PolicyError(
                    f"rego_type_error: undefined function {called}",
                    file=name,
                    operation="compile (--capabilities)",
                )


def _package(module: Mapping[str, Any]) -> str:
    return ".".join(str(t.get("value")) for t in module.get("package", {}).get("path", [])[1:])


def _aliases(module: Mapping[str, Any]) -> set[str]:
    names = {"input"}
    for item in module.get("imports") or []:
        terms = item.get("path", {}).get("value") or []
        if item.get("alias"):
            names.add(str(item["alias"]))
        elif terms:
            names.add(str(terms[-1].get("value")))
    return names


def _functions(modules: Any) -> dict[str, set[str]]:
    """The rule names of each package (any rule may be called like a function)."""
    found: dict[str, set[str]] = {}
    for module in modules:
        names = found.setdefault(_package(module), set())
        for rule in module.get("rules", []):
            ref = rule.get("head", {}).get("ref") or []
            if ref:
                names.add(str(ref[0].get("value")))
    return found


def _ref_name(term: Any) -> str | None:
    if not isinstance(term, dict) or term.get("type") != "ref":
        return None
    parts = term.get("value") or []
    if not parts or parts[0].get("type") != "var":
        return None
    if any(p.get("type") != "string" for p in parts[1:]):
        return None
    return ".".join(str(p.get("value")) for p in parts)


def _calls(node: Any) -> Iterator[str]:
    """The names called anywhere under ``node``: expression operators and call terms."""
    if isinstance(node, dict):
        terms = node.get("terms")
        if isinstance(terms, list) and terms and (name := _ref_name(terms[0])):
            yield name
        value = node.get("value")
        if node.get("type") == "call" and isinstance(value, list) and value:
            called = _ref_name(value[0])
            if called:
                yield called
        for value in node.values():
            yield from _calls(value)
    elif isinstance(node, list):
        for item in node:
            yield from _calls(item)
