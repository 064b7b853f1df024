"""The demo publication, built end to end and read back with a real HTML parser."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import html5lib
import pytest

from broadsheet.pipeline import Options, build

from .conftest import PROJECT, snapshot

NS = {"h": "http://www.w3.org/1999/xhtml"}
BASE_URLS = ["https://example.github.io/newsroom/", "https://news.example.net/"]


@pytest.fixture(scope="module", params=BASE_URLS)
def built(request, tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("demo") / "site"
    build(Options(config=PROJECT / "pyproject.toml", out=out, base_url=request.param))
    return out, request.param


def pages(out: Path):
    for path in sorted(out.rglob("*.html")):
        yield path, html5lib.parse(path.read_bytes(), namespaceHTMLElements=True)


def test_demo_is_a_full_newsroom(built):
    out, _ = built
    articles = [p for p in out.glob("20*/*/*/index.html")]
    assert len(articles) >= 24
    assert len([p for p in out.iterdir() if (p / "index.html").is_file() and p.name not in
                ("tags", "authors", "about", "contact") and not p.name.isdigit()]) >= 5
    assert len(list((out / "authors").iterdir())) >= 6
    assert (out / "about/index.html").is_file() and (out / "contact/index.html").is_file()
    assert "Northgate swimming pool" not in "".join(p.read_text() for p in articles)  # the draft


def test_every_page_has_one_h1_title_description_and_lang(built):
    out, _ = built
    for path, tree in pages(out):
        where = path.relative_to(out)
        assert len(tree.findall(".//h:h1", NS)) == 1, where
        assert tree.find(".//h:head/h:title", NS).text.strip(), where
        description = tree.find(".//h:head/h:meta[@name='description']", NS)
        assert description is not None and description.get("content").strip(), where
        assert tree.get("lang"), where
        text = path.read_text()
        assert "{{" not in text and "{%" not in text, where


def test_every_internal_link_and_asset_resolves(built):
    out, base_url = built
    base = urlsplit(base_url)
    checked = 0
    for path, tree in pages(out):
        for element in tree.iter():
            for attribute in ("href", "src", "content"):
                url = element.get(attribute) or ""
                parts = urlsplit(url)
                if attribute == "content" and not url.startswith(("/", "http")):
                    continue
                if parts.scheme in ("mailto", "tel") or (parts.netloc and parts.netloc != base.netloc) or not url:
                    continue
                if url.startswith("#"):
                    continue
                assert parts.path.startswith(base.path), f"{path.relative_to(out)}: {url} is outside {base.path}"
                target = out / unquote(parts.path[len(base.path):])
                if parts.path.endswith("/"):
                    target = target / "index.html"
                assert target.is_file(), f"{path.relative_to(out)} links to missing {url}"
                checked += 1
    assert checked > 1000


def test_no_page_requests_a_third_party_host(built):
    out, base_url = built
    for path, tree in pages(out):
        for element in tree.iter():
            for attribute in ("src", "srcset", "data", "poster"):
                value = element.get(attribute)
                if value:
                    assert urlsplit(value).netloc in ("", urlsplit(base_url).netloc), (path, value)
        for link in tree.findall(".//h:link[@rel='stylesheet']", NS) + tree.findall(".//h:script", NS):
            assert not urlsplit(link.get("href") or link.get("src") or "").netloc, path


def test_article_page_shape(built):
    out, _ = built
    path = next(out.glob("2026/11/tram-line-extension-opens/index.html"))
    tree = html5lib.parse(path.read_bytes())
    story = tree.find(".//h:article[@class='story']", NS)
    assert story.find(".//h:p[@class='kicker']/h:a", NS).text == "Transport"
    assert story.find(".//h:p[@class='standfirst']", NS) is not None
    assert story.find(".//h:p[@class='byline']//h:time", NS).get("datetime").startswith("2026-11-20T08:30:00")
    figure = story.find(".//h:figure", NS)
    assert figure.find("h:img", NS).get("alt")
    assert figure.find("h:figcaption/h:span[@class='credit']", NS).text


def test_caption_without_picture_and_right_to_left_article(built):
    out, _ = built
    texts = {p: p.read_text() for p in out.glob("20*/*/*/index.html")}
    caption_only = [p for p, t in texts.items() if "figure-textonly" in t]
    assert len(caption_only) == 1 and "<figcaption>" in texts[caption_only[0]]
    arabic = [p for p, t in texts.items() if 'class="story" lang="ar" dir="rtl"' in t]
    assert arabic and any("\u0600" <= c <= "\u06ff" for c in arabic[0].parent.name)


def test_demo_build_is_deterministic(built, tmp_path):
    out, base_url = built
    again = tmp_path / "again"
    build(Options(config=PROJECT / "pyproject.toml", out=again, base_url=base_url))
    assert snapshot(again) == snapshot(out)


def test_broken_demo_article_fails_and_keeps_the_site(cli, built, tmp_path):
    out, _ = built
    project = tmp_path / "demo"
    for name in ("content", "layouts"):
        shutil.copytree(PROJECT / name, project / name)
    shutil.copy(PROJECT / "pyproject.toml", project)
    shutil.copytree(out, project / "site")
    before = snapshot(project / "site")
    story = next((project / "content/articles/culture").glob("*.md"))
    text = story.read_text().replace("title: ", "title: [unclosed ", 1)
    story.write_text(text)
    run = cli("build", "--config", project / "pyproject.toml")
    assert run.code == 1
    line = text.splitlines().index(next(t for t in text.splitlines() if t.startswith("title: "))) + 1
    assert run.lines[0].startswith(f"content/articles/culture/{story.name}:{line + 1}:")
    assert snapshot(project / "site") == before
