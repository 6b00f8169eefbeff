"""Cluster files: a cluster's cloud, its Kubernetes layer and the pack values.

A cluster file (``clusters/<name>.yaml``) looks like::

    name: aws-prod-1
    cloud: aws                       # picks overlays/aws unless overlay: is set
    kubernetes:
      version: "1.32"
      podCIDR: 10.244.0.0/16
      serviceClusterIpRange: 10.96.0.0/12
    values:
      calico:
        encapsulationType: CALICO_IPV4POOL_IPIP
        encapsulationMode: Always
        calicoNetworkCIDR: 10.244.0.0/16
    doctor:
      context: prod-admin@aws-prod-1   # kubeconfig context for `netpack doctor`

``values`` takes netpack's keys (``calico.*``, see ``pipeline.values.pack``) or values
pasted from a Palette cluster profile (``manifests.calico.*``).  Everything is
checked before anything renders: unknown keys (with a "did you mean"), wrong
types, enum values and malformed or non-canonical CIDRs raise a ``ValuesError``
naming the file and the key, all of a file's problems at once (``Problems``).
Whether the CIDR matches the podCIDR is the policy gate's job.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.errors import UsageError, ValuesError
from pipeline.model.cluster import Cluster
from pipeline.values.fields import FieldReader
from pipeline.values.pack import read_values
from pipeline.yamlio import decode_text, parse_documents, read_documents

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_CLOUD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")
_K8S_VERSION = re.compile(r"^1\.[0-9]{1,3}$")


_TOP = {"name", "cloud", "overlay", "kubernetes", "values", "doctor"}
_K8S = {"version", "podCIDR", "serviceClusterIpRange"}
_DOCTOR = {"context"}


def read_cluster(
    path: Path, pack: Path, display_path: str | None = None, data: bytes | None = None
) -> Cluster:
    """Read and check one cluster file (``data``: its bytes, read already); ``pack``
    holds ``overlays/``."""
    shown = display_path or str(path)
    if data is None:
        docs = read_documents(path, shown)
    else:
        docs = parse_documents(decode_text(data, shown), shown)
    reader = FieldReader(shown, collect=True)  # every problem of the file, in one run
    if len(docs) != 1:
        raise ValuesError("must hold exactly one YAML document", file=shown, operation="read")
    top = reader.mapping(docs[0], "", _TOP)
    name = reader.attempt(lambda: _name(reader, top.get("name")), "")
    cloud = reader.attempt(lambda: _cloud(reader, top.get("cloud")), None)
    overlay = reader.attempt(
        lambda: _overlay(reader, top.get("overlay"), cloud, pack, path.parent) if cloud else None,
        None,
    )
    k8s: dict[str, Any] = reader.attempt(
        lambda: reader.mapping(top.get("kubernetes"), "kubernetes", _K8S), {}
    )
    version = reader.attempt(lambda: _version(reader, k8s.get("version")), None)
    pod = reader.attempt(
        lambda: reader.cidr(k8s.get("podCIDR"), "kubernetes.podCIDR", required=True), None
    )
    svc = reader.attempt(
        lambda: reader.cidr(
            k8s.get("serviceClusterIpRange"), "kubernetes.serviceClusterIpRange", required=True
        ),
        None,
    )
    values = reader.attempt(lambda: read_values(reader, top.get("values")), None)
    context = reader.attempt(lambda: _doctor_context(reader, top.get("doctor")), None)
    reader.raise_errors()
    assert cloud and overlay and version and pod and svc and values is not None
    return Cluster(name, cloud, shown, pack, overlay, version, pod, svc, values, context)


def _name(reader: FieldReader, raw: object) -> str:
    name = reader.string(raw, "name", required=True)
    assert name is not None
    if not _NAME.match(name):
        raise reader.fail("name", f"{name!r} is not a DNS label (lower-case letters, digits, '-')")
    return name


def _cloud(reader: FieldReader, raw: object) -> str:
    cloud = reader.string(raw, "cloud", required=True)
    assert cloud is not None
    if not _CLOUD.fullmatch(cloud):
        # checked before it names a directory: "../base" or "aws/." would load another one
        raise reader.fail(
            "cloud", f"{cloud!r} is not a plain cloud name (letters, digits, '-', '_'; no path)"
        )
    return cloud


def _version(reader: FieldReader, raw: object) -> str | None:
    version = reader.string(raw, "kubernetes.version", required=True)
    if version is not None and not _K8S_VERSION.match(version):
        raise reader.fail(
            "kubernetes.version", f'{version!r} is not a Kubernetes minor version like "1.32"'
        )
    return version


def _doctor_context(reader: FieldReader, raw: object) -> str | None:
    """``doctor.context``: a kubeconfig context name (one line, no surrounding spaces)."""
    doctor = reader.mapping(raw, "doctor", _DOCTOR)
    context = reader.string(doctor.get("context"), "doctor.context")
    if context is not None and (context != context.strip() or not context.isprintable()):
        raise reader.fail(
            "doctor.context", f"{context!r} is not a kubeconfig context name (one printable line)"
        )
    return context


def _overlay(reader: FieldReader, raw: object, cloud: str, pack: Path, here: Path) -> Path:
    overlays = pack / "overlays"
    if raw is None:
        path = overlays / cloud
        if not (path / "kustomization.yaml").is_file():
            known = (
                sorted(p.name for p in overlays.iterdir() if (p / "kustomization.yaml").is_file())
                if overlays.is_dir()
                else []
            )
            raise reader.fail(
                "cloud",
                f"unknown cloud {cloud!r}: no {path}/kustomization.yaml"
                f" (known: {', '.join(known) or 'none'})",
            )
        return path
    text = reader.string(raw, "overlay", required=True)
    assert text is not None
    path = (here / text) if not Path(text).is_absolute() else Path(text)
    if not path.is_dir():
        raise reader.fail("overlay", f"no such overlay directory: {text}")
    return path


def find_pack(cluster_file: Path, explicit: Path | None) -> Path:
    """The pack directory for a cluster file: ``explicit`` (``--pack``), else the
    nearest directory above the file that has ``base/`` and ``overlays/``, else ``.``."""
    if explicit is not None:
        if not (explicit / "overlays").is_dir():
            raise UsageError(f"--pack {explicit}: no overlays/ directory there")
        return explicit
    for parent in cluster_file.resolve().parents:
        if (parent / "base").is_dir() and (parent / "overlays").is_dir():
            return parent
    return Path(".")


def read_cluster_file(path: Path, pack: Path | None = None, data: bytes | None = None) -> Cluster:
    """``read_cluster`` with the pack found as ``find_pack`` does, the path shown as given."""
    return read_cluster(path, find_pack(path, pack), shown(path), data)


def shown(path: Path) -> str:
    """How messages name a cluster file."""
    from pipeline.kustomize.load import display

    return display(path.absolute())


def unique_names(clusters: Sequence[Cluster]) -> None:
    """Refuse two cluster files that give the same ``name``."""
    seen: dict[str, str] = {}
    for cluster in clusters:
        first = seen.setdefault(cluster.name, cluster.file)
        if first != cluster.file:
            raise ValuesError(
                f"cluster name {cluster.name!r} is used by {first} too",
                file=cluster.file,
                operation="name",
            )


def read_name(path: Path) -> str:
    """A cluster file's ``name`` (cheap: no checks; the full read comes later if needed)."""
    docs = read_documents(path)
    name = docs[0].get("name") if docs and isinstance(docs[0], dict) else None
    return name if isinstance(name, str) else path.stem
