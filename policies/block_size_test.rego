package main

import data.lib.fixtures

_block(size) := fixtures.with_env(fixtures.calico_node, "CALICO_IPV4POOL_BLOCK_SIZE", size)

test_block_size_out_of_range_denied if {
	fixtures.msgs(deny_block_size) == {"DaemonSet/calico-node: CALICO_IPV4POOL_BLOCK_SIZE 19 is outside 20..32 and calico-node would exit; set it to a value from 20 to 32 (default 26)"} with input as _block("19")
	count(deny_block_size) == 1 with input as _block("33")
}

test_block_size_not_integer_denied if {
	fixtures.msgs(deny_block_size) == {"DaemonSet/calico-node: CALICO_IPV4POOL_BLOCK_SIZE 26.5 is not an integer; set it to a value from 20 to 32 (default 26)"} with input as _block("26.5")
}

test_block_size_atoi_forms_pass if {
	every v in ["20", "32", "026", "+26", 24] {
		count(deny_block_size) == 0 with input as _block(v)
	}
}

test_block_size_default_passes if {
	count(deny_block_size) == 0 with input as fixtures.calico_node
	count(deny_block_size) == 0 with input as _block("")
}

test_block_size_pool_too_small_denied if {
	ds := fixtures.with_env(fixtures.calico_node, "CALICO_IPV4POOL_CIDR", "10.0.0.0/27")
	fixtures.msgs(deny_block_size_pool) == {"DaemonSet/calico-node: pool 10.0.0.0/27 (/27) is smaller than one /26 block; set CALICO_IPV4POOL_BLOCK_SIZE to at least 27 or widen the pool"} with input as ds
}

test_block_size_pool_from_context_denied if {
	ds := fixtures.without_env(_block("24"), "CALICO_IPV4POOL_CIDR")
	ctx := fixtures.put(fixtures.aws, "/cluster/kubernetes/podCIDR", "10.244.0.0/25")
	fixtures.msgs(deny_block_size_pool) == {"DaemonSet/calico-node: pool 10.244.0.0/25 (/25) is smaller than one /24 block; set CALICO_IPV4POOL_BLOCK_SIZE to at least 25 or widen the pool"} with input as ds
		with data.netpack as ctx
}

test_block_size_pool_fits_passes if {
	ds := fixtures.with_env(_block("28"), "CALICO_IPV4POOL_CIDR", "10.0.0.0/27")
	count(deny_block_size_pool) == 0 with input as ds
	count(deny_block_size_pool) == 0 with input as fixtures.calico_node
}
