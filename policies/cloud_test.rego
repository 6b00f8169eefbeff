package main

import data.lib.fixtures

_ipip_mode(mode) := fixtures.with_env(fixtures.calico_node, "CALICO_IPV4POOL_IPIP", mode)

_unencapsulated := fixtures.with_env(fixtures.calico_node, "CALICO_IPV4POOL_IPIP", "Never")

test_cloud_encapsulation_ipip_on_azure_denied if {
	fixtures.msgs(deny_cloud_encapsulation) == {"DaemonSet/calico-node: IP-in-IP (CALICO_IPV4POOL_IPIP not Never) is not supported on cloud azure (allowed: VXLAN); set calico.encapsulationType to CALICO_IPV4POOL_VXLAN"} with input as fixtures.calico_node
		with data.netpack as fixtures.azure
		with data.clouds as fixtures.clouds
}

test_cloud_encapsulation_vxlan_on_azure_allowed if {
	count(deny_cloud_encapsulation) == 0 with input as fixtures.calico_node_vxlan
		with data.netpack as fixtures.azure
		with data.clouds as fixtures.clouds
}

test_cloud_encapsulation_none_on_gcp_denied if {
	fixtures.msgs(deny_cloud_encapsulation) == {"DaemonSet/calico-node: an unencapsulated pool (CALICO_IPV4POOL_IPIP and CALICO_IPV4POOL_VXLAN both Never) is not supported on cloud gcp (allowed: IPIP, VXLAN); set calico.encapsulationType to CALICO_IPV4POOL_IPIP or calico.encapsulationType to CALICO_IPV4POOL_VXLAN"} with input as _unencapsulated
		with data.netpack as fixtures.gcp
		with data.clouds as fixtures.clouds
}

test_cloud_encapsulation_none_on_baremetal_allowed if {
	count(deny_cloud_encapsulation) == 0 with input as _unencapsulated
		with data.netpack as fixtures.baremetal
		with data.clouds as fixtures.clouds
}

test_cloud_encapsulation_needs_context if {
	count(deny_cloud_encapsulation) == 0 with input as fixtures.calico_node
		with data.netpack as {}
		with data.clouds as fixtures.clouds
	count(deny_cloud_unknown) == 0 with input as fixtures.calico_node
		with data.netpack as {}
		with data.clouds as fixtures.clouds
}

test_cloud_name_is_case_insensitive if {
	count(deny_cloud_encapsulation) == 1 with input as fixtures.calico_node
		with data.netpack as fixtures.context("Azure", "bird")
		with data.clouds as fixtures.clouds
}

test_cloud_mode_crosssubnet_on_gcp_denied if {
	fixtures.msgs(deny_cloud_mode) == {"DaemonSet/calico-node: IPIP mode CrossSubnet is not supported on cloud gcp (allowed: Always); set calico.encapsulationMode to Always"} with input as _ipip_mode("crosssubnet")
		with data.netpack as fixtures.gcp
		with data.clouds as fixtures.clouds
}

test_cloud_mode_always_on_gcp_allowed if {
	count(deny_cloud_mode) == 0 with input as fixtures.calico_node
		with data.netpack as fixtures.gcp
		with data.clouds as fixtures.clouds
}

# One root cause, one finding: a disallowed encapsulation's mode is not judged.
test_cloud_mode_skipped_when_encapsulation_denied if {
	count(deny_cloud_mode) == 0 with input as _ipip_mode("CrossSubnet")
		with data.netpack as fixtures.context("gcp-like-azure", "bird")
		with data.clouds as {"gcp-like-azure": {"encapsulations": ["VXLAN"], "modes": ["Always"]}}
}

test_cloud_unknown_denied if {
	fixtures.msgs(deny_cloud_unknown) == {"DaemonSet/calico-node: cloud alibaba is not in data.clouds; add it to policies/data/clouds.yaml or pass -d policies/data"} with input as fixtures.calico_node
		with data.netpack as fixtures.context("alibaba", "bird")
		with data.clouds as fixtures.clouds
}

test_cloud_known_passes if {
	count(deny_cloud_unknown) == 0 with input as fixtures.calico_node
		with data.netpack as fixtures.aws
		with data.clouds as fixtures.clouds
}

test_cloud_caveat_aws_crosssubnet_warned if {
	fixtures.msgs(warn_cloud_caveat) == {"DaemonSet/calico-node: IPIP CrossSubnet on cloud aws: disable the EC2 source/destination check"} with input as _ipip_mode("CrossSubnet")
		with data.netpack as fixtures.aws
		with data.clouds as fixtures.clouds
}

test_cloud_caveat_aws_always_quiet if {
	count(warn_cloud_caveat) == 0 with input as fixtures.calico_node
		with data.netpack as fixtures.aws
		with data.clouds as fixtures.clouds
}

test_cloud_caveat_handled_by_felix_env if {
	ds := fixtures.with_env(_ipip_mode("CrossSubnet"), "FELIX_AWSSRCDSTCHECK", "disable")
	count(warn_cloud_caveat) == 0 with input as ds
		with data.netpack as fixtures.aws
		with data.clouds as fixtures.clouds
}
