"""Whole builds of tiny sites through the command line: exit codes, messages, atomic output."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import html5lib

from broadsheet.errors import display_path
from broadsheet.write import MARKER

from .conftest import PROJECT, article, snapshot, write_files

GOOD = {"content/articles/news/a.md": article("First story", "2024-05-01", body="Hello **readers**.")}


def build(cli, root: Path, *flags):
    return cli("build", "--config", root / "pyproject.toml", *flags)


def test_success_prints_a_summary_and_writes_the_site(cli, make_site):
    root = make_site(GOOD)
    run = build(cli, root)
    assert run.code == 0, run.err
    assert run.out.startswith("Built 1 article, 0 pages, 3 listings and ")
    page = (root / "site/2024/05/first-story/index.html").read_text()
    assert "<strong>readers</strong>" in page
    assert (root / "site/index.html").is_file() and (root / "site/404.html").is_file()
    assert (root / "site" / MARKER).is_file()
    assert (root / "site/static/css/site.css").is_file()


def test_bare_command_means_build_and_flags_override(cli, make_site, tmp_path):
    root = make_site(GOOD)
    out = tmp_path / "elsewhere"
    run = cli("--config", root / "pyproject.toml", "--out", out, "--base-url", "https://news.example/sub/", "-q")
    assert (run.code, run.out) == (0, "")
    assert 'href="/sub/static/css/site.css"' in (out / "index.html").read_text()


def test_errors_are_one_line_each_and_the_old_site_stays(cli, make_site):
    root = make_site(GOOD)
    assert build(cli, root).code == 0
    before = snapshot(root / "site")
    write_files(root, {"content/articles/news/bad.md": "---\ntitle: \"open\ndate: 2024-01-01\n---\n",
                       "content/articles/news/worse.md": "---\ntitle: x\ndate: 2024-02-30\n---\n"})
    run = build(cli, root)
    assert run.code == 1
    assert run.lines == [
        "content/articles/news/bad.md:4:1: error: front matter: found unexpected end of stream "
        "(while scanning a quoted scalar at 2:8)",
        "content/articles/news/worse.md:3:7: error: invalid date '2024-02-30': day is out of range for month",
        "Build failed: 2 errors; the output folder was not changed.",
    ]
    assert "Traceback" not in run.err
    assert snapshot(root / "site") == before
    assert not list(root.glob(".site.*-*"))


def test_sources_are_never_changed(cli, make_site):
    crlf = b"\xef\xbb\xbf---\r\ntitle: B\r\ndate: 2024-01-01\r\n---\r\n"
    root = make_site({**GOOD, "content/articles/news/crlf.md": crlf})
    before = snapshot(root / "content")
    assert build(cli, root).code == 0
    assert snapshot(root / "content") == before


def test_template_syntax_error_fails_before_rendering(cli, make_site):
    root = make_site(GOOD)
    write_files(root, {"layouts/article.html": "{% extends 'base.html' %}\n{% block content %}\n{{ article.title }\n"
                                               "{% endblock %}\n"})
    run = build(cli, root)
    assert run.code == 1
    assert run.lines[0].startswith("layouts/article.html:3: error: unexpected '}'")
    assert not (root / "site").exists()


def test_undefined_variable_names_template_line_and_page(cli, make_site):
    root = make_site(GOOD)
    template = (root / "layouts/article.html").read_text().replace("{{ article.title }}</h1>",
                                                                   "{{ article.subtitle }}</h1>")
    write_files(root, {"layouts/article.html": template})
    run = build(cli, root)
    line = template.splitlines().index(next(t for t in template.splitlines() if "article.subtitle" in t)) + 1
    assert run.code == 1
    assert run.lines[0] == (f"layouts/article.html:{line}: error: 'broadsheet.records.Article object' has no "
                            "attribute 'subtitle' (while rendering content/articles/news/a.md)")


def test_missing_layout_and_missing_include_are_named(cli, make_site):
    root = make_site(GOOD)
    (root / "layouts/404.html").rename(root / "404.html.away")
    run = build(cli, root)
    assert run.code == 1
    assert run.lines[0].startswith("layouts/404.html: error: layout is missing")
    (root / "404.html.away").rename(root / "layouts/404.html")
    write_files(root, {"layouts/page.html": "{% include 'partials/nope.html' %}"})
    write_files(root, {"content/pages/about.md": "---\ntitle: About\n---\n"})
    run = build(cli, root)
    assert run.code == 1
    # named before any page is rendered, by the layout that asks for it
    assert run.lines[0] == "layouts/page.html:1: error: template 'partials/nope.html' not found"


def test_dangerous_or_foreign_output_folders_are_refused(cli, make_site, tmp_path):
    root = make_site(GOOD)
    foreign = tmp_path / "documents"
    write_files(foreign, {"thesis.txt": "years of work"})
    for out in (root, root / "content", root / "layouts", Path("/"), Path.home(), foreign, root.parent):
        run = build(cli, root, "--out", out)
        assert run.code == 2, out
        assert run.err.startswith("broadsheet: error: ")
    assert (foreign / "thesis.txt").read_text() == "years of work"


def test_a_dry_run_says_what_would_change_and_writes_no_site(cli, make_site):
    root = make_site(GOOD)
    run = build(cli, root, "--dry-run")
    assert run.code == 0, run.err
    assert run.out.startswith("Dry run: built 1 article, 0 pages, 3 listings and ")
    assert run.out.rstrip().endswith(f" files would change in {display_path(root / 'site')}/ (nothing was written)")
    assert not (root / "site").exists() and not list(root.glob(".site.tmp-*"))


def test_leftover_staging_folders_are_cleaned(cli, make_site):
    root = make_site(GOOD)
    (root / ".site.tmp-crashed").mkdir()
    (root / ".site.tmp-crashed/half.html").write_text("<p>half")
    assert build(cli, root).code == 0
    for _ in range(100):  # deleted in the background, so the build need not wait for it
        if not (root / ".site.tmp-crashed").exists():
            break
        time.sleep(0.05)
    assert not (root / ".site.tmp-crashed").exists()


def test_rebuild_is_byte_identical(cli, make_site, tmp_path):
    root = make_site(GOOD)
    assert build(cli, root, "--out", tmp_path / "one").code == 0
    assert build(cli, root, "--out", tmp_path / "two").code == 0
    assert snapshot(tmp_path / "one") == snapshot(tmp_path / "two")


def test_usage_errors_exit_2():
    proc = subprocess.run([sys.executable, str(PROJECT / "build.py"), "--no-such-flag"], capture_output=True, text=True)
    assert proc.returncode == 2 and "unrecognized arguments" in proc.stderr


def test_missing_content_folder_is_an_error(cli, make_site):
    root = make_site(GOOD)
    run = build(cli, root, "--content", root / "nope")
    assert (run.code, run.lines[0]) == (1, "nope: error: folder not found (create it or pass --content DIR)")


def test_build_py_and_console_script_are_the_same_command(make_site):
    root = make_site(GOOD)
    via_script = subprocess.run([sys.executable, str(PROJECT / "build.py"), "--config", str(root / "pyproject.toml"),
                                 "--out", str(root / "a")], capture_output=True, text=True)
    via_module = subprocess.run([sys.executable, "-m", "broadsheet", "build", "--config", str(root / "pyproject.toml"),
                                 "--out", str(root / "b")], capture_output=True, text=True)
    assert via_script.returncode == via_module.returncode == 0, via_script.stderr + via_module.stderr
    assert snapshot(root / "a") == snapshot(root / "b")


def test_the_pager_shows_the_ends_and_two_pages_either_side_with_gaps_between(cli, make_site):
    # 30 stories at 3 a page: a section of 10 pages.
    root = make_site({f"content/articles/news/s{n:02}.md": article(f"Story {n}", f"2024-05-{n:02} 09:00")
                      for n in range(1, 31)})
    assert build(cli, root).code == 0

    def pager(path: str) -> list[str]:
        tree = html5lib.parse((root / "site" / path).read_bytes(), namespaceHTMLElements=False)
        items = tree.findall(".//nav[@class='pager']/ol/li")
        return ["".join(li.itertext()) + ("*" if li.find("a[@aria-current='page']") is not None else "")
                for li in items]

    assert pager("news/index.html") == ["1*", "2", "3", "…", "10"]
    assert pager("news/page/5/index.html") == ["1", "…", "3", "4", "5*", "6", "7", "…", "10"]
    assert pager("news/page/4/index.html") == ["1", "2", "3", "4*", "5", "6", "…", "10"]
    assert pager("news/page/10/index.html") == ["1", "…", "8", "9", "10*"]
