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

import errno
import os
import stat
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
    """The whole new ``out_dir``, built in a hidden sibling and swapped in by ``commit``.

    Used as a context manager: leaving it without ``commit`` (an error, a red
    gate, a Ctrl-C) removes the staged files and leaves ``out_dir`` untouched.
    Files already in ``out_dir`` that are not rewritten stay, as with kubectl:
    ``commit`` links them into the staging directory first.  Then ``out_dir`` is
    renamed away, the staging directory renamed to ``out_dir``, and the old one
    removed, with SIGINT held back meanwhile; so ``out_dir`` holds either its old
    files or all the new ones.  A run killed between the two renames leaves the
    old directory beside it: the next ``Staging`` of that ``out_dir`` puts it back,
    and removes what killed runs left, but never what a live run holds (``flock``).
    A symlinked ``out_dir`` stays a symlink: its target is swapped.
    Any ``OSError`` becomes an ``InputError`` naming the path.
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.names: list[str] = []
        self.place = Path(os.path.realpath(out_dir))  # what is swapped
        _io(out_dir.parent, partial(out_dir.parent.mkdir, parents=True, exist_ok=True))
        _recover(self.place)
        try:
            import tempfile  # here: only -o pays for it at start-up

            prefix = f".{self.place.name}.{_NEW}"
            self.root = Path(tempfile.mkdtemp(prefix=prefix, dir=self.place.parent))
        except OSError as err:
            raise _write_error(out_dir.parent, err) from None
        self.key = self.root.name.removeprefix(prefix)
        try:
            self._held = _lock(self.root)
        except BaseException:
            import shutil

            shutil.rmtree(self.root, ignore_errors=True)
            raise

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        import shutil

        shutil.rmtree(self.root, ignore_errors=True)
        _unlock(self._held)

    def write(self, name: str, data: bytes) -> None:
        """Stage ``data`` as ``out_dir/name`` (``name`` may hold one ``/``)."""
        path = self.root / name
        if path.parent != self.root:
            _io(path.parent, partial(path.parent.mkdir, parents=True, exist_ok=True))
        _io(path, partial(path.write_bytes, data))
        self.names.append(name)

    def commit(self) -> list[Path]:
        """Swap the staged directory in as ``out_dir`` (with the files kept); returns the
        paths written."""
        import shutil

        from pipeline.interrupts import deferred

        place = self.place
        if os.path.lexists(place) and not place.is_dir():
            raise _write_error(self.out_dir, FileExistsError(errno.EEXIST, "File exists"))
        if place.is_dir():
            self._keep(place)
        else:
            _io(self.root, partial(os.chmod, self.root, 0o777 & ~_umask()))
        old = place.with_name(f".{place.name}.{_OLD}{self.key}")
        with deferred():
            if not place.is_dir():
                _io(self.out_dir, partial(os.rename, self.root, place))
            else:
                held = _lock(place)  # the old directory, while it is beside
                try:
                    _io(self.out_dir, partial(os.rename, place, old))
                    try:
                        os.rename(self.root, place)
                    except OSError as err:
                        os.rename(old, place)
                        raise _write_error(self.out_dir, err) from None
                    shutil.rmtree(old, ignore_errors=True)
                finally:
                    _unlock(held)
            _unlock(self._held)  # it is ``out_dir`` now
            self._held = None
        return [self.out_dir / name for name in self.names]

    def _keep(self, place: Path) -> None:
        """Link every file of ``place`` that is not rewritten into the staging directory,
        directory modes as they were."""
        for top, dirs, files in os.walk(place):
            rel = os.path.relpath(top, place)
            into = self.root if rel == "." else self.root / rel
            if into.is_file():  # a new file where a directory was
                raise _write_error(
                    self.out_dir / rel, IsADirectoryError(errno.EISDIR, "Is a directory")
                )
            _io(into, partial(into.mkdir, exist_ok=True))
            _io(into, partial(os.chmod, into, stat.S_IMODE(os.stat(top).st_mode)))
            links = [d for d in dirs if os.path.islink(os.path.join(top, d))]
            for name in [*files, *links]:
                source, target = os.path.join(top, name), into / name
                if os.path.lexists(target):
                    if target.is_dir() and not target.is_symlink():  # a new directory there
                        raise _write_error(
                            self.out_dir / rel / name, FileExistsError(errno.EEXIST, "File exists")
                        )
                    continue  # rewritten
                _io(target, partial(_link, source, target))


_NEW = "netpack-new-"  # .<out>.netpack-new-<key>: a staging directory
_OLD = "netpack-old-"  # .<out>.netpack-old-<key>: the old <out> during the swap


def _link(source: str, target: Path) -> None:
    """``target`` as a second name of ``source`` (a copy where hard links fail)."""
    if os.path.islink(source):
        os.symlink(os.readlink(source), target)
        return
    try:
        os.link(source, target)
    except OSError:
        import shutil

        shutil.copy2(source, target)


def _recover(place: Path) -> None:
    """Clean up after runs killed while staging for ``place``: an old directory renamed
    away during an unfinished swap goes back, staging directories are removed."""
    import shutil

    prefix = f".{place.name}."
    try:
        found = sorted(p.name for p in place.parent.iterdir() if p.name.startswith(prefix))
    except OSError:
        return
    old = [n for n in found if n.startswith(prefix + _OLD)]
    new = [n for n in found if n.startswith(prefix + _NEW)]
    for name in [*old, *new]:  # old first: its swap's staging directory tells what to do
        path = place.parent / name
        held = _lock(path, wait=False)
        if held is None:
            continue  # a live run's
        try:
            key = name.removeprefix(prefix + _OLD)
            if name in old and not os.path.lexists(place) and prefix + _NEW + key in new:
                _io(place, partial(os.rename, path, place))  # the swap did not finish
            else:
                shutil.rmtree(path, ignore_errors=True)
        finally:
            _unlock(held)


def _lock(path: Path, *, wait: bool = True) -> int | None:
    """An open descriptor of directory ``path`` holding an exclusive ``flock`` on it;
    None without ``wait`` when another process holds it (or ``path`` is gone)."""
    try:
        import fcntl
    except ImportError:  # no flock: nothing is recovered
        return None if not wait else -1
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except OSError:
        os.close(fd)
        return None
    return fd


def _unlock(fd: int | None) -> None:
    if fd is not None and fd >= 0:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _io(path: Path, action: Callable[[], object]) -> None:
    """Run ``action``; an ``OSError`` becomes a one-line ``InputError`` naming ``path``."""
    try:
        action()
    except OSError as err:
        raise _write_error(path, err) from None


def _write_error(path: Path, err: OSError) -> InputError:
    return InputError(err.strerror or str(err), file=str(path), operation="write")
