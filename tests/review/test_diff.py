"""pipeline.review.diff and pipeline.review.format: tables of old YAML and new YAML in, changes out."""

from __future__ import annotations

import copy
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

import pipeline.review.unified
from pipeline.errors import InputError
from pipeline.flow import render_cluster
from pipeline.review.diff import (
    FleetDiff,
    diff_trees,
    exit_code,
)
from pipeline.review.format import format_json, format_markdown, format_text
from pipeline.values.cluster import find_pack, read_cluster
from tests.conftest import ROOT


def docs(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc is not None]


def diff(old: str, new: str, cluster: str = "c1") -> FleetDiff:
    return diff_trees({cluster: docs(old)}, {cluster: docs(new)})


# --- Table: old YAML, new YAML -> (kind, resource, paths, note prefixes) ------

NODE = """
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: calico-node, namespace: kube-system}
spec:
  template:
    spec:
      containers:
      - name: calico-node
        image: calico/node:v3.30.7
        env:
        - {name: CALICO_IPV4POOL_IPIP, value: Always}
        - {name: CALICO_IPV4POOL_CIDR, value: 10.244.0.0/16}
        - {name: FELIX_VXLANMTU, value: "1450"}
        ports:
        - {containerPort: 53, protocol: UDP, name: dns}
        - {containerPort: 53, protocol: TCP, name: dns-tcp}
        volumeMounts:
        - {mountPath: /lib/modules, name: lib-modules, readOnly: true}
        - {mountPath: /var/run/calico, name: var-run-calico}
      - {name: sidecar, image: busybox, args: [a, b]}
      tolerations:
      - {effect: NoSchedule, operator: Exists}
      - {key: CriticalAddonsOnly, operator: Exists}
      volumes:
      - {name: lib-modules, hostPath: {path: /lib/modules}}
      - {name: var-run-calico, hostPath: {path: /var/run/calico}}
"""
CONFIG = """
apiVersion: v1
kind: ConfigMap
metadata: {name: calico-config, namespace: kube-system, labels: {app.kubernetes.io/name: calico}}
data: {calico_backend: bird, veth_mtu: "1440"}
"""
ENV = "spec.template.spec.containers[calico-node].env"
POOL = "IP pool settings are install-time only"


