"""Load a kustomization tree into resources, the way ``kustomize build`` does.

Supported kustomization fields: ``resources`` (files and directories),
``components`` (``kind: Component`` directories) and ``patches`` with RFC 6902
operations (inline ``patch:`` or a ``path:`` file) and a ``target``.  Anything
else is refused with a ``KustomizationError`` rather than silently ignored.

Order follows kustomize (api/internal/target/kusttarget.go): resources are
accumulated depth-first in list order, then each component in turn adds its
resources and applies its patches to everything accumulated so far, then the
kustomization's own patches run.  File resources must lie in or below the
kustomization's directory after resolving symlinks (kustomize's default
``LoadRestrictionsRootOnly``); directories may be anywhere.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from pipeline.errors import KustomizationError
from pipeline.kustomize.patch import Patch, Target, apply_patch
from pipeline.model.resource import Origin, Resource
from pipeline.yamlio import read_documents

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
KUSTOMIZE_API = "kustomize.config.k8s.io/"
_FIELDS = {"apiVersion", "kind", "metadata", "resources", "components", "patches"}


def display(path: Path) -> str:
    """``path`` as shown to users: relative to the working directory when below it."""
    normal = Path(os.path.normpath(path.absolute()))
    try:
        return str(normal.relative_to(Path.cwd()))
    except ValueError:
        return str(normal)


class Kustomization(NamedTuple):
    """One parsed kustomization (or component), its paths resolved."""

    root: Path  # the directory it lives in
    file: str  # display path of the kustomization file, for errors
    kind: str  # "Kustomization" or "Component"
    resources: tuple[tuple[str, Path], ...] = ()  # (entry label, absolute path)
    components: tuple[tuple[str, Path], ...] = ()
    patches: tuple[Patch, ...] = ()


def find_kustomization_file(directory: Path) -> Path:
    """The directory's kustomization file; a ``KustomizationError`` if none or several."""
    found = [directory / name for name in KUSTOMIZATION_FILES if (directory / name).is_file()]
    if not found:
        names = ", ".join(KUSTOMIZATION_FILES)
        raise KustomizationError(
            f"no kustomization file ({names}) in this directory",
            file=display(directory),
            operation="load",
        )
    if len(found) > 1:
        raise KustomizationError(
            "found several kustomization files: " + ", ".join(p.name for p in found),
            file=display(directory),
            operation="load",
        )
    return found[0]


_KUSTOMIZATION_CACHE: dict[tuple[str, str, int, int], Kustomization] = {}


def read_kustomization(directory: Path) -> Kustomization:
    """Parse and check the kustomization file of ``directory``; cached like resource
    files (by path, display, size and mtime), since a fleet reads the same few often."""
    path = find_kustomization_file(directory)
    shown = display(path)
    stat = path.stat()
    key = (str(path), shown, stat.st_mtime_ns, stat.st_size)
    cached = _KUSTOMIZATION_CACHE.get(key)
    if cached is None:
        cached = _parse_kustomization(path, shown)
        _KUSTOMIZATION_CACHE[key] = cached
    return cached


def _parse_kustomization(path: Path, shown: str) -> Kustomization:
    docs = read_documents(path, shown, kustomize=True)
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise KustomizationError("must hold exactly one YAML mapping", file=shown, operation="load")
    raw: dict[Any, Any] = docs[0]
    unknown = sorted(str(k) for k in raw if k not in _FIELDS)
    if unknown:
        raise KustomizationError(
            f"unsupported field {unknown[0]!r} (netpack supports "
            "resources, components and patches with RFC 6902 operations)",
            file=shown,
            operation="load",
        )
    kind = raw.get("kind", "Kustomization")
    if kind not in ("Kustomization", "Component"):
        raise KustomizationError(
            f"kind {kind!r} is not Kustomization or Component", file=shown, operation="load"
        )
    api = raw.get("apiVersion", KUSTOMIZE_API)
    if not isinstance(api, str) or not api.startswith(KUSTOMIZE_API):
        raise KustomizationError(
            f"apiVersion {api!r} is not {KUSTOMIZE_API}*", file=shown, operation="load"
        )
    root = path.parent
    return Kustomization(
        root=root,
        file=shown,
        kind=kind,
        resources=_entries(raw, "resources", root, shown),
        components=_entries(raw, "components", root, shown),
        patches=tuple(_patches(raw.get("patches"), root, shown)),
    )


