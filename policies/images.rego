# Rule 10: every image is pinned, so a render means the same pods tomorrow.
# An untagged image is :latest, which moves and defeats the GitOps diff.
package main

import data.lib.k8s

deny_image_unpinned contains msg if {
	# The kinds k8s.pod_spec reads, written out: OPA's rule index and the
	# gate's document filter only see literals (README, "Writing rules").
	input.kind in {"CronJob", "DaemonSet", "Deployment", "Job", "Pod", "ReplicaSet", "ReplicationController", "StatefulSet"}
	some c in k8s.containers
	not _pinned(c.image)
	problem := _image_problem(c.image)
	msg := k8s.value_finding("deny_image_unpinned", concat("", [c.what, "s[", c.name, "].image"]), "values.calico.images", [
		c.what, " ", c.name, " ", problem, "; pin it to a version tag or an @sha256 digest",
	])
}

# _pinned(image): a digest, or a tag other than latest. One regex instead of
# _image_problem's three bodies for the usual, pinned, image: exactly the
# images for which _image_problem is undefined.
_pinned(image) if {
	is_string(image)
	regex.match(`:[^/:]+$`, image)
	not endswith(image, ":latest")
} else := true if {
	is_string(image)
	contains(image, "@")
}

_image_problem(image) := "has no image" if {
	not _named(image)
}

_image_problem(image) := concat("", ["image ", image, " has no tag"]) if {
	_named(image)
	not contains(image, "@")
	not _tag(image)
}

_image_problem(image) := concat("", ["image ", image, " uses the latest tag"]) if {
	_named(image)
	not contains(image, "@")
	_tag(image) == "latest"
}

_named(image) if {
	is_string(image)
	image != ""
}

# _tag(image) is the tag after the last ":" of the last path segment, so a
# registry port (registry:5000/calico/node) is not mistaken for a tag.
_tag(image) := tag if {
	segments := split(image, "/")
	last := segments[count(segments) - 1]
	contains(last, ":")
	parts := split(last, ":")
	tag := parts[count(parts) - 1]
	tag != ""
}