def edit(text: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return text


def reordered_node() -> str:
    body = docs(NODE)[0]
    pod = body["spec"]["template"]["spec"]
    pod["containers"].reverse()
    pod["volumes"].reverse()
    node = pod["containers"][1]
    for field in ("env", "ports", "volumeMounts"):
        node[field].reverse()
    return json.dumps(dict(reversed(body.items())))  # JSON is YAML; keys reversed too


CASES: list[tuple[str, str, str, list[tuple[str, str, tuple[str, ...], tuple[str, ...]]]]] = [
    ("identical", NODE + "---" + CONFIG, NODE + "---" + CONFIG, []),
    (
        "key order only",
        CONFIG,
        "data: {veth_mtu: '1440', calico_backend: bird}\nmetadata: {namespace: kube-system, labels: {app.kubernetes.io/name: calico}, name: calico-config}\nkind: ConfigMap\napiVersion: v1\n",
        [],
    ),
    (
        "keyed lists reordered (containers, env, ports, volumeMounts, volumes)",
        NODE,
        reordered_node(),
        [],
    ),
    (
        "tolerations are a plain list: a reorder is a change",
        NODE,
        edit(
            NODE,
            (
                "- {effect: NoSchedule, operator: Exists}\n      - {key: CriticalAddonsOnly, operator: Exists}",
                "- {key: CriticalAddonsOnly, operator: Exists}\n      - {effect: NoSchedule, operator: Exists}",
            ),
        ),
        [
            (
                "changed",
                "DaemonSet/kube-system/calico-node",
                (
                    "spec.template.spec.tolerations[0].effect",
                    "spec.template.spec.tolerations[0].key",
                    "spec.template.spec.tolerations[1].effect",
                    "spec.template.spec.tolerations[1].key",
                ),
                (),
            )
        ],
    ),
    (
        "env value at its semantic path, pool note",
        NODE,
        edit(NODE, ("10.244.0.0/16", "10.245.0.0/16")),
        [
            (
                "changed",
                "DaemonSet/kube-system/calico-node",
                (f"{ENV}[CALICO_IPV4POOL_CIDR].value",),
                ("CALICO_IPV4POOL_CIDR 10.244.0.0/16 -> 10.245.0.0/16: " + POOL,),
            )
        ],
    ),
    (
        "encapsulation: pool note and disruption note",
        NODE,
        edit(NODE, ("value: Always", "value: Never")),
        [
            (
                "changed",
                "DaemonSet/kube-system/calico-node",
                (f"{ENV}[CALICO_IPV4POOL_IPIP].value",),
                (
                    "CALICO_IPV4POOL_IPIP Always -> Never: " + POOL,
                    "CALICO_IPV4POOL_IPIP Always -> Never: changes the encapsulation",
                ),
            )
        ],
    ),
    (
        "pool env added and moved",
        NODE,
        edit(
            NODE,
            (
                "- {name: CALICO_IPV4POOL_IPIP, value: Always}",
                "- {name: CALICO_IPV4POOL_BLOCK_SIZE, value: '24'}\n        - {name: CALICO_IPV4POOL_IPIP, value: Always}",
            ),
        ),
        [
            (
                "changed",
                "DaemonSet/kube-system/calico-node",
                (f"{ENV}[CALICO_IPV4POOL_BLOCK_SIZE]",),
                ("CALICO_IPV4POOL_BLOCK_SIZE (unset) -> 24: " + POOL,),
            )
        ],
    ),
    (
        "Felix MTU env",
        NODE,
        edit(
            NODE,
            ('value: "1450"', "valueFrom: {configMapKeyRef: {name: calico-config, key: veth_mtu}}"),
        ),
        [
            (
                "changed",
                "DaemonSet/kube-system/calico-node",
                (f"{ENV}[FELIX_VXLANMTU].value", f"{ENV}[FELIX_VXLANMTU].valueFrom"),
                (
                    "FELIX_VXLANMTU 1450 -> (valueFrom): the new MTU reaches only pods created after",
                ),
            )
        ],
    ),
    (
        "image, ports by name, volumeMounts by mountPath, args by length: no Calico note",
        NODE,
        edit(
            NODE,
            ("v3.30.7", "v3.30.8"),
            ("name: dns-tcp", "name: dns-t"),
            (
                "name: var-run-calico}\n      - {name: sidecar",
                "name: var-run-calico, readOnly: true}\n      - {name: sidecar",
            ),
            ("[a, b]", "[a, b, c]"),
        ),
        [
            (
                "changed",
                "DaemonSet/kube-system/calico-node",
                (
                    "spec.template.spec.containers[calico-node].image",
                    "spec.template.spec.containers[calico-node].ports[dns-t]",
                    "spec.template.spec.containers[calico-node].ports[dns-tcp]",
                    "spec.template.spec.containers[calico-node].volumeMounts[/var/run/calico].readOnly",
                    "spec.template.spec.containers[sidecar].args",
                ),
                (),
            )
        ],
    ),
    (
        "backend and MTU in calico-config",
        CONFIG,
        edit(CONFIG, ("bird", "vxlan"), ('"1440"', '"1410"')),
        [
            (
                "changed",
                "ConfigMap/kube-system/calico-config",
                ("data.calico_backend", "data.veth_mtu"),
                (
                    "calico-config calico_backend bird -> vxlan: changes the encapsulation",
                    "calico-config veth_mtu 1440 -> 1410: the new MTU",
                ),
            )
        ],
    ),
    (
        "a key with dots is quoted in the path",
        CONFIG,
        edit(CONFIG, ("name: calico}", "name: calico2}")),
        [
            (
                "changed",
                "ConfigMap/kube-system/calico-config",
                ('metadata.labels["app.kubernetes.io/name"]',),
                (),
            )
        ],
    ),
    (
        "added and removed, in kustomize order; the version is not part of the identity",
        "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: p, namespace: kube-system}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: old}\n",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: new}\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p, namespace: kube-system}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: calico}\n",
        [
            ("added", "Namespace/calico", (), ()),
            ("added", "ServiceAccount/new", (), ()),
            ("removed", "ServiceAccount/old", (), ()),
            ("changed", "PodDisruptionBudget/kube-system/p", ("apiVersion",), ()),
        ],
    ),
    (
        "a DaemonSet added to an existing cluster gets no notes",
        CONFIG,
        CONFIG + "---" + NODE,
        [("added", "DaemonSet/kube-system/calico-node", (), ())],
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_changes(
    old: str, new: str, expected: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]]
) -> None:
    result = diff(old, new)
    got = [(c.kind, c.resource, c.paths) for c in result.changes]
    assert got == [(kind, resource, paths) for kind, resource, paths, _ in expected]
    for change, (*_, notes) in zip(result.changes, expected, strict=True):
        assert len(change.notes) == len(notes), change.notes
        for note, prefix in zip(change.notes, notes, strict=True):
            assert note.startswith(prefix), note
    assert exit_code(result) == (1 if expected else 0)
    assert result.empty == (not expected)


