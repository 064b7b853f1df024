"""The layouts' environment: links under the base path, dates, writing direction, feed ids, cached macros,
article bodies read from the build cache, and the layouts checked before any page is rendered."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import jinja2
import pytest

from broadsheet import model
from broadsheet.config import Folders, load_config
from broadsheet.content import load, survey
from broadsheet.errors import Problem
from broadsheet.incremental.cache import Cache
from broadsheet.templating import (
    Layouts,
    cached,
    direction,
    entry_id,
    format_date,
    layout_names,
    make_environment,
    newest,
    news_language,
)

from .conftest import article, write_files

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=ZoneInfo("Europe/London"))
CONFIG = """\
[tool.broadsheet]
title = "The Test Gazette"
base_url = "https://news.example.org:8443/sub/"
timezone = "Europe/London"
language = "en-GB"
"""
STORY = {"content/articles/news/a.md": article("Pier reopens", "2024-05-31 23:30", body="The **pier** is open.",
                                              authors="[Ann Lee]", updated="2024-06-01 08:00")}


@pytest.fixture
def environment(make_site, tmp_path):
    """environment(files, layouts) -> (the layouts' environment, its site, the problems found) over the real
    layouts, changed by `layouts` (a file's new text, or None to remove it), and these files, with the
    bodies in the build cache."""
    with contextlib.ExitStack() as stack:

        def make(files: dict[str, str] | None = None, layouts: dict[str, str | None] | None = None
                 ) -> tuple[Layouts, model.Site, list[Problem]]:
            root = make_site(STORY if files is None else files, CONFIG)
            for name, text in (layouts or {}).items():
                if text is None:
                    (root / "layouts" / name).unlink()
                else:
                    write_files(root / "layouts", {name: text})
            config = load_config(root / "pyproject.toml")
            where = Folders(root / "content", root / "layouts", root / "site")
            cache = stack.enter_context(contextlib.closing(Cache(tmp_path / "templating.cache", config)))
            problems: list[Problem] = []
            content = load(config, survey(config, where, problems), problems, cache)
            site = model.make_site(config, content, model.Selection(NOW), problems)
            return make_environment(site, where.layouts, problems, cache), site, problems

        yield make


def test_links_go_under_the_base_path_and_full_addresses_pass_through(environment):
    env, site, problems = environment()
    assert problems == []
    url, absolute_url = env.globals["url"], env.globals["absolute_url"]
    story = site.articles[0]
    assert url("/about/") == "/sub/about/" and url("images/pier.png") == "/sub/images/pier.png"
    assert url(story) == "/sub/2024/05/pier-reopens/" and url("/") == "/sub/"
    assert absolute_url(story) == "https://news.example.org:8443/sub/2024/05/pier-reopens/"
    for full in ("https://other.example/x/", "mailto:desk@example.org"):
        assert url(full) == absolute_url(full) == full
    assert url("//cdn.example/x.js") == "//cdn.example/x.js"  # (a protocol-relative address: see below)
    shown = env.from_string("{{ '/about/'|url }} {{ article|absolute_url }}").render(article=story)
    assert shown == "/sub/about/ https://news.example.org:8443/sub/2024/05/pier-reopens/"


def test_absolute_url_leaves_a_protocol_relative_address_alone(environment):
    env, _, _ = environment()
    assert env.globals["absolute_url"]("//cdn.example/x.js") == "//cdn.example/x.js"


def test_absolute_links_make_every_site_link_in_html_absolute(environment):
    env, site, _ = environment()
    html = ('<p><a href="/sub/about/">a</a> <img src="/sub/images/p.png" alt=""> <a href="#more">b</a> '
            '<a href="https://other.example/">c</a> <a href="//cdn.example/x">d</a> <a href="notes.html">e</a> '
            '<span data-href="/sub/x/">f</span></p>')
    here = "https://news.example.org:8443/sub/2024/05/pier-reopens/"
    assert env.filters["absolute_links"](html, site.articles[0]) == (
        '<p><a href="https://news.example.org:8443/sub/about/">a</a> '
        '<img src="https://news.example.org:8443/sub/images/p.png" alt=""> '
        f'<a href="{here}#more">b</a> <a href="https://other.example/">c</a> <a href="//cdn.example/x">d</a> '
        '<a href="notes.html">e</a> <span data-href="/sub/x/">f</span></p>')


def test_dates_take_the_portable_no_padding_codes(environment):
    moment = datetime(2024, 3, 5, 7, 9, tzinfo=UTC)
    assert format_date(moment, "%-d/%-m/%Y %-H:%M") == "5/3/2024 7:09"
    assert format_date(moment, "%d/%m %H %I") == "05/03 07 07"
    assert [format_date(moment.replace(hour=hour), "%-I %p") for hour in (0, 9, 12, 13)] == \
        ["12 AM", "9 AM", "12 PM", "1 PM"]
    env, _, _ = environment()
    assert env.from_string("{{ moment|date }}|{{ moment|date('%-d %b') }}").render(moment=moment) == \
        "5 March 2024|5 Mar"  # the site's date_format, unless the layout gives one


def test_direction_is_rtl_for_languages_written_right_to_left():
    assert [direction(code) for code in ("ar", "he-IL", "FA", "ur-PK", "yi")] == ["rtl"] * 5
    assert [direction(code) for code in ("en", "en-GB", "arn", "", "fr-CA")] == ["ltr"] * 5


def test_news_language_and_newest():
    assert [news_language(code) for code in ("en-GB", "fr", "zh-CN", "zh-tw", "zh-HK", "PT-br")] == \
        ["en", "fr", "zh-cn", "zh-tw", "zh", "pt"]
    assert newest([]) == datetime(1970, 1, 1, tzinfo=UTC)  # never "now": two builds give the same bytes


def test_a_feed_entry_id_is_a_tag_uri_that_survives_a_new_slug_or_the_front_matter_id(environment):
    env, site, _ = environment({
        "content/articles/news/a.md": article("Pier reopens", "2024-05-31 23:30"),
        "content/articles/news/b.md": article("Cup final", "2024-05-02", id="cup-2024"),
        "content/articles/news/c.md": article("Old news", "2024-01-10", id="urn:uuid:5ca1ab1e"),
    })
    by_title = {story.title: story for story in site.articles}
    pier = by_title["Pier reopens"]
    assert entry_id(site.config, pier) == "tag:news.example.org,2024-05-31:articles/news/a.md"
    assert entry_id(site.config, replace(pier, slug="renamed", url="/renamed/")) == entry_id(site.config, pier)
    assert entry_id(site.config, by_title["Cup final"]) == "tag:news.example.org,2024-05-02:cup-2024"
    assert entry_id(site.config, by_title["Old news"]) == "urn:uuid:5ca1ab1e"
    assert env.globals["entry_id"](pier) == entry_id(site.config, pier)
    assert newest(site.articles) == datetime(2024, 5, 31, 23, 30, tzinfo=NOW.tzinfo)


def test_news_article_data_says_what_search_engines_read(environment):
    env, site, _ = environment()
    data = env.globals["news_article"](site.articles[0])
    assert data["@type"] == "NewsArticle" and data["headline"] == "Pier reopens"
    assert data["url"] == data["mainEntityOfPage"] == "https://news.example.org:8443/sub/2024/05/pier-reopens/"
    assert data["datePublished"] == "2024-05-31T23:30:00+01:00" and data["dateModified"] == "2024-06-01T08:00:00+01:00"
    assert data["inLanguage"] == "en-GB" and data["articleSection"] == site.section("news").name
    assert data["author"] == [{"@type": "Person", "name": "Ann Lee",
                               "url": "https://news.example.org:8443/sub/authors/ann-lee/"}]
    assert data["publisher"] == {"@type": "Organization", "name": "The Test Gazette",
                                 "url": "https://news.example.org:8443/sub/"}
    assert "image" not in data and "keywords" not in data and "expires" not in data


def test_a_cached_macro_runs_once_per_set_of_arguments():
    calls: list[tuple] = []

    def card(*args, **kwargs):
        calls.append((args, kwargs))
        return f"card {args} {sorted(kwargs.items())}"

    card_once = cached(card)
    assert card_once(1, size="big") == card_once(1, size="big") == card(1, size="big")
    assert len(calls) == 2  # the cached one ran once, the plain one once
    card_once(2, size="big")
    card_once(1, size="small")
    assert len(calls) == 4
    tags = ["pier", "harbour"]  # unhashable: rendered every time, never refused
    assert card_once(tags) == card_once(tags) == card(tags) and len(calls) == 7


def test_an_article_body_is_read_from_the_build_cache_when_a_layout_asks(environment, tmp_path):
    env, site, _ = environment()
    story = site.articles[0]
    assert not hasattr(story, "html")  # the record holds its body by key only
    page = env.from_string("{{ article.html|safe }}|{{ article['html']|safe }}|{{ row.views }}")
    assert page.render(article=story, row={"views": 3}) == \
        "<p>The <strong>pier</strong> is open.</p>|<p>The <strong>pier</strong> is open.</p>|3"
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ article.subtitle }}").render(article=story)
    with contextlib.closing(Cache(tmp_path / "other.cache", site.config)) as other:
        env.use(other)  # another build's cache, without this body
        with pytest.raises(LookupError, match="--fresh"):
            page.render(article=story, row={})


def test_missing_layouts_and_references_to_missing_templates_are_all_problems(environment):
    env, _, problems = environment(layouts={
        "404.html": None, "robots.txt": None,
        "page.html": "{% extends 'base.html' %}\n{% block content %}\n{% include 'partials/nope.html' %}\n"
                     "{% endblock %}\n",
        "list.html": "{% include 'partials/gone.html' ignore missing %}\n",  # may be missing: not a problem
        "tags.html": "{% extends 'base.html' %}\n\n{% block content %}{{ x }\n",
        "partials/extra.xml": "{% from 'partials/absent.html' import card %}\n",
        "static/notes.html": "{{ not a layout }",  # copied as it is
        "notes.md": "{{ not a layout either }",
    })
    names = layout_names(env)
    assert "partials/card.html" in names and "robots.txt" not in names
    assert "static/notes.html" not in names and "notes.md" not in names
    hint = problems[0].hint
    assert sorted((p.path, p.line, p.message) for p in problems) == [
        ("layouts/404.html", 0, "layout is missing"),
        ("layouts/page.html", 3, "template 'partials/nope.html' not found"),
        ("layouts/partials/extra.xml", 1, "template 'partials/absent.html' not found"),
        ("layouts/robots.txt", 0, "layout is missing"),
        ("layouts/tags.html", 3, "unexpected '}'"),
    ]
    assert "404.html" in hint and "robots.txt" in hint
