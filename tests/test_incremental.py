"""Rebuilds reuse the cache and the previous output, and always equal a cold build of the same input."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadsheet.pipeline import Options, build

from .conftest import article, snapshot, write_files

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=ZoneInfo("Europe/London"))
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

    from broadsheet.config import Folders, load_config
    from broadsheet.content import load, survey
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
        folders = Folders(root / "content", root / "layouts", root / "site")
        content = load(settings, survey(settings, folders, problems), problems)
        return content, problems

    first = records(config)
    assert first[0].articles and not [p for p in first[1] if p.severity == "error"]
    for name, value in OTHER_VALUES.items():
        assert records(replace(config, **{name: value})) == first, name


def test_the_interactives_setting_is_one_that_sources_are_read_with(make_site):
    from broadsheet.errors import BuildError
    from broadsheet.live.site import LiveSite

    from .conftest import CONFIG

    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01"),
                      "content/graphics/chart.html": "<script>draw()</script>"},
                     config=CONFIG + 'interactives = ["graphics/"]\n')
    live = LiveSite(Options(config=root / "pyproject.toml", now=NOW, jobs=1))
    live.rebuild()
    assert (root / "site/graphics/chart.html").is_file()
    config = root / "pyproject.toml"
    config.write_text(config.read_text().replace('interactives = ["graphics/"]', 'interactives = ["maps/"]'))
    with pytest.raises(BuildError, match="content/graphics/chart.html: error: a .html file runs script"):
        live.rebuild([config])  # (a settings save: the site in memory is not made again from its old files)


def test_a_setting_only_pages_show_rebuilds_them_without_reading_any_source_again(make_site):
    root = make_site({f"content/articles/news/s{n}.md": article(f"Story {n}", f"2024-05-0{n + 1}") for n in range(3)})
    assert build(Options(config=root / "pyproject.toml", now=NOW)).read == 3
    config = root / "pyproject.toml"
    config.write_text(config.read_text().replace('title = "The Test Gazette"', 'title = "The New Gazette"'))
    assert build(Options(config=config, now=NOW)).read == 0
    assert "The New Gazette" in (root / "site/2024/05/story-0/index.html").read_text()
    config.write_text(config.read_text().replace("Europe/London", "Asia/Tokyo"))
    assert build(Options(config=config, now=NOW)).read == 3


def test_a_changed_picture_updates_the_size_in_the_page(make_site):
    from .test_images import png

    root = make_site({"content/images/p.png": png(400, 300),
                      "content/articles/news/a.md": article("Alpha", "2024-05-01",
                                                            image="{src: /images/p.png, alt: A pier}")})
    build(Options(config=root / "pyproject.toml", now=NOW))
    (root / "content/images/p.png").write_bytes(png(800, 200))
    build(Options(config=root / "pyproject.toml", now=NOW))
    assert 'width="800" height="200"' in (root / "site/2024/05/alpha/index.html").read_text()


def test_parallel_build_equals_a_single_process_build(tmp_path):
    import importlib.util
    import shutil

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
    one = tmp_path / "one"
    before = {p: p.stat().st_mtime_ns for p in one.rglob("*.html")}
    summary = build(Options(config=config, out=one, jobs=1, now=NOW))
    pages = [p for p in one.rglob("*.html") if p.stat().st_mtime_ns != before.get(p)]
    assert len(pages) == 1 and "One more sentence." in pages[0].read_text()
    assert 1 < summary.rendered <= 8  # the story and the feeds that carry its text, of hundreds of pages


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
    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01"),
                      "content/articles/news/b.md": article("Beta", "2024-05-02")})
    build(Options(config=root / "pyproject.toml", now=NOW))
    (root / "content/articles/news/b.md").unlink()
    unlink = Path.unlink

    def stopped(path: Path, missing_ok: bool = False) -> None:  # killed after the changed files went in
        if (root / "site") in path.parents:
            raise KeyboardInterrupt
        unlink(path, missing_ok)

    monkeypatch.setattr(Path, "unlink", stopped)
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
    from broadsheet import content

    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01", body="Old words.")})
    config = root / "pyproject.toml"
    path = root / "content/articles/news/a.md"
    frozen: dict[str, object] = {}
    real_scan = content.scan

    def same_states(folder, project, problems):  # every file as the first scan saw it (a coarse clock)
        return [(name, frozen.setdefault(name, stat)) for name, stat in real_scan(folder, project, problems)]

    monkeypatch.setattr(content, "scan", same_states)
    build(Options(config=config, now=NOW))
    path.write_text(path.read_text().replace("Old words.", "New words."))
    build(Options(config=config, now=NOW))
    assert "New words." in (root / "site/2024/05/alpha/index.html").read_text()


def test_a_build_for_an_earlier_moment_is_made_again(make_site):
    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01"),
                      "content/articles/news/later.md": article("Later", "2024-07-01")})
    config = root / "pyproject.toml"
    build(Options(config=config, now=NOW.replace(month=8)))  # both published
    summary = build(Options(config=config, now=NOW))  # the clock went back: "Later" is not due yet
    assert summary.articles == 1 and not (root / "site/2024/07/later").exists()


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

