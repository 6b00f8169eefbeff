# Rule 9: calico-node runs on every node, whatever it is tainted with, in the
# host network namespace, and is the last pod evicted (CALICO.md §2: the
# manifest tolerates NoSchedule and NoExecute with operator Exists, sets
# hostNetwork and priorityClassName system-node-critical). A node without
# calico-node has no pod networking.
package main

import data.lib.calico
import data.lib.k8s

_node_pod := input.spec.template.spec if {
	calico.is_node
	is_object(input.spec.template.spec)
}

deny_node_tolerations contains msg if {
	calico.is_node
	pod := _node_pod
	tolerations := [t | some t in object.get(pod, "tolerations", []); is_object(t)]
	missing := [effect |
		some effect in ["NoSchedule", "NoExecute"]
		not _tolerated(tolerations, effect)
	]
	count(missing) > 0
	msg := k8s.finding("deny_node_tolerations", "spec.template.spec.tolerations", [
		"tolerations do not cover every ", concat(" or ", missing),
		" taint; add a toleration with operator Exists and no key for ", concat(" and ", missing),
		" (or one with neither key nor effect)",
	])
}

deny_node_host_network contains msg if {
	calico.is_node
	object.get(_node_pod, "hostNetwork", false) != true
	msg := k8s.finding("deny_node_host_network", "spec.template.spec.hostNetwork", [
		"spec.template.spec.hostNetwork is not true; calico-node programs the host's routes and must set hostNetwork: true",
	])
}

deny_node_priority_class contains msg if {
	calico.is_node
	p := object.get(_node_pod, "priorityClassName", "")
	p != "system-node-critical"
	msg := k8s.finding("deny_node_priority_class", "spec.template.spec.priorityClassName", [
		"priorityClassName is ", _shown(p),
		"; set it to system-node-critical so calico-node is scheduled and evicted last",
	])
}

_tolerated(tolerations, effect) if {
	some t in tolerations
	_covers(t, effect)
}

# _covers(t, effect): t tolerates any taint with that effect, for ever.
_covers(t, effect) if {
	t.operator == "Exists"
	object.get(t, "key", "") == ""
	object.get(t, "effect", "") in {"", effect}
	_lasts(t, effect)
}

# _lasts(t, effect): t keeps tolerating such a taint. A NoExecute toleration
# with tolerationSeconds evicts the pod after that time.
_lasts(t, effect) if {
	effect == "NoSchedule"
} else := true if {
	effect == "NoExecute"
	object.get(t, "tolerationSeconds", null) == null
}

_shown(p) := "unset" if {
	p == ""
} else := k8s.literal(p)
