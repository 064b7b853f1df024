"""Rebuilds reuse the cache and the previous output, and always equal a cold build of the same input."""

from __future__ import annotations

import contextlib
import random
import re
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadsheet.errors import BuildError
from broadsheet.pipeline import Options, Summary, Superseded, build

from .conftest import article, snapshot, write_files

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=ZoneInfo("Europe/London"))
TAGS = ["trams", "parks", "budget", "harbour", "schools"]
SECTIONS = ["news", "sport", "culture"]


def story(rng: random.Random, n: int) -> str:
    tags = "[" + ", ".join(rng.sample(TAGS, rng.randint(0, 3))) + "]"
    return article(f"Story {n} {rng.choice(['opens', 'closes', 'grows'])}", f"2024-0{rng.randint(1, 5)}-"
                   f"{rng.randint(10, 28)} {rng.randint(10, 23)}:00", authors=f"[{rng.choice(['Ann Lee', 'Bo Chen'])}]",
                   tags=tags, body=f"Paragraph {rng.random()} for story {n}.")


def both(root: Path, tmp: Path, step: int, keep: bool = False, changed: set[Path] | None = None) -> Summary:
    """Build incrementally into site/ (with `keep`, as the preview does, from the site kept in memory; with
    `changed`, told what changed as the preview's watcher tells it) and cold into a fresh folder; the two
    must be identical."""
    hint = frozenset(changed) if changed is not None else None
    summary = build(Options(config=root / "pyproject.toml", now=NOW, jobs=1, keep=keep, changed=hint))
    cold = tmp / f"cold-{step}"
    made = build(Options(config=root / "pyproject.toml", now=NOW, out=cold, fresh=True, jobs=1))
    assert snapshot(root / "site") == snapshot(cold), f"step {step}"
    assert sorted(map(str, summary.warnings)) == sorted(map(str, made.warnings)), f"step {step}"
    return summary


@pytest.mark.parametrize(("keep", "hinted"), [(False, False), (True, False), (True, True)],
                         ids=["command", "preview", "preview-told-what-changed"])
def test_random_edits_match_a_cold_build(make_site, tmp_path, keep, hinted):
    rng = random.Random(7)
    files = {f"content/articles/{rng.choice(SECTIONS)}/s{n}.md": story(rng, n) for n in range(12)}
    root = make_site(files)
    both(root, tmp_path, 0, keep)
    quick = relaid = 0
    for step in range(1, 22):
        paths = sorted((root / "content/articles").rglob("*.md"))
        edit = step % 7 if step < 15 else 6  # the last steps edit story text only (the preview's quick path)
        target = rng.choice(paths)
        changed = {target, root / "content/articles/news/4913"}  # and an editor's scratch file, come and gone
        if edit == 0:
            new = f"content/articles/{rng.choice(SECTIONS)}/new{step}.md"
            write_files(root, {new: story(rng, 100 + step)})
            changed = {root / new}
        elif edit == 1:
            target.unlink()
        elif edit == 2:
            target.write_text(target.read_text().replace("title: Story", "title: Retitled story", 1))
        elif edit == 3:
            text = target.read_text()
            target.write_text(text.replace("date: 2024-", "date: 2023-", 1))
        elif edit == 4:
            target.write_text(target.read_text().replace("tags: [", "tags: [ferries, ", 1))
        elif edit == 6:
            target.write_text(target.read_text() + "\nA further paragraph of text.\n")
        else:
            card = root / "layouts/partials/card.html"
            card.write_text(re.sub(r'class="card-title"( data-v="\d+")?>', f'class="card-title" data-v="{step}">',
                                   card.read_text()))
            changed = {card}
        summary = both(root, tmp_path, step, keep, changed if hinted else None)
        quick += "model" not in summary.timings  # made from the site in memory (or nothing to do)
        relaid += edit == 5 and "markdown" not in summary.timings  # new layouts over the site in memory
    assert quick >= (6 if keep else 0) and relaid == (2 if keep else 0)


