"""``netpack doctor``: the pack's troubleshooting, run against a live cluster or a snapshot.

- ``snapshot``: the cluster state doctor reads, a Kubernetes ``v1`` ``List``
  (``kubectl get ... -o json``), from a file or from ``live``;
- ``live``: that List read from a cluster with the real ``kubectl`` (read-only);
- ``expect``: what the render (netpack's own, or the deploy repo's) says the
  cluster must run;
- ``checks``: the live state against the render and the pack's troubleshooting
  rules, as gate results (one ``CheckResult`` per rule) for the gate's reporters.
"""

# ``--format`` choices: the gate's reporters plus ``markdown`` (``pipeline.gate.report.markdown``).
FORMATS = ("stdout", "json", "junit", "github", "sarif", "markdown")
