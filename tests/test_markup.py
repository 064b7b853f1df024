"""Markdown bodies: the configured extensions, the base path, and the raw-HTML policy."""

from __future__ import annotations

from dataclasses import replace

from broadsheet.config import Config
from broadsheet.markup import make_markdown, to_html

CONFIG = Config(title="Gazette", base_url="https://example.org/newsroom/")


def render(text: str, **settings) -> str:
    config = replace(CONFIG, **settings)
    return to_html(make_markdown(config), text, config.raw_html)


def test_extensions_tables_footnotes_toc_code_smarty():
    html = render('## Results\n\n| Team | Pts |\n|:--|--:|\n| Eastmere | 3 |\n\nSaid "yes"[^1].\n\n'
                  '[^1]: A note.\n\n```python\nx = 1\n```\n\n*[BBC]: x\n')
    assert '<h2 id="results">Results</h2>' in html
    assert '<th style="text-align:right">Pts</th>' in html
    assert 'class="footnote-ref"' in html and "A note." in html
    assert "“yes”" in html
    assert '<div class="highlight"><pre>' in html and '<span class="n">x</span>' in html


def test_one_instance_is_reused_without_leaking_state():
    md = make_markdown(CONFIG)
    first = to_html(md, "Text[^1]\n\n[^1]: One.\n", "sanitize")
    second = to_html(md, "Plain.\n", "sanitize")
    assert "One." in first and "footnote" not in second


def test_root_relative_links_get_the_base_path():
    html = render("[Trams](/transport/) ![Map](/images/map.svg) [Out](https://example.com/) [Here](#x)")
    assert 'href="/newsroom/transport/"' in html and 'src="/newsroom/images/map.svg"' in html
    assert 'href="https://example.com/"' in html and 'href="#x"' in html
    assert 'href="/transport/"' in render("[Trams](/transport/)", base_url="https://example.org/")


def test_body_h1_is_demoted_so_the_page_keeps_one_h1():
    html = render("# Big\n\n## Smaller\n")
    assert "<h1" not in html and '<h2 id="big">' in html and '<h3 id="smaller">' in html


def test_sanitize_removes_script_handlers_and_bad_urls():
    html = render('<script>alert(1)</script>\n\n<p onclick="x()">Hi</p> [a](javascript:alert(1)) '
                  '<img src="data:image/png;base64,AA" alt="d"> <iframe src="https://evil.example/"></iframe>')
    assert "<script" not in html and "alert(1)" not in html and "onclick" not in html
    assert "javascript:" not in html and "data:" not in html and "<iframe" not in html
    assert "<p>Hi</p>" in html


def test_escape_mode_shows_html_as_text_and_allow_keeps_it():
    assert "&lt;b&gt;bold&lt;/b&gt;" in render("<b>bold</b>", raw_html="escape")
    assert "<marquee>x</marquee>" in render("<marquee>x</marquee>", raw_html="allow")
