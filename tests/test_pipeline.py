"""build() and its stages: what each build parses and renders, what a failed build leaves, the output
folder's lock and the cache kept across failures, and what publishing made."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from broadsheet import pipeline
from broadsheet.content import survey
from broadsheet.errors import BuildError
from broadsheet.pipeline import Options, Summary, build
from broadsheet.write import MARKER

from .conftest import article, snapshot, write_files

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=ZoneInfo("Europe/London"))
ALPHA = "content/articles/news/a.md"
# Standfirsts given: an edit to a body leaves what the cards show as it was.
SITE = {ALPHA: article("Alpha", "2024-05-01", description="The first", body="Old words."),
        "content/articles/sport/b.md": article("Beta", "2024-05-02", description="The second"),
        "content/pages/about.md": "---\ntitle: About us\n---\n\nWho we are.\n"}
PAGES = 20  # 9 fixed pages, 3 Atom feeds and the RSS feed, 2 stories, 1 page, 4 listings (2 sections, 2 archives)


def options(root, **changes) -> Options:
    return Options(**{"config": root / "pyproject.toml", "now": NOW, "jobs": 1, **changes})


def edit(path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))


def test_each_build_counts_the_sources_it_parsed_and_the_pages_it_rendered(make_site):
    root = make_site(SITE)
    cold = build(options(root))
    assert (cold.articles, cold.pages, cold.listings, cold.read, cold.rendered) == (2, 1, 4, 3, PAGES)
    assert list(cold.timings) == ["markdown", "load", "model", "render", "search", "write"]  # the stages in order
    warm = build(options(root))
    assert warm.timings.keys() == {"load"} and warm.files == 0 and warm.articles == 2
    edit(root / ALPHA, "Old words.", "New words.")
    body = build(options(root))
    # Its page and the four feeds that carry its text; and the standing page, as long as the signer reads
    # page.html's `page.html` as a story's text (a layout that may show any story's signs Most Popular's).
    assert body.read == 1 and body.rendered in (5, 6) and "markdown" in body.timings
    list_html = root / "layouts/list.html"
    list_html.write_text(list_html.read_text())  # saved as it was
    saved = build(options(root))
    assert (saved.read, saved.rendered) == (0, 0) and "model" in saved.timings  # a new state, the same bytes
    list_html.write_text(list_html.read_text() + "{# a comment #}\n")
    layout = build(options(root))
    assert (layout.read, layout.rendered) == (0, PAGES)  # every page is signed with every layout
    fresh = build(options(root, fresh=True))
    assert (fresh.read, fresh.rendered) == (3, PAGES)  # the cache forgotten, and the ledger with it


def test_a_build_with_nothing_changed_parses_and_renders_nothing(make_site):
    root = make_site(SITE)
    build(options(root))
    warm = build(options(root))
    assert warm.timings.keys() == {"load"}
    assert (warm.read, warm.rendered) == (0, 0)


def test_the_stages_in_order_make_what_build_makes_and_say_what_it_was_made_from(make_site, tmp_path):
    due = NOW + timedelta(hours=3)
    root = make_site({**SITE, "content/articles/news/due.md": article("Due", due.strftime("%Y-%m-%d %H:%M"))})
    built = build(options(root, out=tmp_path / "one"))
    with pipeline.begin(options(root, out=tmp_path / "two")) as run:
        sources = survey(run.config, run.folders, run.problems)
        inputs = pipeline.read_inputs(run, sources)
        assert pipeline.unchanged(run, inputs) is None  # nothing made yet
        content = pipeline.read(run, sources)
        site = pipeline.model(run, content)
        env = pipeline.layouts(run, site)
        made = pipeline.publish(run, content, site, env, inputs)
    files = snapshot(tmp_path / "two")
    assert files == snapshot(tmp_path / "one")
    same = {"milliseconds": 0, "timings": {}, "out": tmp_path}
    assert replace(made.summary, **same) == replace(built, **same)
    assert made.inputs == inputs and made.site is site and made.content is content
    assert len(made.content.articles) == 3 and len(made.site.articles) == 2  # the due story is not out yet
    assert made.until == due.timestamp()
    assert {path for path in made.signatures if not path.endswith("/")} == set(files) - {MARKER}
    assert all(made.signatures[path] for path in made.plan.paths) and set(made.plan.paths) <= set(files)

    for now, kept in ((NOW, True), (due - timedelta(seconds=1), True), (due, False)):
        with pipeline.begin(options(root, out=tmp_path / "two", now=now)) as run:
            again = pipeline.unchanged(run, pipeline.read_inputs(run, survey(run.config, run.folders, [])))
        assert (again is not None) == kept, now
        if again is not None:
            assert again.timings.keys() == {"load"} and again.files == 0 and again.articles == 2


def test_a_failing_build_reports_every_problem_and_leaves_the_output_folder_as_it_was(make_site):
    root = make_site(SITE)
    build(options(root))
    before = snapshot(root / "site")
    write_files(root, {"content/articles/news/bad.md": article("Bad", "2024-02-30"),  # read
                       "content/articles/news/twin.md": article("Alpha", "2024-05-09"),  # model: Alpha's address
                       "layouts/tags.html": "{% extends 'base.html' %}\n{{ oops }\n"})  # layouts
    with pytest.raises(BuildError) as failed:
        build(options(root))
    assert [(p.path, p.message.split(":")[0]) for p in failed.value.problems] == [
        ("content/articles/news/bad.md", "invalid date '2024-02-30'"),
        ("content/articles/news/twin.md", "writes the same output file 2024/05/alpha/index.html as "
                                          "content/articles/news/a.md"),
        ("layouts/tags.html", "unexpected '}'"),
    ]
    assert snapshot(root / "site") == before
    for name in ("bad.md", "twin.md"):
        (root / "content/articles/news" / name).unlink()
    write_files(root, {"layouts/tags.html": "{% extends 'base.html' %}\n{% block content %}{{ site.nope }}"
                                            "{% endblock %}\n"})
    with pytest.raises(BuildError) as failed:  # a page whose layout fails while it is rendered
        build(options(root))
    assert [str(p) for p in failed.value.problems] == [
        "layouts/tags.html:2: error: 'broadsheet.model.Site object' has no attribute 'nope' "
        "(while rendering the tag index)"]
    assert snapshot(root / "site") == before and not list(root.glob(".site.tmp-*"))


def test_a_dry_run_builds_and_checks_everything_and_writes_no_output(make_site):
    root = make_site(SITE)
    first = build(options(root, dry_run=True))
    assert first.rendered == PAGES and not (root / "site").exists()
    build(options(root))
    before = snapshot(root / "site")
    edit(root / ALPHA, "Old words.", "New words.")
    dry = build(options(root, dry_run=True))
    assert dry.read == 1 and dry.files >= 1 and snapshot(root / "site") == before
    write_files(root, {"layouts/tags.html": "{% extends 'base.html' %}\n{% block content %}{{ site.nope }}"
                                            "{% endblock %}\n"})
    with pytest.raises(BuildError):  # a layout that fails while a page is rendered fails a dry run too
        build(options(root, dry_run=True))
    (root / "layouts/tags.html").write_text("{% extends 'base.html' %}\n")
    build(options(root))  # the real build after dry runs writes all they saw: they noted nothing as written
    assert b"New words." in (root / "site/2024/05/alpha/index.html").read_bytes()
    assert build(options(root, dry_run=True)).timings.keys() == {"load"}  # and the output holds it all now


def test_begin_holds_the_output_folders_lock_until_it_ends(make_site):
    root = make_site(SITE)
    waiting = threading.Event()
    made: list[Summary] = []
    other = threading.Thread(target=lambda: made.append(build(options(root), on_wait=waiting.set)))
    with pipeline.begin(options(root)):
        other.start()
        assert waiting.wait(10)  # the other build of the same folder waits for this one
        assert not made
    other.join(30)
    assert made and made[0].articles == 2


def test_begin_keeps_what_was_read_even_when_the_build_fails(make_site):
    root = make_site(SITE)
    with pytest.raises(RuntimeError), pipeline.begin(options(root)) as run:
        pipeline.read(run, survey(run.config, run.folders, run.problems))
        raise RuntimeError("a bug, after the sources were read")
    assert build(options(root)).read == 0  # every source from the cache
    write_files(root, {"content/articles/news/c.md": article("Gamma", "2024-05-03"),
                       "content/articles/news/bad.md": article("Bad", "2024-02-30")})
    with pytest.raises(BuildError):
        build(options(root))
    (root / "content/articles/news/bad.md").unlink()
    assert build(options(root)).read == 0  # Gamma was parsed by the failed build
