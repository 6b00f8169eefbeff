"""pipeline.kustomize.patch: RFC 6902 operations, kustomize targets, exact errors, kustomize oracle.

The tables are YAML: a body, operations, and the body or the error they give.
Bodies are merged over HEAD (a calico-node DaemonSet).  The oracle tests at the
end build the same inputs with the real ``kubectl kustomize``; they are skipped,
with the reason shown by ``-ra``, when kubectl is absent.
"""

from __future__ import annotations

import copy
import random
import subprocess
from pathlib import Path
from typing import Any

import jsonpatch
import pytest
import yaml

from pipeline.errors import KustomizationError, NetpackError, PatchError
from pipeline.kustomize.patch import Patch, Target, apply_ops, apply_patch, describe_op
from pipeline.kustomize.target import _CLUSTER_SCOPED
from pipeline.model.resource import Body, Origin, Resource
from pipeline.yamlio import parse_documents, read_documents
from tests.conftest import kustomize

FILE = "overlays/azure/kustomization.yaml"
LABEL = "patches[1]"
HEAD = (
    "{apiVersion: apps/v1, kind: DaemonSet, metadata: {name: calico-node, namespace: kube-system}}"
)
ORIGIN = Origin("base/calico-node.yaml", 0)
TARGET = "target apps/v1/DaemonSet/kube-system/calico-node (base/calico-node.yaml doc 0)"


def _doc(text: str) -> Any:
    """One YAML document, read as netpack reads every file."""
    docs = parse_documents(text, "test.yaml")
    assert len(docs) == 1
    return docs[0]


def _cases(text: str, *fields: str) -> list[Any]:
    """pytest params from a YAML list of mappings, each with a ``case`` id."""
    return [pytest.param(*(c[f] for f in fields), id=c["case"]) for c in _doc(text)]


def run(body: Body, ops: Any) -> Body:
    """Apply ``ops`` to HEAD updated with ``body``; check the input is left untouched."""
    before = {**_doc(HEAD), **body}
    pristine = copy.deepcopy(before)
    parsed = Patch.parse_ops(ops, file=FILE, label=LABEL)
    resource = Resource(before, ORIGIN).describe()
    after = apply_ops(before, parsed, file=FILE, label=LABEL, resource=resource)
    assert before == pristine
    return after


# --- every operation: body in, ops in, body out ------------------------------------------

APPLIED = """
- case: add-new-key
  body: {spec: {a: 1}}
  ops: [{op: add, path: /spec/b, value: 2}]
  want: {spec: {a: 1, b: 2}}
- case: add-existing-key-replaces-it
  body: {spec: {a: 1}}
  ops: [{op: add, path: /spec/a, value: {x: 1}}]
  want: {spec: {a: {x: 1}}}
- case: add-null
  body: {spec: {}}
  ops: [{op: add, path: /spec/a, value: null}]
  want: {spec: {a: null}}
- case: add-list-front
  body: {spec: {l: [a, b]}}
  ops: [{op: add, path: /spec/l/0, value: z}]
  want: {spec: {l: [z, a, b]}}
- case: add-list-middle
  body: {spec: {l: [a, b]}}
  ops: [{op: add, path: /spec/l/1, value: z}]
  want: {spec: {l: [a, z, b]}}
- case: add-list-index-equal-to-length-appends
  body: {spec: {l: [a, b]}}
  ops: [{op: add, path: /spec/l/2, value: z}]
  want: {spec: {l: [a, b, z]}}
- case: add-list-dash-appends
  body: {spec: {l: [a, b]}}
  ops: [{op: add, path: /spec/l/-, value: z}]
  want: {spec: {l: [a, b, z]}}
- case: add-empty-list
  body: {spec: {l: []}}
  ops: [{op: add, path: /spec/l/0, value: z}]
  want: {spec: {l: [z]}}
- case: add-dash-is-a-key-in-a-mapping
  body: {spec: {}}
  ops: [{op: add, path: /spec/-, value: 1}]
  want: {spec: {'-': 1}}
- case: add-digits-are-a-key-in-a-mapping
  body: {spec: {}}
  ops: [{op: add, path: /spec/01, value: 1}]
  want: {spec: {'01': 1}}
- case: add-empty-key
  body: {spec: {}}
  ops: [{op: add, path: /spec/, value: 1}]
  want: {spec: {'': 1}}
- case: escaped-slash
  body: {spec: {}}
  ops: [{op: add, path: /spec/example.com~1zone, value: a}]
  want: {spec: {example.com/zone: a}}
- case: escaped-tilde
  body: {spec: {}}
  ops: [{op: add, path: /spec/a~0b~01, value: a}]
  want: {spec: {a~b~1: a}}
- case: remove-key
  body: {spec: {a: 1, b: 2}}
  ops: [{op: remove, path: /spec/a}]
  want: {spec: {b: 2}}
- case: remove-list-item
  body: {spec: {l: [a, b, c]}}
  ops: [{op: remove, path: /spec/l/1}]
  want: {spec: {l: [a, c]}}
- case: remove-last-list-item
  body: {spec: {l: [a, b, c]}}
  ops: [{op: remove, path: /spec/l/2}]
  want: {spec: {l: [a, b]}}
- case: replace-key
  body: {spec: {a: 1}}
  ops: [{op: replace, path: /spec/a, value: [x]}]
  want: {spec: {a: [x]}}
- case: replace-list-item
  body: {spec: {l: [a, b]}}
  ops: [{op: replace, path: /spec/l/1, value: z}]
  want: {spec: {l: [a, z]}}
- case: replace-with-null
  body: {spec: {a: 1}}
  ops: [{op: replace, path: /spec/a, value: null}]
  want: {spec: {a: null}}
- case: replace-the-whole-object
  body: {}
  ops: [{op: replace, path: '', value: {apiVersion: v1, kind: ConfigMap, metadata: {name: x}}}]
  want: {apiVersion: v1, kind: ConfigMap, metadata: {name: x}}
- case: move-key
  body: {spec: {a: 1}}
  ops: [{op: move, from: /spec/a, path: /spec/b}]
  want: {spec: {b: 1}}
- case: move-to-a-longer-sibling-is-not-into-a-child
  body: {spec: {a: 1}}
  ops: [{op: move, from: /spec/a, path: /spec/ab}]
  want: {spec: {ab: 1}}
- case: move-onto-itself
  body: {spec: {a: 1}}
  ops: [{op: move, from: /spec/a, path: /spec/a}]
  want: {spec: {a: 1}}
- case: move-list-item-later-counts-after-removal
  body: {spec: {l: [a, b, c]}}
  ops: [{op: move, from: /spec/l/0, path: /spec/l/2}]
  want: {spec: {l: [b, c, a]}}
- case: move-to-list-end
  body: {spec: {a: 1, l: []}}
  ops: [{op: move, from: /spec/a, path: /spec/l/-}]
  want: {spec: {l: [1]}}
- case: move-up-onto-the-parent
  body: {spec: {a: {b: 1}}}
  ops: [{op: move, from: /spec/a/b, path: /spec/a}]
  want: {spec: {a: 1}}
- case: copy-key
  body: {spec: {a: {x: 1}}}
  ops: [{op: copy, from: /spec/a, path: /spec/b}]
  want: {spec: {a: {x: 1}, b: {x: 1}}}
- case: copy-is-independent
  body: {spec: {a: {x: 1}}}
  ops: [{op: copy, from: /spec/a, path: /spec/b}, {op: add, path: /spec/b/y, value: 2}]
  want: {spec: {a: {x: 1}, b: {x: 1, y: 2}}}
- case: copy-into-list
  body: {spec: {l: [a, b]}}
  ops: [{op: copy, from: /spec/l/1, path: /spec/l/0}]
  want: {spec: {l: [b, a, b]}}
- case: test-string
  body: {spec: {a: bird}}
  ops: [{op: test, path: /spec/a, value: bird}]
  want: {spec: {a: bird}}
- case: test-int-equals-float
  body: {spec: {a: 1}}
  ops: [{op: test, path: /spec/a, value: 1.0}]
  want: {spec: {a: 1}}
- case: test-null
  body: {spec: {a: null}}
  ops: [{op: test, path: /spec/a, value: null}]
  want: {spec: {a: null}}
- case: test-list
  body: {spec: {l: [1, x]}}
  ops: [{op: test, path: /spec/l, value: [1.0, x]}]
  want: {spec: {l: [1, x]}}
- case: test-mapping-ignores-key-order
  body: {spec: {m: {a: 1, b: [true]}}}
  ops: [{op: test, path: /spec/m, value: {b: [true], a: 1}}]
  want: {spec: {m: {a: 1, b: [true]}}}
- case: test-then-replace
  body: {spec: {a: bird}}
  ops: [{op: test, path: /spec/a, value: bird}, {op: replace, path: /spec/a, value: vxlan}]
  want: {spec: {a: vxlan}}
- case: rename-is-allowed-as-in-kustomize
  body: {spec: {}}
  ops: [{op: replace, path: /metadata/name, value: calico-node-2}]
  want: {metadata: {name: calico-node-2, namespace: kube-system}, spec: {}}
- case: unused-members-are-ignored
  body: {spec: {a: 1}}
  ops: [{op: remove, path: /spec/a, value: 9, from: /x, comment: why}]
  want: {spec: {}}
"""


