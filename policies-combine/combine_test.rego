package main

import data.lib.fixtures

_config(backend) := json.patch(fixtures.calico_config, [{"op": "replace", "path": "/data/calico_backend", "value": backend}])

_combined(docs) := [{"path": "in.yaml", "contents": d} | some d in docs]

_probe_msgs := {
	"DaemonSet/calico-node: calico_backend is bird but livenessProbe does not run -bird-live; add -bird-live to the livenessProbe exec command",
	"DaemonSet/calico-node: calico_backend is bird but readinessProbe does not run -bird-ready; add -bird-ready to the readinessProbe exec command",
}

_rule_msgs(results, rule) := {f.msg | some f in results; f.rule == rule}

# The input's own calico-config wins over the context's: vxlan here, not bird.
test_combined_reads_the_input_calico_config if {
	docs := _combined([fixtures.calico_node_vxlan, _config("vxlan")])
	count(_rule_msgs(deny_combined, "deny_bird_probes")) == 0 with input as docs with data.netpack as fixtures.aws
	count(_rule_msgs(deny_bird_probes, "deny_bird_probes")) == 2 with input as fixtures.calico_node_vxlan
		with data.netpack as fixtures.aws
}

test_combined_states_the_input_value if {
	docs := _combined([fixtures.calico_node_vxlan, _config("bird")])
	fixtures.msgs(deny_combined) == _probe_msgs with input as docs with data.netpack as fixtures.azure
}

test_combined_without_config_map_uses_the_context if {
	docs := _combined([fixtures.calico_node_vxlan])
	ctx := fixtures.remove(fixtures.aws, "/calico_config_from")
	_rule_msgs(deny_combined, "deny_bird_probes") == {concat("", [
		"DaemonSet/calico-node: calico_backend is bird (from data.netpack.calico_config, not from this input) but ",
		probe, " does not run ", flag, "; add ", flag, " to the ", probe, " exec command",
	]) |
		some [probe, flag] in [["livenessProbe", "-bird-live"], ["readinessProbe", "-bird-ready"]]
	} with input as docs with data.netpack as ctx
}

test_combined_findings_keep_their_rule if {
	docs := _combined([fixtures.calico_node_vxlan, _config("bird")])
	{f.rule | some f in deny_combined} == {"deny_bird_probes"} with input as docs with data.netpack as fixtures.azure
}

test_combined_honours_exceptions if {
	docs := _combined([fixtures.calico_node_vxlan, _config("bird")])
	count(deny_combined) == 0 with input as docs with data.netpack as fixtures.azure
		with data.main.exception as {["bird_probes"]}
}

test_combined_is_silent_for_one_object if {
	count(deny_combined) == 0 with input as fixtures.calico_node_vxlan with data.netpack as fixtures.aws
	count(warn_combined) == 0 with input as fixtures.calico_node_vxlan with data.netpack as fixtures.aws
}

test_context_value_is_noted_outside_the_input if {
	ctx := fixtures.remove(fixtures.azure, "/calico_config_from")
	count({m |
		some m in fixtures.msgs(deny_bird_probes)
		contains(m, "calico_backend is vxlan (from data.netpack.calico_config, not from this input)")
	}) == 2 with input as fixtures.calico_node with data.netpack as ctx
}