def test_a_broken_layout_keeps_the_site_in_memory_for_the_fix(make_site, tmp_path):
    root = make_site({f"content/articles/news/s{n}.md": article(f"Story {n}", f"2024-05-0{n + 1}") for n in range(3)})
    both(root, tmp_path, 0, keep=True)
    base = root / "layouts/base.html"
    good = base.read_text()
    base.write_text(good.replace("<body>", "<body>{% if %}"))
    with pytest.raises(BuildError, match="base.html"):
        build(Options(config=root / "pyproject.toml", now=NOW, jobs=1, keep=True))
    base.write_text(good.replace("<body>", '<body data-fixed="1">'))
    summary = both(root, tmp_path, 1, keep=True)
    assert "markdown" not in summary.timings and 'data-fixed="1"' in (root / "site/index.html").read_text()


def test_the_preview_retitles_in_place_and_falls_back_when_the_order_or_most_popular_changes(make_site, tmp_path):
    files = {f"content/articles/news/s{n}.md": article(f"Story {n}", f"2024-0{1 + n % 5}-1{n} 10:00",
                                                      tags="[trams]", body="Words.\n\nMore words.")
             for n in range(10)}
    files["content/articles/news/tie.md"] = article("Mmm tie", "2024-02-11 10:00", tags="[trams]")
    root = make_site(files)
    both(root, tmp_path, 0, keep=True)

    def retitle(name: str, old: str, new: str, step: int) -> Summary:
        path = root / f"content/articles/news/{name}.md"
        path.write_text(path.read_text().replace(f"title: {old}", f"title: {new}"))
        return both(root, tmp_path, step, keep=True)

    assert "model" not in retitle("s0", "Story 0", "Story nought", 1).timings  # in place
    assert "model" in retitle("s1", "Story 1", "Aaa story one", 2).timings  # now before its twin by date
    assert "model" not in retitle("s1", "Aaa story one", "Aab story one", 3).timings
    assert "model" in retitle("s4", "Story 4", "Story four", 4).timings  # the newest: Most Popular
    assert "model" not in retitle("s4", "Story four", "Story four", 5).timings  # no change at all
    site = snapshot(root / "site")
    s0 = root / "content/articles/news/s0.md"
    s0.write_text(s0.read_text().replace("title: Story nought", "title: Story 5"))  # s5's address (January too)
    with pytest.raises(BuildError, match="writes the same output file"):
        build(Options(config=root / "pyproject.toml", now=NOW, jobs=1, keep=True))
    assert snapshot(root / "site") == site
    assert "model" in retitle("s0", "Story 5", "Story nought", 6).timings  # after a failed build: all of it
    assert "model" not in retitle("s0", "Story nought", "Story zero", 7).timings


def test_the_preview_copies_a_changed_stylesheet_and_nothing_else(make_site, tmp_path):
    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01")})
    both(root, tmp_path, 0, keep=True)
    css = root / "layouts/static/css/site.css"
    css.write_text(css.read_text() + "\n.kicker { letter-spacing: 0.02em; }\n")
    summary = both(root, tmp_path, 1, keep=True)
    assert "model" not in summary.timings and summary.files == 1
    assert "letter-spacing: 0.02em" in (root / "site/static/css/site.css").read_text()


def test_unchanged_files_keep_their_mtime_and_edits_touch_only_their_pages(make_site):
    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01"),
                      "content/articles/sport/b.md": article("Beta", "2024-05-02")})
    build(Options(config=root / "pyproject.toml", now=NOW))
    site = root / "site"
    before = {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}
    a = root / "content/articles/news/a.md"
    a.write_text(a.read_text().replace("Some words.", "Other words."))
    build(Options(config=root / "pyproject.toml", now=NOW))
    changed = sorted(p.relative_to(site).as_posix() for p in site.rglob("*")
                     if p.is_file() and p.stat().st_mtime_ns != before.get(p))
    assert "2024/05/alpha/index.html" in changed and "2024/05/beta/index.html" not in changed
    assert "static/css/site.css" not in changed and "sport/index.html" not in changed


