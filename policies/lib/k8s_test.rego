# Tests of lib.k8s (package main so `conftest verify` runs them).
package main

import data.lib.fixtures
import data.lib.k8s

test_lib_k8s_message_prefix if {
	k8s.message(["a ", "b"]) == "DaemonSet/calico-node: a b" with input as fixtures.calico_node
	not k8s.message(["x"]) with input as {"kind": "DaemonSet"}
}

test_lib_k8s_containers if {
	k8s.containers == {
		{"what": "container", "name": "calico-kube-controllers", "image": "docker.io/calico/kube-controllers:v3.30.7"},
	} with input as fixtures.kube_controllers
	count(k8s.containers) == 4 with input as fixtures.calico_node
	count(k8s.containers) == 0 with input as fixtures.calico_config
}

test_lib_k8s_pod_spec_kinds if {
	k8s.pod_spec == {"containers": []} with input as {"kind": "Pod", "spec": {"containers": []}}
	k8s.pod_spec == {"containers": []} with input as {"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": []}}}}}}
	not k8s.pod_spec with input as {"kind": "ConfigMap", "data": {}}
}

test_lib_k8s_literal if {
	k8s.literal(null) == ""
	k8s.literal("x") == "x"
	k8s.literal(true) == "true"
	k8s.literal(1440) == "1440"
}

test_lib_k8s_has_key if {
	k8s.has_key({"a": null}, "a")
	not k8s.has_key({"a": 1}, "b")
	not k8s.has_key(null, "a")
}

test_finding_splits_the_fix if {
	f := k8s.finding("deny_x", "spec.x", ["x is 1", "; set x to 2; or drop it"]) with input as {"kind": "Pod", "metadata": {"name": "p"}}
	f == {"msg": "Pod/p: x is 1; set x to 2; or drop it", "rule": "deny_x", "field": "spec.x", "fix": "set x to 2; or drop it", "help": k8s.catalog}
}

test_finding_without_fix if {
	f := k8s.value_finding("warn_x", "", "values.calico.mtu", ["x"]) with input as {"kind": "Pod", "metadata": {"name": "p"}}
	f == {"msg": "Pod/p: x", "rule": "warn_x", "field": "", "fix": "", "setting": "values.calico.mtu", "help": k8s.catalog}
}
