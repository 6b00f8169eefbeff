# conftest's --combine (and netpack test --combine) gives every document at
# once: input is [{"path", "contents"}, ...]. The rules judge one object, so
# here each of them judges each document of the list, and the calico-config
# the list holds is the one they read, in place of the context's: a message
# then states the input's own values (a kustomize build of calico.yaml holds
# its calico_backend). Results come under deny_combined / warn_combined; each
# finding keeps its own "rule", and exceptions name the rule as usual.
#
# Run with both directories: netpack test --combine FILE -p policies
# -p policies-combine -d policies/data [-d ctx.yaml]. It lives outside
# policies/ because regopy crashes (SIGSEGV, every query) on a policy that
# evaluates a rule `with input as` another value; the OPA engines are fine.
#
# Cost: nothing for a single object. Both rules open with is_array(input),
# which the gate's pre-filter reads as a test of the document.
package main

import data.lib.calico

deny_combined contains f if {
	is_array(input)
	some doc in _documents
	found := _deny_for(doc)
	some f in _kept(found, doc)
}

warn_combined contains f if {
	is_array(input)
	some doc in _documents
	found := _warn_for(doc)
	some f in _kept(found, doc)
}

# _deny_rules and _warn_rules are every deny_/warn_ rule of package main by
# its exception name (a test keeps the list complete).
_deny_rules := {
	"backend_bgp": deny_backend_bgp,
	"bird_probes": deny_bird_probes,
	"block_size": deny_block_size,
	"block_size_pool": deny_block_size_pool,
	"cidr": deny_cidr,
	"cidr_host_bits": deny_cidr_host_bits,
	"cidr_invalid": deny_cidr_invalid,
	"cidr_link_local": deny_cidr_link_local,
	"cidr_service_overlap": deny_cidr_service_overlap,
	"cloud_encapsulation": deny_cloud_encapsulation,
	"cloud_mode": deny_cloud_mode,
	"cloud_unknown": deny_cloud_unknown,
	"context_missing": deny_context_missing,
	"encapsulation_both": deny_encapsulation_both,
	"encapsulation_mode": deny_encapsulation_mode,
	"etcd_endpoints": deny_etcd_endpoints,
	"etcd_secret_plaintext": deny_etcd_secret_plaintext,
	"image_unpinned": deny_image_unpinned,
	"key_material": deny_key_material,
	"kube_controllers_replicas": deny_kube_controllers_replicas,
	"kube_controllers_strategy": deny_kube_controllers_strategy,
	"mtu": deny_mtu,
	"mtu_invalid": deny_mtu_invalid,
	"no_default_pools": deny_no_default_pools,
	"node_host_network": deny_node_host_network,
	"node_priority_class": deny_node_priority_class,
	"node_tolerations": deny_node_tolerations,
	"node_update_strategy": deny_node_update_strategy,
}

_warn_rules := {"cloud_caveat": warn_cloud_caveat}

_documents := [d.contents | some d in input; is_object(d.contents)]

# _input_config is the data of the calico-config ConfigMap in the list.
_input_config := c.data if {
	some c in _documents
	c.kind == "ConfigMap"
	c.metadata.name == "calico-config"
	is_object(c.data)
}

# _deny_for(doc) and _warn_for(doc) are _deny_rules and _warn_rules for doc,
# with the list's calico-config when it holds one. (A rule set passed as an
# argument would already be evaluated for the whole list: `with` re-evaluates
# only what the expression names.)
_deny_for(doc) := found if {
	_input_config
	found := _deny_rules with input as doc
		with data.netpack.calico_config as _input_config
		with data.netpack.calico_config_from as "input"
} else := found if {
	found := _deny_rules with input as doc
}

_warn_for(doc) := found if {
	_input_config
	found := _warn_rules with input as doc
		with data.netpack.calico_config as _input_config
		with data.netpack.calico_config_from as "input"
} else := found if {
	found := _warn_rules with input as doc
}

# _kept(found, doc) is the findings of found that no exception for doc names.
_kept(found, doc) := {f |
	excepted := _excepted(doc)
	some name
	results := found[name]
	not name in excepted
	some f in results
}

_excepted(doc) := names if {
	names := {n | some row in data.main.exception; some n in row} with input as doc
}