@pytest.mark.parametrize("keep", [False, True], ids=["command", "preview"])
def test_an_edit_to_a_story_text_rerenders_only_pages_that_show_it(make_site, tmp_path, keep):
    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01", body="First words here."),
                      "content/articles/sport/b.md": article("Beta", "2024-05-02")})
    both(root, tmp_path, 0, keep)
    site = root / "site"
    before = {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}
    a = root / "content/articles/news/a.md"
    a.write_text(a.read_text() + "\nA second paragraph, with a harbour view.\n")  # the summary stays as it was
    summary = both(root, tmp_path, 1, keep)
    assert ("model" not in summary.timings) == keep  # the preview redid only the pages that show the text
    changed = {p.relative_to(site).as_posix() for p in site.rglob("*")
               if p.is_file() and p.stat().st_mtime_ns != before.get(p)}
    # the story, the feeds that carry its text and the search terms; not the home page, listings or sitemap
    assert changed == {"2024/05/alpha/index.html", "feed.xml", "rss.xml", "news/feed.xml", "search/terms.json"}
    # a home page whose layout does show story text is rendered again when one changes
    index = root / "layouts/index.html"
    shown = "<div hidden>{{ site.articles[-1].html|safe }}</div>"
    index.write_text(index.read_text().replace("{% block content %}", "{% block content %}" + shown))
    both(root, tmp_path, 2, keep)
    a.write_text(a.read_text().replace("a harbour view.", "a river view."))
    both(root, tmp_path, 3, keep)
    assert "a river view." in (site / "index.html").read_text()


def test_config_layout_and_version_changes_never_serve_stale_output(make_site, monkeypatch):
    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01")})
    page = root / "site/2024/05/alpha/index.html"
    build(Options(config=root / "pyproject.toml", now=NOW))
    config = root / "pyproject.toml"
    config.write_text(config.read_text().replace('title = "The Test Gazette"', 'title = "The New Gazette"'))
    build(Options(config=config, now=NOW))
    assert "The New Gazette" in page.read_text()
    base = root / "layouts/base.html"
    base.write_text(base.read_text().replace("<body>", '<body data-layout="2">'))
    build(Options(config=config, now=NOW))
    assert 'data-layout="2"' in page.read_text()
    import broadsheet
    import broadsheet.incremental.cache
    import broadsheet.incremental.signatures
    monkeypatch.setattr(broadsheet.incremental.cache, "__version__", "9.9.9")
    monkeypatch.setattr(broadsheet.incremental.signatures, "__version__", "9.9.9")
    page.write_text("stale")  # a page that a new version would not trust from the old build
    build(Options(config=config, now=NOW))
    assert page.read_text() != "stale" and broadsheet.__version__ != "9.9.9"


def test_a_setting_that_shapes_records_rereads_untouched_sources(make_site):
    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01", body="A <mark>marked</mark> word.")})
    build(Options(config=root / "pyproject.toml", now=NOW))
    assert "<mark>marked</mark>" in (root / "site/2024/05/alpha/index.html").read_text()
    config = root / "pyproject.toml"
    config.write_text(config.read_text() + 'permalink = "/{section}/{slug}/"\nraw_html = "escape"\n')
    build(Options(config=config, now=NOW))
    assert "&lt;mark&gt;marked&lt;/mark&gt;" in (root / "site/news/alpha/index.html").read_text()
    assert not (root / "site/2024/05/alpha/index.html").exists()


OTHER_VALUES = {"title": "Another Gazette", "base_url": "https://news.example.net/", "description": "Other words",
                "language": "fr", "per_page": 7, "sections": {"news": "Latest"}, "date_format": "%Y",
                "home_per_section": 2, "copyright": "Someone", "default_author": "Ann Lee",
                "default_image": "/static/share.png", "logo": "/static/logo.png", "import_day_first": False,
                "import_furniture": ("Advertisement",), "cname": "news.example.net", "file": "other.toml"}


