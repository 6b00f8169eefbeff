# IPv4 CIDR arithmetic in plain Rego, the same on OPA and regopy.
#
# net.cidr_* is missing from regopy and silently undefined there, so a rule
# built on it would pass every input on that engine (CONFTEST.md §3.1).
# Masking is done octet by octet: regopy's % on integers above 2^31 can
# return a malformed zero ("00") that is not == 0. Whole addresses (integers
# below 2^32) are only added and compared, which both engines do exactly.
package lib.cidr

import data.lib.num

# _pow2[i] == 2^i for i in 0..32 (no pow builtin needed).
_pow2 := [
	1, 2, 4, 8, 16, 32, 64, 128,
	256, 512, 1024, 2048, 4096, 8192, 16384, 32768,
	65536, 131072, 262144, 524288, 1048576, 2097152, 4194304, 8388608,
	16777216, 33554432, 67108864, 134217728, 268435456, 536870912, 1073741824, 2147483648,
	4294967296,
]

# Go's net.ParseCIDR rejects leading zeros in octets ("010") but not in the
# prefix length ("/016"), so neither do we.
_octet_re := `^(0|[1-9][0-9]{0,2})$`

# parse(s) is {"octets", "prefix", "network", "size"} for an IPv4 CIDR
# string "a.b.c.d/p": the four octets as written, the prefix length, the
# network's octets (host bits cleared) and the number of addresses.
# Undefined when s is not one.
parse(s) := {"octets": octets, "prefix": prefix, "network": network, "size": _pow2[32 - prefix]} if {
	is_string(s)
	parts := split(s, "/")
	count(parts) == 2
	texts := split(parts[0], ".")
	count(texts) == 4
	every t in texts {
		regex.match(_octet_re, t)
	}
	octets := [to_number(t) | some t in texts]
	every o in octets {
		o <= 255
	}
	regex.match(`^[0-9]+$`, parts[1])
	prefix := num.int(parts[1])
	prefix <= 32
	network := [
		_clear(octets[0], prefix),
		_clear(octets[1], prefix - 8),
		_clear(octets[2], prefix - 16),
		_clear(octets[3], prefix - 24),
	]
}

# _clear(octet, bits) keeps the top `bits` bits of an octet (bits may fall
# outside 0..8: below 0 keeps none, above 8 keeps all).
_clear(octet, bits) := octet if bits >= 8

_clear(_, bits) := 0 if bits <= 0

_clear(octet, bits) := octet - (octet % _pow2[8 - bits]) if {
	bits > 0
	bits < 8
}

valid(s) if parse(s)

# masked(s): no host bits are set (libcalico-go's validator demands it of a pool).
masked(s) if {
	c := parse(s)
	c.octets == c.network
}

# canonical(s) is s with its host bits cleared, e.g. 10.244.1.0/16 -> 10.244.0.0/16.
canonical(s) := concat("", [
	concat(".", [format_int(o, 10) | some o in c.network]), "/", format_int(c.prefix, 10),
]) if {
	c := parse(s)
}

# _start(c) is the first address of a parsed block as an integer.
_start(c) := ((((c.network[0] * 256) + c.network[1]) * 256) + c.network[2]) * 256 + c.network[3]

# overlaps(a, b): the two blocks share at least one address.
overlaps(a, b) if {
	x := parse(a)
	y := parse(b)
	_start(x) < _start(y) + y.size
	_start(y) < _start(x) + x.size
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
ipv4_entries(s) := [e | some raw in split(s, ","); e := trim_space(raw); valid(e)] if is_string(s)
