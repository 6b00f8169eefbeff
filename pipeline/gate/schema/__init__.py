"""Schema validation of manifests, offline, like kubeconform (``validate.py`` has the contract).

``builtin``: Kubernetes' kinds, per minor, from kubernetes-validate's schemas;
``crd``: custom resources, against their CRD's ``openAPIV3Schema``;
``problems``: jsonschema errors worded for the manifest's author;
``validate``: ``Validator`` and ``validate_resources``, the gate's check;
``cli``: ``netpack validate PATH...``.

The names below load on first use, so that importing ``pipeline.cli.validate``
to register the command costs ``netpack`` nothing at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.gate.schema.validate import Validator, bench_validate, validate_resources

__all__ = ["Validator", "bench_validate", "validate_resources"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from pipeline.gate.schema import validate

        return getattr(validate, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
