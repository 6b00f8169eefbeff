# The calico-node DaemonSet, its pool settings, and the cluster context.
#
# Env entries are found by name, never by index: the KDD and etcd manifests
# put the same variables at different positions (CALICO.md §2).
# Context rules read data.netpack (netpack's context.yaml) and data.clouds
# (policies/data/clouds.yaml); with either absent they are undefined, so the
# rules that need them do not fire.
package lib.calico

import data.lib.cidr
import data.lib.k8s
import data.lib.num

ipip_var := "CALICO_IPV4POOL_IPIP"

vxlan_var := "CALICO_IPV4POOL_VXLAN"

cidr_var := "CALICO_IPV4POOL_CIDR"

backend_var := "CALICO_NETWORKING_BACKEND"

is_node if k8s.is_object_named("DaemonSet", "calico-node")

# node_container is the container named calico-node, else the first one.
node_container := cs[i] if {
	is_node
	cs := input.spec.template.spec.containers
	i := _first_or_zero([j | cs[j].name == "calico-node"])
}

_first_or_zero(indices) := indices[0] if {
	count(indices) > 0
} else := 0

# env_entry(name) is the last env entry called name (the kubelet lets the
# last duplicate win). Not max(indices): regopy's max, min and sort order
# numbers as text (max([5, 20]) is 5 there).
env_entry(name) := env[indices[count(indices) - 1]] if {
	env := node_container.env
	indices := [i | env[i].name == name]
	count(indices) > 0
}

# env_set(name) holds when calico-node lists the variable at all.
env_set(name) if env_entry(name)

# env_value(name) is the string value calico-node sees: the literal value,
# or the calico-config key a configMapKeyRef points at, taken from
# data.netpack.calico_config. Undefined when it cannot be known here.
env_value(name) := k8s.literal(object.get(e, "value", "")) if {
	e := env_entry(name)
	not e.valueFrom
}

env_value(name) := k8s.literal(data.netpack.calico_config[key]) if {
	e := env_entry(name)
	e.valueFrom.configMapKeyRef.name == "calico-config"
	key := e.valueFrom.configMapKeyRef.key
}

# Mode strings as node/pkg/lifecycle/startup/startup.go createIPPool reads
# them: case-insensitive, "" and "off" mean Never, anything else is fatal.
_modes := {
	"": "Never",
	"off": "Never",
	"never": "Never",
	"crosssubnet": "CrossSubnet",
	"cross-subnet": "CrossSubnet",
	"always": "Always",
}

# mode(var) is the normalised mode of a pool env var; unset means Never.
mode(var) := "Never" if {
	is_object(node_container)
	not env_set(var)
}

mode(var) := _modes[lower(env_value(var))]

# invalid_mode(var) is the raw value when calico-node would refuse it.
invalid_mode(var) := v if {
	v := env_value(var)
	not _modes[lower(v)]
}

# encap_var maps an encapsulation to the env var that switches it on.
encap_var := {"IPIP": ipip_var, "VXLAN": vxlan_var}

# encapsulations is what the default pool will use: "IPIP", "VXLAN", or
# "None" when both are Never. Both at once is invalid (R2) but reported as is.
encapsulations contains e if {
	some e, var in encap_var
	mode(var) != "Never"
}

encapsulations contains "None" if {
	mode(ipip_var) == "Never"
	mode(vxlan_var) == "Never"
}

# encap_mode(e) is the mode of encapsulation e; no encapsulation is "Never".
encap_mode(e) := mode(encap_var[e])

encap_mode("None") := "Never"

# overhead is the per-packet encapsulation cost in bytes (mtu.mdx).
overhead := {"IPIP": 20, "VXLAN": 50, "None": 0}

# backend is CALICO_NETWORKING_BACKEND as calico-node sees it (bird when
# unset or empty); undefined when it comes from a ConfigMap we cannot see.
backend := v if {
	v := env_value(backend_var)
	v != ""
}

backend := "bird" if env_value(backend_var) == ""

backend := "bird" if {
	is_object(node_container)
	not env_set(backend_var)
}

# pool_cidr is the explicit CALICO_IPV4POOL_CIDR; "" counts as unset, as in
# startup.go (it then falls back to kubeadm's podSubnet or 192.168.0.0/16).
pool_cidr := v if {
	v := env_value(cidr_var)
	v != ""
}

# ---- cluster context (data.netpack) ------------------------------------

cloud := data.netpack.cluster.cloud if is_string(data.netpack.cluster.cloud)

# cloud_spec is this cluster's row of policies/data/clouds.yaml.
cloud_spec := data.clouds[lower(cloud)] if is_object(data.clouds[lower(cloud)])

# allowed(key) lists the strings of cloud_spec[key] (encapsulations, modes).
# The lookup stays outside the comprehension: regopy treats a function
# parameter used as a key inside one as unbound and iterates every key.
allowed(key) := [x | some x in values; is_string(x)] if values := cloud_spec[key]

# underlay_mtu is the cloud's network MTU from the table.
underlay_mtu := num.int(cloud_spec.mtu)

# pod_cidr is the IPv4 pod CIDR of the Kubernetes layer: the first IPv4
# entry of podCIDR, or the raw string when no entry parses (so a typo there
# still shows up as a mismatch instead of passing).
pod_cidr := _first_ipv4_or_raw(data.netpack.cluster.kubernetes.podCIDR)

_first_ipv4_or_raw(s) := entries[0] if {
	entries := cidr.ipv4_entries(s)
	count(entries) > 0
} else := trim_space(s) if {
	is_string(s)
	trim_space(s) != ""
}

# service_cidrs are the IPv4 entries of serviceClusterIpRange.
service_cidrs := cidr.ipv4_entries(data.netpack.cluster.kubernetes.serviceClusterIpRange)

# calico_config is the rendered calico-config ConfigMap's data.
calico_config := data.netpack.calico_config if is_object(data.netpack.calico_config)
