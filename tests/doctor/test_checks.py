"""netpack doctor on snapshots: each broken thing found, named, with what to do.

Every snapshot is built from the cluster's real render (``builder``) and passes
``netpack validate`` for its Kubernetes version before doctor reads it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.doctor import builder
from tests.doctor.conftest import ETCD, KDD, Doctor

CASES = Path(__file__).parent / "cases"
WORKER = "aws-prod-1-worker-1"


def rules(doctor: Doctor) -> set[str]:
    return {f["rule"] for f in doctor.failures()}


def messages(doctor: Doctor, rule: str) -> list[str]:
    return [f["msg"] for f in doctor.failures() if f["rule"] == rule]


def test_healthy_kdd_cluster_exits_0_with_a_line(doctor: Doctor) -> None:
    assert doctor(builder.healthy(KDD)) == 0
    assert doctor.err == "aws-prod-1: healthy (16 checks, 2 not applicable)\n"
    assert "0 failures" in doctor.out and "2 skipped" in doctor.out


def test_healthy_etcd_cluster_exits_0_and_skips_the_pools_kubectl_cannot_see(
    doctor: Doctor,
) -> None:
    assert doctor(builder.healthy(ETCD), ETCD, "--format", "json") == 0
    report = {r["namespace"]: r for r in json.loads(doctor.out)}
    assert report["doctor.etcd_secret"]["successes"] == 1
    assert report["doctor.etcd_kube_controllers"]["successes"] == 1
    skipped = report["doctor.pool_cidr"]["skipped"][0]["msg"]
    assert "calicoctl get ippools" in skipped
    assert doctor.err.startswith("vmware-dc1: healthy")


def test_the_healthy_fixture_on_disk_is_the_builders(doctor: Doctor) -> None:
    """The README's --snapshot example file; regenerate it with the builder when the pack changes."""
    snapshot = builder.healthy(KDD)
    on_disk = json.loads((CASES / "aws-prod-1.snapshot.json").read_text())
    assert on_disk == snapshot
    assert doctor(on_disk) == 0


def test_a_node_without_calico_node_is_named(doctor: Doctor) -> None:
    snapshot = builder.healthy(KDD)
    builder.remove_calico_pod(snapshot, WORKER)
    assert doctor(snapshot, KDD, "--format", "json") == 1
    assert rules(doctor) == {"doctor.calico_node_coverage", "doctor.calico_node_rollout"}
    (msg,) = messages(doctor, "doctor.calico_node_coverage")
    assert msg.startswith(f"Node/{WORKER}: no calico-node pod at all; pods here get no network")
    assert (
        "schedules 2 pods but 3 nodes must run one"
        in messages(doctor, "doctor.calico_node_rollout")[0]
    )
    assert doctor.err == (
        "aws-prod-1: 2 problems (doctor.calico_node_coverage, doctor.calico_node_rollout)\n"
    )


def test_crash_loop_names_the_pod_its_exit_and_the_logs_to_read(doctor: Doctor) -> None:
    snapshot = builder.healthy(KDD)
    builder.crash_loop(snapshot, WORKER)
    pod = builder.calico_pod(snapshot, WORKER)["metadata"]["name"]
    assert doctor(snapshot, KDD, "--format", "json") == 1
    (msg,) = messages(doctor, "doctor.calico_node_pods")
    assert msg == (
        f"Pod/kube-system/{pod}: container calico-node is in CrashLoopBackOff (last: exit code 1,"
        f" Error); read why it exits: kubectl logs -n kube-system {pod} -c calico-node --previous"
    )
    assert (
        f"Node/{WORKER}: no Running and Ready calico-node pod"
        in messages(doctor, "doctor.calico_node_coverage")[0]
    )
    report = {r["namespace"]: r for r in json.loads(doctor.out)}
    (warning,) = report["doctor.calico_node_restarts"]["warnings"]
    assert "restarted 12 times (more than 5)" in warning["msg"]


def test_bird_not_ready_reports_the_probe_message_and_bgp_advice(doctor: Doctor) -> None:
    snapshot = builder.healthy(KDD)
    builder.bird_not_ready(snapshot, WORKER)
    assert doctor(snapshot, KDD, "--format", "json") == 1
    (msg,) = messages(doctor, "doctor.calico_node_pods")
    assert (
        "container calico-node is not ready: 2026-11-03 09:29:51.204 [INFO][9311] confd/health.go"
        " 202: Number of node(s) with BGP peering established = 0 calico/node is not ready: BIRD is"
        " not ready: BGP not established with 10.0.0.11,10.0.0.13; BGP sessions are not established"
    ) in msg
    assert "TCP 179" in msg