def test_settings_that_sources_are_not_read_with_leave_every_record_as_it_was(make_site):
    from dataclasses import fields, replace

    from broadsheet.config import load_config
    from broadsheet.content import load
    from broadsheet.incremental.cache import READING

    from .test_images import png
    root = make_site({
        "content/articles/news/a.md": article("Alpha", "2024-05-01 10:00", body="A [link](/about/) and <mark>x</mark>.",
                                              image="/images/a.png", caption="A caption", credit="Bo Chen"),
        "content/images/a.png": png(40, 30),
        "content/articles/sport/b.md": article("Beta", "2024-05-02", authors="[Ann Lee]", tags="[parks]",
                                               expires="2030-01-01", updated="2024-05-03 08:00"),
        "content/pages/about.md": "---\ntitle: About us\n---\n\nWho we are.\n",
        "content/authors/ann-lee.md": "---\nname: Ann Lee\n---\n\nShe writes.\n",
    })
    config = load_config(root / "pyproject.toml", {})
    unread = {f.name for f in fields(config)} - set(READING)
    assert unread == set(OTHER_VALUES)  # a new setting: say here, or in READING, whether sources are read with it

    def records(settings):
        problems = []
        content = load(settings, root / "content", root / "layouts/static", problems)
        return content, problems

    first = records(config)
    assert first[0].articles and not [p for p in first[1] if p.severity == "error"]
    for name, value in OTHER_VALUES.items():
        assert records(replace(config, **{name: value})) == first, name


def test_a_setting_only_pages_show_rebuilds_them_without_reading_any_source_again(make_site, monkeypatch):
    import broadsheet.content
    root = make_site({f"content/articles/news/s{n}.md": article(f"Story {n}", f"2024-05-0{n + 1}") for n in range(3)})
    build(Options(config=root / "pyproject.toml", now=NOW))
    made, making = [], broadsheet.content._made
    monkeypatch.setattr(broadsheet.content, "_made", lambda c, d, sources, j: made.extend(sources) or
                        making(c, d, sources, j))
    config = root / "pyproject.toml"
    config.write_text(config.read_text().replace('title = "The Test Gazette"', 'title = "The New Gazette"'))
    build(Options(config=config, now=NOW))
    assert not made and "The New Gazette" in (root / "site/2024/05/story-0/index.html").read_text()
    config.write_text(config.read_text().replace("Europe/London", "Asia/Tokyo"))
    build(Options(config=config, now=NOW))
    assert len(made) == 3


def test_a_changed_picture_updates_the_size_in_the_page(make_site):
    from .test_images import png

    root = make_site({"content/images/p.png": png(400, 300),
                      "content/articles/news/a.md": article("Alpha", "2024-05-01",
                                                            image="{src: /images/p.png, alt: A pier}")})
    build(Options(config=root / "pyproject.toml", now=NOW))
    (root / "content/images/p.png").write_bytes(png(800, 200))
    build(Options(config=root / "pyproject.toml", now=NOW))
    assert 'width="800" height="200"' in (root / "site/2024/05/alpha/index.html").read_text()


