"""The fault corpus: bad input, hostile input and broken parts, each as one row of data.

Every case writes its files into a fresh copy of the pack, runs one ``netpack``
command line and asserts the three guarantees: the documented exit code with
its one line on stderr (a regex), no traceback, and nothing written (no output
directory, no staging directory, an empty stdout, the deploy repo unchanged).
Cases that need a process of their own (a policy that computes for minutes, an
engine missing, an OPA server) run as a subprocess; the rest run in-process.

The rows cover issue 15's items 1-12 and issue 13's item 11, and the classes
they stand for.  Some classes are driven from their own module's table
(``tests/values/test_cluster.py``'s ``BAD``: every bad value, here through
``netpack render``); the kill -9 loops are in ``tests/publish/test_stale_locks.py``
and ``tests/publish/test_faults.py``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pipeline.cli.main import main
from tests.conftest import ROOT
from tests.gate.opa_rest_server import REAL, OpaRestServer
from tests.publish.test_commit import isolate, sh
from tests.values.test_cluster import BAD as BAD_VALUES

GOOD = """\
name: c1
cloud: aws
kubernetes: {version: "1.32", podCIDR: 10.244.0.0/16, serviceClusterIpRange: 10.96.0.0/12}
values:
  calico:
    calicoNetworkCIDR: 10.244.0.0/16
"""
PEM = "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n-----END PRIVATE KEY-----"
SLOW = (ROOT / "tests" / "gate" / "fixtures" / "slow" / "slow.rego").read_text()
CRASHING_TEST = """package main

deny contains m if { m := lower(input.k) }

