"""Which layouts may show an article's text: the scan that lets a text edit skip the home page and listings."""

from __future__ import annotations

import jinja2
import pytest

from broadsheet.incremental.signatures import ANY, NONE, OWN, LayoutFacts, shows_bodies

from .conftest import PROJECT


def shows(templates: dict[str, str], name: str = "page.html") -> int:
    return shows_bodies(jinja2.Environment(loader=jinja2.DictLoader(templates)), name, LayoutFacts())


@pytest.mark.parametrize(("source", "expected"), [
    ("{{ article.title }} {{ article.reading_minutes }} min", NONE),
    ("{{ article.html|safe }}", OWN),  # the page's own story
    ("{{ article.words }} words", OWN),
    ("{{ news_article(article)|tojson }}", OWN),
    ("{{ news_article(other)|tojson }}", ANY),
    ("{{ other.html|safe }}", ANY),
    ("{{ site.popular[0].html|safe }}", ANY),
    ("{{ article['body'] }}", ANY),
    ("{{ article[field] }}", ANY),  # picked by a variable: could be anything
    ("{{ {'a': 1, 'b': 2}[kind] }}", NONE),  # the layout's own table
    ("{{ site.articles|map(attribute='html')|join }}", ANY),
    ("{% include name %}", ANY),  # a layout named by a variable could show anything
    # `article` given another value anywhere in the layout: its text may be another story's
    ("{% for article in site.articles %}{% endfor %}{{ article.html }}", ANY),
    ("{% macro m(article) %}{% endmacro %}{{ article.words }}", ANY),
    ("{% set article = site.articles[0] %}{{ article.html }}", ANY),
    ("{% with article = site.articles[0] %}{{ article.html }}{% endwith %}", ANY),
    ("{% from 'x.html' import article %}{{ article.html }}", ANY),
])
def test_the_scan_errs_towards_rendering_again(source, expected):
    assert shows({"page.html": source, "x.html": ""}) == expected


def test_the_scan_follows_extends_includes_and_imports():
    assert shows({"page.html": "{% extends 'base.html' %}", "base.html": "{% include 'body.html' %}",
                  "body.html": "{{ article.html }}"}) == OWN
    assert shows({"page.html": "{% from 'm.html' import card %}{{ card(a) }}",
                  "m.html": "{% macro card(a) %}{{ a.words }}{% endmacro %}"}) == ANY
    assert shows({"page.html": "{% extends 'base.html' %}{% block x %}{{ self.x }}{% endblock %}",
                  "base.html": "{% include 'page.html' %}{{ article.title }}"}) == NONE  # cycles end


def test_a_layout_rendered_where_article_names_another_story_shows_any():
    body = {"body.html": "{{ article.html }}"}
    assert shows({"page.html": "{% include 'body.html' %}", **body}) == OWN
    assert shows({"page.html": "{% for article in site.articles %}{% include 'body.html' %}{% endfor %}",
                  **body}) == ANY
    assert shows({"page.html": "{% include 'body.html' %}{% for article in xs %}{% include 'body.html' %}"
                               "{% endfor %}", **body}) == ANY  # the same partial twice: the second counts
    assert shows({"page.html": "{% macro m(article) %}{% include 'body.html' %}{% endmacro %}", **body}) == ANY
    assert shows({"page.html": "{% set article = x %}{% include 'body.html' %}", **body}) == ANY
    assert shows({"page.html": "{% extends 'base.html' %}{% block b %}{{ article.html }}{% endblock %}",
                  "base.html": "{% for article in xs %}{% block b scoped %}{% endblock %}{% endfor %}"}) == ANY
    assert shows({"page.html": "{% extends 'base.html' %}{% block b %}{{ article.html }}{% endblock %}",
                  "base.html": "{% set article = other %}{% block b %}{% endblock %}"}) == ANY


def test_the_shipped_layouts_for_listings_and_the_home_page_show_no_story_text():
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(PROJECT / "layouts"))
    verdicts = {name: shows_bodies(env, name, LayoutFacts()) for name in
                ("index.html", "list.html", "sitemap.xml", "tags.html", "article.html", "feed.xml", "rss.xml")}
    assert verdicts == {"index.html": NONE, "list.html": NONE, "sitemap.xml": NONE, "tags.html": NONE,
                        "article.html": OWN, "feed.xml": ANY, "rss.xml": ANY}