def test_kube_controllers_unavailable_with_the_pull_error(doctor: Doctor) -> None:
    snapshot = builder.healthy(KDD)
    builder.controllers_unavailable(snapshot)
    assert doctor(snapshot, KDD, "--format", "json") == 1
    found = messages(doctor, "doctor.kube_controllers")
    assert found[0].startswith(
        "Deployment/kube-system/calico-kube-controllers: unavailable (Deployment does not have"
        " minimum availability.)"
    )
    assert "container calico-kube-controllers is in ImagePullBackOff" in found[1]
    assert "docker.io/calico/kube-controllers:v3.30.7 cannot be pulled" in found[1]
    assert rules(doctor) == {"doctor.kube_controllers"}


def test_pool_cidr_drift_is_install_time_only_with_the_migration(doctor: Doctor) -> None:
    snapshot = builder.healthy(KDD)
    builder.pool(snapshot, cidr="192.168.0.0/16")
    assert doctor(snapshot, KDD, "--format", "json") == 1
    assert rules(doctor) == {"doctor.pool_cidr", "doctor.pool_pod_cidr"}
    (msg,) = messages(doctor, "doctor.pool_cidr")
    assert msg.startswith(
        "IPPool/default-ipv4-ippool: CIDR 192.168.0.0/16 is not the render's CALICO_IPV4POOL_CIDR"
        " 10.244.0.0/16; install-time-only drift: a GitOps sync never changes a pool; migrate as"
        " Calico documents"
    )
    assert (
        "create a new IPPool with CIDR 10.244.0.0/16, ipipMode Always, vxlanMode Never,"
        " blockSize 26; disable the old pool; recreate the pods so they get addresses from the"
        " new pool; then delete the old pool"
    ) in msg
    assert "sync;" not in msg and "re-sync" not in msg
    assert (
        "outside the cluster's podCIDR 10.244.0.0/16" in messages(doctor, "doctor.pool_pod_cidr")[0]
    )


def test_pool_encapsulation_drift(doctor: Doctor) -> None:
    snapshot = builder.healthy(KDD)
    builder.pool(snapshot, ipipMode="Never", vxlanMode="Always")
    assert doctor(snapshot, KDD, "--format", "json") == 1
    (msg,) = messages(doctor, "doctor.pool_encapsulation")
    assert msg.startswith(
        "IPPool/default-ipv4-ippool: ipipMode Never, vxlanMode Always but the render says"
        " CALICO_IPV4POOL_IPIP Always, CALICO_IPV4POOL_VXLAN Never; install-time-only drift"
    )
    assert "calicoctl patch ippool default-ipv4-ippool" in msg and "create a new IPPool" in msg
    assert rules(doctor) == {"doctor.pool_encapsulation"}


def test_pool_block_size_drift(doctor: Doctor) -> None:
    snapshot = builder.healthy(KDD)
    builder.pool(snapshot, blockSize=24)
    assert doctor(snapshot, KDD, "--format", "json") == 1
    (msg,) = messages(doctor, "doctor.pool_block_size")
    assert "blockSize 24 but the render's CALICO_IPV4POOL_BLOCK_SIZE is 26" in msg


def test_a_hand_edited_config_map_is_drift_a_sync_fixes(doctor: Doctor) -> None:
    snapshot = builder.healthy(KDD)
    builder.edit_config(snapshot, "veth_mtu", "1500")
    assert doctor(snapshot, KDD, "--format", "json") == 1
    (msg,) = messages(doctor, "doctor.calico_config")
    assert msg.startswith(
        "ConfigMap/kube-system/calico-config: differs from the render of clusters/aws-prod-1.yaml:"
        " veth_mtu is '1500', the render's '8951'; someone changed it by hand, or Argo CD/Flux"
        " is not syncing clusters/aws-prod-1/calico"
    )


