# Missing context is never a silent pass. The rules listed here judge
# calico-node against the cluster context (data.netpack, which
# `netpack context CLUSTER_FILE` writes); without it they cannot fire, so a
# wrong pool CIDR would pass unseen. Each of them fails here instead, naming
# the data document that is missing and how to make it.
package main

import data.lib.calico
import data.lib.k8s

# The rules that read data.netpack.cluster (the "Ctx yes" rows of the rule
# catalog in README.md; a test keeps both lists equal).
context_rules := [
	"deny_cidr",
	"deny_cidr_service_overlap",
	"deny_cloud_encapsulation",
	"deny_cloud_mode",
	"deny_cloud_unknown",
	"deny_mtu",
	"warn_cloud_caveat",
]

# The rules that need calico-config's calico_backend when calico-node takes
# CALICO_NETWORKING_BACKEND from it (configMapKeyRef), as upstream does.
backend_rules := ["deny_backend_bgp", "deny_bird_probes"]

_make := "; make it with `netpack context CLUSTER_FILE > ctx.yaml` and pass -d ctx.yaml"

deny_context_missing contains f if {
	calico.is_node
	not _has_cluster
	some rule in array.concat(context_rules, _backend_unknown)
	f := k8s.finding("deny_context_missing", "", [
		rule, " cannot be checked: data.netpack (the cluster context) is missing", _make,
	])
}

deny_context_missing contains f if {
	calico.is_node
	_has_cluster
	not calico.calico_config
	some rule in _backend_unknown
	f := k8s.finding("deny_context_missing", calico.env_field(calico.backend_var), [
		rule, " cannot be checked: ", calico.backend_var,
		" comes from calico-config, which data.netpack.calico_config does not hold", _make,
	])
}

# _has_cluster: data.netpack holds a cluster. (`not is_object(x)` with x
# undefined is undefined in OPA, not true, so the test is a rule.)
_has_cluster if is_object(data.netpack.cluster)

# _backend_unknown lists backend_rules when calico-node's backend cannot be
# known from the document alone.
_backend_unknown := backend_rules if {
	is_object(calico.node_container)
	not calico.backend
} else := []