test_crashes_regopy if { count(deny) == 1 with input as {"k": "A"} }
"""


def values(text: str) -> str:
    """A cluster file ``c1`` with ``text`` under ``values.calico``."""
    return GOOD + "".join(f"    {line}\n" for line in text.splitlines())


@dataclass(frozen=True)
class Case:
    """One fault: files to write (pack-relative), the command, what must come of it."""

    id: str
    covers: str  # the issue item or the class it stands for
    command: tuple[str, ...]  # {out} {repo} {url} are filled in
    code: int
    stderr: str  # a regex the one error line must match (re.search)
    files: dict[str, str] = field(default_factory=dict)
    subprocess: bool = False
    blocked: tuple[str, ...] = ()  # modules made unimportable (a missing extra)
    repo: str = ""  # "": no deploy repo; "published": one publish first; "stale" / "foreign"
    answer: object = REAL  # the OPA server's answer to every evaluation


RENDER = ("render", "clusters/c1.yaml", "-o", "{out}")
PUBLISH = ("publish", "clusters/c1.yaml", "--deploy-repo", "{repo}", "-j", "1")

CASES = [
    # --- 1. integers are ASCII digits
    Case(
        "mtu-superscript",
        "15.1",
        RENDER,
        3,
        r"c1\.yaml values\.calico\.mtu: '²' is not a whole number",
        {"clusters/c1.yaml": values('mtu: "²"')},
    ),
    Case(
        "blocksize-superscript",
        "15.1",
        RENDER,
        3,
        r"values\.calico\.blockSize: '2³' is not a whole number",
        {"clusters/c1.yaml": values('blockSize: "2³"')},
    ),
    Case(
        "mtu-arabic-indic",
        "15.1",
        RENDER,
        3,
        r"values\.calico\.mtu: '١٤٥٠' is not a whole number",
        {"clusters/c1.yaml": values('mtu: "١٤٥٠"')},
    ),
    Case(
        "mtu-5000-digits",
        "15.1",
        RENDER,
        3,
        r"values\.calico\.mtu: 9+\.\.\. is outside 0-65535",
        {"clusters/c1.yaml": values('mtu: "' + "9" * 5000 + '"')},
    ),
    # --- 2. values own datastore, pool and credential env on every workload
    Case(
        "controllers-datastore-type",
        "15.2",
        RENDER,
        3,
        r"env\.calicoKubeControllers\.DATASTORE_TYPE: 'etcdv3' contradicts datastore: kubernetes",
        {"clusters/c1.yaml": values("env: {calicoKubeControllers: {DATASTORE_TYPE: etcdv3}}")},
    ),
    Case(
        "controllers-etcd-endpoints",
        "15.2",
        RENDER,
        3,
        r"env\.calicoKubeControllers\.ETCD_ENDPOINTS: set it with etcdEndpoints instead",
        {
            "clusters/c1.yaml": values(
                "env: {calicoKubeControllers: {ETCD_ENDPOINTS: 'http://10.0.0.5:2379'}}"
            )
        },
    ),
    Case(
        "node-pool-env",
        "15.2",
        RENDER,
        3,
        r"env\.calicoNode\.CALICO_IPV4POOL_NAT_OUTGOING: the IP pool is set by",
        {"clusters/c1.yaml": values("env: {calicoNode: {CALICO_IPV4POOL_NAT_OUTGOING: 'false'}}")},
    ),
    Case(
        "felix-datastore",
        "15.2",
        PUBLISH,
        3,
        r"env\.calicoNode\.FELIX_DATASTORETYPE: set it with datastore instead",
        {"clusters/c1.yaml": values("env: {calicoNode: {FELIX_DATASTORETYPE: kubernetes}}")},
        repo="published",
    ),
    Case(
        "palette-controllers-datastore",
        "15.2",
        RENDER,
        3,
        r"values\.manifests\.calico\.env\.calicoKubeControllers\.DATASTORE_TYPE: 'etcdv3' contradicts",
        {
            "clusters/c1.yaml": GOOD.split("values:")[0]
            + "values:\n  manifests:\n    calico:\n      env: {calicoKubeControllers: {DATASTORE_TYPE: etcdv3}}\n"
        },
    ),
    Case(
        "kubeconfig-env",
        "15.2",
        RENDER,
        3,
        r"env\.calicoKubeControllers\.KUBECONFIG: is a datastore connection or credential setting",
        {"clusters/c1.yaml": values("env: {calicoKubeControllers: {KUBECONFIG: /etc/k}}")},
    ),
    # --- 3. etcd endpoints: scheme and port
    Case(
        "etcd-port-99999",
        "15.3",
        PUBLISH,
        3,
        r"etcdEndpoints: 'https://10\.0\.0\.5:99999': port 99999 is outside 1-65535",
        {"clusters/c1.yaml": values("datastore: etcd\netcdEndpoints: https://10.0.0.5:99999")},
        repo="published",
    ),
    Case(
        "etcd-port-0",
        "15.3",
        RENDER,
        3,
        r"'http://b:0': port 0 is outside 1-65535",
        {"clusters/c1.yaml": values("datastore: etcd\netcdEndpoints: https://a:2379,http://b:0")},
    ),
    Case(
        "etcd-scheme",
        "15.3",
        RENDER,
        3,
        r"'unix:///run/etcd' is not an etcd URL",
        {"clusters/c1.yaml": values("datastore: etcd\netcdEndpoints: unix:///run/etcd")},
    ),
    # --- 4. duplicate names are bad input
    Case(
        "duplicate-names",
        "15.4",
        ("render", "clusters/c1.yaml", "clusters/c2.yaml", "-o", "{out}"),
        3,
        r"clusters/c2\.yaml name: cluster name 'c1' is used by clusters/c1\.yaml too",
        {"clusters/c1.yaml": GOOD, "clusters/c2.yaml": GOOD},
    ),
    Case(
        "duplicate-names-publish-all",
        "15.4",
        ("publish", "--all", "--deploy-repo", "{repo}", "-j", "1"),
        3,
        r"name: cluster name 'c1' is used by",
        {"clusters/c1.yaml": GOOD, "clusters/c2.yaml": GOOD},
        repo="published",
    ),
    # --- 5. size limits
    Case(
        "value-over-4k",
        "15.5",
        RENDER,
        3,
        r"values\.calico\.ipAutodetectionMethod: is 50\d+ bytes long; a value may hold at most 4096",
        {"clusters/c1.yaml": values("ipAutodetectionMethod: interface=" + "e" * 5000)},
    ),
    Case(
        "object-over-1.5mib",
        "15.5",
        PUBLISH,
        3,
        r"clusters/c1\.yaml render: apps/v1/DaemonSet/kube-system/calico-node: renders 1\.\d MiB, over the API server's 1\.5 MiB limit",
        {
            "clusters/c1.yaml": values(
                "env:\n  calicoNode:\n" + "".join(f"    F{i}: '{'x' * 4000}'\n" for i in range(420))
            )
        },
        repo="published",
    ),
    # --- 6. cloud is a plain name
    Case(
        "cloud-traversal",
        "15.6",
        RENDER,
        3,
        r"c1\.yaml cloud: '\.\./base' is not a plain cloud name",
        {"clusters/c1.yaml": GOOD.replace("cloud: aws", "cloud: ../base")},
    ),
    Case(
        "cloud-dot",
        "15.6",
        RENDER,
        3,
        r"cloud: 'aws/\.' is not a plain cloud name",
        {"clusters/c1.yaml": GOOD.replace("cloud: aws", "cloud: aws/.")},
    ),
    Case(
        "cloud-dotdot",
        "15.6",
        PUBLISH,
        3,
        r"cloud: '\.\.' is not a plain cloud name",
        {"clusters/c1.yaml": GOOD.replace("cloud: aws", "cloud: '..'")},
        repo="published",
    ),
    # --- 7. policy timeout
    Case(
        "timeout-render",
        "15.7",
        (*RENDER, "--policy-timeout", "1"),
        3,
        r"policies/slow\.rego evaluate data\.main\.deny_slow: cluster c1: the policies did not finish within 1 s",
        {"clusters/c1.yaml": GOOD, "policies/slow.rego": SLOW},
        subprocess=True,
    ),
    Case(
        "timeout-publish",
        "15.7",
        (*PUBLISH, "--policy-timeout", "1"),
        3,
        r"evaluate [^:]*data\.main\.deny_slow[^:]*: cluster c1: the policies did not finish within 1 s",
        {"clusters/c1.yaml": GOOD, "policies/slow.rego": SLOW},
        subprocess=True,
        repo="published",
    ),
    Case(
        "timeout-test",
        "15.7",
        ("test", "clusters", "-p", "policies", "--policy-timeout", "1"),
        3,
        r"policies/slow\.rego evaluate data\.main\.deny_slow: 1 file\(s\): the policies did not finish",
        {"clusters/c1.yaml": "kind: DaemonSet\nmetadata: {name: x}\n", "policies/slow.rego": SLOW},
        subprocess=True,
    ),
    Case(
        "timeout-render-regopy",
        "15.7",
        (*RENDER, "--policy-timeout", "1", "--engine", "regopy"),
        3,
        r"policies/slow\.rego .*evaluate data\.main: cluster c1: the policies did not finish within 1 s",
        {"clusters/c1.yaml": GOOD, "policies/slow.rego": SLOW},
        subprocess=True,
    ),
    Case(
        "timeout-zero",
        "15.7",
        (*RENDER, "--policy-timeout", "0"),
        2,
        r"argument --policy-timeout: 0 is not between 0 and 86400 seconds",
        {"clusters/c1.yaml": GOOD},
        subprocess=True,
    ),
    # --- 8. a policy set that can deny nothing
    Case(
        "only-tests-left",
        "15.8",
        (*RENDER, "-p", "tests-only"),
        3,
        r"tests-only load policies: no deny or violation rule in package main .*can deny nothing",
        {
            "clusters/c1.yaml": GOOD,
            "tests-only/a_test.rego": "package main\n\ntest_a if { true }\n",
            "tests-only/lib.rego": "package lib\n\nx := 1\n",
        },
    ),
    Case(
        "package-renamed",
        "15.8",
        (*PUBLISH, "-p", "renamed"),
        3,
        r"no deny or violation rule in package main \(the package the gate queries; loaded: mine\)",
        {
            "clusters/c1.yaml": GOOD,
            "renamed/a.rego": 'package mine\n\ndeny contains "x" if { true }\n',
        },
        repo="published",
    ),
    Case(
        "empty-policy-dir",
        "15.8 class",
        (*RENDER, "-p", "nothing"),
        3,
        r"no policies found in \[nothing\]",
        {"clusters/c1.yaml": GOOD, "nothing/README": "no rego here\n"},
    ),
    # --- 9. an OPA server that answers nonsense
    *[
        Case(
            f"opa-server-answers-{name}",
            "15.9",
            (*RENDER, "--engine", "opa-server", "--opa-url", "{url}"),
            5,
            r"OPA server http://127\.0\.0\.1:\d+ answered|the engine answered",
            {"clusters/c1.yaml": GOOD},
            subprocess=True,
            answer=answer,
        )
        for name, answer in (
            ("empty", {}),
            ("no-result", {"decision_id": "1"}),
            ("result-list", {"result": []}),
            ("result-null", {"result": None}),
            ("result-string", {"result": "ok"}),
            ("not-json", b"<html>proxy</html>"),
        )
    ],
    Case(
        "opa-server-unreachable",
        "15.9 class",
        (*RENDER, "--engine", "opa-server", "--opa-url", "http://127.0.0.1:9"),
        3,
        r"cannot reach the OPA server at http://127\.0\.0\.1:9",
        {"clusters/c1.yaml": GOOD},
        subprocess=True,
    ),
    # --- 10. engines without their extras
    Case(
        "no-regopy-extra",
        "15.10",
        (*RENDER, "--engine", "regopy"),
        2,
        r"--engine regopy needs the 'regopy' package, which is not installed; install the extra: pip install 'netpack\[regopy\]'",
        {"clusters/c1.yaml": GOOD},
        subprocess=True,
        blocked=("regopy",),
    ),
    Case(
        "no-server-extra",
        "15.10",
        (*RENDER, "--engine", "opa-server", "--opa-url", "http://127.0.0.1:8181"),
        2,
        r"--engine opa-server needs the 'opa_client' package.*pip install 'netpack\[server\]'",
        {"clusters/c1.yaml": GOOD},
        subprocess=True,
        blocked=("opa_client",),
    ),
    # --- 11. git locks in the deploy repo
    Case(
        "foreign-git-lock",
        "15.11",
        PUBLISH,
        3,
        r"refs/heads/main\.lock",
        {"clusters/c1.yaml": values("blockSize: 27")},
        repo="foreign",
    ),
    # --- 12. key material never reaches the deploy repo
    Case(
        "etcd-key-in-env",
        "15.12",
        PUBLISH,
        3,
        r"env\.calicoNode\.ETCD_KEY: is a datastore connection or credential setting",
        {"clusters/c1.yaml": values(f'env: {{calicoNode: {{ETCD_KEY: "{PEM}"}}}}')},
        repo="published",
    ),
    Case(
        "key-in-overlay-annotation",
        "15.12",
        PUBLISH,
        1,
        r"the gate failed; nothing was published",
        {"clusters/c1.yaml": GOOD.replace("cloud: aws", "cloud: keyed")},
        repo="published",
    ),
    Case(
        "key-in-overlay-configmap",
        "15.12",
        RENDER,
        1,
        r"^$",
        {"clusters/c1.yaml": GOOD.replace("cloud: aws", "cloud: keyed")},
    ),
    # --- issue 13 item 11: regopy crashing in verify is an engine error
    Case(
        "verify-regopy-sigsegv",
        "13.11",
        ("verify", "-p", "crashing", "--engine", "regopy"),
        5,
        r"crashing/main_test\.rego run test data\.main\.test_crashes_regopy: regopy crashed \(SIGSEGV\) running this test: the engine failed, not the test",
        {"crashing/main_test.rego": CRASHING_TEST},
        subprocess=True,
    ),
    # --- the classes these stand for
    Case(
        "not-utf8",
        "input class",
        RENDER,
        3,
        r"c1\.yaml read: .*UTF-8",
        {"clusters/c1.yaml": "name: c\udcff1\n"},
    ),
    Case(
        "duplicate-key",
        "input class",
        RENDER,
        3,
        r"c1\.yaml.*duplicate",
        {"clusters/c1.yaml": GOOD + "name: c2\n"},
    ),
    Case(
        "alias-bomb",
        "input class",
        RENDER,
        3,
        r"c1\.yaml",
        {
            "clusters/c1.yaml": "a: &a [x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{c}: &{c} [{', '.join(['*' + chr(ord(c) - 1)] * 9)}]\n" for c in "bcdefghij"
            )
            + GOOD
        },
    ),
    Case(
        "missing-cluster-file",
        "input class",
        ("render", "clusters/gone.yaml", "-o", "{out}"),
        3,
        r"clusters/gone\.yaml read: no such file",
    ),
    Case(
        "rego-syntax-error",
        "policy class",
        (*RENDER, "-p", "broken"),
        3,
        r"broken/a\.rego:\d parse: rego_parse_error",
        {"clusters/c1.yaml": GOOD, "broken/a.rego": "package main\n\ndeny contains msg if {\n"},
    ),
    Case(
        "deploy-repo-is-a-file",
        "deploy class",
        ("publish", "clusters/c1.yaml", "--deploy-repo", "afile", "-j", "1"),
        3,
        r"afile deploy repo: is a file, not a git repository",
        {"clusters/c1.yaml": GOOD, "afile": "x\n"},
    ),
    Case(
        "dirty-deploy-checkout",
        "deploy class",
        PUBLISH,
        3,
        r"has uncommitted changes",
        {"clusters/c1.yaml": values("blockSize: 27")},
        repo="dirty",
    ),
    Case(
        "bad-command-line",
        "usage class",
        ("render", "clusters/c1.yaml", "--jobs", "many"),
        2,
        r"argument -j/--jobs: invalid int value",
        {"clusters/c1.yaml": GOOD},
        subprocess=True,
    ),
]

# An overlay that puts a private key where the gate must find it: a ConfigMap's data
# and an annotation of the kube-controllers Deployment.
KEYED_OVERLAY = f"""\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [../aws]
patches:
- target: {{kind: ConfigMap, name: calico-config}}
  patch: |-
    - {{op: add, path: /data/tls_key, value: "{PEM}"}}
