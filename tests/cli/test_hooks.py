""".pre-commit-hooks.yaml names real commands, and render --check / --all do what it needs."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.cli.main import _parser, main
from tests.conftest import ROOT

# The keys of a hook in a pre-commit manifest (pre-commit.com, "Creating new hooks").
MANIFEST_KEYS = {
    "id", "name", "entry", "language", "files", "exclude", "types", "types_or",
    "exclude_types", "always_run", "fail_fast", "verbose", "pass_filenames",
    "require_serial", "description", "language_version", "minimum_pre_commit_version",
    "args", "stages",
}  # fmt: skip
HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())


def test_the_manifest_is_a_list_of_well_formed_hooks() -> None:
    assert isinstance(HOOKS, list) and HOOKS
    assert [h["id"] for h in HOOKS] == ["netpack-render", "netpack-render-all", "netpack-validate"]
    for hook in HOOKS:
        assert set(hook) <= MANIFEST_KEYS, hook["id"]
        assert {"id", "name", "entry", "language"} <= set(hook)
        for key in ("files", "exclude"):
            if key in hook:
                re.compile(hook[key])


@pytest.mark.parametrize("hook", HOOKS, ids=lambda h: h["id"])
def test_each_entry_is_a_netpack_command_line_that_parses(hook: dict[str, object]) -> None:
    words = shlex.split(str(hook["entry"]))
    assert words[0] == "netpack"
    files = [] if hook.get("pass_filenames") is False else ["some.yaml"]
    args = _parser().parse_args([*words[1:], *files])
    assert args.command == words[1] and callable(args.func)


def _matching(hook: dict[str, object]) -> list[str]:
    files = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*.yaml") if ".nox" not in p.parts]
    found = [f for f in files if re.search(str(hook.get("files", "")), f)]
    if "exclude" in hook:
        found = [f for f in found if not re.search(str(hook["exclude"]), f)]
    return sorted(found)


def _tree() -> list[Path]:
    """The pack's files, without caches and tool directories (.nox, .git, __pycache__)."""
    return sorted(
        p
        for p in ROOT.rglob("*")
        if not any(
            part.startswith(".") or part == "__pycache__" for part in p.relative_to(ROOT).parts
        )
    )


def test_the_render_hooks_pass_on_the_example_pack_and_write_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = _tree()
    for hook in HOOKS[:2]:
        words = shlex.split(hook["entry"])[1:]
        files = [] if hook.get("pass_filenames") is False else _matching(hook)
        assert files or hook.get("pass_filenames") is False
        assert main([*words, *files]) == 0, hook["id"]
    assert _tree() == before
    assert capsys.readouterr().out == ""


def test_the_validate_hook_passes_on_the_base_manifests() -> None:
    hook = HOOKS[2]
    files = [f for f in _matching(hook) if f.startswith("base/") and "components" not in f]
    assert "base/calico-node.yaml" in files and "base/kustomization.yaml" not in files
    assert main([*shlex.split(hook["entry"])[1:], *files]) == 0


def test_render_check_fails_on_a_bad_cluster_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text(
        "name: c\ncloud: aws\nkubernetes: {version: '1.32', podCIDR: 10.1.0.0/16,"
        " serviceClusterIpRange: 10.96.0.0/12}\nvalues: {calico: {calicoNetworkCIDR: 10.2.0.0/16}}\n"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "render",
            "--check",
            "--no-color",
            str(bad),
            "--pack",
            str(ROOT),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1 and "set calico.calicoNetworkCIDR to 10.1.0.0/16" in proc.stdout
    assert list(tmp_path.iterdir()) == [bad]


def test_render_all_and_check_refuse_what_makes_no_sense(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["render", "--check", "-o", "x", "clusters/aws-prod-1.yaml"]) == 2
    assert main(["render", "--all", "clusters/aws-prod-1.yaml"]) == 2
    assert main(["render", "--all"]) == 2  # several clusters need -o
    assert main(["render"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "netpack: error: --check writes nothing; leave out -o",
        "netpack: error: give cluster files or --all, not both",
        "netpack: error: several clusters need -o DIR (one sub-directory per cluster)",
        "netpack: error: name the cluster files to render, or pass --all",
    ]
