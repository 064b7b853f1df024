"""Publish the output folder to a branch (gh-pages) with git plumbing, never touching the working tree.

The site's files are hashed into git's object store, listed in a temporary index, written as one tree and
committed on top of the branch's previous commit; then the branch is pushed. The user's checkout, index,
current branch and uncommitted work are never used: only objects and the one branch ref are written.
"""

from __future__ import annotations

import os
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError, display_path

SKIPPED = frozenset({".broadsheet-output"})  # Broadsheet's own marker is not part of the published site


class DeployError(Exception):
    """Publishing stopped; the message says why (nothing local was lost)."""


@dataclass(frozen=True)
class Change:
    """The commit a deploy makes (or would make): the files against the branch's previous commit."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    parent: str | None
    commit: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


@dataclass(frozen=True)
class Request:
    """What to publish where: the deploy command's remote, branch and flags, and the commit's message."""

    remote: str
    branch: str
    message: str
    cname: str | None = None
    dry_run: bool = False


class Git:
    """git run in one repository, with the user's environment (identity, config) but a private index."""

    def __init__(self, where: Path) -> None:
        result = subprocess.run(["git", "-C", str(where), "rev-parse", "--show-toplevel", "--absolute-git-dir"],
                                capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise UsageError(f"{display_path(where)}: not inside a git repository; deploy publishes to a branch "
                             "of the project's repository (git init, then add a remote)")
        top, git_dir = result.stdout.splitlines()
        self.top, self.git_dir = Path(top), Path(git_dir)

    def run(self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(["git", "-C", str(self.top), *args], input=stdin, capture_output=True, text=True,
                                env={**os.environ, **(env or {})}, check=False)
        if check and result.returncode != 0:
            said = result.stderr.strip() or result.stdout.strip()
            if "tell me who you are" in said or "unable to auto-detect email" in said:
                raise DeployError("git does not know who is committing; set it once with: git config --global "
                                  "user.name 'Your Name' && git config --global user.email you@example.org")
            raise DeployError(f"git {args[0]} failed: {' '.join(said.split())}")
        return result


def prepare(git: Git, out: Path, remote: str, branch: str) -> None:
    """Refuse what cannot be published: an unknown remote, the branch checked out, output inside .git."""
    if git.run("remote", "get-url", remote, check=False).returncode != 0:
        known = git.run("remote").stdout.split()
        raise UsageError(f"no git remote named '{remote}'" + (f" (remotes: {', '.join(known)})" if known else
                                                             "; add one with: git remote add origin URL"))
    if git.run("check-ref-format", "--branch", branch, check=False).returncode != 0:
        raise UsageError(f"'{branch}' is not a valid branch name")
    current = git.run("symbolic-ref", "--quiet", "--short", "HEAD", check=False).stdout.strip()
    if current == branch:
        raise UsageError(f"the branch '{branch}' is checked out here; deploy writes that branch, so switch to "
                         "your working branch first")
    resolved = out.resolve()
    if resolved == git.git_dir or resolved.is_relative_to(git.git_dir):
        raise UsageError(f"{display_path(out)}: the output folder is inside the repository's .git folder")


def files_of(out: Path, cname: str | None) -> dict[str, tuple[str, bytes | None, Path | None]]:
    """path -> (mode, bytes or None, file or None) of everything to publish, with .nojekyll and CNAME."""
    found: dict[str, tuple[str, bytes | None, Path | None]] = {}
    for folder, subfolders, names in os.walk(out):
        subfolders.sort()
        for name in sorted(names):
            path = Path(folder) / name
            relative = path.relative_to(out).as_posix()
            if relative in SKIPPED:
                continue
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                raise DeployError(f"{display_path(path)}: symbolic links are not published")
            found[relative] = ("100755" if info.st_mode & 0o111 else "100644", None, path)
    found[".nojekyll"] = ("100644", b"", None)  # the branch holds a finished site: GitHub must not run Jekyll
    if cname:
        found["CNAME"] = ("100644", cname.strip().encode() + b"\n", None)
    if "404.html" not in found:
        raise DeployError(f"{display_path(out)}: no 404.html at the root of the site")
    return found


def publish(git: Git, out: Path, request: Request) -> Change:
    """Commit the site as the branch's next commit and push it (or, dry, say what that commit would be)."""
    remote, branch, message = request.remote, request.branch, request.message
    parent = _parent(git, remote, branch)
    files = files_of(out, request.cname)
    hashes = _hash(git, files, write=not request.dry_run)
    before = _listing(git, parent) if parent else {}
    after = {path: (files[path][0], hashes[path]) for path in files}
    change = Change(tuple(sorted(after.keys() - before.keys())),
                    tuple(sorted(p for p in after.keys() & before.keys() if after[p] != before[p])),
                    tuple(sorted(before.keys() - after.keys())), parent)
    if request.dry_run or (change.empty and parent):
        return change
    with tempfile.TemporaryDirectory(prefix="broadsheet-deploy-") as temporary:
        index = {"GIT_INDEX_FILE": str(Path(temporary) / "index")}
        git.run("update-index", "--add", "--index-info", env=index,
                stdin="".join(f"{mode} {sha}\t{path}\n" for path, (mode, sha) in after.items()))
        tree = git.run("write-tree", env=index).stdout.strip()
    commit = git.run("commit-tree", tree, *(["-p", parent] if parent else []), "-m", message).stdout.strip()
    git.run("update-ref", "-m", f"broadsheet deploy: {message}", f"refs/heads/{branch}", commit,
            *([parent] if parent and _local(git, branch) == parent else []))
    pushed = git.run("push", "--porcelain", remote, f"refs/heads/{branch}:refs/heads/{branch}", check=False)
    if pushed.returncode != 0:
        answer = "\n".join(line for line in (pushed.stderr + pushed.stdout).splitlines() if line.strip())
        raise DeployError(f"the push to '{remote}' was rejected; the commit {commit[:12]} is kept on your local "
                          f"branch '{branch}'. The remote said:\n{answer}")
    return Change(change.added, change.changed, change.removed, parent, commit)


def _parent(git: Git, remote: str, branch: str) -> str | None:
    """The branch's previous commit: the remote's when it has the branch (fetched), else the local one."""
    listed = git.run("ls-remote", "--heads", remote, f"refs/heads/{branch}", check=False)
    if listed.returncode != 0:
        raise DeployError(f"cannot reach the remote '{remote}': {listed.stderr.strip()}")
    if listed.stdout.strip():
        git.run("fetch", "--quiet", "--no-tags", remote, f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}")
        return git.run("rev-parse", "--verify", f"refs/remotes/{remote}/{branch}^{{commit}}").stdout.strip()
    return _local(git, branch)


def _local(git: Git, branch: str) -> str | None:
    found = git.run("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}", check=False)
    return found.stdout.strip() or None


def _hash(git: Git, files: dict[str, tuple[str, bytes | None, Path | None]], write: bool) -> dict[str, str]:
    """The blob id of every file (stored in the repository when write)."""
    on_disk = [path for path, (_, data, _) in files.items() if data is None]
    flags = ["-w"] if write else []
    result = git.run("hash-object", *flags, "--no-filters", "--stdin-paths",
                     stdin="".join(f"{files[p][2]}\n" for p in on_disk))
    hashes = dict(zip(on_disk, result.stdout.split(), strict=True))
    for path, (_, data, _) in files.items():
        if data is not None:
            hashes[path] = _hash_bytes(git, data, write)
    return hashes


def _hash_bytes(git: Git, data: bytes, write: bool) -> str:
    result = subprocess.run(["git", "-C", str(git.top), "hash-object", *(["-w"] if write else []), "--stdin"],
                            input=data, capture_output=True, check=False)
    if result.returncode != 0:
        raise DeployError(f"git hash-object failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout.decode().strip()


def _listing(git: Git, commit: str) -> dict[str, tuple[str, str]]:
    """path -> (mode, blob id) of every file in a commit."""
    found = {}
    for line in git.run("ls-tree", "-r", "-z", "--full-tree", commit).stdout.split("\0"):
        if line:
            meta, path = line.split("\t", 1)
            mode, _, sha = meta.split()
            found[path] = (mode, sha)
    return found