def _entries(raw: dict[Any, Any], key: str, root: Path, shown: str) -> tuple[tuple[str, Path], ...]:
    value = raw.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise KustomizationError(f"{key} must be a list of paths", file=shown, operation="load")
    entries = []
    for i, item in enumerate(value):
        label = f"{key}[{i}]"
        if not isinstance(item, str) or not item:
            raise KustomizationError("must be a path", file=shown, operation=label)
        if "://" in item or item.startswith("git@"):
            raise KustomizationError(
                f"remote {key} are not supported: {item}", file=shown, operation=label
            )
        entries.append((f"{label} ({item})", root / item))
    return tuple(entries)


def _patches(value: object, root: Path, shown: str) -> Iterable[Patch]:
    if value is None:
        return
    if not isinstance(value, list):
        raise KustomizationError("patches must be a list", file=shown, operation="load")
    for i, entry in enumerate(value):
        label = f"patches[{i}]"
        if not isinstance(entry, dict):
            raise KustomizationError("must be a mapping", file=shown, operation=label)
        extra = sorted(str(k) for k in entry if k not in ("path", "patch", "target"))
        if extra:
            raise KustomizationError(f"unsupported key {extra[0]!r}", file=shown, operation=label)
        if ("path" in entry) == ("patch" in entry):
            raise KustomizationError(
                "needs exactly one of path or patch", file=shown, operation=label
            )
        if "target" not in entry:
            raise KustomizationError(
                "an RFC 6902 patch needs a target", file=shown, operation=label
            )
        target = Target.parse(entry["target"], file=shown, operation=label)
        if "path" in entry:
            ops_raw, label = _patch_file(entry["path"], root, shown, label)
        else:
            ops_raw = _inline_ops(entry["patch"], shown, label)
        ops = Patch.parse_ops(ops_raw, file=shown, label=label)
        yield Patch(ops=ops, target=target, file=shown, label=label)


def _patch_file(value: object, root: Path, shown: str, label: str) -> tuple[object, str]:
    if not isinstance(value, str) or not value:
        raise KustomizationError("path must be a file name", file=shown, operation=label)
    path = _inside_root(root / value, root, shown, label)
    docs = read_documents(path, display(path), kustomize=True)
    if len(docs) != 1:
        raise KustomizationError(
            f"{value} must hold one YAML or JSON list of operations", file=shown, operation=label
        )
    return _ops_list(docs[0], shown, f"{label} ({value})"), f"{label} ({value})"


def _inline_ops(value: object, shown: str, label: str) -> object:
    if isinstance(value, str):
        from pipeline.yamlio import parse_documents

        docs = parse_documents(value, f"{shown} {label}", kustomize=True)
        if len(docs) != 1:
            raise KustomizationError(
                "patch must hold one list of operations", file=shown, operation=label
            )
        value = docs[0]
    return _ops_list(value, shown, label)


def _ops_list(value: object, shown: str, label: str) -> object:
    if isinstance(value, dict):
        raise KustomizationError(
            "strategic-merge patches are not supported; write RFC 6902 operations",
            file=shown,
            operation=label,
        )
    return value


def _inside_root(path: Path, root: Path, shown: str, label: str) -> Path:
    """Refuse a file that resolves outside ``root`` (also through a symlink)."""
    if not _resolves_inside(str(path), str(root)):
        raise KustomizationError(
            f"security: file {display(path)} is not in or below {display(root)}",
            file=shown,
            operation=label,
        )
    return path


def _resolves_inside(path: str, root: str) -> bool:
    # Not cached: a symlink may change between two builds of one process.
    real = Path(os.path.realpath(path))
    real_root = Path(os.path.realpath(root))
    return real == real_root or real_root in real.parents


def build(directory: Path) -> list[Resource]:
    """``kustomize build DIR``: the resources of the tree, patched, in input order."""
    return build_kustomization(read_kustomization(directory), _stack=())


