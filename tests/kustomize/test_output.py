"""pipeline.kustomize.output: tables of value in, text out, with ``kubectl kustomize`` as the oracle.

The expected texts in the tables were taken from kustomize v5.8.1. The oracle
tests feed the same values, and many more, to the real ``kubectl kustomize`` and
require byte-identical output. They are skipped, with a reason, when no kubectl
is installed.
"""

from __future__ import annotations

import json
import os
import random
import re
import string
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pipeline.errors import InputError
from pipeline.kustomize.output import (
    dump,
    file_name,
    ordered,
    render_stream,
    sort_key,
    write_directory,
)
from pipeline.model.resource import Origin, Resource, ResourceId
from pipeline.yamlio import read_documents


def resource(body: dict[str, Any], path: str = "in.yaml", index: int = 0) -> Resource:
    return Resource(body, Origin(path, index))


def config_map(name: str, namespace: str = "", **fields: Any) -> dict[str, Any]:
    meta = {"name": name, "namespace": namespace} if namespace else {"name": name}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, **fields}


# --- Scalars: {"v": value} renders as expected -----------------------------

SCALARS: list[tuple[object, str]] = [
    # Strings that go-yaml v2 would read back as another type are double-quoted.
    ("true", 'v: "true"\n'),
    ("yes", 'v: "yes"\n'),
    ("ON", 'v: "ON"\n'),
    ("off", 'v: "off"\n'),
    ("y", 'v: "y"\n'),
    ("n", 'v: "n"\n'),
    ("~", 'v: "~"\n'),
    ("null", 'v: "null"\n'),
    ("", 'v: ""\n'),
    ("0123", 'v: "0123"\n'),
    ("08", 'v: "08"\n'),  # not octal, but Go's float syntax takes it
    ("1.0", 'v: "1.0"\n'),
    ("1e3", 'v: "1e3"\n'),  # YAML 1.2 float; PyYAML would leave it plain
    ("-.5", 'v: "-.5"\n'),
    (".1_0", 'v: ".1_0"\n'),
    ("1_000", 'v: "1_000"\n'),
    ("0o17", 'v: "0o17"\n'),
    ("0X1F", 'v: "0X1F"\n'),
    ("0b101", 'v: "0b101"\n'),
    ("+1", 'v: "+1"\n'),
    ("0:30", 'v: "0:30"\n'),  # YAML 1.1 base 60
    ("18446744073709551616", 'v: "18446744073709551616"\n'),
    (".Inf", 'v: ".Inf"\n'),
    ("2024-01-01", 'v: "2024-01-01"\n'),
    ("2024-1-1", 'v: "2024-1-1"\n'),
    ("2024-01-01T10:00:00Z", 'v: "2024-01-01T10:00:00Z"\n'),
    ("2024-01-01 10:00:00", 'v: "2024-01-01 10:00:00"\n'),
    # ...and strings that only look like that stay plain.
    ("1:60", "v: 1:60\n"),
    ("0x10000000000000000", "v: 0x10000000000000000\n"),  # overflows uint64
    ("1e999", "v: 1e999\n"),  # overflows float64
    ("2024-13-01", "v: 2024-13-01\n"),  # no such month
    ("2023-02-29", "v: 2023-02-29\n"),  # no such day
    ("2024-01-01T10:00:00", "v: 2024-01-01T10:00:00\n"),  # the T layouts need a zone
    ("<<", "v: <<\n"),
    ("10.0.0.1", "v: 10.0.0.1\n"),
    ("inf", "v: inf\n"),
    ("~x", "v: ~x\n"),
    # Indicators and blanks at the ends: single quotes, chosen by the emitter.
    ("a: b", "v: 'a: b'\n"),
    ("a #b", "v: 'a #b'\n"),
    ("a#b", "v: a#b\n"),
    ("*x", "v: '*x'\n"),
    ("'x", "v: '''x'\n"),
    ('"x', "v: '\"x'\n"),
    ("{x}", "v: '{x}'\n"),
    ("?x", "v: ?x\n"),
    ("-", "v: '-'\n"),
    ("-x", "v: -x\n"),
    (" lead", "v: ' lead'\n"),
    ("trail ", "v: 'trail '\n"),
    # Tabs, control characters and characters beyond the BMP: double quotes.
    ("a\tb", 'v: "a\\tb"\n'),
    ("a\x07b", 'v: "a\\ab"\n'),
    ("a\U0001f600b", 'v: "a\\U0001F600b"\n'),
    ("é ü 日本語", "v: é ü 日本語\n"),  # other UTF-8 is written raw
    ("a\x85b", 'v: "a\\Nb"\n'),  # go-yaml writes U+0085 (a YAML 1.1 line break) raw
    # Multi-line strings: literal blocks with go-yaml's indicators.
    ("a\nb\n", "v: |\n  a\n  b\n"),
    ("a\nb", "v: |-\n  a\n  b\n"),
    ("a\n\n", "v: |+\n  a\n\n"),  # with no "..." after it (libyaml would add one)
    ("  x\ny\n", "v: |2\n    x\n  y\n"),
    ("\nx\n", "v: |2\n\n  x\n"),
    ("x \ny\n", 'v: "x \\ny\\n"\n'),  # a space before a break: no block possible
    ("a\r\nb\n", 'v: "a\\r\\nb\\n"\n'),
    # Long strings fold at 80 columns, but only at a space.
    ("word " * 19 + "end", "v: " + "word " * 15 + "word\n  " + "word " * 3 + "end\n"),
    ("x" * 100, "v: " + "x" * 100 + "\n"),
    ("a " * 40, "v: '" + "a " * 38 + "a\n  a '\n"),
    # Numbers as kustomize prints them after its JSON round trip.
    (1, "v: 1\n"),
    (-7, "v: -7\n"),
    (1.0, "v: 1\n"),
    (1.5, "v: 1.5\n"),
    (-0.0, "v: 0\n"),
    (1e20, "v: 1e+20\n"),
    (1234567.5, "v: 1.2345675e+06\n"),
    (123456.5, "v: 123456.5\n"),
    (1e-7, "v: 1e-07\n"),
    (0.0001, "v: 0.0001\n"),
    (0.00001, "v: 1e-05\n"),
    (2.0**63, "v: 9223372036854776000\n"),  # JSON's shortest digits, then a uint64
    (2**64 - 1, "v: 18446744073709551615\n"),
    (2**70, "v: 1.1805916207174113e+21\n"),  # past 64 bits: a float64
    (True, "v: true\n"),
    (False, "v: false\n"),
    (None, "v: null\n"),
    ({}, "v: {}\n"),
    ([], "v: []\n"),
    (b"hello", "v: hello\n"),  # a !!binary scalar: kustomize prints the decoded text
]


