"""Search: the JSON index the build writes, and the search page driven in Chromium."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from broadsheet import search
from broadsheet.pipeline import Options, build

from .conftest import article

NOW = datetime(2024, 6, 1, tzinfo=ZoneInfo("UTC"))


def undelta(gaps):
    total, out = 0, []
    for gap in gaps:
        total += gap
        out.append(total)
    return out


def test_index_separates_title_and_body_matches(make_site):
    root = make_site({
        "content/articles/news/a.md": article("Tram depot opens", "2024-05-03", body="Families visited the sheds."),
        "content/articles/news/b.md": article("Budget day", "2024-05-02", body="Money for the tram depot roof."),
        "content/articles/news/c.md": article("Library hours", "2024-05-01", description="Later opening"),
    })
    build(Options(config=root / "pyproject.toml", now=NOW))
    folder = root / "site/search"
    manifest = json.loads((folder / "index.json").read_text())
    assert manifest["count"] == 3 and manifest["terms"] == "terms.json" and manifest["letters"] == []
    docs = json.loads((folder / manifest["docs"][0]).read_text())
    assert manifest["order"] == "oldest-first"  # a new article takes the next number; the others keep theirs
    assert docs[2] == ["/2024/05/tram-depot-opens/", "Tram depot opens", "", "News", "2024-05-03", "3 May 2024"]
    terms = json.loads((folder / "terms.json").read_text())
    assert [undelta(lists) for lists in terms["depot"]] == [[2], [1]]
    assert terms["opening"] == [[], [0]] and "the" not in terms


def test_large_indexes_are_split_by_first_letter(make_site, monkeypatch):
    monkeypatch.setattr(search, "SINGLE_FILE_LIMIT", 10)
    root = make_site({"content/articles/news/a.md": article("Tram works", body="Zebra crossing moved.")})
    build(Options(config=root / "pyproject.toml", now=NOW))
    manifest = json.loads((root / "site/search/index.json").read_text())
    assert manifest["terms"] == "terms-{letter}.json" and "74" in manifest["letters"]
    assert "tram" in json.loads((root / "site/search/terms-74.json").read_text())
    assert not (root / "site/search/terms.json").exists()


def test_an_updated_index_is_byte_identical_to_a_fresh_one_and_rewrites_only_what_changed(make_site, monkeypatch,
                                                                                          tmp_path):
    monkeypatch.setattr(search, "DOCS_PER_SHARD", 2)  # small parts, so every kind of file is exercised
    monkeypatch.setattr(search, "SINGLE_FILE_LIMIT", 50)
    root = make_site({f"content/articles/news/s{n}.md": article(f"Story {n} {word}", f"2024-05-{10 + n:02d}",
                                                                body=f"The {word} quay and {n} boats.")
                      for n, word in enumerate(["harbour", "zebra", "quay", "tram", "market"])})
    config = root / "pyproject.toml"

    def check(step: str) -> dict[str, int]:
        build(Options(config=config, now=NOW, jobs=1))
        fresh = tmp_path / f"fresh-{step}"
        build(Options(config=config, now=NOW, jobs=1, out=fresh, fresh=True))
        ours = {p.name: p.read_bytes() for p in (root / "site/search").iterdir()}
        assert ours == {p.name: p.read_bytes() for p in (fresh / "search").iterdir()}, step
        return {p.name: p.stat().st_mtime_ns for p in (root / "site/search").iterdir()}

    first = check("first")
    assert json.loads((root / "site/search/index.json").read_text())["letters"]  # split by first letter
    story = root / "content/articles/news/s1.md"
    story.write_text(story.read_text() + "\nA quieter quay.\n")
    after_body = check("body")
    rewritten = {name for name in first if first[name] != after_body.get(name)}
    assert rewritten == {"terms-71.json"}  # only the new word's letter ('q'); docs and manifest untouched
    story.write_text(story.read_text().replace("title: Story 1 zebra", "title: Story 1 yacht"))
    check("retitle")
    (root / "content/articles/news/s4.md").unlink()  # the newest goes: the others keep their numbers
    check("delete")
    (root / "content/articles/news/s0.md").write_text(article("Story 0 harbour", "2024-06-01", body="Moved on."))
    check("re-date")  # the oldest becomes the newest: every number after it shifts
    (root / "content/articles/news/s9.md").write_text(article("Story 9 ferry", "2024-05-20", body="Ferry news."))
    check("add")


def search_for(browser, origin: str, query: str):
    page = browser.new_page()
    page.goto(f"{origin}/newsroom/search/")
    page.fill("#search-query", query)
    page.wait_for_function("document.querySelectorAll('#search-results li').length > 0 || "
                           "document.getElementById('search-status').textContent.startsWith('No ')")
    return page


def test_search_page_finds_the_right_article_first(browser, served):
    origin, _ = served
    page = search_for(browser, origin, "tram depot")
    first = page.locator("#search-results li").first
    assert first.locator("h2").inner_text().startswith("Tram depot open day")
    assert first.locator("mark").first.inner_text().lower() in ("tram", "depot")
    href = first.locator("a").get_attribute("href")
    assert href.startswith("/newsroom/20")
    page.close()
    page = search_for(browser, origin, "kittiwakes")
    titles = page.locator("#search-results h2").all_inner_texts()
    assert titles[0].startswith("Offshore wind study finds seabirds")
    page.close()
    page = search_for(browser, origin, "zzqqxx")
    assert page.locator("#search-status").inner_text().startswith("No stories found")
    page.close()


def test_search_from_the_address_and_without_javascript(browser, served):
    origin, _ = served
    page = browser.new_page()
    page.goto(f"{origin}/newsroom/search/?q=marathon")
    page.wait_for_selector("#search-results li")
    assert "marathon" in page.locator("#search-results li").first.inner_text().lower()
    page.close()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{origin}/newsroom/search/")
    links = page.locator(".search-browse a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert "/newsroom/archive/" in links and "/newsroom/tags/" in links
    context.close()


def test_highlighting_marks_words_of_the_text_never_of_its_escaped_html(browser, make_site):
    import functools
    import http.server
    import threading

    title = "Tom's \"quotas\" & amplifiers: 39 steps <b>on</b> the quay"
    root = make_site({"content/articles/news/a.md": article(json.dumps(title), "2024-05-01",
                                                            description=json.dumps("Fish & chips, 39 of them"))})
    build(Options(config=root / "pyproject.toml", now=NOW))

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=root / "site"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for query, marked in (("amp", ["amp"]), ("quot", ["quot"]), ("39", ["39", "39"]), ("quay", ["quay"])):
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/search/?q={query}")
            page.wait_for_selector("#search-results li")
            result = page.locator("#search-results li").first
            assert result.locator("h2").inner_text() == title, query
            assert result.locator(".card-standfirst").inner_text() == "Fish & chips, 39 of them", query
            assert result.locator("mark").all_inner_texts() == marked, query
            assert result.locator("b").count() == 0  # the headline's markup is text
            page.close()
    finally:
        server.shutdown()
