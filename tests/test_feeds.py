"""Feeds, sitemaps and robots.txt, read back the way their consumers read them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from zoneinfo import ZoneInfo

import feedparser

from broadsheet.pipeline import Options, build

from .conftest import article

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=ZoneInfo("Europe/London"))
CONFIG = ('[tool.broadsheet]\ntitle = "The Gazette"\ndescription = "Local news"\nbase_url = "https://example.org/g/"\n'
          'timezone = "Europe/London"\nlanguage = "en-GB"\n')
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


def site(make_site, extra=None):
    files = {
        "content/images/pier.png": b"png",
        "content/articles/news/a.md": article("Pier reopens", "2024-05-31 18:00", authors="[Ann Lee]",
                                              description="The pier is open again",
                                              image="{src: /images/pier.png, alt: The pier}",
                                              body="See [the map](/maps/) and [below](#more).\n\n## More {#more}\n\n"
                                                   "![Pier](/images/pier.png)"),
        "content/articles/sport/b.md": article("Cup final", "2024-05-01 15:00", authors="[Bo Chen]",
                                               updated="2024-05-02 09:00"),
        "content/articles/news/c.md": article("Old news", "2024-01-10 08:00", authors="[Ann Lee]"),
        "content/pages/maps.md": "---\ntitle: Maps\n---\nMaps.\n",
        **(extra or {}),
    }
    root = make_site(files, CONFIG)
    build(Options(config=root / "pyproject.toml", now=NOW))
    return root / "site"


def test_atom_feed_is_valid_with_full_content_and_summary(make_site):
    out = site(make_site)
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title == "The Gazette" and feed.feed.link == "https://example.org/g/"
    assert [e.title for e in feed.entries] == ["Pier reopens", "Cup final", "Old news"]
    pier = feed.entries[0]
    assert pier.id == "tag:example.org,2024-05-31:articles/news/a.md"
    assert pier.link == "https://example.org/g/2024/05/pier-reopens/"
    assert pier.summary == "The pier is open again"
    content = pier.content[0].value
    assert 'href="https://example.org/g/maps/"' in content
    assert 'href="https://example.org/g/2024/05/pier-reopens/#more"' in content
    assert 'src="https://example.org/g/images/pier.png"' in content
    assert pier.published == "2024-05-31T18:00:00+01:00" and pier.author == "Ann Lee"
    cup = feed.entries[1]
    assert cup.updated == "2024-05-02T09:00:00+01:00" and cup.published == "2024-05-01T15:00:00+01:00"
    assert feed.feed.updated == "2024-05-31T18:00:00+01:00"


def test_section_and_author_feeds(make_site):
    out = site(make_site)
    news = feedparser.parse((out / "news/feed.xml").read_bytes())
    assert not news.bozo and [e.title for e in news.entries] == ["Pier reopens", "Old news"]
    ann = feedparser.parse((out / "authors/ann-lee/feed.xml").read_bytes())
    assert not ann.bozo and len(ann.entries) == 2
    html = (out / "news/index.html").read_text()
    assert ('<link rel="alternate" type="application/atom+xml" title="News | The Gazette" '
            'href="/g/news/feed.xml">') in html
    assert 'href="/g/feed.xml"' in html


def test_feeds_keep_twenty_entries_and_ids_survive_a_new_slug(make_site):
    many = {f"content/articles/news/n{n}.md": article(f"Story {n}", f"2024-04-{n:02d}") for n in range(1, 26)}
    out = site(make_site, many)
    assert len(feedparser.parse((out / "feed.xml").read_bytes()).entries) == 20
    before = {e.title: e.id for e in feedparser.parse((out / "news/feed.xml").read_bytes()).entries}
    renamed = dict(many, **{"content/articles/news/n25.md": article("Story 25", "2024-04-25", slug="renamed")})
    out = site(make_site, renamed)
    after = {e.title: e.id for e in feedparser.parse((out / "news/feed.xml").read_bytes()).entries}
    assert after["Story 25"] == before["Story 25"]
    custom = dict(many, **{"content/articles/news/n25.md": article("Story 25", "2024-04-25", id="urn:uuid:1234")})
    out = site(make_site, custom)
    assert "urn:uuid:1234" in {e.id for e in feedparser.parse((out / "feed.xml").read_bytes()).entries}


def test_rss_feed_has_summary_and_full_text(make_site):
    out = site(make_site)
    rss = feedparser.parse((out / "rss.xml").read_bytes())
    assert not rss.bozo and rss.version == "rss20"
    pier = rss.entries[0]
    assert pier.summary == "The pier is open again"
    assert 'src="https://example.org/g/images/pier.png"' in pier.content[0].value
    assert pier.published_parsed[:5] == (2024, 5, 31, 17, 0)  # 18:00 BST


def test_sitemap_lists_every_page_with_lastmod(make_site):
    out = site(make_site)
    root = ET.parse(out / "sitemap.xml").getroot()
    entries = {u.find(f"{SITEMAP}loc").text: u.findtext(f"{SITEMAP}lastmod") for u in root}
    assert entries["https://example.org/g/"] == "2024-05-31T18:00:00+01:00"
    assert entries["https://example.org/g/2024/05/cup-final/"] == "2024-05-02T09:00:00+01:00"
    assert entries["https://example.org/g/sport/"] == "2024-05-02T09:00:00+01:00"
    assert "https://example.org/g/maps/" in entries and "https://example.org/g/2024/01/" in entries
    assert all(loc.startswith("https://example.org/g/") for loc in entries)
    for loc in entries:
        path = loc.removeprefix("https://example.org/g/")
        assert (out / path / "index.html").is_file() or (out / path).is_file(), loc


def test_news_sitemap_has_only_the_last_two_days(make_site):
    out = site(make_site)
    root = ET.parse(out / "news-sitemap.xml").getroot()
    urls = root.findall(f"{SITEMAP}url")
    assert [u.findtext(f"{SITEMAP}loc") for u in urls] == ["https://example.org/g/2024/05/pier-reopens/"]
    news = urls[0].find(f"{NEWS}news")
    assert news.findtext(f"{NEWS}publication/{NEWS}name") == "The Gazette"
    assert news.findtext(f"{NEWS}publication/{NEWS}language") == "en"
    assert news.findtext(f"{NEWS}publication_date") == "2024-05-31T18:00:00+01:00"
    assert news.findtext(f"{NEWS}title") == "Pier reopens"


def test_robots_names_the_sitemaps(make_site):
    out = site(make_site)
    lines = (out / "robots.txt").read_text().splitlines()
    assert "Sitemap: https://example.org/g/sitemap.xml" in lines
    assert "Sitemap: https://example.org/g/news-sitemap.xml" in lines
