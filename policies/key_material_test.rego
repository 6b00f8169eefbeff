package main

import data.lib.fixtures

_pem := "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"

_fix := "; deliver keys with SOPS or an external secret store, never in Git"

test_key_material_in_node_env_denied if {
	ds := fixtures.with_env(fixtures.calico_node, "ETCD_KEY", _pem)
	fixtures.msgs(deny_key_material) == {concat("", ["DaemonSet/calico-node: containers calico-node env ETCD_KEY holds a private key", _fix])} with input as ds
}

test_key_material_in_a_key_file_env_denied if {
	ds := fixtures.with_env(fixtures.calico_node, "ETCD_KEY_FILE", "-----BEGIN RSA PRIVATE KEY-----\nMIIE")
	count(deny_key_material) == 1 with input as ds
}

test_key_material_in_init_container_env_denied if {
	ds := fixtures.put(fixtures.calico_node, "/spec/template/spec/initContainers/0/env", [{"name": "K", "value": _pem}])
	count(deny_key_material) == 1 with input as ds
}

test_key_material_in_configmap_denied if {
	cm := fixtures.put(fixtures.calico_config, "/data/etcd_key", _pem)
	fixtures.msgs(deny_key_material) == {concat("", ["ConfigMap/calico-config: data.etcd_key holds a private key", _fix])} with input as cm
}

test_base64_key_in_configmap_binary_data_denied if {
	cm := fixtures.put(fixtures.calico_config, "/binaryData", {"k": "LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVF"})
	fixtures.msgs(deny_key_material) == {concat("", ["ConfigMap/calico-config: binaryData.k holds a private key", _fix])} with input as cm
}

test_key_material_in_another_secret_denied if {
	s := {"kind": "Secret", "metadata": {"name": "other"}, "data": {"tls.key": "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2"}}
	fixtures.msgs(deny_key_material) == {concat("", ["Secret/other: data.tls.key holds a private key (base64 is not encryption)", _fix])} with input as s
}

test_key_material_in_annotations_denied if {
	sa := {"kind": "ServiceAccount", "metadata": {"name": "calico-node", "annotations": {"note": _pem}}}
	fixtures.msgs(deny_key_material) == {concat("", ["ServiceAccount/calico-node: metadata annotation note holds a private key", _fix])} with input as sa
	ds := fixtures.put(fixtures.calico_node, "/spec/template/metadata", {"annotations": {"k": _pem}})
	fixtures.msgs(deny_key_material) == {concat("", ["DaemonSet/calico-node: the pod template's metadata annotation k holds a private key", _fix])} with input as ds
}

test_no_key_material_passes if {
	count(deny_key_material) == 0 with input as fixtures.calico_node
	count(deny_key_material) == 0 with input as fixtures.kube_controllers
	count(deny_key_material) == 0 with input as fixtures.calico_config_etcd
	count(deny_key_material) == 0 with input as fixtures.with_env(fixtures.calico_node, "ETCD_KEY_FILE", "/calico-secrets/etcd-key")
	count(deny_key_material) == 0 with input as fixtures.with_env(fixtures.calico_node, "ETCD_CA", "-----BEGIN CERTIFICATE-----\nMIIB")
}

test_calico_etcd_secret_is_left_to_its_own_rule if {
	s := fixtures.put(fixtures.etcd_secret, "/data/etcd-key", "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2")
	count(deny_key_material) == 0 with input as s
	count(deny_etcd_secret_plaintext) == 1 with input as s
}
