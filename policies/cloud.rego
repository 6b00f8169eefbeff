# Rule 1 (R19, R20) and rule 12: the pool's encapsulation and mode suit the
# cloud, per the table in data/clouds.yaml. Checked on the rendered
# calico-node env, which is what the first node to start turns into the
# default IPPool.
package main

import data.lib.calico
import data.lib.k8s

# A cluster whose cloud the table does not know would otherwise pass
# deny_cloud_encapsulation and deny_mtu without being checked.
deny_cloud_unknown contains msg if {
	calico.is_node
	is_string(calico.cloud)
	not calico.cloud_spec
	msg := k8s.value_finding("deny_cloud_unknown", "", "cloud", [
		"cloud ", calico.cloud,
		" is not in data.clouds; add it to policies/data/clouds.yaml or pass -d policies/data",
	])
}

deny_cloud_encapsulation contains msg if {
	calico.is_node
	allowed := calico.allowed_encapsulations
	some e in calico.encapsulations
	not e in allowed
	msg := k8s.value_finding("deny_cloud_encapsulation", calico.encap_field(e), "values.calico.encapsulationType", [
		_encapsulation_text[e], " is not supported on cloud ", calico.cloud, " (allowed: ",
		concat(", ", sort(allowed)), "); set ",
		concat(" or ", sort([_encapsulation_fix[a] | some a in allowed])),
	])
}

deny_cloud_mode contains msg if {
	calico.is_node
	allowed := calico.allowed_modes
	some e in calico.encapsulations
	e in calico.allowed_encapsulations
	m := calico.encap_mode(e)
	not m in allowed
	msg := k8s.value_finding("deny_cloud_mode", calico.encap_field(e), "values.calico.encapsulationMode", [
		e, " mode ", m, " is not supported on cloud ", calico.cloud, " (allowed: ",
		concat(", ", sort(allowed)), "); set calico.encapsulationMode to ",
		concat(" or ", sort(allowed)),
	])
}

warn_cloud_caveat contains msg if {
	calico.is_node
	some w in calico.cloud_spec.warnings
	is_string(w.message)
	some e in calico.encapsulations
	e in object.get(w, "encapsulations", [e])
	m := calico.encap_mode(e)
	m in object.get(w, "modes", [m])
	not _caveat_handled(w)
	msg := k8s.value_finding("warn_cloud_caveat", calico.encap_field(e), "values.calico.encapsulationMode", [e, " ", m, " on cloud ", calico.cloud, ": ", w.message])
}

# _caveat_handled(w): calico-node already carries the settings that address it.
_caveat_handled(w) if {
	count(w.unless_env) > 0
	every name, want in w.unless_env {
		is_string(want)
		lower(calico.env_value(name)) == lower(want)
	}
}

_encapsulation_text := {
	"IPIP": "IP-in-IP (CALICO_IPV4POOL_IPIP not Never)",
	"VXLAN": "VXLAN (CALICO_IPV4POOL_VXLAN not Never)",
	"None": "an unencapsulated pool (CALICO_IPV4POOL_IPIP and CALICO_IPV4POOL_VXLAN both Never)",
}

_encapsulation_fix := {
	"IPIP": "calico.encapsulationType to CALICO_IPV4POOL_IPIP",
	"VXLAN": "calico.encapsulationType to CALICO_IPV4POOL_VXLAN",
	"None": "calico.encapsulationMode to Never",
}
