"""Schema validation (pipeline/schema): built-in kinds, custom resources, bad input, the CLI.

Manifests live in tests/gate/schema_cases/, one per case; the tables below hold the
exact findings each must give.  Custom resources are checked against
``ippool-crd.yaml`` (a strict stand-in for Calico's permissive IPPool CRD),
``felixconfiguration-crd.yaml`` (the idioms of Calico's generated CRDs) and
``widget-crd.yaml`` (Kubernetes' schema extensions).
"""

from __future__ import annotations

import argparse
import copy
import importlib.metadata
import json
from pathlib import Path
from typing import Any

import pytest

from pipeline.cli.validate import register
from pipeline.errors import InputError, NetpackError
from pipeline.flow import render_cluster
from pipeline.gate.inputs import parse_file
from pipeline.gate.report import FORMATS
from pipeline.gate.schema.builtin import supported_versions
from pipeline.gate.schema.validate import Validator, validate_resources
from pipeline.kustomize.output import file_names, ordered
from pipeline.memo import Memo
from pipeline.model.resource import Body, Origin, Resource
from pipeline.model.results import CheckResult, Result
from pipeline.values.cluster import read_cluster
from tests.conftest import ROOT

CASES = ROOT / "tests" / "gate" / "schema_cases"
CALICO_CRDS = ROOT / "base" / "components" / "kubernetes" / "crds"
VERSION = "1.32"


def documents(name: str, directory: Path = CASES) -> list[Resource]:
    """The objects of one case file, each remembering its file and document index."""
    docs = parse_file(directory / name, name)
    return [Resource(doc, Origin(name, i)) for i, doc in enumerate(docs) if doc is not None]


def crds() -> list[Body]:
    files = ("ippool-crd.yaml", "felixconfiguration-crd.yaml", "widget-crd.yaml")
    return [r.body for name in files for r in documents(name)]


def failures(name: str, version: str = VERSION) -> list[str]:
    results = validate_resources(documents(name), version, preinstalled_crds=crds())
    return [item.msg for result in results for item in result.failures]


DS = "DaemonSet/calico-node"
POOL = "IPPool/default-ipv4-ippool"
FELIX = "FelixConfiguration/default"
FINDINGS = [
    ("daemonset.yaml", []),
    (
        "daemonset-typo.yaml",
        [
            f"{DS}: spec.template.spec.containers: missing required field",
            f"{DS}: spec.template.spec.contianers: unknown field",
        ],
    ),
    (
        "daemonset-type.yaml",
        [f'{DS}: spec.template.spec.hostNetwork: expected boolean, got string "true"'],
    ),
    (
        "daemonset-required.yaml",
        [f"{DS}: spec.template.spec.containers[0].name: missing required field"],
    ),
    (
        "daemonset-kind.yaml",
        ["Frobnicator/calico-node: apps/v1 Frobnicator is not a kind of Kubernetes 1.32"],
    ),
    ("ippool.yaml", []),
    ("ippool-typo.yaml", [f"{POOL}: spec.natOutgoin: unknown field"]),
    ("ippool-type.yaml", [f'{POOL}: spec.natOutgoing: expected boolean, got string "true"']),
    ("ippool-required.yaml", [f"{POOL}: spec.cidr: missing required field"]),
    (
        "ippool-kind.yaml",
        [
            "IPPol/default-ipv4-ippool: no CustomResourceDefinition among the manifests or"
            " pre-installed ones defines crd.projectcalico.org/v1 IPPol"
        ],
    ),
    ("felixconfiguration.yaml", []),  # "nft" matches ^(?i)(Auto|Legacy|NFT)?$
    (
        "felixconfiguration-bad.yaml",
        [
            f'{FELIX}: spec.failsafeInboundHostPorts[0].port: expected integer, got string "22"',
            f"{FELIX}: spec.failsafeInboundHostPorts[0].protocol: missing required field",
            f'{FELIX}: spec.iptablesBackend: "iptables" does not match "^(?i)(Auto|Legacy|NFT)?$"',
            f"{FELIX}: spec.natPortRange: expected integer or string, got boolean true",
            f"{FELIX}: spec.reportingInterval: expected string, got integer 30",
        ],
    ),
    ("widget.yaml", []),
    (
        "widget-bad.yaml",
        [
            "Widget/w: metadata.labels.app: expected string, got integer 5",
            "Widget/w: spec.config.checked.levle: unknown field",
            "Widget/w: spec.labels.app: expected string, got integer 5",
            'Widget/w: spec.note: "c" is not one of "a", "b", null',
            "Widget/w: spec.port: expected integer or string, got boolean true",
            "Widget/w: spec.template: expected object, got array",
            "Widget/w: status: unknown field",
        ],
    ),
]


