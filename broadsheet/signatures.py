"""What each page is made from, as one hash: a page whose signature did not change is not rendered again."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes

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


def contents_signature(site: Site, faces: bool = False) -> str:
    """What the site-wide pages (home, sitemaps, main feeds, indexes, 404) are made from: every article, page,
    listing, profile and file in order, and which articles count as breaking news at this build's moment.
    With `faces`, articles count by what they show without their bodies (for layouts that show no body)."""
    parts = (site.face_stamp if faces else site.stamp, [(p.digest, p.url) for p in site.pages],
             [(lst.url, lst.title, lst.description) for lst in site.listings],
             [(a.slug, a.profile.digest if a.profile else "") for a in site.authors],
             [asset.path for asset in site.assets], [a.source for a in site.breaking()])
    return hashlib.sha256(repr(parts).encode()).hexdigest()


class Signer:
    """Signs each page of one build: what it shows, the layouts, and for site-wide pages all the contents.

    A page whose layouts can show no article's body (see `shows_bodies`) is signed with the articles' faces,
    so an edit to a story's text re-renders its page and the feeds, not the home page, listings or sitemap.
    """

    def __init__(self, site: Site, layouts: Path, env: jinja2.Environment) -> None:
        self.site, self.env = site, env
        self.shared = site_signature(site, layouts)
        self._contents: dict[bool, str] = {}
        self._bodies: dict[str, bool] = {}

    def refresh(self) -> None:
        """Forget what was worked out from articles' bodies (after they were changed in place)."""
        self.site.__dict__.pop("stamp", None)
        self._contents.pop(False, None)

    def contents(self, faces: bool = False) -> str:
        if faces not in self._contents:
            self._contents[faces] = contents_signature(self.site, faces)
        return self._contents[faces]

    def shows_bodies(self, template: str) -> bool:
        """Whether a layout, with everything it extends, includes and imports, may show an article's body."""
        if template not in self._bodies:
            self._bodies[template] = _shows_bodies(self.env, template, set())
        return self._bodies[template]

    def page(self, template: str, context: dict[str, Any]) -> str:
        site = self.site
        if "article" in context:  # the most numerous pages: their parts are joined, not repr()'d (3x quicker)
            article = context["article"]
            near = [a.digest + a.url if a else "-" for a in (site.older(article), site.newer(article))]
            parts: Any = "\x1f".join((article.digest, article.url, *near,
                                       *(a.digest + a.url for a in site.related(article))))
        elif "page" in context:
            parts = (context["page"].digest, context["page"].url)
        elif "listing" in context:
            listing = context["listing"]
            author = site.author(listing.title) if listing.kind == "author" else None
            profile = author.profile.digest if author and author.profile else ""
            full = self.shows_bodies(template)
            shown = "\x1f".join((a.digest if full else a.face) + a.url for a in listing.articles)
            parts = (listing.kind, listing.title, listing.description, listing.url, listing.number,
                     listing.page_urls, listing.feed_url, profile, shown, context["current"], context["is_listing"])
        elif "feed" in context and template == "feed.xml" and context["feed"].url != "/feed.xml":
            feed = context["feed"]
            parts = (feed.title, feed.url, feed.home, [(a.digest, a.url) for a in feed.articles])
        else:
            parts = (self.contents(faces=not self.shows_bodies(template)), context["current"], context["is_home"],
                     context["is_listing"])
        return hashlib.sha256(f"{self.shared}\n{template}\n{parts!r}".encode()).hexdigest()

    def readers(self, template: str, context: dict[str, Any]) -> list[str] | None:
        """The articles (by source) whose whole selves, body included, a page's signature takes in; None when
        it takes in every article's (as `page` does: a page that is signed with faces lists none)."""
        site = self.site
        if "article" in context:
            article = context["article"]
            return [a.source for a in (article, site.older(article), site.newer(article), *site.related(article))
                    if a is not None]
        if "page" in context:
            return []
        if "listing" in context:
            return [a.source for a in context["listing"].articles] if self.shows_bodies(template) else []
        if "feed" in context and template == "feed.xml" and context["feed"].url != "/feed.xml":
            return [a.source for a in context["feed"].articles]
        return None if self.shows_bodies(template) else []


_BODY_NAMES = frozenset({"html", "body", "words", "news_article"})


def _shows_bodies(env: jinja2.Environment, name: str, seen: set[str]) -> bool:
    """True unless the layout's syntax tree, and those of the layouts it names, are sure to show no body:
    no attribute, item, string or function named like one (html, body, words, news_article), no item picked
    by a variable, no layout named by a variable. Reading time is not a body: an article's face covers it."""
    if name in seen:
        return False
    seen.add(name)
    try:
        source = env.loader.get_source(env, name)[0] if env.loader else ""
    except jinja2.TemplateError:
        return True
    shows, named = layout_facts(env, source)
    return shows or any(other is None or _shows_bodies(env, other, seen) for _, other, _ in named)


Reference = tuple[int, str | None, bool]  # line, the layout named (None: by a variable), whether it may be missing
_FACTS: dict[str, tuple[bool, list[Reference]]] = {}  # by layout source, for as long as the process lives


def layout_facts(env: jinja2.Environment, source: str) -> tuple[bool, list[Reference]]:
    """Whether a layout's own syntax may show an article's body, and the layouts it extends, includes or
    imports; parsed once per source however many builds ask (an unreadable layout may show anything)."""
    if source not in _FACTS:
        if len(_FACTS) > 500:
            _FACTS.clear()
        try:
            tree = env.parse(source)
        except jinja2.TemplateError:
            return True, []
        _FACTS[source] = (_shows_body_here(tree), list(_references(tree)))
    return _FACTS[source]


def _shows_body_here(tree: nodes.Template) -> bool:
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Const, nodes.Name)):
        if isinstance(node, nodes.Getattr) and node.attr in _BODY_NAMES:
            return True
        if isinstance(node, nodes.Getitem) and not isinstance(node.arg, (nodes.Const, nodes.Slice)) \
                and not isinstance(node.node, nodes.Dict):  # `{...}[key]` picks from the layout's own table
            return True
        if isinstance(node, nodes.Const) and isinstance(node.value, str) and node.value in _BODY_NAMES:
            return True
        if isinstance(node, nodes.Name) and node.name in _BODY_NAMES:
            return True
    return False


def _references(tree: nodes.Template) -> Iterator[Reference]:
    for node in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
        optional = isinstance(node, nodes.Include) and node.ignore_missing
        targets = node.template.items if isinstance(node.template, (nodes.List, nodes.Tuple)) else [node.template]
        for target in targets:
            known = isinstance(target, nodes.Const) and isinstance(target.value, str)
            yield node.lineno, target.value if known else None, optional
