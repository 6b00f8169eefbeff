package main

import data.lib.fixtures
import data.lib.k8s

_node_image(image) := fixtures.put(fixtures.calico_node, "/spec/template/spec/containers/0/image", image)

test_image_latest_denied if {
	fixtures.msgs(deny_image_unpinned) == {"DaemonSet/calico-node: container calico-node image docker.io/calico/node:latest uses the latest tag; pin it to a version tag or an @sha256 digest"} with input as _node_image("docker.io/calico/node:latest")
}

test_image_untagged_denied if {
	ds := fixtures.put(fixtures.calico_node, "/spec/template/spec/initContainers/1/image", "registry.local:5000/calico/cni")
	fixtures.msgs(deny_image_unpinned) == {"DaemonSet/calico-node: initContainer install-cni image registry.local:5000/calico/cni has no tag; pin it to a version tag or an @sha256 digest"} with input as ds
}

test_image_missing_denied if {
	d := fixtures.remove(fixtures.kube_controllers, "/spec/template/spec/containers/0/image")
	fixtures.msgs(deny_image_unpinned) == {"Deployment/calico-kube-controllers: container calico-kube-controllers has no image; pin it to a version tag or an @sha256 digest"} with input as d
}

test_image_cronjob_denied if {
	job := {"kind": "CronJob", "metadata": {"name": "backup"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "busybox"}]}}}}}}
	count(deny_image_unpinned) == 1 with input as job
}

test_image_pinned_passes if {
	count(deny_image_unpinned) == 0 with input as fixtures.calico_node
	count(deny_image_unpinned) == 0 with input as fixtures.kube_controllers
	count(deny_image_unpinned) == 0 with input as _node_image("quay.io/calico/node@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	count(deny_image_unpinned) == 0 with input as _node_image("registry.local:5000/calico/node:v3.30.7")
}

# The rule lists its kinds as a literal: it must cover every kind k8s.pod_spec reads.
test_image_every_pod_spec_kind_checked if {
	every kind in k8s._template_kinds {
		count(deny_image_unpinned) == 1 with input as {"kind": kind, "metadata": {"name": "w"}, "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "a"}]}}}}
	}
	count(deny_image_unpinned) == 1 with input as {"kind": "Pod", "metadata": {"name": "w"}, "spec": {"containers": [{"name": "a", "image": "a"}]}}
}

# _pinned is the fast path: it holds exactly when _image_problem is undefined.
test_image_pinned_exactly_when_no_problem if {
	every image in [
		"a:v1", "a", "a:latest", "a@sha256:0f", "a:latest@sha256:0f", "r:5000/a", "r:5000/a:v1",
		"r:5000/a:latest", "a:", "a:b:c", "a:b/c", "a/b:latest", "", null, 5,
	] {
		_pinned_iff_no_problem(image)
	}
}

_pinned_iff_no_problem(image) if {
	_pinned(image)
	not _image_problem(image)
}

_pinned_iff_no_problem(image) if {
	not _pinned(image)
	_image_problem(image)
}
