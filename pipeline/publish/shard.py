"""Fleet subsets for CI: ``--changed-since REF`` and ``--shard K/N`` with staged shards.

``--shard K/N`` keeps every N-th cluster file (sorted by name, starting at the
K-th), so N CI jobs split a fleet deterministically.  A shard publishes nothing
itself: ``--stage DIR`` writes its rendered, gated files in the deploy repo's
layout plus ``shard.json``; ``publish --from-stage DIR...`` then checks that the
shards belong together (same N, each K once, same source commit) and makes one
commit of their union.  ``--changed-since REF`` keeps the clusters whose inputs
differ between REF and the work tree (any change to the pack or netpack's own
code selects them all).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.errors import InputError, UsageError
from pipeline.kustomize.output import Staging
from pipeline.model.resourcelist import File
from pipeline.publish.commit import Fleet
from pipeline.publish.git import object_id
from pipeline.publish.provenance import Source, provenance_bytes
from pipeline.publish.tree import PROVENANCE, cluster_root

META = "shard.json"
_SHARD = re.compile(r"^([1-9][0-9]*)/([1-9][0-9]*)$")


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` as ``(K, N)`` with ``1 <= K <= N``."""
    match = _SHARD.match(text)
    if not match or int(match[1]) > int(match[2]):
        raise UsageError(f"--shard {text}: expected K/N with 1 <= K <= N, e.g. 2/4")
    return int(match[1]), int(match[2])


def select_shard(files: Sequence[Path], shard: tuple[int, int]) -> list[Path]:
    """The shard's cluster files: by sorted file name, every N-th from the K-th."""
    k, n = shard
    ordered = sorted(files, key=lambda p: (p.name, str(p)))
    return [path for i, path in enumerate(ordered) if i % n == k - 1]


def changed_paths(pack: Path, ref: str) -> list[Path]:
    """Files that differ between ``ref`` and the work tree of the pack's repo (new ones too)."""
    from pipeline.publish import git as g

    git = g.Git(pack)
    root = Path(git.run("rev-parse", "--show-toplevel").stdout.decode().strip())
    if not git.ok("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"):
        raise UsageError(f"--changed-since {ref}: not a commit of {root}")
    diff = git.run("diff", "--name-only", "-z", ref, "--").stdout.decode()
    new = git.run("ls-files", "--others", "--exclude-standard", "-z").stdout.decode()
    return [root / name for name in (diff + new).split("\0") if name]


def select_changed(files: Sequence[Path], pack: Path, ref: str) -> list[Path]:
    """The cluster files whose render may differ from the one at ``ref``."""
    changed = {p.resolve() for p in changed_paths(pack, ref)}
    shared = [pack.resolve() / d for d in ("base", "overlays", "policies")]
    shared.append(Path(__file__).resolve().parents[1])  # netpack's own code
    if any(root == p or root in p.parents for p in changed for root in shared):
        return list(files)
    return [f for f in files if f.resolve() in changed]


def stage_fleet(directory: Path, fleet: Fleet, shard: tuple[int, int], complete: bool) -> None:
    """Write this shard's files and records for ``publish --from-stage``."""
    files = {path: fleet.store[oid] for c in fleet.clusters for path, oid in c.files.items()}
    records = {c.name: c.provenance for c in fleet.clusters}
    source = fleet.source
    meta = {
        "shard": shard[0],
        "shards": shard[1],
        "complete": complete,
        "flux": fleet.flux,
        "clusters": sorted(records),
        "source": {"repo": source.repo, "commit": source.commit, "dirty": source.dirty},
    }
    write_stage(directory, files, records, meta)


def staged_fleet(directories: Sequence[Path], *, applicationset: bool) -> Fleet:
    """The union of the staged shards, as one fleet to commit."""
    stages = read_stages(directories)
    meta0 = stages[0][0]
    origin = meta0["source"]
    fleet = Fleet(
        [],
        Source(origin["repo"], origin["commit"], bool(origin["dirty"]), Path(".")),
        complete=all(meta["complete"] for meta, _ in stages),
        flux=bool(meta0["flux"]),
        applicationset=applicationset,
    )
    for meta, directory in stages:
        for name in meta["clusters"]:
            root = directory / cluster_root(name)
            record = json.loads((root / PROVENANCE).read_text())
            paths = sorted(p for p in root.rglob("*") if p.is_file())
            files = {
                p.relative_to(directory).as_posix(): _file(p)
                for p in paths
                if not p.relative_to(directory).as_posix().endswith(PROVENANCE)
            }
            fleet.add_cluster(name, files, record)
    return fleet


def _file(path: Path) -> File:
    data = path.read_bytes()
    return File(path.name, object_id(data), data)


def write_stage(
    directory: Path,
    files: dict[str, bytes],
    records: dict[str, dict[str, Any]],
    meta: dict[str, Any],
) -> None:
    """A shard's output: ``files`` (deploy-repo paths), provenance ``records`` by cluster."""
    with Staging(directory) as staging:
        for path, data in sorted(files.items()):
            staging.write(path, data)
        for name, record in sorted(records.items()):
            staging.write(cluster_root(name) + PROVENANCE, provenance_bytes(record))
        staging.write(META, (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode())
        staging.commit()


def read_stages(directories: Sequence[Path]) -> list[tuple[dict[str, Any], Path]]:
    """Each stage's ``shard.json`` and directory, checked to form one whole fleet."""
    stages = []
    for directory in directories:
        path = directory / META
        try:
            meta = json.loads(path.read_text())
        except FileNotFoundError:
            raise InputError(
                "not a staged shard (no shard.json)",
                file=str(directory),
                operation="publish --from-stage",
            ) from None
        except (OSError, ValueError) as err:
            raise InputError(
                f"unreadable: {err}", file=str(path), operation="publish --from-stage"
            ) from None
        stages.append((meta, directory))
    totals = {meta.get("shards") for meta, _ in stages}
    numbers = sorted(meta.get("shard") for meta, _ in stages)
    sources = {json.dumps(meta.get("source"), sort_keys=True) for meta, _ in stages}
    if len(totals) != 1 or numbers != list(range(1, len(stages) + 1)) or totals != {len(stages)}:
        raise InputError(
            f"the stages are shards {numbers} of {sorted(map(str, totals))}; "
            "publish needs every shard 1..N exactly once",
            file=", ".join(str(d) for d in directories),
            operation="publish --from-stage",
        )
    if len(sources) != 1:
        raise InputError(
            "the shards were rendered from different source commits",
            file=", ".join(str(d) for d in directories),
            operation="publish --from-stage",
        )
    return stages
