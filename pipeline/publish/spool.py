"""The rendered blobs of one publish, kept in a temporary file rather than in memory.

A cold publish of 10,000 clusters renders ~100,000 distinct files (most
clusters have their own DaemonSet, ConfigMap and provenance record).  Held as
``bytes`` they would be the largest part of the main process's memory; here
each costs an index entry, and the bytes wait in an unlinked temporary file
until the publish packs them (``pipeline.publish.pack``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO


class Spool:
    """``blob id -> bytes``, written once, read back by id (``spool[oid]``)."""

    def __init__(self) -> None:
        self._file: IO[bytes] | None = None
        self._where: dict[str, tuple[int, int]] = {}  # oid -> (offset, length)
        self._end = 0

    def add(self, oid: str, data: bytes) -> None:
        """Keep ``data`` under ``oid`` unless it is kept already."""
        if oid in self._where:
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="netpack-blobs-")  # noqa: SIM115 (closed by close)
        self._file.seek(self._end)
        self._file.write(data)
        self._where[oid] = (self._end, len(data))
        self._end += len(data)

    def __getitem__(self, oid: str) -> bytes:
        offset, length = self._where[oid]
        if length == 0:
            return b""
        assert self._file is not None
        self._file.seek(offset)
        return self._file.read(length)

    def __contains__(self, oid: object) -> bool:
        return oid in self._where

    def __len__(self) -> int:
        return len(self._where)

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def items(self) -> Iterator[tuple[str, bytes]]:
        for oid in list(self._where):
            yield oid, self[oid]

    def renamed(self, names: dict[str, str]) -> Spool:
        """The same bytes under other ids (``names``: old -> new), sharing the file."""
        other = Spool()
        other._file, other._end = self._file, self._end
        other._where = {names[oid]: where for oid, where in self._where.items()}
        return other

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
