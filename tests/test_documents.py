"""documents: a parsed file and its rendered body made into an Article, Page or Profile, every problem located."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

import pytest

from broadsheet import bodies, meta
from broadsheet.config import Config
from broadsheet.documents import SUMMARY_CHARACTERS, ContentFolder, Making, Parsed, make_record, permalink, summarise
from broadsheet.errors import Problem
from broadsheet.records import Article, Correction, Image, Page, Profile

from .conftest import article, write_files

LONDON = ZoneInfo("Europe/London")
CONFIG = Config(title="The Test Gazette", base_url="https://example.org/", timezone="Europe/London")
BODY = ("<p>Some words.</p>\n", "", "some words", ())  # what markup.render_safely gives: html, error, terms, removed


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A content folder holding two pictures."""
    write_files(tmp_path / "content", {"images/tram.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="40" '
                                                          'height="30"></svg>',
                                       "images/ann.jpg": b"\xff\xd8\xff"})
    return tmp_path / "content"


def make(rel: str, text: str, content_dir: Path, config: Config = CONFIG, body: tuple = BODY,
         store: bodies.Bodies | None = None):
    """make_record() of the file content/<rel> holding text (its body kept in `store`): the record and each
    problem as printed."""
    problems: list[Problem] = []
    document = meta.parse(f"content/{rel}", text, problems)
    assert document is not None, problems
    making = Making(ContentFolder(content_dir), store or bodies.Bodies())
    record = make_record(rel.split("/")[0], config, Parsed(document, PurePosixPath(rel), body), making, problems)
    return record, [str(p) for p in problems]


def test_an_article_is_made_from_its_front_matter(content):
    text = """\
---
title: Tram line opens
date: 2024-03-14 09:30
updated: 2024-03-15
authors: [Ann Lee, Bo Chen, Ann Lee]
description: The first trams ran at dawn
tags: [trams, city council]
image:
  src: /images/tram.svg
  alt: A tram at a stop
  caption: The first tram leaves the depot.
  credit: Courier Graphics
lang: en-GB
source: https://old.example/tram
expires: 2030-01-01
id: urn:uuid:1234
corrections:
  - date: 2024-03-16 10:00
    text: A later fix.
  - date: 2024-03-15 10:00
    text: An earlier fix.
---
The first tram ran at 05:30, on time.
"""
    store = bodies.Bodies()
    story, problems = make("articles/world/tram.md", text, content, store=store)
    assert problems == []
    assert isinstance(story, Article)
    assert (story.source, story.path) == ("content/articles/world/tram.md", "articles/world/tram.md")
    assert story.title == "Tram line opens"
    assert story.date == datetime(2024, 3, 14, 9, 30, tzinfo=LONDON)
    assert story.updated == datetime(2024, 3, 15, tzinfo=LONDON)
    assert story.authors == ("Ann Lee", "Bo Chen")
    assert story.description == story.summary == "The first trams ran at dawn"
    assert story.section == "world"
    assert story.tags == ("trams", "city council")
    assert story.image == Image("/images/tram.svg", "A tram at a stop", "The first tram leaves the depot.",
                                "Courier Graphics", 40, 30)
    assert (story.slug, story.url) == ("tram-line-opens", "/2024/03/tram-line-opens/")
    assert (story.draft, story.featured, story.lang) == (False, False, "en-GB")
    assert story.expires == datetime(2030, 1, 1, tzinfo=LONDON)
    assert story.corrections == (Correction(datetime(2024, 3, 15, 10, tzinfo=LONDON), "An earlier fix."),
                                 Correction(datetime(2024, 3, 16, 10, tzinfo=LONDON), "A later fix."))
    assert story.id == "urn:uuid:1234"
    assert story.words == 9  # counted in the Markdown: The first tram ran at 05 30 on time
    assert store.html(story.body) == BODY[0]


def test_flags_a_single_author_and_an_explicit_slug(content):
    story, problems = make("articles/news/a.md", article(author="Staff Reporter", draft="true", featured="true",
                                                         slug="tram-opens"), content)
    assert problems == []
    assert story.authors == ("Staff Reporter",) and story.draft and story.featured
    assert (story.slug, story.url) == ("tram-opens", "/2024/03/tram-opens/")


