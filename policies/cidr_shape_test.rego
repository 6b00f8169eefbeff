package main

import data.lib.cidr
import data.lib.fixtures

_with_cidr(value) := fixtures.with_env(fixtures.calico_node, "CALICO_IPV4POOL_CIDR", value)

test_cidr_invalid_denied if {
	fixtures.msgs(deny_cidr_invalid) == {"DaemonSet/calico-node: CALICO_IPV4POOL_CIDR 10.244.0.0 is not an IPv4 CIDR (a.b.c.d/n); set calico.calicoNetworkCIDR to the cluster's podCIDR"} with input as _with_cidr("10.244.0.0")
}

test_cidr_invalid_forms_denied if {
	every c in ["10.244.0.256/16", "010.244.0.0/16", "10.244.0.0/33", "10.244.0/16", "fd00::/48", " 10.244.0.0/16"] {
		count(deny_cidr_invalid) == 1 with input as _with_cidr(c)
	}
}

test_cidr_valid_passes if {
	count(deny_cidr_invalid) == 0 with input as fixtures.calico_node
}

test_cidr_none_skips_pool if {
	count(deny_cidr_invalid) == 0 with input as _with_cidr("none")
}

test_cidr_host_bits_denied if {
	fixtures.msgs(deny_cidr_host_bits) == {"DaemonSet/calico-node: CALICO_IPV4POOL_CIDR 10.244.1.0/16 has host bits set; use 10.244.0.0/16"} with input as _with_cidr("10.244.1.0/16")
}

test_cidr_masked_passes if {
	count(deny_cidr_host_bits) == 0 with input as _with_cidr("10.244.128.0/17")
}

test_cidr_link_local_denied if {
	fixtures.msgs(deny_cidr_link_local) == {"DaemonSet/calico-node: CALICO_IPV4POOL_CIDR 169.0.0.0/8 overlaps the link-local range 169.254.0.0/16; choose a pod CIDR outside it"} with input as _with_cidr("169.0.0.0/8")
}

test_cidr_next_to_link_local_passes if {
	count(deny_cidr_link_local) == 0 with input as _with_cidr("169.255.0.0/16")
}

test_cidr_service_overlap_denied if {
	fixtures.msgs(deny_cidr_service_overlap) == {"DaemonSet/calico-node: CALICO_IPV4POOL_CIDR 10.100.0.0/16 overlaps serviceClusterIpRange 10.96.0.0/12; pick a pod CIDR (calico.calicoNetworkCIDR and podCIDR) that is disjoint from it"} with input as _with_cidr("10.100.0.0/16")
		with data.netpack as fixtures.aws
}

test_cidr_adjacent_to_services_passes if {
	count(deny_cidr_service_overlap) == 0 with input as _with_cidr("10.112.0.0/12")
		with data.netpack as fixtures.aws
}

test_cidr_link_local_bounds_are_the_range if {
	_link_local_bounds == cidr.bounds(cidr.parse(_link_local))
}
