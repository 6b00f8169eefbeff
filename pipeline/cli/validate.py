"""``netpack validate PATH...``: schema validation of any manifests, like kubeconform.

Files are read as ``netpack test`` reads them (``pipeline.gate.inputs``):
directories walked for .yaml/.yml/.json, ``-`` for stdin, empty documents
skipped.  Every object is validated strictly against ``--kubernetes-version``
(default: the newest minor kubernetes-validate has); a custom resource against
a CRD among the files or given with ``--crd``.  A ``v1`` ``List`` (what ``kubectl
get -o json`` writes) is validated item by item, as kubeconform does.  The report uses ``netpack
test``'s formats; exit codes: 0 clean, 1 failures, 3 bad input
(``NetpackError``).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from pipeline.gate import report

if TYPE_CHECKING:
    from pipeline.model.resource import Resource

# Nothing heavy is imported at module level: registering costs `netpack` nothing.


def register(subparsers: argparse._SubParsersAction[Any], command: str | None = None) -> None:
    """Add ``validate``; it sets ``func(args) -> exit code``."""
    parser = subparsers.add_parser(
        "validate",
        help="check manifests against Kubernetes and CRD schemas, like kubeconform",
        description="Validate manifests strictly against the OpenAPI schemas of a Kubernetes "
        "version (offline) and custom resources against their CRDs.",
    )
    add = parser.add_argument
    add("paths", nargs="+", metavar="PATH", help="files or directories; - is stdin")
    add(
        "--kubernetes-version",
        metavar="VERSION",
        help='Kubernetes minor to validate against, e.g. "1.32" (default: the newest known)',
    )
    add(
        "--crd",
        action="append",
        default=[],
        metavar="FILE",
        help="CustomResourceDefinitions installed in the cluster (file or directory; repeatable)",
    )
    add("-o", "--output", choices=report.FORMATS, default="stdout", help="output format")
    add("--no-color", action="store_true", help="no ANSI colours in stdout output")
    add("--quiet", action="store_true", help="print nothing when the exit code is 0")
    parser.set_defaults(func=run_validate)


def run_validate(args: argparse.Namespace) -> int:
    from pipeline.errors import InputError
    from pipeline.gate.inputs import read_inputs
    from pipeline.gate.results import exit_code
    from pipeline.gate.schema.builtin import supported_versions
    from pipeline.gate.schema.validate import NAMESPACE, Validator
    from pipeline.model.results import CheckResult
    from pipeline.terminal import use_color

    files = read_inputs(args.paths)
    if not files:
        raise InputError("no files found", operation="read " + " ".join(args.paths))
    version = args.kubernetes_version or supported_versions()[-1]
    resources = [res for name, docs in files for res in _resources(name, docs, "")]
    crds = [res for name, docs in read_inputs(args.crd) for res in _resources(name, docs, "--crd")]
    by_file = {
        r.filename: r
        for r in Validator().validate_resources(
            resources, version, preinstalled_crds=crds, version_source="--kubernetes-version"
        )
    }
    # A file of empty documents still shows in the report, with nothing to count.
    results = [by_file.get(name) or CheckResult(name, NAMESPACE) for name, _ in files]
    code = exit_code(results)
    text = report.render(results, args.output, color=use_color(sys.stdout, not args.no_color))
    if text and not (args.quiet and code == 0):
        sys.stdout.write(text)
        sys.stdout.flush()
    return code


def _resources(name: str, documents: list[Any], option: str) -> list[Resource]:
    """A file's objects as ``Resource``s; empty documents are skipped, others refused."""
    from pipeline.errors import InputError
    from pipeline.gate.schema.crd import is_crd
    from pipeline.gate.schema.problems import type_name
    from pipeline.model.resource import Origin, Resource

    out = []
    for index, doc in enumerate(documents):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise InputError(
                f"expected an object (a Kubernetes manifest), got {type_name(doc)}",
                file=name,
                operation=f"doc {index}",
            )
        if not option and _is_list(doc):
            for number, item in enumerate(doc["items"]):
                if not isinstance(item, dict):
                    raise InputError(
                        f"expected an object (a Kubernetes manifest), got {type_name(item)}",
                        file=name,
                        operation=f"doc {index} items[{number}]",
                    )
                out.append(Resource(item, Origin(name, index)))
            continue
        res = Resource(doc, Origin(name, index))
        if option and not is_crd(doc):
            raise InputError(
                "is not an apiextensions.k8s.io/v1 CustomResourceDefinition",
                file=name,
                operation=f"{option} doc {index}",
                resource=str(res.id),
            )
        out.append(res)
    return out


def _is_list(doc: dict[str, Any]) -> bool:
    return (
        doc.get("apiVersion") == "v1"
        and doc.get("kind") == "List"
        and isinstance(doc.get("items"), list)
    )
