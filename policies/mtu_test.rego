package main

import data.lib.fixtures

_mtu(ctx, value) := fixtures.put(ctx, "/calico_config/veth_mtu", value)

test_mtu_above_ipip_limit_denied if {
	fixtures.msgs(deny_mtu) == {"DaemonSet/calico-node: calico-config veth_mtu 9001 is above 8981 (cloud aws underlay MTU 9001 minus 20 bytes of IP-in-IP overhead); set veth_mtu to 8981, or to \"0\" to auto-detect"} with input as fixtures.calico_node
		with data.netpack as _mtu(fixtures.aws, "9001")
		with data.clouds as fixtures.clouds
}

test_mtu_above_vxlan_limit_denied if {
	fixtures.msgs(deny_mtu) == {"DaemonSet/calico-node: calico-config veth_mtu 1480 is above 1450 (cloud azure underlay MTU 1500 minus 50 bytes of VXLAN overhead); set veth_mtu to 1450, or to \"0\" to auto-detect"} with input as fixtures.calico_node_vxlan
		with data.netpack as _mtu(fixtures.azure, "1480")
		with data.clouds as fixtures.clouds
}

test_mtu_within_limit_passes if {
	count(deny_mtu) == 0 with input as fixtures.calico_node
		with data.netpack as _mtu(fixtures.aws, "8981")
		with data.clouds as fixtures.clouds
	count(deny_mtu) == 0 with input as fixtures.calico_node_vxlan
		with data.netpack as _mtu(fixtures.azure, "1450")
		with data.clouds as fixtures.clouds
}

test_mtu_unencapsulated_uses_full_underlay if {
	ds := fixtures.with_env(fixtures.calico_node, "CALICO_IPV4POOL_IPIP", "Never")
	count(deny_mtu) == 0 with input as ds
		with data.netpack as _mtu(fixtures.baremetal, "1500")
		with data.clouds as fixtures.clouds
	count(deny_mtu) == 1 with input as ds
		with data.netpack as _mtu(fixtures.baremetal, "1501")
		with data.clouds as fixtures.clouds
}

test_mtu_auto_passes if {
	count(deny_mtu) == 0 with input as fixtures.calico_node
		with data.netpack as fixtures.aws
		with data.clouds as fixtures.clouds
}

test_mtu_invalid_denied if {
	cm := fixtures.put(fixtures.calico_config, "/data/veth_mtu", "auto")
	fixtures.msgs(deny_mtu_invalid) == {"ConfigMap/calico-config: veth_mtu \"auto\" is not a non-negative integer; set it to a number of bytes, or to \"0\" to auto-detect"} with input as cm
	count(deny_mtu_invalid) == 1 with input as fixtures.put(fixtures.calico_config, "/data/veth_mtu", "-1")
	count(deny_mtu_invalid) == 1 with input as fixtures.put(fixtures.calico_config, "/data/veth_mtu", "")
}

test_mtu_numeric_passes if {
	count(deny_mtu_invalid) == 0 with input as fixtures.calico_config
	count(deny_mtu_invalid) == 0 with input as fixtures.put(fixtures.calico_config, "/data/veth_mtu", "1440")
	count(deny_mtu_invalid) == 0 with input as fixtures.put(fixtures.calico_config, "/data/veth_mtu", 1440)
}