@pytest.mark.parametrize(("case", "expected"), FINDINGS)
def test_findings(case: str, expected: list[str]) -> None:
    assert failures(case) == expected


def test_result_shape() -> None:
    """One CheckResult per file, namespace schema, the field path in metadata."""
    resources = documents("daemonset-type.yaml") + documents("daemonset.yaml")
    assert validate_resources(resources, VERSION) == [
        CheckResult(
            filename="daemonset-type.yaml",
            namespace="schema",
            failures=[
                Result(
                    f'{DS}: spec.template.spec.hostNetwork: expected boolean, got string "true"',
                    {"query": "schema", "field": "spec.template.spec.hostNetwork"},
                )
            ],
        ),
        CheckResult(filename="daemonset.yaml", namespace="schema", successes=1),
    ]


def test_names_give_each_resource_its_own_result() -> None:
    resources = documents("ippool-crd.yaml") + documents("ippool.yaml")
    results = validate_resources(resources, VERSION, names=["c1/crd.yaml", "c1/pool.yaml"])
    assert [(r.filename, r.successes, r.failures) for r in results] == [
        ("c1/crd.yaml", 1, []),
        ("c1/pool.yaml", 1, []),
    ]


@pytest.mark.parametrize("path", sorted((ROOT / "clusters").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_example_cluster_validates_clean(path: Path) -> None:
    cluster = read_cluster(path, ROOT, str(path))
    items = ordered(render_cluster(cluster, None).resources)
    names = [f"{cluster.name}/{n}" for n in file_names(items, Path(cluster.name))]
    results = validate_resources(items, cluster.kubernetes_version, names=names)
    assert [item.msg for result in results for item in result.failures] == []
    assert [(r.filename, r.successes) for r in results] == [(n, 1) for n in names]


def test_the_crd_in_the_render_wins_over_a_preinstalled_one() -> None:
    calico = documents("crd.projectcalico.org_ippools.yaml", CALICO_CRDS)
    pool = documents("ippool-typo.yaml")
    # Calico's own CRD preserves unknown fields: the typo passes, metadata is still checked.
    assert validate_resources(pool, VERSION, preinstalled_crds=calico)[0].successes == 1
    strict = documents("ippool-crd.yaml")
    results = validate_resources(strict + pool, VERSION, preinstalled_crds=calico)
    assert [item.msg for item in results[1].failures] == [f"{POOL}: spec.natOutgoin: unknown field"]


def test_a_crd_is_validated_as_a_builtin_kind() -> None:
    crd = documents("ippool-crd.yaml")[0]
    body = copy.deepcopy(crd.body)
    body["spec"]["scop"] = body["spec"].pop("scope")
    results = validate_resources([Resource(body, crd.origin)], VERSION)
    assert [item.msg for item in results[0].failures] == [
        "CustomResourceDefinition/ippools.crd.projectcalico.org: spec.scop: unknown field",
        "CustomResourceDefinition/ippools.crd.projectcalico.org: spec.scope: missing required field",
    ]


def test_a_kind_removed_from_kubernetes_names_the_version_that_serves_it() -> None:
    body = {**documents("daemonset.yaml")[0].body, "apiVersion": "apps/v1beta2"}
    results = validate_resources([Resource(body, Origin("ds.yaml", 0))], VERSION)
    assert [item.msg for item in results[0].failures] == [
        f"{DS}: apps/v1beta2 DaemonSet is not served by Kubernetes 1.32 (apps/v1 is)"
    ]


def test_one_validator_keeps_verdicts_apart_per_schema() -> None:
    validator = Validator()
    calico = documents("crd.projectcalico.org_ippools.yaml", CALICO_CRDS)
    pool = documents("ippool-typo.yaml")
    for _ in range(2):  # the second round answers from what the first compiled and judged
        strict = validator.validate_resources(pool, VERSION, preinstalled_crds=crds())
        loose = validator.validate_resources(pool, VERSION, preinstalled_crds=calico)
        assert (len(strict[0].failures), loose[0].successes) == (1, 1)


def test_a_memo_remembers_shared_parts_without_changing_any_finding() -> None:
    """A fleet's DaemonSets share untouched parts (copy-on-write patches): a memo checks
    a shared part once, and every finding keeps its own full path."""
    base = documents("daemonset.yaml")[0].body
    pod = base["spec"]["template"]["spec"]
    bad_volume = {"name": "v", "hostPath": {"path": "/x", "typ": "Directory"}}
    volumes = [*pod.get("volumes", []), bad_volume]  # one list, shared by both bodies
    bodies = []
    for host_network in (True, "yes"):
        spec = {**pod, "volumes": volumes, "hostNetwork": host_network}
        template = {**base["spec"]["template"], "spec": spec}
        bodies.append({**base, "spec": {**base["spec"], "template": template}})
    resources = [Resource(b, Origin(f"ds{i}.yaml", 0)) for i, b in enumerate(bodies)]

    def messages(memo: Memo | None, version: str) -> list[list[str]]:
        found = []
        for res in resources:  # one call per body, as the gate does per cluster
            results = Validator().validate_resources([res], version, memo=memo)
            found.append([item.msg for item in results[0].failures])
        return found

    memo = Memo()
    memo.freeze(bodies)
    volume = f"{DS}: spec.template.spec.volumes[{len(volumes) - 1}].hostPath.typ: unknown field"
    for version in (VERSION, "1.31"):
        plain = messages(None, version)
        assert plain == [
            [volume],
            [f'{DS}: spec.template.spec.hostNetwork: expected boolean, got string "yes"', volume],
        ]
        assert messages(memo, version) == plain
        assert messages(memo, version) == plain  # answered from the memo this time
    assert memo.table("schema subtrees")


# --- Bad input: one-line NetpackErrors naming the file and the resource ---

KV = f"kubernetes-validate {importlib.metadata.version('kubernetes-validate')}"
SUPPORTED = f"{supported_versions()[0]} to {supported_versions()[-1]}"


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("1.24", f"Kubernetes 1.24 is not supported: {KV} has schemas for {SUPPORTED}"),
        ("2.0", f"Kubernetes 2.0 is not supported: {KV} has schemas for {SUPPORTED}"),
        ("1.x", "Kubernetes version '1.x' is not a version like \"1.32\""),
        ("", "Kubernetes version '' is not a version like \"1.32\""),
    ],
)
def test_bad_kubernetes_version(version: str, message: str) -> None:
    with pytest.raises(NetpackError) as err:
        validate_resources(documents("daemonset.yaml"), version, version_source="c1.yaml")
    assert str(err.value) == f"c1.yaml: {message}"


