"""Rendering: every page of a site planned once, signed, and rendered only where its signature changed;
which pages take in an article; layout failures reported once per layout line."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from broadsheet import pipeline, render
from broadsheet.bodies import Bodies
from broadsheet.content import survey
from broadsheet.model import Site, output_path, renewed
from broadsheet.pipeline import Made, Options, Run
from broadsheet.templating import Layouts
from broadsheet.write import MARKER

from .conftest import article, write_files

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=ZoneInfo("Europe/London"))
PIER = "content/articles/news/a.md"
# The pier story and six newer matches (the six newest are Most Popular: the pier story is not), a page.
SITE = {PIER: article("Pier reopens", "2024-05-01 09:00", description="The pier is open", tags="[pier]",
                      body="Old words."),
        "content/pages/about.md": "---\ntitle: About us\n---\n\nWho we are.\n",
        **{f"content/articles/sport/s{n}.md": article(f"Match {n}", f"2024-05-1{n} 09:00", description="A match")
           for n in range(6)}}
PIER_PAGE = "2024/05/pier-reopens/index.html"


@dataclass
class Opened:
    """A build of SITE under way (its cache open), up to its layouts, and what publishing it made."""

    run: Run
    site: Site
    env: Layouts
    made: Made | None

    def work(self, before: dict[str, str], after: dict[str, str] | None = None) -> render.Work:
        return render.Work(self.run.folders.layouts, self.run.problems, before, {} if after is None else after, {})


@pytest.fixture
def opened(make_site):
    """opened(layouts, publish) -> Opened for SITE over the real layouts with these files changed."""
    with contextlib.ExitStack() as stack:

        def make(layouts: dict[str, str] | None = None, publish: bool = True) -> Opened:
            root = make_site(SITE)
            write_files(root / "layouts", layouts or {})
            run = stack.enter_context(pipeline.begin(Options(config=root / "pyproject.toml", now=NOW, jobs=1)))
            sources = survey(run.config, run.folders, run.problems)
            content = pipeline.read(run, sources)
            site = pipeline.model(run, content)
            env = pipeline.layouts(run, site)
            made = pipeline.publish(run, content, site, env, pipeline.read_inputs(run, sources)) if publish else None
            return Opened(run, site, env, made)

        yield make


def on_disk(opened: Opened) -> dict[str, bytes]:
    """Every file of the output folder, by path."""
    out = opened.run.folders.out
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_the_plan_lists_every_page_once_with_the_file_it_is_written_to(opened):
    built = opened()
    plan = built.made.plan
    assert len(plan.pages) == len(plan.paths) == len(set(plan.paths))
    assert plan.paths == [output_path(page.url) for page in plan.pages]
    written = {path for path in on_disk(built) if not path.startswith("static/") and not path.endswith(".json")}
    assert set(plan.paths) == written - {MARKER}  # (the search index is made beside the plan)
    sources = [page.source for page in plan.pages]
    assert all(sources.count(story.source) == 1 for story in built.site.articles)
    assert sources.count("content/pages/about.md") == 1
    assert {page.template for page in plan.pages if page.url.startswith(("/news/", "/sport/", "/tags/pier/"))} == \
        {"list.html", "feed.xml"}
    assert plan.paths[:2] == ["index.html", "404.html"]  # a stable order: the fixed pages first


def test_readers_say_which_pages_take_in_an_article_whole_or_by_face(opened):
    built = opened(publish=False)
    plan = render.plan(built.site, built.env, built.run.folders.layouts)
    readers = render.readers(plan)

    def paths(indexes) -> set[str]:
        return {plan.paths[i] for i in indexes}

    assert plan.paths[readers.own[PIER]] == PIER_PAGE
    assert paths(readers.whole[PIER]) == {PIER_PAGE, "news/feed.xml"}  # its text: its page and its section's feed
    assert paths(readers.by_face[PIER]) == {"news/index.html", "tags/pier/index.html", "2024/05/page/3/index.html",
                                            "2024/page/3/index.html"}  # the listings it is on, by headline
    assert paths(readers.every_whole) == {"feed.xml", "rss.xml"}
    assert paths(readers.every_face) >= {"index.html", "sitemap.xml", "news-sitemap.xml", "archive/index.html"}
    assert not paths(readers.every_whole + readers.every_face) & {"sport/index.html", "about/index.html", PIER_PAGE}


def test_with_the_last_signatures_nothing_is_rendered_and_each_missing_one_is(opened):
    built = opened()
    plan, signatures = built.made.plan, built.made.signatures
    signed = {path: signatures[path] for path in (render.WHOLE_SITE, *plan.paths)}  # (not the search files)
    work = built.work(dict(signatures))
    outputs = list(render.render(plan, work))
    assert [output.path for output in outputs] == plan.paths
    assert all(output.data is None for output in outputs) and work.rendered == 0
    assert work.after == signed
    work = built.work({path: sig for path, sig in signatures.items() if path != "news/index.html"})
    assert [output.path for output in render.render(plan, work) if output.data is not None] == ["news/index.html"]
    assert work.rendered == 1 and work.after == signed
    work = built.work({})
    disk = on_disk(built)
    assert {output.path: output.data for output in render.render(plan, work)} == {p: disk[p] for p in plan.paths}
    assert work.rendered == len(plan.pages) and work.after == signed  # the same bytes, signed the same


def whole(built: Opened, plan: render.Plan) -> dict[str, bytes]:
    """Every page of the plan, rendered afresh."""
    return {output.path: output.data for output in render.render(plan, built.work({}))}


def test_rerender_after_an_edit_renders_just_the_pages_that_take_the_article_in(opened):
    built = opened()
    made, readers = built.made, render.readers(built.made.plan)
    pages = {path: data for path, data in on_disk(built).items() if path in made.plan.paths}
    old = next(story for story in made.site.articles if story.source == PIER)
    new_text = replace(old, body=Bodies(built.run.cache).add("<p>New words.</p>", "new words"), digest="new text")
    site, swapped = renewed(made.site, {id(old): new_text})
    plan = made.plan.renewed(site, swapped, readers, [PIER])
    work = built.work(made.signatures, dict(made.signatures))
    done = {output.path: output.data for output in render.rerender(plan, readers, {PIER}, set(), work) if output.data}
    assert set(done) == {PIER_PAGE, "news/feed.xml", "feed.xml", "rss.xml"} and b"New words." in done[PIER_PAGE]
    pages.update(done)
    assert pages == whole(built, plan)  # as if every page was rendered again

    moved = "2024/05/pier-reopens-at-last/index.html"  # a new headline, and with it a new address
    headline = replace(new_text, title="Pier reopens at last", slug="pier-reopens-at-last",
                       url="/2024/05/pier-reopens-at-last/", digest="new headline", face="new face")
    site, swapped = renewed(site, {id(new_text): headline})
    plan = plan.renewed(site, swapped, readers, [PIER])
    before = dict(work.after)
    work = built.work(before, dict(before))
    again = {output.path: output.data for output in render.rerender(plan, readers, {PIER}, {PIER}, work)
             if output.data}
    assert {moved, "index.html", "news/index.html", "tags/pier/index.html", "sitemap.xml"} <= set(again)
    assert not {"sport/index.html", "about/index.html", "2024/05/match-5/index.html"} & set(again)
    assert b"Pier reopens at last" in again["index.html"] and moved in plan.paths and PIER_PAGE not in plan.paths
    pages.update(again)
    del pages[PIER_PAGE]
    assert pages == whole(built, plan)


BROKEN = {"article.html": "{% extends 'base.html' %}\n{% block content %}\n<h1>{{ article.title }}</h1>\n"
                          "{{ article.subtitle }}\n{% endblock %}\n",
          "list.html": "{% extends 'base.html' %}\n{% block content %}\n{{ listing.title }} {{ listing.nope }}\n"
                       "{% endblock %}\n"}


def test_a_layout_error_is_reported_once_per_layout_line_naming_the_first_page(opened):
    built = opened(BROKEN, publish=False)
    plan = render.plan(built.site, built.env, built.run.folders.layouts)
    work = built.work({})
    outputs = [output.path for output in render.render(plan, work)]
    assert [str(problem) for problem in built.run.problems] == [
        "layouts/article.html:4: error: 'broadsheet.records.Article object' has no attribute 'subtitle' "
        "(while rendering content/articles/sport/s5.md)",
        "layouts/list.html:3: error: 'broadsheet.model.Listing object' has no attribute 'nope' "
        "(while rendering the section page /news/)",
    ]
    assert "index.html" in outputs and "about/index.html" in outputs
    assert not [path for path in outputs if path.startswith("2024/05/") or path.endswith("news/index.html")]
    assert work.rendered == len(plan.pages)  # (each failed page was tried)


def test_render_first_gives_the_pages_asked_for_that_exist_and_render(opened):
    built = opened(BROKEN, publish=False)
    asked = frozenset({"index.html", "about/index.html", PIER_PAGE, "no/such/page/index.html"})
    first = render.render_first(built.site, built.env, built.run.folders.layouts, asked)
    plan = render.plan(built.site, built.env, built.run.folders.layouts)
    assert first == {path: data for path, data in whole(built, plan).items() if path in asked}
    assert set(first) == {"index.html", "about/index.html"}