def test_pool_note_names_the_ippool_and_the_issue() -> None:
    (change,) = diff(NODE, edit(NODE, ("10.244.0.0/16", "10.245.0.0/16"))).changes
    assert change.notes == (
        "CALICO_IPV4POOL_CIDR 10.244.0.0/16 -> 10.245.0.0/16: IP pool settings are install-time only. "
        "On an existing cluster the IPPool default-ipv4-ippool keeps its CIDR, encapsulation and block size; "
        "edit or recreate the IPPool (calicoctl, or kubectl edit ippool default-ipv4-ippool) "
        "for the change to take effect (projectcalico/calico#962).",
    )


def test_added_cluster_has_no_notes_and_removed_cluster_is_all_removed() -> None:
    result = diff_trees({"gone": docs(CONFIG)}, {"new": docs(NODE + "---" + CONFIG)})
    assert [(c.cluster, c.kind, c.resource, c.notes) for c in result.changes] == [
        ("gone", "removed", "ConfigMap/kube-system/calico-config", ()),
        ("new", "added", "DaemonSet/kube-system/calico-node", ()),  # review order
        ("new", "added", "ConfigMap/kube-system/calico-config", ()),
    ]
    assert result.counts() == {
        "gone": {"added": 0, "changed": 0, "removed": 1},
        "new": {"added": 2, "changed": 0, "removed": 0},
        "total": {"added": 2, "changed": 0, "removed": 1},
    }


def test_unified_lines_are_labelled_and_have_three_lines_of_context() -> None:
    (change,) = diff(CONFIG, edit(CONFIG, ('"1440"', '"1410"'))).changes
    assert change.lines == (
        "--- c1 ConfigMap/kube-system/calico-config",
        "+++ c1 ConfigMap/kube-system/calico-config",
        "@@ -1,7 +1,7 @@",
        " apiVersion: v1",
        " data:",
        "   calico_backend: bird",
        '-  veth_mtu: "1440"',
        '+  veth_mtu: "1410"',
        " kind: ConfigMap",
        " metadata:",
        "   labels:",
    )


def test_duplicate_identity_is_an_error() -> None:
    with pytest.raises(InputError) as err:
        diff(CONFIG, CONFIG + "---" + edit(CONFIG, ("apiVersion: v1", "apiVersion: v2")))
    assert str(err.value) == (
        "diff cluster c1: ConfigMap/kube-system/calico-config: "
        "two objects in the new render have this identity (v1 and v2)"
    )


def test_unchanged_resources_are_never_rendered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The speed contract: equal or merely reordered objects cost a comparison, no dump."""

    def refuse(body: Any) -> str:
        raise AssertionError("dump called for an unchanged resource")

    monkeypatch.setattr(pipeline.review.unified, "dump", refuse)
    old = {f"c{i}": docs(NODE + "---" + CONFIG) for i in range(50)}
    new = {name: [docs(reordered_node())[0], *docs(CONFIG)][::-1] for name in old}
    assert diff_trees(old, new).empty
    assert diff_trees(old, copy.deepcopy(old)).empty


# --- Secret data ------------------------------------------------------------

SECRET = """
apiVersion: v1
kind: Secret
metadata:
  name: calico-etcd-secrets
  namespace: kube-system
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"data":{"etcd-key":"c2VjcmV0LWtleS1vbGQ="}}'
data: {etcd-ca: Y2EtYnVuZGxl, etcd-key: c2VjcmV0LWtleS1vbGQ=}
stringData: {password: hunter2-old}
"""
SECRET_NEW = edit(
    SECRET, ("c2VjcmV0LWtleS1vbGQ=", "bmV3LXNlY3JldC1rZXk="), ("hunter2-old", "hunter2-new")
)
VALUES = ("c2VjcmV0LWtleS1vbGQ", "bmV3LXNlY3JldC1rZXk", "Y2EtYnVuZGxl", "hunter2")


def test_secret_values_never_appear_but_a_change_is_reported() -> None:
    result = diff_trees({"a": docs(SECRET)}, {"a": docs(SECRET_NEW), "b": docs(SECRET)})
    changed = result.changes[0]
    assert changed.kind == "changed"
    assert changed.paths == (
        "data.etcd-key",
        'metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]',
        "stringData.password",
    )
    assert "-  etcd-key: '*****'" in changed.lines and "+  etcd-key: '*****'" in changed.lines
    assert "   etcd-ca: '*****'" in changed.lines  # unchanged values are masked too
    outputs = [
        format_text(result, color=False),
        format_text(result, color=True),
        format_markdown(result),
        format_json(result),
        *(line for change in result.changes for line in change.lines),
    ]
    for output in outputs:
        for value in VALUES:
            assert value not in output
    assert "data.etcd-key" in format_json(result)


# --- Formats: one small case, exactly ----------------------------------------

SMALL_OLD = """
apiVersion: v1
kind: ConfigMap
metadata: {name: calico-config, namespace: kube-system}
data: {calico_backend: bird, veth_mtu: "1440"}
"""
SMALL_NEW = (
    edit(SMALL_OLD, ('"1440"', '"1410"'))
    + "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: calico-node, namespace: kube-system}\n"
)
MTU_NOTE = (
    "calico-config veth_mtu 1440 -> 1410: the new MTU reaches only pods created after "
    "calico-node restarts on their node; restart workloads to pick it up."
)
SMALL_TEXT = f"""\
1 cluster changed: 1 added, 1 changed, 0 removed

