"""The long-lived site of the preview and `watch` (live/): every rebuild, however it is made (from the
watcher's word, from the site in memory, or the whole pipeline), equals a cold build of the same input."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from broadsheet.errors import BuildError
from broadsheet.live.site import LiveSite, OpenPages, Superseded
from broadsheet.pipeline import Options, Summary, build

from .conftest import article, snapshot, write_files
from .test_incremental import NOW

TAGS = ["trams", "parks", "budget", "harbour", "schools"]
SECTIONS = ["news", "sport", "culture"]


def story(rng: random.Random, n: int) -> str:
    tags = "[" + ", ".join(rng.sample(TAGS, rng.randint(0, 3))) + "]"
    return article(f"Story {n} {rng.choice(['opens', 'closes', 'grows'])}", f"2024-0{rng.randint(1, 5)}-"
                   f"{rng.randint(10, 28)} {rng.randint(10, 23)}:00", authors=f"[{rng.choice(['Ann Lee', 'Bo Chen'])}]",
                   tags=tags, body=f"Paragraph {rng.random()} for story {n}.")


def live_site(root: Path) -> LiveSite:
    """The long-lived site of a project, as the preview and `watch` keep it."""
    return LiveSite(Options(config=root / "pyproject.toml", now=NOW, jobs=1))


def both(root: Path, tmp: Path, step: int, live: LiveSite | None = None, changed: set[Path] | None = None) -> Summary:
    """Build into site/ (with `live`, as the preview does, from the site it keeps in memory, and with
    `changed` told what changed as the preview's watcher tells it; else as the command line does) and cold
    into a fresh folder; the two must be identical."""
    if live is not None:
        summary = live.rebuild(changed)
    else:
        summary = build(Options(config=root / "pyproject.toml", now=NOW, jobs=1))
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
    live = live_site(root) if keep else None
    both(root, tmp_path, 0, live)
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
        summary = both(root, tmp_path, step, live, changed if hinted else None)
        quick += "model" not in summary.timings  # made from the site in memory (or nothing to do)
        relaid += edit == 5 and "markdown" not in summary.timings  # new layouts over the site in memory
    assert quick >= (6 if keep else 0) and relaid == (2 if keep else 0)


def test_a_broken_layout_keeps_the_site_in_memory_for_the_fix(make_site, tmp_path):
    root = make_site({f"content/articles/news/s{n}.md": article(f"Story {n}", f"2024-05-0{n + 1}") for n in range(3)})
    live = live_site(root)
    both(root, tmp_path, 0, live)
    base = root / "layouts/base.html"
    good = base.read_text()
    base.write_text(good.replace("<body>", "<body>{% if %}"))
    with pytest.raises(BuildError, match="base.html"):
        live.rebuild()
    base.write_text(good.replace("<body>", '<body data-fixed="1">'))
    summary = both(root, tmp_path, 1, live)
    assert "markdown" not in summary.timings and 'data-fixed="1"' in (root / "site/index.html").read_text()


def test_the_preview_retitles_in_place_and_falls_back_when_the_order_or_most_popular_changes(make_site, tmp_path):
    files = {f"content/articles/news/s{n}.md": article(f"Story {n}", f"2024-0{1 + n % 5}-1{n} 10:00",
                                                      tags="[trams]", body="Words.\n\nMore words.")
             for n in range(10)}
    files["content/articles/news/tie.md"] = article("Mmm tie", "2024-02-11 10:00", tags="[trams]")
    root = make_site(files)
    live = live_site(root)
    both(root, tmp_path, 0, live)

    def retitle(name: str, old: str, new: str, step: int) -> Summary:
        path = root / f"content/articles/news/{name}.md"
        path.write_text(path.read_text().replace(f"title: {old}", f"title: {new}"))
        return both(root, tmp_path, step, live)

    assert "model" not in retitle("s0", "Story 0", "Story nought", 1).timings  # in place
    assert "model" in retitle("s1", "Story 1", "Aaa story one", 2).timings  # now before its twin by date
    assert "model" not in retitle("s1", "Aaa story one", "Aab story one", 3).timings
    assert "model" in retitle("s4", "Story 4", "Story four", 4).timings  # the newest: Most Popular
    assert "model" not in retitle("s4", "Story four", "Story four", 5).timings  # no change at all
    site = snapshot(root / "site")
    s0 = root / "content/articles/news/s0.md"
    s0.write_text(s0.read_text().replace("title: Story nought", "title: Story 5"))  # s5's address (January too)
    with pytest.raises(BuildError, match="writes the same output file"):
        live.rebuild()
    assert snapshot(root / "site") == site
    assert "model" in retitle("s0", "Story 5", "Story nought", 6).timings  # after a failed build: all of it
    assert "model" not in retitle("s0", "Story nought", "Story zero", 7).timings


def test_the_preview_copies_a_changed_stylesheet_and_nothing_else(make_site, tmp_path):
    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01")})
    live = live_site(root)
    both(root, tmp_path, 0, live)
    css = root / "layouts/static/css/site.css"
    css.write_text(css.read_text() + "\n.kicker { letter-spacing: 0.02em; }\n")
    summary = both(root, tmp_path, 1, live)
    assert "model" not in summary.timings and summary.files == 1
    assert "letter-spacing: 0.02em" in (root / "site/static/css/site.css").read_text()


@pytest.mark.parametrize("keep", [False, True], ids=["command", "preview"])
def test_an_edit_to_a_story_text_rerenders_only_pages_that_show_it(make_site, tmp_path, keep):
    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01", body="First words here."),
                      "content/articles/sport/b.md": article("Beta", "2024-05-02")})
    live = live_site(root) if keep else None
    both(root, tmp_path, 0, live)
    site = root / "site"
    before = {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}
    a = root / "content/articles/news/a.md"
    a.write_text(a.read_text() + "\nA second paragraph, with a harbour view.\n")  # the summary stays as it was
    summary = both(root, tmp_path, 1, live)
    assert ("model" not in summary.timings) == keep  # the preview redid only the pages that show the text
    changed = {p.relative_to(site).as_posix() for p in site.rglob("*")
               if p.is_file() and p.stat().st_mtime_ns != before.get(p)}
    # the story, the feeds that carry its text and the search terms; not the home page, listings or sitemap
    assert changed == {"2024/05/alpha/index.html", "feed.xml", "rss.xml", "news/feed.xml", "search/terms.json"}
    # a home page whose layout does show story text is rendered again when one changes
    index = root / "layouts/index.html"
    shown = "<div hidden>{{ site.articles[-1].html|safe }}</div>"
    index.write_text(index.read_text().replace("{% block content %}", "{% block content %}" + shown))
    both(root, tmp_path, 2, live)
    a.write_text(a.read_text().replace("a harbour view.", "a river view."))
    both(root, tmp_path, 3, live)
    assert "a river view." in (site / "index.html").read_text()


def test_told_what_changed_the_preview_looks_at_no_other_file(make_site, tmp_path, monkeypatch):
    from broadsheet import content

    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01", body="Words.\n\nMore."),
                      "content/articles/news/b.md": article("Beta", "2024-05-02")})
    live = live_site(root)
    both(root, tmp_path, 0, live)
    scans: list[str] = []
    real_scan = content.scan  # (watched, not replaced: each look at the whole of content/ is noted)

    def scan(folder, *rest):
        if folder == str(root / "content"):
            scans.append(folder)
        return real_scan(folder, *rest)

    monkeypatch.setattr(content, "scan", scan)
    a = root / "content/articles/news/a.md"
    a.write_text(a.read_text() + "\nA new paragraph.\n")
    summary = both(root, tmp_path, 1, live, {a})
    assert "model" not in summary.timings
    assert scans == [str(root / "content")]  # only the cold build's scan
    # what the watcher's word cannot cover (a new story, or "the queue overflowed") is looked for
    write_files(root, {"content/articles/news/c.md": article("Gamma", "2024-05-03")})
    both(root, tmp_path, 2, live, {root / "content/articles/news/c.md"})
    a.write_text(a.read_text() + "\nAnother paragraph.\n")
    both(root, tmp_path, 3, live, {Path("<many changes>")})
    assert len(scans) == 5
    # a layout save, a settings save and both at once: only layouts/ is looked at, and no source read
    base, config = root / "layouts/base.html", root / "pyproject.toml"
    base.write_text(base.read_text().replace("<body>", '<body data-layout="2">'))
    assert "markdown" not in both(root, tmp_path, 4, live, {base}).timings
    config.write_text(config.read_text().replace("The Test Gazette", "The Told Gazette"))
    assert "markdown" not in both(root, tmp_path, 5, live, {config}).timings
    base.write_text(base.read_text().replace('data-layout="2"', 'data-layout="3"'))
    config.write_text(config.read_text().replace("The Told Gazette", "The Twice Told Gazette"))
    assert "markdown" not in both(root, tmp_path, 6, live, {config, base}).timings
    assert len(scans) == 5 + 3  # the cold builds' own
    # a setting that sources are read with: they are read again
    config.write_text(config.read_text().replace("Europe/London", "Asia/Tokyo"))
    assert both(root, tmp_path, 7, live, {config}).timings.get("markdown") is not None


def test_what_the_watcher_cannot_vouch_for_is_looked_at(make_site, tmp_path):
    """A folder of stories moved away (one event, for the folder) and the queue overflowing both make the
    build look at every file."""
    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01", body="Words.\n\nMore."),
                      "content/articles/old/b.md": article("Beta", "2024-05-02")})
    live = live_site(root)
    both(root, tmp_path, 0, live)
    a = root / "content/articles/news/a.md"
    a.write_text(a.read_text() + "\nA new paragraph.\n")
    (root / "content/articles/old").rename(tmp_path / "moved-away")
    summary = both(root, tmp_path, 1, live, {a, root / "content/articles/old"})
    assert summary.articles == 1 and not (root / "site/2024/05/beta").exists()


def test_a_command_line_build_redoes_what_a_quick_rebuild_noted(make_site, tmp_path):
    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01", body="Words.\n\nMore.")})
    live = live_site(root)
    both(root, tmp_path, 0, live)
    a = root / "content/articles/news/a.md"
    a.write_text(a.read_text() + "\nA new paragraph.\n")
    assert "model" not in both(root, tmp_path, 1, live, {a}).timings
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
    live = live_site(root)
    both(root, tmp_path, 0, live)
    zulu = root / "content/articles/news/zulu.md"
    zulu.write_text(zulu.read_text().replace("title: Zulu", "title: Aardvark"))
    assert "model" in both(root, tmp_path, 1, live, {zulu}).timings


def test_a_story_that_is_a_link_is_never_left_stale_by_the_watchers_word(make_site, tmp_path):
    """The sport desk's copy is a link to the news story (the section is in the address, so both publish):
    the watcher sees the news file change, never the link, so the build looks at every file."""
    import os

    from .conftest import CONFIG

    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01", body="Words.\n\nOld words.")},
                     config=CONFIG + 'permalink = "/{section}/{slug}/"\n')
    (root / "content/articles/sport").mkdir()
    os.symlink(root / "content/articles/news/a.md", root / "content/articles/sport/a.md")
    live = live_site(root)
    both(root, tmp_path, 0, live)
    story = root / "content/articles/news/a.md"
    story.write_text(story.read_text().replace("Old words.", "New words."))  # text only: the quick path's kind
    both(root, tmp_path, 1, live, {story})  # (against a cold build)
    assert "New words." in (root / "site/sport/alpha/index.html").read_text()


def test_the_open_pages_are_made_first_and_told_before_anything_is_written(make_site, tmp_path):
    root = make_site({f"content/articles/news/s{n}.md": article(f"Story {n}", f"2024-05-0{n + 1}") for n in range(3)})
    live = live_site(root)
    both(root, tmp_path, 0, live)
    base = root / "layouts/base.html"
    base.write_text(base.read_text().replace("<body>", '<body data-layout="2">'))
    open_pages = frozenset({"index.html", "2024/05/story-1/index.html", "no/such/page.html"})
    told = []

    def on_first(pages: dict[str, bytes]) -> None:
        told.append({path: (data, (root / "site" / path).read_bytes()) for path, data in pages.items()})

    live.rebuild(None, OpenPages(open_pages, on_first))
    assert len(told) == 1 and set(told[0]) == {"index.html", "2024/05/story-1/index.html"}
    for path, (data, on_disk) in told[0].items():
        assert b'data-layout="2"' in data and b'data-layout="2"' not in on_disk  # told before it was written
        assert (root / "site" / path).read_bytes() == data  # and the page written is the page told


def test_a_build_a_newer_save_supersedes_stops_unwritten_and_the_next_takes_over(make_site, tmp_path):
    root = make_site({f"content/articles/news/s{n}.md": article(f"Story {n}", f"2024-05-{n % 28 + 1:02} {n % 24:02}:00")
                      for n in range(60)})
    live = live_site(root)
    both(root, tmp_path, 0, live)
    before = snapshot(root / "site")
    base = root / "layouts/base.html"
    base.write_text(base.read_text().replace("<body>", '<body data-layout="2">'))
    asked = []
    with pytest.raises(Superseded):
        live.rebuild({base}, superseded=lambda: asked.append(1) or len(asked) > 1)
    assert snapshot(root / "site") == before and len(asked) == 2  # stopped at the second look, nothing written
    summary = both(root, tmp_path, 1, live)
    assert "markdown" not in summary.timings  # the site in memory was kept for the next build


def test_a_layout_or_settings_save_made_from_memory_gives_the_same_warnings(make_site, tmp_path):
    root = make_site({
        "content/articles/news/a.md": article("Alpha", "2024-05-01", body="Hi <script>alert(1)</script> there."),
        "content/articles/news/b.md": article("Beta", "2024-05-02", authors="[Nobody Known]"),
        "content/data/pageviews.csv": "path,views\n/2024/05/alpha/,10\n/no/such/story/,5\n",
    })
    live = live_site(root)
    first = both(root, tmp_path, 0, live)
    assert len(first.warnings) >= 2
    base = root / "layouts/base.html"
    base.write_text(base.read_text().replace("<body>", '<body data-layout="2">'))
    assert "markdown" not in both(root, tmp_path, 1, live).timings
    config = root / "pyproject.toml"
    config.write_text(config.read_text().replace('title = "The Test Gazette"', 'title = "The New Gazette"'))
    assert "markdown" not in both(root, tmp_path, 2, live).timings
