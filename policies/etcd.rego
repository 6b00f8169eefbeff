# Rule 13 (R23): an etcd-datastore render points at a real etcd and keeps
# key material out of Git.
package main

import data.lib.k8s

_placeholder := "http://<ETCD_IP>:<ETCD_PORT>"

_etcd_keys := ["etcd-ca", "etcd-cert", "etcd-key"]

# calico-etcd.yaml's ConfigMap carries etcd_endpoints; calico.yaml's does not.
# The rules below test kind and name first themselves (README, "Writing rules").
_etcd_config_map if {
	k8s.is_object_named("ConfigMap", "calico-config")
	k8s.has_key(input.data, "etcd_endpoints")
}

_etcd_config_map if {
	k8s.is_object_named("ConfigMap", "calico-config")
	is_string(data.netpack.values.calico.datastore)
	lower(data.netpack.values.calico.datastore) == "etcd"
}

deny_etcd_endpoints contains msg if {
	input.kind == "ConfigMap"
	input.metadata.name == "calico-config"
	_etcd_config_map
	v := trim_space(k8s.literal(object.get(input, ["data", "etcd_endpoints"], "")))
	v == ""
	msg := k8s.value_finding("deny_etcd_endpoints", "data.etcd_endpoints", "values.calico.etcdEndpoints", [
		"etcd_endpoints is empty or missing but the etcd datastore needs it; set it to the etcd client URLs (https://host:2379,...)",
	])
}

deny_etcd_endpoints contains msg if {
	input.kind == "ConfigMap"
	input.metadata.name == "calico-config"
	_etcd_config_map
	v := k8s.literal(object.get(input, ["data", "etcd_endpoints"], ""))
	contains(v, "<")
	msg := k8s.value_finding("deny_etcd_endpoints", "data.etcd_endpoints", "values.calico.etcdEndpoints", ["etcd_endpoints ", v, _unrendered(v), "; set it to the etcd client URLs (https://host:2379,...)"])
}

_unrendered(v) := " is still the upstream placeholder" if {
	v == _placeholder
} else := " still holds a <...> template placeholder"

deny_etcd_secret_plaintext contains msg if {
	input.kind == "Secret"
	input.metadata.name == "calico-etcd-secrets"
	some field in ["data", "stringData"]
	some key in _etcd_keys
	v := input[field][key]
	v != null
	v != ""
	msg := k8s.finding("deny_etcd_secret_plaintext", concat(".", [field, key]), [
		field, ".", key,
		" holds etcd key material in plain text (base64 is not encryption); leave it empty in Git",
		" and deliver it with SOPS or an external secret store",
	])
}