def test_parallel_build_equals_a_single_process_build(tmp_path, monkeypatch):
    import importlib.util
    import shutil

    from broadsheet import render

    from .conftest import PROJECT

    spec = importlib.util.spec_from_file_location("corpus", PROJECT / "bench/corpus.py")
    corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(corpus)
    corpus.write(tmp_path / "site-src", 160)  # enough pages and bodies for the worker processes to start
    shutil.copytree(PROJECT / "layouts", tmp_path / "site-src/layouts")
    config = tmp_path / "site-src/pyproject.toml"
    one = build(Options(config=config, out=tmp_path / "one", fresh=True, jobs=1, now=NOW))
    two = build(Options(config=config, out=tmp_path / "two", fresh=True, jobs=2, now=NOW))
    assert one.articles == two.articles > 100
    assert snapshot(tmp_path / "one") == snapshot(tmp_path / "two")
    # The worker processes wrote the pages into the stage themselves; made again, each is linked from the
    # previous build (the same bytes: nothing written), and a page that differs is written.
    assert two.files == one.files == len([p for p in (tmp_path / "two").rglob("*") if p.is_file()]) - 1
    page = next((tmp_path / "two").rglob("*/index.html"))
    page.write_bytes(page.read_bytes() + b"<!-- changed on disk -->")
    again = build(Options(config=config, out=tmp_path / "two", fresh=True, jobs=2, now=NOW))
    assert again.files == 1 and snapshot(tmp_path / "one") == snapshot(tmp_path / "two")
    # A fresh build signs its pages while the workers render them: every page is signed as in one process,
    # and the signatures serve the next build (one edited body: only the pages that show it are rendered).
    signed = [dict(sqlite3.connect(tmp_path / f".{name}.cache").execute("SELECT path, signature FROM outputs"))
              for name in ("one", "two")]
    assert signed[0] == signed[1]
    assert all(signed[1].get(str(page.relative_to(tmp_path / "two"))) for page in (tmp_path / "two").rglob("*.html"))
    edited = sorted((tmp_path / "site-src/content/articles").rglob("*.md"))[7]
    edited.write_text(edited.read_text() + "\nOne more sentence.\n")
    rendered = []
    real = render._render_one
    monkeypatch.setattr(render, "_render_one", lambda *args: rendered.append(args[2][1]) or real(*args))
    build(Options(config=config, out=tmp_path / "one", jobs=1, now=NOW))
    pages = [url for url in rendered if not url.endswith(".xml")]  # (and the feeds, which carry bodies)
    assert len(pages) == 1 and len(rendered) <= 8, rendered
    assert "One more sentence." in (tmp_path / "one" / pages[0].strip("/") / "index.html").read_text()


def test_search_index_is_reused_until_an_article_changes_and_rebuilt_when_a_file_is_missing(make_site):
    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01")})
    build(Options(config=root / "pyproject.toml", now=NOW))
    terms = root / "site/search/terms.json"
    stamp = terms.stat().st_mtime_ns
    build(Options(config=root / "pyproject.toml", now=NOW))
    assert terms.stat().st_mtime_ns == stamp
    terms.unlink()
    build(Options(config=root / "pyproject.toml", now=NOW))
    assert terms.is_file()
    write_files(root, {"content/articles/news/b.md": article("Zeppelin visits", "2024-05-02")})
    build(Options(config=root / "pyproject.toml", now=NOW))
    assert "zeppelin" in terms.read_text()


def test_a_rebuild_stopped_while_applying_is_finished_by_the_next(make_site, monkeypatch):
    from broadsheet import write

    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01"),
                      "content/articles/news/b.md": article("Beta", "2024-05-02")})
    build(Options(config=root / "pyproject.toml", now=NOW))
    (root / "content/articles/news/b.md").unlink()

    def stopped(out, gone):  # as if the build were killed after the changed files went in
        raise KeyboardInterrupt

    monkeypatch.setattr(write, "_remove_gone", stopped)
    try:
        build(Options(config=root / "pyproject.toml", now=NOW))
    except KeyboardInterrupt:
        pass
    monkeypatch.undo()
    assert (root / "site/2024/05/beta/index.html").exists()  # left behind by the stopped build
    build(Options(config=root / "pyproject.toml", now=NOW))
    assert not (root / "site/2024/05/beta").exists()  # the next build knows it has to go


def test_a_build_with_nothing_changed_does_nothing_until_the_clock_or_the_output_says_otherwise(make_site):
    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01 09:00"),
                      "content/articles/news/due.md": article("Due at noon", "2024-06-01 12:30"),
                      "content/articles/news/ends.md": article("Ends soon", "2024-05-30 09:00",
                                                               expires="2024-06-01 13:00")})
    config = root / "pyproject.toml"
    first = build(Options(config=config, now=NOW))
    again = build(Options(config=config, now=NOW))
    assert again.files == 0 and set(again.timings) == {"load"}  # noted as made from these inputs: stopped there
    assert again.warnings == first.warnings and again.articles == first.articles == 2
    home = (root / "site/index.html").read_text()
    assert "Ends soon" in home and "Due at noon" not in home
    later = NOW.replace(hour=12, minute=45)  # the scheduled story is due
    assert "model" in build(Options(config=config, now=later)).timings
    assert "Due at noon" in (root / "site/index.html").read_text()
    assert set(build(Options(config=config, now=later)).timings) == {"load"}
    latest = NOW.replace(hour=13, minute=30)  # the other one has expired
    build(Options(config=config, now=latest))
    assert "Ends soon" not in (root / "site/index.html").read_text()
    news_sitemap = (root / "site/news-sitemap.xml").read_text()
    assert "ends-soon" not in news_sitemap and "due-at-noon" in news_sitemap
    in_three_days = NOW.replace(day=4, hour=13)  # out of the two-day breaking-news window
    build(Options(config=config, now=in_three_days))
    assert "due-at-noon" not in (root / "site/news-sitemap.xml").read_text()
    (root / "site/2024/05/alpha/index.html").unlink()  # a file of the output went missing
    assert "model" in build(Options(config=config, now=in_three_days)).timings
    assert (root / "site/2024/05/alpha/index.html").is_file()


