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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .errors import Problem, UsageError, display_path

SKIPPED = frozenset({".broadsheet-output"})  # Broadsheet's own marker is not part of the published site
ARGUMENTS_AT_ONCE = 64_000  # bytes of file names given to one `git hash-object` (far below any ARG_MAX)


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
    kept: bool = False  # the commit is the one a rejected push left on the local branch, pushed again

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
        # (file names are bytes to git: one that is not UTF-8 goes through as it is, both ways)
        result = subprocess.run(["git", "-C", str(self.top), *args], input=stdin, capture_output=True,
                                encoding="utf-8", errors="surrogateescape", env={**os.environ, **(env or {})},
                                check=False)
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
    for where in _worktrees_on(git, branch):
        raise UsageError(f"the branch '{branch}' is checked out in the worktree {where}; deploy writes that "
                         f"branch, which would change the files under it: switch that worktree to another "
                         f"branch, or remove it (git worktree remove {where})")
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
        found["CNAME"] = ("100644", cname.strip().lower().encode() + b"\n", None)
    if "404.html" not in found:
        raise DeployError(f"{display_path(out)}: no 404.html at the root of the site")
    return found


def publish(git: Git, out: Path, request: Request) -> Change:
    """Commit the site as the branch's next commit and push it (or, dry, say what that commit would be).

    What is published is the remote's branch, so that is what the site is compared with: a commit left on the
    local branch by a push that failed is not taken for published. It is pushed again when it holds this very
    site; else the new commit goes on top of the remote's (or, while the remote has no branch, the local one).
    """
    published, local = _published(git, request.remote, request.branch), _local(git, request.branch)
    files = files_of(out, request.cname)
    hashes = _hash(git, files, write=not request.dry_run)
    after = {path: (files[path][0], hashes[path]) for path in files}
    change = _compare(_listing(git, published) if published else {}, after, published or local)
    if change.empty and published:
        return change
    if local and local != published and _holds(git, local, published) and _listing(git, local) == after:
        change = Change(change.added, change.changed, change.removed, _first_parent(git, local), local, True)
    if request.dry_run:
        return change
    commit = change.commit or _commit(git, after, change.parent, request)
    _push(git, request, commit)
    return Change(change.added, change.changed, change.removed, change.parent, commit, change.kept)


def _compare(before: dict[str, tuple[str, str]], after: dict[str, tuple[str, str]], parent: str | None) -> Change:
    return Change(tuple(sorted(after.keys() - before.keys())),
                  tuple(sorted(p for p in after.keys() & before.keys() if after[p] != before[p])),
                  tuple(sorted(before.keys() - after.keys())), parent)


def _commit(git: Git, after: dict[str, tuple[str, str]], parent: str | None, request: Request) -> str:
    """The commit of the files on top of parent, made the local branch's head."""
    with tempfile.TemporaryDirectory(prefix="broadsheet-deploy-") as temporary:
        index = {"GIT_INDEX_FILE": str(Path(temporary) / "index")}
        git.run("update-index", "-z", "--add", "--index-info", env=index,  # (-z: names as they are, unquoted)
                stdin="".join(f"{mode} {sha}\t{path}\0" for path, (mode, sha) in after.items()))
        tree = git.run("write-tree", env=index).stdout.strip()
    commit = git.run("commit-tree", tree, *(["-p", parent] if parent else []), "-m", request.message).stdout.strip()
    git.run("update-ref", "-m", f"broadsheet deploy: {request.message}", f"refs/heads/{request.branch}", commit,
            *([parent] if parent and _local(git, request.branch) == parent else []))
    return commit


def _push(git: Git, request: Request, commit: str) -> None:
    remote, branch = request.remote, request.branch
    pushed = git.run("push", "--porcelain", remote, f"{commit}:refs/heads/{branch}", check=False)
    if pushed.returncode != 0:
        answer = "\n".join(line for line in (pushed.stderr + pushed.stdout).splitlines() if line.strip())
        raise DeployError(f"the push to '{remote}' was rejected; the commit {commit[:12]} is kept on your local "
                          f"branch '{branch}', and the next deploy pushes it again. The remote said:\n{answer}")