def build_kustomization(kust: Kustomization, *, _stack: Sequence[Path] = ()) -> list[Resource]:
    """Accumulate, apply components, then apply own patches (see module docstring)."""
    if kust.kind != "Kustomization" and not _stack:
        raise KustomizationError(
            "a Component cannot be built on its own; list it under components",
            file=kust.file,
            operation="build",
        )
    stack = (*_stack, Path(os.path.realpath(kust.root)))
    resources: list[Resource] = []
    _accumulate(resources, kust, stack)
    resources = _apply_components(resources, kust, stack)
    for patch in kust.patches:
        resources = apply_patch(resources, patch)
    return resources


def _apply_components(
    resources: list[Resource], kust: Kustomization, stack: Sequence[Path]
) -> list[Resource]:
    """Each component of ``kust`` in turn: add its resources, recurse, apply its patches."""
    for label, path in kust.components:
        component = _child(path, kust, label, stack, "Component")
        inner = (*stack, Path(os.path.realpath(component.root)))
        _accumulate(resources, component, inner)
        resources = _apply_components(resources, component, inner)
        for patch in component.patches:
            resources = apply_patch(resources, patch)
    return resources


def _accumulate(resources: list[Resource], kust: Kustomization, stack: Sequence[Path]) -> None:
    seen = {r.id: r for r in resources}
    for label, path in kust.resources:
        if not os.path.lexists(path):
            raise KustomizationError(
                f"no such file or directory: {display(path)}", file=kust.file, operation=label
            )
        if path.is_dir():
            child = _child(path, kust, label, stack, "Kustomization")
            added: Sequence[Resource] = build_kustomization(child, _stack=stack)
        else:
            added = _file_resources(_inside_root(path, kust.root, kust.file, label), kust, label)
        for res in added:
            rid = res.id
            if rid in seen:
                raise KustomizationError(
                    f"duplicate resource id {rid}: {res.origin} repeats {seen[rid].origin}",
                    file=kust.file,
                    operation=label,
                )
            seen[rid] = res
            resources.append(res)


def _child(
    path: Path, parent: Kustomization, label: str, stack: Sequence[Path], kind: str
) -> Kustomization:
    if not path.exists():
        raise KustomizationError(
            f"no such file or directory: {display(path)}", file=parent.file, operation=label
        )
    if not path.is_dir():
        raise KustomizationError(
            f"{display(path)} is a file; {label.split('[')[0]} entries must be directories",
            file=parent.file,
            operation=label,
        )
    if Path(os.path.realpath(path)) in stack:
        raise KustomizationError(
            f"cycle: {display(path)} includes itself", file=parent.file, operation=label
        )
    child = read_kustomization(path)
    if child.kind != kind:
        raise KustomizationError(
            f"{child.file} is a {child.kind}, expected a {kind}", file=parent.file, operation=label
        )
    return child


_FILE_CACHE: dict[tuple[str, str, int, int], tuple[Resource, ...]] = {}


def _file_resources(path: Path, parent: Kustomization, label: str) -> tuple[Resource, ...]:
    """The objects of one manifest file; cached by path, size and mtime."""
    shown = display(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise KustomizationError(
            f"no such file or directory: {shown}", file=parent.file, operation=label
        ) from None
    key = (str(path), shown, stat.st_mtime_ns, stat.st_size)
    cached = _FILE_CACHE.get(key)
    if cached is None:
        cached = tuple(_objects(read_documents(path, shown, kustomize=True), shown))
        _FILE_CACHE[key] = cached
    return cached


def _objects(docs: list[Any], shown: str) -> Iterable[Resource]:
    for index, doc in enumerate(docs):
        res = Resource(body=doc, origin=Origin(shown, index))
        if not isinstance(doc, dict):
            raise KustomizationError(
                "not a Kubernetes object (a YAML mapping)", file=shown, operation=f"doc {index}"
            )
        rid = res.id
        missing = [
            name
            for name, value in (
                ("apiVersion", rid.version),
                ("kind", rid.kind),
                ("metadata.name", rid.name),
            )
            if not value
        ]
        if missing:
            raise KustomizationError(
                f"missing or empty {', '.join(missing)}", file=shown, operation=f"doc {index}"
            )
        yield res
