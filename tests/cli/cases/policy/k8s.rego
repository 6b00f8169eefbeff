package main

import rego.v1

# Deployments must not run as root, unless excepted.
deny_root contains msg if {
	input.kind == "Deployment"
	input.spec.template.spec.securityContext.runAsUser == 0
	msg := sprintf("Deployment/%s: runs as root", [input.metadata.name])
}

# Services of type LoadBalancer need an allowed port (data.services.ports).
deny_port contains {"msg": msg, "details": {"port": port}} if {
	input.kind == "Service"
	some entry in input.spec.ports
	port := entry.port
	not port in data.services.ports
	msg := sprintf("Service/%s: port %d not allowed", [input.metadata.name, port])
}

warn contains msg if {
	input.kind == "Deployment"
	not input.spec.replicas
	msg := sprintf("Deployment/%s: replicas not set", [input.metadata.name])
}

exception contains rules if {
	input.metadata.name == "legacy"
	rules := ["root"]
}
