"""The deploy index: what a publish needs to know of the fleet it published, in one blob.

After each publish netpack records, beside the branch and outside its tree
(the ref ``refs/netpack/index/<branch>`` of the repository it commits in: the
deploy repo, or its cache for a remote), every cluster it published there
with its inputs digest (as its provenance has it) and, where the publish read
it, the cluster file and that file's sha256; also the digest of the inputs
every cluster shares (``incremental.shared_digest``) and the commit described.

A publish reads it in one git call, however large the fleet, and keeps every
cluster whose file has the recorded sha256 while the shared digest is the
same: such a cluster's inputs digest is the recorded one (a function of the
file's bytes and the shared inputs), so it is neither parsed nor rendered.
The index is trusted only while the branch tip is the commit it describes:
any other commit on the branch (a hand edit, another machine's publish) makes
it stale, and the publish falls back to every provenance record.  Being
outside the tree, it never shows in a reviewer's diff.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pipeline.publish.git import Git

VERSION = 1


def index_ref(branch: str) -> str:
    return f"refs/netpack/index/{branch}"


@dataclass(frozen=True)
class Entry:
    """One published cluster: its inputs digest; its file and the file's sha256 if known."""

    inputs: str
    file: str | None = None
    file_digest: str | None = None


@dataclass(frozen=True)
class DeployIndex:
    shared: str | None  # ``shared_digest`` of the publish that wrote it
    clusters: Mapping[str, Entry]

    def inputs(self) -> dict[str, str]:
        """``name -> inputs digest`` of every cluster published."""
        return {name: entry.inputs for name, entry in self.clusters.items()}

    def by_file(self) -> dict[str, tuple[str, Entry]]:
        """``file -> (cluster name, entry)`` for the entries that name their file."""
        return {e.file: (name, e) for name, e in self.clusters.items() if e.file and e.file_digest}


def read_index(git: Git, branch: str, tip: str | None) -> DeployIndex | None:
    """The index of ``branch`` if it describes ``tip``; else None (none, stale, or not
    one netpack wrote)."""
    if tip is None:
        return None
    found = git.run("cat-file", "blob", index_ref(branch), check=False)
    if found.code != 0:
        return None
    try:
        record = json.loads(found.stdout)
    except ValueError:
        return None
    if not isinstance(record, dict) or record.get("version") != VERSION:
        return None
    entries = record.get("clusters")
    if record.get("tip") != tip or not isinstance(entries, dict):
        return None
    clusters = {}
    for name, item in entries.items():
        if not isinstance(item, dict) or not isinstance(item.get("inputsDigest"), str):
            return None
        clusters[name] = Entry(item["inputsDigest"], item.get("file"), item.get("fileDigest"))
    shared = record.get("shared")
    return DeployIndex(shared if isinstance(shared, str) else None, clusters)


def write_index(
    git: Git, branch: str, tip: str, shared: str | None, entries: Mapping[str, Entry]
) -> None:
    """Record the index for ``tip``.  Best effort: an index that could not be written is
    a stale one, and the next publish reads the provenance records instead."""
    stored = git.run("hash-object", "-w", "--stdin", stdin=index_bytes(tip, shared, entries))
    if stored.code == 0:
        git.run("update-ref", index_ref(branch), stored.stdout.decode().strip(), check=False)


def index_bytes(tip: str, shared: str | None, entries: Mapping[str, Entry]) -> bytes:
    """Sorted keys, a cluster a line, a final newline: the same inputs give the same bytes."""
    lines = []
    for name in sorted(entries):
        entry = entries[name]
        item = {"file": entry.file, "fileDigest": entry.file_digest, "inputsDigest": entry.inputs}
        lines.append(f"    {json.dumps(name)}: {json.dumps(item, sort_keys=True)}")
    head = json.dumps({"shared": shared, "tip": tip, "version": VERSION}, sort_keys=True)
    body = ",\n".join(lines)
    return f'{head[:-1]}, "clusters": {{\n{body}\n}}}}\n'.encode()


def merged(
    old: Mapping[str, Entry], new: Mapping[str, Entry], removed: Iterable[str]
) -> dict[str, Entry]:
    """The old entries with this publish's laid over them, removed clusters dropped."""
    out = {**old, **new}
    for name in removed:
        out.pop(name, None)
    return out