@pytest.mark.parametrize(("body", "ops", "want"), _cases(APPLIED, "body", "ops", "want"))
def test_operation(body: Body, ops: Any, want: Body) -> None:
    assert run(body, ops) == {**_doc(HEAD), **want}


# --- every failure, with its exact message -----------------------------------------------

FAILED = """
- case: remove-missing-key
  body: {spec: {}}
  ops: [{op: remove, path: /spec/x}]
  error: op 0 (remove /spec/x) | path not found
- case: replace-missing-key
  body: {spec: {}}
  ops: [{op: replace, path: /spec/x, value: 1}]
  error: op 0 (replace /spec/x) | path not found
- case: test-missing-key-even-for-null
  body: {spec: {}}
  ops: [{op: test, path: /spec/x, value: null}]
  error: op 0 (test /spec/x) | path not found
- case: add-missing-parent
  body: {spec: {}}
  ops: [{op: add, path: /spec/x/y, value: 1}]
  error: 'op 0 (add /spec/x/y) | parent not found: /spec/x'
- case: names-the-first-missing-ancestor
  body: {spec: {}}
  ops: [{op: add, path: /spec/x/y/z, value: 1}]
  error: 'op 0 (add /spec/x/y/z) | parent not found: /spec/x'
- case: missing-parent-shown-escaped
  body: {spec: {}}
  ops: [{op: remove, path: /spec/a~1b/c}]
  error: 'op 0 (remove /spec/a~1b/c) | parent not found: /spec/a~1b'
- case: add-inside-a-string
  body: {spec: {a: x}}
  ops: [{op: add, path: /spec/a/b, value: 1}]
  error: op 0 (add /spec/a/b) | /spec/a is a string, not a mapping or list
- case: remove-inside-null
  body: {spec: {a: null}}
  ops: [{op: remove, path: /spec/a/b}]
  error: op 0 (remove /spec/a/b) | /spec/a is null, not a mapping or list
- case: add-index-past-length
  body: {spec: {l: [a, b]}}
  ops: [{op: add, path: /spec/l/3, value: z}]
  error: op 0 (add /spec/l/3) | index 3 out of range (list has 2 items)
- case: replace-index-equal-to-length
  body: {spec: {l: [a, b]}}
  ops: [{op: replace, path: /spec/l/2, value: z}]
  error: op 0 (replace /spec/l/2) | index 2 out of range (list has 2 items)
- case: remove-past-a-single-item
  body: {spec: {l: [a]}}
  ops: [{op: remove, path: /spec/l/1}]
  error: op 0 (remove /spec/l/1) | index 1 out of range (list has 1 item)
- case: remove-dash
  body: {spec: {l: [a, b]}}
  ops: [{op: remove, path: /spec/l/-}]
  error: op 0 (remove /spec/l/-) | index - out of range (list has 2 items)
- case: replace-dash
  body: {spec: {l: []}}
  ops: [{op: replace, path: /spec/l/-, value: 1}]
  error: op 0 (replace /spec/l/-) | index - out of range (list has 0 items)
- case: add-below-dash
  body: {spec: {l: [a, b]}}
  ops: [{op: add, path: /spec/l/-/x, value: 1}]
  error: op 0 (add /spec/l/-/x) | index - out of range (list has 2 items)
- case: index-out-of-range-on-the-way
  body: {spec: {l: [{name: a}]}}
  ops: [{op: replace, path: /spec/l/4/name, value: b}]
  error: op 0 (replace /spec/l/4/name) | index 4 out of range (list has 1 item)
- case: negative-index
  body: {spec: {l: [a, b]}}
  ops: [{op: add, path: /spec/l/-1, value: z}]
  error: op 0 (add /spec/l/-1) | invalid list index "-1"
- case: leading-zero-index
  body: {spec: {l: [a, b]}}
  ops: [{op: remove, path: /spec/l/01}]
  error: op 0 (remove /spec/l/01) | invalid list index "01"
- case: plus-index
  body: {spec: {l: [a, b]}}
  ops: [{op: remove, path: /spec/l/+1}]
  error: op 0 (remove /spec/l/+1) | invalid list index "+1"
- case: word-index
  body: {spec: {l: [a, b]}}
  ops: [{op: test, path: /spec/l/x, value: a}]
  error: op 0 (test /spec/l/x) | invalid list index "x"
- case: move-into-own-child
  body: {spec: {a: {b: 1}}}
  ops: [{op: move, from: /spec/a, path: /spec/a/c}]
  error: op 0 (move /spec/a/c from /spec/a) | cannot move a value into its own child
- case: move-from-missing
  body: {spec: {}}
  ops: [{op: move, from: /spec/a, path: /spec/b}]
  error: 'op 0 (move /spec/b from /spec/a) | from: path not found'
- case: copy-from-missing
  body: {spec: {}}
  ops: [{op: copy, from: /spec/a, path: /spec/b}]
  error: 'op 0 (copy /spec/b from /spec/a) | from: path not found'
- case: copy-from-missing-parent
  body: {spec: {}}
  ops: [{op: copy, from: /spec/a/b, path: /spec/b}]
  error: 'op 0 (copy /spec/b from /spec/a/b) | from: parent not found: /spec/a'
- case: copy-to-missing-parent
  body: {spec: {a: 1}}
  ops: [{op: copy, from: /spec/a, path: /spec/x/b}]
  error: 'op 0 (copy /spec/x/b from /spec/a) | parent not found: /spec/x'
- case: test-failed
  body: {spec: {backend: bird}}
  ops: [{op: test, path: /spec/backend, value: vxlan}]
  error: 'op 0 (test /spec/backend) | test failed: found "bird", expected "vxlan"'
- case: test-bool-is-not-int
  body: {spec: {a: 1}}
  ops: [{op: test, path: /spec/a, value: true}]
  error: 'op 0 (test /spec/a) | test failed: found 1, expected true'
- case: test-string-is-not-int
  body: {spec: {a: 1}}
  ops: [{op: test, path: /spec/a, value: '1'}]
  error: 'op 0 (test /spec/a) | test failed: found 1, expected "1"'
- case: test-mapping-with-an-extra-key
  body: {spec: {m: {a: 1}}}
  ops: [{op: test, path: /spec/m, value: {a: 1, b: null}}]
  error: 'op 0 (test /spec/m) | test failed: found {"a":1}, expected {"a":1,"b":null}'
- case: test-long-values-are-cut-at-60-characters
  body: {spec: {m: {command: [/bin/calico-node, -felix-ready, -bird-ready, -bird6-ready]}}}
  ops: [{op: test, path: /spec/m, value: {}}]
  error: 'op 0 (test /spec/m) | test failed:
    found {"command":["/bin/calico-node","-felix-ready","-bird-read..., expected {}'
- case: counts-ops-from-zero
  body: {spec: {a: 1}}
  ops: [{op: remove, path: /spec/a}, {op: remove, path: /spec/a}]
  error: op 1 (remove /spec/a) | path not found
"""


