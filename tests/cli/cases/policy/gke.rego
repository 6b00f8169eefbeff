package main.gke

import rego.v1

warn_zone contains "GKE: no zone label" if not input.metadata.labels.zone