def test_hand_edited_calico_node_env(doctor: Doctor) -> None:
    snapshot = builder.healthy(KDD)
    ds = builder.find(snapshot, "DaemonSet", "calico-node")
    env = ds["spec"]["template"]["spec"]["containers"][0]["env"]
    next(e for e in env if e["name"] == "CALICO_IPV4POOL_CIDR")["value"] = "10.99.0.0/16"
    env.append({"name": "FELIX_LOGSEVERITYSCREEN", "value": "debug"})
    assert doctor(snapshot, KDD, "--format", "json") == 1
    (msg,) = messages(doctor, "doctor.calico_node_env")
    assert (
        "env CALICO_IPV4POOL_CIDR is '10.99.0.0/16', the render's '10.244.0.0/16';"
        " env FELIX_LOGSEVERITYSCREEN is not in the render"
    ) in msg
    assert "CALICO_IPV4POOL_* only shape a pool created later" in msg


def test_daemonset_rollout_stuck_and_the_failing_init_container(doctor: Doctor) -> None:
    snapshot = builder.healthy(KDD)
    builder.rollout_stuck(snapshot, WORKER)
    pod = builder.calico_pod(snapshot, WORKER)["metadata"]["name"]
    assert doctor(snapshot, KDD, "--format", "json") == 1
    rollout = messages(doctor, "doctor.calico_node_rollout")
    assert any("rollout stuck: 1 of 3 pods run the current template" in m for m in rollout)
    assert any("2 of 3 pods are ready" in m for m in rollout)
    (msg,) = messages(doctor, "doctor.calico_node_pods")
    assert msg == (
        f"Pod/kube-system/{pod}: init container install-cni is in CrashLoopBackOff (last: exit"
        " code 1, Error, failed to write /host/etc/cni/net.d/10-calico.conflist: read-only file"
        f" system); read why it exits: kubectl logs -n kube-system {pod} -c install-cni --previous"
    )


def test_node_not_ready_because_of_the_network_plugin(doctor: Doctor) -> None:
    snapshot = builder.healthy(KDD)
    builder.remove_calico_pod(snapshot, WORKER)
    node = builder.find(snapshot, "Node", WORKER)
    ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
    ready.update(
        status="False",
        reason="KubeletNotReady",
        message="container runtime network not ready: NetworkReady=false"
        " reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not"
        " initialized",
    )
    assert doctor(snapshot, KDD, "--format", "json") == 1
    (msg,) = messages(doctor, "doctor.node_network")
    assert msg.startswith(f"Node/{WORKER}: NotReady: container runtime network not ready")


def test_etcd_secret_missing_and_controllers_on_kdd_settings(doctor: Doctor) -> None:
    snapshot = builder.healthy(ETCD)
    secret = builder.find(snapshot, "Secret", "calico-etcd-secrets")
    snapshot["items"].remove(secret)
    kc = builder.find(snapshot, "Deployment", "calico-kube-controllers")
    env = kc["spec"]["template"]["spec"]["containers"][0]["env"]
    env[0]["value"] = "node,loadbalancer"
    assert doctor(snapshot, ETCD, "--format", "json") == 1
    (msg,) = messages(doctor, "doctor.etcd_secret")
    assert msg.startswith("Secret/kube-system/calico-etcd-secrets: not found in ")
    (msg,) = messages(doctor, "doctor.etcd_kube_controllers")
    assert "ENABLED_CONTROLLERS is 'node,loadbalancer', the render's" in msg


def test_a_snapshot_from_another_cluster_is_not_healthy(doctor: Doctor) -> None:
    other = builder.healthy(ROOT / "clusters/gcp-us-1.yaml")
    # gcp-us-1 claims 1.32 like aws-prod-1, so only its pools and nodes give it away.
    assert doctor(other, KDD, "--format", "json") == 1
    found = rules(doctor)
    assert {"doctor.cluster_identity", "doctor.pool_cidr", "doctor.pool_pod_cidr"} <= found
    assert (
        "Node/gcp-us-1-cp-0: podCIDR 10.30.0.0/24 lies outside clusters/aws-prod-1.yaml's"
        " podCIDR 10.244.0.0/16; is "
    ) in messages(doctor, "doctor.cluster_identity")[0]