@pytest.mark.parametrize(("body", "ops", "error"), _cases(FAILED, "body", "ops", "error"))
def test_failure(body: Body, ops: Any, error: str) -> None:
    where, problem = error.split(" | ")
    with pytest.raises(PatchError) as err:
        run(body, ops)
    assert str(err.value) == f"{FILE} {LABEL} {where}: {TARGET}: {problem}"


def test_failure_message_in_full() -> None:
    body = _doc(
        "spec: {template: {spec: {containers: [{readinessProbe: {exec: {command: [a, b]}}}]}}}"
    )
    ops = _doc("""
    - {op: add, path: /spec/a, value: 1}
    - {op: test, path: /spec/a, value: 1}
    - {op: remove, path: /spec/a}
    - {op: remove, path: /spec/template/spec/containers/0/readinessProbe/exec/command/2}
    """)
    with pytest.raises(PatchError) as err:
        run(body, ops)
    assert str(err.value) == (
        "overlays/azure/kustomization.yaml patches[1] op 3 "
        "(remove /spec/template/spec/containers/0/readinessProbe/exec/command/2): "
        "target apps/v1/DaemonSet/kube-system/calico-node (base/calico-node.yaml doc 0): "
        "index 2 out of range (list has 2 items)"
    )
    assert (err.value.file, err.value.message) == (FILE, "index 2 out of range (list has 2 items)")


@pytest.mark.parametrize(
    ("ops", "problem"),
    [
        ("[{op: remove, path: /metadata/name}]", "no metadata.name"),
        ("[{op: replace, path: /metadata/name, value: 5}]", "no metadata.name"),
        ("[{op: replace, path: /metadata, value: {}}]", "no metadata.name"),
        ("[{op: remove, path: /kind}]", "no kind"),
        ("[{op: replace, path: '', value: {metadata: {name: a}}}]", "no kind"),
    ],
)
def test_patched_object_keeps_a_kind_and_a_name(ops: str, problem: str) -> None:
    with pytest.raises(PatchError) as err:
        run({"spec": {}}, _doc(ops))
    assert str(err.value) == f"{FILE} {LABEL}: {TARGET}: the patched object has {problem}"


def test_a_failure_leaves_nothing_half_applied() -> None:
    body = {**_doc(HEAD), "spec": {"a": 1}}
    ops = _doc("[{op: add, path: /spec/b, value: 2}, {op: remove, path: /spec/zz}]")
    with pytest.raises(PatchError):
        apply_ops(body, ops, file=FILE, label=LABEL, resource="r")
    assert body == {**_doc(HEAD), "spec": {"a": 1}}


def test_added_values_are_copies_so_the_ops_never_change() -> None:
    ops = _doc("[{op: add, path: /spec/a, value: {x: 1}}, {op: add, path: /spec/a/y, value: 2}]")
    parsed = Patch.parse_ops(ops, file=FILE, label=LABEL)
    for _ in range(2):
        body = apply_ops({**_doc(HEAD), "spec": {}}, parsed, file=FILE, label=LABEL, resource="r")
        assert body["spec"] == {"a": {"x": 1, "y": 2}}
    assert parsed[0]["value"] == {"x": 1}


def test_yaml_aliases_become_independent_copies() -> None:
    # As kubectl kustomize does (observed): patching one alias leaves the other alone.
    body = _doc("{kind: K, metadata: {name: n}, spec: {a: &m {x: 1}, b: *m}}")
    ops = [{"op": "add", "path": "/spec/a/y", "value": 2}]
    after = apply_ops(body, ops, file=FILE, label=LABEL, resource="r")
    assert after["spec"] == {"a": {"x": 1, "y": 2}, "b": {"x": 1}}


def test_unchanged_parts_are_shared_and_changed_paths_copied_once() -> None:
    # Copy-on-write: a fleet patches the same base bodies for every cluster.
    body = _doc("{kind: K, metadata: {name: n}, spec: {a: {l: [1, 2]}, b: {x: [3]}}}")
    pristine = copy.deepcopy(body)
    ops = _doc(
        "[{op: add, path: /spec/a/l/-, value: 3}, {op: move, from: /spec/a/l/0, path: /spec/a/m},"
        " {op: copy, from: /spec/b, path: /spec/c}, {op: add, path: /spec/c/x/-, value: 4}]"
    )
    after = apply_ops(body, ops, file=FILE, label=LABEL, resource="r")
    assert after["spec"] == {"a": {"l": [2, 3], "m": 1}, "b": {"x": [3]}, "c": {"x": [3, 4]}}
    assert body == pristine
    assert after["metadata"] is body["metadata"] and after["spec"]["b"] is body["spec"]["b"]
    assert (
        after["spec"] is not body["spec"] and after["spec"]["a"]["l"] is not body["spec"]["a"]["l"]
    )


