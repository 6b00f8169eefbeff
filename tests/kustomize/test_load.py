"""Loading kustomization trees: kustomize's order, and one-line errors for bad input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.errors import InputError, KustomizationError, NetpackError, PatchError
from pipeline.kustomize.load import build

CM = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: %s, namespace: ns}
data: {k: v}
"""


def tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` (relative path -> content) under ``root``; returns root."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def error_of(tmp_path: Path, files: dict[str, str | bytes], start: str = "app") -> str:
    tree(tmp_path, files)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with pytest.raises(NetpackError) as err:
            build(Path(start))
    finally:
        os.chdir(cwd)
    message = str(err.value)
    assert "\n" not in message
    return message


def test_resources_components_then_patches_in_kustomize_order(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "base/kustomization.yaml": "resources: [a.yaml, b.yaml]\n",
            "base/a.yaml": CM % "a",
            "base/b.yaml": CM % "b",
            "comp/kustomization.yaml": (
                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [c.yaml]\n"
                "patches:\n- target: {kind: ConfigMap}\n  patch: '[{op: add, path: /data/comp, value: x}]'\n"
            ),
            "comp/c.yaml": CM % "c",
            "app/kustomization.yaml": (
                "resources: [../base]\ncomponents: [../comp]\n"
                "patches:\n- target: {name: a}\n  path: p.yaml\n"
            ),
            "app/p.yaml": "- {op: test, path: /data/comp, value: x}\n- {op: replace, path: /data/k, value: w}\n",
        },
    )
    resources = build(tmp_path / "app")
    assert [r.id.name for r in resources] == ["a", "b", "c"]
    assert [r.body["data"] for r in resources] == [
        {"k": "w", "comp": "x"},
        {"k": "v", "comp": "x"},
        {"k": "v", "comp": "x"},
    ]
    assert str(resources[2].origin).endswith("comp/c.yaml doc 0")


def test_a_second_build_gives_equal_bodies_and_leaves_the_cache_intact(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "app/kustomization.yaml": "resources: [a.yaml]\npatches:\n- target: {name: a}\n  patch: '[{op: add, path: /data/n, value: 1}]'\n",
            "app/a.yaml": CM % "a",
        },
    )
    first = build(tmp_path / "app")
    second = build(tmp_path / "app")
    assert first[0].body == second[0].body == {**first[0].body, "data": {"k": "v", "n": 1}}


BAD: list[tuple[str, dict[str, str | bytes], str]] = [
    (
        "malformed-yaml",
        {"app/kustomization.yaml": "resources: [a.yaml]\n", "app/a.yaml": "a: [1,\nb: 2\n"},
        "app/a.yaml parse: line 3: did not find expected ',' or ']' (while parsing a flow sequence at line 1)",
    ),
    (
        "duplicate-key",
        {"app/kustomization.yaml": "resources: [a.yaml]\n", "app/a.yaml": CM % "a" + "data: {}\n"},
        "app/a.yaml parse: line 5: duplicate key 'data' (first at line 4)",
    ),
    (
        "alias-bomb",
        {
            "app/kustomization.yaml": "resources: [a.yaml]\n",
            "app/a.yaml": (
                "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
                + "".join(
                    f"{c}: &{c} [{','.join(['*' + p] * 10)}]\n"
                    for p, c in zip("abcdefg", "bcdefgh", strict=True)
                )
            ),
        },
        "app/a.yaml parse: line 1: document expands to more than 1,000,000 nodes through aliases (a YAML alias bomb?)",
    ),
    (
        "not-utf8",
        {
            "app/kustomization.yaml": "resources: [a.yaml]\n",
            "app/a.yaml": b"kind: ConfigMap\nname: \xff\n",
        },
        "app/a.yaml read: line 2: not UTF-8 (byte 0xff at offset 22)",
    ),
    (
        "missing-file",
        {"app/kustomization.yaml": "resources: [gone.yaml]\n"},
        "app/kustomization.yaml resources[0] (gone.yaml): no such file or directory: app/gone.yaml",
    ),
    (
        "outside-root",
        {"app/kustomization.yaml": "resources: [../x.yaml]\n", "x.yaml": CM % "x"},
        "app/kustomization.yaml resources[0] (../x.yaml): security: file x.yaml is not in or below app",
    ),
    (
        "duplicate-id",
        {
            "app/kustomization.yaml": "resources: [a.yaml, b.yaml]\n",
            "app/a.yaml": CM % "a",
            "app/b.yaml": CM % "a",
        },
        "app/kustomization.yaml resources[1] (b.yaml): duplicate resource id v1/ConfigMap/ns/a: app/b.yaml doc 0 repeats app/a.yaml doc 0",
    ),
    (
        "not-an-object",
        {"app/kustomization.yaml": "resources: [a.yaml]\n", "app/a.yaml": "- 1\n"},
        "app/a.yaml doc 0: not a Kubernetes object (a YAML mapping)",
    ),
    (
        "no-kind",
        {
            "app/kustomization.yaml": "resources: [a.yaml]\n",
            "app/a.yaml": "apiVersion: v1\nmetadata: {name: a}\n",
        },
        "app/a.yaml doc 0: missing or empty kind",
    ),
    (
        "no-kustomization",
        {"app/a.yaml": CM % "a"},
        "app load: no kustomization file (kustomization.yaml, kustomization.yml, Kustomization) in this directory",
    ),
    (
        "unsupported-field",
        {"app/kustomization.yaml": "resources: [a.yaml]\nnamePrefix: x-\n", "app/a.yaml": CM % "a"},
        "app/kustomization.yaml load: unsupported field 'namePrefix' (netpack supports resources, components and patches with RFC 6902 operations)",
    ),
    (
        "strategic-merge",
        {
            "app/kustomization.yaml": "resources: [a.yaml]\npatches:\n- target: {name: a}\n  patch: 'data: {k: w}'\n",
            "app/a.yaml": CM % "a",
        },
        "app/kustomization.yaml patches[0]: strategic-merge patches are not supported; write RFC 6902 operations",
    ),
    (
        "no-target",
        {
            "app/kustomization.yaml": "resources: [a.yaml]\npatches:\n- patch: '[]'\n",
            "app/a.yaml": CM % "a",
        },
        "app/kustomization.yaml patches[0]: an RFC 6902 patch needs a target",
    ),
    (
        "component-as-resource",
        {
            "app/kustomization.yaml": "resources: [../comp]\n",
            "comp/kustomization.yaml": "kind: Component\n",
        },
        "app/kustomization.yaml resources[0] (../comp): comp/kustomization.yaml is a Component, expected a Kustomization",
    ),
    (
        "cycle",
        {
            "app/kustomization.yaml": "resources: [../b]\n",
            "b/kustomization.yaml": "resources: [../app]\n",
        },
        "b/kustomization.yaml resources[0] (../app): cycle: app includes itself",
    ),
    (
        "remote",
        {"app/kustomization.yaml": "resources: [https://github.com/x/y]\n"},
        "app/kustomization.yaml resources[0]: remote resources are not supported: https://github.com/x/y",
    ),
]


@pytest.mark.parametrize(("files", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_is_one_line_naming_file_and_operation(
    tmp_path: Path, files: dict[str, str | bytes], message: str
) -> None:
    assert error_of(tmp_path, files) == message


def test_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    tree(tmp_path, {"app/kustomization.yaml": "resources: [link.yaml]\n", "secret.yaml": CM % "s"})
    (tmp_path / "app" / "link.yaml").symlink_to(tmp_path / "secret.yaml")
    message = error_of(tmp_path, {})
    assert (
        message
        == "app/kustomization.yaml resources[0] (link.yaml): security: file app/link.yaml is not in or below app"
    )


def test_patch_errors_are_patch_errors(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "app/kustomization.yaml": "resources: [a.yaml]\npatches:\n- target: {name: a}\n  patch: '[{op: test, path: /data/k, value: w}]'\n",
        "app/a.yaml": CM % "a",
    }
    tree(tmp_path, files)
    with pytest.raises(PatchError) as err:
        build(tmp_path / "app")
    assert "patches[0] op 0 (test /data/k)" in str(err.value)
    assert "v1/ConfigMap/ns/a" in str(err.value)


def test_error_classes() -> None:
    assert issubclass(KustomizationError, NetpackError) and issubclass(InputError, NetpackError)


def test_plain_scalars_are_read_as_kustomize_reads_them(tmp_path: Path, kubectl: str) -> None:
    from pipeline.kustomize.output import render_stream
    from tests.conftest import kustomize

    tree(
        tmp_path,
        {
            "app/kustomization.yaml": "resources: [r.yaml]\n",
            "app/r.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n"
                "  a: yes\n  b: on\n  c: y\n  d: 0o17\n  e: 1e3\n  f: 010\n  g: 0x1F\n  h: 1_000\n"
                "  i: 2024-01-01\n  j: 12:30\n  k: True\n  l: NO\n  m: ~\n  n2: Null\n  o: 1.0\n  p: +1\n  q: .5\n"
            ),
        },
    )
    assert render_stream(build(tmp_path / "app")) == kustomize(kubectl, tmp_path / "app")
