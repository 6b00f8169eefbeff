"""Render resources exactly as ``kubectl kustomize`` prints them.

Kustomize sorts resources in its legacy order, prints each one with go-yaml v2's
rules (``pipeline.kustomize.goyaml.dump``), joins them with ``---`` and, for ``-o DIR``,
writes one file per resource.  Every rule was checked against kustomize v5.8.1,
and the oracle tests in ``tests/test_render.py`` keep checking it.

Where kustomize itself is not deterministic or loses data, this module does
something else, on purpose:

- go-yaml's key comparison is not transitive for some keys that mix digits with
  other characters (``"1a" < "2" < "11" < "1a"``). Go also iterates maps in random
  order, so kustomize prints such maps in a different order from one run to the next.
  Here they come out in one fixed order.
- Kustomize drops a ``"<<"`` key, because go-yaml treats it as a merge key. Here
  such a key is an error.
- Kustomize cannot render non-string keys, NaN or infinities (``json: unsupported``),
  and neither can this module; it raises ``InputError`` for them.
- go-yaml writes U+0085 raw and escapes every character of a string that starts
  with U+FEFF. libyaml escapes only the character itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from functools import lru_cache, partial
from pathlib import Path

from pipeline.errors import InputError
from pipeline.kustomize.goyaml import dump
from pipeline.kustomize.target import NOT_NAMESPACED, effective_namespace
from pipeline.model.resource import Resource, ResourceId

__all__ = [
    "dump",
    "file_name",
    "file_names",
    "ordered",
    "render_stream",
    "sort_key",
    "write_directory",
]

# --- Order: api/internal/builtins/SortOrderTransformer.go, legacy order ---

# Upstream marks this list "DO NOT CHANGE!". Kinds not listed rank 0, between the two lists.
_ORDER_FIRST = (
    "Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition",
    "ServiceAccount", "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding",
    "ClusterRoleBinding", "ConfigMap", "Secret", "Endpoints", "Service", "LimitRange",
    "PriorityClass", "PersistentVolume", "PersistentVolumeClaim", "Deployment",
    "StatefulSet", "CronJob", "PodDisruptionBudget",
)  # fmt: skip
_ORDER_LAST = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
_KIND_RANK = {kind: i - len(_ORDER_FIRST) for i, kind in enumerate(_ORDER_FIRST)} | {
    kind: i + 1 for i, kind in enumerate(_ORDER_LAST)
}


@lru_cache(maxsize=4096)  # a fleet sorts the same ids for every cluster
def sort_key(rid: ResourceId) -> tuple[int, str, str]:
    """Return the legacy sort key: kind rank, then ``group_version_kind``, then ``namespace|name``.

    Empty parts are written ``~G``, ``~V`` and ``~K`` in the GVK, and ``~X`` and
    ``~N`` for namespace and name. Both strings are compared whole, so
    ``a-b|x`` sorts before ``a|x``, and an object without a namespace comes after
    the namespaced ones of its kind (``~`` sorts after letters).
    """
    gvk = f"{rid.group or '~G'}_{rid.version or '~V'}_{rid.kind or '~K'}"
    return _KIND_RANK.get(rid.kind, 0), gvk, f"{rid.namespace or '~X'}|{rid.name or '~N'}"


def ordered(resources: Iterable[Resource]) -> list[Resource]:
    """Return ``resources`` in kustomize's legacy order; equal keys keep their input order."""
    return sorted(resources, key=lambda r: sort_key(r.id))


def _dump_resource(resource: Resource) -> str:
    try:
        return dump(resource.body)
    except InputError as err:
        raise InputError(
            err.message, file=str(resource.origin), operation="render", resource=str(resource.id)
        ) from None


def render_stream(resources: Iterable[Resource]) -> str:
    """Return all resources in legacy order, joined by ``---`` lines, with none first or last."""
    return "---\n".join(_dump_resource(r) for r in ordered(resources))


# --- Files: kustomize/commands/build/writer.go WriteIndividualFiles ---


@lru_cache(maxsize=4096)
def _effective_namespace(rid: ResourceId) -> str | None:
    """Return the namespace ``rid`` is filed under (``default`` if unset); None if cluster-wide."""
    # kustomize's own idea of scope (pipeline.kustomize.target has the table and how it was found).
    namespace = effective_namespace(rid)
    return None if namespace == NOT_NAMESPACED else namespace


