"""Which clusters a publish need not render: unchanged since the last publish.

First what the deploy index shows without parsing a file (``kept_by_index``:
the same shared inputs and a cluster file with the recorded sha256), then, for
the files read, what their inputs digests show (``kept_by_digest``) against the
index or, without one, every provenance record.  Kept clusters are neither
rendered nor gated; their files in the deploy repo stay as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from pipeline.errors import ValuesError
from pipeline.model.cluster import Cluster
from pipeline.publish.incremental import file_digest, in_pack, inputs_digest
from pipeline.publish.index import DeployIndex, Entry
from pipeline.publish.provenance import PolicySet, Source, values_digest

Sources = dict[str, tuple[str, str]]  # cluster name -> (file in the source repo, its sha256)


def kept_by_index(
    index: DeployIndex | None,
    shared: str,
    files: Sequence[Path],
    data: Mapping[Path, bytes],
    source: Source,
) -> tuple[dict[str, Entry], set[Path]]:
    """The clusters the deploy index says are unchanged, and their files: same shared
    inputs, a file with the sha256 recorded for it."""
    kept: dict[str, Entry] = {}
    paths: set[Path] = set()
    if index is None or index.shared != shared:
        return kept, paths
    by_file = index.by_file()
    for path in files:
        hit = by_file.get(source.relative(path))
        if hit is not None and path in data and hit[1].file_digest == file_digest(data[path]):
            kept[hit[0]] = hit[1]
            paths.add(path)
    return kept, paths


def sources_of(
    files: Sequence[Path], clusters: Sequence[Cluster], data: Mapping[Path, bytes], source: Source
) -> Sources:
    """Each cluster read (``clusters[i]`` from ``files[i]``) with its file and sha256,
    for the index; only clusters whose overlay is the pack's (``incremental.in_pack``).
    A name a kept cluster has already is refused by ``refuse_twins``."""
    return {
        c.name: (source.relative(path), file_digest(data[path]))
        for path, c in zip(files, clusters, strict=True)
        if in_pack(c) and path in data
    }


def refuse_twins(clusters: Sequence[Cluster], kept: Mapping[str, Entry]) -> None:
    """A cluster file read now must not reuse the name of a kept cluster's file."""
    for cluster in clusters:
        if cluster.name in kept:
            raise ValuesError(  # as values.cluster.unique_names words it
                f"cluster name {cluster.name!r} is used by {kept[cluster.name].file} too",
                file=cluster.file,
                operation="name",
            )


def kept_by_digest(
    clusters: Sequence[Cluster],
    published: Mapping[str, str],
    policy: PolicySet,
    sources: Mapping[str, tuple[str, str]],
) -> dict[str, Entry]:
    """Clusters whose inputs digest equals the one published: no need to render them."""
    kept = {}
    for c in clusters:
        digest = inputs_digest(c, values_digest(c), policy.digest)
        if published.get(c.name) == digest:
            file, sha = sources.get(c.name, (None, None))
            kept[c.name] = Entry(digest, file, sha)
    return kept
