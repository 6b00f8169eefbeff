# Rule 15: private key material stays out of Git everywhere, not only in the
# calico-etcd-secrets Secret (deny_etcd_secret_plaintext): a key pasted into a
# container's env (ETCD_KEY, or ETCD_KEY_FILE holding the key itself), a
# ConfigMap, another Secret or an annotation is committed to the deploy repo in
# plain text. Key material is a PEM private key, as text or base64-encoded.
package main

import data.lib.k8s

# "-----BEGIN|END <type> PRIVATE KEY-----" in any PEM private key (PKCS#1, PKCS#8,
# SEC1, OpenSSH, encrypted); then the base64 of each header, as a Secret's data
# or a ConfigMap's binaryData hold a key file.
_key_markers := [
	"PRIVATE KEY-----",
	"LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t",
	"LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0t",
	"LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0t",
	"LS0tLS1CRUdJTiBEU0EgUFJJVkFURSBLRVktLS0t",
	"LS0tLS1CRUdJTiBPUEVOU1NIIFBSSVZBVEUgS0VZLS0t",
	"LS0tLS1CRUdJTiBFTkNSWVBURUQgUFJJVkFURSBLRVktLS0t",
]

_key_like(v) if {
	is_string(v)
	some marker in _key_markers
	contains(v, marker)
}

_fix := "; deliver keys with SOPS or an external secret store, never in Git"

deny_key_material contains msg if {
	# The kinds k8s.pod_spec reads, written out (README, "Writing rules").
	input.kind in {"CronJob", "DaemonSet", "Deployment", "Job", "Pod", "ReplicaSet", "ReplicationController", "StatefulSet"}
	some field in ["containers", "initContainers"]
	some c in k8s.pod_spec[field]
	some e in c.env
	_key_like(e.value)
	msg := k8s.finding("deny_key_material", concat("", [field, "[", c.name, "].env[", e.name, "]"]), [field, " ", k8s.literal(c.name), " env ", k8s.literal(e.name), " holds a private key", _fix])
}

deny_key_material contains msg if {
	input.kind == "ConfigMap"
	some field in ["data", "binaryData"]
	some key in object.keys(input[field])
	_key_like(input[field][key])
	msg := k8s.finding("deny_key_material", concat(".", [field, key]), [field, ".", key, " holds a private key", _fix])
}

deny_key_material contains msg if {
	input.kind == "Secret"
	input.metadata.name != "calico-etcd-secrets" # deny_etcd_secret_plaintext's
	some field in ["data", "stringData"]
	some key in object.keys(input[field])
	_key_like(input[field][key])
	msg := k8s.finding("deny_key_material", concat(".", [field, key]), [field, ".", key, " holds a private key (base64 is not encryption)", _fix])
}

# Annotations of any object, and of a workload's pod template. The kinds are
# written out (README, "Writing rules"): every built-in kind a pack renders or a
# patch could add. CustomResourceDefinitions are left out on purpose: they come
# from upstream Calico unchanged, and sending their schemas to the engine would
# make the whole gate 2-3x slower.
deny_key_material contains msg if {
	input.kind in {
		"ClusterRole", "ClusterRoleBinding", "ConfigMap", "CronJob", "DaemonSet",
		"Deployment", "Endpoints", "Ingress", "Job", "LimitRange", "MutatingWebhookConfiguration",
		"Namespace", "NetworkPolicy", "PersistentVolume", "PersistentVolumeClaim", "Pod",
		"PodDisruptionBudget", "PriorityClass", "ReplicaSet", "ReplicationController",
		"ResourceQuota", "Role", "RoleBinding", "Secret", "Service", "ServiceAccount",
		"StatefulSet", "StorageClass", "ValidatingWebhookConfiguration",
	}
	some where, annotations in _annotations
	some key in object.keys(annotations)
	_key_like(annotations[key])
	msg := k8s.finding("deny_key_material", concat("", [where, ".annotations[", key, "]"]), [where, " annotation ", key, " holds a private key", _fix])
}

_annotations["metadata"] := a if {
	a := input.metadata.annotations
	is_object(a)
}

_annotations["the pod template's metadata"] := a if {
	a := input.spec.template.metadata.annotations
	is_object(a)
}

_annotations["the job template's pod metadata"] := a if {
	a := input.spec.jobTemplate.spec.template.metadata.annotations
	is_object(a)
}
