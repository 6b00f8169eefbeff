# Rule 4 (R7): IP-in-IP and unencapsulated pools route over BGP, so they need
# the bird backend. With calico_backend vxlan or none nothing programs those
# routes and cross-node pod traffic is dropped (operator installation
# validation: "IPIP encapsulation requires that BGP is enabled").
package main

import data.lib.calico
import data.lib.k8s

deny_backend_bgp contains msg if {
	calico.is_node
	calico.backend != "bird"
	"IPIP" in calico.encapsulations
	msg := k8s.value_finding("deny_backend_bgp", calico.env_field(calico.ipip_var), "values.calico.encapsulationType", [
		calico.ipip_var, " ", calico.ipip_mode, " needs BGP but calico_backend is ", calico.backend,
		calico.config_note(calico.backend_var),
		"; set calico_backend to bird, or switch to VXLAN (calico.encapsulationType CALICO_IPV4POOL_VXLAN)",
	])
}

deny_backend_bgp contains msg if {
	calico.is_node
	calico.backend != "bird"
	"None" in calico.encapsulations
	msg := k8s.value_finding("deny_backend_bgp", calico.env_field(calico.ipip_var), "values.calico.encapsulationType", [
		"an unencapsulated pool (", calico.ipip_var, " and ", calico.vxlan_var,
		" both Never) needs BGP routes but calico_backend is ", calico.backend,
		calico.config_note(calico.backend_var),
		"; set calico_backend to bird, or enable VXLAN",
	])
}
