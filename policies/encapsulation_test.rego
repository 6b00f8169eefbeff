package main

import data.lib.fixtures

_modes(ipip, vxlan) := fixtures.with_env(fixtures.with_env(fixtures.calico_node, "CALICO_IPV4POOL_IPIP", ipip), "CALICO_IPV4POOL_VXLAN", vxlan)

test_encapsulation_both_denied if {
	fixtures.msgs(deny_encapsulation_both) == {"DaemonSet/calico-node: CALICO_IPV4POOL_IPIP is Always and CALICO_IPV4POOL_VXLAN is CrossSubnet, but a pool cannot use IPIP and VXLAN at once; set one of them to Never (calico.encapsulationType picks which)"} with input as _modes("Always", "cross-subnet")
}

test_encapsulation_one_passes if {
	count(deny_encapsulation_both) == 0 with input as fixtures.calico_node
	count(deny_encapsulation_both) == 0 with input as fixtures.calico_node_vxlan
	count(deny_encapsulation_both) == 0 with input as _modes("off", "")
}

test_encapsulation_mode_invalid_denied if {
	fixtures.msgs(deny_encapsulation_mode) == {"DaemonSet/calico-node: CALICO_IPV4POOL_IPIP \"Sometimes\" is not a pool mode; set calico.encapsulationMode to Always, CrossSubnet or Never"} with input as _modes("Sometimes", "Never")
}

test_encapsulation_mode_non_string_denied if {
	fixtures.msgs(deny_encapsulation_mode) == {"DaemonSet/calico-node: CALICO_IPV4POOL_VXLAN \"true\" is not a pool mode; set calico.encapsulationMode to Always, CrossSubnet or Never"} with input as _modes("Never", true)
}

test_encapsulation_mode_spellings_pass if {
	every pair in [["ALWAYS", "never"], ["Off", "CrossSubnet"], ["cross-subnet", "OFF"], ["", "always"]] {
		count(deny_encapsulation_mode) == 0 with input as _modes(pair[0], pair[1])
	}
}
