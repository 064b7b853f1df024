"""Front matter holding markup or script is inert in every place it lands: pages, JSON-LD, feeds, search, sitemap."""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from datetime import datetime
from zoneinfo import ZoneInfo

import feedparser
import html5lib

from broadsheet.pipeline import Options, build

from .conftest import write_files

NOW = datetime(2024, 5, 4, 12, 0, tzinfo=ZoneInfo("Europe/London"))  # all four are news of the last two days
PAYLOADS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "javascript:alert(1)",
            "</script><script>alert(1)</script>"]
OURS = {"application/ld+json"}  # the only inline script with data in it; search.html has its own two
SHIPPED_INLINE = 'if (/[?&]q=[^&]/.test(location.search)) document.documentElement.classList.add("searching");'


def story(n: int, payload: str) -> str:
    quoted = json.dumps(f"{payload} {n}")  # a YAML double-quoted string is a JSON string
    return (f"---\ntitle: {quoted}\ndate: 2024-05-04 0{n + 1}:00\ndescription: {quoted}\nauthors: [{quoted}]\n"
            f"tags: [{quoted}]\nsection: {quoted}\nimage:\n  src: /images/p.svg\n  alt: {quoted}\n"
            f"  caption: {quoted}\n  credit: {quoted}\n---\n\nBody text {n}.\n")


def test_markup_in_front_matter_is_text_in_every_sink(make_site):
    files = {f"content/articles/news/s{n}.md": story(n, payload) for n, payload in enumerate(PAYLOADS)}
    files["content/images/p.svg"] = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="3"></svg>'
    root = make_site(files)
    write_files(root, {})
    build(Options(config=root / "pyproject.toml", now=NOW))
    site = root / "site"
    wanted = [f"{payload} {n}" for n, payload in enumerate(PAYLOADS)]
    shown_as_text = set()
    for page in site.rglob("*.html"):
        tree = html5lib.parse(page.read_bytes(), namespaceHTMLElements=False)
        for element in tree.iter():
            assert not any(name.lower().startswith("on") for name in element.attrib), (page, element.attrib)
            links = [element.attrib.get(name, "") for name in ("href", "src", "action", "formaction")]
            if element.tag == "meta" and (element.attrib.get("property", "").endswith((":url", ":image"))
                                          or element.attrib.get("http-equiv")):
                links.append(element.attrib.get("content", ""))  # addresses; other meta content is text
            assert not any(link.strip().lower().startswith("javascript:") for link in links), (page, element.attrib)
            assert element.tag not in ("img",) or element.attrib.get("src", "").startswith(("/", "http")), page
            if element.tag == "script":
                if element.attrib.get("type") in OURS:
                    data = json.loads(element.text)  # well-formed: the payload did not break out
                    assert "</script" not in element.text.lower()
                    if data.get("@type") == "NewsArticle":
                        assert data["headline"] in wanted and data["author"][0]["name"] in wanted
                else:
                    assert element.attrib.get("src", "").endswith("static/js/search.js") or \
                        element.text == SHIPPED_INLINE, (page, element.text)
            shown_as_text.update(w for w in wanted if w in (element.text or ""))
    assert shown_as_text == set(wanted)  # every payload is shown, as text, somewhere
    for feed_file in [site / "feed.xml", site / "rss.xml", *site.glob("*/feed.xml"), *site.glob("authors/*/feed.xml")]:
        ET.parse(feed_file)  # well-formed XML
        feed = feedparser.parse(feed_file.read_bytes())
        assert not feed.bozo, feed_file
        for entry in feed.entries:
            # read back as the text it was (an RSS description is HTML, so its text comes back escaped)
            assert entry.title in wanted and html.unescape(entry.summary) in wanted, (feed_file, entry.summary)
    for sitemap in (site / "sitemap.xml", site / "news-sitemap.xml"):
        ET.parse(sitemap)
    news = ET.parse(site / "news-sitemap.xml").getroot()
    titles = [e.text for e in news.iter("{http://www.google.com/schemas/sitemap-news/0.9}title")]
    assert sorted(titles) == sorted(wanted)
    manifest = json.loads((site / "search/index.json").read_text())
    rows = [row for name in manifest["docs"] for row in json.loads((site / "search" / name).read_text())]
    assert sorted(row[1] for row in rows) == sorted(wanted) and sorted(row[2] for row in rows) == sorted(wanted)