@pytest.mark.parametrize("version", ["1.25", "v1.32", "1.32.4", "1.37"])
def test_good_kubernetes_versions(version: str) -> None:
    assert validate_resources(documents("daemonset.yaml"), version)[0].successes == 1


def _without(key: str) -> list[Resource]:
    res = documents("daemonset.yaml")[0]
    return [Resource({k: v for k, v in res.body.items() if k != key}, res.origin)]


@pytest.mark.parametrize(
    ("key", "names", "message"),
    [
        (
            "apiVersion",
            None,
            "daemonset.yaml doc 0: DaemonSet/kube-system/calico-node: no apiVersion"
            " (every object needs apiVersion and kind)",
        ),
        (
            "kind",
            ["c1/ds.yaml"],
            "c1/ds.yaml: apps/v1/kube-system/calico-node (daemonset.yaml doc 0): no kind"
            " (every object needs apiVersion and kind)",
        ),
    ],
)
def test_document_without_api_version_or_kind(
    key: str, names: list[str] | None, message: str
) -> None:
    with pytest.raises(NetpackError) as err:
        validate_resources(_without(key), VERSION, names=names)
    assert str(err.value) == message


CRD_ID = "apiextensions.k8s.io/v1/CustomResourceDefinition/ippools.crd.projectcalico.org"
SPEC = "spec.versions[0].schema.openAPIV3Schema.properties.spec"


