"""conftest's own Rego builtins (conftest builtins/parse_config.go), for the engines that
take custom functions.

- ``parse_config(parser, text)``: ``text`` parsed with ``parser`` (``yaml``, ``json``, ``toml``);
- ``parse_config_file(path)``: the file at ``path`` joined to the calling policy's directory,
  parsed by its extension;
- ``parse_combined_config_files(paths)``: those files as ``--combine`` gives them,
  ``[{"path", "contents"}]`` sorted by path.

A builtin cannot see which policy calls it, so a relative path is joined to the directory
of the modules that call the function; when modules in several directories do, and the
path would name different files, the call is an error rather than a guess.  Only the
embedded OPA engine takes custom functions (``add_builtins``); with any other engine,
policies that call these are refused at load with an engine error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pipeline.errors import InputError
from pipeline.gate import inputs
from pipeline.gate.engines.protocol import Engine, PolicyError

NAMES = ("parse_config", "parse_config_file", "parse_combined_config_files")
_CALL = re.compile(r"\b(" + "|".join(NAMES) + r")\s*\(")


def called(modules: Mapping[str, str]) -> dict[str, set[str]]:
    """Each conftest builtin the modules call, with the directories of the callers."""
    found: dict[str, set[str]] = {}
    for path, source in modules.items():
        for name in set(_CALL.findall(_without_comments(source))):
            found.setdefault(name, set()).add(os.path.dirname(path))
    return found


def _without_comments(source: str) -> str:
    return re.sub(r"#[^\n]*", "", source)


def install(engine: Engine, modules: Mapping[str, str]) -> None:
    """Give ``engine`` the builtins ``modules`` call; an engine error if it cannot take them."""
    used = called(modules)
    if not used:
        return
    add = getattr(engine, "add_builtins", None)
    if add is None:
        names = ", ".join(sorted(used))
        raise PolicyError(
            f"engine {engine.name} cannot provide conftest's builtin {names} "
            "(custom builtins need --engine opa)",
            operation="load policies",
        )
    add(functions(used))


def functions(used: Mapping[str, set[str]]) -> dict[str, tuple[int, Callable[..., Any]]]:
    """The builtins, bound to the directories of their callers."""

    def parse_config(parser: Any, text: Any) -> Any:
        if not isinstance(parser, str) or not isinstance(text, str):
            raise TypeError("parse_config(parser, config) takes two strings")
        return _parse(lambda: inputs.parser_named(parser)(text, "parse_config"))

    def parse_config_file(path: Any) -> Any:
        if not isinstance(path, str):
            raise TypeError("parse_config_file(path) takes a string")
        file = _resolve(path, used.get("parse_config_file", set()))
        return _parse(lambda: inputs.parse_value(Path(file), file))

    def parse_combined_config_files(paths: Any) -> Any:
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise TypeError("parse_combined_config_files(paths) takes an array of strings")
        dirs = used.get("parse_combined_config_files", set())
        files = [_resolve(p, dirs) for p in paths]
        return _combined([(f, _documents(f)) for f in files])

    table: dict[str, tuple[int, Callable[..., Any]]] = {
        "parse_config": (2, parse_config),
        "parse_config_file": (1, parse_config_file),
        "parse_combined_config_files": (1, parse_combined_config_files),
    }
    return {name: table[name] for name in used}


def _combined(documents: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
    from pipeline.gate.semantics import combined_input

    return combined_input(documents)


def _documents(file: str) -> list[Any]:
    return list(_parse(lambda: inputs.parse_file(Path(file), file)))


def _parse(parse: Callable[[], Any]) -> Any:
    try:
        return parse()
    except InputError as err:
        raise ValueError(str(err)) from None


def _resolve(path: str, dirs: set[str]) -> str:
    """``path`` joined to the callers' directory, as Go's ``filepath.Join`` joins it."""
    joined = {os.path.normpath(os.path.join(d, path.lstrip("/"))) for d in dirs or {""}}
    if len(joined) > 1:
        existing = {p for p in joined if os.path.exists(p)}
        if len(existing) != 1:
            shown = ", ".join(sorted(dirs))
            raise ValueError(
                f"{path}: called from policies in several directories ({shown}), "
                "so the relative path is ambiguous"
            )
        joined = existing
    return joined.pop()
