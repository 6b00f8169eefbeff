package main

import data.lib.fixtures

_unencapsulated := fixtures.with_env(fixtures.calico_node, "CALICO_IPV4POOL_IPIP", "Never")

test_backend_ipip_without_bgp_denied if {
	fixtures.msgs(deny_backend_bgp) == {"DaemonSet/calico-node: CALICO_IPV4POOL_IPIP Always needs BGP but calico_backend is vxlan; set calico_backend to bird, or switch to VXLAN (calico.encapsulationType CALICO_IPV4POOL_VXLAN)"} with input as fixtures.calico_node
		with data.netpack as fixtures.context("aws", "vxlan")
}

test_backend_unencapsulated_without_bgp_denied if {
	fixtures.msgs(deny_backend_bgp) == {"DaemonSet/calico-node: an unencapsulated pool (CALICO_IPV4POOL_IPIP and CALICO_IPV4POOL_VXLAN both Never) needs BGP routes but calico_backend is none; set calico_backend to bird, or enable VXLAN"} with input as _unencapsulated
		with data.netpack as fixtures.context("baremetal", "none")
}

test_backend_literal_env_denied_without_context if {
	ds := fixtures.with_env(fixtures.calico_node, "CALICO_NETWORKING_BACKEND", "vxlan")
	count(deny_backend_bgp) == 1 with input as ds
}

test_backend_vxlan_pool_passes if {
	count(deny_backend_bgp) == 0 with input as fixtures.calico_node_vxlan with data.netpack as fixtures.azure
}

test_backend_bird_passes if {
	count(deny_backend_bgp) == 0 with input as fixtures.calico_node with data.netpack as fixtures.aws
	count(deny_backend_bgp) == 0 with input as fixtures.without_env(fixtures.calico_node, "CALICO_NETWORKING_BACKEND")
}

test_backend_unknown_without_context if {
	count(deny_backend_bgp) == 0 with input as fixtures.calico_node with data.netpack as {}
}
