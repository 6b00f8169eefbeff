"""The Argo CD / Flux objects a publish writes: checked against the CRD schemas Argo CD and
Flux publish (reduced copies in tests/publish/crds/), built with the real kubectl, and
laid out so that Flux applies each Calico object once, however it is bootstrapped.

Publishing happens into real repositories in a tmp dir (``test_commit``'s helpers).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.errors import UsageError
from pipeline.gate.inputs import parse_file
from pipeline.gate.schema.validate import validate_resources
from pipeline.model.resource import Body, Origin, Resource
from pipeline.options import Controllers
from pipeline.publish.layout import (
    HEALTH_CHECKS,
    clonable,
    controller_files,
    flux_url,
    legacy_flux_kustomization,
)
from tests.conftest import kustomize
from tests.publish.test_commit import changed_paths, commit_all, count, make_pack, publish, sh

CRDS = Path(__file__).parent / "crds"
URL = "https://git.example.com/net/deploy.git"
TWO = ("aws-prod-1", "gcp-us-1")


def crds() -> list[Body]:
    return [doc for path in sorted(CRDS.glob("*.yaml")) for doc in parse_file(path, path.name)]


def schema_failures(bodies: list[Body]) -> list[str]:
    """What the API server, given Argo CD's and Flux's CRDs, would refuse in ``bodies``."""
    resources = [Resource(body, Origin(f"doc{i}", 0)) for i, body in enumerate(bodies)]
    names = [f"c/{i}.yaml" for i in range(len(bodies))]
    results = validate_resources(resources, "1.32", names=names, preinstalled_crds=crds())
    return [item.msg for result in results for item in result.failures]


def documents(directory: Path) -> list[Body]:
    return [
        doc
        for path in sorted(directory.rglob("*.yaml"))
        if path.name != "kustomization.yaml"
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]


def published(tmp_path: Path, *flags: str, names: tuple[str, ...] = TWO) -> tuple[Path, Path]:
    pack = make_pack(tmp_path, names)
    deploy = tmp_path / "deploy"
    argv = ["--all", "--pack", str(pack), "--deploy-repo", str(deploy), "--quiet", *flags]
    assert publish(*argv) == 0
    return pack, deploy


# --- What the objects say, field by field against the CRDs ---


def test_every_generated_object_passes_the_argo_cd_and_flux_crd_schemas(tmp_path: Path) -> None:
    _, deploy = published(
        tmp_path,
        "--argocd-applicationset",
        "--flux-kustomizations",
        "--repo-url",
        URL,
        "--flux-secret",
        "deploy-credentials",
    )
    objects = documents(deploy / "argocd") + documents(deploy / "flux")
    kinds = sorted((o["apiVersion"], o["kind"]) for o in objects)
    assert kinds == [
        ("argoproj.io/v1alpha1", "ApplicationSet"),
        ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
        ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
        ("source.toolkit.fluxcd.io/v1", "GitRepository"),
        ("source.toolkit.fluxcd.io/v1", "GitRepository"),
    ]
    assert schema_failures(objects) == []
    # --flux-wait: the other shape of the Kustomization
    _, deploy = published(
        tmp_path / "wait", "--flux-kustomizations", "--repo-url", URL, "--flux-wait"
    )
    assert schema_failures(documents(deploy / "flux")) == []


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (("spec", "sourceRef", "kind"), "Git"),
        (("spec", "interval"), "ten minutes"),
        (("spec", "prune"), None),
        (("spec", "wiat"), True),
    ],
)
def test_the_crd_fixtures_can_fail(tmp_path: Path, edit: tuple[str, ...], problem: object) -> None:
    """A wrong enum, pattern, missing required field or unknown field is refused."""
    _, deploy = published(tmp_path, "--flux-kustomizations", "--repo-url", URL, names=("gcp-us-1",))
    body: dict[str, Any] = yaml.safe_load(
        (deploy / "flux" / "gcp-us-1" / "calico" / "calico.yaml").read_text()
    )
    node = body
    for key in edit[:-1]:
        node = node[key]
    if problem is None:
        del node[edit[-1]]
    else:
        node[edit[-1]] = problem
    assert schema_failures([body]) != []


def test_applicationset_lists_every_cluster_with_its_destination(tmp_path: Path) -> None:
    _, deploy = published(
        tmp_path,
        "--argocd-applicationset",
        "--repo-url",
        "https://bot:s3cret@git.example.com/net/deploy.git",
        "--revision",
        "live",
        "--argocd-project",
        "network",
        "--argocd-namespace",
        "gitops",
        "--destination-namespace",
        "calico-system",
        "--argocd-destination",
        "gcp-us-1=https://10.0.0.1:6443",
        "--argocd-destination",
        "aws-prod-1=prod-east",
    )
    appset = yaml.safe_load((deploy / "argocd" / "applicationset.yaml").read_text())
    assert appset["metadata"] == {"name": "netpack-calico", "namespace": "gitops"}
    [generator] = appset["spec"]["generators"]
    assert generator["list"]["elements"] == [
        {
            "cluster": "aws-prod-1",
            "path": "clusters/aws-prod-1/calico",
            "destinationServer": "",
            "destinationName": "prod-east",
        },
        {
            "cluster": "gcp-us-1",
            "path": "clusters/gcp-us-1/calico",
            "destinationServer": "https://10.0.0.1:6443",
            "destinationName": "",
        },
    ]
    spec = appset["spec"]["template"]["spec"]
    assert spec["project"] == "network"
    assert spec["source"] == {
        "repoURL": "https://git.example.com/net/deploy.git",  # no credentials
        "targetRevision": "live",
        "path": "{{.path}}",
    }
    assert spec["destination"]["namespace"] == "calico-system"
    for element in generator["list"]["elements"]:
        assert (deploy / element["path"] / "kustomization.yaml").is_file()


def test_flux_objects_name_the_source_and_health_check_calicos_workloads(
    tmp_path: Path, kubectl: str
) -> None:
    _, deploy = published(
        tmp_path,
        "--flux-kustomizations",
        "--repo-url",
        "git@git.example.com:net/deploy.git",
        "--branch",
        "live",
        "--flux-namespace",
        "gitops",
        "--flux-source",
        "calico-deploy",
    )
    built = yaml.safe_load_all(kustomize(kubectl, deploy / "flux" / "gcp-us-1" / "calico"))
    by_kind = {o["kind"]: o for o in built}
    source, calico = by_kind.pop("GitRepository"), by_kind.pop("Kustomization")
    assert by_kind == {}
    assert source["metadata"] == {"name": "calico-deploy", "namespace": "gitops"}
    assert source["spec"]["url"] == "ssh://git@git.example.com/net/deploy.git"
    assert source["spec"]["ref"] == {"branch": "live"}
    assert calico["metadata"] == {"name": "calico", "namespace": "gitops"}
    assert calico["spec"]["sourceRef"] == {"kind": "GitRepository", "name": "calico-deploy"}
    assert calico["spec"]["path"] == "./clusters/gcp-us-1/calico"
    assert calico["spec"]["prune"] is True and "wait" not in calico["spec"]
    # Every health check names an object of the cluster's render.
    rendered = {
        (o["kind"], o["metadata"]["name"], o["metadata"].get("namespace"))
        for o in yaml.safe_load_all(kustomize(kubectl, deploy / "clusters" / "gcp-us-1" / "calico"))
    }
    checks = calico["spec"]["healthChecks"]
    assert [c["kind"] for c in checks] == ["DaemonSet", "Deployment"]
    assert all((c["kind"], c["name"], c["namespace"]) in rendered for c in checks)
    assert checks == [dict(c) for c in HEALTH_CHECKS]


def test_the_bootstrap_source_is_reused_not_written(tmp_path: Path) -> None:
    _, deploy = published(
        tmp_path, "--flux-kustomizations", "--repo-url", URL, "--flux-source", "flux-system"
    )
    root = deploy / "flux" / "aws-prod-1" / "calico"
    assert sorted(p.name for p in root.iterdir()) == ["calico.yaml", "kustomization.yaml"]
    assert yaml.safe_load((root / "kustomization.yaml").read_text())["resources"] == ["calico.yaml"]


# --- The repo URL controllers clone ---


def test_a_local_deploy_repo_needs_a_repo_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = make_pack(tmp_path, ("gcp-us-1",))
    deploy = tmp_path / "deploy"
    for flag in ("--argocd-applicationset", "--flux-kustomizations"):
        assert publish("--all", "--pack", str(pack), "--deploy-repo", str(deploy), flag) == 2
        err = capsys.readouterr().err
        assert f"{flag}: the deploy repo {deploy} is a local path" in err and "--repo-url" in err
    assert not deploy.exists()  # nothing written
    for url in ("file:///srv/deploy.git", str(tmp_path), "./deploy"):
        argv = ["--all", "--pack", str(pack), "--deploy-repo", str(deploy)]
        assert publish(*argv, "--argocd-applicationset", "--repo-url", url) == 2
        assert f"--repo-url {url}: not a URL" in capsys.readouterr().err


def test_the_push_url_is_the_default_without_its_credentials() -> None:
    files = controller_files(
        Controllers(),
        remote="https://bot:tok@git.example.com/net/deploy.git",
        branch="main",
        applicationset=True,
        flux=True,
    )
    assert files is not None
    assert (files.repo_url, files.revision) == ("https://git.example.com/net/deploy.git", "main")
    assert (
        controller_files(
            Controllers(), remote=None, branch="main", applicationset=False, flux=False
        )
        is None
    )
    with pytest.raises(UsageError, match="local path"):
        controller_files(
            Controllers(), remote="/srv/deploy.git", branch="main", applicationset=True, flux=False
        )
    with pytest.raises(UsageError, match="http, https or ssh"):
        controller_files(
            Controllers(), remote="git://host/x.git", branch="main", applicationset=False, flux=True
        )


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://host/org/repo.git", True),
        ("ssh://git@host/org/repo.git", True),
        ("git@host:org/repo.git", True),
        ("file:///srv/repo.git", False),
        ("/srv/repo.git", False),
        ("./repo", False),
        ("repo", False),
    ],
)
def test_what_a_controller_can_clone(url: str, ok: bool) -> None:
    assert clonable(url) is ok


def test_scp_like_urls_become_ssh_urls_for_flux() -> None:
    assert flux_url("git@host:org/repo.git") == "ssh://git@host/org/repo.git"
    assert flux_url("host:org/repo.git") == "ssh://host/org/repo.git"
    assert flux_url("https://u:p@host/x.git") == "https://host/x.git"


def test_a_destination_for_an_unknown_cluster_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = make_pack(tmp_path, ("gcp-us-1",))
    deploy = tmp_path / "deploy"
    argv = ["--all", "--pack", str(pack), "--deploy-repo", str(deploy), "--repo-url", URL]
    code = publish(*argv, "--argocd-applicationset", "--argocd-destination", "gcp-us-2=x")
    assert code == 2
    assert "--argocd-destination gcp-us-2=...: no such cluster" in capsys.readouterr().err
    assert not deploy.exists()  # refused before anything is created
    assert publish(*argv, "--argocd-applicationset", "--argocd-destination", "oops") == 2


# --- Flux applies each Calico object once ---


def flux_build(root: Path, path: str, kubectl: str, scratch: Path) -> list[Body]:
    """What a Flux Kustomization with ``spec.path: path`` applies from ``root``: the
    kustomization.yaml there, else the one Flux generates (fluxcd/pkg
    kustomize/kustomize_generator.go: every directory holding a kustomization file is a
    resource and is not descended into; every other .yaml/.yml file is one)."""
    directory = root / path
    if not (directory / "kustomization.yaml").is_file():
        resources: list[str] = []

        def scan(here: Path) -> None:
            for entry in sorted(here.iterdir()):
                if entry.is_dir() and not entry.name.startswith("."):
                    if (entry / "kustomization.yaml").is_file():
                        resources.append(str(entry.relative_to(directory)))
                    else:
                        scan(entry)
                elif entry.suffix in (".yaml", ".yml"):
                    resources.append(str(entry.relative_to(directory)))

        scan(directory)
        (directory / "kustomization.yaml").write_text(json.dumps({"resources": resources}))
        try:
            return list(yaml.safe_load_all(kustomize(kubectl, directory)))
        finally:
            (directory / "kustomization.yaml").unlink()
    return list(yaml.safe_load_all(kustomize(kubectl, directory)))


def applied(root: Path, bootstrap: str, kubectl: str) -> dict[tuple[str, str, str], int]:
    """How many times a Flux bootstrapped at ``bootstrap`` applies each object: its own
    Kustomization's, then, recursively, those of the Flux Kustomizations it applies."""
    times: dict[tuple[str, str, str], int] = {}
    todo, seen = [bootstrap], 0
    while todo:
        seen += 1
        assert seen < 20, "Kustomizations apply each other in a loop"
        for obj in flux_build(root, todo.pop(), kubectl, root):
            meta = obj["metadata"]
            key = (obj["kind"], meta.get("namespace", ""), meta["name"])
            times[key] = times.get(key, 0) + 1
            if obj["apiVersion"].startswith("kustomize.toolkit.fluxcd.io/"):
                todo.append(obj["spec"]["path"].removeprefix("./"))
    return times


