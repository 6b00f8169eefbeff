# Rule 3 (R1, R2): the pool's IPIP and VXLAN modes are values calico-node
# accepts, and at most one of them is on. calico-node terminates at start-up
# otherwise (startup.go createIPPool; libcalico-go validateIPPoolSpec).
package main

import data.lib.calico
import data.lib.k8s

deny_encapsulation_both contains msg if {
	calico.is_node
	calico.ipip_mode != "Never"
	calico.vxlan_mode != "Never"
	msg := k8s.value_finding("deny_encapsulation_both", calico.env_field(calico.vxlan_var), "values.calico.encapsulationType", [
		calico.ipip_var, " is ", calico.ipip_mode, " and ", calico.vxlan_var, " is ",
		calico.vxlan_mode,
		", but a pool cannot use IPIP and VXLAN at once; set one of them to Never (calico.encapsulationType picks which)",
	])
}

deny_encapsulation_mode contains msg if {
	calico.is_node
	some var in [calico.ipip_var, calico.vxlan_var]
	v := calico.invalid_mode(var)
	msg := k8s.value_finding("deny_encapsulation_mode", calico.env_field(var), "values.calico.encapsulationMode", [
		var, " ", k8s.quoted(v),
		" is not a pool mode; set calico.encapsulationMode to Always, CrossSubnet or Never",
	])
}
