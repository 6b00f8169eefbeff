"""conftest's flags, builtins and ``parse`` on ``netpack test``/``verify``, checked against
conftest's documented behaviour (CONFTEST.md; conftest's runner, parser and builtins)."""

from __future__ import annotations

import argparse
import io
import json
import textwrap
from pathlib import Path

import pytest

from pipeline.cli import policy as cli
from pipeline.errors import InputError, UsageError
from pipeline.gate.engines.protocol import PolicyError
from pipeline.gate.policies import v0_to_v1


def netpack(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="netpack")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code, capsys.readouterr().out


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


V0 = """\
package main

default allowed = false

deny[msg] {
    input.kind == "Deployment"
    not input.spec.template.spec.securityContext.runAsNonRoot
    msg := "Containers must not run as root"
}

warn[msg] { input.kind == "Deployment"; msg := "check probes" }

labels[k] = v { some k; v := input.metadata.labels[k] }
"""


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"deploy.yaml": "kind: Deployment\nmetadata: {name: web}\n"})
    return tmp_path


def test_rego_v0_policies_run_with_the_flag(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(here, {"policy/v0.rego": V0})
    code, out = netpack(capsys, "test", "deploy.yaml", "--rego-version", "V0", "--no-color")
    assert (code, out) == (
        1,
        "WARN - deploy.yaml - main - check probes\n"
        "FAIL - deploy.yaml - main - Containers must not run as root\n"
        "\n2 tests, 0 passed, 1 warning, 1 failure, 0 exceptions\n",
    )
    # v1 is the default, as in conftest: the same module does not parse
    with pytest.raises(PolicyError, match="rego_parse_error"):
        netpack(capsys, "test", "deploy.yaml")


def test_v0_conversion_keeps_values_and_adds_if_and_contains() -> None:
    assert v0_to_v1(V0) == textwrap.dedent("""\
        package main

        default allowed = false

        deny contains msg if {
            input.kind == "Deployment"
            not input.spec.template.spec.securityContext.runAsNonRoot
            msg := "Containers must not run as root"
        }

        warn contains msg if { input.kind == "Deployment"; msg := "check probes" }

        labels[k] = v if { some k; v := input.metadata.labels[k] }
        """)
    assert v0_to_v1('p = {"a": {"b": 1}}\nq = {"a": 1} { true }\n') == (
        'p = {"a": {"b": 1}}\nq = {"a": 1} if { true }\n'
    )
    assert v0_to_v1("r = 1 { false } else = 2 { true }\ns { false } else { true }\n") == (
        "r = 1 if { false } else = 2 if { true }\ns if { false } else if { true }\n"
    )
    assert v0_to_v1('x["a"]\n') == 'x contains "a"\n'


def test_if_without_contains(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """conftest tests/problematic-if: an error in v1; with v0 and future.keywords a set."""
    write(
        here,
        {
            "policy/p.rego": """\
                package main
                import future.keywords.if

                deny[msg] if {
                    msg := "foo"
                }
                """
        },
    )
    with pytest.raises(PolicyError, match="rule is using 'if' keyword without 'contains' keyword"):
        netpack(capsys, "test", "deploy.yaml")
    code, out = netpack(capsys, "test", "deploy.yaml", "--rego-version", "v0", "--no-color")
    assert (code, out.splitlines()[-1]) == (
        1,
        "1 test, 0 passed, 0 warnings, 1 failure, 0 exceptions",
    )


def _kind_policy(here: Path) -> None:
    write(
        here,
        {
            "policy/p.rego": """\
                package main
                deny contains msg if {
                    msg := concat(" ", ["kind", object.get(input, "kind", "none")])
                }
                """
        },
    )


def test_parser_forces_one_parser(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _kind_policy(here)
    write(here, {"conf.txt": 'kind = "Toml"\n', "stdin.json": "{}"})
    code, out = netpack(capsys, "test", "conf.txt", "--parser", "toml", "--no-color")
    assert code == 1
    assert "FAIL - conf.txt - main - kind Toml\n" in out
    with pytest.raises(InputError, match="unsupported file type"):
        netpack(capsys, "test", "conf.txt")
    with pytest.raises(UsageError, match="parser 'hcl2' is not available in netpack"):
        netpack(capsys, "test", "conf.txt", "--parser", "hcl2")


def test_stdin_with_a_parser(
    here: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _kind_policy(here)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b'{"kind": "Json"}')))
    code, out = netpack(capsys, "test", "-", "--parser", "json", "--no-color")
    assert code == 1
    assert "FAIL - - main - kind Json\n" in out


def test_toml_files_are_found_in_directories(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _kind_policy(here)
    write(here, {"in/a.toml": 'kind = "A"\n', "in/b.yaml": "kind: B\n", "in/c.txt": "x"})
    code, out = netpack(capsys, "test", "in", "--no-color")
    assert code == 1
    assert out.splitlines()[:2] == [
        "FAIL - in/a.toml - main - kind A",
        "FAIL - in/b.yaml - main - kind B",
    ]


def test_ignore_skips_walked_paths_only(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """conftest runner/test.go: the regex is matched against paths found in directories."""
    _kind_policy(here)
    write(
        here,
        {
            "in/keep.yaml": "kind: K\n",
            "in/skip/x.yaml": "kind: S\n",
            "in/y.skip.yaml": "kind: Yy\n",
        },
    )
    code, out = netpack(capsys, "test", "in", "--ignore", r"skip", "--no-color")
    assert [line for line in out.splitlines() if line.startswith("FAIL")] == [
        "FAIL - in/keep.yaml - main - kind K"
    ]
    code, out = netpack(capsys, "test", "in/y.skip.yaml", "--ignore", "skip", "--no-color")
    assert code == 1
    assert "kind Yy" in out  # a file named on the command line is read
    with pytest.raises(UsageError, match="given regexp couldn't be parsed"):
        netpack(capsys, "test", "in", "--ignore", "(")


def test_strict_and_trace_are_refused_not_ignored(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _kind_policy(here)
    with pytest.raises(PolicyError, match="engine opa cannot compile in strict mode"):
        netpack(capsys, "test", "deploy.yaml", "--strict")
    with pytest.raises(PolicyError, match="strict mode"):
        netpack(capsys, "verify", "--strict")
    with pytest.raises(PolicyError, match="engine opa cannot print OPA's evaluation trace"):
        netpack(capsys, "test", "deploy.yaml", "--trace")


def test_builtin_errors_are_errors_with_or_without_the_flag(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """conftest hides builtin errors unless --show-builtin-errors; netpack never passes them."""
    write(here, {"policy/p.rego": 'package main\ndeny contains "x" if to_number("x") > 1\n'})
    for flags in ((), ("--show-builtin-errors",)):
        with pytest.raises(PolicyError, match="to_number"):
            netpack(capsys, "test", "deploy.yaml", *flags)


def test_conftest_builtins(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """parse_config, parse_config_file (beside the policy) and parse_combined_config_files."""
    write(
        here,
        {
            "policy/main.rego": """\
                package main

                violation contains msg if {
                    some item in input
                    item.contents.kind == "Deployment"
                    not _served(item.contents.metadata.name)
                    msg := concat(" ", ["Deployment", item.contents.metadata.name, "has no Service"])
                }

                _served(name) if {
                    some item in input
                    item.contents.kind == "Service"
                    item.contents.spec.selector.app == name
                }

                deny contains "limits from TOML" if parse_config("toml", "max = 0").max < count(input.metadata)
                """,
            "policy/main_test.rego": """\
                package main

                test_combined if {
                    files := parse_combined_config_files(["web.yaml", "svc.yaml"])
                    [f.path | some f in files] == ["policy/svc.yaml", "policy/web.yaml"]
                    count(violation) == 1 with input as files
                }

                test_file if parse_config_file("web.yaml").kind == "Deployment"

                test_parse_config if {
                    parse_config("yaml", "a: yes\\n---\\nb: 0o10\\n") == [{"a": true}, {"b": 8}]
                    parse_config("json", "[1]") == [1]
                }
                """,
            "policy/web.yaml": "kind: Deployment\nmetadata: {name: web}\n",
            "policy/svc.yaml": "kind: Service\nmetadata: {name: api}\nspec: {selector: {app: api}}\n",
        },
    )
    code, out = netpack(capsys, "verify", "--no-color")
    assert (code, out) == (
        0,
        "\n3 tests, 3 passed, 0 warnings, 0 failures, 0 exceptions, 0 skipped\n",
    )
    code, out = netpack(capsys, "test", "deploy.yaml", "--no-color")
    assert "FAIL - deploy.yaml - main - limits from TOML\n" in out
    with pytest.raises(
        PolicyError, match="engine regopy cannot provide conftest's builtin parse_config"
    ):
        netpack(capsys, "test", "deploy.yaml", "--engine", "regopy")


def test_parse_prints_conftest_json(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(here, {"a.yaml": "b: [1, '<x>']\na: 1.0\n---\nc: 2\n", "b.toml": "t = true\n"})
    code, out = netpack(capsys, "parse", "a.yaml")
    assert (code, out) == (
        0,
        '[\n  {\n    "a": 1,\n    "b": [\n      1,\n      "\\u003cx\\u003e"\n    ]\n  },\n'
        '  {\n    "c": 2\n  }\n]\n',
    )
    code, out = netpack(capsys, "parse", "a.yaml", "b.toml")
    assert list(json.loads(out)) == ["a.yaml", "b.toml"]
    assert out.startswith('{\n  "a.yaml": [\n    {\n')
    code, out = netpack(capsys, "parse", "--combine", "b.toml", "a.yaml")
    assert out == (
        '[\n\t{\n\t\t"contents": {\n\t\t\t"a": 1,\n\t\t\t"b": [\n\t\t\t\t1,\n\t\t\t\t"\\u003cx\\u003e"\n'
        '\t\t\t]\n\t\t},\n\t\t"path": "a.yaml"\n\t},\n\t{\n\t\t"contents": {\n\t\t\t"c": 2\n\t\t},\n'
        '\t\t"path": "a.yaml"\n\t},\n\t{\n\t\t"contents": {\n\t\t\t"t": true\n\t\t},\n'
        '\t\t"path": "b.toml"\n\t}\n]\n\n'
    )


def test_capabilities_limit_the_builtins(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A builtin the capabilities file does not list fails the load, as OPA's compiler does."""
    write(
        here,
        {
            "policy/lib.rego": "package lib\nshout(s) := upper(s)\n",
            "policy/p.rego": """\
                package main
                import data.lib
                deny contains msg if {
                    some c in {"a"}
                    n := count(input)
                    n > 0
                    msg := lib.shout(c)
                }
                """,
        },
    )
    base = ["assign", "count", "equal", "eq", "gt", "internal.member_2"]
    caps = here / "caps.json"
    caps.write_text(json.dumps({"builtins": [{"name": n} for n in base]}))
    with pytest.raises(PolicyError, match="rego_type_error: undefined function upper") as err:
        netpack(capsys, "test", "deploy.yaml", "--capabilities", str(caps))
    assert err.value.file == "policy/lib.rego"
    caps.write_text(json.dumps({"builtins": [{"name": n} for n in [*base, "upper"]]}))
    code, out = netpack(capsys, "test", "deploy.yaml", "--capabilities", str(caps), "--no-color")
    assert (code, out.splitlines()[0]) == (1, "FAIL - deploy.yaml - main - A")
    with pytest.raises(PolicyError, match="engine regopy cannot check --capabilities"):
        netpack(capsys, "test", "deploy.yaml", "--capabilities", str(caps), "--engine", "regopy")
    caps.write_text("{")
    with pytest.raises(InputError, match="line 1"):
        netpack(capsys, "test", "deploy.yaml", "--capabilities", str(caps))