- target: {{kind: Deployment, name: calico-kube-controllers}}
  patch: |-
    - {{op: add, path: /metadata/annotations, value: {{backup-key: "{PEM}"}}}}
"""


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The pack, and a deploy repo with ``c1`` published once."""
    where = tmp_path_factory.mktemp("corpus")
    home = where / "home"
    with pytest.MonkeyPatch.context() as patch:
        isolate(patch, home)
        pack = where / "pack"
        for part in ("base", "overlays", "policies"):
            shutil.copytree(ROOT / part, pack / part)
        (pack / "overlays" / "keyed").mkdir()
        (pack / "overlays" / "keyed" / "kustomization.yaml").write_text(KEYED_OVERLAY)
        (pack / "clusters").mkdir()
        (pack / "clusters" / "c1.yaml").write_text(GOOD)
        repo = where / "deploy"
        here = Path.cwd()
        os.chdir(pack)
        try:
            assert (
                main(
                    [
                        "publish",
                        "clusters/c1.yaml",
                        "--deploy-repo",
                        str(repo),
                        "--quiet",
                        "-j",
                        "1",
                    ]
                )
                == 0
            )
        finally:
            os.chdir(here)
        (pack / "clusters" / "c1.yaml").unlink()
        yield where


@pytest.fixture(scope="module")
def opa_server() -> Iterator[OpaRestServer]:
    with OpaRestServer() as server:
        yield server