def test_a_move_through_the_list_it_leaves_copies_the_item_it_changes() -> None:
    # The value leaves /spec/l first, so /spec/l/1 is the item that was /spec/l/2.
    body = _doc("{kind: K, metadata: {name: n}, spec: {l: [v, {n: 1}, {n: 2}]}}")
    pristine = copy.deepcopy(body)
    ops = [{"op": "move", "from": "/spec/l/0", "path": "/spec/l/1/x"}]
    after = apply_ops(body, ops, file=FILE, label=LABEL, resource="r")
    assert after["spec"]["l"] == [{"n": 1}, {"n": 2, "x": "v"}]
    assert body == pristine
    assert after["spec"]["l"][0] is body["spec"]["l"][1]


@pytest.mark.parametrize(
    ("ops", "problem"),
    [
        ("[{op: move, from: /spec/a, path: /spec/x/b}]", "parent not found: /spec/x"),
        (
            "[{op: move, from: /spec/l/0, path: /spec/l/2}]",
            "index 2 out of range (list has 1 item)",
        ),
        (
            "[{op: add, path: /spec/b, value: 1}, {op: move, from: /spec/b, path: /spec/a/0}]",
            "/spec/a is a number, not a mapping or list",
        ),
    ],
)
def test_a_failed_move_is_explained_as_the_document_was_before_it(ops: str, problem: str) -> None:
    body = {**_doc(HEAD), "spec": {"a": 1, "l": ["a", "b"]}}
    with pytest.raises(PatchError) as err:
        apply_ops(body, _doc(ops), file=FILE, label=LABEL, resource="r")
    assert err.value.message == problem
    assert body == {**_doc(HEAD), "spec": {"a": 1, "l": ["a", "b"]}}


def _random_value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth <= 0 or roll < 0.3:
        return rng.choice([0, 1, 2.5, "x", "y", True, None])
    if roll < 0.65:
        return {rng.choice("abcd"): _random_value(rng, depth - 1) for _ in range(rng.randrange(4))}
    return [_random_value(rng, depth - 1) for _ in range(rng.randrange(4))]


def _paths(value: Any, prefix: str = "/spec") -> list[str]:
    found = [prefix]
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in items:
        found += _paths(child, f"{prefix}/{key}")
    return found


def _random_op(rng: random.Random, spec: Any) -> dict[str, Any]:
    paths = _paths(spec)
    path = rng.choice([*paths, "/spec/zz", "/spec/a/-", "/spec/l/0/q"])
    if rng.random() < 0.4 and path != "/spec":
        path = path.rsplit("/", 1)[0] + "/" + rng.choice(["a", "b", "0", "1", "-", "9"])
    name = rng.choice(["add", "remove", "replace", "move", "copy", "test"])
    op: dict[str, Any] = {"op": name, "path": path}
    if name in ("move", "copy"):
        op["from"] = rng.choice(paths[1:] or ["/spec/zz"])
    if name in ("add", "replace", "test"):
        op["value"] = _random_value(rng, 2)
    return op


def test_copy_on_write_agrees_with_the_library_on_a_private_copy() -> None:
    # 2,000 seeded random patches: netpack's result is the library's on a deep copy
    # (or both refuse), the original body never changes, and applying twice agrees.
    rng = random.Random(6902)
    outcomes = set()
    for _ in range(2000):
        body = {**_doc(HEAD), "spec": _random_value(rng, 4) or {}}
        if not isinstance(body["spec"], dict | list):
            body["spec"] = {"a": body["spec"]}
        spec = body["spec"]
        ops = [_random_op(rng, spec) for _ in range(rng.randrange(1, 5))]
        pristine = copy.deepcopy(body)
        try:
            expected = jsonpatch.apply_patch(copy.deepcopy(body), ops)
        except Exception:  # the library refuses: netpack must too
            expected = None
        try:
            got = apply_ops(body, ops, file=FILE, label=LABEL, resource="r")
            again = apply_ops(body, ops, file=FILE, label=LABEL, resource="r")
        except PatchError:
            got = again = None
        assert body == pristine, ops
        assert got == expected and again == expected, ops
        outcomes.add(got is None)
    assert outcomes == {True, False}


# --- parsing operations ------------------------------------------------------------------

UNKNOWN = "(expected add, remove, replace, move, copy or test)"
ESCAPES = '(use ~0 for "~" and ~1 for "/")'
WHOLE = '"" (the whole object) is only allowed as the path of replace'


@pytest.mark.parametrize(
    ("ops", "message"),
    [
        ("{op: add}", ": a JSON patch must be a list of operations, got a mapping"),
        ("[add]", " op 0: an operation must be a mapping, got a string"),
        ("[{op: foo, path: /a}]", f' op 0 (foo /a): unknown op "foo" {UNKNOWN}'),
        ("[{op: Add, path: /a, value: 1}]", f' op 0 (Add /a): unknown op "Add" {UNKNOWN}'),
        ("[{op: 1, path: /a}]", f" op 0 (1 /a): unknown op 1 {UNKNOWN}"),
        ("[{path: /a}]", ' op 0 (? /a): missing "op"'),
        ("[{op: remove}]", ' op 0 (remove ?): missing "path"'),
        ("[{op: remove, path: 1}]", ' op 0 (remove 1): "path" must be a string, got a number'),
        ("[{op: remove, path: null}]", ' op 0 (remove null): "path" must be a string, got null'),
        (
            "[{op: remove, path: a/b}]",
            ' op 0 (remove a/b): path "a/b" must be "" or start with "/"',
        ),
        (
            "[{op: remove, path: /a~2b}]",
            f' op 0 (remove /a~2b): path "/a~2b": invalid escape "~2" {ESCAPES}',
        ),
        (
            "[{op: remove, path: /a~}]",
            f' op 0 (remove /a~): path "/a~": invalid escape "~" {ESCAPES}',
        ),
        ("[{op: add, path: /a}]", ' op 0 (add /a): missing "value"'),
        ("[{op: replace, path: /a}]", ' op 0 (replace /a): missing "value"'),
        ("[{op: test, path: /a}]", ' op 0 (test /a): missing "value"'),
        ("[{op: move, path: /b}]", ' op 0 (move /b from ?): missing "from"'),
        (
            "[{op: copy, path: /b, from: a}]",
            ' op 0 (copy /b from a): from "a" must be "" or start with "/"',
        ),
        ("[{op: add, path: '', value: {}}]", f' op 0 (add ""): {WHOLE}'),
        ("[{op: remove, path: ''}]", f' op 0 (remove ""): {WHOLE}'),
        ("[{op: test, path: '', value: {}}]", f' op 0 (test ""): {WHOLE}'),
        ("[{op: move, from: '', path: /a}]", f' op 0 (move /a from ""): {WHOLE}'),
        ("[{op: copy, from: /a, path: ''}]", f' op 0 (copy "" from /a): {WHOLE}'),
        (
            "[{op: replace, path: '', value: [1]}]",
            ' op 0 (replace ""): the whole object must be replaced by a mapping, not a list',
        ),
        (
            "[{op: remove, path: /a}, {op: remove, path: /b}, {op: nope, path: /c}]",
            f' op 2 (nope /c): unknown op "nope" {UNKNOWN}',
        ),
    ],
)
def test_parse_ops_refuses(ops: str, message: str) -> None:
    with pytest.raises(PatchError) as err:
        Patch.parse_ops(_doc(ops), file=FILE, label=LABEL)
    assert str(err.value) == f"{FILE} {LABEL}{message}"