def _published(git: Git, remote: str, branch: str) -> str | None:
    """The remote's commit of the branch (fetched), or None when the remote has no such branch."""
    listed = git.run("ls-remote", "--heads", remote, f"refs/heads/{branch}", check=False)
    if listed.returncode != 0:
        raise DeployError(f"cannot reach the remote '{remote}': {listed.stderr.strip()}")
    if not listed.stdout.strip():
        return None
    git.run("fetch", "--quiet", "--no-tags", remote, f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}")
    return git.run("rev-parse", "--verify", f"refs/remotes/{remote}/{branch}^{{commit}}").stdout.strip()


def _holds(git: Git, commit: str, ancestor: str | None) -> bool:
    """Whether commit has ancestor in its history (pushing it to a branch at ancestor is a fast-forward)."""
    return ancestor is None or git.run("merge-base", "--is-ancestor", ancestor, commit, check=False).returncode == 0


def _first_parent(git: Git, commit: str) -> str | None:
    found = git.run("rev-parse", "--verify", "--quiet", f"{commit}^1", check=False)
    return found.stdout.strip() or None


def _local(git: Git, branch: str) -> str | None:
    found = git.run("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}", check=False)
    return found.stdout.strip() or None


def _hash(git: Git, files: dict[str, tuple[str, bytes | None, Path | None]], write: bool) -> dict[str, str]:
    """The blob id of every file (stored in the repository when write)."""
    on_disk = [path for path, (_, data, _) in files.items() if data is None]
    flags = ["-w"] if write else []
    hashes: dict[str, str] = {}
    # the files are named as arguments: `--stdin-paths` reads a line per name and unquotes a name in quotes
    for batch in _batches(on_disk, lambda path: len(os.fsencode(files[path][2] or "")) + 1):
        result = git.run("hash-object", *flags, "--no-filters", "--", *(os.path.abspath(files[p][2] or "")
                                                                         for p in batch))
        hashes.update(zip(batch, result.stdout.split(), strict=True))
    for path, (_, data, _) in files.items():
        if data is not None:
            hashes[path] = _hash_bytes(git, data, write)
    return hashes


def _batches(items: list[str], size: Callable[[str], int]) -> Iterator[list[str]]:
    """The items in runs whose sizes add up to at most ARGUMENTS_AT_ONCE (one at least)."""
    batch: list[str] = []
    total = 0
    for item in items:
        if batch and total + size(item) > ARGUMENTS_AT_ONCE:
            yield batch
            batch, total = [], 0
        batch.append(item)
        total += size(item)
    if batch:
        yield batch


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


def _worktrees_on(git: Git, branch: str) -> list[str]:
    """The other worktrees of the repository that have the branch checked out."""
    listed = git.run("worktree", "list", "--porcelain", "-z", check=False).stdout.split("\0")
    found, where = [], ""
    for line in listed:
        if line.startswith("worktree "):
            where = line[len("worktree "):]
        elif line == f"branch refs/heads/{branch}" and Path(where) != git.top:
            found.append(where)
    return found


def uncommitted(git: Git, sources: list[Path], most: int = 10) -> list[Problem]:
    """A warning for each source of the site (its content, layouts, settings) that differs from the commit
    checked out, new files too (deploy builds from the working tree, so those changes are published); past
    `most` of them, one line says how many more."""
    listed = git.run("status", "--porcelain", "-z", "--untracked-files=all", "--no-renames", "--",
                     *(os.path.abspath(p) for p in sources), check=False)
    if listed.returncode != 0:  # (sources outside the repository: nothing git can say)
        return []
    names = sorted({entry[3:] for entry in listed.stdout.split("\0") if len(entry) > 3})
    found = [Problem(display_path(git.top / name), message="uncommitted change, published as it is in the "
                     "working tree", hint="commit it first to publish what git holds", severity="warning")
             for name in names[:most]]
    if len(names) > most:
        found.append(Problem(display_path(git.top / names[most]), message=f"and {len(names) - most} more "
                             "uncommitted changes, published too", severity="warning"))
    return found


def cname_problem(cname: str, base_url: str, shown: str) -> Problem | None:
    """A warning when the custom domain is not where base_url says the site is (its links would be wrong)."""
    parts = urlsplit(base_url)
    if (parts.hostname or "") == cname.lower() and parts.path in ("", "/"):
        return None
    at = f"the custom domain {cname} serves the site at https://{cname}/"
    return Problem(shown, message=f"{at}, but base_url is {base_url}, so every link, feed and sitemap points "
                   "there", hint=f"build with --base-url https://{cname}/ or set base_url to it", severity="warning")
