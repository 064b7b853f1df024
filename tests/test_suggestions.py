"""suggestions: related stories by shared tags, the older and newer story of a section, and Most Popular."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broadsheet.config import Config
from broadsheet.errors import Problem
from broadsheet.records import Article, PageView
from broadsheet.suggestions import WINDOW, neighbours, popular, related

LONDON = ZoneInfo("Europe/London")
NEWEST = datetime(2024, 5, 28, 9, 30, tzinfo=LONDON)
EXPORT = "content/data/pageviews.csv"
SITE = Config(title="The Test Gazette", base_url="https://example.org/newsroom/", timezone="Europe/London")


def story(slug: str, section: str = "news", tags: tuple[str, ...] = (), title: str = "", age: int = 0,
          url: str = "") -> Article:
    """An article record `age` days older than the newest, at /2024/05/<slug>/ unless told."""
    return Article(source=f"content/articles/{section}/{slug}.md", path=f"articles/{section}/{slug}.md",
                   title=title or slug.replace("-", " ").capitalize(), date=NEWEST - timedelta(days=age),
                   updated=None, authors=(), description="", section=section, tags=tags, image=None, slug=slug,
                   draft=False, featured=False, lang="", body="k" * 40, words=100, summary="", expires=None,
                   corrections=(), id="", url=url or f"/2024/05/{slug}/")


def newest_first(*stories: Article) -> tuple[Article, ...]:
    return tuple(sorted(stories, key=lambda a: a.date, reverse=True))


def slugs(found) -> list[str]:
    return [a.slug if a is not None else None for a in found]


# related

DESK = newest_first(
    story("derby-day", "sport", age=0), story("cup-final", "sport", age=1), story("library-hours", age=2),
    story("tram-fares", tags=("trams",), age=3), story("tram-works", tags=("trams", "roads"), age=4),
    story("road-and-tram-plan", tags=("trams", "roads"), age=5))


def test_related_prefers_shared_tags_then_the_section_then_the_newest():
    found = related(DESK)
    assert slugs(found["content/articles/news/tram-works.md"]) == [
        "road-and-tram-plan", "tram-fares", "library-hours", "derby-day"]  # 2 tags, 1 tag, section, site
    assert slugs(found["content/articles/sport/derby-day.md"]) == [
        "cup-final", "library-hours", "tram-fares", "tram-works"]  # no tags: its section, then the newest
    assert set(found) == {a.source for a in DESK}


def test_related_never_offers_a_story_itself_nor_twice_and_stops_at_the_limit():
    for limit in (1, 2, 4, 5):
        for source, chosen in related(DESK, limit).items():
            assert len(chosen) == limit and source not in {a.source for a in chosen}
            assert len(set(chosen)) == limit
    assert slugs(related(DESK, 2)["content/articles/news/tram-works.md"]) == ["road-and-tram-plan", "tram-fares"]


def test_related_offers_every_other_story_of_a_small_site():
    two = newest_first(story("alpha", age=0), story("beta", "sport", age=1))
    assert {source: slugs(found) for source, found in related(two).items()} == {
        "content/articles/news/alpha.md": ["beta"], "content/articles/sport/beta.md": ["alpha"]}
    assert related(two[:1]) == {"content/articles/news/alpha.md": ()}
    assert related(()) == {}


def test_a_shared_tag_counts_only_for_stories_near_in_time_on_it():
    # the oldest story shares both tags with the newest, but on "trams" it is more than WINDOW stories away,
    # so it scores one shared tag ("depots"), like the stories in between, and loses to the newer ones
    between = [story(f"s{n}", tags=("trams",), age=n) for n in range(1, WINDOW + 1)]
    first, last = story("first", tags=("trams", "depots"), age=0), story("last", tags=("trams", "depots"), age=99)
    found = related(newest_first(first, *between, last))
    assert slugs(found[first.source]) == ["s1", "s2", "s3", "s4"]
    near = newest_first(first, *between[:-1], last)  # one story fewer in between: it is within reach
    assert slugs(related(near)[first.source])[0] == "last"


def _related_plainly(articles, limit=4):
    """What related() must choose, worked out the slow, obvious way: each candidate near the article in
    time on a shared tag scored by its shared tags, best first, newest first among equals; then the
    section's newest, then the site's newest."""
    found = {}
    for story in articles:
        scores = {}
        for tag in story.tags:
            tagged = [other for other in articles if tag in other.tags for _ in range(other.tags.count(tag))]
            at = max(i for i, other in enumerate(tagged) if other is story)
            for other in tagged[max(0, at - WINDOW):at + WINDOW + 1]:
                if other is not story:
                    scores[other.source] = scores.get(other.source, 0) + 1
        order = [a.source for a in articles]
        chosen = sorted(scores, key=lambda s: (-scores[s], order.index(s)))[:limit]
        for pool in ([a for a in articles if a.section == story.section], articles):
            chosen += [a.source for a in pool if a is not story and a.source not in chosen][:limit - len(chosen)]
        found[story.source] = [a for s in chosen for a in articles if a.source == s]
    return found


@given(st.lists(st.tuples(st.sampled_from("abc"), st.lists(st.sampled_from("pqrstuv"), max_size=4)),
                max_size=60))
@settings(max_examples=150, deadline=None)
def test_related_stories_are_the_best_scored_neighbours_on_shared_tags(stories):
    articles = tuple(story(f"s{n}", section, tuple(tags), age=n) for n, (section, tags) in enumerate(stories))
    chosen = related(articles)
    assert {source: list(found) for source, found in chosen.items()} == _related_plainly(articles)


# neighbours

def test_each_story_has_the_older_and_newer_of_its_section():
    newer, middle, older = story("newer", age=0), story("middle", age=1), story("older", age=2)
    found = neighbours((newer, middle, older))
    assert {source: slugs(pair) for source, pair in found.items()} == {
        newer.source: ["middle", None], middle.source: ["older", "newer"], older.source: [None, "middle"]}
    assert neighbours((middle,)) == {middle.source: (None, None)} and neighbours(()) == {}


# popular

ALPHA, BETA, GAMMA, DELTA = (story(slug, age=age) for age, slug in enumerate(("alpha", "beta", "gamma", "delta")))
STORIES = (ALPHA, BETA, GAMMA, DELTA)  # newest first


def views(*rows: tuple[str, int]) -> tuple[PageView, ...]:
    """Rows of the analytics export, numbered from line 2 (under the header)."""
    return tuple(PageView(path, count, EXPORT, line) for line, (path, count) in enumerate(rows, start=2))


def test_most_popular_is_the_newest_without_an_export():
    problems: list[Problem] = []
    assert popular(SITE, STORIES, None, set(), problems, 3) == (ALPHA, BETA, GAMMA)
    assert popular(SITE, STORIES[:2], None, set(), problems, 3) == (ALPHA, BETA)
    assert popular(SITE, STORIES, (), set(), problems, 3) == (ALPHA, BETA, GAMMA)  # an export with no rows
    assert problems == []


def test_most_popular_adds_up_every_form_of_a_story_path():
    rows = views(("/newsroom/2024/05/delta", 300), ("https://example.org/newsroom/2024/05/delta/", 300),
                 ("2024/05/gamma/index.html", 500), ("/2024/05/beta/?utm_source=mail", 200),
                 (" /newsroom/2024/05/beta/ ", 100), ("/newsroom/2024/05/beta/#comments", 100),
                 ("/newsroom/2024/05/alpha/", 100))
    problems: list[Problem] = []
    assert popular(SITE, STORIES, rows, set(), problems, 3) == (DELTA, GAMMA, BETA)  # 600, 500, 400
    assert problems == []
    at_root = Config(title="The Test Gazette", base_url="https://example.org/")
    assert popular(at_root, STORIES, views(("/2024/05/delta", 9)), set(), problems, 1) == (DELTA,) and not problems


def test_most_popular_breaks_ties_by_headline_in_any_case():
    budget, apples = story("budget", title="Budget day", age=0), story("apples", title="apple harvest", age=1)
    rows = views(("/2024/05/budget/", 50), ("/2024/05/apples/", 50))
    assert popular(SITE, (budget, apples), rows, set(), [], 2) == (apples, budget)


def test_most_popular_fills_up_with_the_newest_stories_not_chosen():
    rows = views(("/2024/05/delta/", 10))
    assert popular(SITE, STORIES, rows, set(), [], 3) == (DELTA, ALPHA, BETA)
    rows = views(("/2024/05/delta/", 10), ("/2024/05/alpha/", 10))  # more room than stories: each once
    assert popular(SITE, STORIES, rows, set(), [], 9) == (ALPHA, DELTA, BETA, GAMMA)


def test_other_pages_of_the_site_are_skipped_quietly():
    rows = views(("/newsroom/", 5000), ("/newsroom", 4000), ("/newsroom/news/", 900), ("/newsroom/news/page/2/", 80),
                 ("/newsroom/index.html", 70), ("/newsroom/2024/05/gamma/", 1))
    problems: list[Problem] = []
    assert popular(SITE, STORIES, rows, {"/", "/news/", "/news/page/2/"}, problems, 2) == (GAMMA, ALPHA)
    assert problems == []


def test_unknown_paths_are_warned_of_with_their_line():
    earlier = Problem("content/a.md", 1, 1, "kept", severity="warning")
    problems = [earlier]
    rows = views(("/newsroom/2024/05/alpha/", 5), ("/gone/", 70), ("/elsewhere/2024/05/beta/", 3))
    assert popular(SITE, STORIES, rows, set(), problems, 2) == (ALPHA, BETA)
    assert [str(p) for p in problems] == [
        "content/a.md:1:1: warning: kept",
        "content/data/pageviews.csv:3: warning: no published article at '/gone/'; ignored",
        "content/data/pageviews.csv:4: warning: no published article at '/elsewhere/2024/05/beta/'; ignored"]


@pytest.mark.parametrize(("unknown", "shown"), [(10, 10), (11, 11), (13, 11)])
def test_at_most_ten_unknown_paths_are_named_and_the_rest_counted(unknown, shown):
    problems: list[Problem] = []
    popular(SITE, STORIES, views(*((f"/gone-{n}/", 1) for n in range(unknown))), set(), problems)
    assert len(problems) == shown and all(p.severity == "warning" for p in problems)
    assert str(problems[9]) == "content/data/pageviews.csv:11: warning: no published article at '/gone-9/'; ignored"
    if unknown > 10:
        assert str(problems[10]) == f"content/data/pageviews.csv: warning: {unknown - 10} more unknown paths ignored"


def test_a_percent_encoded_path_counts_for_its_story():
    library = story("مكتبة-المدينة", age=0)
    problems: list[Problem] = []
    rows = views((quote("/newsroom/2024/05/مكتبة-المدينة/"), 40), ("/newsroom/2024/05/beta/", 10))
    assert popular(SITE, (library, BETA), rows, set(), problems, 2) == (library, BETA)
    assert problems == []


def test_a_path_without_the_base_path_may_begin_like_it():
    site = Config(title="The Test Gazette", base_url="https://example.org/news/", permalink="/{section}/{slug}/")
    fares, other = story("tram-fares", url="/news/tram-fares/"), story("other", url="/news/other/")
    problems: list[Problem] = []
    # both forms the README promises: with the base path (/news/news/...) and without it (/news/...)
    rows = views(("/news/news/tram-fares/", 10), ("/news/tram-fares/", 10), ("/news/news/other/", 15))
    assert popular(site, (other, fares), rows, set(), problems, 2) == (fares, other)
    assert problems == []