def test_parse_ops_returns_copies() -> None:
    raw = _doc("[{op: add, path: /a, value: {x: [1]}}]")
    ops = Patch.parse_ops(raw, file=FILE, label=LABEL)
    raw[0]["value"]["x"].append(2)
    assert ops == ({"op": "add", "path": "/a", "value": {"x": [1]}},)
    assert Patch.parse_ops([], file=FILE, label=LABEL) == ()


def test_apply_ops_checks_ops_that_were_never_parsed() -> None:
    with pytest.raises(PatchError) as err:
        apply_ops(_doc(HEAD), [{"op": "add", "path": "/a"}], file=FILE, label=LABEL, resource="r")
    assert str(err.value) == f'{FILE} {LABEL} op 0 (add /a): target r: missing "value"'


@pytest.mark.parametrize(
    ("op", "text"),
    [
        ({"op": "remove", "path": "/spec/x"}, "remove /spec/x"),
        ({"op": "add", "path": "/a~1b", "value": 1}, "add /a~1b"),
        ({"op": "move", "from": "/a", "path": "/b"}, "move /b from /a"),
        ({"op": "copy", "from": "/a", "path": "/b"}, "copy /b from /a"),
        ({"op": "replace", "path": "", "value": {}}, 'replace ""'),
        ({"path": 3}, "? 3"),
    ],
)
def test_describe_op(op: dict[str, Any], text: str) -> None:
    assert describe_op(op) == text


# --- targets ------------------------------------------------------------------------------

RESOURCES = """\
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: calico-node
  namespace: kube-system
  labels: {k8s-app: calico-node, tier: net}
  annotations: {example.com/owner: network}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: calico
  namespace: kube-system
  labels: {k8s-app: calico, replicas: "3"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: calico-config}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: other, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: calico-node}
---
apiVersion: crd.projectcalico.org/v1
kind: FelixConfiguration
metadata: {name: default}
"""

# target -> what it selects, by "Kind/name"; ALL is every resource above.
SELECTED = """
- ['{}', ALL]
- ['{kind: DaemonSet}', [DaemonSet/calico-node]]
- ['{name: calico}', [Deployment/calico]]                 # anchored: not calico-node
- ['{name: node}', []]
- ['{name: calico.*}', 'ALL but ConfigMap/other, FelixConfiguration/default']
- ['{group: apps}', [DaemonSet/calico-node, Deployment/calico]]
- ['{group: ""}', ALL]                                    # empty is absent
- ['{group: ^$}', [ConfigMap/calico-config, ConfigMap/other]]  # the core group is ""
- ['{version: v1}', ALL]
- ['{version: v1beta1}', []]
- ['{kind: Config.*|ClusterRole}',
   [ConfigMap/calico-config, ConfigMap/other, ClusterRole/calico-node]]
- ['{kind: daemonset}', []]
- ['{namespace: kube-system}', [DaemonSet/calico-node, Deployment/calico]]
# no namespace counts as "default", except for cluster-scoped kinds (not FelixConfiguration)
- ['{namespace: default}', [ConfigMap/calico-config, ConfigMap/other, FelixConfiguration/default]]
- ['{namespace: _non_namespaceable_}', [ClusterRole/calico-node]]
- ['{namespace: .+}', ALL]
- ['{namespace: null, name: null}', ALL]
- ['{labelSelector: k8s-app=calico-node}', [DaemonSet/calico-node]]
- ['{labelSelector: k8s-app==calico}', [Deployment/calico]]
- ['{labelSelector: k8s-app!=calico}', ALL but Deployment/calico]
- ['{labelSelector: "k8s-app in (calico, calico-node)"}',
   [DaemonSet/calico-node, Deployment/calico]]
- ['{labelSelector: "k8s-app notin (calico)"}', ALL but Deployment/calico]
- ['{labelSelector: tier}', [DaemonSet/calico-node]]
- ['{labelSelector: "!tier"}', ALL but DaemonSet/calico-node]
- ['{labelSelector: "k8s-app,tier=net"}', [DaemonSet/calico-node]]
- ['{labelSelector: " k8s-app = calico , !tier "}', [Deployment/calico]]
- ['{labelSelector: replicas>2}', [Deployment/calico]]
- ['{labelSelector: replicas<3}', []]
- ['{labelSelector: "tier in ()"}', []]
- ['{labelSelector: "tier notin (,)"}', ALL]
- ['{annotationSelector: example.com/owner=network}', [DaemonSet/calico-node]]
- ['{annotationSelector: "!example.com/owner"}', ALL but DaemonSet/calico-node]
- ['{kind: DaemonSet, labelSelector: tier=other}', []]
- ['{group: apps, version: v1, kind: DaemonSet, name: calico-node, namespace: kube-system}',
   [DaemonSet/calico-node]]
"""


def _resources(text: str) -> list[Resource]:
    bodies = parse_documents(text, "base/all.yaml")
    return [Resource(body, Origin("base/all.yaml", i)) for i, body in enumerate(bodies)]


def _short(resource: Resource) -> str:
    return f"{resource.body['kind']}/{resource.body['metadata']['name']}"


def _selected_cases() -> list[tuple[str, list[str]]]:
    every = [_short(r) for r in _resources(RESOURCES)]
    cases = []
    for target, want in _doc(SELECTED):
        if isinstance(want, str):  # "ALL" or "ALL but Kind/name, ..."
            left_out = want.removeprefix("ALL").removeprefix(" but ").split(", ")
            want = [r for r in every if r not in left_out]
        cases.append((target, want))
    return cases


@pytest.mark.parametrize(("target", "want"), _selected_cases())
def test_target_selects(target: str, want: list[str]) -> None:
    parsed = Target.parse(_doc(target), file=FILE, operation=LABEL)
    assert [_short(r) for r in _resources(RESOURCES) if parsed.matches(r)] == want


