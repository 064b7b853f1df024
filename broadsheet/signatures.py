"""What each page is made from, as one hash: a page whose signature did not change is not rendered again."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from . import __version__
from .model import Site


def site_signature(site: Site, layouts: Path) -> str:
    """What every page shares: version, settings, every layout, navigation, pages list and Most Popular."""
    digest = hashlib.sha256(f"{__version__}\n{site.config!r}\n".encode())
    for path in sorted(p for p in layouts.rglob("*") if p.is_file() and "static" not in p.relative_to(layouts).parts):
        digest.update(path.relative_to(layouts).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    shared = ([(s.slug, s.name, s.url) for s in site.sections], [(p.digest, p.url) for p in site.pages],
              [(a.digest, a.url) for a in site.popular])
    digest.update(repr(shared).encode())
    return digest.hexdigest()


def contents_signature(site: Site) -> str:
    """What the site-wide pages (home, sitemaps, main feeds, indexes, 404) are made from: every article, page,
    listing, profile and file in order, and which articles count as breaking news at this build's moment."""
    parts = (site.stamp, [(p.digest, p.url) for p in site.pages],
             [(lst.url, lst.title, lst.description) for lst in site.listings],
             [(a.slug, a.profile.digest if a.profile else "") for a in site.authors],
             [asset.path for asset in site.assets], [a.source for a in site.breaking()])
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def page_signature(shared: str, template: str, context: dict[str, Any], site: Site, contents: str) -> str:
    """The signature of one page: what it shows, the layouts, and for site-wide pages all the contents."""
    if "article" in context:
        article = context["article"]
        near = [(a.digest, a.url) if a else None for a in (site.older(article), site.newer(article))]
        parts: Any = (article.digest, article.url, [(a.digest, a.url) for a in site.related(article)], near)
    elif "page" in context:
        parts = (context["page"].digest, context["page"].url)
    elif "listing" in context:
        listing = context["listing"]
        author = site.author(listing.title) if listing.kind == "author" else None
        profile = author.profile.digest if author and author.profile else ""
        parts = (listing.kind, listing.title, listing.description, listing.url, listing.number, listing.page_urls,
                 listing.feed_url, profile, [(a.digest, a.url) for a in listing.articles], context["current"],
                 context["is_listing"])
    elif "feed" in context and template == "feed.xml" and context["feed"].url != "/feed.xml":
        feed = context["feed"]
        parts = (feed.title, feed.url, feed.home, [(a.digest, a.url) for a in feed.articles])
    else:
        parts = (contents, context["current"], context["is_home"], context["is_listing"])
    return hashlib.sha256(f"{shared}\n{template}\n{parts!r}".encode()).hexdigest()
