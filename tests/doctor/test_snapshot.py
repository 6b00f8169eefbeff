"""Bad snapshots and bad command lines: one line naming the file and the item, exit 3 (2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.cli.main import main
from tests.conftest import ROOT
from tests.doctor import builder
from tests.doctor.conftest import KDD


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["doctor", *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


def write(tmp_path: Path, text: str, name: str = "snap.json") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_a_yaml_snapshot_reads_like_the_json_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, yaml.safe_dump(builder.healthy(KDD)), "snap.yaml")
    code, _, err = run(capsys, str(KDD), "--snapshot", path)
    assert (code, err) == (0, "aws-prod-1: healthy (16 checks, 2 not applicable)\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"kind": "List", "items": [',
            "read snapshot: line 1 column 28: not valid JSON: Expecting value",
        ),
        ("[]", "read snapshot: is a list, not a Kubernetes v1 List (kubectl get -o json)"),
        (
            '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}',
            "read snapshot: is apiVersion 'v1' kind 'Pod', not a v1 List; write it with kubectl"
            " get ... -o json or netpack doctor --collect",
        ),
        (
            '{"apiVersion": "v1", "kind": "List", "items": {}}',
            "read snapshot items: items is a mapping, not a list",
        ),
        (
            '{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "metadata": {"name": "n"}}]}',
            "read snapshot items[0]: has no kind (every object of a snapshot has apiVersion, kind and metadata)",
        ),
        (
            '{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Node"}]}',
            "read snapshot items[0]: Node has no metadata",
        ),
        (
            '{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Node", "metadata": {}}]}',
            "read snapshot items[0]: Node has no metadata.name",
        ),
        (
            '{"apiVersion": "v1", "kind": "List", "items": ["x"]}',
            "read snapshot items[0]: is a string, not an object",
        ),
        (
            "kind: List\n---\nkind: List\n",
            "read snapshot: holds 2 YAML documents; a snapshot is one v1 List",
        ),
        (
            "kind: [List\n",
            "parse: line 2: did not find expected ',' or ']' (while parsing a flow sequence at line 1)",
        ),
    ],
)
def test_malformed_snapshots_exit_3_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    path = write(tmp_path, text)
    code, out, err = run(capsys, str(KDD), "--snapshot", path)
    assert code == 3
    assert out == ""
    assert err == f"aws-prod-1: error: {path} {message}\n"


def test_a_missing_snapshot_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, str(KDD), "--snapshot", str(tmp_path / "gone.json"))
    assert (code, err) == (3, f"aws-prod-1: error: {tmp_path / 'gone.json'} read: no such file\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "name the cluster files to check, or pass --all"),
        (["--all", str(KDD)], "give cluster files or --all, not both"),
        (["--collect"], "--collect needs -o FILE (or -o - for stdout)"),
        ([str(KDD), "-o", "x.json"], "-o is where --collect writes; the report goes to stdout"),
        (
            [str(KDD), "--snapshot", "s.json", "--context", "c"],
            "--snapshot reads a file; --kubeconfig and --context are for live runs",
        ),
        (
            [str(KDD), str(ROOT / "clusters/gcp-us-1.yaml"), "--snapshot", "s.json"],
            "--snapshot holds one cluster: name exactly one cluster file",
        ),
        (
            [str(KDD), str(ROOT / "clusters/gcp-us-1.yaml"), "--context", "c"],
            "--context names one cluster; for a fleet set doctor.context in each cluster file"
            " (default: the cluster's name)",
        ),
    ],
)
def test_impossible_command_lines_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = run(capsys, *args)
    assert (code, err) == (2, f"netpack: error: {message}\n")


def test_doctor_context_in_a_cluster_file_is_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = tmp_path / "c.yaml"
    cluster.write_text(KDD.read_text() + "doctor:\n  context: ' padded'\n")
    code, _, err = run(capsys, str(cluster), "--pack", str(ROOT), "--snapshot", "x.json")
    assert code == 3
    assert err == (
        f"netpack: error: {cluster} doctor.context: ' padded' is not a kubeconfig context name"
        " (one printable line)\n"
    )
    cluster.write_text(KDD.read_text() + "doctor:\n  kontext: x\n")
    code, _, err = run(capsys, str(cluster), "--pack", str(ROOT), "--snapshot", "x.json")
    assert (
        err
        == f"netpack: error: {cluster} doctor.kontext: unknown key; did you mean 'context'? (known: context)\n"
    )


def _broken(change: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A healthy snapshot with one field of the wrong type; the item that holds it."""
    snapshot = builder.healthy(KDD)
    pod = builder.calico_pod(snapshot, "aws-prod-1-worker-1")
    if change == "spec":
        item = builder.find(snapshot, "Node", "aws-prod-1-worker-1")
        item["spec"] = "x"
    elif change == "reason":
        item = pod
        pod["status"]["containerStatuses"][0]["state"] = {"waiting": {"reason": ["x"]}}
    elif change == "count":
        item = builder.find(snapshot, "DaemonSet", "calico-node")
        item["status"]["numberReady"] = "3"
    elif change == "mode":
        item = builder.find(snapshot, "IPPool", "default-ipv4-ippool")
        item["spec"]["ipipMode"] = 1
    else:
        item = pod
        pod["status"]["containerStatuses"][0]["restartCount"] = True
    return snapshot, item


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("spec", "Node/aws-prod-1-worker-1: spec is a string, not a mapping"),
        (
            "reason",
            "Pod/{pod}: status.containerStatuses[0].state.waiting.reason is a list, not a string",
        ),
        ("count", "DaemonSet/calico-node: status.numberReady is a string, not an integer"),
        ("mode", "IPPool/default-ipv4-ippool: spec.ipipMode is an integer, not a string"),
        (
            "bool",
            "Pod/{pod}: status.containerStatuses[0].restartCount is a boolean, not an integer",
        ),
    ],
)
def test_fields_of_the_wrong_type_are_bad_input_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: str, message: str
) -> None:
    snapshot, item = _broken(change)
    index = next(i for i, x in enumerate(snapshot["items"]) if x is item)
    message = message.format(pod=item["metadata"]["name"])
    path = write(tmp_path, json.dumps(snapshot))
    code, out, err = run(capsys, str(KDD), "--snapshot", path)
    assert (code, out) == (3, "")
    assert err == f"aws-prod-1: error: {path} read snapshot items[{index}]: {message}\n"