@pytest.mark.parametrize(("rel", "extra", "section"), [
    ("articles/world/a.md", {}, "world"),
    ("articles/culture/2024/deep/a.md", {}, "culture"),
    ("articles/a.md", {}, "home"),
    ("articles/world/a.md", {"section": "Local Sport"}, "local-sport"),
    ("articles/a.md", {"section": "Sport"}, "sport"),
])
def test_the_section_is_the_folder_under_articles_unless_set(content, rel, extra, section):
    config = replace(CONFIG, default_section="home", permalink="/{section}/{slug}/")
    story, problems = make(rel, article("Tram opens", **extra), content, config)
    assert problems == []
    assert story.section == section and story.url == f"/{section}/tram-opens/"


def test_the_permalink_follows_the_setting_in_the_sites_timezone(content):
    config = replace(CONFIG, permalink="/{section}/{year}/{month}/{day}/{slug}/")
    story, _ = make("articles/news/a.md", article("Late night", "2024-03-31T23:30:00+00:00"), content, config)
    assert story.url == "/news/2024/04/01/late-night/"  # half past midnight in London (summer time began)
    assert permalink(config, datetime(2024, 1, 5, 23, 30, tzinfo=ZoneInfo("UTC")), "x", "sport") == \
        "/sport/2024/01/05/x/"
    assert permalink(replace(CONFIG, timezone="Asia/Tokyo"), datetime(2024, 1, 5, 23, 30, tzinfo=ZoneInfo("UTC")),
                     "x", "sport") == "/2024/01/x/"
    assert permalink(replace(CONFIG, timezone="Asia/Tokyo"), datetime(2024, 12, 31, 20, 0, tzinfo=ZoneInfo("UTC")),
                     "x", "sport") == "/2025/01/x/"


def test_without_a_description_the_summary_is_the_first_paragraph(content):
    body = ("<h2>Heading</h2>\n<p>First <em>words</em> &amp;\n more.</p>\n<p>Second.</p>", "", "", ())
    story, _ = make("articles/news/a.md", article(), content, body=body)
    assert story.description == "" and story.summary == "First words & more."


def test_summarise_cuts_a_long_paragraph_at_a_word():
    assert SUMMARY_CHARACTERS == 220  # 31 times "trams, " and the "tra" of the 32nd
    assert summarise("<p>" + " ".join(["trams,"] * 60) + "</p>") == ", ".join(["trams"] * 31) + "…"
    exactly = "<p>" + "x" * SUMMARY_CHARACTERS + "</p>"
    assert summarise(exactly) == "x" * SUMMARY_CHARACTERS
    assert summarise("<p>Short.</p>") == "Short." and summarise("<ul><li>No paragraph</li></ul>") == ""


@pytest.mark.parametrize(("extra", "expected"), [
    ({"author": "Ann Lee", "authors": "[Bo Chen]"},
     ["content/articles/news/a.md:4:9: error: use either 'author' or 'authors', not both"]),
    ({"updated": "2024-03-13"},
     ["content/articles/news/a.md:4:10: warning: 'updated' is earlier than 'date'"]),
    ({"slug": "../etc"},
     ["content/articles/news/a.md:4:7: error: invalid slug '../etc': use letters, digits and hyphens only"]),
    ({"draft": "yes"}, ["content/articles/news/a.md:4:8: error: 'draft' must be true or false, not 'yes'"]),
    ({"tittle": "x"}, ["content/articles/news/a.md:4:1: warning: unknown front matter key 'tittle' "
                       "(did you mean 'title'?)"]),
    ({"corrections": "[{date: 2024-03-15}]"},
     ["content/articles/news/a.md:4:15: error: each correction needs a 'date' and a 'text' (e.g. corrections: "
      "[{date: 2026-03-14 10:00, text: An earlier version misspelt …}])"]),
    ({"corrections": "[{date: 2024-02-30, text: A fix.}]"},
     ["content/articles/news/a.md:4:22: error: invalid date '2024-02-30': day is out of range for month"]),
    ({"expires": "soon"},
     ["content/articles/news/a.md:4:10: error: invalid date 'soon': use YYYY-MM-DD or YYYY-MM-DD HH:MM"]),
], ids=["author-and-authors", "updated-early", "slug", "draft", "unknown-key", "correction", "correction-date",
        "expires"])
def test_a_problem_in_an_articles_front_matter_is_located_at_its_value(content, extra, expected):
    _, problems = make("articles/news/a.md", article(**extra), content)
    assert problems == expected


def test_a_title_that_gives_no_slug_asks_for_one(content):
    _, problems = make("articles/news/a.md", article("'!!!'"), content)
    assert problems == ["content/articles/news/a.md:2:8: error: the slug is empty; set 'slug:' to a few words in "
                        "letters or digits (set 'slug:' explicitly)"]


