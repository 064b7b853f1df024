"""Records -> Site: what is published, newest first, grouped into sections, tags, authors, archives,
listings and feeds, each with its URL (no I/O)."""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cached_property
from math import ceil
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from .config import Config
from .content import Content
from .errors import Problem, display_path
from .records import Article, Asset, Page, Profile
from .slugs import name_problem, slugify
from .suggestions import POPULAR, neighbours, popular, related
from .write import clashes

FEED_ENTRIES = 20
BREAKING = timedelta(days=2)  # how long an article counts as breaking news (the Google News sitemap's window)
FIXED_PAGES = MappingProxyType({"/": "the home page", "/404.html": "the 404 page", "/feed.xml": "the site's Atom feed",
               "/rss.xml": "the site's RSS feed", "/sitemap.xml": "the sitemap", "/robots.txt": "robots.txt",
               "/news-sitemap.xml": "the news sitemap", "/search/": "the search page", "/tags/": "the tag index",
               "/authors/": "the author index", "/archive/": "the archive index"})
SEARCH_FILES = re.compile(r"search/[^/]+\.json(/|$)")  # what search.py writes (and folders named like them)


@dataclass(frozen=True)
class Section:
    """A desk of the paper (news, sport...) and its articles, newest first."""

    slug: str
    name: str
    url: str
    articles: tuple[Article, ...]


@dataclass(frozen=True)
class Tag:
    """A topic shared by articles."""

    slug: str
    name: str
    url: str
    articles: tuple[Article, ...]


@dataclass(frozen=True)
class Author:
    """A byline, with the reporter's profile when content/authors/<slug>.md exists."""

    slug: str
    name: str
    url: str
    articles: tuple[Article, ...]
    profile: Profile | None


@dataclass(frozen=True)
class Archive:
    """The articles of one year (month 0) or one month, by the site's local date."""

    year: int
    month: int
    name: str
    url: str
    articles: tuple[Article, ...]


@dataclass(frozen=True)
class Feed:
    """A feed of the newest articles of the site, a section or an author."""

    title: str
    url: str
    home: str
    articles: tuple[Article, ...]


@dataclass(frozen=True)
class Listing:
    """One page of a list of articles (a section, tag, author or archive page)."""

    kind: str
    title: str
    description: str
    url: str
    articles: tuple[Article, ...]
    number: int
    page_urls: tuple[str, ...]
    feed_url: str = ""

    @property
    def prev_url(self) -> str:
        """The previous page's URL, or ''."""
        return self.page_urls[self.number - 2] if self.number > 1 else ""

    @property
    def next_url(self) -> str:
        """The next page's URL, or ''."""
        return self.page_urls[self.number] if self.number < len(self.page_urls) else ""


