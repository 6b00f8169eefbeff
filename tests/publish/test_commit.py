"""``netpack publish``: the deploy repo's layout, provenance, commits, and what Argo CD and Flux read.

Every test publishes into real repositories in a tmp dir (bare repos on disk stand
in for remotes), with git's global config replaced by a tmp file.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from pipeline.cli import main as cli
from pipeline.flow import render_cluster
from pipeline.kustomize.output import render_stream
from pipeline.publish import git as g
from pipeline.values.cluster import read_cluster_file
from tests.conftest import ROOT, kustomize

EXAMPLES = ("aws-prod-1", "azure-eu-1", "vmware-dc1")


def publish(*args: str) -> int:
    """``netpack publish ARGS -j 1`` through the CLI's one error handler."""
    return cli.main(["publish", *args, "-j", "1"])


def sh(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=g.environment()
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def isolate(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """Git config and caches of the test's own: a known identity, no system config."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "gitconfig"
    config.write_text("[user]\n\tname = Test Publisher\n\temail = test@example.com\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path / "home")


def make_pack(where: Path, names: tuple[str, ...] = EXAMPLES) -> Path:
    """A copy of the pack with some example clusters, committed in its own git repo."""
    pack = where / "pack"
    for part in ("base", "overlays", "policies"):
        shutil.copytree(ROOT / part, pack / part)
    (pack / "clusters").mkdir()
    for name in names:
        shutil.copy(ROOT / "clusters" / f"{name}.yaml", pack / "clusters")
    sh(where, "init", "-q", "-b", "main", str(pack))
    commit_all(pack, "pack")
    return pack


def commit_all(repo: Path, message: str) -> str:
    sh(repo, "add", "-A")
    sh(repo, "commit", "-q", "-m", message)
    return sh(repo, "rev-parse", "HEAD")


def head(repo: Path, ref: str = "HEAD") -> str:
    return sh(repo, "rev-parse", ref)


def count(repo: Path, ref: str = "HEAD") -> int:
    return int(sh(repo, "rev-list", "--count", ref))


def changed_paths(repo: Path, commit: str = "HEAD") -> list[str]:
    return sh(repo, "diff-tree", "-r", "--name-only", "--no-commit-id", "--root", commit).split()


def record(repo: Path, cluster: str, ref: str = "HEAD") -> dict[str, object]:
    text = sh(repo, "show", f"{ref}:clusters/{cluster}/calico/.netpack/provenance.json")
    value = json.loads(text)
    assert isinstance(value, dict)
    return value


# --- Golden ---


def test_example_fleet_published_twice_makes_one_commit_then_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy = tmp_path / "deploy"
    argv = ["--all", "--pack", str(ROOT), "--deploy-repo", str(deploy), "--quiet"]
    assert publish(*argv) == 0
    first = head(deploy)
    # --quiet: one line, counts and no cluster names, nothing on stderr
    assert capsys.readouterr() == (
        f"netpack: published {first[:7]} to {deploy} (main): 7 clusters (7 added)\n",
        "",
    )
    assert count(deploy) == 1
    assert publish(*argv) == 0
    assert capsys.readouterr().out.endswith(
        f"netpack: {deploy} (main) is up to date; nothing to publish\n"
    )
    assert head(deploy) == first
    assert sh(deploy, "status", "--porcelain") == ""
    names = sorted(p.stem for p in (ROOT / "clusters").glob("*.yaml"))
    assert sorted(p.name for p in (deploy / "clusters").iterdir()) == names


def test_published_files_are_the_bytes_of_render_o(tmp_path: Path) -> None:
    files = [str(ROOT / "clusters" / f"{n}.yaml") for n in EXAMPLES]
    out = tmp_path / "out"
    assert cli.main(["render", *files, "-o", str(out), "-j", "1", "--quiet"]) == 0
    assert publish(*files, "--pack", str(ROOT), "--deploy-repo", str(tmp_path / "d")) == 0
    for name in EXAMPLES:
        rendered = {p.name: p.read_bytes() for p in (out / name).iterdir()}
        published = tmp_path / "d" / "clusters" / name / "calico"
        assert {p.name for p in published.iterdir() if p.is_file()} == {
            *rendered,
            "kustomization.yaml",
        }
        for file, data in rendered.items():
            assert (published / file).read_bytes() == data, file


def test_kubectl_kustomize_builds_exactly_the_rendered_objects(
    tmp_path: Path, kubectl: str
) -> None:
    deploy = tmp_path / "deploy"
    assert publish("--all", "--pack", str(ROOT), "--deploy-repo", str(deploy), "--quiet") == 0
    for path in sorted((ROOT / "clusters").glob("*.yaml")):
        resources = render_cluster(read_cluster_file(path), None).resources
        built = kustomize(kubectl, deploy / "clusters" / path.stem / "calico")
        assert built == render_stream(resources), path.stem


def test_same_inputs_give_the_same_tree_in_any_repo(tmp_path: Path) -> None:
    pack = make_pack(tmp_path)
    for repo in ("one", "two"):
        assert publish("--all", "--pack", str(pack), "--deploy-repo", str(tmp_path / repo)) == 0
    assert head(tmp_path / "one", "HEAD^{tree}") == head(tmp_path / "two", "HEAD^{tree}")


# --- Layout and provenance ---


def test_layout_readme_attributes_and_kustomization(tmp_path: Path) -> None:
    pack = make_pack(tmp_path)
    deploy = tmp_path / "deploy"
    assert publish("--all", "--pack", str(pack), "--deploy-repo", str(deploy)) == 0
    top = sorted(sh(deploy, "ls-tree", "--name-only", "HEAD").split())
    assert top == [".gitattributes", "README.md", "clusters"]
    readme = (deploy / "README.md").read_text()
    assert readme.startswith("<!-- Generated by netpack publish")
    assert f"git clone {pack}" in readme and "netpack render <cluster.file> -o out" in readme
    assert (deploy / ".gitattributes").read_text().splitlines()[1:] == [
        "clusters/** linguist-generated=true",
        "**/.netpack/** linguist-generated=true",
    ]
    calico = deploy / "clusters" / "aws-prod-1" / "calico"
    kust = yaml.safe_load((calico / "kustomization.yaml").read_text())
    assert kust["apiVersion"] == "kustomize.config.k8s.io/v1beta1"
    assert kust["kind"] == "Kustomization"
    on_disk = {p.name for p in calico.iterdir() if p.is_file()} - {"kustomization.yaml"}
    assert set(kust["resources"]) == on_disk and len(on_disk) == 39
    assert kust["resources"][0].startswith("apiextensions.k8s.io_v1_customresourcedefinition_")
    assert kust["resources"][-1] == "apps_v1_daemonset_calico-node.yaml"


def test_provenance_names_source_values_and_policy_and_nothing_that_varies(
    tmp_path: Path,
) -> None:
    pack = make_pack(tmp_path)
    sh(pack, "remote", "add", "origin", "https://bot:s3cret@git.example.com/net/pack.git")
    deploy = tmp_path / "deploy"
    assert publish("--all", "--pack", str(pack), "--deploy-repo", str(deploy)) == 0
    path = deploy / "clusters" / "vmware-dc1" / "calico" / ".netpack" / "provenance.json"
    text = path.read_text()
    data = json.loads(text)
    assert text == json.dumps(data, indent=2, sort_keys=True) + "\n"
    assert data["source"] == {
        "repo": "https://git.example.com/net/pack.git",
        "commit": head(pack),
        "dirty": False,
    }
    assert data["cluster"]["name"] == "vmware-dc1"
    assert data["cluster"]["file"] == "clusters/vmware-dc1.yaml"
    assert data["cluster"]["overlay"] == "overlays/vmware"
    assert data["cluster"]["datastore"] == "etcd"
    assert data["cluster"]["valuesDigest"].startswith("sha256:")
    policy = data["policy"]
    assert policy["engine"] in ("opa", "regopy") and policy["digest"].startswith("sha256:")
    assert policy["tests"] == policy["passed"] > 0 and policy["failures"] == 0
    assert data["netpack"] == {
        "version": "0.1.0",
        "command": "netpack render clusters/vmware-dc1.yaml -o out",
    }
    assert str(tmp_path) not in text


def test_commit_message_names_the_source_and_the_clusters(tmp_path: Path) -> None:
    pack = make_pack(tmp_path)
    sh(pack, "remote", "add", "origin", "git@git.example.com:net/pack.git")
    deploy = tmp_path / "deploy"
    assert publish("--all", "--pack", str(pack), "--deploy-repo", str(deploy)) == 0
    sha = head(pack)
    assert sh(deploy, "log", "-1", "--format=%B") == (
        f"{sha[:7]}: render 3 clusters\n\n"
        "added aws-prod-1\nadded azure-eu-1\nadded vmware-dc1\n"
        "updated README.md\nupdated .gitattributes\n\n"
        f"Netpack-Source-Commit: {sha}\n"
        "Netpack-Source-Repo: git@git.example.com:net/pack.git"
    )
    trailers = sh(deploy, "log", "-1", "--format=%(trailers:key=Netpack-Source-Commit)")
    assert trailers == f"Netpack-Source-Commit: {sha}"
    assert sh(deploy, "log", "-1", "--format=%an <%ae>") == "Test Publisher <test@example.com>"


def test_changing_one_value_touches_only_that_clusters_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = make_pack(tmp_path)
    deploy = tmp_path / "deploy"
    argv = ["--all", "--pack", str(pack), "--deploy-repo", str(deploy)]
    assert publish(*argv) == 0
    first_source = head(pack)
    cluster = pack / "clusters" / "azure-eu-1.yaml"
    cluster.write_text(cluster.read_text().replace("LOG_LEVEL: info", "LOG_LEVEL: debug"))
    second_source = commit_all(pack, "debug logs on azure")
    capsys.readouterr()
    assert publish(*argv, "--no-color") == 0
    out = capsys.readouterr().out
    assert "Deployment/kube-system/calico-kube-controllers" in out  # the semantic diff
    assert "-          value: info\n+          value: debug\n" in out
    assert out.endswith(": 1 cluster (changed azure-eu-1)\n")
    assert count(deploy) == 2
    paths = changed_paths(deploy)
    assert paths and all(p.startswith("clusters/azure-eu-1/calico/") for p in paths)
    assert sorted(paths) == [
        "clusters/azure-eu-1/calico/.netpack/provenance.json",
        "clusters/azure-eu-1/calico/apps_v1_deployment_calico-kube-controllers.yaml",
    ]
    assert sh(deploy, "log", "-1", "--format=%s") == f"{second_source[:7]}: render 1 cluster"
    assert record(deploy, "azure-eu-1")["source"]["commit"] == second_source  # type: ignore[index]
    assert record(deploy, "aws-prod-1")["source"]["commit"] == first_source  # type: ignore[index]
    # A new source commit that changes no render makes no commit.
    (pack / "NOTES.md").write_text("unrelated\n")
    commit_all(pack, "notes")
    assert publish(*argv) == 0
    assert count(deploy) == 2


def test_author_option_config_and_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pack = make_pack(tmp_path, ("aws-prod-1",))
    cluster = pack / "clusters" / "aws-prod-1.yaml"
    deploy = tmp_path / "deploy"
    argv = [str(cluster), "--deploy-repo", str(deploy)]
    assert publish(*argv, "--author", "Release Bot <bot@example.com>") == 0
    assert sh(deploy, "log", "-1", "--format=%an <%ae>|%cn") == (
        "Release Bot <bot@example.com>|Test Publisher"
    )
    empty = tmp_path / "empty-config"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    cluster.write_text(cluster.read_text() + "    blockSize: 27\n")
    assert publish(*argv) == 0
    assert sh(deploy, "log", "-1", "--format=%an <%ae>|%cn <%ce>") == (
        "netpack <netpack@localhost>|netpack <netpack@localhost>"
    )
    assert publish(*argv, "--author", "nobody") == 2


def test_unversioned_source_is_marked_dirty(tmp_path: Path) -> None:
    pack = make_pack(tmp_path, ("gcp-us-1",))
    shutil.rmtree(pack / ".git")
    deploy = tmp_path / "deploy"
    assert publish("--all", "--pack", str(pack), "--deploy-repo", str(deploy)) == 0
    assert sh(deploy, "log", "-1", "--format=%s") == "unversioned: render 1 cluster"
    assert "Netpack-Source-Commit" not in sh(deploy, "log", "-1", "--format=%B")
    source = record(deploy, "gcp-us-1")["source"]
    assert source == {"repo": str(pack.resolve()), "commit": None, "dirty": True}


# --- Refusals that leave the repo alone ---


def test_a_red_gate_publishes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pack = make_pack(tmp_path, ("aws-prod-1",))
    deploy = tmp_path / "deploy"
    argv = ["--all", "--pack", str(pack), "--deploy-repo", str(deploy), "--no-color"]
    cluster = pack / "clusters" / "aws-prod-1.yaml"
    text = cluster.read_text()
    cluster.write_text(
        text.replace("calicoNetworkCIDR: 10.244.0.0/16", "calicoNetworkCIDR: 10.9.0.0/16")
    )
    assert publish(*argv) == 1
    captured = capsys.readouterr()
    assert "FAIL" in captured.out and "the gate failed; nothing was published" in captured.err
    assert not deploy.exists()
    cluster.write_text(text)
    assert publish(*argv) == 0
    before = head(deploy)
    cluster.write_text(
        text.replace("calicoNetworkCIDR: 10.244.0.0/16", "calicoNetworkCIDR: 10.9.0.0/16")
    )
    assert publish(*argv) == 1
    assert head(deploy) == before and sh(deploy, "status", "--porcelain") == ""


def test_an_empty_render_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pack = tmp_path / "void-pack"
    files = {
        "base/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n",
        "base/components/kubernetes/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n",
        "overlays/void/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../../base\n",
        "clusters/void.yaml": "name: void\ncloud: void\nkubernetes: {version: '1.32', podCIDR: 10.1.0.0/16, serviceClusterIpRange: 10.96.0.0/12}\n",
    }
    for name, text in files.items():
        (pack / name).parent.mkdir(parents=True, exist_ok=True)
        (pack / name).write_text(text)
    policies = ["-p", str(ROOT / "policies"), "-d", str(ROOT / "policies" / "data")]
    deploy = tmp_path / "deploy"
    assert publish("--all", "--pack", str(pack), "--deploy-repo", str(deploy), *policies) == 3
    assert capsys.readouterr().err.endswith(
        "publish: renders no resources; refusing to publish an empty render\n"
    )
    assert not deploy.exists()


# --- Clusters that come and go ---


def test_a_renamed_cluster_moves_in_one_commit(tmp_path: Path) -> None:
    pack = make_pack(tmp_path)
    deploy = tmp_path / "deploy"
    argv = ["--all", "--pack", str(pack), "--deploy-repo", str(deploy)]
    assert publish(*argv) == 0
    old = pack / "clusters" / "aws-prod-1.yaml"
    new = pack / "clusters" / "aws-prod-2.yaml"
    new.write_text(old.read_text().replace("name: aws-prod-1", "name: aws-prod-2"))
    old.unlink()
    commit_all(pack, "rename")
    assert publish(*argv) == 0
    assert count(deploy) == 2
    body = sh(deploy, "log", "-1", "--format=%B")
    assert body.splitlines()[0].endswith(": render 2 clusters")
    assert "\n\nadded aws-prod-2\nremoved aws-prod-1\n\n" in body
    paths = changed_paths(deploy)
    assert {p.split("/")[1] for p in paths} == {"aws-prod-1", "aws-prod-2"}
    assert not (deploy / "clusters" / "aws-prod-1").exists()
    assert (deploy / "clusters" / "aws-prod-2" / "calico" / "kustomization.yaml").is_file()


def test_a_deleted_cluster_goes_with_all_and_stays_without(tmp_path: Path) -> None:
    pack = make_pack(tmp_path)
    deploy = tmp_path / "deploy"
    assert publish("--all", "--pack", str(pack), "--deploy-repo", str(deploy)) == 0
    (pack / "clusters" / "vmware-dc1.yaml").unlink()
    commit_all(pack, "retire vmware-dc1")
    one = str(pack / "clusters" / "aws-prod-1.yaml")
    assert publish(one, "--deploy-repo", str(deploy)) == 0  # a list is not the fleet
    assert count(deploy) == 1 and (deploy / "clusters" / "vmware-dc1").is_dir()
    assert publish("--all", "--pack", str(pack), "--deploy-repo", str(deploy)) == 0
    assert count(deploy) == 2 and not (deploy / "clusters" / "vmware-dc1").exists()
    assert {p.split("/")[1] for p in changed_paths(deploy)} == {"vmware-dc1"}
    assert "removed vmware-dc1" in sh(deploy, "log", "-1", "--format=%B")


def test_a_directory_netpack_never_wrote_is_kept_and_never_taken_over(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = make_pack(tmp_path, ("aws-prod-1",))
    deploy = tmp_path / "deploy"
    hand = deploy / "clusters" / "legacy" / "calico" / "app.yaml"
    hand.parent.mkdir(parents=True)
    hand.write_text("kind: ConfigMap\n")
    (deploy / "README.md").write_text("# Our deploy repo\n")
    (deploy / ".gitattributes").write_text("*.png binary\n")
    sh(tmp_path, "init", "-q", "-b", "main", str(deploy))
    commit_all(deploy, "by hand")
    assert publish("--all", "--pack", str(pack), "--deploy-repo", str(deploy)) == 0
    assert hand.read_text() == "kind: ConfigMap\n"
    assert (deploy / "README.md").read_text() == "# Our deploy repo\n"
    assert (deploy / ".gitattributes").read_text() == (
        "*.png binary\nclusters/** linguist-generated=true\n**/.netpack/** linguist-generated=true\n"
    )
    legacy = pack / "clusters" / "legacy.yaml"
    legacy.write_text(
        (pack / "clusters" / "aws-prod-1.yaml").read_text().replace("aws-prod-1", "legacy")
    )
    assert publish(str(legacy), "--deploy-repo", str(deploy)) == 3
    assert capsys.readouterr().err.endswith(
        f"netpack: error: {deploy} publish: legacy: clusters/legacy/calico/ exists but netpack"
        " did not write it (no .netpack/provenance.json); move it away or rename the cluster\n"
    )
    assert count(deploy) == 2


# --- Opt-in files: tests/publish/test_controllers.py ---


def test_signed_commit_uses_gits_signing_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("ssh-keygen") is None:
        pytest.fail("ssh-keygen is needed to test --sign (install openssh-client)")
    key = tmp_path / "key"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", str(key)], check=True
    )
    signers = tmp_path / "allowed"
    signers.write_text(f"test@example.com {(tmp_path / 'key.pub').read_text()}")
    config = tmp_path / "signing-config"
    config.write_text(
        "[user]\n\tname = Test Publisher\n\temail = test@example.com\n"
        f'\tsigningkey = {key}\n[gpg]\n\tformat = ssh\n[gpg "ssh"]\n\tallowedSignersFile = {signers}\n'
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    pack = make_pack(tmp_path, ("aws-prod-1",))
    deploy = tmp_path / "deploy"
    assert publish("--all", "--pack", str(pack), "--deploy-repo", str(deploy), "--sign") == 0
    proc = subprocess.run(
        ["git", "-C", str(deploy), "verify-commit", "HEAD"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert 'Good "git" signature for test@example.com' in proc.stderr


# --- Targets ---


def test_a_remote_is_published_through_a_cache_and_pushed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = make_pack(tmp_path, ("aws-prod-1", "azure-eu-1"))
    remote = tmp_path / "remote.git"
    sh(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    argv = ["--all", "--pack", str(pack), "--deploy-repo", remote.as_uri(), "--push"]
    assert publish(*argv) == 0
    assert " and pushed to file://" in capsys.readouterr().out
    first = head(remote, "main")
    assert publish(*argv) == 0
    assert "is up to date" in capsys.readouterr().out
    assert head(remote, "main") == first
    cache = tmp_path / "home" / "cache" / "netpack" / "deploy"
    assert len(list(cache.glob("*/HEAD"))) == 1  # one bare cache clone per URL
    # A bare repository path with --push goes the same way.
    cluster = pack / "clusters" / "aws-prod-1.yaml"
    cluster.write_text(cluster.read_text() + "    blockSize: 27\n")
    assert publish("--all", "--pack", str(pack), "--deploy-repo", str(remote), "--push") == 0
    assert sh(remote, "rev-parse", "main^") == first
    assert sh(remote, "fsck", "--no-dangling") == ""


def test_a_bare_repository_without_push_is_committed_in_place(tmp_path: Path) -> None:
    pack = make_pack(tmp_path, ("aws-prod-1",))
    bare = tmp_path / "deploy.git"
    sh(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    assert publish("--all", "--pack", str(pack), "--deploy-repo", str(bare)) == 0
    assert "clusters/aws-prod-1/calico/kustomization.yaml" in sh(
        bare, "ls-tree", "-r", "--name-only", "main"
    )


def test_a_sha256_deploy_repo_gets_sha256_objects(tmp_path: Path) -> None:
    pack = make_pack(tmp_path, ("aws-prod-1",))
    deploy = tmp_path / "deploy"
    sh(tmp_path, "init", "-q", "-b", "main", "--object-format=sha256", str(deploy))
    assert publish("--all", "--pack", str(pack), "--deploy-repo", str(deploy)) == 0
    assert len(head(deploy)) == 64
    assert sh(deploy, "status", "--porcelain") == "" and sh(deploy, "fsck", "--no-dangling") == ""
    assert publish("--all", "--pack", str(pack), "--deploy-repo", str(deploy)) == 0
    assert count(deploy) == 1


@pytest.mark.parametrize(
    ("spec", "url"),
    [
        ("https://git.example.com/deploy.git", True),
        ("ssh://git@git.example.com/deploy.git", True),
        ("git@git.example.com:org/deploy.git", True),
        ("file:///srv/deploy.git", True),
        ("../deploy", False),
        ("/srv/deploy.git", False),
        ("deploy", False),
        ("./a:b", False),
    ],
)
def test_what_counts_as_a_url(spec: str, url: bool) -> None:
    from pipeline.publish.repo import is_url

    assert is_url(spec) is url


def test_an_unusable_cache_is_made_again(tmp_path: Path) -> None:
    import hashlib

    pack = make_pack(tmp_path, ("aws-prod-1",))
    remote = tmp_path / "remote.git"
    sh(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    key = hashlib.sha256(remote.as_uri().encode()).hexdigest()
    cache = tmp_path / "home" / "cache" / "netpack" / "deploy" / key
    cache.mkdir(parents=True)
    (cache / "junk").write_text("half a clone\n")
    assert publish("--all", "--pack", str(pack), "--deploy-repo", remote.as_uri(), "--push") == 0
    assert (cache / "HEAD").is_file() and not (cache / "junk").exists()
    assert count(remote, "main") == 1


def test_a_machine_readable_gate_report_keeps_stdout_to_itself(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = make_pack(tmp_path, ("aws-prod-1",))
    deploy = tmp_path / "deploy"
    assert (
        publish("--all", "--pack", str(pack), "--deploy-repo", str(deploy), "--format", "json") == 0
    )
    captured = capsys.readouterr()
    assert json.loads(captured.out)[0]["filename"].startswith("aws-prod-1/")
    assert "netpack: published " in captured.err
