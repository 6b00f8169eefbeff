package main

import data.lib.fixtures

test_no_default_pools_with_cidr_denied if {
	ds := fixtures.with_env(fixtures.calico_node, "NO_DEFAULT_POOLS", "True")
	fixtures.msgs(deny_no_default_pools) == {"DaemonSet/calico-node: NO_DEFAULT_POOLS is true and CALICO_IPV4POOL_CIDR is set, which makes calico-node exit; remove CALICO_IPV4POOL_CIDR (pools managed as IPPool resources) or remove NO_DEFAULT_POOLS"} with input as ds
}

test_no_default_pools_without_cidr_passes if {
	ds := fixtures.without_env(fixtures.with_env(fixtures.calico_node, "NO_DEFAULT_POOLS", "true"), "CALICO_IPV4POOL_CIDR")
	count(deny_no_default_pools) == 0 with input as ds
}

test_default_pools_with_cidr_passes if {
	count(deny_no_default_pools) == 0 with input as fixtures.calico_node
	count(deny_no_default_pools) == 0 with input as fixtures.with_env(fixtures.calico_node, "NO_DEFAULT_POOLS", "false")
}
