"""Records -> Site: drafts out, newest first, sections, tags, authors, listings and URLs (no I/O)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from math import ceil

from .config import Config
from .content import Article, Asset, Content, Page, Profile
from .errors import Problem, display_path
from .slugs import slug_problem, slugify


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
class Listing:
    """One page of a list of articles (a section, tag or author page)."""

    kind: str
    title: str
    description: str
    url: str
    articles: tuple[Article, ...]
    number: int
    page_urls: tuple[str, ...]

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

    def section(self, slug: str) -> Section:
        """The section with this slug."""
        return next(s for s in self.sections if s.slug == slug)

    def tag(self, name: str) -> Tag:
        """The tag with this name."""
        return next(t for t in self.tags if t.name == name)

    def author(self, name: str) -> Author:
        """The author with this byline name."""
        return next(a for a in self.authors if a.name == name)

    @property
    def lead(self) -> Article | None:
        """The home page's lead story: the newest featured article, else the newest."""
        return next((a for a in self.articles if a.featured), self.articles[0] if self.articles else None)


def make_site(config: Config, content: Content, now: datetime, drafts: bool, future: bool,
              problems: list[Problem]) -> Site:
    """Choose what is published, order it, group it and give everything its URL."""
    shown = [a for a in content.articles if (drafts or not a.draft) and (future or a.date <= now)]
    articles = tuple(sorted((replace(a, url=_permalink(config, a)) for a in shown), key=_newest_first))
    pages = tuple(replace(p, url=f"/{p.slug}/") for p in content.pages if drafts or not p.draft)
    sections = _sections(config, articles)
    tags = _group(articles, lambda a: a.tags, "tags", Tag, problems)
    authors = _authors(articles, content.profiles, problems)
    listings = tuple(_listings(config, sections, tags, authors))
    site = Site(config, articles, pages, sections, tags, authors, listings, content.assets)
    _check_collisions(site, problems)
    return site


def _newest_first(article: Article) -> tuple[float, str, str]:
    return (-article.date.timestamp(), article.title.casefold(), article.source)


def _permalink(config: Config, article: Article) -> str:
    local = article.date.astimezone(config.zone)
    return config.permalink.format(year=f"{local.year:04d}", month=f"{local.month:02d}",
                                   day=f"{local.day:02d}", slug=article.slug, section=article.section)


def _sections(config: Config, articles: tuple[Article, ...]) -> tuple[Section, ...]:
    slugs = sorted({a.section for a in articles})
    order = [s for s in config.sections if s in slugs] + [s for s in slugs if s not in config.sections]
    return tuple(Section(slug, config.sections.get(slug) or slug.replace("-", " ").title(), f"/{slug}/",
                         tuple(a for a in articles if a.section == slug)) for slug in order)


def _group(articles: Iterable[Article], names, folder: str, record, problems: list[Problem]) -> tuple:
    by_name: dict[str, list[Article]] = {}
    for article in articles:
        for name in names(article):
            by_name.setdefault(name, []).append(article)
    groups, seen = [], {}
    for name in sorted(by_name, key=str.casefold):
        slug = slugify(name)
        if slug_problem(slug) or slug in seen:
            why = f"shares the address /{folder}/{slug}/ with '{seen[slug]}'" if slug in seen else "has no usable slug"
            problems.append(Problem(by_name[name][0].source, 0, 0, f"{folder[:-1]} '{name}' {why}",
                                    "spell the two the same way", "error"))
            continue
        seen[slug] = name
        groups.append(record(slug, name, f"/{folder}/{slug}/", tuple(by_name[name])))
    return tuple(groups)


def _authors(articles: tuple[Article, ...], profiles: tuple[Profile, ...],
             problems: list[Problem]) -> tuple[Author, ...]:
    by_slug = {p.slug: p for p in profiles}
    tags = _group(articles, lambda a: a.authors, "authors", Tag, problems)
    return tuple(Author(t.slug, t.name, t.url, t.articles, by_slug.get(t.slug)) for t in tags)


def _listings(config: Config, sections, tags, authors) -> Iterable[Listing]:
    for kind, terms in (("section", sections), ("tag", tags), ("author", authors)):
        for term in terms:
            description = term.profile.role if kind == "author" and term.profile else ""
            yield from paginate(config, kind, term.name, description, term.url, term.articles)


def paginate(config: Config, kind: str, title: str, description: str, url: str,
             articles: tuple[Article, ...]) -> Iterable[Listing]:
    """Split a list of articles into pages of per_page: page 1 at url, then url/page/N/."""
    count = max(1, ceil(len(articles) / config.per_page))
    urls = tuple(url if n == 1 else f"{url}page/{n}/" for n in range(1, count + 1))
    for number in range(1, count + 1):
        chunk = articles[(number - 1) * config.per_page:number * config.per_page]
        yield Listing(kind, title, description, urls[number - 1], chunk, number, urls)


def output_path(url: str) -> str:
    """The file inside the output folder that serves a site URL."""
    path = url.lstrip("/")
    return path + "index.html" if path.endswith("/") or not path else path


def _check_collisions(site: Site, problems: list[Problem]) -> None:
    """Two sources that would write the same file (also case- or normalisation-only twins) fail."""
    owners: dict[str, str] = {"index.html": "the home page", "404.html": "the 404 page"}
    claims = [(lst.url, f"the {lst.kind} page '{lst.title}'") for lst in site.listings]
    claims += sorted([(a.url, a.source) for a in site.articles] + [(p.url, p.source) for p in site.pages],
                     key=lambda claim: claim[1])
    claims += [("/" + asset.path, display_path(asset.source, site.config.root)) for asset in site.assets]
    for url, source in claims:
        key = unicodedata.normalize("NFC", output_path(url)).casefold()
        if key in owners:
            problems.append(Problem(source, 0, 0, f"writes the same output file {output_path(url)} "
                                    f"as {owners[key]}", "give one of them another slug"))
        else:
            owners[key] = source
