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

``values`` takes netpack's keys (``calico.*``, see ``pipeline.values.pack``) or values
pasted from a Palette cluster profile (``manifests.calico.*``).  Everything is
checked before anything renders: unknown keys, wrong types, enum values and
malformed or non-canonical CIDRs raise a ``ValuesError`` naming the file and
the key.  Whether the CIDR matches the podCIDR is the policy gate's job.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from pipeline.errors import UsageError, ValuesError
from pipeline.model.cluster import Cluster
from pipeline.values.fields import FieldReader
from pipeline.values.pack import read_values
from pipeline.yamlio import read_documents

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_CLOUD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")
_K8S_VERSION = re.compile(r"^1\.[0-9]{1,3}$")


_TOP = {"name", "cloud", "overlay", "kubernetes", "values"}
_K8S = {"version", "podCIDR", "serviceClusterIpRange"}


def read_cluster(path: Path, pack: Path, display_path: str | None = None) -> Cluster:
    """Read and check one cluster file; ``pack`` holds ``overlays/``."""
    shown = display_path or str(path)
    docs = read_documents(path, shown)
    reader = FieldReader(shown)
    if len(docs) != 1:
        raise ValuesError("must hold exactly one YAML document", file=shown, operation="read")
    top = reader.mapping(docs[0], "", _TOP)
    name = reader.string(top.get("name"), "name", required=True)
    assert name is not None
    if not _NAME.match(name):
        raise reader.fail("name", f"{name!r} is not a DNS label (lower-case letters, digits, '-')")
    cloud = reader.string(top.get("cloud"), "cloud", required=True)
    assert cloud is not None
    if not _CLOUD.fullmatch(cloud):
        # checked before it names a directory: "../base" or "aws/." would load another one
        raise reader.fail(
            "cloud", f"{cloud!r} is not a plain cloud name (letters, digits, '-', '_'; no path)"
        )
    overlay = _overlay(reader, top.get("overlay"), cloud, pack, path.parent)
    k8s = reader.mapping(top.get("kubernetes"), "kubernetes", _K8S)
    version = reader.string(k8s.get("version"), "kubernetes.version", required=True)
    if version is not None and not _K8S_VERSION.match(version):
        raise reader.fail(
            "kubernetes.version", f'{version!r} is not a Kubernetes minor version like "1.32"'
        )
    pod = reader.cidr(k8s.get("podCIDR"), "kubernetes.podCIDR", required=True)
    svc = reader.cidr(
        k8s.get("serviceClusterIpRange"), "kubernetes.serviceClusterIpRange", required=True
    )
    assert version is not None and pod is not None and svc is not None
    values = read_values(reader, top.get("values"))
    return Cluster(name, cloud, shown, pack, overlay, version, pod, svc, values)


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


def read_cluster_file(path: Path, pack: Path | None = None) -> Cluster:
    """``read_cluster`` with the pack found as ``find_pack`` does, the path shown as given."""
    from pipeline.kustomize.load import display

    return read_cluster(path, find_pack(path, pack), display(path.absolute()))


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
