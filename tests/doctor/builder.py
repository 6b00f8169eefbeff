"""Snapshots of clusters for the doctor tests, built from a cluster's real render.

``healthy(cluster_file)`` is what ``kubectl get ... -o json`` prints for a cluster
that runs its render: the render's DaemonSet, Deployment, ConfigMap (and etcd
Secret) with the metadata and status the API server adds, Linux nodes (one a
tainted control plane), a Running and Ready pod per node, and on KDD the default
IPPool calico-node creates.  The other functions break one thing each, as a
real cluster breaks it.  Everything is deterministic (fixed times, uuid5 uids),
and every snapshot passes ``netpack validate`` for the version its kubelets claim.
"""

from __future__ import annotations

import copy
import hashlib
import ipaddress
import uuid
from pathlib import Path
from typing import Any

from pipeline.doctor.expect import expected
from pipeline.flow import render_cluster
from pipeline.values.cluster import read_cluster_file

Body = dict[str, Any]
CREATED = "2026-11-02T08:00:00Z"
STARTED = "2026-11-02T08:01:00Z"
LATER = "2026-11-03T09:30:00Z"


def _uid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def _hash(*parts: str, size: int = 5) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:size]


def _live_meta(body: Body, generation: int = 1) -> Body:
    """The metadata the API server adds to an applied object."""
    out = copy.deepcopy(body)
    meta = out.setdefault("metadata", {})
    meta.update(
        uid=_uid(body["kind"], meta.get("namespace", ""), meta["name"]),
        resourceVersion=str(1000 + int(_hash(meta["name"], size=4), 16) % 9000),
        creationTimestamp=CREATED,
    )
    if body["kind"] in ("DaemonSet", "Deployment"):
        meta["generation"] = generation
    return out


def _default_field_refs(spec: Body) -> None:
    """The API server fills in ``fieldRef.apiVersion: v1``."""
    for key in ("initContainers", "containers"):
        for item in spec.get(key) or []:
            for env in item.get("env") or []:
                ref = (env.get("valueFrom") or {}).get("fieldRef")
                if ref is not None:
                    ref.setdefault("apiVersion", "v1")


def _node(cluster: Any, name: str, index: int, control_plane: bool) -> Body:
    version = f"v{cluster.kubernetes_version}.4"
    pod_net = ipaddress.ip_network(cluster.pod_cidr)
    cidr = str(list(pod_net.subnets(new_prefix=24))[index])
    labels = {
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
    }
    spec: Body = {"podCIDR": cidr, "podCIDRs": [cidr]}
    if control_plane:
        labels["node-role.kubernetes.io/control-plane"] = ""
        spec["taints"] = [{"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}]
    address = f"10.0.0.{11 + index}"
    conditions = [
        {
            "type": "NetworkUnavailable",
            "status": "False",
            "reason": "CalicoIsUp",
            "message": "Calico is running on this node",
            "lastHeartbeatTime": STARTED,
            "lastTransitionTime": STARTED,
        }
    ]
    for kind, reason, message in (
        ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ):
        conditions.append(
            {
                "type": kind,
                "status": "False",
                "reason": reason,
                "message": message,
                "lastHeartbeatTime": LATER,
                "lastTransitionTime": CREATED,
            }
        )
    conditions.append(
        {
            "type": "Ready",
            "status": "True",
            "reason": "KubeletReady",
            "message": "kubelet is posting ready status",
            "lastHeartbeatTime": LATER,
            "lastTransitionTime": STARTED,
        }
    )
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "uid": _uid("Node", name),
            "resourceVersion": str(2000 + index),
            "creationTimestamp": CREATED,
            "labels": labels,
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": spec,
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": address},
                {"type": "Hostname", "address": name},
            ],
            "allocatable": {"cpu": "4", "memory": "16076948Ki", "pods": "110"},
            "capacity": {"cpu": "4", "memory": "16179348Ki", "pods": "110"},
            "conditions": conditions,
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": _uid("boot", name),
                "containerRuntimeVersion": "containerd://1.7.24",
                "kernelVersion": "6.8.0-1021-aws",
                "kubeProxyVersion": version,
                "kubeletVersion": version,
                "machineID": _hash("machine", name, size=32),
                "operatingSystem": "linux",
                "osImage": "Ubuntu 24.04.1 LTS",
                "systemUUID": _uid("system", name),
            },
        },
    }


