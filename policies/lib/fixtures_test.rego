# Test fixtures: a rendered calico-node as netpack's base produces it
# (calico.yaml v3.30.7 plus an explicit CALICO_IPV4POOL_CIDR), a cluster
# context, and a cloud table shaped like data/clouds.yaml. Only tests import
# it; the _test suffix keeps it out of engines that load no test files
# (regopy, which crashes on `with input as` in tests).
package lib.fixtures

image_tag := "v3.30.7"

node_env := [
	{"name": "DATASTORE_TYPE", "value": "kubernetes"},
	{"name": "WAIT_FOR_DATASTORE", "value": "true"},
	{"name": "NODENAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
	{"name": "CALICO_NETWORKING_BACKEND", "valueFrom": {"configMapKeyRef": {"name": "calico-config", "key": "calico_backend"}}},
	{"name": "CLUSTER_TYPE", "value": "k8s,bgp"},
	{"name": "IP", "value": "autodetect"},
	{"name": "CALICO_IPV4POOL_IPIP", "value": "Always"},
	{"name": "CALICO_IPV4POOL_VXLAN", "value": "Never"},
	{"name": "CALICO_IPV6POOL_VXLAN", "value": "Never"},
	{"name": "FELIX_IPINIPMTU", "valueFrom": {"configMapKeyRef": {"name": "calico-config", "key": "veth_mtu"}}},
	{"name": "CALICO_DISABLE_FILE_LOGGING", "value": "true"},
	{"name": "FELIX_DEFAULTENDPOINTTOHOSTACTION", "value": "ACCEPT"},
	{"name": "FELIX_IPV6SUPPORT", "value": "false"},
	{"name": "FELIX_HEALTHENABLED", "value": "true"},
	{"name": "CALICO_IPV4POOL_CIDR", "value": "10.244.0.0/16"},
]

calico_node := {
	"apiVersion": "apps/v1",
	"kind": "DaemonSet",
	"metadata": {"name": "calico-node", "namespace": "kube-system"},
	"spec": {
		"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
		"template": {"spec": {
			"hostNetwork": true,
			"priorityClassName": "system-node-critical",
			"tolerations": [
				{"effect": "NoSchedule", "operator": "Exists"},
				{"key": "CriticalAddonsOnly", "operator": "Exists"},
				{"effect": "NoExecute", "operator": "Exists"},
			],
			"initContainers": [
				{"name": "upgrade-ipam", "image": "docker.io/calico/cni:v3.30.7"},
				{"name": "install-cni", "image": "docker.io/calico/cni:v3.30.7"},
				{"name": "mount-bpffs", "image": "docker.io/calico/node:v3.30.7"},
			],
			"containers": [{
				"name": "calico-node",
				"image": "docker.io/calico/node:v3.30.7",
				"env": node_env,
				"livenessProbe": {"exec": {"command": ["/bin/calico-node", "-felix-live", "-bird-live"]}},
				"readinessProbe": {"exec": {"command": ["/bin/calico-node", "-felix-ready", "-bird-ready"]}},
			}],
		}},
	},
}

# calico_node_vxlan is the calico-vxlan.yaml variant (CALICO.md §3) with
# VXLAN Always, as the azure overlay renders it.
calico_node_vxlan := probes(
	with_env(with_env(calico_node, "CALICO_IPV4POOL_IPIP", "Never"), "CALICO_IPV4POOL_VXLAN", "Always"),
	["/bin/calico-node", "-felix-live"],
	["/bin/calico-node", "-felix-ready"],
)

kube_controllers := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "calico-kube-controllers", "namespace": "kube-system"},
	"spec": {
		"replicas": 1,
		"strategy": {"type": "Recreate"},
		"template": {"spec": {"containers": [{"name": "calico-kube-controllers", "image": "docker.io/calico/kube-controllers:v3.30.7"}]}},
	},
}

calico_config := {
	"apiVersion": "v1",
	"kind": "ConfigMap",
	"metadata": {"name": "calico-config", "namespace": "kube-system"},
	"data": {"typha_service_name": "none", "calico_backend": "bird", "veth_mtu": "0"},
}

calico_config_etcd := json.patch(calico_config, [{"op": "add", "path": "/data/etcd_endpoints", "value": "https://10.0.0.10:2379"}])

etcd_secret := {
	"apiVersion": "v1",
	"kind": "Secret",
	"type": "Opaque",
	"metadata": {"name": "calico-etcd-secrets", "namespace": "kube-system"},
	"data": {},
}

# context(cloud, backend) is netpack's context.yaml for a cluster.
context(cloud, backend) := {
	"cluster": {
		"name": "test-1",
		"cloud": cloud,
		"kubernetes": {"version": "1.32", "podCIDR": "10.244.0.0/16", "serviceClusterIpRange": "10.96.0.0/12"},
	},
	"values": {"calico": {"calicoNetworkCIDR": "10.244.0.0/16", "datastore": "kubernetes"}},
	"calico_config": {"calico_backend": backend, "veth_mtu": "0", "typha_service_name": "none"},
	"calico_config_from": "input",
}

aws := context("aws", "bird")

azure := context("azure", "vxlan")

gcp := context("gcp", "bird")

baremetal := context("baremetal", "bird")

clouds := {
	"aws": {
		"encapsulations": ["IPIP"],
		"modes": ["Always", "CrossSubnet"],
		"mtu": 9001,
		"warnings": [{
			"modes": ["CrossSubnet"],
			"unless_env": {"FELIX_AWSSRCDSTCHECK": "Disable"},
			"message": "disable the EC2 source/destination check",
		}],
	},
	"azure": {"encapsulations": ["VXLAN"], "modes": ["Always", "CrossSubnet"], "mtu": 1500},
	"gcp": {"encapsulations": ["IPIP", "VXLAN"], "modes": ["Always"], "mtu": 1460},
	"baremetal": {"encapsulations": ["IPIP", "VXLAN", "None"], "modes": ["Always", "CrossSubnet", "Never"], "mtu": 1500},
}

# ---- edits ---------------------------------------------------------------

_env_path := "/spec/template/spec/containers/0/env"

# with_env(ds, name, value) sets a literal env var on calico-node.
with_env(ds, name, value) := with_env_entry(ds, {"name": name, "value": value})

with_env_entry(ds, entry) := json.patch(ds, [{
	"op": "replace",
	"path": _env_path,
	"value": array.concat([e | some e in ds.spec.template.spec.containers[0].env; e.name != entry.name], [entry]),
}])

without_env(ds, name) := json.patch(ds, [{
	"op": "replace",
	"path": _env_path,
	"value": [e | some e in ds.spec.template.spec.containers[0].env; e.name != name],
}])

probes(ds, live, ready) := json.patch(ds, [
	{"op": "replace", "path": "/spec/template/spec/containers/0/livenessProbe/exec/command", "value": live},
	{"op": "replace", "path": "/spec/template/spec/containers/0/readinessProbe/exec/command", "value": ready},
])

# put(doc, path, value) adds or replaces one field (a JSON pointer).
put(doc, path, value) := json.patch(doc, [{"op": "add", "path": path, "value": value}])

remove(doc, path) := json.patch(doc, [{"op": "remove", "path": path}])

# msgs(results) is the set of messages of a rule's structured results.
msgs(results) := {r.msg | some r in results}
