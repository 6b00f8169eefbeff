package main

import data.lib.fixtures

test_kube_controllers_replicas_denied if {
	d := fixtures.put(fixtures.kube_controllers, "/spec/replicas", 2)
	fixtures.msgs(deny_kube_controllers_replicas) == {"Deployment/calico-kube-controllers: spec.replicas is 2 but only one kube-controllers instance may run; set spec.replicas to 1"} with input as d
}

test_kube_controllers_replicas_pass if {
	count(deny_kube_controllers_replicas) == 0 with input as fixtures.kube_controllers
	count(deny_kube_controllers_replicas) == 0 with input as fixtures.remove(fixtures.kube_controllers, "/spec/replicas")
}

test_kube_controllers_strategy_denied if {
	d := fixtures.put(fixtures.kube_controllers, "/spec/strategy", {"type": "RollingUpdate"})
	fixtures.msgs(deny_kube_controllers_strategy) == {"Deployment/calico-kube-controllers: spec.strategy.type is RollingUpdate, which runs old and new kube-controllers side by side during a rollout; set spec.strategy.type to Recreate"} with input as d
}

# Kubernetes defaults a Deployment without a strategy to RollingUpdate.
test_kube_controllers_strategy_default_denied if {
	count(deny_kube_controllers_strategy) == 1 with input as fixtures.remove(fixtures.kube_controllers, "/spec/strategy")
}

test_kube_controllers_strategy_recreate_passes if {
	count(deny_kube_controllers_strategy) == 0 with input as fixtures.kube_controllers
}

test_node_update_strategy_on_delete_denied if {
	ds := fixtures.put(fixtures.calico_node, "/spec/updateStrategy", {"type": "OnDelete"})
	fixtures.msgs(deny_node_update_strategy) == {"DaemonSet/calico-node: spec.updateStrategy.type is OnDelete, so nodes keep the old calico-node after a change; set spec.updateStrategy.type to RollingUpdate"} with input as ds
}

test_node_update_strategy_passes if {
	count(deny_node_update_strategy) == 0 with input as fixtures.calico_node
	count(deny_node_update_strategy) == 0 with input as fixtures.remove(fixtures.calico_node, "/spec/updateStrategy")
}
