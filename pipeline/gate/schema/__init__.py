"""Schema validation of manifests, offline, like kubeconform (``validate.py`` has the contract).

``builtin``: Kubernetes' kinds, per minor, from kubernetes-validate's schemas;
``crd``: custom resources, against their CRD's ``openAPIV3Schema``;
``problems``: jsonschema errors worded for the manifest's author;
``validate``: ``Validator`` and ``validate_resources``, the gate's check.
"""
