"""What to read next: related articles, neighbours in a section, and the Most Popular list."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from .config import Config
from .errors import Problem
from .records import Article, PageView

RELATED = 4
POPULAR = 5
WINDOW = 12  # on each shared tag, the stories this many places either side in time are candidates


def related(articles: tuple[Article, ...], limit: int = RELATED) -> dict[str, tuple[Article, ...]]:
    """Up to `limit` articles per article: most shared tags, then same section, then newest; never itself.

    Candidates are the stories near it in time on each of its tags (WINDOW either side), so the work per
    article stays the same however large the archive grows.
    """
    count = len(articles)  # articles come newest first: a story is known by its place, its rank
    by_tag: dict[str, list[int]] = {}
    by_section: dict[str, list[int]] = {}
    place: dict[tuple[str, int], int] = {}
    for rank, article in enumerate(articles):
        for tag in article.tags:
            ranks = by_tag.setdefault(tag, [])
            place[tag, rank] = len(ranks)
            ranks.append(rank)
        by_section.setdefault(article.section, []).append(rank)
    found = {}
    for rank, article in enumerate(articles):
        shared = Counter()
        for tag in article.tags:
            ranks, at = by_tag[tag], place[tag, rank]
            shared.update(ranks[max(0, at - WINDOW):at + WINDOW + 1])
        shared.pop(rank, None)
        # most shared tags first, then the newest: one number per candidate sorts the same as (-tags, rank)
        chosen = [key % count for key in heapq.nsmallest(limit, [r - n * count for r, n in shared.items()])]
        if len(chosen) < limit:
            chosen += _others(by_section[article.section], rank, chosen, limit)
        if len(chosen) < limit:
            chosen += _others(range(count), rank, chosen, limit)
        found[article.source] = tuple(articles[r] for r in chosen)
    return found


def _others(candidates: Iterable[int], rank: int, chosen: list[int], limit: int) -> list[int]:
    """The first candidates (by rank) that are not the article and not chosen yet, to fill up to limit."""
    wanted = limit - len(chosen)
    picked: list[int] = []
    for other in candidates:
        if wanted <= len(picked):
            break
        if other != rank and other not in chosen:
            picked.append(other)
    return picked


def neighbours(section_articles: tuple[Article, ...]) -> dict[str, tuple[Article | None, Article | None]]:
    """(older, newer) article in the same section for each article of a section listed newest first."""
    found = {}
    for index, article in enumerate(section_articles):
        older = section_articles[index + 1] if index + 1 < len(section_articles) else None
        newer = section_articles[index - 1] if index > 0 else None
        found[article.source] = (older, newer)
    return found


def popular(config: Config, articles: tuple[Article, ...], pageviews: tuple[PageView, ...] | None,
            other_pages: set[str], problems: list[Problem], limit: int = POPULAR) -> tuple[Article, ...]:
    """The most viewed articles from the analytics export (other pages of the site are skipped quietly, unknown
    paths with a warning); the newest articles when there is no export."""
    if pageviews is None:
        return articles[:limit]
    by_url = {a.url: a for a in articles}
    views: Counter[str] = Counter()
    unknown = []
    for view in pageviews:
        url = _site_path(view.path, config.base_path)
        if url not in by_url and _site_path(view.path, "/") in by_url:  # without the base path, yet beginning
            url = _site_path(view.path, "/")  # like it: /news/tram-fares/ on a site at /news/
        if url in by_url:
            views[url] += view.views
        elif url not in other_pages:
            unknown.append(view)
    for view in unknown[:10]:
        problems.append(Problem(view.source, view.line, 0, f"no published article at '{view.path}'; ignored",
                                severity="warning"))
    if len(unknown) > 10:
        problems.append(Problem(unknown[0].source, 0, 0, f"{len(unknown) - 10} more unknown paths ignored",
                                severity="warning"))
    ranked = sorted(views, key=lambda url: (-views[url], by_url[url].title.casefold()))
    chosen = [by_url[url] for url in ranked[:limit]]
    return tuple(chosen + [a for a in articles if a not in chosen][:limit - len(chosen)])


def _site_path(path: str, base_path: str) -> str:
    """'/newsroom/2026/11/x', 'https://host/newsroom/2026/11/x/' and '2026/11/x' all mean '/2026/11/x/'."""
    path = unquote(urlsplit(path.strip()).path) or "/"  # (exports give non-ASCII addresses percent-encoded)
    path = path if path.startswith("/") else "/" + path
    if base_path != "/" and (path + "/").startswith(base_path):
        path = "/" + path[len(base_path):]
    if not path.endswith("/") and not path.endswith(".html"):
        path += "/"
    return path.removesuffix("index.html")