@pytest.mark.parametrize(("value", "expected"), SCALARS, ids=[repr(v)[:30] for v, _ in SCALARS])
def test_scalar(value: object, expected: str) -> None:
    assert dump({"v": value}) == expected


KEYS: list[tuple[str, str]] = [
    ("n", '"n": 1\n'),
    ("y", '"y": 1\n'),
    ("ON", '"ON": 1\n'),
    ("1.0", '"1.0": 1\n'),
    ("", '"": 1\n'),
    ("a: b", "'a: b': 1\n"),
    ("a\nb", "? |-\n  a\n  b\n: 1\n"),
    ("k" * 129, "? " + "k" * 129 + "\n: 1\n"),  # libyaml's simple keys stop at 128 bytes
]


@pytest.mark.parametrize(("key", "expected"), KEYS, ids=[repr(k)[:30] for k, _ in KEYS])
def test_key(key: str, expected: str) -> None:
    assert dump({key: 1}) == expected


DOCUMENTS: list[tuple[dict[str, Any], str]] = [
    # go-yaml's key order: non-letters before letters, digit runs by value.
    (
        dict.fromkeys(["ab", "a1", "a_x", "a-b", "Aa", "A_", "item10", "item9", "B"], 0),
        "A_: 0\nAa: 0\nB: 0\na-b: 0\na_x: 0\na1: 0\nab: 0\nitem9: 0\nitem10: 0\n",
    ),
    # Sequences are not indented under their key; empty collections are flow.
    (
        {"a": [{"c": [2, {"d": None}], "b": 1}, [], [[1]], {}], "e": {"f": {"g": []}}},
        "a:\n- b: 1\n  c:\n  - 2\n  - d: null\n- []\n- - - 1\n- {}\ne:\n  f:\n    g: []\n",
    ),
    (
        {"s": [{"t": "line\nnext\n", "u": "x " * 45}]},
        "s:\n- t: |\n    line\n    next\n  u: '" + "x " * 37 + "x\n    " + "x " * 7 + "'\n",
    ),
]


