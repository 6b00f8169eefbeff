# Rule 2 (R6): the default pool is the cluster's pod network.
#
# The operator only needs the pool inside the platform pod CIDR; Spectro's
# pack requires equality with the Kubernetes layer's podCIDR, and so do we.
# The env var is only honoured when the first pool is created, so a wrong
# value is expensive to fix later (calico#962).
package main

import data.lib.calico
import data.lib.cidr
import data.lib.k8s

deny_cidr contains msg if {
	calico.is_node
	want := calico.pod_cidr
	got := calico.pool_cidr
	got != want # cheap, and cidr.same parses both otherwise
	not cidr.same(got, want)
	msg := k8s.value_finding("deny_cidr", calico.env_field(calico.cidr_var), "values.calico.calicoNetworkCIDR", [
		calico.cidr_var, " ", got, calico.config_note(calico.cidr_var), " does not match podCIDR ", want,
		"; set calico.calicoNetworkCIDR to ", want,
	])
}

# Without the env var calico-node takes kubeadm's podSubnet or the first free
# 192.168.0.0/16-style range: an implicit choice the rendered output cannot show.
deny_cidr contains msg if {
	calico.is_node
	want := calico.pod_cidr
	is_object(calico.node_container)
	not calico.env_set(calico.cidr_var)
	msg := k8s.value_finding("deny_cidr", calico.env_field(calico.cidr_var), "values.calico.calicoNetworkCIDR", [
		calico.cidr_var,
		" is not set, so calico-node picks the pool itself; set calico.calicoNetworkCIDR to ", want,
	])
}

deny_cidr contains msg if {
	calico.is_node
	want := calico.pod_cidr
	calico.pool_env == ""
	msg := k8s.value_finding("deny_cidr", calico.env_field(calico.cidr_var), "values.calico.calicoNetworkCIDR", [
		calico.cidr_var,
		" is empty, so calico-node picks the pool itself; set calico.calicoNetworkCIDR to ", want,
	])
}

deny_cidr contains msg if {
	calico.is_node
	want := calico.pod_cidr
	calico.env_set(calico.cidr_var)
	not calico.pool_env
	msg := k8s.value_finding("deny_cidr", calico.env_field(calico.cidr_var), "values.calico.calicoNetworkCIDR", [
		calico.cidr_var,
		" comes from a valueFrom netpack cannot resolve; set it as a literal value via calico.calicoNetworkCIDR ",
		want,
	])
}
