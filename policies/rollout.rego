# Rule 8 (R15, R16): how the two Calico workloads roll out.
# kube-controllers "can only have a single active instance" (calico.yaml
# comment; the operator hard-codes replicas 1), so a rollout must stop the
# old pod first. calico-node must roll (the operator rejects other
# strategies); OnDelete leaves nodes on the old version indefinitely.
package main

import data.lib.k8s

deny_kube_controllers_replicas contains msg if {
	input.kind == "Deployment"
	input.metadata.name == "calico-kube-controllers"
	r := object.get(input, ["spec", "replicas"], 1)
	r != null
	r != 1
	msg := k8s.finding("deny_kube_controllers_replicas", "spec.replicas", [
		"spec.replicas is ", k8s.literal(r),
		" but only one kube-controllers instance may run; set spec.replicas to 1",
	])
}

deny_kube_controllers_strategy contains msg if {
	input.kind == "Deployment"
	input.metadata.name == "calico-kube-controllers"
	t := object.get(input, ["spec", "strategy", "type"], "RollingUpdate")
	t != "Recreate"
	msg := k8s.finding("deny_kube_controllers_strategy", "spec.strategy.type", [
		"spec.strategy.type is ", k8s.literal(t),
		", which runs old and new kube-controllers side by side during a rollout; set spec.strategy.type to Recreate",
	])
}

deny_node_update_strategy contains msg if {
	input.kind == "DaemonSet"
	input.metadata.name == "calico-node"
	t := object.get(input, ["spec", "updateStrategy", "type"], "RollingUpdate")
	t != "RollingUpdate"
	msg := k8s.finding("deny_node_update_strategy", "spec.updateStrategy.type", [
		"spec.updateStrategy.type is ", k8s.literal(t),
		", so nodes keep the old calico-node after a change; set spec.updateStrategy.type to RollingUpdate",
	])
}