@dataclass(frozen=True)
class Site:
    """The whole publication, ready to render."""

    config: Config
    articles: tuple[Article, ...]
    pages: tuple[Page, ...]
    sections: tuple[Section, ...]
    tags: tuple[Tag, ...]
    authors: tuple[Author, ...]
    listings: tuple[Listing, ...]
    assets: tuple[Asset, ...]
    archives: tuple[Archive, ...]
    feeds: tuple[Feed, ...]
    popular: tuple[Article, ...]
    now: datetime
    _related: dict[str, tuple[Article, ...]]
    _neighbours: dict[str, tuple[Article | None, Article | None]]

    def section(self, slug: str) -> Section:
        """The section with this slug."""
        return self._index["section"][slug]

    def tag(self, name: str) -> Tag:
        """The tag with this name."""
        return self._index["tag"][name]

    def author(self, name: str) -> Author:
        """The author with this byline name."""
        return self._index["author"][name]

    @cached_property
    def stamp(self) -> str:
        """One hash of every published article's contents and address, in order (for signatures)."""
        return hashlib.sha256("\x1f".join(a.digest + a.url for a in self.articles).encode()).hexdigest()

    @cached_property
    def face_stamp(self) -> str:
        """Like stamp, but blind to bodies: what pages that show no article's text are made from."""
        return hashlib.sha256("\x1f".join(a.face + a.url for a in self.articles).encode()).hexdigest()

    @cached_property
    def _index(self) -> dict[str, dict[str, Any]]:
        """Sections by slug, tags and authors by name: templates look them up for every card and byline."""
        return {"section": {s.slug: s for s in self.sections}, "tag": {t.name: t for t in self.tags},
                "author": {a.name: a for a in self.authors}}

    def related(self, article: Article) -> tuple[Article, ...]:
        """Up to four articles to read next: shared tags, then the same section, then the newest."""
        return self._related.get(article.source, ())

    def older(self, article: Article) -> Article | None:
        """The previous article in the same section."""
        return self._neighbours.get(article.source, (None, None))[0]

    def newer(self, article: Article) -> Article | None:
        """The next article in the same section."""
        return self._neighbours.get(article.source, (None, None))[1]

    def breaking(self, days: float = BREAKING.days, limit: int = 1000) -> tuple[Article, ...]:
        """Articles published in the last `days` before the build (for the Google News sitemap)."""
        since = self.now - timedelta(days=days)
        return tuple(itertools.islice(itertools.takewhile(lambda a: a.date >= since, self.articles), limit))

    @property
    def lead(self) -> Article | None:
        """The home page's lead story: the newest featured article, else the newest."""
        return next((a for a in self.articles if a.featured), self.articles[0] if self.articles else None)


@dataclass(frozen=True)
class Selection:
    """Which articles a build publishes: those live at `now`, and drafts or future-dated ones only when asked."""

    now: datetime
    drafts: bool = False
    future: bool = False


def make_site(config: Config, content: Content, selection: Selection, problems: list[Problem],
              memo: dict | None = None) -> Site:
    """Choose what is published, order it, group it and give everything its URL.

    `memo` carries the related-stories table from the last build; it is reused while no article's tags,
    section or place in the order changed, and refreshed otherwise.
    """
    now, drafts, future = selection.now, selection.drafts, selection.future  # read once, not for each article
    shown = [a for a in content.articles if published(a, now, drafts, future)]
    articles = tuple(sorted(shown, key=newest_first))  # each carries its URL from documents.permalink
    pages = tuple(replace(p, url=f"/{p.slug}/") for p in content.pages if drafts or not p.draft)
    sections = _sections(config, articles)
    tags = tuple(Tag(*group) for group in _group(articles, lambda a: a.tags, "tags", problems))
    authors = _authors(articles, content.profiles, problems)
    archives = _archives(config, articles)
    feeds = _feeds(config, articles, sections, authors)
    listings = tuple(_listings(config, sections, tags, authors, archives, feeds))
    near = {k: v for section in sections for k, v in neighbours(section.articles).items()}
    most_read = popular(config, articles, content.pageviews, _page_urls(pages, listings), problems, POPULAR + 1)
    site = Site(config, articles, pages, sections, tags, authors, listings, content.assets, archives, feeds,
                most_read, now, _related(articles, memo if memo is not None else {}), near)
    _check_collisions(site, problems)
    _check_config_files(site, problems)
    _check_feed_ids(config, content.articles, problems)
    return site


def _check_config_files(site: Site, problems: list[Problem]) -> None:
    """`logo` and `default_image` must name a file the site publishes (or a full URL)."""
    published = {asset.path for asset in site.assets}
    for key in ("logo", "default_image"):
        value = getattr(site.config, key)
        if value and "://" not in value and value.lstrip("/") not in published:
            problems.append(Problem(site.config.file, 0, 0, f"setting '{key}': no file '{value}' in content/ or "
                                    "layouts/static/", "e.g. images/logo.png for content/images/logo.png"))


