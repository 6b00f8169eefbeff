"""Provenance: where a render came from, recorded beside it in the deploy repo.

Each cluster's ``.netpack/provenance.json`` names the source repository and
commit (credentials removed), the cluster file, overlay and datastore, the
digests of its values and of every input (``pipeline.publish.incremental``), the
policy set and its verdict, and netpack's version.  Nothing in it changes
between runs over the same inputs, so publishing twice gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.gate.policies import load_policies
from pipeline.model.cluster import Cluster
from pipeline.model.results import CheckResult
from pipeline.publish import git as g
from pipeline.publish.git import Git
from pipeline.publish.incremental import inputs_digest, resolved
from pipeline.publish.repo import status


def canonical_json(data: object) -> bytes:
    """Sorted keys, no spaces, UTF-8: the bytes a digest is taken of."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Source:
    """The source repository a publish renders from."""

    repo: str  # ``git remote get-url origin``, else the repository's path
    commit: str | None  # None when the pack is not in a git repository
    dirty: bool
    root: Path  # paths in the provenance are relative to this

    @property
    def short(self) -> str:
        return self.commit[:7] if self.commit else "unversioned"

    def relative(self, path: Path) -> str:
        """``path`` relative to the source root (POSIX), else as given.  Its directory is
        resolved (once per run: a fleet shares a few), so a symlinked file keeps its name."""
        try:
            return (resolved(path.parent) / path.name).relative_to(resolved(self.root)).as_posix()
        except ValueError:
            return path.as_posix()


@dataclass(frozen=True)
class PolicySet:
    """What the gate was: its engine and a digest of the policies and data it loaded."""

    engine: str
    digest: str

    @classmethod
    def of(cls, policies: Sequence[Path], data: Sequence[Path], engine: str) -> PolicySet:
        """Digest of the non-test module sources (by content, so no path leaks in) and the data."""
        loaded = load_policies(
            [str(p) for p in policies], [str(d) for d in data], include_tests=False
        )
        modules = sorted(sha256(src.encode()) for src in loaded.without_tests().values())
        record = {"modules": modules, "data": loaded.data}
        digest = json.dumps(record, sort_keys=True, separators=(",", ":"), default=str)
        return cls(engine, sha256(digest.encode()))


def values_digest(cluster: Cluster) -> str:
    """sha256 of the canonical JSON of the pack values plus the cluster's Kubernetes fields."""
    record = {
        "values": cluster.values.as_data(),
        "kubernetes": {
            "version": cluster.kubernetes_version,
            "podCIDR": cluster.pod_cidr,
            "serviceClusterIpRange": cluster.service_cidr,
        },
    }
    return sha256(canonical_json(record))


def provenance(
    cluster: Cluster,
    results: Sequence[CheckResult],
    source: Source,
    policy: PolicySet,
) -> dict[str, Any]:
    """The provenance record of one cluster's render: nothing in it changes between runs."""
    file = source.relative(Path(cluster.file))
    digest = values_digest(cluster)
    return {
        "cluster": {
            "name": cluster.name,
            "file": file,
            "overlay": source.relative(cluster.overlay),
            "datastore": cluster.values.datastore,
            "valuesDigest": digest,
            "inputsDigest": inputs_digest(cluster, digest, policy.digest),
        },
        "policy": {
            "digest": policy.digest,
            "engine": policy.engine,
            "tests": sum(r.tests for r in results),
            "passed": sum(r.successes for r in results),
            "warnings": sum(len(r.warnings) for r in results),
            "failures": sum(len(r.failures) for r in results),
        },
        "netpack": {"version": __version__, "command": f"netpack render {file} -o out"},
        "source": {"repo": source.repo, "commit": source.commit, "dirty": source.dirty},
    }


def provenance_bytes(record: Mapping[str, Any]) -> bytes:
    """2-space indent, sorted keys, a final newline."""
    return (json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def same_render(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    """Whether two provenance records describe the same render, whatever the source commit.

    A cluster whose files and record match keeps its old record, so a new source
    commit that leaves a cluster's output alone does not touch its directory.
    """
    if old is None:
        return False
    return {k: v for k, v in old.items() if k != "source"} == {
        k: v for k, v in new.items() if k != "source"
    }


def read_source(pack: Path) -> Source:
    """The pack's repository: origin URL (credentials removed) or path, HEAD, dirty flag."""
    git = Git(pack)
    top = git.run("rev-parse", "--show-toplevel", check=False)
    if top.code != 0:
        root = pack.resolve()
        return Source(str(root), None, True, root)
    root = Path(top.stdout.decode().strip())
    origin = git.run("remote", "get-url", "origin", check=False)
    repo = _without_credentials(origin.stdout.decode().strip()) if origin.code == 0 else str(root)
    commit = g.resolve(git, "HEAD")
    dirty = commit is None or bool(status(git))
    return Source(repo, commit, dirty, root)


def _without_credentials(url: str) -> str:
    """``https://user:token@host/x`` -> ``https://host/x``: provenance is public."""
    return re.sub(r"^([a-z][a-z0-9+.-]*://)[^/@]*@", r"\1", url, flags=re.IGNORECASE)
