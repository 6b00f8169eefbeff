"""``netpack test`` and ``netpack verify``: flags, output and exit codes, on the real engine."""

from __future__ import annotations

import argparse
import io
import shutil
from pathlib import Path

import pytest

from pipeline.cli import policy as cli
from pipeline.errors import InputError, UsageError
from pipeline.gate.engines.protocol import PolicyError

CASE = Path(__file__).parent / "cases"
SUMMARY = "12 tests, 8 passed, 1 warning, 2 failures, 1 exception"
LINES = (
    "WARN - inputs/deployment.yaml - main - Deployment/web: replicas not set\n"
    "FAIL - inputs/deployment.yaml - main - Deployment/web: runs as root\n"
    'EXCP - inputs/deployment.yaml - main - data.main.exception[_][_] == "root"\n'
    "FAIL - inputs/service.json - main - Service/lb: port 22 not allowed\n"
)


@pytest.fixture
def case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of cases/cli as the working directory: policy/, data/, inputs/."""
    shutil.copytree(CASE, tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def netpack(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="netpack")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code, capsys.readouterr().out


def test_stdout(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert netpack(capsys, "test", "inputs", "--no-color") == (1, f"{LINES}\n{SUMMARY}\n")


def test_stdout_colours_by_default(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = netpack(capsys, "test", "inputs/clean.yml")
    assert (code, out) == (
        0,
        "\n\x1b[32m3 tests, 3 passed, 0 warnings, 0 failures, 0 exceptions\x1b[0m\n",
    )


def test_suppress_exceptions(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = netpack(capsys, "test", "inputs", "--no-color", "--suppress-exceptions")
    assert "EXCP" not in out and out.endswith(f"{SUMMARY}\n")


@pytest.mark.parametrize(
    ("files", "flags", "expected"),
    [
        (["inputs"], [], 1),
        (["inputs"], ["--no-fail"], 0),
        (["inputs"], ["--fail-on-warn"], 2),
        (["inputs/clean.yml"], ["--fail-on-warn"], 0),
        (["inputs/clean.yml"], ["-n", "main.gke", "--fail-on-warn"], 0),
        (["inputs/clean.yml", "inputs/service.json"], ["-n", "main.gke"], 0),
        (["inputs/deployment.yaml"], ["-n", "main.gke"], 0),  # warnings only
        (["inputs/deployment.yaml"], ["-n", "main.gke", "--fail-on-warn"], 1),
    ],
)
def test_exit_codes(
    case: Path,
    capsys: pytest.CaptureFixture[str],
    files: list[str],
    flags: list[str],
    expected: int,
) -> None:
    assert netpack(capsys, "test", *files, *flags)[0] == expected


def test_quiet(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert netpack(capsys, "test", "inputs/clean.yml", "--quiet") == (0, "")
    code, out = netpack(capsys, "test", "inputs", "--quiet", "--no-color")
    assert (code, out) == (1, f"{LINES}\n{SUMMARY}\n")


def test_namespaces(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = netpack(capsys, "test", "inputs/deployment.yaml", "-n", "main*", "-o", "tap")
    assert [line for line in out.splitlines() if line.startswith("1..")] == ["1..6", "1..2"]
    _, out = netpack(capsys, "test", "inputs/clean.yml", "--all-namespaces", "-o", "table")
    assert [line.split("|")[3].strip() for line in out.splitlines()[3:-1]] == ["main"] * 3 + [
        "main.gke"
    ]


def test_json_output_for_stdin(
    case: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin = (case / "inputs" / "service.json").read_bytes()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    code, out = netpack(capsys, "test", "-", "-o", "json")
    assert (code, out) == (
        1,
        "[\n\t{\n"
        '\t\t"filename": "",\n\t\t"namespace": "main",\n\t\t"successes": 2,\n'
        '\t\t"failures": [\n\t\t\t{\n'
        '\t\t\t\t"msg": "Service/lb: port 22 not allowed",\n'
        '\t\t\t\t"metadata": {\n'
        '\t\t\t\t\t"details": {\n\t\t\t\t\t\t"port": 22\n\t\t\t\t\t},\n'
        '\t\t\t\t\t"query": "data.main.deny_port"\n'
        "\t\t\t\t}\n\t\t\t}\n\t\t]\n\t}\n]\n",
    )


def test_combine(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (case / "policy" / "combined.rego").write_text(
        'package combined\nimport rego.v1\ndeny contains sprintf("%d docs from %s", [count(input), data.conftest.file.name])\n'
    )
    code, out = netpack(capsys, "test", "inputs", "--combine", "-n", "combined", "--no-color")
    assert (code, out) == (
        1,
        "FAIL - Combined - combined - 4 docs from Combined\n\n1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions\n",
    )


def test_default_policy_and_data_directories(
    case: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (case / "policy").rename(case / "policies")
    assert netpack(capsys, "test", "inputs", "--no-color") == (1, f"{LINES}\n{SUMMARY}\n")
    (case / "data").rename(case / "elsewhere")
    # no ./data: data.services.ports is undefined, and OPA makes `not p in undefined` undefined
    code, out = netpack(capsys, "test", "inputs/service.json", "--no-color")
    assert (code, out) == (0, "\n3 tests, 3 passed, 0 warnings, 0 failures, 0 exceptions\n")
    assert (
        netpack(capsys, "test", "inputs", "--no-color", "-d", "elsewhere")[1]
        == f"{LINES}\n{SUMMARY}\n"
    )
    shutil.rmtree(case / "policies")
    with pytest.raises(InputError) as err:
        netpack(capsys, "test", "inputs")
    assert str(err.value) == "policy load policies: no such file or directory"


def test_explicit_policy_path(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = netpack(
        capsys,
        "test",
        "inputs/deployment.yaml",
        "-p",
        "policy/gke.rego",
        "-n",
        "main.gke",
        "--no-color",
    )
    assert out == "WARN - inputs/deployment.yaml - main.gke - GKE: no zone label\n" * 2 + (
        "\n2 tests, 0 passed, 2 warnings, 0 failures, 0 exceptions\n"
    )


def test_problematic_if(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (case / "policy" / "bad.rego").write_text('package main\n\ndeny[msg] if {\n\tmsg := "x"\n}\n')
    with pytest.raises(PolicyError) as err:
        netpack(capsys, "test", "inputs")
    assert err.value.message == (
        "rule is using 'if' keyword without 'contains' keyword: rule in policy/bad.rego at line 3"
    )


def test_no_files_found(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (case / "nothing").mkdir()
    with pytest.raises(InputError, match="no files found"):
        netpack(capsys, "test", "nothing")


def test_other_formats_run(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("tap", "table", "junit", "github", "sarif", "azuredevops"):
        code, out = netpack(capsys, "test", "inputs", "-o", fmt)
        assert code == 1 and "port 22 not" in out


def test_verify(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = netpack(capsys, "verify", "--no-color")
    assert (code, out) == (
        1,
        "FAIL - policy/k8s_test.rego - main - data.main.test_wrong_on_purpose\n"
        "\n3 tests, 2 passed, 0 warnings, 1 failure, 0 exceptions, 0 skipped\n",
    )


def test_verify_namespace_filter(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert netpack(capsys, "verify", "--no-color", "-n", "main.*") == (
        0,
        "\n0 tests, 0 passed, 0 warnings, 0 failures, 0 exceptions, 0 skipped\n",
    )


def test_verify_report(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = netpack(capsys, "verify", "--report", "fails")
    lines = out.splitlines()
    assert code == 1
    assert lines[0] == "policy/k8s_test.rego:"
    assert lines[1].startswith("data.main.test_wrong_on_purpose: FAIL (")
    assert lines[2:] == ["-" * 80, "PASS: 2/3", "FAIL: 1/3"]


def test_verify_report_needs_stdout(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UsageError) as err:
        netpack(capsys, "verify", "--report", "full", "-o", "json")
    assert err.value.message == "report flag is supported with stdout only"


def test_bad_flags_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        netpack(capsys, "test", "x.yaml", "-o", "xml")
    with pytest.raises(SystemExit):
        netpack(capsys, "test", "x.yaml", "--engine", "wasm")
    with pytest.raises(SystemExit):
        netpack(capsys, "verify", "--report", "everything")


def test_engine_flags(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert netpack(capsys, "test", "inputs", "--engine", "opa", "--no-color")[1].endswith(
        f"{SUMMARY}\n"
    )
    with pytest.raises(UsageError, match="the opa-server engine needs --opa-url"):
        netpack(capsys, "test", "inputs", "--engine", "opa-server")


def test_junit_and_github_flags(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = netpack(capsys, "test", "inputs/service.json", "-o", "junit", "--junit-hide-message")
    assert '<testcase name="inputs/service.json" classname="conftest.main" time="0.000">' in out
    assert " - Service/lb" not in out
    _, out = netpack(capsys, "test", "inputs", "-o", "github", "--github-hide-passed")
    assert [line for line in out.splitlines() if line.startswith("::group::")] == [
        '::group::Testing "inputs/deployment.yaml" against 6 policies in namespace "main"',
        '::group::Testing "inputs/service.json" against 3 policies in namespace "main"',
    ]