def test_a_second_save_within_the_clock_tick_is_seen(make_site, monkeypatch):
    """A file whose state (size, times, inode) reads as before: a coarse clock can do that to two saves in
    one tick. Its bytes tell, as a file saved in the last seconds is noted by them too."""
    from broadsheet import pipeline

    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01", body="Old words.")})
    config = root / "pyproject.toml"
    path = root / "content/articles/news/a.md"
    frozen: dict[str, object] = {}
    real_scan = pipeline.scan

    def same_states(folder, project, problems):  # every file as the first scan saw it
        return [(name, frozen.setdefault(name, stat)) for name, stat in real_scan(folder, project, problems)]

    monkeypatch.setattr(pipeline, "scan", same_states)
    build(Options(config=config, now=NOW))
    path.write_text(path.read_text().replace("Old words.", "New words."))
    build(Options(config=config, now=NOW))
    assert "New words." in (root / "site/2024/05/alpha/index.html").read_text()


def test_told_what_changed_the_preview_looks_at_no_other_file(make_site, tmp_path, monkeypatch):
    from broadsheet import pipeline

    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01", body="Words.\n\nMore."),
                      "content/articles/news/b.md": article("Beta", "2024-05-02")})
    both(root, tmp_path, 0, keep=True)
    scans: list[str] = []
    real_scan = pipeline.scan
    monkeypatch.setattr(pipeline, "scan", lambda folder, *rest: scans.append(folder) or real_scan(folder, *rest))
    a = root / "content/articles/news/a.md"
    a.write_text(a.read_text() + "\nA new paragraph.\n")
    summary = both(root, tmp_path, 1, keep=True, changed={a})
    assert "model" not in summary.timings
    assert scans == [str(root / "content")]  # only the cold build's scan
    # what the watcher's word cannot cover (a new story, or "the queue overflowed") is looked for
    write_files(root, {"content/articles/news/c.md": article("Gamma", "2024-05-03")})
    both(root, tmp_path, 2, keep=True, changed={root / "content/articles/news/c.md"})
    a.write_text(a.read_text() + "\nAnother paragraph.\n")
    both(root, tmp_path, 3, keep=True, changed={Path("<many changes>")})
    assert len(scans) == 5
    # a layout save, a settings save and both at once: only layouts/ is looked at, and no source read
    base, config = root / "layouts/base.html", root / "pyproject.toml"
    base.write_text(base.read_text().replace("<body>", '<body data-layout="2">'))
    assert "markdown" not in both(root, tmp_path, 4, keep=True, changed={base}).timings
    config.write_text(config.read_text().replace("The Test Gazette", "The Told Gazette"))
    assert "markdown" not in both(root, tmp_path, 5, keep=True, changed={config}).timings
    base.write_text(base.read_text().replace('data-layout="2"', 'data-layout="3"'))
    config.write_text(config.read_text().replace("The Told Gazette", "The Twice Told Gazette"))
    assert "markdown" not in both(root, tmp_path, 6, keep=True, changed={config, base}).timings
    assert len(scans) == 5 + 3  # the cold builds' own
    # a setting that sources are read with: they are read again
    config.write_text(config.read_text().replace("Europe/London", "Asia/Tokyo"))
    assert both(root, tmp_path, 7, keep=True, changed={config}).timings.get("markdown") is not None


