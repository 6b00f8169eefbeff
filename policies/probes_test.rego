package main

import data.lib.fixtures

test_bird_probes_without_bird_denied if {
	fixtures.msgs(deny_bird_probes) == {
		"DaemonSet/calico-node: livenessProbe runs -bird-live but calico_backend is vxlan, so the probe always fails; remove -bird-live from the livenessProbe command",
		"DaemonSet/calico-node: readinessProbe runs -bird-ready but calico_backend is vxlan, so the probe always fails; remove -bird-ready from the readinessProbe command",
	} with input as fixtures.calico_node with data.netpack as fixtures.azure
}

test_bird_probes_vxlan_variant_passes if {
	count(deny_bird_probes) == 0 with input as fixtures.calico_node_vxlan with data.netpack as fixtures.azure
}

test_bird_probes_missing_with_bird_denied if {
	ds := fixtures.probes(fixtures.calico_node, ["/bin/calico-node", "-felix-live", "-bird-live"], ["/bin/calico-node", "-felix-ready"])
	fixtures.msgs(deny_bird_probes) == {"DaemonSet/calico-node: calico_backend is bird but readinessProbe does not run -bird-ready; add -bird-ready to the readinessProbe exec command"} with input as ds
		with data.netpack as fixtures.aws
}

test_bird_probes_with_bird_pass if {
	count(deny_bird_probes) == 0 with input as fixtures.calico_node with data.netpack as fixtures.aws
}

test_bird_probes_need_known_backend if {
	count(deny_bird_probes) == 0 with input as fixtures.calico_node_vxlan with data.netpack as {}
}
