"""The blob spool: bytes out of memory, back by id, unchanged."""

from __future__ import annotations

from pipeline.publish.spool import Spool


def test_bytes_come_back_by_id_and_are_kept_once() -> None:
    spool = Spool()
    spool.add("a", b"first\n")
    spool.add("b", b"")
    spool.add("a", b"ignored: the id is kept already")
    spool.add("c", bytes(range(256)) * 64)
    assert (spool["a"], spool["b"], spool["c"]) == (b"first\n", b"", bytes(range(256)) * 64)
    assert len(spool) == 3 and "b" in spool and "z" not in spool
    assert dict(spool.items()) == {"a": b"first\n", "b": b"", "c": bytes(range(256)) * 64}
    renamed = spool.renamed({"a": "A", "b": "B", "c": "C"})
    assert renamed["A"] == b"first\n" and sorted(renamed) == ["A", "B", "C"]
    spool.close()


def test_an_empty_spool_needs_no_file() -> None:
    spool = Spool()
    assert len(spool) == 0 and list(spool.items()) == []
    spool.close()
