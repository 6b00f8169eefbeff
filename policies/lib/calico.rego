# The calico-node DaemonSet, its pool settings, and the cluster context.
#
# Env entries are found by name, never by index: the KDD and etcd manifests
# put the same variables at different positions (CALICO.md §2).
# Context rules read data.netpack (netpack's context.yaml) and data.clouds
# (policies/data/clouds.yaml); with either absent they are undefined, so the
# rules that need them do not fire.
#
# Cost: everything here is derived from calico-node, so the rules that use it
# test `is_node` first: the gate's pre-filter reads its two literal tests as if
# written in place (README, "Writing rules"). What several rules read is a rule here, not
# a function, because OPA evaluates a rule once per document and a function
# at every call: node_env, ipip_mode, vxlan_mode, backend, pool_cidr, pool_block.
package lib.calico

import data.lib.cidr
import data.lib.k8s
import data.lib.num

ipip_var := "CALICO_IPV4POOL_IPIP"

vxlan_var := "CALICO_IPV4POOL_VXLAN"

cidr_var := "CALICO_IPV4POOL_CIDR"

backend_var := "CALICO_NETWORKING_BACKEND"

is_node if {
	input.kind == "DaemonSet"
	input.metadata.name == "calico-node"
}

# node_container is the container named calico-node, else the first one.
node_container := cs[i] if {
	is_node
	cs := input.spec.template.spec.containers
	i := _first_or_zero([j | cs[j].name == "calico-node"])
}

_first_or_zero(indices) := indices[0] if {
	count(indices) > 0
} else := 0

# node_env maps each env var name of calico-node to its entry. The kubelet
# lets the last duplicate win. Without duplicates (the usual case) one pass
# builds it; otherwise each name takes the last of its indices. Not
# max(indices): regopy's max, min and sort order numbers as text
# (max([5, 20]) is 5 there).
node_env := {e.name: e | some e in _env} if _unique_names

node_env := {name: _env[indices[count(indices) - 1]] |
	some name in {e.name | some e in _env}
	indices := [i | _env[i].name == name]
} if not _unique_names

_env := node_container.env

# _unique_names: the env is an array whose entries all have distinct names.
_unique_names if {
	is_array(_env)
	count({e.name | some e in _env}) == count(_env)
}

# env_entry(name) is the entry calico-node uses for the variable name.
env_entry(name) := node_env[name]

# env_set(name) holds when calico-node lists the variable at all.
env_set(name) if node_env[name]

# env_value(name) is the string value calico-node sees: the literal value,
# or the calico-config key a configMapKeyRef points at, taken from
# data.netpack.calico_config. Undefined when it cannot be known here.
#
# Mutually exclusive bodies are written as else branches throughout: OPA
# evaluates every body of a multi-body rule or function (to catch
# conflicting values), but stops at the first branch of an else chain that
# is defined.
env_value(name) := k8s.literal(object.get(e, "value", "")) if {
	e := node_env[name]
	not e.valueFrom
} else := k8s.literal(data.netpack.calico_config[key]) if {
	e := node_env[name]
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
	not node_env[var]
} else := _modes[lower(env_value(var))]

# ipip_mode and vxlan_mode are mode(ipip_var) and mode(vxlan_var).
ipip_mode := mode(ipip_var)

vxlan_mode := mode(vxlan_var)

# invalid_mode(var) is the raw value when calico-node would refuse it.
invalid_mode(var) := v if {
	v := env_value(var)
	not _modes[lower(v)]
}

# encap_var maps an encapsulation to the env var that switches it on.
encap_var := {"IPIP": ipip_var, "VXLAN": vxlan_var}

# encapsulations is what the default pool will use: "IPIP", "VXLAN", or
# "None" when both are Never. Both at once is invalid (R2) but reported as is.
encapsulations contains "IPIP" if ipip_mode != "Never"

encapsulations contains "VXLAN" if vxlan_mode != "Never"

