"""What each page is made from, as one hash: a page whose signature did not change is not rendered again."""

from __future__ import annotations

import copy
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes

from .. import __version__
from ..files import STATIC, layout_files
from ..model import Feed, Site
from .cache import Cache


def site_signature(site: Site, layouts: Path) -> str:
    """What every page shares: version, settings, every layout, navigation, pages list and Most Popular (by
    what its stories show without their text: a page whose layouts may show any story's text also signs
    their bodies, see `Signer.page`)."""
    digest = hashlib.sha256(f"{__version__}\n{site.config!r}\n".encode())
    static = os.path.join(layouts, STATIC, "")
    for path, state in layout_files(str(layouts)):
        if state is not None and not path.startswith(static):
            with open(path, "rb") as file:
                digest.update(os.path.relpath(path, layouts).encode() + b"\0" + file.read() + b"\0")
    shared = ([(s.slug, s.name, s.url) for s in site.sections], [(p.digest, p.url) for p in site.pages],
              [(a.face, a.url) for a in site.popular])
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


NONE, OWN, ANY = 0, 1, 2  # what a layout may show of story text: none, its own article's, any article's


class Signer:
    """Signs each page of one build: what it shows, the layouts, and for site-wide pages all the contents.

    Articles count by their faces (what they show without their text) on pages whose layouts can show no
    story's text, and by their own text only on an article page whose layouts show no other's (see
    `shows_bodies`): an edit to a story's text re-renders its page and the feeds, not the home page,
    listings, sitemap or the pages that link to it.
    """

    def __init__(self, site: Site, layouts: Path, env: jinja2.Environment, facts: LayoutFacts) -> None:
        self.site, self.env, self.facts = site, env, facts
        self.shared = site_signature(site, layouts)
        self._contents: dict[bool, str] = {}
        self._bodies: dict[str, int] = {}
        self._popular = ""

    def for_site(self, site: Site) -> Signer:
        """A signer for a site of the same shape with some articles renewed (see model.renewed): what layouts
        show is known already; what was worked out from the articles is worked out again."""
        signer = copy.copy(self)
        signer.site, signer._contents, signer._popular = site, {}, ""
        return signer

    def contents(self, faces: bool = False) -> str:
        if faces not in self._contents:
            self._contents[faces] = contents_signature(self.site, faces)
        return self._contents[faces]

    def shows_bodies(self, template: str) -> int:
        """What story text a layout, with everything it extends, includes and imports, may show: NONE, its
        page's OWN article's, or ANY article's."""
        if template not in self._bodies:
            self._bodies[template] = shows_bodies(self.env, template, self.facts)
        return self._bodies[template]

    def page(self, template: str, context: dict[str, Any]) -> str:
        """The page's signature (see `_parts`)."""
        parts = self._parts(template, context, None, None)
        return hashlib.sha256(f"{self.shared}\n{template}\n{parts!r}".encode()).hexdigest()

    def readers(self, template: str, context: dict[str, Any]) -> tuple[list[str] | None, list[str] | None]:
        """The articles (by source) whose whole selves, text included, a page's signature takes in, and those
        it takes in by their faces; None when it takes in every article's."""
        whole: list[Any] = []
        faces: list[Any] = []
        self._parts(template, context, whole, faces)
        return _sources(whole), _sources(faces)

    def _parts(self, template: str, context: dict[str, Any], whole: list | None, faces: list | None) -> Any:
        """What a page is made from, for its signature; the articles it takes in whole and by their faces go
        into those lists when given (EVERY alone: all of them). One function for both, so that the pages a
        quick rebuild signs again (see resident.py) are exactly those whose signatures would change."""
        site = self.site
        shows = self.shows_bodies(template)
        by_face = whole if shows == ANY else faces  # where the articles a page shows but not whole go
        if "article" in context:  # the most numerous pages: their parts are joined, not repr()'d (3x quicker)
            article = context["article"]
            others = [site.older(article), site.newer(article), *site.related(article)]
            parts: Any = "\x1f".join((article.digest, article.url, *(
                "-" if a is None else (a.digest if shows == ANY else a.face) + a.url for a in others)))
            if whole is not None and by_face is not None:
                whole.append(article)
                by_face.extend(others)
        elif "page" in context:
            parts = (context["page"].digest, context["page"].url)
        elif "listing" in context:
            parts = self._listing_parts(context, shows, by_face)
        elif "feed" in context and template == "feed.xml" and context["feed"].url != "/feed.xml":
            parts = _feed_parts(context["feed"], whole)
        else:
            parts = self._site_wide_parts(context, shows, by_face)
        if shows == ANY:
            if not self._popular:
                self._popular = "\x1f".join(a.digest for a in site.popular)
            parts = (parts, self._popular)
            if whole is not None and whole != [EVERY]:
                whole.extend(site.popular)
        return parts

    def _site_wide_parts(self, context: dict[str, Any], shows: int, by_face: list | None) -> tuple:
        """What a site-wide page (home, sitemaps, main feeds, indexes, 404) is made from: all the contents, so
        it takes in EVERY article."""
        if by_face is not None:
            by_face[:] = [EVERY]
        return (self.contents(faces=shows != ANY), context["current"], context["is_home"], context["is_listing"])

    def _listing_parts(self, context: dict[str, Any], shows: int, by_face: list | None) -> tuple:
        """What a listing page is made from: the listing, its reporter's profile and its articles (whole when
        the layouts may show any story's text, else by their faces, which go into `by_face` when given)."""
        listing = context["listing"]
        author = self.site.author(listing.title) if listing.kind == "author" else None
        profile = author.profile.digest if author and author.profile else ""
        shown = "\x1f".join((a.digest if shows == ANY else a.face) + a.url for a in listing.articles)
        if by_face is not None:
            by_face.extend(listing.articles)
        return (listing.kind, listing.title, listing.description, listing.url, listing.number,
                listing.page_urls, listing.feed_url, profile, shown, context["current"], context["is_listing"])


