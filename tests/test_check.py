"""`check`: the offline link checker finds each kind of broken link, and none in the demo."""

from __future__ import annotations

from pathlib import Path

from broadsheet.check import check
from broadsheet.pipeline import Options, build

from .conftest import CONFIG, PROJECT, article, write_files

SUB_PATH_CONFIG = CONFIG.replace('base_url = "https://example.org/"', 'base_url = "https://example.org/newsroom/"')
PLANTED = """\
<!doctype html>
<html lang="en"><head><title>Links</title>
<link rel="stylesheet" href="/newsroom/static/css/missing.css">
<link rel="preconnect" href="https://cdn.example.net">
</head><body>
<h1 id="top-story">Links</h1>
<p><a href="/newsroom/2024/05/alpha/">a page that exists</a>
<a href="../2024/05/alpha/#main">an anchor that exists, relatively</a>
<a href="#top-story">an anchor on this page</a>
<a href="https://example.org/newsroom/feed.xml">the feed, absolutely</a>
<a href="https://elsewhere.example.net/x">another site</a>
<a href="mailto:news@example.org">mail</a>
<a href="/newsroom/2024/05/missing-story/">a missing page</a>
<img src="/newsroom/images/missing.png" alt="">
<a href="/newsroom/2024/05/alpha/#no-such-anchor">a missing anchor</a>
<a href="/2024/05/alpha/">a link without the base path</a>
<a href="#nowhere">a missing anchor on this page</a>
</p></body></html>
"""


def _built(make_site) -> Path:
    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01")}, config=SUB_PATH_CONFIG)
    build(Options(config=root / "pyproject.toml"))
    return root


def test_each_kind_of_broken_link_is_reported_with_page_line_and_target(make_site, cli):
    root = _built(make_site)
    write_files(root, {"site/links/index.html": PLANTED})
    run = cli("check", "--config", root / "pyproject.toml")
    assert run.code == 1
    broken = [line for line in run.lines if "broken link" in line]
    page = "site/links/index.html"
    assert any(line.startswith(f"{page}:3:1: ") and "-> /newsroom/static/css/missing.css" in line for line in broken)
    expected = {"/newsroom/2024/05/missing-story/": "no such file", "/newsroom/images/missing.png": "no such file",
                "/newsroom/2024/05/alpha/#no-such-anchor": "no id 'no-such-anchor'",
                "/2024/05/alpha/": "outside the base path /newsroom/", "#nowhere": "no id 'nowhere'"}
    for target, why in expected.items():
        assert any(f"-> {target} (" in line and why in line and line.startswith(page + ":") for line in broken), target
    assert len(broken) == 6  # the good links, the other site and the mail link are not reported
    assert "Traceback" not in run.err


def test_feeds_and_sitemaps_are_checked_too(make_site):
    root = _built(make_site)
    sitemap = root / "site/sitemap.xml"
    sitemap.write_text(sitemap.read_text().replace("</urlset>", "<url><loc>https://example.org/newsroom/gone/</loc>"
                                                                "</url></urlset>"))
    report = check(root / "site", "https://example.org/newsroom/", root)
    assert [p.message for p in report.problems] == ["broken link -> https://example.org/newsroom/gone/ "
                                                    "(no such file in the site)"]
    assert report.problems[0].path == "site/sitemap.xml"


def test_a_site_checked_at_the_wrong_base_url_is_all_broken(make_site):
    root = _built(make_site)
    report = check(root / "site", "https://example.org/other/", root)
    assert report.problems and all("outside the base path /other/" in p.message for p in report.problems)


def test_the_demo_has_no_broken_link(tmp_path, cli):
    out = tmp_path / "demo"
    build(Options(config=PROJECT / "pyproject.toml", out=out))
    run = cli("check", "--config", PROJECT / "pyproject.toml", "--out", out)
    assert run.code == 0, run.err
    assert ": none broken" in run.out
    report = check(out, "https://example.github.io/newsroom/")
    assert report.pages > 100 and report.links > 3000 and not report.problems
