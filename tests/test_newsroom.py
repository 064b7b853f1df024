"""The newsroom parts: listings, archives, exclusion, corrections, related, Most Popular, metadata."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import html5lib
import pytest

from broadsheet.config import Config
from broadsheet.errors import BuildError
from broadsheet.model import Section, paginate
from broadsheet.pipeline import Options, build

from .conftest import article

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=ZoneInfo("Europe/London"))
NS = {"h": "http://www.w3.org/1999/xhtml"}


def built(make_site, files, **options) -> Path:
    root = make_site(files)
    build(Options(config=root / "pyproject.toml", now=NOW, **options))
    return options.get("out", root / "site")


def page(out: Path, path: str):
    return html5lib.parse((out / path).read_bytes())


@pytest.mark.parametrize(("count", "pages", "last"), [(0, 1, 0), (1, 1, 1), (3, 1, 3), (4, 2, 1), (7, 3, 1)])
def test_pagination_edges(count, pages, last):
    config = Config(title="T", base_url="https://e.org/", per_page=3)
    listings = list(paginate(config, "section", Section("news", "News", "/news/", tuple(range(count)))))
    assert len(listings) == pages and len(listings[-1].articles) == last
    assert listings[0].url == "/news/" and "/news/page/1/" not in listings[0].page_urls
    assert [lst.number for lst in listings] == list(range(1, pages + 1))


def test_pagination_pages_link_prev_and_next(make_site):
    out = built(make_site, {f"content/articles/news/{n}.md": article(f"Story {n}", f"2024-05-{n:02d}")
                            for n in range(1, 8)})
    second = (out / "news/page/2/index.html").read_text()
    assert '<link rel="prev" href="/news/">' in second and '<link rel="next" href="/news/page/3/">' in second
    assert 'rel="prev"' not in (out / "news/index.html").read_text().split("<body")[0]
    assert not (out / "news/page/1").exists()


def test_drafts_future_and_expired_are_left_out_of_every_output(make_site):
    files = {
        "content/articles/news/ok.md": article("Visible harbour story", "2024-05-01", tags="[harbour]"),
        "content/articles/news/draft.md": article("Zanzibarian draft", "2024-05-02", draft="true", tags="[harbour]"),
        "content/articles/news/future.md": article("Quixotic tomorrow", "2024-07-01", tags="[harbour]"),
        "content/articles/news/old.md": article("Xylophonic notice", "2024-05-03", expires="2024-05-20",
                                               tags="[harbour]"),
    }
    out = built(make_site, files)
    text = " ".join(p.read_text() for p in out.rglob("*") if p.suffix in (".html", ".xml", ".json", ".txt"))
    assert "Visible harbour story" in text
    for secret in ("Zanzibarian", "zanzibarian", "Quixotic", "quixotic", "Xylophonic", "xylophonic"):
        assert secret not in text, secret
    out = built(make_site, files, drafts=True, future=True, out=out.parent / "preview")
    text = " ".join(p.read_text() for p in out.rglob("*.html"))
    assert "Zanzibarian" in text and "Quixotic" in text and "Xylophonic" not in text


def test_archives_and_indexes(make_site):
    out = built(make_site, {
        "content/articles/news/a.md": article("Spring story", "2024-03-02", authors="[Ann Lee]", tags="[parks]"),
        "content/articles/sport/b.md": article("Summer story", "2024-05-02", authors="[Bo Chen]", tags="[parks]"),
        "content/articles/sport/c.md": article("Winter story", "2023-12-30 23:30"),
    })
    assert page(out, "2024/index.html").find(".//h:h1", NS).text.strip() == "2024"
    titles = [a.text for a in page(out, "2024/03/index.html").findall(".//h:h2[@class='card-title']/h:a", NS)]
    assert titles == ["Spring story"]
    assert (out / "2023/12/index.html").is_file()
    archive = (out / "archive/index.html").read_text()
    assert archive.index("March 2024") > archive.index("May 2024") and "December 2023" in archive
    assert "parks" in (out / "tags/index.html").read_text()
    assert "Ann Lee" in (out / "authors/index.html").read_text()


def test_corrections_reading_time_and_modified_dates(make_site):
    body = " ".join(["word"] * 700)
    text = article("Budget story", "2024-05-01 09:00", updated="2024-05-02 10:00", body=body)
    text = text.replace("---\n\n", "corrections:\n  - date: 2024-05-03 08:00\n    text: An earlier version misspelt "
                                    "the mayor's name.\n---\n\n", 1)
    out = built(make_site, {"content/articles/news/a.md": text})
    html = (out / "2024/05/budget-story/index.html").read_text()
    tree = html5lib.parse(html)
    note = tree.find(".//h:aside[@class='corrections']", NS)
    assert "Correction" in note.find("h:h2", NS).text and "misspelt the mayor's name" in "".join(note.itertext())
    assert "4 min read" in html
    assert '<meta property="article:modified_time" content="2024-05-03T08:00:00+01:00">' in html
    ld = json.loads(tree.find(".//h:script[@type='application/ld+json']", NS).text)
    assert ld["dateModified"] == "2024-05-03T08:00:00+01:00" and ld["datePublished"] == "2024-05-01T09:00:00+01:00"
    sitemap = (out / "sitemap.xml").read_text()
    assert "<lastmod>2024-05-03T08:00:00+01:00</lastmod>" in sitemap


def test_summary_is_the_first_paragraph_cut_at_a_word(make_site):
    long = "The council met " + "and talked at length " * 20 + "until late."
    out = built(make_site, {"content/articles/news/a.md": article("Long story", body=long + "\n\nSecond.")})
    feed = (out / "feed.xml").read_text()
    summary = feed.split("<summary>")[1].split("</summary>")[0]
    assert summary.endswith("…") and len(summary) <= 222 and summary.startswith("The council met and talked")


def test_related_articles_prefer_shared_tags_then_section(make_site):
    out = built(make_site, {
        "content/articles/news/a.md": article("Tram works begin", "2024-05-01", tags="[trams, roads]"),
        "content/articles/news/b.md": article("Tram fares", "2024-05-02", tags="[trams]"),
        "content/articles/news/c.md": article("Road and tram plan", "2024-04-02", tags="[trams, roads]"),
        "content/articles/news/d.md": article("Library hours", "2024-05-05"),
        "content/articles/sport/e.md": article("Cup final", "2024-05-06"),
        "content/articles/sport/f.md": article("Derby day", "2024-05-07"),
    })
    tree = page(out, "2024/05/tram-works-begin/index.html")
    related = [a.text for a in tree.findall(".//h:section[@class='related']//h:h3/h:a", NS)]
    assert related == ["Road and tram plan", "Tram fares", "Library hours", "Derby day"]
    neighbours = tree.find(".//h:nav[@class='neighbours']", NS)
    assert [a.get("rel") for a in neighbours.findall("h:a", NS)] == ["prev", "next"]


def test_most_popular_reads_both_path_forms_and_warns_on_unknown(cli, make_site):
    config = ('[tool.broadsheet]\ntitle = "G"\nbase_url = "https://example.org/news-site/"\n'
              'timezone = "Europe/London"\n')
    root = make_site({
        "content/articles/news/a.md": article("Alpha", "2024-05-01"),
        "content/articles/news/b.md": article("Beta", "2024-05-02"),
        "content/articles/news/c.md": article("Gamma", "2024-05-03"),
        "content/data/pageviews.csv": "Page path,Views\n/news-site/2024/05/alpha,900\n2024/05/beta/,1200\n"
                                      "/news-site/2024/05/beta/index.html,100\n/news-site/,5000\n/gone/,70\n"
                                      "/2024/05/alpha/,200\n",
    }, config)
    run = cli("build", "--config", root / "pyproject.toml")
    assert run.code == 0
    assert run.lines == ["content/data/pageviews.csv:6: warning: no published article at '/gone/'; ignored"]
    tree = html5lib.parse((root / "site/index.html").read_bytes())
    rail = [a.text for a in tree.findall(".//h:aside[@class='rail']//h:a", NS)]
    assert rail == ["Beta", "Alpha", "Gamma"]


def test_most_popular_falls_back_to_newest(make_site):
    out = built(make_site, {f"content/articles/news/{n}.md": article(f"Story {n}", f"2024-05-0{n}")
                            for n in range(1, 8)})
    rail = [a.text for a in page(out, "index.html").findall(".//h:aside[@class='rail']//h:a", NS)]
    assert rail == ["Story 7", "Story 6", "Story 5", "Story 4", "Story 3"]


def test_bad_pageviews_header_is_an_error(make_site):
    root = make_site({"content/articles/news/a.md": article(), "content/data/pageviews.csv": "url;hits\nx;1\n"})
    with pytest.raises(BuildError) as caught:
        build(Options(config=root / "pyproject.toml", now=NOW))
    assert str(caught.value.problems[0]).startswith("content/data/pageviews.csv:1:1: error: needs a header")


def test_share_metadata_and_json_ld(make_site):
    config = ('[tool.broadsheet]\ntitle = "The Gazette"\nbase_url = "https://example.org/g/"\n'
              'timezone = "Europe/London"\ndefault_image = "images/share.png"\nlogo = "images/logo.png"\n')
    root = make_site({
        "content/images/share.png": b"png", "content/images/logo.png": b"png", "content/images/pic.png": b"png",
        "content/articles/news/a.md": article("With picture", "2024-05-01", authors="[Ann Lee, Bo Chen]",
                                              image="{src: /images/pic.png, alt: A pier}", tags="[piers]",
                                              expires="2025-01-01"),
        "content/articles/news/b.md": article("Without picture", "2024-05-02"),
    }, config)
    build(Options(config=root / "pyproject.toml", now=NOW))
    tree = html5lib.parse((root / "site/2024/05/with-picture/index.html").read_bytes())
    meta = {m.get("property") or m.get("name"): m.get("content") for m in tree.findall(".//h:head/h:meta", NS)}
    assert meta["og:type"] == "article" and meta["og:image"] == "https://example.org/g/images/pic.png"
    assert meta["og:url"] == "https://example.org/g/2024/05/with-picture/"
    assert meta["article:expiration_time"] == "2025-01-01T00:00:00+00:00"
    assert meta["article:section"] == "News" and meta["article:tag"] == "piers"
    assert meta["twitter:card"] == "summary_large_image"
    authors = [m.get("content") for m in tree.findall(".//h:head/h:meta[@property='article:author']", NS)]
    assert authors == ["https://example.org/g/authors/ann-lee/", "https://example.org/g/authors/bo-chen/"]
    ld = json.loads(tree.find(".//h:script[@type='application/ld+json']", NS).text)
    assert ld["@type"] == "NewsArticle" and ld["headline"] == "With picture"
    assert ld["image"] == ["https://example.org/g/images/pic.png"]
    assert ld["author"][1] == {"@type": "Person", "name": "Bo Chen", "url": "https://example.org/g/authors/bo-chen/"}
    assert ld["publisher"]["logo"]["url"] == "https://example.org/g/images/logo.png"
    assert {"description", "datePublished", "dateModified"} <= set(ld)
    plain = html5lib.parse((root / "site/2024/05/without-picture/index.html").read_bytes())
    ld = json.loads(plain.find(".//h:script[@type='application/ld+json']", NS).text)
    assert ld["image"] == ["https://example.org/g/images/share.png"]
    og = plain.find(".//h:head/h:meta[@property='og:image']", NS).get("content")
    assert og == "https://example.org/g/images/share.png"


def test_json_ld_escapes_script_breaking_text(make_site):
    out = built(make_site, {"content/articles/news/a.md": article("'</script><script>alert(1)</script>'")})
    html = next(out.glob("2024/03/*/index.html")).read_text()
    script = html.split('<script type="application/ld+json">')[1].split("</script>")[0]
    assert "<" not in script and json.loads(script)["headline"] == "</script><script>alert(1)</script>"


def test_logo_and_share_image_must_exist(make_site):
    config = ('[tool.broadsheet]\ntitle = "G"\nbase_url = "https://e.org/"\nlogo = "images/nope.png"\n'
              'default_image = "static/favicon.svg"\n')
    root = make_site({"content/articles/news/a.md": article()}, config)
    with pytest.raises(BuildError) as caught:
        build(Options(config=root / "pyproject.toml", now=NOW))
    assert [p.message for p in caught.value.problems] == [
        "setting 'logo': no file 'images/nope.png' in content/ or layouts/static/"]
