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