def test_what_the_watcher_cannot_vouch_for_is_looked_at(make_site, tmp_path):
    """A folder of stories moved away (one event, for the folder) and the queue overflowing both make the
    build look at every file."""
    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01", body="Words.\n\nMore."),
                      "content/articles/old/b.md": article("Beta", "2024-05-02")})
    both(root, tmp_path, 0, keep=True)
    a = root / "content/articles/news/a.md"
    a.write_text(a.read_text() + "\nA new paragraph.\n")
    (root / "content/articles/old").rename(tmp_path / "moved-away")
    summary = both(root, tmp_path, 1, keep=True, changed={a, root / "content/articles/old"})
    assert summary.articles == 1 and not (root / "site/2024/05/beta").exists()


def test_a_build_for_an_earlier_moment_is_made_again(make_site):
    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01"),
                      "content/articles/news/later.md": article("Later", "2024-07-01")})
    config = root / "pyproject.toml"
    build(Options(config=config, now=NOW.replace(month=8)))  # both published
    summary = build(Options(config=config, now=NOW))  # the clock went back: "Later" is not due yet
    assert summary.articles == 1 and not (root / "site/2024/07/later").exists()


def test_a_command_line_build_redoes_what_a_quick_rebuild_noted(make_site, tmp_path):
    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01", body="Words.\n\nMore.")})
    both(root, tmp_path, 0, keep=True)
    a = root / "content/articles/news/a.md"
    a.write_text(a.read_text() + "\nA new paragraph.\n")
    assert "model" not in both(root, tmp_path, 1, keep=True, changed={a}).timings
    assert "model" in build(Options(config=root / "pyproject.toml", now=NOW)).timings  # not trusted: made again
    assert build(Options(config=root / "pyproject.toml", now=NOW)).timings.keys() == {"load"}


def test_with_page_views_a_new_headline_takes_the_whole_build(make_site, tmp_path):
    """Seven stories with the same views: Most Popular's six are chosen by headline, so a new headline
    moves "Zulu" in (checked against a cold build)."""
    names = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Zulu"]
    files = {f"content/articles/news/{n.lower()}.md": article(n, f"2024-05-0{i + 1}", slug=n.lower())
             for i, n in enumerate(names)}
    files["content/data/pageviews.csv"] = "path,views\n" + "".join(f"/2024/05/{n.lower()}/,5\n" for n in names)
    root = make_site(files)
    both(root, tmp_path, 0, keep=True)
    zulu = root / "content/articles/news/zulu.md"
    zulu.write_text(zulu.read_text().replace("title: Zulu", "title: Aardvark"))
    assert "model" in both(root, tmp_path, 1, keep=True, changed={zulu}).timings


def test_a_story_that_is_a_link_is_never_left_stale_by_the_watchers_word(make_site, tmp_path):
    """The sport desk's copy is a link to the news story (the section is in the address, so both publish):
    the watcher sees the news file change, never the link, so the build looks at every file."""
    import os

    from .conftest import CONFIG

    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01", body="Words.\n\nOld words.")},
                     config=CONFIG + 'permalink = "/{section}/{slug}/"\n')
    (root / "content/articles/sport").mkdir()
    os.symlink(root / "content/articles/news/a.md", root / "content/articles/sport/a.md")
    both(root, tmp_path, 0, keep=True)
    story = root / "content/articles/news/a.md"
    story.write_text(story.read_text().replace("Old words.", "New words."))  # text only: the quick path's kind
    both(root, tmp_path, 1, keep=True, changed={story})  # (against a cold build)
    assert "New words." in (root / "site/sport/alpha/index.html").read_text()