def _pod(workload: Body, node: Body, suffix: str) -> Body:
    """A Running, Ready pod of ``workload`` on ``node``."""
    meta = workload["metadata"]
    template = copy.deepcopy(workload["spec"]["template"])
    name = f"{meta['name']}-{suffix}"
    node_name = node["metadata"]["name"]
    spec = template["spec"]
    spec["nodeName"] = node_name
    host_ip = node["status"]["addresses"][0]["address"]
    pod_ip = (
        host_ip
        if spec.get("hostNetwork")
        else str(ipaddress.ip_network(node["spec"]["podCIDR"])[7])
    )

    def status_of(item: Body, init: bool) -> Body:
        cid = "containerd://" + _hash(name, item["name"], size=64)
        out: Body = {
            "name": item["name"],
            "image": item["image"],
            "imageID": item["image"].rsplit(":", 1)[0] + "@sha256:" + _hash(item["image"], size=64),
            "containerID": cid,
            "restartCount": 0,
            "ready": True,
            "started": not init,
        }
        if init:
            out["state"] = {
                "terminated": {
                    "exitCode": 0,
                    "reason": "Completed",
                    "startedAt": STARTED,
                    "finishedAt": STARTED,
                    "containerID": cid,
                }
            }
        else:
            out["state"] = {"running": {"startedAt": STARTED}}
        out["lastState"] = {}
        return out

    labels = dict(template["metadata"]["labels"])
    kind = workload["kind"]
    if kind == "DaemonSet":
        labels.update({"controller-revision-hash": "6c8b9d7f4", "pod-template-generation": "1"})
        owner = {"kind": "DaemonSet", "name": meta["name"], "uid": meta["uid"]}
    else:
        labels["pod-template-hash"] = "5b6f4d8c9"
        owner = {
            "kind": "ReplicaSet",
            "name": f"{meta['name']}-5b6f4d8c9",
            "uid": _uid("ReplicaSet", meta["name"]),
        }
    owner.update(apiVersion="apps/v1", controller=True, blockOwnerDeletion=True)
    conditions = [
        {"type": kind, "status": "True", "lastTransitionTime": STARTED}
        for kind in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
    ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": meta["namespace"],
            "uid": _uid("Pod", name),
            "resourceVersion": str(3000 + int(_hash(name, size=3), 16)),
            "creationTimestamp": STARTED,
            "labels": labels,
            "ownerReferences": [owner],
        },
        "spec": spec,
        "status": {
            "phase": "Running",
            "conditions": conditions,
            "hostIP": host_ip,
            "hostIPs": [{"ip": host_ip}],
            "podIP": pod_ip,
            "podIPs": [{"ip": pod_ip}],
            "qosClass": "Burstable",
            "startTime": STARTED,
            "initContainerStatuses": [status_of(c, True) for c in spec.get("initContainers") or []],
            "containerStatuses": [status_of(c, False) for c in spec["containers"]],
        },
    }


