"""The reviewer's first view: a settings-and-verdict table per cluster, workloads before CRDs,
and a size cap that drops CRD diffs before it ever hides the DaemonSet or the ConfigMap."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pipeline.flow import render_cluster
from pipeline.model.results import CheckResult, Result
from pipeline.review.diff import diff_trees, review_rank
from pipeline.review.format import format_json, format_markdown, format_text
from pipeline.review.summary import ClusterSummary, Verdict, settings, summarise
from pipeline.values.cluster import find_pack, read_cluster
from tests.conftest import ROOT


def render(path: Path) -> list[dict[str, Any]]:
    cluster = read_cluster(path, find_pack(path, ROOT))
    return [r.body for r in render_cluster(cluster, None).resources]


def edited(tmp_path: Path, name: str, *edits: tuple[str, str]) -> Path:
    text = (ROOT / "clusters" / f"{name}.yaml").read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


# --- The settings, read from the render ---


def test_settings_come_from_the_rendered_objects() -> None:
    bodies = render(ROOT / "clusters" / "aws-prod-1.yaml")
    assert settings(bodies, "10.244.0.0/16") == {
        "encapsulation": "IPIP",
        "mode": "Always",
        "pool CIDR": "10.244.0.0/16",
        "podCIDR": "10.244.0.0/16",
        "MTU": "8951",
        "datastore": "kubernetes",
        "Calico": "v3.30.7",
    }
    assert settings(bodies, "10.9.0.0/16")["podCIDR"] == "10.9.0.0/16 (differs)"
    assert settings([], None) == dict.fromkeys(settings([], None), "(unset)") | {
        "encapsulation": "none"
    }


def test_a_vxlan_cluster_and_a_changed_setting(tmp_path: Path) -> None:
    old = render(ROOT / "clusters" / "baremetal-edge.yaml")
    assert settings(old, None)["MTU"] == "1480"
    assert settings(render(ROOT / "clusters" / "gcp-us-1.yaml"), None)["encapsulation"] == "VXLAN"
    new = render(edited(tmp_path, "baremetal-edge", ("mtu: 1480", "mtu: 1400")))
    row = summarise("baremetal-edge", old, new, None)
    assert row.settings["MTU"] == "1480 -> 1400"
    assert row.settings["datastore"] == settings(old, None)["datastore"]  # unchanged: once
    assert row.gate == "-"  # no verdict asked for


def test_verdicts() -> None:
    def result(failures: int, warnings: int) -> CheckResult:
        return CheckResult(
            "c/x.yaml",
            "main",
            failures=[Result(f"bad {i}") for i in range(failures)],
            warnings=[Result(f"hmm {i}") for i in range(warnings)],
        )

    assert Verdict.of([result(0, 0)]).text == "pass"
    assert Verdict.of([result(0, 1)]).text == "pass, 1 warning"
    assert Verdict.of([result(2, 0), result(0, 3)]).text == "FAIL: 2 failures, 3 warnings"
    row = ClusterSummary("c", {}, Verdict.of([result(11, 1)]))
    assert row.messages()[0] == "failure: bad 0"
    assert row.messages()[-1] == "... and 2 more" and len(row.messages()) == 11


# --- Order: workloads first, CRDs last ---


def test_a_new_cluster_lists_daemonset_deployment_configmap_first_and_crds_last() -> None:
    new = render(ROOT / "clusters" / "aws-prod-1.yaml")
    result = diff_trees({}, {"aws-prod-1": new})
    kinds = [c.resource.split("/")[0] for c in result.changes]
    assert kinds[:3] == ["DaemonSet", "Deployment", "ConfigMap"]
    ranks = [review_rank(kind) for kind in kinds]
    assert ranks == sorted(ranks)
    assert kinds[-1] == "CustomResourceDefinition" and kinds.count("CustomResourceDefinition") > 15


# --- The table in each format ---


def summarised(tmp_path: Path) -> tuple[str, Any]:
    """aws-prod-1 with a pool CIDR that is not its podCIDR (the gate fails it), and a
    verdict with one failure and one warning."""
    old = render(ROOT / "clusters" / "aws-prod-1.yaml")
    path = edited(
        tmp_path,
        "aws-prod-1",
        ("calicoNetworkCIDR: 10.244.0.0/16", "calicoNetworkCIDR: 10.245.0.0/16"),
    )
    new = render(path)
    verdict = Verdict(("pool CIDR does not match podCIDR",), ("a warning",))
    result = diff_trees({"aws-prod-1": old}, {"aws-prod-1": new})
    row = summarise("aws-prod-1", old, new, "10.244.0.0/16", verdict)
    return "aws-prod-1", replace(result, summaries=(row,))


def test_the_table_comes_first_in_text_and_markdown(tmp_path: Path) -> None:
    _, result = summarised(tmp_path)
    text = format_text(result, color=False)
    lines = text.splitlines()
    assert lines[0] == "1 cluster changed: 0 added, 1 changed, 0 removed"
    assert lines[2].split() == [
        "cluster", "encapsulation", "mode", "pool", "CIDR", "podCIDR", "MTU", "datastore",
        "Calico", "gate",
    ]  # fmt: skip
    assert "10.244.0.0/16 -> 10.245.0.0/16" in lines[3]
    assert "10.244.0.0/16 (differs)" in lines[3]
    assert lines[3].endswith("FAIL: 1 failure, 1 warning")
    assert lines[4] == "  aws-prod-1: failure: pool CIDR does not match podCIDR"
    assert lines[5] == "  aws-prod-1: warning: a warning"
    assert text.index("FAIL") < text.index("changed DaemonSet/kube-system/calico-node")
    markdown = format_markdown(result)
    assert markdown.startswith("**1 cluster changed: 0 added, 1 changed, 0 removed**\n\n")
    assert (
        "| cluster | encapsulation | mode | pool CIDR | podCIDR | MTU | datastore | Calico | gate |"
        in markdown
    )
    assert (
        "| aws-prod-1 | IPIP | Always | 10.244.0.0/16 -> 10.245.0.0/16 | 10.244.0.0/16 (differs)"
        " | 8951 | kubernetes | v3.30.7 | FAIL: 1 failure, 1 warning |"
    ) in markdown
    assert "- aws-prod-1: failure: pool CIDR does not match podCIDR" in markdown
    assert markdown.index("| aws-prod-1 | IPIP") < markdown.index("<details>")
    data = json.loads(format_json(result))
    assert data["summaries"]["aws-prod-1"]["gate"] == {
        "verdict": "fail",
        "failures": ["pool CIDR does not match podCIDR"],
        "warnings": ["a warning"],
    }
    assert data["summaries"]["aws-prod-1"]["pool CIDR"] == "10.244.0.0/16 -> 10.245.0.0/16"


# --- The cap drops CRD diffs first ---


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_a_new_clusters_capped_diff_keeps_the_daemonset_and_configmap(fmt: str) -> None:
    new = render(ROOT / "clusters" / "aws-prod-1.yaml")
    result = diff_trees({}, {"aws-prod-1": new})
    whole = format_text(result, color=False, limit=10**9)
    limit = 16000
    assert len(whole) > 2 * limit  # the CRDs alone are far over the cap

    def show(limit: int) -> str:
        if fmt == "text":
            return format_text(result, color=False, limit=limit)
        return format_markdown(result, limit=limit)

    out = show(limit)
    assert len(out) <= limit
    for resource in ("DaemonSet/kube-system/calico-node", "ConfigMap/kube-system/calico-config"):
        assert f"+++ aws-prod-1 {resource}" in out  # its whole diff, not just its name
    assert "+  name: calico-node" in out
    last = out.splitlines()[-1]
    crds = sum(c.resource.startswith("CustomResourceDefinition/") for c in result.changes)
    assert last.startswith(
        f"[diff truncated at {limit} characters: the diffs of {crds} CustomResourceDefinitions"
    )
    assert "+++ aws-prod-1 CustomResourceDefinition/" not in out
    for change in result.changes:  # every resource is still named
        assert change.resource in out, change.resource
    if fmt == "markdown":
        assert len(re.findall(r"^```", out, re.M)) % 2 == 0
        assert out.count("<details>") == out.count("</details>")


def test_the_marker_without_collapsing_is_unchanged() -> None:
    new = render(ROOT / "clusters" / "aws-prod-1.yaml")
    result = diff_trees({}, {"aws-prod-1": new})
    tiny = format_text(result, color=False, limit=1500)
    assert len(tiny) <= 1500
    # nothing collapsed made it in: the marker is the plain one
    assert re.search(
        r"\n\[diff truncated at 1500 characters: \d+ more resources not shown\]\n\Z", tiny
    )
