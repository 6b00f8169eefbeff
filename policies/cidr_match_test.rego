package main

import data.lib.fixtures

_with_cidr(value) := fixtures.with_env(fixtures.calico_node, "CALICO_IPV4POOL_CIDR", value)

test_cidr_mismatch_denied if {
	fixtures.msgs(deny_cidr) == {"DaemonSet/calico-node: CALICO_IPV4POOL_CIDR 192.168.0.0/16 does not match podCIDR 10.244.0.0/16; set calico.calicoNetworkCIDR to 10.244.0.0/16"} with input as _with_cidr("192.168.0.0/16")
		with data.netpack as fixtures.aws
}

test_cidr_equal_passes if {
	count(deny_cidr) == 0 with input as fixtures.calico_node with data.netpack as fixtures.aws
}

test_cidr_dual_stack_pod_cidr_passes if {
	ctx := fixtures.put(fixtures.aws, "/cluster/kubernetes/podCIDR", "fd00:10:244::/56, 10.244.0.0/16")
	count(deny_cidr) == 0 with input as fixtures.calico_node with data.netpack as ctx
}

# A subnet of the pod CIDR is enough for the operator, not for Spectro's rule.
test_cidr_subnet_of_pod_cidr_denied if {
	count(deny_cidr) == 1 with input as _with_cidr("10.244.0.0/17") with data.netpack as fixtures.aws
}

test_cidr_missing_denied if {
	ds := fixtures.without_env(fixtures.calico_node, "CALICO_IPV4POOL_CIDR")
	fixtures.msgs(deny_cidr) == {"DaemonSet/calico-node: CALICO_IPV4POOL_CIDR is not set, so calico-node picks the pool itself; set calico.calicoNetworkCIDR to 10.244.0.0/16"} with input as ds
		with data.netpack as fixtures.aws
}

test_cidr_empty_denied if {
	fixtures.msgs(deny_cidr) == {"DaemonSet/calico-node: CALICO_IPV4POOL_CIDR is empty, so calico-node picks the pool itself; set calico.calicoNetworkCIDR to 10.244.0.0/16"} with input as _with_cidr("")
		with data.netpack as fixtures.aws
}

test_cidr_unresolvable_value_from_denied if {
	ds := fixtures.with_env_entry(fixtures.calico_node, {"name": "CALICO_IPV4POOL_CIDR", "valueFrom": {"configMapKeyRef": {"name": "cluster-info", "key": "pods"}}})
	fixtures.msgs(deny_cidr) == {"DaemonSet/calico-node: CALICO_IPV4POOL_CIDR comes from a valueFrom netpack cannot resolve; set it as a literal value via calico.calicoNetworkCIDR 10.244.0.0/16"} with input as ds
		with data.netpack as fixtures.aws
}

test_cidr_from_calico_config_passes if {
	ds := fixtures.with_env_entry(fixtures.calico_node, {"name": "CALICO_IPV4POOL_CIDR", "valueFrom": {"configMapKeyRef": {"name": "calico-config", "key": "pool_cidr"}}})
	ctx := fixtures.put(fixtures.aws, "/calico_config/pool_cidr", "10.244.0.0/16")
	count(deny_cidr) == 0 with input as ds with data.netpack as ctx
}

test_cidr_needs_context if {
	ds := fixtures.without_env(fixtures.calico_node, "CALICO_IPV4POOL_CIDR")
	count(deny_cidr) == 0 with input as ds with data.netpack as {}
}