cluster gcp-us-1: 1 added, 1 changed, 0 removed

changed ConfigMap/kube-system/calico-config
  field data.veth_mtu
  note: {MTU_NOTE}
--- gcp-us-1 ConfigMap/kube-system/calico-config
+++ gcp-us-1 ConfigMap/kube-system/calico-config
@@ -1,7 +1,7 @@
 apiVersion: v1
 data:
   calico_backend: bird
-  veth_mtu: "1440"
+  veth_mtu: "1410"
 kind: ConfigMap
 metadata:
   name: calico-config

added ServiceAccount/kube-system/calico-node
--- gcp-us-1 ServiceAccount/kube-system/calico-node
+++ gcp-us-1 ServiceAccount/kube-system/calico-node
@@ -0,0 +1,5 @@
+apiVersion: v1
+kind: ServiceAccount
+metadata:
+  name: calico-node
+  namespace: kube-system
"""
SMALL_MARKDOWN = f"""\
**1 cluster changed: 1 added, 1 changed, 0 removed**

| cluster | added | changed | removed |
| --- | ---: | ---: | ---: |
| gcp-us-1 | 1 | 1 | 0 |
| **total** | 1 | 1 | 0 |

<details>
<summary><b>gcp-us-1</b>: 1 added, 1 changed, 0 removed (1 note)</summary>

**changed** `ConfigMap/kube-system/calico-config`

Fields: `data.veth_mtu`

- **Note:** {MTU_NOTE}

```diff
--- gcp-us-1 ConfigMap/kube-system/calico-config
+++ gcp-us-1 ConfigMap/kube-system/calico-config
@@ -1,7 +1,7 @@
 apiVersion: v1
 data:
   calico_backend: bird
-  veth_mtu: "1440"
+  veth_mtu: "1410"
 kind: ConfigMap
 metadata:
   name: calico-config
```

**added** `ServiceAccount/kube-system/calico-node`

```diff
--- gcp-us-1 ServiceAccount/kube-system/calico-node
+++ gcp-us-1 ServiceAccount/kube-system/calico-node
@@ -0,0 +1,5 @@
+apiVersion: v1
+kind: ServiceAccount
+metadata:
+  name: calico-node
+  namespace: kube-system
```

