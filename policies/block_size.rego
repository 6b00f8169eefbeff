# Rule 6 (R3, R4): CALICO_IPV4POOL_BLOCK_SIZE (default 26) is 20..32, as
# startup.go validateBlockSize demands, and the pool holds at least one block.
package main

import data.lib.calico
import data.lib.cidr
import data.lib.k8s
import data.lib.num

_block_var := "CALICO_IPV4POOL_BLOCK_SIZE"

_block_default := 26

# _block_raw is the env value when set and non-empty.
_block_raw := v if {
	v := calico.env_value(_block_var)
	v != ""
}

_block_size := num.int(_block_raw) if {
	_block_raw
} else := _block_default if {
	is_object(calico.node_container)
	not _block_raw
	not _block_unknown
}

# _block_unknown: set through a ConfigMap netpack cannot see.
_block_unknown if {
	calico.env_set(_block_var)
	not calico.env_value(_block_var)
}

# The pool calico-node will create: the env var, else the cluster's podCIDR.
_pool := calico.pool_cidr if {
	calico.pool_cidr
} else := calico.pod_cidr

_pool_block := calico.pool_block if {
	calico.pool_cidr
} else := cidr.parse(calico.pod_cidr) if {
	not calico.pool_cidr
}

deny_block_size contains msg if {
	calico.is_node
	v := _block_raw
	not _block_size # with _block_raw set, _block_size is num.int(_block_raw)
	msg := k8s.value_finding("deny_block_size", calico.env_field(_block_var), "values.calico.blockSize", [
		_block_var, " ", v, " is not an integer; set it to a value from 20 to 32 (default 26)",
	])
}

deny_block_size contains msg if {
	calico.is_node
	n := _block_size
	not _in_range(n)
	msg := k8s.value_finding("deny_block_size", calico.env_field(_block_var), "values.calico.blockSize", [
		_block_var, " ", num.text(n),
		" is outside 20..32 and calico-node would exit; set it to a value from 20 to 32 (default 26)",
	])
}

deny_block_size_pool contains msg if {
	calico.is_node
	n := _block_size
	_in_range(n)
	pool := _pool_block
	pool.prefix > n
	msg := k8s.value_finding("deny_block_size_pool", calico.env_field(_block_var), "values.calico.blockSize", [
		"pool ", _pool, " (/", num.text(pool.prefix), ") is smaller than one /", num.text(n),
		" block; set ", _block_var, " to at least ", num.text(pool.prefix), " or widen the pool",
	])
}

_in_range(n) if {
	n >= 20
	n <= 32
}
