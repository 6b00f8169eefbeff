package main

import data.lib.fixtures

_endpoints(value) := fixtures.put(fixtures.calico_config, "/data/etcd_endpoints", value)

test_etcd_endpoints_placeholder_denied if {
	fixtures.msgs(deny_etcd_endpoints) == {"ConfigMap/calico-config: etcd_endpoints http://<ETCD_IP>:<ETCD_PORT> is still the upstream placeholder; set it to the etcd client URLs (https://host:2379,...)"} with input as _endpoints("http://<ETCD_IP>:<ETCD_PORT>")
}

test_etcd_endpoints_other_placeholder_denied if {
	fixtures.msgs(deny_etcd_endpoints) == {"ConfigMap/calico-config: etcd_endpoints https://<ETCD_HOST>:2379 still holds a <...> template placeholder; set it to the etcd client URLs (https://host:2379,...)"} with input as _endpoints("https://<ETCD_HOST>:2379")
}

test_etcd_endpoints_empty_denied if {
	fixtures.msgs(deny_etcd_endpoints) == {"ConfigMap/calico-config: etcd_endpoints is empty or missing but the etcd datastore needs it; set it to the etcd client URLs (https://host:2379,...)"} with input as _endpoints(" ")
}

test_etcd_endpoints_missing_with_etcd_context_denied if {
	ctx := fixtures.put(fixtures.aws, "/values/calico/datastore", "etcd")
	count(deny_etcd_endpoints) == 1 with input as fixtures.calico_config with data.netpack as ctx
}

test_etcd_endpoints_set_passes if {
	count(deny_etcd_endpoints) == 0 with input as fixtures.calico_config_etcd
	count(deny_etcd_endpoints) == 0 with input as fixtures.calico_config
	count(deny_etcd_endpoints) == 0 with input as fixtures.calico_config with data.netpack as fixtures.aws
}

test_etcd_secret_plaintext_denied if {
	s := fixtures.put(fixtures.put(fixtures.etcd_secret, "/data/etcd-key", "LS0tLS1CRUdJTi0tLS0t"), "/stringData", {"etcd-ca": "-----BEGIN CERTIFICATE-----"})
	fixtures.msgs(deny_etcd_secret_plaintext) == {
		"Secret/calico-etcd-secrets: data.etcd-key holds etcd key material in plain text (base64 is not encryption); leave it empty in Git and deliver it with SOPS or an external secret store",
		"Secret/calico-etcd-secrets: stringData.etcd-ca holds etcd key material in plain text (base64 is not encryption); leave it empty in Git and deliver it with SOPS or an external secret store",
	} with input as s
}

test_etcd_secret_empty_passes if {
	count(deny_etcd_secret_plaintext) == 0 with input as fixtures.etcd_secret
	count(deny_etcd_secret_plaintext) == 0 with input as fixtures.put(fixtures.etcd_secret, "/data/etcd-key", "")
	count(deny_etcd_secret_plaintext) == 0 with input as fixtures.remove(fixtures.etcd_secret, "/data")
}