def test_an_article_without_a_date_is_not_made_and_each_missing_field_is_said(content):
    story, problems = make("articles/news/a.md", "---\nlang: en\n---\nText.\n", content)
    assert story is None
    assert problems == ["content/articles/news/a.md:1:1: error: missing required field 'title'",
                        "content/articles/news/a.md:1:1: error: missing required field 'date' "
                        "(add e.g. 'date: 2026-03-14 09:30')"]


@pytest.mark.parametrize(("image", "expected"), [
    ("\n  src: /images/none.jpg\n  alt: A tram",
     "content/articles/news/a.md:5:3: error: image src '/images/none.jpg' not found in the content folder "
     "(paths are relative to the content folder, e.g. /images/photo.jpg)"),
    ("javascript:alert(1)",
     "content/articles/news/a.md:4:8: error: image src 'javascript:alert(1)' must be a file in content/ or an "
     "http(s) URL"),
    ("//tracker.example/x.png",
     "content/articles/news/a.md:4:8: error: image src '//tracker.example/x.png' must be a file in content/ or "
     "an http(s) URL"),
    ("/../outside.svg",
     "content/articles/news/a.md:4:8: error: image src '/../outside.svg' not found in the content folder "
     "(paths are relative to the content folder, e.g. /images/photo.jpg)"),
    ("\n  src: /images/tram.svg",
     "content/articles/news/a.md:5:3: warning: image has no 'alt' text (describe the picture for readers who "
     "cannot see it)"),
    ("\n  src: /images/tram.svg\n  alt: A tram\n  size: big",
     "content/articles/news/a.md:7:9: warning: unknown image key 'size' (use src, alt, caption and credit)"),
], ids=["missing", "javascript", "another-host", "climbs-out", "no-alt", "unknown-key"])
def test_a_bad_picture_is_one_located_problem(content, image, expected):
    write_files(content.parent, {"outside.svg": "<svg/>"})
    _, problems = make("articles/news/a.md", article(image=image), content)
    assert problems == [expected]


def test_a_picture_may_be_an_address_or_only_a_caption(content):
    story, problems = make("articles/news/a.md", article(image="https://cdn.example/tram.jpg"), content)
    assert problems == ["content/articles/news/a.md:4:8: warning: image has no 'alt' text (describe the picture "
                        "for readers who cannot see it)"]
    assert story.image == Image("https://cdn.example/tram.jpg", "", "", "")
    story, problems = make("articles/news/a.md", article(image="{caption: Crowds at the gate., credit: Ann Lee}"),
                           content)
    assert problems == [] and story.image == Image("", "", "Crowds at the gate.", "Ann Lee")


def test_a_body_that_failed_to_render_is_an_error_at_the_body(content):
    text = "---\ntitle: Deep\ndate: 2024-03-14\n---\n- item\n"
    store = bodies.Bodies()
    story, problems = make("articles/news/a.md", text, content,
                           body=("", "markdown rendering failed: nesting too deep", "", ()), store=store)
    assert problems == ["content/articles/news/a.md:5:1: error: markdown rendering failed: nesting too deep"]
    assert story.words == 0 and store.html(story.body) == ""


NOTE = ('(raw_html = "sanitize" publishes no scripts, event handlers, unsafe links or embeds from hosts not in '
        'embed_hosts)')


def test_what_the_sanitiser_removed_is_a_warning_at_its_first_line():
    text = ("---\ntitle: Story\ndate: 2024-03-14\n---\nA paragraph.\n\n<script>alert(1)</script>\n\n"
            'A [link](javascript:alert(2)) and an <IFRAME src="https://tracker.example/"></IFRAME>.\n')
    body = ("<p>A paragraph.</p>", "", "", ("<script>", "javascript:", "<iframe> from https://tracker.example/",
                                             "onerror="))
    _, problems = make("articles/news/a.md", text, Path("/nonexistent"), body=body)
    assert problems == [f"content/articles/news/a.md:7:1: warning: removed <script> {NOTE}",
                        f"content/articles/news/a.md:9:10: warning: removed javascript: {NOTE}",
                        f"content/articles/news/a.md:9:51: warning: removed <iframe> from https://tracker.example/ "
                        f"{NOTE}",
                        f"content/articles/news/a.md:5:1: warning: removed onerror= {NOTE}"]  # not found: the body


