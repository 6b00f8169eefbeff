package main

import data.lib.fixtures

_no_context := {
	concat("", [
		"DaemonSet/calico-node: ", rule,
		" cannot be checked: data.netpack (the cluster context) is missing; make it with `netpack context CLUSTER_FILE > ctx.yaml` and pass -d ctx.yaml",
	]) |
		some rule in array.concat(context_rules, backend_rules)
}

# The fixture takes CALICO_NETWORKING_BACKEND from calico-config, as upstream does.
test_context_missing_denied_for_every_context_rule if {
	fixtures.msgs(deny_context_missing) == _no_context with input as fixtures.calico_node
}

test_context_missing_leaves_out_backend_rules_for_a_literal_backend if {
	ds := fixtures.with_env(fixtures.calico_node, "CALICO_NETWORKING_BACKEND", "vxlan")
	count(deny_context_missing) == count(context_rules) with input as ds
}

test_calico_config_missing_denied if {
	ds := fixtures.calico_node
	ctx := fixtures.remove(fixtures.aws, "/calico_config")
	fixtures.msgs(deny_context_missing) == {
		"DaemonSet/calico-node: deny_backend_bgp cannot be checked: CALICO_NETWORKING_BACKEND comes from calico-config, which data.netpack.calico_config does not hold; make it with `netpack context CLUSTER_FILE > ctx.yaml` and pass -d ctx.yaml",
		"DaemonSet/calico-node: deny_bird_probes cannot be checked: CALICO_NETWORKING_BACKEND comes from calico-config, which data.netpack.calico_config does not hold; make it with `netpack context CLUSTER_FILE > ctx.yaml` and pass -d ctx.yaml",
	} with input as ds with data.netpack as ctx
}

test_context_present_passes if {
	count(deny_context_missing) == 0 with input as fixtures.calico_node with data.netpack as fixtures.aws
}

test_context_missing_ignores_other_objects if {
	count(deny_context_missing) == 0 with input as fixtures.kube_controllers
}