def _feed_parts(feed: Feed, whole: list | None) -> tuple:
    """What a section's or reporter's feed is made from: its articles whole (they go into `whole` when given)."""
    if whole is not None:
        whole.extend(feed.articles)
    return (feed.title, feed.url, feed.home, [(a.digest, a.url) for a in feed.articles])


EVERY = object()  # in a list of the articles a page takes in: all of them


def _sources(found: list[Any]) -> list[str] | None:
    return None if found == [EVERY] else [a.source for a in found if a is not None]


_BODY_NAMES = frozenset({"html", "body", "words", "news_article"})


def shows_bodies(env: jinja2.Environment, name: str, facts: LayoutFacts, seen: dict[str, int] | None = None) -> int:
    """What story text a layout may show (NONE, OWN or ANY), from its syntax tree and those of the layouts it
    names (see LayoutFacts.of). A layout named by a variable may show anything."""
    seen = {} if seen is None else seen
    if name in seen:
        return seen[name]  # NONE while it is being looked at: a cycle adds nothing
    seen[name] = NONE
    try:
        source = env.loader.get_source(env, name)[0] if env.loader else ""
    except jinja2.TemplateError:
        seen[name] = ANY
        return ANY
    shows, named, elsewhere = facts.of(env, source)
    for index, (_, other, _) in enumerate(named):
        if shows == ANY:
            break
        theirs = ANY if other is None else shows_bodies(env, other, facts, seen)
        shows = max(shows, ANY if theirs == OWN and index in elsewhere else theirs)
    seen[name] = shows
    return shows


Reference = tuple[int, str | None, bool]  # line, the layout named (None: by a variable), whether it may be missing
Facts = tuple[int, list[Reference], set[int]]  # what text it shows, what it names, which of those see another article
FACTS_KEY = "layout-facts-2"  # the build cache's copy, for the next build (parsing every layout costs 0.2 s)


class LayoutFacts:
    """What each layout's syntax shows and names (see `of`), by a hash of its source: parsed once however
    many pages ask, and kept in the build cache for the next build."""

    def __init__(self, known: dict[str, Facts] | None = None) -> None:
        self.known: dict[str, Facts] = dict(known or {})

    @classmethod
    def recall(cls, cache: Cache) -> LayoutFacts:
        """What the build cache knows of layouts (from an earlier build)."""
        known = cache.get_many([FACTS_KEY]).get(FACTS_KEY)
        return cls(known if isinstance(known, dict) else None)

    def of(self, env: jinja2.Environment, source: str) -> Facts:
        """What story text a layout's own syntax may show (NONE, OWN, ANY), the layouts it extends, includes
        or imports, and which of those (by place in that list) it renders where `article` names another
        story (an unreadable layout may show anything)."""
        key = hashlib.sha256(source.encode()).hexdigest()
        if key not in self.known:
            try:
                tree = env.parse(source)
            except jinja2.TemplateError:
                return ANY, [], set()
            self.known[key] = _facts(tree)
        return self.known[key]

    def keep(self, cache: Cache, layouts: list[str]) -> None:
        """Put in the build cache what is known of these layouts' sources (when it is not there already)."""
        keys = {hashlib.sha256(source.encode()).hexdigest() for source in layouts}
        known = {key: self.known[key] for key in keys if key in self.known}
        if cache.get_many([FACTS_KEY]).get(FACTS_KEY) != known:
            cache.put(FACTS_KEY, known)


