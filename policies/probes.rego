# Rule 5 (R8): the BIRD health checks match the backend. With BIRD off they
# fail forever and calico-node never becomes Ready (kubespray#6372,
# calico#6285); with BIRD on, dropping them hides a dead BGP daemon.
package main

import data.lib.calico
import data.lib.k8s

_bird_flags := {"livenessProbe": "-bird-live", "readinessProbe": "-bird-ready"}

# The lookup stays outside the comprehension (see lib.calico.allowed).
_probe_command(probe) := [a | some a in command; is_string(a)] if {
	command := calico.node_container[probe].exec.command
} else := []

deny_bird_probes contains msg if {
	calico.is_node
	calico.backend != "bird"
	some probe, flag in _bird_flags
	flag in _probe_command(probe)
	msg := k8s.finding("deny_bird_probes", concat("", ["spec.template.spec.containers[calico-node].", probe, ".exec.command"]), [
		probe, " runs ", flag, " but calico_backend is ", calico.backend,
		calico.config_note(calico.backend_var),
		", so the probe always fails; remove ", flag, " from the ", probe, " command",
	])
}

deny_bird_probes contains msg if {
	calico.is_node
	calico.backend == "bird"
	some probe, flag in _bird_flags
	not flag in _probe_command(probe)
	msg := k8s.finding("deny_bird_probes", concat("", ["spec.template.spec.containers[calico-node].", probe, ".exec.command"]), [
		"calico_backend is bird", calico.config_note(calico.backend_var), " but ", probe, " does not run ", flag, "; add ", flag, " to the ",
		probe, " exec command",
	])
}
