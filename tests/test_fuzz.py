"""Properties over the front-matter reader, the importer's parser, slugs and output paths, with Hypothesis.

CI runs a fixed-seed profile with bounded examples; `HYPOTHESIS_PROFILE=long pytest tests/test_fuzz.py`
runs many more, with fresh random examples each time.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broadsheet import meta
from broadsheet.errors import BuildError, Problem
from broadsheet.model import output_path
from broadsheet.plaintext import NotAnArticle, parse
from broadsheet.slugs import slug_problem, slugify
from broadsheet.write import _inside

settings.register_profile("ci", max_examples=300, derandomize=True, deadline=None,
                          suppress_health_check=list(HealthCheck))
settings.register_profile("long", max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

YAML_BITS = st.sampled_from(["title", "date", "tags", "image", "content", "handler", ":", ": ", "-", "- ", "&a",
                             "*a", "<<", "!!python/object:os.system", "!x", "'", '"', "[", "]", "{", "}", "#", "|",
                             ">", "\t", "  ", "\n", "2024-02-30", "true", "no", "~", "null", "\ufeff", "\r", "%"])
FRONT = st.lists(st.one_of(YAML_BITS, st.text(max_size=8)), max_size=30).map("".join)
SOURCES = st.one_of(
    st.text(max_size=200),
    st.tuples(FRONT, st.text(max_size=40)).map(lambda parts: f"---\n{parts[0]}\n---\n{parts[1]}"),
    st.tuples(st.sampled_from(["---", "---\n", "\ufeff---\n", "--- \r\n"]), FRONT).map("".join),
)


@given(SOURCES)
def test_the_front_matter_reader_only_ever_reports_problems(text):
    problems: list[Problem] = []
    document = meta.parse("post.md", text, problems)  # nothing may escape: no exception of any kind
    if document is None:  # nothing made means the reader said why
        assert any(p.severity == "error" for p in problems)
    for problem in problems:
        assert "\n" not in str(problem) and str(problem).startswith("post.md")  # one line, located


@given(st.text(max_size=400), st.booleans())
def test_the_importers_parser_reads_or_says_why_not(text, day_first):
    try:
        copy = parse(text, day_first)
    except NotAnArticle as exc:
        assert str(exc)
        return
    assert copy.paragraphs and all(copy.paragraphs)


def portable(name: str) -> bool:
    """A file name Linux, macOS and Windows all accept, alone in its folder."""
    return (bool(name) and name not in (".", "..") and not any(c in name for c in '/\\:*?"<>|\0')
            and all(ord(c) >= 32 for c in name) and name[-1] not in ". "
            and name.split(".")[0].lower() not in {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                                                   *(f"lpt{i}" for i in range(1, 10))}
            and len(name.encode("utf-8")) <= 255 and unicodedata.normalize("NFC", name) == name)


ANY_TEXT = st.text(st.characters(blacklist_categories=()), max_size=300)  # lone surrogates too (YAML's "\ud800")


@given(ANY_TEXT)
def test_a_slug_is_a_portable_file_name_or_is_refused(text):
    slug = slugify(text)
    assert slug == "" or slug == slugify(slug) or slug_problem(slug)  # stable when used again
    if not slug_problem(slug):
        assert portable(slug), slug


@given(ANY_TEXT)
def test_an_explicit_slug_is_portable_or_refused_never_an_exception(slug):
    if not slug_problem(slug):
        assert portable(slug), slug


@given(st.text(max_size=120))
def test_no_output_path_leaves_the_output_folder(url):
    folder = Path("/srv/out")
    try:
        target = _inside(folder, output_path(url))
    except BuildError:
        return
    assert target.is_relative_to(folder) and target != folder
    assert ".." not in target.relative_to(folder).parts


@pytest.mark.parametrize("url", ["../x", "/../../etc/passwd", "a/../../b", "", "/", "\0", "/abs"])
def test_the_known_escapes_are_refused_or_contained(url):
    try:
        target = _inside(Path("/srv/out"), output_path(url))
    except BuildError:
        return
    assert target.is_relative_to("/srv/out")


_MARKDOWN_BITS = st.sampled_from(["[a](", "](", "![p](", ")", "javascript:", "JaVaScRiPt:", "data:", "vbscript:",
                                  "https://x.org/", "mailto:a@b.c", "/x", " ", "\n", "\n\n", "# H ", "{: ",
                                  'onclick="x"', " onmouseover=y", "}", "&#115;", "&amp;", ":", "*", "`", "\"",
                                  "'", "word", "http:", "tel:1", "#", "?q=a:b"])


@given(st.lists(_MARKDOWN_BITS, max_size=30).map("".join))
def test_the_sanitiser_report_skips_its_parser_only_where_it_would_find_nothing(text):
    """Without raw HTML, the report of what the sanitiser removes skips its HTML parser unless a quick look
    finds an event handler or an unlisted scheme: never a case the parser would report."""
    from broadsheet.config import Config
    from broadsheet.markup import _Unsafe, make_markdown, to_html

    md = make_markdown(Config(title="Gazette", base_url="https://example.org/"))
    removed: list[str] = []
    html = md.reset().convert(text)
    to_html(md, text, "sanitize", removed)
    finder = _Unsafe()
    finder.feed(html)
    assert removed == list(dict.fromkeys(finder.found))