def test_no_calico_node_at_all_is_never_healthy(doctor: Doctor) -> None:
    snapshot = builder.healthy(KDD)
    snapshot["items"] = [
        i
        for i in snapshot["items"]
        if not (i["kind"] in ("DaemonSet", "Pod") and "calico-node" in i["metadata"]["name"])
    ]
    assert doctor(snapshot, KDD, "--format", "json") == 1
    assert messages(doctor, "doctor.calico_node_daemonset") == [
        "DaemonSet/kube-system/calico-node: not found in namespace kube-system: no node gets pod"
        " networking; check that Argo CD or Flux applies clusters/aws-prod-1/calico of the"
        " deploy repo (netpack publish writes it)"
    ]
    assert len(messages(doctor, "doctor.calico_node_coverage")) == 3


def test_an_empty_list_is_never_healthy(doctor: Doctor) -> None:
    empty = {"apiVersion": "v1", "kind": "List", "items": [], "metadata": {"resourceVersion": ""}}
    assert doctor(empty, KDD, "--format", "json", check=False) == 1
    assert (
        "holds no Nodes, so nothing can be checked"
        in messages(doctor, "doctor.cluster_identity")[0]
    )


def test_kubelet_version_skew_warns_and_fail_on_warn_counts_it(doctor: Doctor) -> None:
    snapshot = builder.healthy(ROOT / "clusters/aws-staging.yaml")  # kubernetes 1.33
    assert doctor(snapshot, KDD, "--format", "json") == 1  # its pools differ too
    report = {r["namespace"]: r for r in json.loads(doctor.out)}
    assert (
        "kubelet v1.33.4 is not Kubernetes 1.32"
        in report["doctor.cluster_identity"]["warnings"][0]["msg"]
    )


@pytest.mark.parametrize("fmt", ["stdout", "json", "junit", "github", "sarif", "markdown"])
def test_every_format_reports_the_finding(doctor: Doctor, fmt: str) -> None:
    snapshot = builder.healthy(KDD)
    builder.edit_config(snapshot, "veth_mtu", "1500")
    assert doctor(snapshot, KDD, "--format", fmt) == 1
    assert "veth_mtu is" in doctor.out
    if fmt == "markdown":
        assert doctor.out.startswith("| result | file | check | message |\n|---|---|---|---|\n")
        assert "| FAIL | clusters/aws-prod-1.yaml | doctor.calico_config | ConfigMap/" in doctor.out
    if fmt == "stdout":
        assert (
            "FAIL - clusters/aws-prod-1.yaml - doctor.calico_config - ConfigMap/kube-system/"
            "calico-config: differs"
        ) in doctor.out


def test_the_report_is_the_same_bytes_every_run(doctor: Doctor) -> None:
    snapshot = builder.healthy(KDD)
    builder.crash_loop(snapshot, WORKER)
    doctor(snapshot, KDD, "--format", "sarif")
    first = doctor.out
    doctor(snapshot, KDD, "--format", "sarif")
    assert doctor.out == first


def test_oom_killed_calico_node(doctor: Doctor) -> None:
    snapshot = builder.healthy(KDD)
    pod = builder.calico_pod(snapshot, WORKER)
    status = pod["status"]["containerStatuses"][0]
    status["restartCount"] = 3
    status["lastState"] = {
        "terminated": {
            "exitCode": 137,
            "reason": "OOMKilled",
            "startedAt": builder.STARTED,
            "finishedAt": builder.LATER,
            "containerID": status["containerID"],
        }
    }
    assert doctor(snapshot, KDD, "--format", "json", "--max-restarts", "2") == 1
    (msg,) = messages(doctor, "doctor.calico_node_pods")
    assert "container calico-node was OOMKilled (restarted 3 times); raise its memory limit" in msg
    report = {r["namespace"]: r for r in json.loads(doctor.out)}
    assert (
        "restarted 3 times (more than 2)"
        in report["doctor.calico_node_restarts"]["warnings"][0]["msg"]
    )


@pytest.mark.parametrize("name", sorted(p.stem for p in (ROOT / "clusters").glob("*.yaml")))
def test_every_example_cluster_running_its_render_is_healthy(doctor: Doctor, name: str) -> None:
    cluster = ROOT / "clusters" / f"{name}.yaml"
    assert doctor(builder.healthy(cluster), cluster) == 0, doctor.out
    assert doctor.err.startswith(f"{name}: healthy (")


def test_doctor_help(capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.cli.main import main

    with pytest.raises(SystemExit) as done:
        main(["doctor", "--help"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("usage: netpack doctor ")
