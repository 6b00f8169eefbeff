"""Benchmarks for ``nox -s bench``: figures and ratios against kubectl kustomize."""
