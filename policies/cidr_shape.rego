# Rule 7 (R5): the pool CIDR is a usable IPv4 network. libcalico-go's
# validator rejects unparsable or unmasked pools and pools overlapping
# 169.254.0.0/16; a pool overlapping the service range breaks Services.
package main

import data.lib.calico
import data.lib.cidr
import data.lib.k8s

_link_local := "169.254.0.0/16"

# _link_local_bounds is cidr.bounds(cidr.parse(_link_local)), written out:
# it is the same for every document (cidr_shape_test.rego checks the two agree).
_link_local_bounds := [2851995648, 2852061184]

# "none" is calico-node's documented way to skip the IPv4 pool.
_pool_to_check := c if {
	c := calico.pool_cidr
	c != "none"
}

deny_cidr_invalid contains msg if {
	calico.is_node
	c := _pool_to_check
	not calico.pool_block
	msg := k8s.value_finding("deny_cidr_invalid", calico.env_field(calico.cidr_var), "values.calico.calicoNetworkCIDR", [
		calico.cidr_var, " ", c,
		" is not an IPv4 CIDR (a.b.c.d/n); set calico.calicoNetworkCIDR to the cluster's podCIDR",
	])
}

deny_cidr_host_bits contains msg if {
	calico.is_node
	c := _pool_to_check
	pool := calico.pool_block
	pool.octets != pool.network
	msg := k8s.value_finding("deny_cidr_host_bits", calico.env_field(calico.cidr_var), "values.calico.calicoNetworkCIDR", [calico.cidr_var, " ", c, " has host bits set; use ", cidr.text(pool)])
}

deny_cidr_link_local contains msg if {
	calico.is_node
	c := _pool_to_check
	cidr.ranges_overlap(calico.pool_bounds, _link_local_bounds)
	msg := k8s.value_finding("deny_cidr_link_local", calico.env_field(calico.cidr_var), "values.calico.calicoNetworkCIDR", [
		calico.cidr_var, " ", c, " overlaps the link-local range ", _link_local,
		"; choose a pod CIDR outside it",
	])
}

deny_cidr_service_overlap contains msg if {
	calico.is_node
	c := _pool_to_check
	pool := calico.pool_bounds
	some [svc, block] in calico.service_blocks
	cidr.ranges_overlap(pool, cidr.bounds(block))
	msg := k8s.value_finding("deny_cidr_service_overlap", calico.env_field(calico.cidr_var), "values.calico.calicoNetworkCIDR", [
		calico.cidr_var, " ", c, " overlaps serviceClusterIpRange ", svc,
		"; pick a pod CIDR (calico.calicoNetworkCIDR and podCIDR) that is disjoint from it",
	])
}
