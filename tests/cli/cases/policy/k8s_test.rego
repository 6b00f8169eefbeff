package main

import rego.v1

test_root_denied if {
	deny_root with input as {"kind": "Deployment", "metadata": {"name": "x"}, "spec": {"template": {"spec": {"securityContext": {"runAsUser": 0}}}}}
}

test_port_allowed if {
	count(deny_port) == 0 with input as {"kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 443}]}}
}

test_wrong_on_purpose if {
	count(warn) == 0 with input as {"kind": "Deployment", "metadata": {"name": "x"}, "spec": {}}
}
