"""netpack's own policies as a user meets them: missing context, structured findings,
and annotations that point at the file a user edits (issues 13 and 14)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from pipeline.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
BAD = """\
name: azure-bad
cloud: azure
kubernetes:
  version: "1.32"
  podCIDR: 10.244.0.0/16
  serviceClusterIpRange: 10.96.0.0/12
values:
  calico:
    encapsulationType: CALICO_IPV4POOL_VXLAN
    encapsulationMode: Always
    calicoNetworkCIDR: 10.96.0.0/16
"""
GOOD = BAD.replace("name: azure-bad", "name: azure-good").replace("10.96.0.0/16", "10.244.0.0/16")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The pack and policies in a scratch working directory, with a bad cluster file."""
    for part in ("base", "overlays", "policies"):
        shutil.copytree(ROOT / part, tmp_path / part)
    (tmp_path / "clusters").mkdir()
    (tmp_path / "clusters" / "azure-bad.yaml").write_text(BAD)
    (tmp_path / "clusters" / "azure-good.yaml").write_text(GOOD)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_context_missing_is_a_failure_per_rule(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 13 item 2: without the cluster context a render cannot pass, whatever it holds."""
    assert main(["render", "clusters/azure-good.yaml", "-o", "out"]) == 0
    capsys.readouterr()
    code = main(["test", "out/azure-good", "-p", "policies", "-d", "policies/data", "-o", "json"])
    failures = [f for r in json.loads(capsys.readouterr().out) for f in r.get("failures", [])]
    assert code == 1
    missing = [f for f in failures if f["metadata"]["rule"] == "deny_context_missing"]
    named = {f["msg"].split(": ")[1].split(" ")[0] for f in missing}
    assert {"deny_cidr", "deny_cidr_service_overlap", "deny_cloud_encapsulation"} <= named
    assert all("netpack context CLUSTER_FILE > ctx.yaml" in f["msg"] for f in missing)

    # with a context, the same files get the real verdict: the bad cluster's pool is
    # not this render's, and nothing says the context is missing
    assert main(["context", "clusters/azure-bad.yaml"]) == 0
    bad = capsys.readouterr().out.replace("10.244.0.0/16", "10.96.0.0/16")
    (repo / "ctx.yaml").write_text(bad)
    argv = ["test", "out/azure-good", "-p", "policies", "-d", "policies/data", "-d", "ctx.yaml"]
    assert main([*argv, "-o", "json"]) == 1
    rules = {
        f["metadata"]["rule"]
        for r in json.loads(capsys.readouterr().out)
        for f in r.get("failures", [])
    }
    assert "deny_context_missing" not in rules
    assert "deny_cidr" in rules

    (repo / "ctx.yaml").write_text(bad.replace("10.96.0.0/16", "10.244.0.0/16"))
    assert main([*argv, "--no-color"]) == 0


def test_render_annotations_point_at_the_cluster_file(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 13 item 7: value-driven findings annotate the cluster file's line."""
    assert main(["render", "clusters/azure-bad.yaml", "-o", "out", "--format", "github"]) == 1
    errors = [line for line in capsys.readouterr().out.splitlines() if line.startswith("::error")]
    assert "::error file=clusters/azure-bad.yaml,line=11,title=deny_cidr::" in "\n".join(errors)
    assert all("azure-bad/apps_v1" not in line for line in errors)

    assert main(["render", "clusters/azure-bad.yaml", "-o", "out", "--format", "sarif"]) == 1
    run = json.loads(capsys.readouterr().out)["runs"][0]
    assert run["tool"]["driver"]["name"] == "netpack"
    located = {
        r["ruleId"]: r["locations"][0]["physicalLocation"]
        for r in run["results"]
        if r["level"] == "error"
    }
    assert located["deny_cidr"] == {
        "artifactLocation": {"uri": "clusters/azure-bad.yaml"},
        "region": {"startLine": 11},
    }


def test_render_annotations_point_at_the_base_file(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A finding without a cluster-file setting points at the file the object comes from."""
    base = repo / "base"
    node = next(p for p in sorted(base.rglob("*.yaml")) if "name: calico-node\n" in p.read_text())
    text = node.read_text()
    assert "hostNetwork: true" in text
    node.write_text(text.replace("hostNetwork: true", "hostNetwork: false"))
    main(["render", "clusters/azure-bad.yaml", "-o", "out", "--format", "github"])
    out = capsys.readouterr().out
    shown = node.relative_to(repo).as_posix()
    assert re.search(
        rf"::error file={re.escape(shown)},line=\d+,title=deny_node_host_network::", out
    ), out


def test_context_rules_match_the_catalog() -> None:
    """lib: ``context_rules`` lists exactly the catalog's "Ctx yes" rules."""
    catalog = (ROOT / "policies" / "README.md").read_text()
    rows = re.findall(r"^\| `((?:deny|warn)_\w+)` \| \w+ \| yes \|", catalog, re.M)
    rego = (ROOT / "policies" / "context.rego").read_text()
    listed = re.search(r"context_rules := \[(.*?)\]", rego, re.S)
    assert listed is not None
    assert sorted(re.findall(r'"(\w+)"', listed.group(1))) == sorted(rows)


def _rules(directory: Path) -> set[str]:
    from pipeline.gate.policies import RULE_NAME, scan_module

    names = set()
    for path in directory.glob("*.rego"):
        if not path.name.endswith("_test.rego"):
            module = scan_module(str(path), path.read_text())
            names |= {r.name for r in module.rules if RULE_NAME.fullmatch(r.name)}
    return names


def test_combine_lists_every_rule() -> None:
    """policies-combine/combine.rego re-runs every deny_/warn_ rule of policies/."""
    rego = (ROOT / "policies-combine" / "combine.rego").read_text()
    listed = set(re.findall(r'^\t"\w+": ((?:deny|warn)_\w+),?$', rego, re.M))
    listed |= set(re.findall(r'\{"\w+": (warn_\w+)\}', rego))
    assert listed == _rules(ROOT / "policies")
    for name in listed:  # each under its exception name
        assert re.search(rf'"{name.split("_", 1)[1]}": {name}\b', rego), name


def test_combined_input_states_its_own_calico_config(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 14: judged with another cluster's context, a stream is judged by its own
    calico-config under --combine, and per document the context's value says where it
    came from."""
    shutil.copytree(ROOT / "policies-combine", repo / "policies-combine")
    assert main(["render", "clusters/azure-good.yaml"]) == 0  # VXLAN: calico_backend vxlan
    (repo / "stream.yaml").write_text(capsys.readouterr().out)
    ctx = (
        "netpack:\n  cluster: {name: x, cloud: azure, kubernetes: {version: '1.32', "
        "podCIDR: 10.244.0.0/16, serviceClusterIpRange: 10.96.0.0/12}}\n"
        "  values: {calico: {datastore: kubernetes}}\n"
        "  calico_config: {calico_backend: bird, veth_mtu: '0'}\n"
    )
    (repo / "ctx.yaml").write_text(ctx)
    argv = ["test", "stream.yaml", "-p", "policies", "-p", "policies-combine"]
    argv += ["-d", "policies/data", "-d", "ctx.yaml", "--no-color"]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert (
        "calico_backend is bird (from data.netpack.calico_config, not from this input) but "
        "livenessProbe does not run -bird-live"
    ) in out
    assert main([*argv, "--combine"]) == 0
    assert "passed, 0 warnings, 0 failures" in capsys.readouterr().out


def test_combine_rego_tests_pass(capsys: pytest.CaptureFixture[str]) -> None:
    policies, combine = ROOT / "policies", ROOT / "policies-combine"
    argv = ["verify", "-p", str(policies), "-p", str(combine), "-d", str(policies / "data")]
    assert main([*argv, "--no-color"]) == 0
    assert "0 failures" in capsys.readouterr().out