_SCOPES = (nodes.For, nodes.Macro, nodes.CallBlock, nodes.With)  # a name bound here is bound inside only
_BINDINGS = (*_SCOPES, nodes.Assign, nodes.AssignBlock, nodes.FromImport, nodes.Import)


def _facts(tree: nodes.Template) -> Facts:
    """See LayoutFacts.of. Text is shown through an attribute, item, string or name like html, body, words or
    news_article (an item picked by a variable could be any of them). It is the page's own when it is
    `article.<that>` or `news_article(article)` in a layout that never gives `article` another value (a
    loop, a macro's argument, a set, an import); a layout it renders inside such a loop or macro, or any
    layout when `article` is set at the top, sees another story."""
    binders = [node for node in tree.find_all(_BINDINGS) if _binds(node, "article")]
    everywhere = any(not isinstance(node, _SCOPES) for node in binders)
    inside = {id(n) for node in binders if isinstance(node, _SCOPES) for n in node.find_all(nodes.Node)}
    references = list(_references(tree))
    nodes_named = [node for node in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport))
                   for _ in _targets(node)]
    elsewhere = {i for i, node in enumerate(nodes_named) if everywhere or id(node) in inside}
    if any(isinstance(n, nodes.Block) for node in binders for n in node.find_all(nodes.Block)) or \
            everywhere and tree.find(nodes.Block) is not None:
        return ANY, references, elsewhere  # a block filled in by a layout that extends this one sees another
    own = {id(call.node) for call in tree.find_all(nodes.Call)
           if isinstance(call.node, nodes.Name) and call.node.name == "news_article" and len(call.args) == 1
           and isinstance(call.args[0], nodes.Name) and call.args[0].name == "article"
           and not call.kwargs and call.dyn_args is None and call.dyn_kwargs is None}
    shows = NONE
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Const, nodes.Name)):
        if isinstance(node, nodes.Getattr) and node.attr in _BODY_NAMES:
            if not binders and isinstance(node.node, nodes.Name) and node.node.name == "article":
                shows = OWN
                continue
            return ANY, references, elsewhere
        if isinstance(node, nodes.Getitem) and not isinstance(node.arg, (nodes.Const, nodes.Slice)) \
                and not isinstance(node.node, nodes.Dict):  # `{...}[key]` picks from the layout's own table
            return ANY, references, elsewhere
        if isinstance(node, nodes.Const) and isinstance(node.value, str) and node.value in _BODY_NAMES:
            return ANY, references, elsewhere
        if isinstance(node, nodes.Name) and node.name in _BODY_NAMES:
            if not binders and id(node) in own:
                shows = OWN
                continue
            return ANY, references, elsewhere
    return shows, references, elsewhere


def _binds(node: nodes.Node, name: str) -> bool:
    """Whether a statement gives `name` a value of its own (an import binds its alias or its names)."""
    if isinstance(node, nodes.Macro | nodes.CallBlock):
        return any(arg.name == name for arg in node.args)
    if isinstance(node, nodes.FromImport):
        return any((item[1] if isinstance(item, tuple) else item) == name for item in node.names)
    if isinstance(node, nodes.Import):
        return node.target == name
    if isinstance(node, nodes.With):
        return any(target.name == name for target in node.targets if isinstance(target, nodes.Name))
    target = node.target
    return any(n.name == name for n in ([target] if isinstance(target, nodes.Name) else target.find_all(nodes.Name)))


def _targets(node: nodes.Node) -> list[nodes.Node]:
    return node.template.items if isinstance(node.template, (nodes.List, nodes.Tuple)) else [node.template]


def _references(tree: nodes.Template) -> Iterator[Reference]:
    for node in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
        optional = isinstance(node, nodes.Include) and node.ignore_missing
        for target in _targets(node):
            known = isinstance(target, nodes.Const) and isinstance(target.value, str)
            yield node.lineno, target.value if known else None, optional
