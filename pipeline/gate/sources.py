"""The file a user edits to fix a gate finding, for annotations and SARIF locations.

A render's findings are about files under the render directory, which are not in
the repository, so a pull request's annotations on them attach to nothing.  The
file to edit is, for a value-driven finding (one whose ``setting`` names a
cluster-file key, such as ``values.calico.mtu``), the cluster file at the line
of that key (or of its nearest parent the file has); for any other finding, the
file the resource was read from (base or overlay) at the line its document starts.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from pipeline.model.resource import Resource
from pipeline.model.results import Location, Result


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """The 1-based line of every mapping key of the first YAML document, by key path."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    lines: dict[tuple[str, ...], int] = {}

    def walk(node: yaml.Node, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    here = (*path, str(key.value))
                    lines[here] = key.start_mark.line + 1
                    walk(value, here)

    if root is not None:
        walk(root, ())
    return lines


def document_lines(text: str) -> list[int]:
    """The 1-based line where each YAML document of ``text`` starts (its first node)."""
    try:
        return [node.start_mark.line + 1 for node in yaml.compose_all(text, Loader=yaml.SafeLoader)]
    except yaml.YAMLError:
        return []


class Sources:
    """Where a finding is fixed; file contents are read once per instance."""

    def __init__(self, cluster_file: str | None) -> None:
        self._cluster_file = cluster_file
        self._keys: dict[tuple[str, ...], int] | None = None
        self._docs: dict[str, list[int]] = {}

    def of(self, result: Result, resource: Resource | None) -> Location | None:
        setting = result.metadata.get("setting")
        if isinstance(setting, str) and setting and self._cluster_file:
            return Location(self._cluster_file, self._setting_line(setting))
        if resource is None:
            return None
        path = resource.origin.path
        if path not in self._docs:
            self._docs[path] = document_lines(_read(path))
        starts = self._docs[path]
        if not Path(path).is_file():
            return None
        index = resource.origin.index
        return Location(path, starts[index] if 0 <= index < len(starts) else 1)

    def _setting_line(self, setting: str) -> int:
        if self._keys is None:
            assert self._cluster_file is not None
            self._keys = key_lines(_read(self._cluster_file))
        path = tuple(setting.split("."))
        while path:
            if path in self._keys:
                return self._keys[path]
            path = path[:-1]
        return 1


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
