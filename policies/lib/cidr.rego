# IPv4 CIDR arithmetic in plain Rego, the same on OPA and regopy.
#
# net.cidr_* is missing from regopy and silently undefined there, so a rule
# built on it would pass every input on that engine (CONFTEST.md §3.1).
# Masking is done octet by octet: regopy's % on integers above 2^31 can
# return a malformed zero ("00") that is not == 0. Whole addresses (integers
# below 2^32) are only added and compared, which both engines do exactly.
package lib.cidr

# _pow2[i] == 2^i for i in 0..32 (no pow builtin needed).
_pow2 := [
	1, 2, 4, 8, 16, 32, 64, 128,
	256, 512, 1024, 2048, 4096, 8192, 16384, 32768,
	65536, 131072, 262144, 524288, 1048576, 2097152, 4194304, 8388608,
	16777216, 33554432, 67108864, 134217728, 268435456, 536870912, 1073741824, 2147483648,
	4294967296,
]

# One pattern reads the whole CIDR: four octets without leading zeros (Go's
# net.ParseCIDR rejects "010") and the prefix length, whose leading zeros Go
# accepts ("/016"), so the group skips them. One regex call instead of a
# split, a match per octet and lib.num.int: a parse is on the hot path of
# every calico-node DaemonSet.
_cidr_re := `^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})/0*([0-9]{1,2})$`

# parse(s) is {"octets", "prefix", "network", "size"} for an IPv4 CIDR
# string "a.b.c.d/p": the four octets as written, the prefix length, the
# network's octets (host bits cleared) and the number of addresses.
# Undefined when s is not one.
parse(s) := {"octets": octets, "prefix": prefix, "network": network, "size": _pow2[32 - prefix]} if {
	is_string(s)
	[[_, a, b, c, d, p]] := regex.find_all_string_submatch_n(_cidr_re, s, 1)
	octets := [to_number(a), to_number(b), to_number(c), to_number(d)]
	octets[0] <= 255
	octets[1] <= 255
	octets[2] <= 255
	octets[3] <= 255
	prefix := to_number(p)
	prefix <= 32
	m := _host_divisors[prefix]
	network := [
		octets[0] - (octets[0] % m[0]),
		octets[1] - (octets[1] % m[1]),
		octets[2] - (octets[2] % m[2]),
		octets[3] - (octets[3] % m[3]),
	]
}

# _host_divisors[p] holds, per octet, 2^(host bits of that octet) for prefix
# length p: octet - (octet % divisor) clears them. Small operands only, so
# regopy's % stays exact.
_host_divisors := [
	[256, 256, 256, 256], [128, 256, 256, 256], [64, 256, 256, 256], [32, 256, 256, 256],
	[16, 256, 256, 256], [8, 256, 256, 256], [4, 256, 256, 256], [2, 256, 256, 256],
	[1, 256, 256, 256], [1, 128, 256, 256], [1, 64, 256, 256], [1, 32, 256, 256],
	[1, 16, 256, 256], [1, 8, 256, 256], [1, 4, 256, 256], [1, 2, 256, 256],
	[1, 1, 256, 256], [1, 1, 128, 256], [1, 1, 64, 256], [1, 1, 32, 256],
	[1, 1, 16, 256], [1, 1, 8, 256], [1, 1, 4, 256], [1, 1, 2, 256],
	[1, 1, 1, 256], [1, 1, 1, 128], [1, 1, 1, 64], [1, 1, 1, 32],
	[1, 1, 1, 16], [1, 1, 1, 8], [1, 1, 1, 4], [1, 1, 1, 2],
	[1, 1, 1, 1],
]

valid(s) if parse(s)

# masked(s): no host bits are set (libcalico-go's validator demands it of a pool).
masked(s) if {
	c := parse(s)
	c.octets == c.network
}

# canonical(s) is s with its host bits cleared, e.g. 10.244.1.0/16 -> 10.244.0.0/16.
canonical(s) := text(parse(s))

# text(c) writes a parsed block as a masked CIDR string. The lookup stays
# outside the comprehension (README, "Engine portability").
text(c) := concat("", [concat(".", [format_int(o, 10) | some o in network]), "/", format_int(c.prefix, 10)]) if {
	network := c.network
}

# _start(c) is the first address of a parsed block as an integer.
_start(c) := ((((c.network[0] * 256) + c.network[1]) * 256) + c.network[2]) * 256 + c.network[3]

# overlaps(a, b): the two blocks share at least one address.
overlaps(a, b) if ranges_overlap(bounds(parse(a)), bounds(parse(b)))

# bounds(c) is [first address, first address after] of a parsed block, as
# integers, so that a rule comparing one pool with several ranges parses and
# sums it once.
bounds(c) := [start, start + c.size] if start := _start(c)

# ranges_overlap(x, y): two bounds share at least one address.
ranges_overlap(x, y) if {
	x[0] < y[1]
	y[0] < x[1]
}

# same(a, b): both name the same block, written identically or not.
same(a, b) if a == b

same(a, b) if {
	x := parse(a)
	y := parse(b)
	x.octets == y.octets
	x.prefix == y.prefix
}

# ipv4_entries(s) are the IPv4 CIDRs of a comma-separated list
# ("10.244.0.0/16,fd00::/48" in a dual-stack cluster), in list order.
ipv4_entries(s) := [entry[0] | some entry in blocks] if blocks := ipv4_blocks(s)

# ipv4_blocks(s) are those entries as [text, parsed block] pairs, so that a
# caller comparing them with a pool does not parse them again.
ipv4_blocks(s) := [[e, c] | some raw in split(s, ","); e := trim_space(raw); c := parse(e)] if is_string(s)
