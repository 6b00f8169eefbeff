# What every rule needs to know about the Kubernetes object under test.
#
# Messages are built with concat, never sprintf: regopy's sprintf wraps in
# double quotes any %s argument that another builtin produced (concat,
# lower, replace, format_int, json.marshal, ...), so the same rule would
# say `is "A or B"` there and `is A or B` on OPA.
package lib.k8s

# ref is the "<Kind>/<name>" that every message starts with.
ref := concat("/", [input.kind, input.metadata.name]) if {
	is_string(input.kind)
	is_string(input.metadata.name)
}

# message(parts) is "<Kind>/<name>: " followed by the string parts.
message(parts) := concat("", array.concat([ref, ": "], parts))

# is_object_named(kind, name) holds when input is that object.
is_object_named(kind, name) if {
	input.kind == kind
	input.metadata.name == name
}

_template_kinds := {
	"DaemonSet", "Deployment", "Job",
	"ReplicaSet", "ReplicationController", "StatefulSet",
}

# pod_spec is the pod spec of a workload or a Pod.
pod_spec := s if {
	input.kind in _template_kinds
	s := input.spec.template.spec
	is_object(s)
}

pod_spec := s if {
	input.kind == "CronJob"
	s := input.spec.jobTemplate.spec.template.spec
	is_object(s)
}

pod_spec := input.spec if {
	input.kind == "Pod"
	is_object(input.spec)
}

_container_fields := {"containers": "container", "initContainers": "initContainer"}

# containers holds {"what", "name", "image"} for every container and init
# container of the workload; "what" is how a message names it.
containers contains {"what": what, "name": _string(c.name), "image": object.get(c, "image", null)} if {
	some field, what in _container_fields
	some c in pod_spec[field]
	is_object(c)
}

# literal(x) is an env or data value as the string Kubernetes would see;
# YAML may hand us a bool or number where a string belongs.
literal(x) := "" if {
	x == null
} else := x if {
	is_string(x)
} else := json.marshal(x)

_string(x) := x if {
	is_string(x)
} else := json.marshal(x)

# has_key(obj, key) holds when obj is an object with that key (even if its
# value is null or "").
has_key(obj, key) if {
	is_object(obj)
	key in object.keys(obj)
}

# quoted(s) wraps a string in double quotes, so an empty or odd value stays
# visible in a message (sprintf %q is missing from regopy).
quoted(s) := concat("", ["\"", s, "\""])

# finding(rule, field, parts) is a structured result in the shape conftest
# reads (msg, plus keys it keeps as metadata): msg is message(parts), "rule"
# the rule's id in the catalog (policies/README.md, which "help" names), "field"
# the path of the object's field it is about, and "fix" what to change: the
# text after the first "; " of the message, which every message here has.
finding(rule, field, parts) := {
	"msg": msg,
	"rule": rule,
	"field": field,
	"fix": _fix(msg),
	"help": catalog,
} if msg := message(parts)

catalog := "policies/README.md#rule-catalog"

# value_finding(rule, field, setting, parts) is finding(rule, field, parts)
# plus "setting": the cluster-file key (values.<setting>) a user edits to fix
# it, so annotations can point at the cluster file.
value_finding(rule, field, setting, parts) := object.union(finding(rule, field, parts), {"setting": setting})

_fix(msg) := concat("; ", array.slice(parts, 1, count(parts))) if {
	parts := split(msg, "; ")
	count(parts) > 1
} else := ""