@pytest.mark.parametrize(("body", "expected"), DOCUMENTS)
def test_document(body: dict[str, Any], expected: str) -> None:
    assert dump(body) == expected


def test_key_order_is_fixed_where_go_yaml_has_none() -> None:
    # "1a" < "2" < "11" < "1a" in go-yaml's comparison: kustomize prints such a
    # map in a different order on each run (Go's map iteration is random).
    keys = ["1a", "2", "11", "01", "0a", "b"]
    texts = {
        dump(dict.fromkeys(random.Random(seed).sample(keys, len(keys)), 0)) for seed in range(20)
    }
    assert len(texts) == 1


UNRENDERABLE: list[tuple[dict[str, Any], str]] = [
    ({"x": float("nan")}, "render: x: nan has no JSON form (kustomize: json: unsupported value)"),
    (
        {"a": [{"b": {80: 2}}]},
        "render: a[0].b: key 80 is not a string (kustomize: json: unsupported)",
    ),
    (
        {"<<": {"a": 1}},
        'render: (document): key "<<" would be dropped by kustomize as a YAML merge key',
    ),
    ({"s": {1}}, "render: s: a set is not a JSON value: {1}"),
    ({"i": [10**400]}, "render: i[0]: a 1329-bit integer overflows float64"),
]


@pytest.mark.parametrize(("body", "message"), UNRENDERABLE)
def test_unrenderable_value(body: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError) as caught:
        dump(body)
    assert str(caught.value) == message


def test_render_stream_names_the_resource_that_fails() -> None:
    bad = resource(config_map("x", data={"k": float("inf")}), "base/cm.yaml", 2)
    with pytest.raises(InputError) as caught:
        render_stream([bad])
    assert str(caught.value) == (
        "base/cm.yaml doc 2 render: v1/ConfigMap/x: "
        "data.k: inf has no JSON form (kustomize: json: unsupported value)"
    )


def test_render_stream_joins_documents_between_only() -> None:
    stream = render_stream([resource(config_map("b")), resource(config_map("a"))])
    assert stream == (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n"
    )
    assert render_stream([]) == ""


# --- Order --------------------------------------------------------------------


def rid(api: str, kind: str, name: str, namespace: str = "") -> ResourceId:
    group, _, version = api.rpartition("/")
    return ResourceId(group, version, kind, namespace, name)