def healthy(cluster_file: Path, workers: int = 2) -> Body:
    """The snapshot of a healthy cluster that runs the render of ``cluster_file``."""
    cluster = read_cluster_file(cluster_file)
    bodies = [r.body for r in render_cluster(cluster).resources]
    want = expected(cluster, bodies, "render")
    nodes = [_node(cluster, f"{cluster.name}-cp-0", 0, True)] + [
        _node(cluster, f"{cluster.name}-worker-{i}", i + 1, False) for i in range(workers)
    ]
    items: list[Body] = list(nodes)
    n = len(nodes)
    ds = _live_meta(want.node)
    _default_field_refs(ds["spec"]["template"]["spec"])
    ds["status"] = {
        "currentNumberScheduled": n,
        "desiredNumberScheduled": n,
        "numberAvailable": n,
        "numberMisscheduled": 0,
        "numberReady": n,
        "observedGeneration": 1,
        "updatedNumberScheduled": n,
    }
    assert want.controllers is not None
    kc = _live_meta(want.controllers)
    _default_field_refs(kc["spec"]["template"]["spec"])
    kc["status"] = {
        "availableReplicas": 1,
        "observedGeneration": 1,
        "readyReplicas": 1,
        "replicas": 1,
        "updatedReplicas": 1,
        "conditions": [
            {
                "type": "Available",
                "status": "True",
                "reason": "MinimumReplicasAvailable",
                "message": "Deployment has minimum availability.",
                "lastTransitionTime": STARTED,
                "lastUpdateTime": STARTED,
            },
            {
                "type": "Progressing",
                "status": "True",
                "reason": "NewReplicaSetAvailable",
                "message": f'ReplicaSet "{kc["metadata"]["name"]}-5b6f4d8c9" has successfully progressed.',
                "lastTransitionTime": CREATED,
                "lastUpdateTime": STARTED,
            },
        ],
    }
    config = next(
        b for b in bodies if b["kind"] == "ConfigMap" and b["metadata"]["name"] == "calico-config"
    )
    items += [ds, kc, _live_meta(config)]
    items += [_pod(ds, node, _hash(node["metadata"]["name"])) for node in nodes]
    items.append(_pod(kc, nodes[1], _hash("kc", cluster.name)))
    if want.secret is not None:
        items.append(_live_meta(want.secret))
    if not want.etcd:
        pool = want.pool
        items.append(
            {
                "apiVersion": "crd.projectcalico.org/v1",
                "kind": "IPPool",
                "metadata": {
                    "name": "default-ipv4-ippool",
                    "uid": _uid("IPPool", cluster.name),
                    "resourceVersion": "1700",
                    "generation": 1,
                    "creationTimestamp": STARTED,
                },
                "spec": {
                    "allowedUses": ["Workload", "Tunnel"],
                    "blockSize": pool.block_size,
                    "cidr": pool.cidr,
                    "ipipMode": pool.ipip,
                    "natOutgoing": True,
                    "nodeSelector": "all()",
                    "vxlanMode": pool.vxlan,
                },
            }
        )
    return {"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}}


# --- one thing broken each ---


def find(snapshot: Body, kind: str, name: str | None = None, node: str | None = None) -> Body:
    """The first item of ``kind`` (named ``name``, or a pod on ``node``)."""
    for item in snapshot["items"]:
        if item["kind"] != kind:
            continue
        if name is not None and item["metadata"]["name"] != name:
            continue
        if node is not None and item["spec"].get("nodeName") != node:
            continue
        return item
    raise AssertionError(f"no {kind} {name or node} in the snapshot")


def calico_pod(snapshot: Body, node: str) -> Body:
    for item in snapshot["items"]:
        if (
            item["kind"] == "Pod"
            and item["metadata"]["labels"].get("k8s-app") == "calico-node"
            and item["spec"]["nodeName"] == node
        ):
            return item
    raise AssertionError(f"no calico-node pod on {node}")


def _not_ready(pod: Body, container: str = "calico-node") -> Body:
    for cond in pod["status"]["conditions"]:
        if cond["type"] in ("Ready", "ContainersReady"):
            cond.update(
                status="False",
                reason="ContainersNotReady",
                message=f"containers with unready status: [{container}]",
                lastTransitionTime=LATER,
            )
    status = next(s for s in pod["status"]["containerStatuses"] if s["name"] == container)
    status["ready"] = False
    return status


def remove_calico_pod(snapshot: Body, node: str) -> None:
    """The node has no calico-node pod (and the DaemonSet counts one less)."""
    snapshot["items"].remove(calico_pod(snapshot, node))
    status = find(snapshot, "DaemonSet", "calico-node")["status"]
    for key in (
        "currentNumberScheduled",
        "desiredNumberScheduled",
        "numberAvailable",
        "numberReady",
        "updatedNumberScheduled",
    ):
        status[key] -= 1


def crash_loop(snapshot: Body, node: str) -> None:
    pod = calico_pod(snapshot, node)
    status = _not_ready(pod)
    status.update(restartCount=12, started=False)
    status["state"] = {
        "waiting": {
            "reason": "CrashLoopBackOff",
            "message": f"back-off 5m0s restarting failed container=calico-node pod={pod['metadata']['name']}",
        }
    }
    status["lastState"] = {
        "terminated": {
            "exitCode": 1,
            "reason": "Error",
            "startedAt": LATER,
            "finishedAt": LATER,
            "containerID": status["containerID"],
        }
    }
    _ds_ready(snapshot, -1)


def bird_not_ready(snapshot: Body, node: str) -> None:
    pod = calico_pod(snapshot, node)
    _not_ready(pod)
    name = pod["metadata"]["name"]
    message = (
        "Readiness probe failed: 2026-11-03 09:29:51.204 [INFO][9311] confd/health.go 202:"
        " Number of node(s) with BGP peering established = 0\n"
        "calico/node is not ready: BIRD is not ready: BGP not established with 10.0.0.11,10.0.0.13\n"
    )
    snapshot["items"].append(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{name}.18{_hash(name, 'unhealthy', size=14)}",
                "namespace": pod["metadata"]["namespace"],
                "uid": _uid("Event", name),
                "resourceVersion": "9100",
                "creationTimestamp": STARTED,
            },
            "involvedObject": {
                "apiVersion": "v1",
                "kind": "Pod",
                "name": name,
                "namespace": pod["metadata"]["namespace"],
                "uid": pod["metadata"]["uid"],
                "resourceVersion": pod["metadata"]["resourceVersion"],
                "fieldPath": "spec.containers{calico-node}",
            },
            "reason": "Unhealthy",
            "message": message,
            "source": {"component": "kubelet", "host": node},
            "firstTimestamp": STARTED,
            "lastTimestamp": LATER,
            "count": 417,
            "type": "Warning",
            "reportingComponent": "kubelet",
            "reportingInstance": node,
        }
    )
    _ds_ready(snapshot, -1)