@pytest.mark.parametrize("bootstrap", ["clusters/gcp-us-1", "flux/gcp-us-1"])
def test_flux_applies_each_calico_object_once(tmp_path: Path, kubectl: str, bootstrap: str) -> None:
    _, deploy = published(tmp_path, "--flux-kustomizations", "--repo-url", URL)
    # What `flux bootstrap --path=<bootstrap>` adds: flux-system/ with its own kustomization.
    system = deploy / bootstrap / "flux-system"
    system.mkdir()
    (system / "kustomization.yaml").write_text("resources: [gotk-sync.yaml]\n")
    (system / "gotk-sync.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: gotk-sync, namespace: flux-system}\n"
    )
    times = applied(deploy, bootstrap, kubectl)
    calico = yaml.safe_load_all(kustomize(kubectl, deploy / "clusters" / "gcp-us-1" / "calico"))
    keys = [(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in calico]
    assert len(keys) == 39
    assert {key: times.get(key, 0) for key in keys} == dict.fromkeys(keys, 1)
    assert times[("ConfigMap", "flux-system", "gotk-sync")] == 1
    assert all(n == 1 for n in times.values()), times


def test_kubectl_builds_every_published_directory(tmp_path: Path, kubectl: str) -> None:
    _, deploy = published(
        tmp_path, "--flux-kustomizations", "--argocd-applicationset", "--repo-url", URL
    )
    built = sorted(
        p.parent.relative_to(deploy).as_posix() for p in deploy.rglob("kustomization.yaml")
    )
    assert built == [
        "clusters/aws-prod-1/calico",
        "clusters/gcp-us-1/calico",
        "flux/aws-prod-1/calico",
        "flux/gcp-us-1/calico",
    ]
    for directory in built:
        assert kustomize(kubectl, deploy / directory)


# --- Output flags re-publish no cluster (the inputs digest is the render's) ---


def test_switching_output_flags_touches_only_the_fleet_level_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = make_pack(tmp_path, TWO)
    deploy = tmp_path / "deploy"
    argv = ["--all", "--pack", str(pack), "--deploy-repo", str(deploy), "--repo-url", URL]
    assert publish(*argv, "--quiet") == 0
    records = {
        n: sh(deploy, "show", f"HEAD:clusters/{n}/calico/.netpack/provenance.json") for n in TWO
    }
    capsys.readouterr()
    assert publish(*argv, "--argocd-applicationset", "--flux-kustomizations") == 0
    out = capsys.readouterr()
    assert "2 clusters unchanged since the last publish" in out.err
    assert "clusters changed" not in out.out  # no diff of clusters that did not change
    summary = out.out.splitlines()[-1]
    assert summary.endswith(": updated argocd/applicationset.yaml, Flux objects of 2 clusters")
    assert "cluster (" not in summary and "clusters (" not in summary
    assert sorted(changed_paths(deploy)) == [
        "argocd/applicationset.yaml",
        *(
            f"flux/{n}/calico/{f}"
            for n in TWO
            for f in ("calico.yaml", "kustomization.yaml", "source.yaml")
        ),
    ]
    assert sh(deploy, "log", "-1", "--format=%s").endswith(
        ": update argocd/applicationset.yaml, Flux objects of 2 clusters"
    )
    for name, record in records.items():
        assert sh(deploy, "show", f"HEAD:clusters/{name}/calico/.netpack/provenance.json") == record
    # Other values for the flags: again only the fleet-level files.
    assert publish(*argv, "--argocd-applicationset", "--flux-kustomizations", "--flux-wait") == 0
    assert {p.split("/")[0] for p in changed_paths(deploy)} == {"flux"}
    # The same flags again: nothing to commit.
    commits = count(deploy)
    assert publish(*argv, "--argocd-applicationset", "--flux-kustomizations", "--flux-wait") == 0
    assert count(deploy) == commits
    assert capsys.readouterr().out.endswith("is up to date; nothing to publish\n")


def test_a_cluster_removed_takes_its_flux_objects_and_the_applicationset_follows(
    tmp_path: Path,
) -> None:
    pack, deploy = published(
        tmp_path, "--argocd-applicationset", "--flux-kustomizations", "--repo-url", URL
    )
    (pack / "clusters" / "gcp-us-1.yaml").unlink()
    commit_all(pack, "drop gcp-us-1")
    argv = ["--all", "--pack", str(pack), "--deploy-repo", str(deploy), "--quiet"]
    assert publish(*argv, "--argocd-applicationset", "--repo-url", URL) == 0
    assert not (deploy / "clusters" / "gcp-us-1").exists()
    assert not (deploy / "flux" / "gcp-us-1").exists()
    assert (deploy / "flux" / "aws-prod-1" / "calico" / "calico.yaml").is_file()  # opt-in: stays
    appset = yaml.safe_load((deploy / "argocd" / "applicationset.yaml").read_text())
    assert [e["cluster"] for e in appset["spec"]["generators"][0]["list"]["elements"]] == [
        "aws-prod-1"
    ]
    assert publish(*argv) == 0
    assert (deploy / "argocd" / "applicationset.yaml").is_file()  # opt-in files stay


def test_the_old_flux_kustomization_inside_clusters_is_removed(tmp_path: Path) -> None:
    """netpack 0.1.0 wrote clusters/<name>/flux-kustomization.yaml, which a Flux
    bootstrapped at clusters/<name> applied along with calico/: twice."""
    pack, deploy = published(tmp_path, names=("gcp-us-1",))
    old = deploy / "clusters" / "gcp-us-1" / "flux-kustomization.yaml"
    old.write_bytes(legacy_flux_kustomization("gcp-us-1"))
    mine = deploy / "clusters" / "gcp-us-1" / "notes.yaml"
    mine.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: mine}\n")
    commit_all(deploy, "as netpack 0.1.0 left it, plus a file of mine")
    argv = ["--all", "--pack", str(pack), "--deploy-repo", str(deploy), "--quiet"]
    assert publish(*argv, "--flux-kustomizations", "--repo-url", URL) == 0
    assert not old.exists()
    assert mine.is_file()
    assert (deploy / "flux" / "gcp-us-1" / "calico" / "calico.yaml").is_file()


def test_root_readme_names_the_flux_layout(tmp_path: Path) -> None:
    _, deploy = published(tmp_path, names=("gcp-us-1",))
    text = (deploy / "README.md").read_text()
    assert "flux/<cluster>/calico/" in text and "flux-kustomization.yaml" not in text
