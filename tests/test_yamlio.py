"""Reading YAML: Kubernetes-style scalars, and refusals that name the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.yamlio import parse_documents, read_documents


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("a: 2024-01-01", "2024-01-01"),  # timestamps stay strings
        ("a: 12:30", "12:30"),  # no base 60
        ("a: 0x1F", 31),
        ("a: 1_000", 1000),
        ("a: yes", True),
        ("a: '1'", "1"),
        ("a: 1.5", 1.5),
        ("a: ~", None),
    ],
)
def test_scalars(text: str, value: object) -> None:
    assert parse_documents(text + "\n", "t.yaml") == [{"a": value}]


def test_empty_documents_are_dropped() -> None:
    assert parse_documents("---\n---\na: 1\n---\n", "t.yaml") == [{"a": 1}]


def test_merge_keys_may_be_overridden_but_keys_not_repeated() -> None:
    assert parse_documents("a: &b {x: 1}\nc:\n  <<: *b\n  x: 2\n", "t.yaml")[0]["c"] == {"x": 2}
    with pytest.raises(
        InputError, match=r"^t\.yaml parse: line 3: duplicate key 'a' \(first at line 1\)$"
    ):
        parse_documents("a: 1\nb: 2\na: 3\n", "t.yaml")


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory, not a file"):
        read_documents(tmp_path, "dir")


def test_undefined_alias() -> None:
    with pytest.raises(InputError, match=r"^t\.yaml parse: line 1: found undefined alias$"):
        parse_documents("a: *x\n", "t.yaml")
