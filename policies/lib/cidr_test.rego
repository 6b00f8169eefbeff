# Tests of lib.cidr live in package main so `conftest verify` (namespace
# main by default) runs them with the rest.
package main

import data.lib.cidr

test_lib_cidr_parse if {
	cidr.parse("10.244.1.0/16") == {"octets": [10, 244, 1, 0], "prefix": 16, "network": [10, 244, 0, 0], "size": 65536}
	cidr.parse("0.0.0.0/0") == {"octets": [0, 0, 0, 0], "prefix": 0, "network": [0, 0, 0, 0], "size": 4294967296}
	cidr.parse("255.255.255.255/32").network == [255, 255, 255, 255]
	cidr.parse("192.168.255.255/20").network == [192, 168, 240, 0]
	cidr.parse("10.0.0.0/016").prefix == 16
}

test_lib_cidr_parse_rejects if {
	every s in ["", "10.0.0.0", "10.0.0.0/", "/8", "10.0.0/8", "10.0.0.0.0/8", "a.b.c.d/8", "1.2.3.4/-1", "10.0.0.0/8/8", "300.0.0.0/8"] {
		not cidr.valid(s)
	}
	not cidr.valid(42)
}

test_lib_cidr_masked if {
	cidr.masked("10.244.0.0/16")
	cidr.masked("0.0.0.0/0")
	cidr.masked("192.168.0.0/16")
	cidr.masked("255.255.255.255/32")
	not cidr.masked("10.244.0.1/16")
	not cidr.masked("11.0.0.0/7")
}

test_lib_cidr_canonical if {
	cidr.canonical("10.244.77.9/16") == "10.244.0.0/16"
	cidr.canonical("192.168.1.255/31") == "192.168.1.254/31"
	cidr.canonical("255.255.255.255/0") == "0.0.0.0/0"
}

test_lib_cidr_overlaps if {
	cidr.overlaps("10.96.0.0/12", "10.100.0.0/16")
	cidr.overlaps("10.100.0.0/16", "10.96.0.0/12")
	cidr.overlaps("0.0.0.0/0", "8.8.8.8/32")
	not cidr.overlaps("10.96.0.0/12", "10.112.0.0/12")
	not cidr.overlaps("10.244.0.0/16", "10.96.0.0/12")
	cidr.overlaps("192.168.0.0/16", "192.168.255.0/24")
	not cidr.overlaps("192.168.0.0/16", "192.169.0.0/16")
	cidr.overlaps("255.255.255.255/32", "128.0.0.0/1")
}

test_lib_cidr_same if {
	cidr.same("10.244.0.0/16", "10.244.0.0/16")
	not cidr.same("10.244.0.0/16", "10.244.0.0/17")
	cidr.same("not-a-cidr", "not-a-cidr")
}

test_lib_cidr_ipv4_entries if {
	cidr.ipv4_entries("fd00::/48, 10.244.0.0/16,10.245.0.0/16") == ["10.244.0.0/16", "10.245.0.0/16"]
	cidr.ipv4_entries("garbage") == []
}

test_lib_cidr_host_divisors if {
	every p in numbers.range(0, 32) {
		every k in numbers.range(0, 3) {
			cidr._host_divisors[p][k] == cidr._pow2[8 - _prefix_bits_in_octet(p - (8 * k))]
		}
	}
}

# _prefix_bits_in_octet(n): how many of an octet's 8 bits a prefix keeps when
# it reaches n bits into that octet.
_prefix_bits_in_octet(n) := 0 if {
	n < 0
} else := 8 if {
	n > 8
} else := n

test_lib_cidr_parse_prefix_lengths if {
	every p in numbers.range(0, 32) {
		cidr.parse(concat("", ["255.255.255.255/", format_int(p, 10)])).size == cidr._pow2[32 - p]
	}
	cidr.parse("10.0.0.0/0032").prefix == 32
	cidr.parse("10.0.0.0/000").prefix == 0
	every s in ["10.0.0.0/0033", "10.0.0.0/100", "10.0.0.0/8\n", "+10.0.0.0/8", "10.0.0.0/+8"] {
		not cidr.valid(s)
	}
}

test_lib_cidr_bounds if {
	cidr.bounds(cidr.parse("10.0.0.0/8")) == [167772160, 184549376]
	cidr.bounds(cidr.parse("10.244.1.0/16")) == [183762944, 183828480]
	cidr.bounds(cidr.parse("0.0.0.0/0")) == [0, 4294967296]
	cidr.ranges_overlap([0, 10], [9, 20])
	not cidr.ranges_overlap([0, 10], [10, 20])
	not cidr.ranges_overlap([10, 20], [0, 10])
}

test_lib_cidr_ipv4_blocks if {
	cidr.ipv4_blocks("fd00::/48, 10.96.0.0/12") == [["10.96.0.0/12", cidr.parse("10.96.0.0/12")]]
	cidr.ipv4_blocks("garbage") == []
	not cidr.ipv4_blocks(7)
}