SELECTOR = "target.labelSelector"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("[kind]", "target must be a mapping, got a list"),
        ("kind", "target must be a mapping, got a string"),
        (
            "{nmae: x}",
            'unknown key "nmae" in target '
            "(expected group, version, kind, name, namespace, labelSelector or annotationSelector)",
        ),
        ("{name: 5}", "target.name must be a string, got a number"),
        ("{kind: [a]}", "target.kind must be a string, got a list"),
        (
            "{name: 'calico['}",
            'target.name "calico[": invalid regular expression: '
            "unterminated character set at position 6",
        ),
        (
            "{kind: 'a)|(b'}",
            'target.kind "a)|(b": invalid regular expression: unbalanced parenthesis at position 1',
        ),
        (
            "{labelSelector: a b}",
            f'{SELECTOR} "a b": found "b", expected "=", "==", "!=", "in", "notin", ">" or "<"',
        ),
        ("{labelSelector: 'a in b'}", f'{SELECTOR} "a in b": found "b", expected "("'),
        ("{labelSelector: 'a in (b'}", f'{SELECTOR} "a in (b": found the end, expected "," or ")"'),
        (
            "{labelSelector: 'a in (b c)'}",
            f'{SELECTOR} "a in (b c)": found "c", expected "," or ")"',
        ),
        (
            "{labelSelector: 'a in (=)'}",
            f'{SELECTOR} "a in (=)": found "=", expected a value, "," or ")"',
        ),
        ("{labelSelector: 'a,'}", f'{SELECTOR} "a,": found the end, expected a label key'),
        ("{labelSelector: ',a'}", f'{SELECTOR} ",a": found ",", expected a label key'),
        ("{labelSelector: '!'}", f'{SELECTOR} "!": found the end, expected a label key'),
        ("{labelSelector: '!a=b'}", f'{SELECTOR} "!a=b": found "=", expected "," or the end'),
        ("{labelSelector: 'a=b=c'}", f'{SELECTOR} "a=b=c": found "=", expected "," or the end'),
        ("{labelSelector: 'a=(b)'}", f'{SELECTOR} "a=(b)": found "(", expected a label value'),
        ("{labelSelector: '-a=b'}", f'{SELECTOR} "-a=b": invalid label key "-a"'),
        ("{labelSelector: 'a/b/c'}", f'{SELECTOR} "a/b/c": invalid label key "a/b/c"'),
        ("{labelSelector: 'X.io/a'}", f'{SELECTOR} "X.io/a": invalid label key "X.io/a"'),
        ("{labelSelector: '/a'}", f'{SELECTOR} "/a": invalid label key "/a"'),
        (
            "{annotationSelector: 'a=-b'}",
            'target.annotationSelector "a=-b": invalid label value "-b"',
        ),
        (
            f"{{labelSelector: 'a={'x' * 64}'}}",
            f'{SELECTOR} "a={"x" * 64}": invalid label value "{"x" * 64}"',
        ),
        (
            "{labelSelector: 'a>b'}",
            f'{SELECTOR} "a>b": the value of ">" must be an integer, got "b"',
        ),
    ],
)
def test_target_parse_refuses(raw: str, problem: str) -> None:
    with pytest.raises(KustomizationError) as err:
        Target.parse(_doc(raw), file=FILE, operation=LABEL)
    assert str(err.value) == f"{FILE} {LABEL}: {problem}"


def test_target_text_and_selector_form() -> None:
    raw = "{kind: DaemonSet, name: calico-node, labelSelector: 'a in (b, c)', version: ''}"
    target = Target.parse(_doc(raw), file=FILE, operation=LABEL)
    assert target == Target(kind="DaemonSet", name="calico-node", label_selector="a in (b, c)")
    assert str(target) == 'kind=DaemonSet name=calico-node labelSelector="a in (b, c)"'
    selector = {"kind": "DaemonSet", "name": "calico-node", "labelSelector": "a in (b, c)"}
    assert target.as_selector() == selector
    assert str(Target()) == "(any resource)"


def test_target_built_in_code_is_checked_too() -> None:
    with pytest.raises(KustomizationError) as err:
        Target(name="(")
    problem = "missing ), unterminated subpattern at position 0"
    assert str(err.value) == f'target.name "(": invalid regular expression: {problem}'


# --- apply_patch ------------------------------------------------------------------------


def _patch(target: str, ops: str) -> Patch:
    return Patch(
        ops=Patch.parse_ops(_doc(ops), file=FILE, label=LABEL),
        target=Target.parse(_doc(target), file=FILE, operation=LABEL),
        file=FILE,
        label=LABEL,
    )


def test_apply_patch_replaces_only_what_the_target_selects() -> None:
    resources = _resources(RESOURCES)
    pristine = copy.deepcopy([r.body for r in resources])
    patch = _patch("{name: calico-node}", "[{op: add, path: /patched, value: true}]")
    result = apply_patch(resources, patch)
    assert [r.body for r in resources] == pristine
    assert [_short(r) for r in result] == [_short(r) for r in resources]
    for old, new in zip(resources, result, strict=True):
        selected = _short(old) in ("DaemonSet/calico-node", "ClusterRole/calico-node")
        assert (new is old) is not selected
        assert new.origin == old.origin
        assert ("patched" in new.body) is selected


def test_apply_patch_refuses_a_target_that_matches_nothing() -> None:
    # kustomize ignores such a patch silently: kubernetes-sigs/kustomize#4379, #5093.
    with pytest.raises(PatchError) as err:
        apply_patch(_resources(RESOURCES), _patch("{kind: DaemonSet, name: calico}", "[]"))
    assert (
        str(err.value) == f"{FILE} {LABEL}: target kind=DaemonSet name=calico: matches no resource"
    )


def test_apply_patch_names_the_resource_that_failed() -> None:
    patch = _patch("{kind: ConfigMap}", "[{op: remove, path: /metadata/namespace}]")
    with pytest.raises(PatchError) as err:
        apply_patch(_resources(RESOURCES), patch)
    assert str(err.value) == (
        f"{FILE} {LABEL} op 0 (remove /metadata/namespace): "
        "target v1/ConfigMap/calico-config (base/all.yaml doc 2): path not found"
    )


# --- the oracle: the real kubectl kustomize --------------------------------------------

ORACLE_RESOURCES = """\
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: calico-node
  namespace: kube-system
  labels: {k8s-app: calico-node}
  annotations: {example.com/owner: network}
spec:
  template:
    spec:
      containers:
      - name: calico-node
        image: calico/node:v3.30.7
        env:
        - {name: CALICO_NETWORKING_BACKEND, value: bird}
        - {name: CALICO_IPV4POOL_IPIP, value: Always}
        - {name: FELIX_HEALTHENABLED, value: "true"}
        readinessProbe:
          exec:
            command: [/bin/calico-node, -felix-ready, -bird-ready]
        livenessProbe:
          exec:
            command: [/bin/calico-node, -felix-live, -bird-live]
      - {name: sidecar, image: busybox}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: calico-kube-controllers
  namespace: kube-system
  labels: {k8s-app: calico-kube-controllers}
  annotations: &annotations {example.com/team: net}
spec:
  replicas: 1
  template:
    metadata:
      annotations: *annotations
    spec:
      tolerations:
      - {key: CriticalAddonsOnly, operator: Exists}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: calico-config, namespace: kube-system}
data: {calico_backend: bird, veth_mtu: "0"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: calico-node}
rules:
- apiGroups: [""]
  resources: [pods, nodes]
  verbs: [get]
---
apiVersion: crd.projectcalico.org/v1
kind: FelixConfiguration
metadata: {name: default}
spec: {bpfEnabled: false, logSeverityScreen: Info}
"""