def test_what_the_sanitiser_removed_is_at_its_line_after_a_blank_line():
    text = "---\ntitle: Story\ndate: 2024-03-14\n---\n\nA paragraph.\n\n<script>alert(1)</script>\n"
    body = ("<p>A paragraph.</p>", "", "", ("<script>",))
    _, problems = make("articles/news/a.md", text, Path("/nonexistent"), body=body)
    assert problems == [f"content/articles/news/a.md:8:1: warning: removed <script> {NOTE}"]


def test_a_page_is_made_with_its_slug_from_the_file_name(content):
    text = "---\ntitle: About us\ndescription: Who we are\nlang: cy\ndraft: false\n---\nWe report.\n"
    page, problems = make("pages/about-the-paper.md", text, content, body=("<p>We report.</p>", "", "", ()))
    assert problems == []
    assert page == Page("content/pages/about-the-paper.md", "About us", "Who we are", "about-the-paper", False, "cy",
                        "<p>We report.</p>")


def test_an_index_page_takes_its_slug_from_the_title_or_the_slug_key(content):
    page, _ = make("pages/index.md", "---\ntitle: Contact the newsroom\n---\n", content)
    assert page.slug == "contact-the-newsroom"
    page, _ = make("pages/index.md", "---\ntitle: Contact\nslug: write-to-us\ndraft: true\n---\n", content)
    assert (page.slug, page.draft) == ("write-to-us", True)


def test_a_page_takes_only_page_keys_and_needs_a_title(content):
    page, problems = make("pages/about.md", "---\ndate: 2024-03-14\ntags: [x]\n---\nText.\n", content)
    assert isinstance(page, Page) and page.title == ""
    assert problems == ["content/pages/about.md:2:1: warning: unknown front matter key 'date' (did you mean 'draft'?)",
                        "content/pages/about.md:3:1: warning: unknown front matter key 'tags' (it is ignored)",
                        "content/pages/about.md:1:1: error: missing required field 'title'"]


def test_a_profile_is_made_with_its_slug_from_the_file_name(content):
    text = "---\nname: Ann Lee\nrole: Transport correspondent\nphoto: /images/ann.jpg\n---\nAnn covers trams.\n"
    profile, problems = make("authors/ann-lee.md", text, content, body=("<p>Ann covers trams.</p>", "", "", ()))
    assert problems == []
    assert profile == Profile("content/authors/ann-lee.md", "ann-lee", "Ann Lee", "Transport correspondent",
                              "/images/ann.jpg", "<p>Ann covers trams.</p>")
    assert profile.bio == profile.html


@pytest.mark.parametrize(("photo", "kept", "expected"), [
    ("https://cdn.example/ann.jpg", "https://cdn.example/ann.jpg", []),
    ("/images/nobody.jpg", "", ["content/authors/ann-lee.md:3:8: error: photo '/images/nobody.jpg' not found in "
                                "the content folder (paths are relative to the content folder, e.g. "
                                "/images/photo.jpg)"]),
    ("javascript:alert(1)", "", ["content/authors/ann-lee.md:3:8: error: photo 'javascript:alert(1)' must be a "
                                 "file in content/ or an http(s) URL"]),
], ids=["address", "missing", "javascript"])
def test_a_reporters_photo_must_be_a_file_of_the_site_or_an_http_url(content, photo, kept, expected):
    profile, problems = make("authors/ann-lee.md", f"---\nname: Ann Lee\nphoto: {photo}\n---\n", content)
    assert profile.photo == kept and problems == expected


def test_a_profile_needs_a_name(content):
    profile, problems = make("authors/ann-lee.md", "---\ntitle: Ann Lee\n---\n", content)
    assert profile.name == ""
    assert problems == ["content/authors/ann-lee.md:2:1: warning: unknown front matter key 'title' (it is ignored)",
                        "content/authors/ann-lee.md:1:1: error: missing required field 'name'"]


def test_a_picture_through_a_link_out_of_the_content_folder_is_not_found(content, tmp_path):
    write_files(tmp_path, {"private/secret.svg": "<svg/>"})
    (content / "images/leak.svg").symlink_to(tmp_path / "private/secret.svg")
    _, problems = make("articles/news/a.md", article(image="{src: /images/leak.svg, alt: x}"), content)
    assert problems == ["content/articles/news/a.md:4:8: error: image src '/images/leak.svg' not found in the "
                        "content folder (paths are relative to the content folder, e.g. /images/photo.jpg)"]