def _crd_with(path: list[Any], value: Any) -> Resource:
    """ippool-crd.yaml with the value at ``path`` set (``...`` deletes it)."""
    res = documents("ippool-crd.yaml")[0]
    body = copy.deepcopy(res.body)
    node = body
    for key in path[:-1]:
        node = node[key]
    if value is ...:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return Resource(body, res.origin)


SCHEMA = ["spec", "versions", 0, "schema", "openAPIV3Schema", "properties", "spec"]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            [*SCHEMA, "properties", "cidr", "type"],
            "strin",
            f"{SPEC}.properties.cidr.type: invalid schema:"
            ' "strin" is not one of array, boolean, integer, number, object, string',
        ),
        (
            [*SCHEMA, "properties", "cidr", "pattern"],
            "[a-",
            f'{SPEC}.properties.cidr.pattern: invalid schema: "[a-" is not a valid regex',
        ),
        (
            [*SCHEMA, "required"],
            "cidr",
            f'{SPEC}.required: invalid schema: expected array, got string "cidr"',
        ),
        (
            [*SCHEMA, "properties", "allowedUses", "items"],
            5,
            f"{SPEC}.properties.allowedUses.items: invalid schema: expected object, got integer 5",
        ),
        (
            [*SCHEMA, "properties", "cidr"],
            {"$ref": "#/definitions/cidr"},
            f"{SPEC}.properties.cidr.$ref: invalid schema: $ref is not allowed in a CRD schema",
        ),
        (
            ["spec", "versions", 0, "schema"],
            ...,
            "spec.versions[0].schema.openAPIV3Schema: missing"
            " (apiextensions.k8s.io/v1 needs a schema per served version)",
        ),
    ],
)
def test_crd_with_an_invalid_schema(path: list[Any], value: Any, message: str) -> None:
    crd = _crd_with(path, value)
    with pytest.raises(NetpackError) as err:
        validate_resources([crd, *documents("ippool.yaml")], VERSION)
    assert str(err.value) == f"ippool-crd.yaml doc 0: {CRD_ID}: {message}"
    with pytest.raises(NetpackError) as err:
        validate_resources(documents("ippool.yaml"), VERSION, preinstalled_crds=[crd.body])
    assert str(err.value) == f"pre-installed CRD doc 0: {CRD_ID}: {message}"


def test_a_pattern_in_re2_only_syntax_is_accepted_not_checked() -> None:
    crd = _crd_with([*SCHEMA, "properties", "cidr", "pattern"], r"^\p{Lu}")
    results = validate_resources([crd, *documents("ippool.yaml")], VERSION)
    assert [r.successes for r in results] == [1, 1]


@pytest.mark.parametrize("version", ["v1beta1", "v3"])  # listed but not served; not listed
def test_custom_resource_of_a_version_its_crd_does_not_serve(version: str) -> None:
    pool = documents("ippool.yaml")[0]
    body = {**pool.body, "apiVersion": f"crd.projectcalico.org/{version}"}
    resources = [*documents("ippool-crd.yaml"), Resource(body, pool.origin)]
    with pytest.raises(NetpackError) as err:
        validate_resources(resources, VERSION, names=["c1/crd.yaml", "c1/pool.yaml"])
    assert str(err.value) == (
        f"c1/pool.yaml: crd.projectcalico.org/{version}/IPPool/default-ipv4-ippool"
        " (ippool.yaml doc 0): CustomResourceDefinition ippools.crd.projectcalico.org"
        f" (c1/crd.yaml, ippool-crd.yaml doc 0) serves v1, not {version}"
    )