# (target, operations) in order; every op kind and every target field appears.
ORACLE_PATCHES = """
- - {kind: DaemonSet, name: calico-node}
  - - {op: test, path: /spec/template/spec/containers/0/env/0/value, value: bird}
    - {op: replace, path: /spec/template/spec/containers/0/env/0/value, value: vxlan}
    - {op: remove, path: /spec/template/spec/containers/0/readinessProbe/exec/command/2}
    - {op: remove, path: /spec/template/spec/containers/0/livenessProbe/exec/command/2}
    - {op: add, path: /spec/template/spec/containers/0/env/-, value: {name: A, value: "true"}}
    - {op: add, path: /spec/template/spec/containers/0/env/1, value: {name: B, value: x}}
    - {op: move, from: /spec/template/spec/containers/1, path: /spec/template/spec/containers/0}
    - {op: add, path: /spec/template/metadata, value: {}}
    - {op: copy, from: /metadata/labels, path: /spec/template/metadata/labels}
    - {op: add, path: /metadata/annotations/example.com~1zone, value: a}
    - {op: add, path: /metadata/annotations/tilde~0key, value: b}
- - {kind: Deployment|DaemonSet, name: calico-.*}
  - - {op: add, path: /metadata/labels/patched, value: regex}
- - {labelSelector: k8s-app in (calico-kube-controllers)}
  - - {op: replace, path: /spec/replicas, value: 2}
    - {op: add, path: /spec/template/spec/tolerations/0/effect, value: NoSchedule}
    - {op: add, path: /metadata/annotations/example.com~1extra, value: not-in-the-alias}
- - {kind: ConfigMap, namespace: kube-.*}
  - - {op: test, path: /data/calico_backend, value: bird}
    - {op: replace, path: /data/calico_backend, value: vxlan}
    - {op: add, path: /data/typha_service_name, value: none}
    - {op: remove, path: /data/veth_mtu}
    - {op: copy, from: /data/calico_backend, path: /data/copied}
- - {group: rbac.authorization.k8s.io, kind: ClusterRole}
  - - {op: test, path: /rules/0/apiGroups/0, value: ""}
    - {op: add, path: /rules/0/verbs/-, value: list}
    - {op: add, path: /rules/-, value: {apiGroups: [x.org], resources: ['*'], verbs: [get]}}
- - {group: crd.projectcalico.org, version: v1}
  - - {op: replace, path: /spec/bpfEnabled, value: true}
    - {op: test, path: /spec/bpfEnabled, value: true}
    - {op: move, from: /spec/logSeverityScreen, path: /spec/logSeverityFile}
    - {op: add, path: /spec/nested, value: {a: {b: [1, 2.5]}}}
    - {op: test, path: /spec/nested, value: {a: {b: [1.0, 2.5]}}}
- - {annotationSelector: example.com/owner=network}
  - - {op: add, path: /metadata/labels/owner, value: network}
- - {kind: DaemonSet}
  - - {op: replace, path: /metadata/name, value: calico-node-renamed}
"""


def _write_kustomization(directory: Path, resources: str, patches: list[Any]) -> None:
    """resources.yaml, p<i>.yaml per (target, ops) pair, and a kustomization.yaml."""
    (directory / "resources.yaml").write_text(resources)
    entries = []
    for index, (target, ops) in enumerate(patches):
        (directory / f"p{index}.yaml").write_text(yaml.safe_dump(ops))
        entries.append({"path": f"p{index}.yaml", "target": target})
    kustomization = {"resources": ["resources.yaml"], "patches": entries}
    (directory / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))


def netpack_build(directory: Path) -> list[Body]:
    """What netpack makes of a kustomization written by ``_write_kustomization``."""
    kustomization = read_documents(directory / "kustomization.yaml")[0]
    resources = _resources((directory / "resources.yaml").read_text())
    for index, entry in enumerate(kustomization["patches"]):
        label = f"patches[{index}] ({entry['path']})"
        raw = read_documents(directory / entry["path"])[0]
        ops = Patch.parse_ops(raw, file="kustomization.yaml", label=label)
        target = Target.parse(entry["target"], file="kustomization.yaml", operation=label)
        resources = apply_patch(resources, Patch(ops, target, "kustomization.yaml", label))
    return [r.body for r in resources]


def _by_name(bodies: list[Any]) -> list[Any]:
    return sorted(bodies, key=lambda b: (b["kind"], b["metadata"]["name"]))


def test_oracle_every_op_and_target_field(kubectl: str, tmp_path: Path) -> None:
    _write_kustomization(tmp_path, ORACLE_RESOURCES, _doc(ORACLE_PATCHES))
    expected = list(yaml.safe_load_all(kustomize(kubectl, tmp_path)))
    assert _by_name(netpack_build(tmp_path)) == _by_name(expected)


# Built-in types to probe for kustomize's idea of scope, written independently of
# pipeline.kustomize.target's table: every version of each kind, known to kustomize or not,
# plus namespaced kinds and a custom resource.  Group: (versions, kinds).
PROBED = """
'': [[v1, v1beta1], [Namespace, Node, PersistentVolume, ComponentStatus, ConfigMap, Binding]]
admissionregistration.k8s.io:
- [v1, v1beta1, v1alpha1]
- [MutatingWebhookConfiguration, ValidatingWebhookConfiguration, ValidatingAdmissionPolicy,
   ValidatingAdmissionPolicyBinding, MutatingAdmissionPolicy]
apiextensions.k8s.io: [[v1, v1beta1], [CustomResourceDefinition]]
apiregistration.k8s.io: [[v1, v1beta1], [APIService]]
authentication.k8s.io: [[v1, v1beta1], [TokenReview, SelfSubjectReview]]
authorization.k8s.io: [[v1, v1beta1], [SubjectAccessReview, SelfSubjectRulesReview]]
certificates.k8s.io: [[v1, v1beta1, v1alpha1], [CertificateSigningRequest, ClusterTrustBundle]]
flowcontrol.apiserver.k8s.io:
- [v1, v1beta1, v1beta2, v1beta3]
- [FlowSchema, PriorityLevelConfiguration]
networking.k8s.io: [[v1, v1beta1, v1alpha1], [IngressClass, IPAddress, ServiceCIDR, Ingress]]
node.k8s.io: [[v1, v1beta1, v1alpha1], [RuntimeClass]]
policy: [[v1, v1beta1], [PodSecurityPolicy, PodDisruptionBudget]]
rbac.authorization.k8s.io: [[v1, v1beta1, v1alpha1], [ClusterRole, ClusterRoleBinding, Role]]
resource.k8s.io: [[v1, v1beta1], [DeviceClass, ResourceSlice, ResourceClaim]]
scheduling.k8s.io: [[v1, v1beta1, v1alpha1], [PriorityClass]]
storage.k8s.io:
- [v1, v1beta1, v1alpha1]
- [StorageClass, CSIDriver, CSINode, VolumeAttachment, VolumeAttributesClass, CSIStorageCapacity]
crd.projectcalico.org: [[v1], [FelixConfiguration, IPPool]]
"""