def _page_urls(pages: tuple[Page, ...], listings: tuple[Listing, ...]) -> set[str]:
    """Every URL of the site that is not an article."""
    return set(FIXED_PAGES) | {p.url for p in pages} | {lst.url for lst in listings}


def _related(articles: tuple[Article, ...], memo: dict) -> dict[str, tuple[Article, ...]]:
    inputs = hashlib.sha256(repr([(a.source, a.tags, a.section) for a in articles]).encode()).hexdigest()
    by_source = {a.source: a for a in articles}
    if memo.get("inputs") == inputs:
        return {source: tuple(by_source[s] for s in chosen) for source, chosen in memo["related"].items()}
    found = related(articles)
    memo.update(inputs=inputs, related={source: [a.source for a in chosen] for source, chosen in found.items()})
    return found


def published(article: Article, now: datetime, drafts: bool, future: bool) -> bool:
    """Drafts, future-dated and expired articles stay off the site (unless asked for)."""
    if article.draft and not drafts:
        return False
    if article.date > now and not future:
        return False
    return article.expires is None or article.expires > now


def newest_first(article: Article) -> tuple[float, str, str]:
    return (-article.date.timestamp(), article.title.casefold(), article.source)


def _sections(config: Config, articles: tuple[Article, ...]) -> tuple[Section, ...]:
    by_slug: dict[str, list[Article]] = {}
    for article in articles:  # (one pass, in the articles' order)
        by_slug.setdefault(article.section, []).append(article)
    slugs = sorted(by_slug)
    order = [s for s in config.sections if s in by_slug] + [s for s in slugs if s not in config.sections]
    return tuple(Section(slug, config.sections.get(slug) or slug.replace("-", " ").title(), f"/{slug}/",
                         tuple(by_slug[slug])) for slug in order)


def _group(articles: Iterable[Article], names: Callable[[Article], tuple[str, ...]], folder: str,
           problems: list[Problem]) -> list[tuple[str, str, str, tuple[Article, ...]]]:
    """(slug, name, url, articles) for each name the articles carry; two names with one slug are an error."""
    by_name: dict[str, list[Article]] = {}
    for article in articles:
        for name in names(article):
            by_name.setdefault(name, []).append(article)
    groups, seen = [], {}
    for name in sorted(by_name, key=str.casefold):
        slug = slugify(name)
        unusable = name_problem(slug)
        if unusable or slug in seen:
            why = f"shares the address /{folder}/{slug}/ with '{seen[slug]}'" if slug in seen else "has no usable slug"
            hint = "spell the two the same way" if slug in seen else unusable
            problems.append(Problem(by_name[name][0].source, 0, 0, f"{folder[:-1]} '{name}' {why}", hint, "error"))
            continue
        seen[slug] = name
        groups.append((slug, name, f"/{folder}/{slug}/", tuple(by_name[name])))
    return groups


def _authors(articles: tuple[Article, ...], profiles: tuple[Profile, ...],
             problems: list[Problem]) -> tuple[Author, ...]:
    by_slug = {p.slug: p for p in profiles}
    return tuple(Author(*group, by_slug.get(group[0])) for group in _group(articles, lambda a: a.authors,
                                                                             "authors", problems))


def _archives(config: Config, articles: tuple[Article, ...]) -> tuple[Archive, ...]:
    by_period: dict[tuple[int, int], list[Article]] = {}
    for article in articles:
        local = article.date.astimezone(config.zone)
        by_period.setdefault((local.year, 0), []).append(article)
        by_period.setdefault((local.year, local.month), []).append(article)
    return tuple(Archive(year, month, f"{MONTHS[month]} {year}".strip(),
                         f"/{year:04d}/" + (f"{month:02d}/" if month else ""), tuple(found))
                 for (year, month), found in sorted(by_period.items(), reverse=True))


