"""The checks: a cluster's state (a ``Snapshot``) against its render (``Expected``).

Every rule gives one ``CheckResult`` (namespace ``doctor.<rule>``, filename the
cluster file) whose failures and warnings each name the object and say what to
do; a rule with nothing to report counts as one success, a rule that does not
apply (etcd-only rules on KDD, IP pools on etcd, which kubectl cannot see) as one
skipped test with the reason.  A rule that lacks the data it needs fails: an
empty snapshot is never "healthy".

Pool settings are install-time only: calico-node creates the default pool from
``CALICO_IPV4POOL_*`` on its first start and never changes it, so a pool that
differs from the render is reported with Calico's documented migration (new pool,
old pool disabled, pods recreated, old pool deleted), never as something a
GitOps sync fixes.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.doctor.expect import (
    CONTROLLERS,
    NODE,
    Expected,
    container,
    env_entries,
    env_values,
    mode,
    pod_spec,
    secret_names,
)
from pipeline.doctor.snapshot import (
    CONFIG_MAP,
    DAEMON_SET,
    DEPLOYMENT,
    EVENT,
    IP_POOL,
    POD,
    SECRET,
    Snapshot,
    meta,
    name_of,
    namespace_of,
)
from pipeline.doctor.snapshot import (
    NODE as NODE_KIND,
)
from pipeline.model.cluster import Cluster
from pipeline.model.resource import Body, ResourceId
from pipeline.model.results import CheckResult, Result

MAX_RESTARTS = 5
MIGRATE_DOCS = "https://docs.tigera.io/calico/latest/networking/ipam/migrate-pools"
# Waiting reasons that mean the container will not start by itself.
BAD_WAITING = {
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
}
# Tolerations the DaemonSet controller adds to every DaemonSet pod (and, for
# hostNetwork pods, network-unavailable), so they never keep a node uncovered.
DAEMONSET_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/network-unavailable", "operator": "Exists", "effect": "NoSchedule"},
]
_NETWORK = re.compile(r"network plugin|NetworkPluginNotReady|cni", re.IGNORECASE)

# Every rule, in report order.
RULES = (
    "cluster_identity",
    "calico_node_daemonset",
    "calico_node_coverage",
    "calico_node_rollout",
    "calico_node_pods",
    "calico_node_restarts",
    "kube_controllers",
    "node_network",
    "datastore",
    "pool_cidr",
    "pool_pod_cidr",
    "pool_encapsulation",
    "pool_block_size",
    "calico_config",
    "calico_node_env",
    "kube_controllers_env",
    "etcd_secret",
    "etcd_kube_controllers",
)


@dataclass
class _Outcome:
    failures: list[Result] = field(default_factory=list)
    warnings: list[Result] = field(default_factory=list)
    skipped: list[Result] = field(default_factory=list)


class _Run:
    """One cluster's checks: the inputs, and the findings per rule."""

    def __init__(self, cluster: Cluster, want: Expected, snap: Snapshot, max_restarts: int) -> None:
        self.cluster = cluster
        self.want = want
        self.snap = snap
        self.max_restarts = max_restarts
        self.ns = want.namespace
        self.outcomes = {rule: _Outcome() for rule in RULES}
        self.live_node = snap.get(DAEMON_SET, self.ns, NODE)
        self.live_controllers = snap.get(DEPLOYMENT, self.ns, CONTROLLERS)
        self.nodes = snap.of(NODE_KIND)
        self.events = snap.of(EVENT, self.ns)

    def _result(self, rule: str, ref: str, what: str, fix: str, res: ResourceId | None) -> Result:
        metadata = {"query": f"data.doctor.{rule}", "object": ref, "fix": fix}
        metadata["cluster"] = self.cluster.name
        return Result(f"{ref}: {what}; {fix}", metadata, resource=res)

    def fail(self, rule: str, obj: Body | ResourceId, what: str, fix: str) -> None:
        ref, res = _ref(obj)
        self.outcomes[rule].failures.append(self._result(rule, ref, what, fix, res))

    def warn(self, rule: str, obj: Body | ResourceId, what: str, fix: str) -> None:
        ref, res = _ref(obj)
        self.outcomes[rule].warnings.append(self._result(rule, ref, what, fix, res))

    def skip(self, rule: str, reason: str) -> None:
        metadata = {"query": f"data.doctor.{rule}", "cluster": self.cluster.name}
        self.outcomes[rule].skipped.append(Result(reason, metadata))

    def results(self) -> list[CheckResult]:
        out = []
        for rule in RULES:
            found = self.outcomes[rule]
            clean = not (found.failures or found.warnings or found.skipped)
            out.append(
                CheckResult(
                    self.cluster.file,
                    f"doctor.{rule}",
                    successes=1 if clean else 0,
                    warnings=found.warnings,
                    failures=found.failures,
                    skipped=found.skipped,
                )
            )
        return out

    # --- what the checks share ---

    def selector(self) -> dict[str, str]:
        workload = self.live_node or self.want.node
        labels = ((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        return {str(k): str(v) for k, v in labels.items()} or {"k8s-app": NODE}

    def pods_of(self, labels: dict[str, str]) -> list[Body]:
        return [
            pod
            for pod in self.snap.of(POD, self.ns)
            if all((meta(pod).get("labels") or {}).get(k) == v for k, v in labels.items())
        ]

    def nodes_to_cover(self) -> list[Body]:
        """The nodes calico-node must run on: those its nodeSelector picks whose
        NoSchedule/NoExecute taints its tolerations (and the DaemonSet's own) allow."""
        spec = pod_spec(self.live_node or self.want.node)
        selector = spec.get("nodeSelector") or {}
        tolerations = [*(spec.get("tolerations") or []), *DAEMONSET_TOLERATIONS]
        out = []
        for node in self.nodes:
            labels = meta(node).get("labels") or {}
            if any(labels.get(k) != v for k, v in selector.items()):
                continue
            taints = (node.get("spec") or {}).get("taints") or []
            if all(
                _tolerated(t, tolerations)
                for t in taints
                if t.get("effect") in ("NoSchedule", "NoExecute")
            ):
                out.append(node)
        return out

    def readiness_message(self, pod: Body) -> str:
        """The latest readiness-probe failure the kubelet recorded for ``pod`` (Events)."""
        found = [
            e
            for e in self.events
            if (e.get("involvedObject") or {}).get("kind") == "Pod"
            and (e.get("involvedObject") or {}).get("name") == name_of(pod)
            and e.get("reason") == "Unhealthy"
            and str(e.get("message", "")).startswith("Readiness probe failed")
        ]
        if not found:
            return ""
        latest = max(
            found, key=lambda e: (str(e.get("lastTimestamp") or e.get("eventTime")), name_of(e))
        )
        text = str(latest.get("message", "")).removeprefix("Readiness probe failed:")
        return _one_line(text)


# --- the rules ---


def _cluster_identity(run: _Run) -> None:
    rule = "cluster_identity"
    if not run.nodes:
        run.fail(
            rule,
            ResourceId("", "v1", "Node", "", ""),
            f"{run.snap.source} holds no Nodes, so nothing can be checked",
            "read the cluster with netpack doctor (live) or write the snapshot with"
            " netpack doctor --collect -o FILE",
        )
        return
    pod_net = ipaddress.ip_network(run.cluster.pod_cidr)
    for node in run.nodes:
        spec = node.get("spec") or {}
        cidrs = spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else [])
        outside = [c for c in cidrs if not _within(c, pod_net)]
        if outside:
            run.fail(
                rule,
                node,
                f"podCIDR {', '.join(outside)} lies outside {run.cluster.file}'s podCIDR"
                f" {run.cluster.pod_cidr}",
                f"is {run.snap.source} really cluster {run.cluster.name}? Check --context or the"
                " snapshot file",
            )
    want = run.cluster.kubernetes_version
    for node in run.nodes:
        kubelet = str(((node.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", ""))
        minor = ".".join(kubelet.lstrip("v").split(".")[:2])
        if kubelet and minor != want:
            run.warn(
                rule,
                node,
                f"kubelet {kubelet} is not Kubernetes {want} ({run.cluster.file}"
                " kubernetes.version)",
                "update kubernetes.version after an upgrade (the schemas follow it), or check"
                " that this is the right cluster",
            )


def _calico_node_daemonset(run: _Run) -> None:
    if run.live_node is not None:
        return
    elsewhere = [d for d in run.snap.of(DAEMON_SET) if name_of(d) == NODE]
    where = f" (there is one in {namespace_of(elsewhere[0])})" if elsewhere else ""
    run.fail(
        "calico_node_daemonset",
        ResourceId("apps", "v1", "DaemonSet", run.ns, NODE),
        f"not found in namespace {run.ns}{where}: no node gets pod networking",
        f"check that Argo CD or Flux applies clusters/{run.cluster.name}/calico of the deploy"
        " repo (netpack publish writes it)",
    )


def _calico_node_coverage(run: _Run) -> None:
    rule = "calico_node_coverage"
    pods = run.pods_of(run.selector())
    for node in run.nodes_to_cover():
        mine = [p for p in pods if (p.get("spec") or {}).get("nodeName") == name_of(node)]
        if any(_running_ready(p) for p in mine):
            continue
        if mine:
            states = ", ".join(f"{name_of(p)} {_pod_state(p)}" for p in mine)
            what = f"no Running and Ready calico-node pod ({states})"
            fix = "pods here get no network until it is ready; see the calico_node_pods findings"
        else:
            what = "no calico-node pod at all"
            fix = (
                f"pods here get no network; see why none is scheduled: kubectl describe"
                f" daemonset -n {run.ns} {NODE} (taints, nodeSelector, resources)"
            )
        run.fail(rule, node, what, fix)


def _calico_node_rollout(run: _Run) -> None:
    rule = "calico_node_rollout"
    live = run.live_node
    if live is None:
        run.skip(rule, f"no DaemonSet {run.ns}/{NODE} to check")
        return
    status = live.get("status") or {}
    generation = int(meta(live).get("generation") or 0)
    observed = int(status.get("observedGeneration") or 0)
    desired = int(status.get("desiredNumberScheduled") or 0)
    updated = int(status.get("updatedNumberScheduled") or 0)
    ready = int(status.get("numberReady") or 0)
    cover = len(run.nodes_to_cover())
    watch = f"kubectl rollout status daemonset -n {run.ns} {NODE}"
    if observed < generation:
        run.fail(
            rule,
            live,
            f"the DaemonSet controller has not observed generation {generation} yet"
            f" (observedGeneration {observed})",
            f"check kube-controller-manager; {watch}",
        )
    if desired != cover:
        run.fail(
            rule,
            live,
            f"schedules {desired} pods but {cover} nodes must run one",
            "compare the DaemonSet's nodeSelector and tolerations with the nodes' labels"
            " and taints",
        )
    if updated < desired:
        run.fail(
            rule,
            live,
            f"rollout stuck: {updated} of {desired} pods run the current template",
            f"a new pod does not become ready (see calico_node_pods); {watch}",
        )
    if ready < desired:
        run.fail(
            rule,
            live,
            f"{ready} of {desired} pods are ready",
            "see the calico_node_pods and calico_node_coverage findings",
        )


def _calico_node_pods(run: _Run) -> None:
    for pod in run.pods_of(run.selector()):
        for what, fix in _pod_problems(run, pod):
            run.fail("calico_node_pods", pod, what, fix)
        for status in _statuses(pod, "containerStatuses", "initContainerStatuses"):
            restarts = int(status.get("restartCount") or 0)
            if restarts > run.max_restarts:
                run.warn(
                    "calico_node_restarts",
                    pod,
                    f"container {status.get('name')} restarted {restarts} times"
                    f" (more than {run.max_restarts})",
                    f"read why: kubectl logs -n {run.ns} {name_of(pod)} -c"
                    f" {status.get('name')} --previous",
                )


def _kube_controllers(run: _Run) -> None:
    rule = "kube_controllers"
    if run.want.controllers is None:
        run.skip(rule, f"the render has no Deployment {CONTROLLERS}")
        return
    live = run.live_controllers
    if live is None:
        run.fail(
            rule,
            ResourceId("apps", "v1", "Deployment", run.ns, CONTROLLERS),
            f"not found in namespace {run.ns}",
            f"check that Argo CD or Flux applies clusters/{run.cluster.name}/calico",
        )
        return
    status = live.get("status") or {}
    available: dict[str, Any] = next(
        (c for c in status.get("conditions") or [] if c.get("type") == "Available"), {}
    )
    if int(status.get("availableReplicas") or 0) < 1 or available.get("status") != "True":
        why = _one_line(str(available.get("message") or "no Available condition"))
        run.fail(rule, live, f"unavailable ({why})", "see its pod's findings below")
    labels = ((live.get("spec") or {}).get("selector") or {}).get("matchLabels") or {
        "k8s-app": CONTROLLERS
    }
    pods = run.pods_of({str(k): str(v) for k, v in labels.items()})
    if not pods:
        run.fail(
            rule,
            live,
            "has no pod",
            f"kubectl describe deployment -n {run.ns} {CONTROLLERS} (quota, scheduling)",
        )
    for pod in pods:
        for what, fix in _pod_problems(run, pod):
            run.fail(rule, pod, what, fix)


def _node_network(run: _Run) -> None:
    rule = "node_network"
    for node in run.nodes:
        conditions = {c.get("type"): c for c in (node.get("status") or {}).get("conditions") or []}
        ready = conditions.get("Ready") or {}
        message = _one_line(str(ready.get("message") or ready.get("reason") or ""))
        if ready.get("status") != "True":
            if _NETWORK.search(message):
                run.fail(
                    rule,
                    node,
                    f"NotReady: {message}",
                    "calico-node on this node has not installed the CNI config yet; see its"
                    " calico-node pod",
                )
            else:
                run.warn(
                    rule,
                    node,
                    f"NotReady: {message or 'no Ready condition'}",
                    f"not the network plugin: kubectl describe node {name_of(node)}",
                )
        unavailable = conditions.get("NetworkUnavailable") or {}
        if unavailable.get("status") == "True":
            why = _one_line(str(unavailable.get("message") or unavailable.get("reason") or ""))
            run.fail(
                rule,
                node,
                f"NetworkUnavailable: {why}",
                "calico-node on this node is not up; see its calico-node pod",
            )


def _datastore(run: _Run) -> None:
    if run.live_node is None:
        run.skip("datastore", f"no DaemonSet {run.ns}/{NODE} to check")
        return

    def kind(workload: Body) -> str:
        value = env_values(container(workload, NODE)).get("DATASTORE_TYPE", "etcdv3")
        return "kubernetes" if value == "kubernetes" else "etcd"

    live, want = kind(run.live_node), kind(run.want.node)
    if live != want:
        run.fail(
            "datastore",
            run.live_node,
            f"runs on the {live} datastore but the render uses {want}",
            "a datastore cannot change in place: migrate the datastore"
            " (calicoctl datastore migrate) or fix values.calico.datastore",
        )


def _pools(run: _Run) -> None:
    rules = ("pool_cidr", "pool_pod_cidr", "pool_encapsulation", "pool_block_size")
    if run.want.etcd:
        for rule in rules:
            run.skip(
                rule,
                "on the etcd datastore IP pools live in etcd, not in the Kubernetes API:"
                " check them with calicoctl get ippools -o wide",
            )
        return
    want = run.want.pool
    pools = [
        p
        for p in run.snap.of(IP_POOL)
        if not (p.get("spec") or {}).get("disabled") and ":" not in str(_spec(p, "cidr"))
    ]
    if not pools:
        run.fail(
            "pool_cidr",
            ResourceId("crd.projectcalico.org", "v1", "IPPool", "", "default-ipv4-ippool"),
            "no enabled IPv4 IPPool: pods get no addresses",
            "calico-node creates default-ipv4-ippool on its first start unless a pool exists;"
            " see the calico_node_pods findings, or create the pool the render describes"
            f" ({want.cidr}, ipipMode {want.ipip}, vxlanMode {want.vxlan},"
            f" blockSize {want.block_size})",
        )
        for rule in rules[1:]:
            run.skip(rule, "no enabled IPv4 IPPool to compare")
        return
    pod_net = ipaddress.ip_network(run.cluster.pod_cidr)
    migrate = _migrate(want)
    matching = [p for p in pools if _same_network(str(_spec(p, "cidr")), want.cidr)]
    if not matching:
        for pool in pools:
            run.fail(
                "pool_cidr",
                pool,
                f"CIDR {_spec(pool, 'cidr')} is not the render's CALICO_IPV4POOL_CIDR"
                f" {want.cidr}; install-time-only drift: a GitOps sync never changes a pool",
                migrate,
            )
    for pool in pools:
        if not _within(str(_spec(pool, "cidr")), pod_net):
            run.fail(
                "pool_pod_cidr",
                pool,
                f"CIDR {_spec(pool, 'cidr')} lies outside the cluster's podCIDR"
                f" {run.cluster.pod_cidr} ({run.cluster.file})",
                "pod traffic leaves the range kube-proxy and NetworkPolicy treat as pods; "
                + migrate
                + f" (or is {run.snap.source} another cluster?)",
            )
    for pool in matching or pools:
        ipip, vxlan = mode(_spec(pool, "ipipMode")), mode(_spec(pool, "vxlanMode"))
        if (ipip, vxlan) != (want.ipip, want.vxlan):
            run.fail(
                "pool_encapsulation",
                pool,
                f"ipipMode {ipip}, vxlanMode {vxlan} but the render says CALICO_IPV4POOL_IPIP"
                f" {want.ipip}, CALICO_IPV4POOL_VXLAN {want.vxlan}; install-time-only drift:"
                " a GitOps sync never changes a pool",
                "set the modes on the live pool (calicoctl patch ippool"
                f" {name_of(pool)} with ipipMode {want.ipip} and vxlanMode {want.vxlan}),"
                " or " + migrate,
            )
        size = int(_spec(pool, "blockSize") or 26)
        if size != want.block_size:
            run.fail(
                "pool_block_size",
                pool,
                f"blockSize {size} but the render's CALICO_IPV4POOL_BLOCK_SIZE is"
                f" {want.block_size}; a pool's block size is fixed when it is created",
                migrate,
            )


def _calico_config(run: _Run) -> None:
    live = run.snap.get(CONFIG_MAP, run.ns, "calico-config")
    if live is None:
        run.fail(
            "calico_config",
            ResourceId("", "v1", "ConfigMap", run.ns, "calico-config"),
            f"not found in namespace {run.ns}",
            f"check that Argo CD or Flux applies clusters/{run.cluster.name}/calico",
        )
        return
    data = {str(k): str(v) for k, v in (live.get("data") or {}).items()}
    diffs = _differences(data, run.want.config)
    if diffs:
        run.fail(
            "calico_config",
            live,
            f"differs from {run.want.source}: {'; '.join(diffs)}",
            _resync(run, "calico-node reads it at start: after the sync, restart calico-node"),
        )


def _calico_node_env(run: _Run) -> None:
    if run.live_node is None:
        run.skip("calico_node_env", f"no DaemonSet {run.ns}/{NODE} to compare")
        return
    _workload_drift(run, "calico_node_env", run.live_node, run.want.node, NODE)


def _kube_controllers_env(run: _Run) -> None:
    if run.live_controllers is None or run.want.controllers is None:
        run.skip("kube_controllers_env", f"no Deployment {run.ns}/{CONTROLLERS} to compare")
        return
    _workload_drift(
        run, "kube_controllers_env", run.live_controllers, run.want.controllers, CONTROLLERS
    )


def _etcd_secret(run: _Run) -> None:
    rule = "etcd_secret"
    if not run.want.etcd:
        run.skip(rule, "the Kubernetes datastore needs no etcd Secret")
        return
    wanted = secret_names(run.want.node)
    if run.live_node is not None:
        missing = [s for s in wanted if s not in secret_names(run.live_node)]
        if missing:
            run.fail(
                rule,
                run.live_node,
                f"does not mount Secret {', '.join(missing)} as the render does",
                _resync(run, "calico-node cannot reach etcd over TLS without it"),
            )
    for name in wanted:
        secret = run.snap.get(SECRET, run.ns, name)
        if secret is None:
            run.fail(
                rule,
                ResourceId("", "v1", "Secret", run.ns, name),
                f"not found in {run.snap.source}",
                "create it with the etcd TLS files (netpack doctor --collect records it"
                " without its values)",
            )
            continue
        keys = {"etcd_ca": "etcd-ca", "etcd_cert": "etcd-cert", "etcd_key": "etcd-key"}
        needed = [key for cm, key in keys.items() if run.want.config.get(cm)]
        absent = [k for k in needed if k not in (secret.get("data") or {})]
        if absent:
            run.fail(
                rule,
                secret,
                f"has no {', '.join(absent)}, which calico-config's etcd_* keys point at",
                "add the etcd TLS files to the Secret",
            )


def _etcd_kube_controllers(run: _Run) -> None:
    rule = "etcd_kube_controllers"
    if not run.want.etcd:
        run.skip(rule, "the Kubernetes datastore: kube-controllers need no etcd settings")
        return
    live = run.live_controllers
    if live is None:
        run.skip(rule, f"no Deployment {run.ns}/{CONTROLLERS} to check")
        return
    env = env_entries(container(live, CONTROLLERS))
    want = env_entries(container(run.want.controllers, CONTROLLERS))
    problems = []
    if "ETCD_ENDPOINTS" not in env:
        problems.append("no ETCD_ENDPOINTS")
    if env.get("DATASTORE_TYPE") == "kubernetes":
        problems.append("DATASTORE_TYPE is kubernetes")
    if env.get("ENABLED_CONTROLLERS") != want.get("ENABLED_CONTROLLERS"):
        problems.append(
            f"ENABLED_CONTROLLERS is {env.get('ENABLED_CONTROLLERS')!r}, the render's"
            f" {want.get('ENABLED_CONTROLLERS')!r}"
        )
    if secret_names(run.want.controllers) and not set(secret_names(run.want.controllers)) <= set(
        secret_names(live)
    ):
        problems.append("the etcd Secret is not mounted")
    if problems:
        run.fail(
            rule,
            live,
            f"not configured for etcd: {'; '.join(problems)}",
            _resync(run, "without them the controllers do not mirror policy into etcd"),
        )


CHECKS: tuple[Callable[[_Run], None], ...] = (
    _cluster_identity,
    _calico_node_daemonset,
    _calico_node_coverage,
    _calico_node_rollout,
    _calico_node_pods,
    _kube_controllers,
    _node_network,
    _datastore,
    _pools,
    _calico_config,
    _calico_node_env,
    _kube_controllers_env,
    _etcd_secret,
    _etcd_kube_controllers,
)


def check(
    cluster: Cluster, want: Expected, snap: Snapshot, *, max_restarts: int = MAX_RESTARTS
) -> list[CheckResult]:
    """Every rule on one cluster, one ``CheckResult`` each, in ``RULES`` order."""
    run = _Run(cluster, want, snap, max_restarts)
    for one in CHECKS:
        one(run)
    return run.results()


# --- helpers ---


def _ref(obj: Body | ResourceId) -> tuple[str, ResourceId]:
    res = obj if isinstance(obj, ResourceId) else ResourceId.of(obj)
    parts = [res.kind, res.namespace, res.name]
    return "/".join(p for p in parts if p), res


def _spec(body: Body, key: str) -> Any:
    spec = body.get("spec")
    return spec.get(key) if isinstance(spec, dict) else None


def _tolerated(taint: dict[str, Any], tolerations: list[Any]) -> bool:
    for tol in tolerations:
        if not isinstance(tol, dict):
            continue
        if tol.get("effect") and tol.get("effect") != taint.get("effect"):
            continue
        if tol.get("operator", "Equal") == "Exists":
            if not tol.get("key") or tol.get("key") == taint.get("key"):
                return True
        elif tol.get("key") == taint.get("key") and (tol.get("value") or "") == (
            taint.get("value") or ""
        ):
            return True
    return False


def _statuses(pod: Body, *keys: str) -> list[dict[str, Any]]:
    status = pod.get("status") or {}
    return [s for key in keys for s in status.get(key) or [] if isinstance(s, dict)]


def _running_ready(pod: Body) -> bool:
    status = pod.get("status") or {}
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    return status.get("phase") == "Running" and ready


def _pod_state(pod: Body) -> str:
    for status in _statuses(pod, "initContainerStatuses", "containerStatuses"):
        waiting = (status.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason"):
            return f"{status.get('name')} {waiting['reason']}"
    phase = (pod.get("status") or {}).get("phase") or "Unknown"
    return f"{phase}, not ready" if phase == "Running" else str(phase)


def _pod_problems(run: _Run, pod: Body) -> list[tuple[str, str]]:
    """What keeps ``pod`` from running and being ready, each with what to do."""
    name = name_of(pod)
    out: list[tuple[str, str]] = []
    logs = f"kubectl logs -n {run.ns} {name} -c"
    for status in _statuses(pod, "initContainerStatuses"):
        cname = status.get("name")
        state = status.get("state") or {}
        waiting, ended = state.get("waiting") or {}, state.get("terminated") or {}
        last = (status.get("lastState") or {}).get("terminated") or {}
        if waiting.get("reason") in BAD_WAITING:
            out.append(
                (
                    f"init container {cname} is in {waiting['reason']}{_exit_text(last)}",
                    _waiting_fix(waiting["reason"], status, f"{logs} {cname} --previous"),
                )
            )
        elif ended and int(ended.get("exitCode") or 0) != 0:
            out.append(
                (
                    f"init container {cname} failed{_exit_text(ended)}",
                    f"read why: {logs} {cname}",
                )
            )
    for status in _statuses(pod, "containerStatuses"):
        cname = status.get("name")
        state = status.get("state") or {}
        waiting = state.get("waiting") or {}
        last = (status.get("lastState") or {}).get("terminated") or {}
        if waiting.get("reason") in BAD_WAITING:
            out.append(
                (
                    f"container {cname} is in {waiting['reason']}{_exit_text(last)}",
                    _waiting_fix(waiting["reason"], status, f"{logs} {cname} --previous"),
                )
            )
        elif last.get("reason") == "OOMKilled":
            out.append(
                (
                    f"container {cname} was OOMKilled (restarted {status.get('restartCount', 0)}"
                    " times)",
                    "raise its memory limit, or find what grows: " + f"{logs} {cname} --previous",
                )
            )
        elif "running" in state and not status.get("ready"):
            message = run.readiness_message(pod)
            if message:
                out.append((f"container {cname} is not ready: {message}", _ready_fix(message)))
            else:
                out.append(
                    (
                        f"container {cname} is running but not ready",
                        f"see its readiness probe: kubectl describe pod -n {run.ns} {name}",
                    )
                )
    if not out and not _running_ready(pod):
        status = pod.get("status") or {}
        reasons = [
            _one_line(str(c.get("message") or c.get("reason") or ""))
            for c in status.get("conditions") or []
            if c.get("status") != "True"
        ]
        why = "; ".join(r for r in reasons if r) or "no container status"
        out.append(
            (
                f"is {status.get('phase') or 'Unknown'}, not ready ({why})",
                f"kubectl describe pod -n {run.ns} {name}",
            )
        )
    return out


def _exit_text(ended: dict[str, Any]) -> str:
    if not ended:
        return ""
    parts = [f"exit code {ended.get('exitCode')}"]
    if ended.get("reason"):
        parts.append(str(ended["reason"]))
    if ended.get("message"):
        parts.append(_one_line(str(ended["message"])))
    return f" (last: {', '.join(parts)})"


def _waiting_fix(reason: str, status: dict[str, Any], logs: str) -> str:
    if reason in ("ImagePullBackOff", "ErrImagePull", "InvalidImageName"):
        return (
            f"the image {status.get('image')} cannot be pulled: check values.calico.images"
            " (registry, tag) and the nodes' access to the registry"
        )
    if reason.startswith("CreateContainer"):
        return "a ConfigMap or Secret it reads is missing or lacks a key: kubectl describe pod"
    return f"read why it exits: {logs}"


def _ready_fix(message: str) -> str:
    if "BIRD" in message or "BGP" in message:
        return (
            "BGP sessions are not established: check that nodes reach each other on TCP 179,"
            " that IP_AUTODETECTION_METHOD picks the right interface, and that calico_backend"
            " vxlan is not used with the -bird-ready probe"
        )
    if "Felix" in message or "felix" in message:
        return "Felix is not ready: read the calico-node log for the dataplane error"
    return "read the calico-node log for the failing component"


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _within(cidr: str, outer: Any) -> bool:
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    return net.version == outer.version and net.subnet_of(outer)


def _same_network(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_network(a, strict=False) == ipaddress.ip_network(b, strict=False)
    except ValueError:
        return False


def _migrate(want: Any) -> str:
    return (
        f"migrate as Calico documents ({MIGRATE_DOCS}): create a new IPPool with CIDR"
        f" {want.cidr}, ipipMode {want.ipip}, vxlanMode {want.vxlan}, blockSize"
        f" {want.block_size}; disable the old pool; recreate the pods so they get addresses"
        " from the new pool; then delete the old pool"
    )


def _resync(run: _Run, note: str) -> str:
    return (
        "someone changed it by hand, or Argo CD/Flux is not syncing"
        f" clusters/{run.cluster.name}/calico: check the sync status and sync; {note}"
    )


def _differences(live: dict[str, Any], want: dict[str, Any]) -> list[str]:
    out = []
    for key in sorted(set(live) | set(want)):
        if key not in want:
            out.append(f"{key} is not in the render")
        elif key not in live:
            out.append(f"{key} is missing")
        elif live[key] != want[key]:
            out.append(f"{key} is {_short(live[key])}, the render's {_short(want[key])}")
    return out


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    if "\n" in text or len(text) > 60:
        return "(changed)"
    return repr(text)


def _normal_env(entries: dict[str, Any]) -> dict[str, Any]:
    """Env entries with the API server's defaults filled in (fieldRef's apiVersion)."""
    out = {}
    for name, value in entries.items():
        if isinstance(value, dict) and isinstance(value.get("fieldRef"), dict):
            value = {**value, "fieldRef": {"apiVersion": "v1", **value["fieldRef"]}}
        out[name] = value
    return out


def _workload_drift(run: _Run, rule: str, live: Body, want: Body, name: str) -> None:
    diffs = [
        f"env {d}"
        for d in _differences(
            _normal_env(env_entries(container(live, name))),
            _normal_env(env_entries(container(want, name))),
        )
    ]
    for key in ("initContainers", "containers"):
        have = {c.get("name"): c.get("image") for c in pod_spec(live).get(key) or []}
        for item in pod_spec(want).get(key) or []:
            if have.get(item.get("name")) != item.get("image"):
                diffs.append(
                    f"{item.get('name')} image is {have.get(item.get('name'))!r}, the render's"
                    f" {item.get('image')!r}"
                )
    if diffs:
        pool = any("CALICO_IPV4POOL" in d for d in diffs)
        note = "a sync restores the env and image"
        if pool:
            note += "; CALICO_IPV4POOL_* only shape a pool created later, see the pool_* rules"
        run.fail(
            rule, live, f"differs from {run.want.source}: {'; '.join(diffs)}", _resync(run, note)
        )