def _probed_types() -> list[tuple[str, str]]:
    return [
        (f"{group}/{version}" if group else version, kind)
        for group, (versions, kinds) in _doc(PROBED).items()
        for version in versions
        for kind in kinds
    ]


def test_oracle_targets_select_what_kustomize_selects(kubectl: str, tmp_path: Path) -> None:
    """One build: each target appends its index to ``/hits`` of every object it selects."""
    probes = [
        {"apiVersion": api, "kind": kind, "metadata": {"name": f"probe-{i}"}}
        for i, (api, kind) in enumerate(_probed_types())
    ]
    bodies = [{**body, "hits": []} for body in parse_documents(RESOURCES, "x") + probes]
    targets = [_doc(target) for target, _ in _selected_cases()]
    targets += [{"namespace": "_non_namespaceable_"}, {"namespace": "default"}]
    patches = [(t, [{"op": "add", "path": "/hits/-", "value": i}]) for i, t in enumerate(targets)]
    _write_kustomization(tmp_path, yaml.safe_dump_all(bodies), patches)

    def key(body: Body) -> tuple[str, str, str]:
        return body["apiVersion"], body["kind"], body["metadata"]["name"]

    kustomize_hits = {key(b): b["hits"] for b in yaml.safe_load_all(kustomize(kubectl, tmp_path))}
    parsed = [Target.parse(t, file=FILE, operation=LABEL) for t in targets]
    netpack_hits = {
        key(r.body): [i for i, t in enumerate(parsed) if t.matches(r)]
        for r in _resources(yaml.safe_dump_all(bodies))
    }
    assert netpack_hits == kustomize_hits
    not_namespaced = len(targets) - 2
    found = {
        (api, kind) for (api, kind, _), hits in kustomize_hits.items() if not_namespaced in hits
    }
    assert found == _CLUSTER_SCOPED


# Operations netpack refuses, and whether kustomize builds them anyway (a documented
# divergence: kustomize does something RFC 6902 forbids) or refuses them too.
REFUSED = """
- {case: replace-missing-key, ops: [{op: replace, path: /spec/x, value: 1}], kustomize: builds}
- {case: test-missing-key-null, ops: [{op: test, path: /spec/x, value: null}], kustomize: builds}
- {case: copy-from-missing, ops: [{op: copy, from: /spec/x, path: /spec/y}], kustomize: builds}
- {case: missing-value, ops: [{op: add, path: /spec/x}], kustomize: builds}
- {case: negative-index, ops: [{op: add, path: /spec/l/-1, value: z}], kustomize: builds}
- {case: leading-zero-index, ops: [{op: add, path: /spec/l/01, value: z}], kustomize: builds}
- {case: plus-index, ops: [{op: add, path: /spec/l/+1, value: z}], kustomize: builds}
- {case: unknown-escape, ops: [{op: add, path: /spec/a~2b, value: z}], kustomize: builds}
- {case: path-without-slash, ops: [{op: add, path: spec/x, value: z}], kustomize: builds}
- {case: name-not-a-string, ops: [{op: replace, path: /metadata/name, value: 5}], kustomize: builds}
- {case: add-whole-object, ops: [{op: add, path: '', value: {}}], kustomize: fails}
- {case: test-whole-object, ops: [{op: test, path: '', value: {}}], kustomize: fails}
- {case: remove-whole-object, ops: [{op: remove, path: ''}], kustomize: fails}
- {case: replace-whole-object-by-list, ops: [{op: replace, path: '', value: []}], kustomize: fails}
- {case: move-into-own-child, ops: [{op: move, from: /spec, path: /spec/x}], kustomize: fails}
- {case: add-missing-parent, ops: [{op: add, path: /spec/x/y, value: 1}], kustomize: fails}
- {case: remove-missing-key, ops: [{op: remove, path: /spec/x}], kustomize: fails}
- {case: replace-index-len, ops: [{op: replace, path: /spec/l/2, value: z}], kustomize: fails}
- {case: add-index-past-len, ops: [{op: add, path: /spec/l/3, value: z}], kustomize: fails}
- {case: word-index, ops: [{op: add, path: /spec/l/x, value: z}], kustomize: fails}
- {case: test-failed, ops: [{op: test, path: /spec/l/0, value: b}], kustomize: fails}
- {case: test-bool-is-not-int, ops: [{op: test, path: /spec/n, value: true}], kustomize: fails}
- {case: unknown-op, ops: [{op: foo, path: /spec}], kustomize: fails}
- {case: remove-name, ops: [{op: remove, path: /metadata/name}], kustomize: fails}
"""


@pytest.mark.parametrize(("ops", "verdict"), _cases(REFUSED, "ops", "kustomize"))
def test_oracle_refusals(kubectl: str, tmp_path: Path, ops: Any, verdict: str) -> None:
    body = {**_doc(HEAD), "spec": {"l": ["a", "b"], "n": 1}}
    _write_kustomization(tmp_path, yaml.safe_dump(body), [({"kind": "DaemonSet"}, ops)])
    with pytest.raises(NetpackError):
        netpack_build(tmp_path)
    proc = subprocess.run([kubectl, "kustomize", str(tmp_path)], capture_output=True, check=False)
    assert ("builds" if proc.returncode == 0 else "fails") == verdict, proc.stderr


@pytest.mark.parametrize(
    "target", [{"kind": "ConfigMap"}, {"kind": "a)|(b"}], ids=["no-match", "regex"]
)
def test_oracle_targets_kustomize_ignores(
    kubectl: str, tmp_path: Path, target: dict[str, str]
) -> None:
    _write_kustomization(tmp_path, HEAD, [(target, [{"op": "add", "path": "/spec", "value": {}}])])
    with pytest.raises(NetpackError):
        netpack_build(tmp_path)
    kustomize(kubectl, tmp_path)  # builds: the patch is silently ignored


def test_oracle_a_move_counts_its_target_after_the_removal(kubectl: str, tmp_path: Path) -> None:
    body = {**_doc(HEAD), "spec": {"l": ["v", {"n": 1}, {"n": 2}], "m": [1, 2, 3]}}
    ops = [
        {"op": "move", "from": "/spec/l/0", "path": "/spec/l/1/x"},
        {"op": "move", "from": "/spec/m/0", "path": "/spec/m/2"},
    ]
    _write_kustomization(tmp_path, yaml.safe_dump(body), [({"kind": "DaemonSet"}, ops)])
    expected = list(yaml.safe_load_all(kustomize(kubectl, tmp_path)))
    assert netpack_build(tmp_path) == expected