MONTHS = ("", "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def _feeds(config: Config, articles, sections, authors) -> tuple[Feed, ...]:
    feeds = [Feed(config.title, "/feed.xml", "/", articles[:FEED_ENTRIES])]
    feeds += [Feed(f"{s.name} | {config.title}", f"{s.url}feed.xml", s.url, s.articles[:FEED_ENTRIES])
              for s in sections]
    feeds += [Feed(f"{a.name} | {config.title}", f"{a.url}feed.xml", a.url, a.articles[:FEED_ENTRIES])
              for a in authors]
    return tuple(feeds)


def _listings(config: Config, sections, tags, authors, archives, feeds) -> Iterable[Listing]:
    feed_urls = {f.home: f.url for f in feeds}
    for kind, terms in (("section", sections), ("tag", tags), ("author", authors), ("archive", archives)):
        for term in terms:
            description = term.profile.role if kind == "author" and term.profile else ""
            yield from paginate(config, kind, term, description, feed_urls.get(term.url, ""))


def paginate(config: Config, kind: str, term: Section | Tag | Author | Archive, description: str = "",
             feed_url: str = "") -> Iterable[Listing]:
    """Split a term's articles into pages of per_page, titled by its name: page 1 at its url, then url/page/N/."""
    title, url, articles = term.name, term.url, term.articles
    count = max(1, ceil(len(articles) / config.per_page))
    urls = tuple(url if n == 1 else f"{url}page/{n}/" for n in range(1, count + 1))
    for number in range(1, count + 1):
        chunk = articles[(number - 1) * config.per_page:number * config.per_page]
        yield Listing(kind, title, description, urls[number - 1], chunk, number, urls, feed_url)


def related_holders(site: Site) -> dict[str, tuple[str, ...]]:
    """For each article (by source), the articles whose related stories include it: an edit that keeps the
    site's shape keeps these too."""
    found: dict[str, list[str]] = {}
    for source, chosen in site._related.items():
        for article in chosen:
            found.setdefault(article.source, []).append(source)
    return {source: tuple(holders) for source, holders in found.items()}


def renewed(site: Site, new: dict[int, Article],
            holders: dict[str, tuple[str, ...]] | None = None) -> tuple[Site, dict[int, Any]]:
    """The site with each of these records in the place of the article it replaces (by that article's id())
    in every list that holds it, for edits that leave the site's shape as it was (see live/edits.py); and
    every object replaced on the way (lists, listings, feeds and the articles), by the id() of the old one.
    The lists are found from the records' fields, which such an edit leaves as they were, and the related
    stories from `holders` (see related_holders; without it, every article's are looked at)."""
    swapped: dict[int, Any] = dict(new)
    olds = new.keys()  # (a view: isdisjoint() looks each id up in C, and stops at the first found)

    def renew(articles: tuple[Article, ...]) -> tuple[Article, ...]:
        if olds.isdisjoint(map(id, articles)):
            return articles
        return tuple(new.get(id(article), article) for article in articles)

    def each(items: tuple[Any, ...], chosen: Iterable[Any]) -> tuple[Any, ...]:
        for item in chosen:
            if id(item) not in swapped:
                swapped[id(item)] = replace(item, articles=renew(item.articles))
        return tuple(swapped.get(id(item), item) for item in items)

    terms = _terms_of(site, new.values())
    listings = {listing.url: listing for listing in site.listings}
    pages = [listings[url] for term in terms for url in _pages_showing(site.config, term, olds) if url in listings]
    homes = {term.url for term in terms}
    feeds = [feed for feed in site.feeds if (feed.home in homes or feed is site.feeds[0])
             and not olds.isdisjoint(map(id, feed.articles))]
    related = dict(site._related)  # (the few lists that hold an edited article, made again)
    for source in (site._related if holders is None else
                   {held for record in new.values() for held in holders.get(record.source, ())}):
        related[source] = renew(site._related[source])
    return replace(site, articles=renew(site.articles), sections=each(site.sections, terms),
                   tags=each(site.tags, terms), authors=each(site.authors, terms),
                   archives=each(site.archives, terms), listings=each(site.listings, pages),
                   feeds=each(site.feeds, feeds), popular=renew(site.popular), _related=related,
                   _neighbours=_renewed_neighbours(site, new)), swapped


def _terms_of(site: Site, records: Iterable[Article]) -> list[Any]:
    """The section, tags, reporters and archives (the year's and the month's) these articles are in."""
    archives = {archive.url: archive for archive in site.archives}
    found: dict[str, Any] = {}
    for record in records:
        local = record.date.astimezone(site.config.zone)
        for term in (site.section(record.section), *map(site.tag, record.tags), *map(site.author, record.authors),
                     archives[f"/{local.year:04d}/"], archives[f"/{local.year:04d}/{local.month:02d}/"]):
            found[term.url] = term
    return list(found.values())


def _pages_showing(config: Config, term: Any, olds: Iterable[int]) -> list[str]:
    """The addresses of a term's listing pages that show any of these articles (by id(), see paginate)."""
    wanted = set(olds)
    numbers = {at // config.per_page + 1 for at, article in enumerate(term.articles) if id(article) in wanted}
    return [term.url if number == 1 else f"{term.url}page/{number}/" for number in sorted(numbers)]


def _renewed_neighbours(site: Site, new: dict[int, Article]) -> dict[str, tuple[Article | None, Article | None]]:
    """The older and newer story of each story, with these renewed: only an edited story's two neighbours
    name it (its own entry names them)."""
    near = dict(site._neighbours)
    for record in new.values():
        for other in near.get(record.source, (None, None)):
            if other is not None and other.source in near:
                older, newer = near[other.source]
                near[other.source] = (new.get(id(older), older), new.get(id(newer), newer))
    return near


def output_path(url: str) -> str:
    """The file inside the output folder that serves a site URL."""
    path = url.lstrip("/")
    return path + "index.html" if path.endswith("/") or not path else path


def _check_collisions(site: Site, problems: list[Problem]) -> None:
    """Two sources that would write the same file, or one a file where the other needs a folder of that name
    (also case- or normalisation-only twins: see write.clashes), fail, naming both; so do files in the
    search index's place (search/*.json)."""
    claims = list(FIXED_PAGES.items()) + [(feed.url, f"the feed of {feed.home}") for feed in site.feeds[1:]]
    claims += [(lst.url, f"the {lst.kind} page '{lst.title}'") for lst in site.listings]
    claims += sorted([(a.url, a.source) for a in site.articles] + [(p.url, p.source) for p in site.pages],
                     key=lambda claim: claim[1])
    claims += [("/" + asset.path, display_path(asset.source, site.config.root)) for asset in site.assets]
    paths = [(output_path(url), source) for url, source in claims]
    problems += clashes(paths)
    for path, source in paths:
        if SEARCH_FILES.match(path.casefold()):
            problems.append(Problem(source, 0, 0, f"writes the output file {path} where the search index keeps "
                                    "its files (search/*.json)", "give it another slug or name"))


def entry_id(config: Config, article: Article) -> str:
    """A feed id that never changes with the slug or permalink: the front matter `id`, else a tag: URI."""
    if ":" in article.id:
        return article.id
    host = urlsplit(config.base_url).hostname or "localhost"
    return f"tag:{host},{article.date.date().isoformat()}:{article.id or article.path}"


def _check_feed_ids(config: Config, articles: Iterable[Article], problems: list[Problem]) -> None:
    """Two articles with one feed id (a file copied with its `id:` line) would be one entry to every feed
    reader: an error naming both, for drafts and scheduled stories too (an id is for good)."""
    owners: dict[str, str] = {}
    for article in sorted(articles, key=lambda a: a.source):
        found = entry_id(config, article)
        if found in owners:
            problems.append(Problem(article.source, 0, 0, f"has the same feed id '{found}' as {owners[found]}",
                                    "give one of them another 'id:', or none for one made from its path"))
        else:
            owners[found] = article.source
