"""Which layouts may show an article's text: the scan that lets a text edit skip the home page and listings."""

from __future__ import annotations

import jinja2
import pytest

from broadsheet.signatures import _shows_bodies

from .conftest import PROJECT


def shows(templates: dict[str, str], name: str = "page.html") -> bool:
    return _shows_bodies(jinja2.Environment(loader=jinja2.DictLoader(templates)), name, set())


@pytest.mark.parametrize(("source", "expected"), [
    ("{{ article.title }} {{ article.reading_minutes }} min", False),
    ("{{ article.html|safe }}", True),
    ("{{ article.words }} words", True),
    ("{{ article['body'] }}", True),
    ("{{ article[field] }}", True),  # picked by a variable: could be anything
    ("{{ {'a': 1, 'b': 2}[kind] }}", False),  # the layout's own table
    ("{{ site.articles|map(attribute='html')|join }}", True),
    ("{{ news_article(article)|tojson }}", True),
    ("{% include name %}", True),  # a layout named by a variable could show anything
])
def test_the_scan_errs_towards_rendering_again(source, expected):
    assert shows({"page.html": source}) is expected


def test_the_scan_follows_extends_includes_and_imports():
    assert shows({"page.html": "{% extends 'base.html' %}", "base.html": "{% include 'body.html' %}",
                  "body.html": "{{ article.html }}"})
    assert shows({"page.html": "{% from 'm.html' import card %}{{ card(a) }}",
                  "m.html": "{% macro card(a) %}{{ a.words }}{% endmacro %}"})
    assert not shows({"page.html": "{% extends 'base.html' %}{% block x %}{{ self.x }}{% endblock %}",
                      "base.html": "{% include 'page.html' %}{{ article.title }}"})  # cycles end


def test_the_shipped_layouts_for_listings_and_the_home_page_show_no_story_text():
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(PROJECT / "layouts"))
    verdicts = {name: _shows_bodies(env, name, set()) for name in
                ("index.html", "list.html", "sitemap.xml", "tags.html", "article.html", "feed.xml", "rss.xml")}
    assert verdicts == {"index.html": False, "list.html": False, "sitemap.xml": False, "tags.html": False,
                        "article.html": True, "feed.xml": True, "rss.xml": True}
