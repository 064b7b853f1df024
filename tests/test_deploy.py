"""`deploy` with real git against a local bare repository, and the Pages workflow shipped in the repo."""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

import pytest
import yaml

from .conftest import CONFIG, PROJECT, article, snapshot, write_files

if shutil.which("git") is None:  # in CI a missing git is a failure, never a quiet skip
    if os.environ.get("BROADSHEET_CI") == "1":
        raise RuntimeError("git is not installed, and BROADSHEET_CI=1 needs the deploy tests to run")
    pytestmark = pytest.mark.skip(reason="git is not installed")
IDENTITY = {"GIT_AUTHOR_NAME": "Test Editor", "GIT_AUTHOR_EMAIL": "editor@example.org",
            "GIT_COMMITTER_NAME": "Test Editor", "GIT_COMMITTER_EMAIL": "editor@example.org"}


def git(where: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(where), *args], capture_output=True, text=True, check=True,
                          env={**os.environ, **IDENTITY}).stdout.strip()


@pytest.fixture
def newsroom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A copy of the demo paper in a git repository with work in progress, and an empty bare remote."""
    for name, value in IDENTITY.items():
        monkeypatch.setenv(name, value)
    project = tmp_path / "paper"
    for folder in ("content", "layouts"):
        shutil.copytree(PROJECT / folder, project / folder)
    shutil.copy(PROJECT / "pyproject.toml", project / "pyproject.toml")
    (project / ".gitignore").write_text("/site/\n/.site.*\n")
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(remote)], check=True)
    git(project.parent, "init", "--quiet", "-b", "main", str(project))
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", "The paper")
    git(project, "remote", "add", "origin", str(remote))
    monkeypatch.chdir(project)
    return project, remote


def test_deploys_commit_only_what_changed_and_never_touch_the_checkout(newsroom, cli):
    project, remote = newsroom
    story = project / "content/articles/business/container-terminal-jobs.md"
    (project / "README.txt").write_text("notes in progress\n")  # untracked
    about = project / "content/pages/about.md"
    about.write_text(about.read_text() + "\nAn unsaved draft line.\n")  # a tracked file with uncommitted edits
    git(project, "add", "content/pages/about.md")  # staged, too
    about.write_text(about.read_text() + "Another unstaged line.\n")
    status, staged = git(project, "status", "--porcelain"), git(project, "diff", "--cached")

    first = cli("deploy")
    assert first.code == 0, first.err
    assert "Published" in first.out and "first commit" in first.out
    # the sources' uncommitted work is published, and said so; files that are no source of the site are not
    assert "content/pages/about.md: warning: uncommitted change, published as it is in the working tree" \
        in first.err and "README.txt" not in first.err
    tip = git(remote, "rev-parse", "gh-pages")
    files = set(git(remote, "ls-tree", "-r", "--name-only", "gh-pages").splitlines())
    assert {".nojekyll", "404.html", "index.html", "feed.xml", "sitemap.xml"} <= files
    assert ".broadsheet-output" not in files and "CNAME" not in files
    assert git(project, "status", "--porcelain") == status and git(project, "diff", "--cached") == staged
    assert git(project, "symbolic-ref", "--short", "HEAD") == "main"
    assert "Another unstaged line." in about.read_text()

    built = snapshot(project / "site")
    story.write_text(story.read_text() + "\nA sentence added after publication.\n")
    status = git(project, "status", "--porcelain")
    second = cli("deploy")
    assert second.code == 0, second.err
    rebuilt = snapshot(project / "site")
    changed = {path for path in rebuilt if built.get(path) != rebuilt[path]} - {".broadsheet-output"}
    new_tip = git(remote, "rev-parse", "gh-pages")
    assert git(remote, "rev-parse", "gh-pages^") == tip  # exactly one new commit, on top of the first
    diff = set(git(remote, "diff-tree", "-r", "--name-only", "--no-commit-id", tip, new_tip).splitlines())
    assert diff == changed
    page = next(path for path in diff if path.endswith("index.html") and "/20" in "/" + path)
    assert "A sentence added after publication." in rebuilt[page].decode()
    assert len(diff) < len(files) / 4
    assert git(project, "status", "--porcelain") == status

    third = cli("deploy")
    assert third.code == 0 and "Nothing changed" in third.out
    assert git(remote, "rev-parse", "gh-pages") == new_tip


def test_the_deployed_branch_served_under_its_sub_path_has_no_missing_page(newsroom, cli, tmp_path):
    project, remote = newsroom
    assert cli("deploy").code == 0
    host = tmp_path / "host"
    host.mkdir()
    subprocess.run(["git", "clone", "--quiet", "--branch", "gh-pages", str(remote), str(host / "newsroom")],
                   check=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", str(host)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        pages, missing = _crawl("127.0.0.1", port, "/newsroom/")
    finally:
        server.terminate()
        server.wait()
    assert not missing
    assert pages > 100  # every article, listing, feed and picture was fetched


def _crawl(host: str, port: int, start: str) -> tuple[int, list[str]]:
    """Fetch start and every same-host URL reachable from it; (how many fetched, the ones not 200)."""
    for _ in range(100):
        try:
            socket.create_connection((host, port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    seen, queue, missing = {start}, [start], []
    connection = http.client.HTTPConnection(host, port, timeout=10)
    while queue:
        path = queue.pop()
        connection.request("GET", quote(path, safe="/%"))  # as a browser sends an IRI
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            missing.append(f"{path} -> {response.status}")
            continue
        if response.getheader("Content-Type", "").startswith("text/html"):
            links = _Links()
            links.feed(body.decode("utf-8"))
            for link in links.found:
                target = urlsplit(urljoin(f"http://{host}:{port}{path}", link))
                if target.scheme == "http" and target.netloc == f"{host}:{port}" and target.path not in seen:
                    seen.add(target.path)
                    queue.append(target.path)
    return len(seen), missing


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value for name, value in attrs if name in ("href", "src") and value]


def test_a_rejected_push_is_reported_with_the_remotes_answer_and_the_commit_is_kept(newsroom, cli):
    project, remote = newsroom
    hook = remote / "hooks/pre-receive"
    hook.write_text("#!/bin/sh\necho 'publishing is frozen during the election count' >&2\nexit 1\n")
    hook.chmod(0o755)
    run = cli("deploy")
    assert run.code == 1
    assert "rejected" in run.err and "publishing is frozen during the election count" in run.err
    assert "Traceback" not in run.err
    local = git(project, "rev-parse", "refs/heads/gh-pages")
    assert local in run.err or local[:12] in run.err
    assert subprocess.run(["git", "-C", str(remote), "rev-parse", "--verify", "--quiet", "gh-pages"],
                          capture_output=True).returncode != 0
    # what counts is what the remote has: the next deploy pushes the commit kept (not "Nothing changed")
    hook.unlink()
    assert f"Would push {local[:12]} (kept on 'gh-pages'" in cli("deploy", "--dry-run").out
    again = cli("deploy")
    assert again.code == 0 and "Published" in again.out and "kept" in again.out, again.out + again.err
    assert git(remote, "rev-parse", "gh-pages") == local


def test_a_site_changed_after_rejected_pushes_is_published_on_top_of_them(newsroom, cli):
    project, remote = newsroom
    hook = remote / "hooks/pre-receive"
    hook.write_text("#!/bin/sh\nexit 1\n")
    hook.chmod(0o755)
    assert cli("deploy").code == 1
    kept = git(project, "rev-parse", "refs/heads/gh-pages")
    story = project / "content/articles/business/container-terminal-jobs.md"
    story.write_text(story.read_text() + "\nA correction.\n")
    hook.unlink()
    run = cli("deploy")
    assert run.code == 0 and "Published" in run.out, run.err
    assert git(remote, "rev-parse", "gh-pages^") == kept  # the site as it is now, on top of the one kept
    assert git(remote, "grep", "-l", "A correction.", "gh-pages", "--", "*/index.html")
    assert "Nothing changed" in cli("deploy").out


def test_deploy_from_a_subfolder_with_relative_paths(newsroom, cli, monkeypatch):
    project, remote = newsroom
    about = project / "content/pages/about.md"
    about.write_text(about.read_text() + "\nA line not committed.\n")
    monkeypatch.chdir(project / "content")
    run = cli("deploy", "--config", "../pyproject.toml", "--out", "../public")
    assert run.code == 0, run.err
    assert "pages/about.md: warning: uncommitted change" in run.err  # (said from where the command runs)
    assert "A line not committed." in git(remote, "show", "gh-pages:about/index.html")


def test_file_names_are_published_exactly_as_they_are(newsroom, cli):
    project, remote = newsroom
    names = ['"quoted".txt', "new\nline.txt", "tab\there.txt", "back\\slash.txt", "café olé.txt", "-dash.txt",
             "a%20b.png", "quoted"]
    static = project / "layouts/static"
    for name in names:
        (static / name).write_bytes(f"the file {name!r}".encode())
    run = cli("deploy")
    assert run.code == 0, run.err
    assert 'layouts/static/new\\nline.txt: warning: uncommitted change' in run.err  # (one line each)
    listed = subprocess.run(["git", "-C", str(remote), "ls-tree", "-r", "-z", "--name-only", "gh-pages", "static/"],
                            capture_output=True, check=True).stdout.split(b"\0")
    for name in names:
        assert f"static/{name}".encode() in listed, name
        shown = subprocess.run(["git", "-C", str(remote), "cat-file", "blob", f"gh-pages:static/{name}"],
                               capture_output=True, check=True).stdout
        assert shown == f"the file {name!r}".encode(), name
    # a name that is not UTF-8 (the build does not take one yet: it is put in the built site)
    (project / "site/static" / os.fsdecode(b"\xff-latin1.txt")).write_bytes(b"not UTF-8")
    assert cli("deploy", "--no-build").code == 0
    shown = subprocess.run(["git", "-C", str(remote), "cat-file", "blob", b"gh-pages:static/\xff-latin1.txt"],
                           capture_output=True, check=True).stdout
    assert shown == b"not UTF-8"


def test_dry_run_lists_the_commit_and_changes_nothing(newsroom, cli):
    project, remote = newsroom
    run = cli("deploy", "--dry-run", "--cname", "news.example.org")
    assert run.code == 0, run.err
    assert "A\tindex.html" in run.out and "A\tCNAME" in run.out and "A\t.nojekyll" in run.out
    assert "Would commit" in run.out
    assert git(project, "branch", "--list", "gh-pages") == ""
    assert git(remote, "branch", "--list") == ""


def test_a_custom_domain_gets_a_cname_file(newsroom, cli):
    project, remote = newsroom
    run = cli("deploy", "--cname", "News.Example.org", "--base-url", "https://news.example.org/")
    assert run.code == 0 and "custom domain" not in run.err, run.err
    assert git(remote, "show", "gh-pages:CNAME") == "news.example.org"


@pytest.mark.parametrize("cname", ["https://news.example.org/", "news.example.org/path", "news example.org",
                                   "news.example.org\nevil.example", "localhost", "-"])
def test_a_cname_that_is_not_a_host_name_is_refused(newsroom, cli, cname):
    project, remote = newsroom
    with pytest.raises(SystemExit) as exit_code:
        cli("deploy", "--cname", cname)
    assert exit_code.value.code == 2
    assert git(remote, "branch", "--list") == ""


def test_a_cname_that_base_url_disagrees_with_is_warned_of(newsroom, cli):
    run = cli("deploy", "--dry-run", "--cname", "news.example.org")  # the demo's base_url is example.github.io
    assert run.code == 0
    assert "warning: the custom domain news.example.org serves the site at https://news.example.org/, but " \
           "base_url is https://example.github.io/newsroom/" in run.err
    assert "--base-url https://news.example.org/" in run.err
    at_a_path = cli("deploy", "--dry-run", "--cname", "news.example.org", "--base-url",
                    "https://news.example.org/newsroom/")
    assert "warning: the custom domain news.example.org serves the site at https://news.example.org/" \
        in at_a_path.err


@pytest.mark.parametrize("problem", ["no repository", "no remote", "branch checked out", "build error",
                                     "broken link", "branch in another worktree"])
def test_deploy_refuses_with_a_clear_message(problem, tmp_path, make_site, cli, monkeypatch):
    for name, value in IDENTITY.items():
        monkeypatch.setenv(name, value)
    files = {"content/articles/news/a.md": article("Alpha", "2024-05-01", body="See [the b story](/2024/05/beta/).")}
    root = make_site(files)
    monkeypatch.chdir(root)
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(remote)], check=True)
    if problem != "no repository":
        git(root, "init", "--quiet", "-b", "main")
        git(root, "commit", "--quiet", "--allow-empty", "-m", "start")
        if problem != "no remote":
            git(root, "remote", "add", "origin", str(remote))
    if problem == "branch checked out":
        git(root, "checkout", "--quiet", "-b", "gh-pages")
    if problem == "branch in another worktree":
        git(root, "worktree", "add", "--quiet", "-b", "gh-pages", str(tmp_path / "pages"))
    if problem == "build error":
        write_files(root, {"content/articles/news/bad.md": "---\ntitle: [unclosed\n---\nBody\n"})
    if problem != "broken link":
        write_files(root, {"content/articles/news/b.md": article("Beta", "2024-05-02")})
    before = snapshot(root)
    run = cli("deploy")
    expected = {"no repository": (2, "not inside a git repository"), "no remote": (2, "no git remote named 'origin'"),
                "branch checked out": (2, "is checked out here"), "build error": (1, "bad.md:3:1: error: front matter"),
                "broken link": (1, "broken link -> /2024/05/beta/"),
                "branch in another worktree": (2, f"is checked out in the worktree {tmp_path / 'pages'}")}[problem]
    assert run.code == expected[0]
    assert expected[1] in run.err
    assert "Traceback" not in run.err
    assert subprocess.run(["git", "-C", str(remote), "rev-parse", "--verify", "--quiet", "gh-pages"],
                          capture_output=True).returncode != 0
    after = snapshot(root)
    assert {k: v for k, v in after.items() if k.startswith("content/")} == \
        {k: v for k, v in before.items() if k.startswith("content/")}
    if problem == "broken link":
        assert "Not published" in run.err
        forced = cli("deploy", "--force")
        assert forced.code == 0, forced.err
        assert git(remote, "rev-parse", "--verify", "gh-pages")


def test_the_pages_workflow_builds_for_the_pages_url_and_publishes_hourly():
    workflow = yaml.safe_load((PROJECT / ".github/workflows/pages.yml").read_text())
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads a bare `on` as true
    assert triggers["push"]["branches"] == ["main"] and "workflow_dispatch" in triggers
    assert triggers["schedule"][0]["cron"].split()[1:] == ["*", "*", "*", "*"]  # every hour
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    steps = workflow["jobs"]["build"]["steps"]
    uses = [step.get("uses", "").split("@")[0] for step in steps]
    assert uses.index("actions/configure-pages") < next(i for i, s in enumerate(steps) if s.get("name") == "Build")
    build_step = next(s for s in steps if s.get("name") == "Build")
    assert '--base-url "${{ steps.pages.outputs.base_url }}/"' in build_step["run"]
    pages_step = next(s for s in steps if s.get("uses", "").startswith("actions/configure-pages"))
    assert pages_step["id"] == "pages"
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "site"
    setup = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["cache"] == "pip"
    deploy_job = workflow["jobs"]["deploy"]
    assert deploy_job["needs"] == "build" and deploy_job["environment"]["name"] == "github-pages"
    assert deploy_job["steps"][0]["uses"].startswith("actions/deploy-pages")


def test_scheduled_and_expiring_articles_follow_the_clock_in_the_sites_timezone(make_site):
    from datetime import UTC, datetime

    from broadsheet.pipeline import Options, build

    config = CONFIG.replace('timezone = "Europe/London"', 'timezone = "America/New_York"')
    root = make_site({
        "content/articles/news/embargo.md": article("Embargoed budget", "2026-11-25 09:00"),
        "content/articles/news/notice.md": article("Road closure notice", "2026-11-20 08:00",
                                                   expires="2026-11-25 18:00"),
    }, config=config)
    embargo = root / "site/2026/11/embargoed-budget/index.html"
    notice = root / "site/2026/11/road-closure-notice/index.html"

    def at(hour: int, minute: int) -> tuple[bool, bool]:
        build(Options(config=root / "pyproject.toml", now=datetime(2026, 11, 25, hour, minute, tzinfo=UTC)))
        return embargo.exists(), notice.exists()

    assert at(13, 59) == (False, True)  # 08:59 in New York: the embargo holds
    assert at(14, 1) == (True, True)  # 09:01 in New York: published by the hourly run
    assert at(23, 1) == (True, False)  # 18:01 in New York: the notice has expired


def test_an_unknown_committer_is_told_how_to_set_one(newsroom, cli, monkeypatch, tmp_path):
    project, remote = newsroom
    git(project, "config", "user.useConfigOnly", "true")  # git may not guess a name from the system
    for name in IDENTITY:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))  # no global git identity
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    run = cli("deploy")
    assert run.code == 1 and "git config --global user.name" in run.err and "Traceback" not in run.err
    assert subprocess.run(["git", "-C", str(remote), "rev-parse", "--verify", "--quiet", "gh-pages"],
                          capture_output=True).returncode != 0
