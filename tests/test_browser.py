"""The demo in a real browser (Debian's Chromium): every request succeeds, stays local, and fits the screen."""

from __future__ import annotations

from pathlib import Path

import pytest


def visit(browser, url: str, width: int):
    """Open url at a viewport width; returns the page and every request and console error seen."""
    page = browser.new_page(viewport={"width": width, "height": 800})
    requests, failures, errors = [], [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("requestfailed", lambda r: failures.append(r.url))
    page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url, wait_until="load")
    return page, requests, failures, errors


IMAGES_LOAD = """async () => {
  const eager = [...document.images].filter(i => i.loading !== "lazy");
  const lazy = await Promise.all([...document.images].filter(i => i.loading === "lazy")
                                 .map(i => fetch(i.currentSrc || i.src).then(r => r.ok)));
  return eager.every(i => i.complete && i.naturalWidth > 0) && lazy.every(Boolean);
}"""


def paths(out: Path) -> list[str]:
    article = next(out.glob("2026/11/tram-line-extension-opens/index.html")).parent
    arabic = next(p.parent for p in out.glob("20*/*/*/index.html") if 'class="story" lang="ar"' in p.read_text())
    return ["", article.relative_to(out).as_posix() + "/", arabic.relative_to(out).as_posix() + "/",
            "transport/", "about/", "authors/nadia-okafor/"]


@pytest.mark.parametrize("width", [1280, 360])
def test_pages_load_completely_locally_and_fit(browser, served, width):
    origin, out = served
    for path in paths(out):
        page, requests, failures, errors = visit(browser, f"{origin}/newsroom/{path}", width)
        assert failures == [] and errors == [], path
        assert requests and all(url.startswith(origin + "/newsroom/") for url in requests), requests
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{path} scrolls sideways"
        assert page.evaluate(IMAGES_LOAD), path
        assert page.locator("h1").count() == 1 and page.locator("h1").is_visible()
        stylesheet_applied = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert stylesheet_applied != "rgba(0, 0, 0, 0)", "the stylesheet did not load"
        page.close()


def test_right_to_left_article_is_laid_out_right_to_left(browser, served):
    origin, out = served
    page, *_ = visit(browser, f"{origin}/newsroom/{paths(out)[2]}", 1280)
    assert page.evaluate("getComputedStyle(document.querySelector('article.story')).direction") == "rtl"
    title = page.locator("h1").bounding_box()
    body = page.locator(".story-body p").first.bounding_box()
    assert abs((title["x"] + title["width"]) - (body["x"] + body["width"])) < 40  # both hang from the right edge
    page.close()


def test_the_404_page_loads_with_working_styles(browser, served):
    origin, out = served
    page, _, failures, _ = visit(browser, f"{origin}/newsroom/404.html", 1280)
    assert [f for f in failures if "404.html" not in f] == []
    assert "find that page" in page.locator("h1").inner_text()
    page.close()
