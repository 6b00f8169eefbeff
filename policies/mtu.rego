# Rule 11 (R21): the pod MTU fits inside the underlay after encapsulation.
# Too large a veth_mtu drops big packets across nodes while small ones pass
# (calico#7651, #8953, #12432).
#
# The limit is checked on the calico-node DaemonSet: its env says which
# encapsulation the pool really uses, and data.netpack.calico_config carries
# the rendered veth_mtu. A non-numeric veth_mtu is a fault of the ConfigMap
# itself and is reported there, with or without a cluster context.
package main

import data.lib.calico
import data.lib.k8s
import data.lib.num

deny_mtu contains msg if {
	calico.is_node
	veth_mtu := calico.calico_config.veth_mtu
	veth_mtu != "0" # auto-detect, the default: nothing to parse
	n := num.int(veth_mtu)
	n > 0
	underlay := calico.underlay_mtu
	some e in calico.encapsulations
	limit := underlay - calico.overhead[e]
	n > limit
	msg := k8s.value_finding("deny_mtu", "data.veth_mtu", "values.calico.mtu", [
		"calico-config veth_mtu ", num.text(n), calico.config_source_note, " is above ", num.text(limit), " (cloud ",
		calico.cloud, " underlay MTU ", num.text(underlay), " minus ", num.text(calico.overhead[e]),
		" bytes of ", _overhead_name[e], " overhead); set veth_mtu to ", num.text(limit),
		", or to \"0\" to auto-detect",
	])
}

deny_mtu_invalid contains msg if {
	input.kind == "ConfigMap"
	input.metadata.name == "calico-config"
	k8s.has_key(input.data, "veth_mtu")
	raw := k8s.literal(input.data.veth_mtu)
	not _mtu_number(raw)
	msg := k8s.value_finding("deny_mtu_invalid", "data.veth_mtu", "values.calico.mtu", [
		"veth_mtu ", k8s.quoted(raw),
		" is not a non-negative integer; set it to a number of bytes, or to \"0\" to auto-detect",
	])
}

_mtu_number(raw) if num.int(raw) >= 0

_overhead_name := {"IPIP": "IP-in-IP", "VXLAN": "VXLAN", "None": "no encapsulation"}
