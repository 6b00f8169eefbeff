package main

import data.lib.fixtures

_tolerations(ts) := fixtures.put(fixtures.calico_node, "/spec/template/spec/tolerations", ts)

test_node_tolerations_missing_denied if {
	ds := _tolerations([{"key": "CriticalAddonsOnly", "operator": "Exists"}])
	fixtures.msgs(deny_node_tolerations) == {"DaemonSet/calico-node: tolerations do not cover every NoSchedule or NoExecute taint; add a toleration with operator Exists and no key for NoSchedule and NoExecute (or one with neither key nor effect)"} with input as ds
}

test_node_tolerations_keyed_or_expiring_denied if {
	ds := _tolerations([
		{"effect": "NoSchedule", "operator": "Exists"},
		{"effect": "NoExecute", "operator": "Exists", "tolerationSeconds": 300},
		{"operator": "Exists", "tolerationSeconds": 60},
	])
	fixtures.msgs(deny_node_tolerations) == {"DaemonSet/calico-node: tolerations do not cover every NoSchedule taint; add a toleration with operator Exists and no key for NoSchedule (or one with neither key nor effect)"} with input as _tolerations([
		{"effect": "NoSchedule", "operator": "Exists", "key": "node-role.kubernetes.io/control-plane"},
		{"effect": "NoSchedule", "operator": "Equal", "value": ""},
		{"effect": "NoExecute", "operator": "Exists"},
	])
	fixtures.msgs(deny_node_tolerations) == {"DaemonSet/calico-node: tolerations do not cover every NoExecute taint; add a toleration with operator Exists and no key for NoExecute (or one with neither key nor effect)"} with input as ds
}

test_node_tolerations_pass if {
	count(deny_node_tolerations) == 0 with input as fixtures.calico_node
	count(deny_node_tolerations) == 0 with input as _tolerations([{"operator": "Exists"}])
}

test_node_host_network_denied if {
	fixtures.msgs(deny_node_host_network) == {"DaemonSet/calico-node: spec.template.spec.hostNetwork is not true; calico-node programs the host's routes and must set hostNetwork: true"} with input as fixtures.remove(fixtures.calico_node, "/spec/template/spec/hostNetwork")
}

test_node_host_network_passes if {
	count(deny_node_host_network) == 0 with input as fixtures.calico_node
}

test_node_priority_class_denied if {
	fixtures.msgs(deny_node_priority_class) == {"DaemonSet/calico-node: priorityClassName is unset; set it to system-node-critical so calico-node is scheduled and evicted last"} with input as fixtures.remove(fixtures.calico_node, "/spec/template/spec/priorityClassName")
	fixtures.msgs(deny_node_priority_class) == {"DaemonSet/calico-node: priorityClassName is system-cluster-critical; set it to system-node-critical so calico-node is scheduled and evicted last"} with input as fixtures.put(fixtures.calico_node, "/spec/template/spec/priorityClassName", "system-cluster-critical")
}

test_node_priority_class_passes if {
	count(deny_node_priority_class) == 0 with input as fixtures.calico_node
}

test_node_rules_ignore_other_daemonsets if {
	other := fixtures.put(fixtures.remove(fixtures.calico_node, "/spec/template/spec/hostNetwork"), "/metadata/name", "other")
	count(deny_node_host_network) == 0 with input as other
	count(deny_node_tolerations) == 0 with input as fixtures.remove(other, "/spec/template/spec/tolerations")
	count(deny_node_tolerations) == 0 with input as fixtures.kube_controllers
}