def _ds_ready(snapshot: Body, delta: int) -> None:
    status = find(snapshot, "DaemonSet", "calico-node")["status"]
    status["numberReady"] += delta
    status["numberAvailable"] += delta
    status["numberUnavailable"] = -delta


def controllers_unavailable(snapshot: Body) -> None:
    deployment = find(snapshot, "Deployment", "calico-kube-controllers")
    deployment["status"] = {
        "observedGeneration": 1,
        "replicas": 1,
        "updatedReplicas": 1,
        "unavailableReplicas": 1,
        "conditions": [
            {
                "type": "Available",
                "status": "False",
                "reason": "MinimumReplicasUnavailable",
                "message": "Deployment does not have minimum availability.",
                "lastTransitionTime": LATER,
                "lastUpdateTime": LATER,
            }
        ],
    }
    pod = next(
        i
        for i in snapshot["items"]
        if i["kind"] == "Pod"
        and i["metadata"]["labels"].get("k8s-app") == "calico-kube-controllers"
    )
    status = _not_ready(pod, "calico-kube-controllers")
    status.update(started=False)
    status["state"] = {
        "waiting": {
            "reason": "ImagePullBackOff",
            "message": f'Back-off pulling image "{status["image"]}"',
        }
    }
    pod["status"]["phase"] = "Pending"


def pool(snapshot: Body, **spec: Any) -> None:
    """Change the live default pool's spec (it drifted from the render)."""
    find(snapshot, "IPPool", "default-ipv4-ippool")["spec"].update(spec)


def edit_config(snapshot: Body, key: str, value: str) -> None:
    find(snapshot, "ConfigMap", "calico-config")["data"][key] = value


def rollout_stuck(snapshot: Body, node: str) -> None:
    """A new template (generation 2) whose first pod's install-cni keeps failing."""
    ds = find(snapshot, "DaemonSet", "calico-node")
    ds["metadata"]["generation"] = 2
    ds["status"].update(observedGeneration=2, updatedNumberScheduled=1)
    pod = calico_pod(snapshot, node)
    pod["metadata"]["labels"]["pod-template-generation"] = "2"
    pod["status"]["phase"] = "Pending"
    for cond in pod["status"]["conditions"]:
        if cond["type"] != "PodScheduled":
            cond.update(status="False", reason="ContainersNotReady", lastTransitionTime=LATER)
            if cond["type"] == "Initialized":
                cond.update(
                    reason="ContainersNotInitialized",
                    message="containers with incomplete status: [install-cni mount-bpffs]",
                )
    inits = pod["status"]["initContainerStatuses"]
    first = next(s for s in inits if s["name"] == "install-cni")
    first.update(ready=False, restartCount=4)
    first["state"] = {
        "waiting": {
            "reason": "CrashLoopBackOff",
            "message": "back-off 1m20s restarting failed container=install-cni",
        }
    }
    first["lastState"] = {
        "terminated": {
            "exitCode": 1,
            "reason": "Error",
            "message": "failed to write /host/etc/cni/net.d/10-calico.conflist: read-only file system",
            "startedAt": LATER,
            "finishedAt": LATER,
            "containerID": first["containerID"],
        }
    }
    for status in pod["status"]["containerStatuses"]:
        status.update(ready=False, started=False)
        status["state"] = {"waiting": {"reason": "PodInitializing"}}
        del status["containerID"]
    _ds_ready(snapshot, -1)