LEGACY_ORDER = [
    rid("v1", "Namespace", "a"),
    rid("v1", "Namespace", "b"),
    rid("storage.k8s.io/v1", "StorageClass", "s"),
    rid("apiextensions.k8s.io/v1", "CustomResourceDefinition", "c"),
    rid("v1", "ServiceAccount", "s", "kube-system"),
    rid("rbac.authorization.k8s.io/v1", "ClusterRole", "c"),
    rid("v1", "ConfigMap", "z", "a-b"),  # "a-b|z" < "a|a": whole strings compared
    rid("v1", "ConfigMap", "a", "a"),
    rid("v1", "ConfigMap", "a"),  # no namespace: "~X" sorts after letters
    rid("v1", "Service", "s", "a"),
    rid("apps/v1", "Deployment", "d", "a"),
    rid("extensions/v1beta1", "Deployment", "d", "a"),  # same rank: by "group_version_kind"
    rid("policy/v1", "PodDisruptionBudget", "p", "a"),
    rid("apps/v1", "DaemonSet", "calico-node", "kube-system"),  # unlisted: rank 0, by GVK
    rid("crd.projectcalico.org/v1", "FelixConfiguration", "default"),
    rid("example.com/v1", "Widget", "w", "a"),
    rid("v1", "Pod", "p", "a"),  # core group "~G" sorts after named groups
    rid("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", "m"),
    rid("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "v"),
]


def test_sort_key_gives_the_legacy_order() -> None:
    shuffled = random.Random(1).sample(LEGACY_ORDER, len(LEGACY_ORDER))
    assert sorted(shuffled, key=sort_key) == LEGACY_ORDER


def test_ordered_is_stable_for_equal_keys() -> None:
    first, second = resource(config_map("x"), "a.yaml"), resource(config_map("x"), "b.yaml")
    assert ordered([first, second]) == [first, second]
    assert ordered([second, first]) == [second, first]


# --- Files --------------------------------------------------------------------

FILE_NAMES: list[tuple[ResourceId, bool, str]] = [
    (
        rid("apps/v1", "DaemonSet", "Calico-Node", "kube-system"),
        False,
        "apps_v1_daemonset_calico-node.yaml",
    ),
    (
        rid("apps/v1", "DaemonSet", "calico-node", "Kube-System"),
        True,
        "kube-system_apps_v1_daemonset_calico-node.yaml",
    ),
    (rid("v1", "ConfigMap", "c"), True, "default_v1_configmap_c.yaml"),
    (rid("v1", "Namespace", "web"), True, "v1_namespace_web.yaml"),
    (
        rid("rbac.authorization.k8s.io/v1", "ClusterRole", "r"),
        True,
        "rbac.authorization.k8s.io_v1_clusterrole_r.yaml",
    ),
    (rid("v1", "PersistentVolume", "pv", "ignored"), True, "v1_persistentvolume_pv.yaml"),
    # kustomize knows no scope for CRD kinds nor for newer built-ins: they count as namespaced.
    (
        rid("crd.projectcalico.org/v1", "FelixConfiguration", "default"),
        True,
        "default_crd.projectcalico.org_v1_felixconfiguration_default.yaml",
    ),
    (
        rid("flowcontrol.apiserver.k8s.io/v1", "FlowSchema", "f"),
        True,
        "default_flowcontrol.apiserver.k8s.io_v1_flowschema_f.yaml",
    ),
]


@pytest.mark.parametrize(("rid_", "prefix", "expected"), FILE_NAMES)
def test_file_name(rid_: ResourceId, prefix: bool, expected: str) -> None:
    assert file_name(rid_, namespace_prefix=prefix) == expected


def test_write_directory_writes_each_resource_in_legacy_order(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "out"
    items = [resource(config_map("b", "x")), resource(config_map("a", "x"))]
    paths = write_directory(items, out)
    assert paths == [out / "v1_configmap_a.yaml", out / "v1_configmap_b.yaml"]
    assert [p.read_text() for p in paths] == [dump(items[1].body), dump(items[0].body)]
    assert sorted(p.name for p in (tmp_path / "deep").iterdir()) == ["out"]  # no staging left


def test_write_directory_prefixes_namespaces_once_there_are_two(tmp_path: Path) -> None:
    items = [resource(config_map("web", "a")), resource(config_map("web", "b"))]
    items.append(resource({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}))
    names = [p.name for p in write_directory(items, tmp_path)]
    assert names == ["v1_namespace_a.yaml", "a_v1_configmap_web.yaml", "b_v1_configmap_web.yaml"]


def test_write_directory_replaces_and_keeps_other_files(tmp_path: Path) -> None:
    (tmp_path / "v1_configmap_a.yaml").write_text("old\n")
    (tmp_path / "unrelated.txt").write_text("keep\n")
    write_directory([resource(config_map("a"))], tmp_path)
    assert (tmp_path / "v1_configmap_a.yaml").read_text() == dump(config_map("a"))
    assert (tmp_path / "unrelated.txt").read_text() == "keep\n"


def test_write_directory_refuses_two_resources_in_one_file(tmp_path: Path) -> None:
    upper = resource(config_map("Web"), "a.yaml")
    lower = resource(config_map("web"), "b.yaml")
    with pytest.raises(InputError) as caught:
        write_directory([upper, lower], tmp_path / "out")
    assert str(caught.value) == (
        f"{tmp_path}/out/v1_configmap_web.yaml write: v1/ConfigMap/web (b.yaml doc 0): "
        "is also the file of v1/ConfigMap/Web (a.yaml doc 0)"
    )
    assert not (tmp_path / "out").exists()


def test_write_directory_reports_os_errors_as_input_errors(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("a file, not a directory\n")
    with pytest.raises(InputError) as caught:
        write_directory([resource(config_map("a"))], tmp_path / "out")
    assert str(caught.value) == f"{tmp_path}/out write: File exists"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # staging removed
    with pytest.raises(InputError) as caught:
        write_directory([resource(config_map("a"))], tmp_path / "out" / "sub")
    assert str(caught.value) == f"{tmp_path}/out write: File exists"


# --- Oracle: the real kubectl kustomize ----------------------------------------

# Characters that YAML readers refuse raw (kustomize's too): escape them in the JSON input.
_RAW_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff]")


def build_dir(directory: Path, bodies: list[dict[str, Any]]) -> list[Resource]:
    """Write ``bodies`` as JSON files plus a kustomization; read them back as netpack does."""
    directory.mkdir(parents=True, exist_ok=True)
    names = []
    for i, body in enumerate(bodies):
        text = json.dumps(body, ensure_ascii=False, indent=1)
        (directory / f"r{i:03d}.json").write_text(
            _RAW_UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", text), encoding="utf-8"
        )
        names.append(f"r{i:03d}.json")
    (directory / "kustomization.yaml").write_text(
        "resources:\n" + "".join(f"- {n}\n" for n in names)
    )
    return [
        Resource(doc, Origin(name, index))
        for name in names
        for index, doc in enumerate(read_documents(directory / name))
    ]


def run_kubectl(kubectl: str, *args: str) -> str:
    proc = subprocess.run(
        [kubectl, "kustomize", *args], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def string_zoo() -> list[str]:
    """Every printable ASCII character at the start, middle and end, with blanks around it."""
    shapes = (
        "{c}",
        "{c}a",
        "a{c}",
        "a{c}b",
        "{c} ",
        " {c}",
        "a {c}",
        "{c} a",
        "a {c}b",
        "-{c}",
        "x:{c}",
    )
    zoo = [shape.format(c=c) for c in string.printable for shape in shapes]
    # U+0085: go-yaml writes it raw, which kustomize then cannot read back in a key.
    zoo += [value for value, _ in SCALARS if isinstance(value, str) and "\x85" not in value]
    zoo += ["\u00a0x", "a\u2028b", "é" * 90, "é " * 60, "with #hash " * 10, "'q' " * 25]
    zoo += [
        "a" * 78 + " bb" * 3,
        "a  b  " * 20,
        "key: " + "v " * 40,
        "http://example.com/" + "x" * 80,
    ]
    return zoo


NOT_KEYS = {"<<"}  # kustomize drops it: a merge key to go-yaml


def test_strings_match_kustomize(kubectl: str, tmp_path: Path) -> None:
    zoo = string_zoo()
    bodies = [
        config_map("values", data={f"k{i:04d}": s for i, s in enumerate(zoo)}),
        config_map("list", data={"l": zoo}),
        # One key per map: kustomize's key order is only defined for some key sets.
        config_map("keys", spec={"l": [{s: i} for i, s in enumerate(zoo) if s not in NOT_KEYS]}),
        config_map("deep", spec={"a": {"b": [{"c": {"d": [[{"e": s} for s in zoo[-12:]]]}}]}}),
    ]
    resources = build_dir(tmp_path / "k", bodies)
    assert render_stream(resources) == run_kubectl(kubectl, str(tmp_path / "k"))


def test_key_order_matches_kustomize(kubectl: str, tmp_path: Path) -> None:
    keys = ["ab", "a1", "a_x", "a-b", "a.b", "a/b", "Aa", "A_", "item10", "item9", "item100"]
    keys += ["k8s-app", "app.kubernetes.io/name", "app", "z", "_x", "~x", "é", "10-calico.conflist"]
    bodies = [config_map("keys", data=dict.fromkeys(keys, "v"))]
    resources = build_dir(tmp_path / "k", bodies)
    assert render_stream(resources) == run_kubectl(kubectl, str(tmp_path / "k"))


def yaml_float(x: float) -> str:
    """``repr`` in a form both PyYAML (YAML 1.1) and kustomize (YAML 1.2) read as a float."""
    text = repr(x)
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa if '.' in mantissa else mantissa + '.0'}e{int(exponent):+d}"
    return text


NUMBERS: list[float] = [0, 1, -1, 2**63 - 1, -(2**63), 2**63, 2**64 - 1, 2**64, 10**20]
NUMBERS += [1.0, 1.5, -1.5, 0.1, 1 / 3, 1e15, 1e16, 1e20, 1e21, 1e22, 1.5e300, 5e-324, -0.0]
NUMBERS += [1234567.5, 123456.5, 999999.5, 1e-7, 1e-5, 1.5e-5, 0.0001, 0.000123, 2e19, 2.0**63]
NUMBERS += [-(2.0**63), -(2.0**63) - 4096, 2.0**64, 4.5e6, 123456789.123]


def test_numbers_match_kustomize(kubectl: str, tmp_path: Path) -> None:
    # JSON would write 1e+20, which PyYAML (YAML 1.1) reads as a string: write YAML instead.
    items = "".join(f"  - {yaml_float(n) if isinstance(n, float) else n}\n" for n in NUMBERS)
    (tmp_path / "n.yaml").write_text(
        f"apiVersion: x/v1\nkind: Numbers\nmetadata:\n  name: n\nitems:\n{items}"
    )
    (tmp_path / "kustomization.yaml").write_text("resources:\n- n.yaml\n")
    [body] = read_documents(tmp_path / "n.yaml")
    assert body["items"] == NUMBERS
    assert dump(body) == run_kubectl(kubectl, str(tmp_path))


KINDS = [
    "v1 Namespace",
    "v1 ResourceQuota",
    "storage.k8s.io/v1 StorageClass",
    "apiextensions.k8s.io/v1 CustomResourceDefinition",
    "v1 ServiceAccount",
    "policy/v1beta1 PodSecurityPolicy",
    "rbac.authorization.k8s.io/v1 Role",
    "rbac.authorization.k8s.io/v1 ClusterRole",
    "rbac.authorization.k8s.io/v1 RoleBinding",
    "rbac.authorization.k8s.io/v1 ClusterRoleBinding",
    "v1 ConfigMap",
    "v1 Secret",
    "v1 Endpoints",
    "v1 Service",
    "v1 LimitRange",
    "scheduling.k8s.io/v1 PriorityClass",
    "v1 PersistentVolume",
    "v1 PersistentVolumeClaim",
    "apps/v1 Deployment",
    "apps/v1 StatefulSet",
    "batch/v1 CronJob",
    "policy/v1 PodDisruptionBudget",
    "admissionregistration.k8s.io/v1 MutatingWebhookConfiguration",
    "admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration",
    "apps/v1 DaemonSet",
    "v1 Pod",
    "batch/v1 Job",
    "crd.projectcalico.org/v1 FelixConfiguration",
    "crd.projectcalico.org/v1 IPPool",
    "projectcalico.org/v3 IPPool",
    "operator.tigera.io/v1 Installation",
    "networking.k8s.io/v1 NetworkPolicy",
    "example.com/v1 Widget",
    "example.com/v1beta1 Widget",
    "example.com/v1 widget",
    "a.io/v1 Zed",
    "v1 Zed",
    "extensions/v1beta1 Deployment",
    "v2 Service",
    "flowcontrol.apiserver.k8s.io/v1 FlowSchema",
]
CLUSTER_WIDE = {"Namespace", "StorageClass", "CustomResourceDefinition", "PodSecurityPolicy",
                "ClusterRole", "ClusterRoleBinding", "PriorityClass", "PersistentVolume",
                "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}  # fmt: skip


def many_kinds(seed: int, namespaces: list[str]) -> list[dict[str, Any]]:
    """Two or three objects of every kind, in shuffled namespaces, names and order."""
    rnd = random.Random(seed)
    names = ["web", "api", "a", "a-b", "z", "web-1", "web-10", "web-2"]
    bodies: dict[tuple[str, ...], dict[str, Any]] = {}
    for api_kind in KINDS:
        api, kind = api_kind.split()
        for namespace in rnd.sample(namespaces, min(3, len(namespaces))):
            for name in rnd.sample(names, 2):
                if kind in CLUSTER_WIDE:  # a cluster-wide id ignores the namespace
                    name = f"{name}-{namespace or 'none'}"
                meta = {"name": name, "namespace": namespace} if namespace else {"name": name}
                key = (api, kind, "" if kind in CLUSTER_WIDE else namespace or "default", name)
                bodies[key] = {"apiVersion": api, "kind": kind, "metadata": meta}
    return rnd.sample(list(bodies.values()), len(bodies))


@pytest.mark.parametrize("seed", [7, 8])
def test_order_matches_kustomize(kubectl: str, tmp_path: Path, seed: int) -> None:
    bodies = many_kinds(seed, ["", "default", "kube-system", "a", "a-b", "calico-system"])
    resources = build_dir(tmp_path / "k", bodies)
    assert render_stream(resources) == run_kubectl(kubectl, str(tmp_path / "k"))


@pytest.mark.parametrize(
    "namespaces", [["", "kube-system", "a-b"], ["kube-system"], [""]], ids=["three", "one", "none"]
)
def test_output_directory_matches_kubectl(
    kubectl: str, tmp_path: Path, namespaces: list[str]
) -> None:
    bodies = many_kinds(3, namespaces)
    bodies.append(config_map("Mixed-Case", namespaces[0], data={"k": "v"}))
    resources = build_dir(tmp_path / "k", bodies)
    (tmp_path / "kubectl").mkdir()
    run_kubectl(kubectl, str(tmp_path / "k"), "-o", str(tmp_path / "kubectl"))
    paths = write_directory(resources, tmp_path / "netpack")
    expected = {
        name: (tmp_path / "kubectl" / name).read_bytes()
        for name in os.listdir(tmp_path / "kubectl")
    }
    assert {p.name: p.read_bytes() for p in paths} == expected


def daemonset() -> dict[str, Any]:
    """A realistic node-agent DaemonSet, about 300 lines, with long and multi-line strings."""
    env: list[dict[str, Any]] = [
        {"name": f"FELIX_SETTING_{i}", "value": v}
        for i, v in enumerate(
            ["true", "info", "1440", "ACCEPT", "10.244.0.0/16", "none", "k8s,bgp", "0"] * 2
        )
    ]
    env.append({"name": "NODENAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}})
    paths = [
        "/lib/modules",
        "/run/xtables.lock",
        "/var/run/calico",
        "/var/lib/calico",
        "/opt/cni/bin",
        "/etc/cni/net.d",
        "/sys/fs/bpf",
        "/proc",
    ]
    volumes: list[dict[str, Any]] = [
        {"name": f"vol-{i}", "hostPath": {"path": p, "type": "DirectoryOrCreate" if i % 2 else ""}}
        for i, p in enumerate(paths)
    ]
    mounts = [
        {"name": v["name"], "mountPath": v["hostPath"]["path"], "readOnly": i % 3 == 0}
        for i, v in enumerate(volumes)
    ]
    container = {
        "name": "calico-node",
        "image": "docker.io/calico/node:v3.30.7",
        "env": env,
        "volumeMounts": mounts,
        "securityContext": {"privileged": True},
        "resources": {"requests": {"cpu": "250m", "memory": "128Mi"}, "limits": {}},
        "livenessProbe": {
            "exec": {"command": ["/bin/calico-node", "-felix-live", "-bird-live"]},
            "periodSeconds": 10,
            "failureThreshold": 6,
        },
        "lifecycle": {
            "preStop": {
                "exec": {
                    "command": ["/bin/sh", "-c", "calico-node -shutdown && sleep 5\necho done\n"]
                }
            }
        },
    }
    init = [
        {
            **container,
            "name": f"init-{i}",
            "command": ["/opt/cni/bin/install", f"--step={i}"],
            "env": env[:5],
        }
        for i in range(3)
    ]
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {
            "name": "calico-node",
            "namespace": "kube-system",
            "labels": {"k8s-app": "calico-node"},
            "annotations": {
                "description": "Runs the node agent on every node so that pods can reach each other across the whole cluster network, whatever the cloud."
            },
        },
        "spec": {
            "selector": {"matchLabels": {"k8s-app": "calico-node"}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "template": {
                "metadata": {"labels": {"k8s-app": "calico-node"}},
                "spec": {
                    "hostNetwork": True,
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "priorityClassName": "system-node-critical",
                    "tolerations": [
                        {"effect": "NoSchedule", "operator": "Exists"},
                        {"key": "CriticalAddonsOnly", "operator": "Exists"},
                    ],
                    "terminationGracePeriodSeconds": 0,
                    "initContainers": init,
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    }


def test_daemonset_matches_kustomize(kubectl: str, tmp_path: Path) -> None:
    resources = build_dir(tmp_path / "k", [daemonset()])
    assert len(render_stream(resources).splitlines()) > 250
    assert render_stream(resources) == run_kubectl(kubectl, str(tmp_path / "k"))
