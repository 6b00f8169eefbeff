"""The git wrapper: pinned environment, one-line errors, plumbing that moves no ref by itself."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pipeline.publish import git as g
from pipeline.publish.git import Entry, Git, GitError
from pipeline.publish.pack import write_tree

WHO = g.Identity("Test", "test@example.com")


def sh(repo: Path, *args: str, stdin: str | None = None) -> str:
    proc = subprocess.run(
        ["git", "-C", str(repo), *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        env=g.environment(),
    )
    return proc.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Git:
    path = tmp_path / "repo"
    path.mkdir()
    sh(path, "init", "-q", "-b", "main")
    return Git(path)


def commit(git: Git, files: dict[str, bytes], parent: str | None = None) -> str:
    """A commit of ``files`` on top of ``parent`` (plumbing only)."""
    base = g.tree_of(git, parent) if parent else None
    changes: dict[str, Entry | None] = {
        p: Entry("100644", g.object_id(d)) for p, d in files.items()
    }
    tree = write_tree(git, base, changes, [(g.object_id(d), d) for d in files.values()])
    return g.commit_tree(git, tree, parent, "test\n", author=WHO, committer=WHO)


def test_a_failure_shows_command_exit_code_and_stderr_on_one_line(repo: Git) -> None:
    with pytest.raises(GitError) as caught:
        repo.run("rev-parse", "--verify", "nope")
    assert str(caught.value) == (
        f"{repo.directory} git rev-parse --verify nope: exit 128: fatal: Needed a single revision"
    )
    assert "\n" not in str(caught.value)
    assert caught.value.exit_code == 3


def test_hints_are_dropped_and_lines_joined() -> None:
    assert g.one_line(b"error: a\nhint: do this\n\nfatal: b\n") == "error: a; fatal: b"
    assert len(g.one_line(b"x" * 5000)) == 600


def test_environment_is_pinned_and_ignores_a_callers_repository(
    repo: Git, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    sh(other, "init", "-q")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(tmp_path / "stray-index"))
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    env = g.environment()
    assert env["LC_ALL"] == "C" and env["GIT_TERMINAL_PROMPT"] == "0"
    assert env["GIT_PAGER"] == "cat" and env["GIT_CONFIG_NOSYSTEM"] == "1"
    assert "GIT_DIR" not in env and "GIT_INDEX_FILE" not in env
    assert "GIT_CONFIG_NOSYSTEM" not in g.environment(network=True)
    assert Path(repo.text("rev-parse", "--absolute-git-dir")) == repo.directory / ".git"


def test_object_ids_match_git_hash_object(repo: Git) -> None:
    for data in (b"", b"hello\n", bytes(range(256)) * 10):
        written = subprocess.run(
            ["git", "-C", str(repo.directory), "hash-object", "--stdin"],
            input=data,
            capture_output=True,
            check=True,
        ).stdout.decode()
        assert g.object_id(data) == written.strip()
    assert g.object_id(b"", "tree") == "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


def test_blobs_tree_and_commit_leave_refs_index_and_work_tree_alone(repo: Git) -> None:
    first = commit(repo, {"a/x.yaml": b"x: 1\n", "b.txt": b"b\n"})
    assert g.resolve(repo, "refs/heads/main") is None  # nothing moved a ref
    assert not (repo.directory / "a").exists()
    assert not (repo.directory / ".git" / "index").exists()
    files = g.ls_tree(repo, g.tree_of(repo, first))
    assert files == {
        "a/x.yaml": Entry("100644", g.object_id(b"x: 1\n")),
        "b.txt": Entry("100644", g.object_id(b"b\n")),
    }
    assert g.read_blobs(repo, [files["a/x.yaml"].oid]) == {files["a/x.yaml"].oid: b"x: 1\n"}


def test_write_tree_applies_changes_and_deletions_on_a_base(repo: Git) -> None:
    first = commit(repo, {"keep": b"k\n", "drop/me": b"d\n", "edit": b"1\n"})
    tree = write_tree(
        repo,
        g.tree_of(repo, first),
        {
            "drop/me": None,
            "edit": Entry("100644", g.object_id(b"2\n")),
            "deep/new/file": Entry("100644", g.object_id(b"new\n")),
        },
        [(g.object_id(d), d) for d in (b"2\n", b"new\n")],
    )
    assert sorted(g.ls_tree(repo, tree)) == ["deep/new/file", "edit", "keep"]


def test_write_tree_refuses_a_blob_that_was_never_stored(repo: Git) -> None:
    missing = Entry("100644", g.object_id(b"never written\n"))
    with pytest.raises(GitError, match=r"exit 128: .*invalid object"):
        write_tree(repo, None, {"x": missing})


def test_update_ref_is_a_compare_and_swap(repo: Git) -> None:
    first = commit(repo, {"f": b"1\n"})
    second = commit(repo, {"f": b"2\n"}, first)
    g.update_ref(repo, "refs/heads/main", first, None, "create")
    with pytest.raises(GitError, match="cannot lock ref"):
        g.update_ref(repo, "refs/heads/main", second, second, "wrong old value")
    with pytest.raises(GitError):
        g.update_ref(repo, "refs/heads/main", second, None, "must not exist yet")
    g.update_ref(repo, "refs/heads/main", second, first, "move")
    assert g.resolve(repo, "refs/heads/main") == second


def test_a_missing_blob_is_an_error(repo: Git) -> None:
    with pytest.raises(GitError, match="missing"):
        g.read_blobs(repo, [g.object_id(b"nothing\n")])


def test_commit_tree_uses_the_identities_given(repo: Git) -> None:
    other = g.Identity("Other", "other@example.com")
    one = g.object_id(b"1\n")
    tree = write_tree(repo, None, {"f": Entry("100644", one)}, [(one, b"1\n")])
    oid = g.commit_tree(repo, tree, None, "subject\n\nbody\n", author=WHO, committer=other)
    shown = sh(repo.directory, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%B", oid)
    assert shown == "Test <test@example.com>|Other <other@example.com>|subject\n\nbody"


def test_push_accepts_a_fast_forward_and_reports_a_non_fast_forward(
    repo: Git, tmp_path: Path
) -> None:
    remote = tmp_path / "remote.git"
    sh(tmp_path, "init", "-q", "--bare", str(remote))
    first = commit(repo, {"f": b"1\n"})
    second = commit(repo, {"f": b"2\n"}, first)
    sideways = commit(repo, {"f": b"3\n"}, first)
    url = remote.as_uri()
    assert g.remote_tip(repo, url, "main") is None
    assert g.push(repo, url, first, "main").accepted
    assert g.push(repo, url, second, "main").accepted
    refused = g.push(repo, url, sideways, "main")
    assert not refused.accepted and refused.refusal is not None
    assert "[rejected]" in str(refused.refusal) and "non-fast-forward" in str(refused.refusal)
    assert g.remote_tip(repo, url, "main") == second
    g.fetch(repo, url, "main", "refs/netpack/remote/main")
    assert g.resolve(repo, "refs/netpack/remote/main") == second


def test_push_refused_by_a_hook_carries_the_remotes_words(repo: Git, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    sh(tmp_path, "init", "-q", "--bare", str(remote))
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'deploy branch is frozen' >&2\nexit 1\n")
    hook.chmod(0o755)
    refused = g.push(repo, str(remote), commit(repo, {"f": b"1\n"}), "main")
    assert not refused.accepted and refused.refusal is not None
    text = str(refused.refusal)
    assert "exit 1" in text and "remote: deploy branch is frozen" in text
    assert "pre-receive hook declined" in text


def test_an_unreachable_remote_is_an_error(repo: Git, tmp_path: Path) -> None:
    with pytest.raises(GitError, match="does not appear to be a git repository"):
        g.remote_tip(repo, (tmp_path / "nothing.git").as_uri(), "main")