</details>
"""
SMALL_JSON = f"""\
{{
  "changes": [
    {{
      "cluster": "gcp-us-1",
      "kind": "changed",
      "notes": [
        "{MTU_NOTE}"
      ],
      "paths": [
        "data.veth_mtu"
      ],
      "resource": "ConfigMap/kube-system/calico-config"
    }},
    {{
      "cluster": "gcp-us-1",
      "kind": "added",
      "notes": [],
      "paths": [],
      "resource": "ServiceAccount/kube-system/calico-node"
    }}
  ],
  "clusters": {{
    "gcp-us-1": {{
      "added": 1,
      "changed": 1,
      "removed": 0
    }}
  }},
  "total": {{
    "added": 1,
    "changed": 1,
    "removed": 0
  }}
}}
"""


def test_small_case_in_every_format() -> None:
    result = diff(SMALL_OLD, SMALL_NEW, cluster="gcp-us-1")
    assert format_text(result, color=False) == SMALL_TEXT
    assert format_markdown(result) == SMALL_MARKDOWN
    assert format_json(result) == SMALL_JSON


def test_no_changes_in_every_format() -> None:
    result = diff(SMALL_OLD, SMALL_OLD)
    assert (
        format_text(result, color=True)
        == "\x1b[1m0 clusters changed: 0 added, 0 changed, 0 removed\x1b[0m\n"
    )
    assert format_markdown(result) == "**0 clusters changed: 0 added, 0 changed, 0 removed**\n"
    assert json.loads(format_json(result)) == {
        "changes": [],
        "clusters": {},
        "total": {"added": 0, "changed": 0, "removed": 0},
    }


def test_colour_only_when_asked() -> None:
    result = diff(SMALL_OLD, SMALL_NEW)
    assert "\x1b" not in format_text(result, color=False)
    coloured = format_text(result, color=True)
    assert '\x1b[32m+  veth_mtu: "1410"\x1b[0m\n' in coloured
    assert '\x1b[31m-  veth_mtu: "1440"\x1b[0m\n' in coloured
    assert "\x1b[36m@@ -1,7 +1,7 @@\x1b[0m\n" in coloured
    assert re.sub(r"\x1b\[\d+m", "", coloured) == format_text(result, color=False)


def test_markdown_fence_outgrows_backticks_in_the_content() -> None:
    result = diff(SMALL_OLD, edit(SMALL_OLD, ("bird", "'```bird'")))
    markdown = format_markdown(result)
    assert "\n````diff\n" in markdown and "\n````\n" in markdown


# --- Size cap ---------------------------------------------------------------


def many_config_maps(count: int) -> str:
    return "---\n".join(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i:03d}}}\ndata: {{k: v{i}}}\n"
        for i in range(count)
    )


@pytest.mark.parametrize("limit", [700, 2000, 5000])
def test_truncation_marker(limit: int) -> None:
    result = diff("", many_config_maps(60))
    for output in (
        format_text(result, color=False, limit=limit),
        format_markdown(result, limit=limit),
    ):
        assert len(output) <= limit
        last = output.splitlines()[-1]
        shown = len(set(re.findall(r"ConfigMap/cm-\d+", output)))
        hidden = 60 - shown
        assert last == f"[diff truncated at {limit} characters: {hidden} more resources not shown]"
        assert 0 < hidden < 60
    markdown = format_markdown(result, limit=limit)
    assert markdown.count("<details>") == markdown.count("</details>")
    assert len(re.findall(r"^```", markdown, re.M)) % 2 == 0


def test_default_cap_is_argocd_diff_previews() -> None:
    result = diff("", many_config_maps(1000))
    text = format_text(result, color=False)
    assert len(text) <= 65536
    assert text.startswith("1 cluster changed: 1000 added, 0 changed, 0 removed\n")
    assert re.search(
        r"\n\[diff truncated at 65536 characters: \d+ more resources not shown\]\n\Z", text
    )
    untruncated = format_text(result, color=False, limit=10**9)
    assert "truncated" not in untruncated and len(untruncated) > 65536


# --- A real render -----------------------------------------------------------


def render(cluster_file: Path) -> list[dict[str, Any]]:
    cluster = read_cluster(cluster_file, find_pack(cluster_file, ROOT))
    return [r.body for r in render_cluster(cluster, None).resources]


def test_real_render_cidr_change_is_one_daemonset_with_the_install_time_note(
    tmp_path: Path,
) -> None:
    source = ROOT / "clusters" / "aws-prod-1.yaml"
    changed = tmp_path / "aws-prod-1.yaml"
    text = source.read_text()
    changed.write_text(
        edit(text, ("calicoNetworkCIDR: 10.244.0.0/16", "calicoNetworkCIDR: 10.245.0.0/16"))
    )
    old, new = render(source), render(changed)
    assert len(old) == 39
    shuffled = random.Random(0).sample(new, len(new))
    result = diff_trees({"aws-prod-1": old}, {"aws-prod-1": shuffled})
    (change,) = result.changes
    assert (change.kind, change.resource) == ("changed", "DaemonSet/kube-system/calico-node")
    assert change.paths == (f"{ENV}[CALICO_IPV4POOL_CIDR].value",)
    (note,) = change.notes
    assert note.startswith("CALICO_IPV4POOL_CIDR 10.244.0.0/16 -> 10.245.0.0/16: " + POOL)
    assert [
        line for line in change.lines if line[:1] in "+-" and line[:3] not in ("---", "+++")
    ] == [
        "-          value: 10.244.0.0/16",
        "+          value: 10.245.0.0/16",
    ]
    assert exit_code(result) == 1
    assert diff_trees({"aws-prod-1": old}, {"aws-prod-1": render(source)}).empty