@lru_cache(maxsize=4096)
def file_name(rid: ResourceId, *, namespace_prefix: bool = False) -> str:
    """Return the name ``kubectl kustomize DIR -o OUTDIR`` gives ``rid``'s file.

    That is ``[group_]version_kind_name.yaml``, lower-cased.

    kubectl prefixes ``<namespace>_`` to every namespaced object once the namespaced
    objects span more than one namespace. Pass ``namespace_prefix=True`` in that
    case, as ``write_directory`` does. Cluster-scoped kinds never get a prefix.
    """
    gvk = "_".join(p for p in (rid.group, rid.version, rid.kind) if p)
    name = f"{gvk}_{rid.name}.yaml".lower()
    namespace = _effective_namespace(rid)
    return f"{namespace.lower()}_{name}" if namespace_prefix and namespace is not None else name


def file_names(resources: list[Resource], out_dir: Path) -> list[str]:
    """Return the file name of each resource in ``out_dir`` (``ordered`` first).

    ``InputError`` if two of them would share a file.
    """
    spread = len({_effective_namespace(r.id) for r in resources} - {None}) > 1
    names = [file_name(r.id, namespace_prefix=spread) for r in resources]
    first: dict[str, Resource] = {}
    for name, resource in zip(names, resources, strict=True):
        if name in first:  # kubectl would silently keep whichever it wrote last
            raise InputError(
                f"is also the file of {first[name].describe()}",
                file=str(out_dir / name),
                operation="write",
                resource=resource.describe(),
            )
        first[name] = resource
    return names


def write_directory(resources: Iterable[Resource], out_dir: Path) -> list[Path]:
    """Write one file per resource, as ``kubectl kustomize DIR -o out_dir`` does.

    Returns the paths written, in legacy order.

    Everything is rendered first and written to a staging directory next to
    ``out_dir``. Each file is then moved into place with ``os.replace``, so no
    file is ever left half-written. Files already in ``out_dir`` that are not
    rewritten stay. Any ``OSError`` becomes an ``InputError`` naming the path.
    """
    items = ordered(resources)
    names = file_names(items, out_dir)
    texts = [_dump_resource(r).encode("utf-8") for r in items]
    with Staging(out_dir) as staging:
        for name, text in zip(names, texts, strict=True):
            staging.write(name, text)
        return staging.commit()


class Staging:
    """Files written under a hidden sibling of ``out_dir``, moved into place by ``commit``.

    Used as a context manager: leaving it without ``commit`` (an error, a red
    gate) removes the staged files and leaves ``out_dir`` untouched.  Files
    already in ``out_dir`` that are not rewritten stay, as with kubectl.
    Any ``OSError`` becomes an ``InputError`` naming the path.
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.names: list[str] = []
        _io(out_dir.parent, partial(out_dir.parent.mkdir, parents=True, exist_ok=True))
        try:
            import tempfile  # here: only -o pays for it at start-up

            self.root = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
        except OSError as err:
            raise _write_error(out_dir.parent, err) from None

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        import shutil

        shutil.rmtree(self.root, ignore_errors=True)

    def write(self, name: str, data: bytes) -> None:
        """Stage ``data`` as ``out_dir/name`` (``name`` may hold one ``/``)."""
        path = self.root / name
        if path.parent != self.root:
            _io(path.parent, partial(path.parent.mkdir, parents=True, exist_ok=True))
        _io(path, partial(path.write_bytes, data))
        self.names.append(name)

    def commit(self) -> list[Path]:
        """Move every staged file into ``out_dir`` with ``os.replace``; returns the paths."""
        for name in self.names:
            target = self.out_dir / name
            _io(target.parent, partial(target.parent.mkdir, parents=True, exist_ok=True))
            _io(target, partial(os.replace, self.root / name, target))
        return [self.out_dir / name for name in self.names]


def _io(path: Path, action: Callable[[], object]) -> None:
    """Run ``action``; an ``OSError`` becomes a one-line ``InputError`` naming ``path``."""
    try:
        action()
    except OSError as err:
        raise _write_error(path, err) from None


def _write_error(path: Path, err: OSError) -> InputError:
    return InputError(err.strerror or str(err), file=str(path), operation="write")
