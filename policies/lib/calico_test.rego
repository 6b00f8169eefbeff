# Tests of lib.calico (package main so `conftest verify` runs them).
package main

import data.lib.calico
import data.lib.fixtures

test_lib_calico_env_by_name_last_wins if {
	ds := json.patch(fixtures.calico_node, [{
		"op": "add",
		"path": "/spec/template/spec/containers/0/env/-",
		"value": {"name": "CALICO_IPV4POOL_IPIP", "value": "Never"},
	}])
	calico.env_value("CALICO_IPV4POOL_IPIP") == "Never" with input as ds
}

test_lib_calico_env_from_calico_config if {
	calico.env_value("CALICO_NETWORKING_BACKEND") == "vxlan" with input as fixtures.calico_node
		with data.netpack as fixtures.azure
	not calico.env_value("CALICO_NETWORKING_BACKEND") with input as fixtures.calico_node with data.netpack as {}
}

test_lib_calico_node_container_by_name if {
	ds := json.patch(fixtures.calico_node, [{
		"op": "add",
		"path": "/spec/template/spec/containers/0",
		"value": {"name": "sidecar", "image": "busybox:1", "env": []},
	}])
	calico.env_value("CALICO_IPV4POOL_CIDR") == "10.244.0.0/16" with input as ds
}

test_lib_calico_modes if {
	calico.mode("CALICO_IPV4POOL_IPIP") == "Always" with input as fixtures.calico_node
	calico.mode("CALICO_IPV4POOL_VXLAN") == "Never" with input as fixtures.calico_node
	calico.mode("CALICO_IPV4POOL_VXLAN") == "Never" with input as fixtures.without_env(fixtures.calico_node, "CALICO_IPV4POOL_VXLAN")
	calico.mode("CALICO_IPV4POOL_IPIP") == "CrossSubnet" with input as fixtures.with_env(fixtures.calico_node, "CALICO_IPV4POOL_IPIP", "cross-subnet")
}

test_lib_calico_encapsulations if {
	calico.encapsulations == {"IPIP"} with input as fixtures.calico_node
	calico.encapsulations == {"VXLAN"} with input as fixtures.calico_node_vxlan
	calico.encapsulations == {"None"} with input as fixtures.with_env(fixtures.calico_node, "CALICO_IPV4POOL_IPIP", "Off")
}

test_lib_calico_backend if {
	calico.backend == "bird" with input as fixtures.calico_node with data.netpack as fixtures.aws
	calico.backend == "bird" with input as fixtures.without_env(fixtures.calico_node, "CALICO_NETWORKING_BACKEND")
	calico.backend == "bird" with input as fixtures.with_env(fixtures.calico_node, "CALICO_NETWORKING_BACKEND", "")
	calico.backend == "none" with input as fixtures.with_env(fixtures.calico_node, "CALICO_NETWORKING_BACKEND", "none")
	not calico.backend with input as fixtures.calico_node with data.netpack as {}
}

test_lib_calico_context if {
	calico.pod_cidr == "10.244.0.0/16" with data.netpack as fixtures.aws
	calico.service_cidrs == ["10.96.0.0/12"] with data.netpack as fixtures.aws
	calico.allowed("modes") == ["Always", "CrossSubnet"] with data.netpack as fixtures.aws
		with data.clouds as fixtures.clouds
	calico.underlay_mtu == 9001 with data.netpack as fixtures.aws with data.clouds as fixtures.clouds
	not calico.pod_cidr with data.netpack as {}
	not calico.cloud_spec with data.netpack as fixtures.context("mars", "bird") with data.clouds as fixtures.clouds
}

test_lib_calico_env_with_a_nameless_entry if {
	ds := fixtures.put(fixtures.calico_node, "/spec/template/spec/containers/0/env/-", {"value": "x"})
	calico.env_value("CALICO_IPV4POOL_CIDR") == "10.244.0.0/16" with input as ds
	calico.ipip_mode == "Always" with input as ds
	calico.vxlan_mode == "Never" with input as ds
}

test_lib_calico_pool if {
	calico.pool_cidr == "10.244.0.0/16" with input as fixtures.calico_node
	calico.pool_bounds == [183762944, 183828480] with input as fixtures.calico_node
	not calico.pool_block with input as fixtures.with_env(fixtures.calico_node, "CALICO_IPV4POOL_CIDR", "none")
	not calico.pool_cidr with input as fixtures.with_env(fixtures.calico_node, "CALICO_IPV4POOL_CIDR", "")
}
