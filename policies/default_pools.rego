# Rule 14 (R18): calico-node exits when NO_DEFAULT_POOLS=true comes with a
# pool CIDR ("Invalid configuration with NO_DEFAULT_POOLS defined and
# CALICO_IPV4POOL_CIDR or CALICO_IPV6POOL_CIDR defined", startup.go).
package main

import data.lib.calico
import data.lib.k8s

deny_no_default_pools contains msg if {
	calico.is_node
	lower(calico.env_value("NO_DEFAULT_POOLS")) == "true"
	some var in ["CALICO_IPV4POOL_CIDR", "CALICO_IPV6POOL_CIDR"]
	calico.env_value(var) != ""
	msg := k8s.finding("deny_no_default_pools", calico.env_field("NO_DEFAULT_POOLS"), [
		"NO_DEFAULT_POOLS is true and ", var, " is set, which makes calico-node exit; remove ", var,
		" (pools managed as IPPool resources) or remove NO_DEFAULT_POOLS",
	])
}
