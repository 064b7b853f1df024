"""The records a site is made of: articles, pages, profiles, files to copy, and analytics rows."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields, replace
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from .errors import Problem


class Stored:
    """A record kept in the build cache: pickled as its constructor's arguments, which loads about twice as
    fast as a dataclass's default (a rebuild of a large site unpickles every record)."""

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return type(self), tuple(getattr(self, f.name) for f in fields(self))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Image(Stored):
    """A picture with its caption and credit; any part may be empty."""

    src: str
    alt: str
    caption: str
    credit: str
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class Correction(Stored):
    """A dated correction or update note shown at the foot of an article."""

    date: datetime
    text: str


@dataclass(frozen=True)
class Article(Stored):
    """One news article as its file says; its rendered body is read by key when needed."""

    source: str
    path: str
    title: str
    date: datetime
    updated: datetime | None
    authors: tuple[str, ...]
    description: str
    section: str
    tags: tuple[str, ...]
    image: Image | None
    slug: str
    draft: bool
    featured: bool
    lang: str
    body: str  # the key of its rendered HTML and search words (see bodies.py; layouts say `article.html`)
    words: int
    summary: str
    expires: datetime | None
    corrections: tuple[Correction, ...]
    id: str
    url: str = ""
    digest: str = ""  # of everything the article is made from (its file's bytes, its picture's size)
    face: str = ""  # of what it shows without its body: what a card, a listing or the sitemap can show

    @cached_property
    def modified(self) -> datetime | None:
        """The last substantive change: the later of `updated` and the newest correction."""
        moments = [m for m in (self.updated, *(c.date for c in self.corrections)) if m is not None]
        return max(moments) if moments else None

    @property
    def reading_minutes(self) -> int:
        """Reading time at 230 words a minute, rounded up (at least 1)."""
        return max(1, -(-self.words // 230))


@dataclass(frozen=True)
class Page(Stored):
    """A standing page such as About or Contact."""

    source: str
    title: str
    description: str
    slug: str
    draft: bool
    lang: str
    html: str
    url: str = ""
    digest: str = ""


@dataclass(frozen=True)
class Profile(Stored):
    """A reporter's biography from content/authors/<slug>.md."""

    source: str
    slug: str
    name: str
    role: str
    photo: str
    html: str
    digest: str = ""

    @property
    def bio(self) -> str:
        """The biography as HTML (the same as `html`; layouts that say `bio` are known to show no story)."""
        return self.html


@dataclass(frozen=True)
class Asset:
    """A file copied unchanged: from `source` to `path` inside the output."""

    source: Path
    path: str


@dataclass(frozen=True)
class Output:
    """One file of the finished site; data None means "as in the previous build", unless `placed` says a
    worker process put it in the stage of the build already (True: written, False: linked from the
    previous build, see write.Stage)."""

    path: str
    data: bytes | None
    placed: bool | None = None


@dataclass(frozen=True)
class PageView:
    """One row of the analytics export in content/data/pageviews.csv."""

    path: str
    views: int
    source: str
    line: int


@dataclass(frozen=True)
class Content:
    """Everything read from content/ (and layouts/static/)."""

    articles: tuple[Article, ...]
    pages: tuple[Page, ...]
    profiles: tuple[Profile, ...]
    assets: tuple[Asset, ...]
    pageviews: tuple[PageView, ...] | None = None
    warnings: tuple[Problem, ...] = ()  # what scanning and reading the files found (set by the pipeline)
    read: int = 0  # how many sources were parsed afresh (the others came from the build cache)


BODY_FIELDS = ("body", "words")  # what changes when only an article's text does


def with_face(article: Article) -> Article:
    """The article with its `face` set: a hash of every field but its body, word count and digests, and of
    its reading time (which a byline shows, and a small edit seldom changes)."""
    shown = tuple(getattr(article, f.name) for f in fields(article) if f.name not in (*BODY_FIELDS, "digest", "face"))
    return replace(article, face=hashlib.sha256(repr((shown, article.reading_minutes)).encode()).hexdigest())