def test_the_open_pages_are_made_first_and_told_before_anything_is_written(make_site, tmp_path):
    root = make_site({f"content/articles/news/s{n}.md": article(f"Story {n}", f"2024-05-0{n + 1}") for n in range(3)})
    both(root, tmp_path, 0, keep=True)
    base = root / "layouts/base.html"
    base.write_text(base.read_text().replace("<body>", '<body data-layout="2">'))
    open_pages = frozenset({"index.html", "2024/05/story-1/index.html", "no/such/page.html"})
    told = []

    def on_first(pages: dict[str, bytes]) -> None:
        told.append({path: (data, (root / "site" / path).read_bytes()) for path, data in pages.items()})

    build(Options(config=root / "pyproject.toml", now=NOW, jobs=1, keep=True, first=open_pages, on_first=on_first))
    assert len(told) == 1 and set(told[0]) == {"index.html", "2024/05/story-1/index.html"}
    for path, (data, on_disk) in told[0].items():
        assert b'data-layout="2"' in data and b'data-layout="2"' not in on_disk  # told before it was written
        assert (root / "site" / path).read_bytes() == data  # and the page written is the page told


def test_a_build_a_newer_save_supersedes_stops_unwritten_and_the_next_takes_over(make_site, tmp_path):
    root = make_site({f"content/articles/news/s{n}.md": article(f"Story {n}", f"2024-05-{n % 28 + 1:02} {n % 24:02}:00")
                      for n in range(60)})
    both(root, tmp_path, 0, keep=True)
    before = snapshot(root / "site")
    base = root / "layouts/base.html"
    base.write_text(base.read_text().replace("<body>", '<body data-layout="2">'))
    asked = []
    with pytest.raises(Superseded):
        build(Options(config=root / "pyproject.toml", now=NOW, jobs=1, keep=True, changed=frozenset([base]),
                      superseded=lambda: asked.append(1) or len(asked) > 1))
    assert snapshot(root / "site") == before and len(asked) == 2  # stopped at the second look, nothing written
    summary = both(root, tmp_path, 1, keep=True)
    assert "markdown" not in summary.timings  # the site in memory was kept for the next build


def test_a_layout_or_settings_save_made_from_memory_gives_the_same_warnings(make_site, tmp_path):
    root = make_site({
        "content/articles/news/a.md": article("Alpha", "2024-05-01", body="Hi <script>alert(1)</script> there."),
        "content/articles/news/b.md": article("Beta", "2024-05-02", authors="[Nobody Known]"),
        "content/data/pageviews.csv": "path,views\n/2024/05/alpha/,10\n/no/such/story/,5\n",
    })
    first = both(root, tmp_path, 0, keep=True)
    assert len(first.warnings) >= 2
    base = root / "layouts/base.html"
    base.write_text(base.read_text().replace("<body>", '<body data-layout="2">'))
    assert "markdown" not in both(root, tmp_path, 1, keep=True).timings
    config = root / "pyproject.toml"
    config.write_text(config.read_text().replace('title = "The Test Gazette"', 'title = "The New Gazette"'))
    assert "markdown" not in both(root, tmp_path, 2, keep=True).timings


def test_a_rebuild_drops_the_cache_entries_it_no_longer_uses(make_site):
    # An edited story's old record goes at once; its old body is read once more (to take its words out of the
    # search index) and goes with the build after. Everything still used stays.
    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01"),
                      "content/articles/sport/b.md": article("Beta", "2024-05-02")})
    build(Options(config=root / "pyproject.toml", now=NOW))

    def entries() -> set[str]:
        with contextlib.closing(sqlite3.connect(root / ".site.cache")) as db:
            return {key for (key,) in db.execute("SELECT key FROM entries")}

    def edit(path: str, old: str, new: str) -> None:
        (root / path).write_text((root / path).read_text().replace(old, new))
        build(Options(config=root / "pyproject.toml", now=NOW))

    first = entries()
    edit("content/articles/news/a.md", "Some words.", "Other words.")
    second = entries()
    assert len(first - second) == 1 and not (first - second).pop().startswith(("html:", "terms:"))  # the record
    other = second - first
    assert sorted(k.split(":")[0] for k in other if ":" in k) == ["html", "terms"] and len(other) == 3
    edit("content/articles/news/a.md", "Other words.", "Some words.")  # back: its first entries serve again
    assert first <= entries() and entries() - first <= other
    edit("content/articles/sport/b.md", "Some words.", "More words.")
    assert not entries() & other