# --- netpack validate ---


@pytest.fixture
def cases(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(CASES)
    return CASES


def netpack(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="netpack")
    register(parser.add_subparsers())
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code, capsys.readouterr().out


def test_cli_reports_failures(cases: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ("validate", "daemonset-type.yaml", "daemonset.yaml", "--no-color")
    assert netpack(capsys, *argv) == (
        1,
        f"FAIL - daemonset-type.yaml - schema - {DS}: spec.template.spec.hostNetwork:"
        ' expected boolean, got string "true"\n'
        "\n"
        "2 tests, 1 passed, 0 warnings, 1 failure, 0 exceptions\n",
    )


def test_cli_crd_option(cases: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ("validate", "ippool-typo.yaml", "--crd", "ippool-crd.yaml", "-o", "json")
    code, out = netpack(capsys, *argv)
    assert code == 1
    assert json.loads(out) == [
        {
            "filename": "ippool-typo.yaml",
            "namespace": "schema",
            "successes": 0,
            "failures": [
                {
                    "msg": f"{POOL}: spec.natOutgoin: unknown field",
                    "metadata": {"field": "spec.natOutgoin", "query": "schema"},
                }
            ],
        }
    ]


def test_cli_crds_among_the_paths_count(cases: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert netpack(capsys, "validate", "ippool-crd.yaml", "ippool.yaml", "-o", "tap") == (
        0,
        "1..1\n# successes\nok 1 - ippool-crd.yaml - schema - SUCCESS\n"
        "1..1\n# successes\nok 1 - ippool.yaml - schema - SUCCESS\n",
    )
    assert netpack(capsys, "validate", "ippool.yaml", "--no-color")[0] == 1


def test_cli_quiet(cases: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert netpack(capsys, "validate", "daemonset.yaml", "--quiet") == (0, "")
    assert netpack(capsys, "validate", "daemonset-kind.yaml", "--quiet")[0] == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_cli_every_format(cases: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    code, out = netpack(capsys, "validate", "daemonset-type.yaml", "-o", fmt)
    assert code == 1 and "hostNetwork" in out


def test_cli_version_option(cases: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = netpack(capsys, "validate", "daemonset-kind.yaml", "--no-color")
    assert f"is not a kind of Kubernetes {supported_versions()[-1]}" in out  # the default
    argv = ("daemonset-kind.yaml", "--kubernetes-version", "1.30", "--no-color")
    assert "is not a kind of Kubernetes 1.30" in netpack(capsys, "validate", *argv)[1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ("daemonset.yaml", "--kubernetes-version", "1.24"),
            f"--kubernetes-version: Kubernetes 1.24 is not supported: {KV} has schemas for"
            f" {SUPPORTED}",
        ),
        (
            ("ippool.yaml", "--crd", "daemonset.yaml"),
            "daemonset.yaml --crd doc 0: apps/v1/DaemonSet/kube-system/calico-node:"
            " is not an apiextensions.k8s.io/v1 CustomResourceDefinition",
        ),
        (("missing.yaml",), "missing.yaml read: no such file or directory"),
    ],
)
def test_cli_errors(
    cases: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    with pytest.raises(NetpackError) as err:
        netpack(capsys, "validate", *argv)
    assert str(err.value) == message


def test_cli_documents_that_are_no_objects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("empty.yaml").write_text("")
    Path("list.yaml").write_text("- 5\n")
    assert netpack(capsys, "validate", "empty.yaml", "--no-color") == (
        0,
        "\n0 tests, 0 passed, 0 warnings, 0 failures, 0 exceptions\n",
    )
    with pytest.raises(InputError) as err:
        netpack(capsys, "validate", "list.yaml")
    assert str(err.value) == (
        "list.yaml doc 0: expected an object (a Kubernetes manifest), got integer"
    )