def _state(repo: Path) -> tuple[str, str, str]:
    """What a publish may change: the refs, the index and work tree, the commit count."""
    refs = sh(repo, "show-ref")
    return (
        refs,
        sh(repo, "status", "--porcelain", "--untracked-files=all"),
        sh(repo, "rev-list", "--all", "--count"),
    )


def _run(
    case: Case, pack: Path, argv: list[str], capfd: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    if not case.subprocess:
        capfd.readouterr()
        here = Path.cwd()
        os.chdir(pack)
        try:
            code = main(argv)
        finally:
            os.chdir(here)
        out, err = capfd.readouterr()
        return code, out, err
    block = "".join(f"sys.modules[{m!r}] = None\n" for m in case.blocked)
    script = (
        f"import sys\n{block}from pipeline.cli.main import run\nsys.argv[1:] = {argv!r}\nrun()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=pack,
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fault(
    case: Case,
    pristine: Path,
    tmp_path: Path,
    opa_server: OpaRestServer,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    isolate(monkeypatch, tmp_path / "home")
    pack = tmp_path / "pack"
    shutil.copytree(pristine / "pack", pack)
    for name, text in case.files.items():
        (pack / name).parent.mkdir(parents=True, exist_ok=True)
        (pack / name).write_bytes(text.encode("utf-8", "surrogateescape"))
    repo = tmp_path / "deploy"
    if case.repo:
        shutil.copytree(pristine / "deploy", repo)
        if case.repo == "foreign":  # someone's git holds the branch right now
            (repo / ".git" / "refs" / "heads" / "main.lock").write_text(
                sh(repo, "rev-parse", "HEAD") + "\n"
            )
        if case.repo == "dirty":
            (repo / "notes.txt").write_text("mine\n")
    before = _state(repo) if case.repo else None
    out = tmp_path / "out"
    argv = [a.format(out=out, repo=repo, url=opa_server.url) for a in case.command]
    opa_server.answer_with = case.answer
    try:
        code, stdout, stderr = _run(case, pack, argv, capfd)
    finally:
        opa_server.answer_with = REAL
    assert code == case.code, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("netpack: error: ")]
    if case.code in (2, 3, 5):
        assert len(errors) == 1 or (case.code == 2 and "error: " in stderr), stderr
        line = (
            errors[0].removeprefix("netpack: error: ")
            if errors
            else stderr.strip().splitlines()[-1]
        )
        assert re.search(case.stderr, line), line
    else:
        assert not errors and re.search(case.stderr, stderr, re.MULTILINE), stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    # nothing written
    assert not out.exists()
    assert not list(tmp_path.glob(".out.*"))  # no staging directory left
    if case.code and "-o" not in argv and case.command[0] == "render":
        assert stdout == ""
    if before is not None:
        assert _state(repo) == before
        assert not (repo / ".git" / "netpack-active").exists()


def test_every_bad_value_is_one_line_exit_3_through_the_cli(
    pristine: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """tests/values/test_cluster.py's table of bad values, each through ``netpack render``."""
    pack = tmp_path / "pack"
    shutil.copytree(pristine / "pack", pack)
    out = tmp_path / "out"
    held = 0
    for text, message in BAD_VALUES:
        (pack / "clusters" / "c1.yaml").write_text(text)
        code, stdout, stderr = _run(
            Case("", "", (), 3, ""), pack, ["render", "clusters/c1.yaml", "-o", str(out)], capfd
        )
        expected = message.replace("c1.yaml", "clusters/c1.yaml", 1).replace(
            "{root}", str(pack.resolve())
        )
        expected = expected.replace("gcp, openstack", "gcp, keyed, openstack")  # our overlay
        assert (code, stderr, stdout) == (3, f"netpack: error: {expected}\n", ""), text
        assert not out.exists()
        held += 1
    assert held == len(BAD_VALUES)


def test_a_killed_publishs_locks_are_recovered(
    pristine: Path,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """15.11: the locks a killed publish left go, and the publish lands (the loop over
    real kills is tests/publish/test_stale_locks.py)."""
    isolate(monkeypatch, tmp_path / "home")
    pack = tmp_path / "pack"
    shutil.copytree(pristine / "pack", pack)
    (pack / "clusters" / "c1.yaml").write_text(values("blockSize: 27"))
    repo = tmp_path / "deploy"
    shutil.copytree(pristine / "deploy", repo)
    (repo / ".git" / "netpack-active").write_text("4242\n")
    (repo / ".git" / "index.lock").write_text("")
    code, _, stderr = _run(
        Case("", "", (), 0, ""),
        pack,
        ["publish", "clusters/c1.yaml", "--deploy-repo", str(repo), "-j", "1"],
        capfd,
    )
    assert code == 0, stderr
    assert "removed git lock file(s) a killed publish left" in stderr
    assert sh(repo, "status", "--porcelain") == "" and not (repo / ".git" / "index.lock").exists()


def test_the_corpus_covers_every_item() -> None:
    items = {c.covers.split()[0] for c in CASES}
    assert {f"15.{n}" for n in range(1, 13)} - {"15.11"} <= items
    assert "13.11" in items and "15.11" in items
    print(f"fault corpus: {len(CASES)} cases + {len(BAD_VALUES)} bad values through the CLI")