encapsulations contains "None" if {
	ipip_mode == "Never"
	vxlan_mode == "Never"
}

# encap_mode(e) is the mode of encapsulation e; no encapsulation is "Never".
encap_mode("IPIP") := ipip_mode

encap_mode("VXLAN") := vxlan_mode

encap_mode("None") := "Never"

# overhead is the per-packet encapsulation cost in bytes (mtu.mdx).
overhead := {"IPIP": 20, "VXLAN": 50, "None": 0}

# backend is CALICO_NETWORKING_BACKEND as calico-node sees it (bird when
# unset or empty); undefined when it comes from a ConfigMap we cannot see.
backend := v if {
	v := _backend_env
	v != ""
} else := "bird" if {
	_backend_env == ""
} else := "bird" if {
	is_object(node_container)
	not node_env[backend_var]
}

_backend_env := env_value(backend_var)

# pool_env is env_value(cidr_var); pool_cidr is the explicit pool: ""
# counts as unset, as in startup.go (it then falls back to kubeadm's
# podSubnet or 192.168.0.0/16).
pool_env := env_value(cidr_var)

pool_cidr := v if {
	v := pool_env
	v != ""
}

# pool_block is pool_cidr parsed (lib.cidr.parse), undefined when it is not
# an IPv4 CIDR, and pool_bounds its address range (lib.cidr.bounds).
pool_block := cidr.parse(pool_cidr)

pool_bounds := cidr.bounds(pool_block)

# ---- cluster context (data.netpack) ------------------------------------

cloud := data.netpack.cluster.cloud if is_string(data.netpack.cluster.cloud)

# cloud_spec is this cluster's row of policies/data/clouds.yaml.
cloud_spec := data.clouds[lower(cloud)] if is_object(data.clouds[lower(cloud)])

# allowed(key) lists the strings of cloud_spec[key] (encapsulations, modes).
# The lookup stays outside the comprehension: regopy treats a function
# parameter used as a key inside one as unbound and iterates every key.
allowed(key) := [x | some x in values; is_string(x)] if values := cloud_spec[key]

# allowed_encapsulations and allowed_modes are allowed("encapsulations")
# and allowed("modes").
allowed_encapsulations := allowed("encapsulations")

allowed_modes := allowed("modes")

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

# service_cidrs are the IPv4 entries of serviceClusterIpRange, and
# service_blocks the same entries as [text, parsed block] pairs.
service_blocks := cidr.ipv4_blocks(data.netpack.cluster.kubernetes.serviceClusterIpRange)

service_cidrs := [entry[0] | some entry in service_blocks]

# calico_config is the rendered calico-config ConfigMap's data.
calico_config := data.netpack.calico_config if is_object(data.netpack.calico_config)

# config_in_input holds when calico_config is the input's own ConfigMap: the
# gate's render of one cluster (one stream) and a combined input (combine.rego)
# set data.netpack.calico_config_from to "input". Otherwise it came from a
# context file made for some cluster, which the input need not match.
config_in_input if data.netpack.calico_config_from == "input"

# config_note(var) is what a message adds after the value of env var var: where
# it came from when that is calico-config outside the input (a message never
# states, as the input's, a value the input does not hold); else nothing.
config_note(var) := config_source_note if {
	node_env[var].valueFrom.configMapKeyRef.name == "calico-config"
} else := ""

# config_source_note is config_note for a value read from calico_config itself.
config_source_note := "" if {
	config_in_input
} else := " (from data.netpack.calico_config, not from this input)"

# env_field(name) is the field path of calico-node's env var name, as a
# structured finding names it (lib.k8s.finding).
env_field(name) := concat("", ["spec.template.spec.containers[calico-node].env[", name, "]"])

# encap_field(e) is env_field of the variable that switches encapsulation e
# on; for "None" (both Never) the IP-in-IP one.
encap_field(e) := env_field(encap_var[e]) if {
	encap_var[e]
} else := env_field(ipip_var)
