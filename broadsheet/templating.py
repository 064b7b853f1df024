"""The layouts' Jinja2 environment: every template compiled and checked up front, and the helpers and
filters layouts use (links under the base path, dates, share pictures, schema.org data, cached macros)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jinja2

from . import bodies
from .errors import Problem, display_path
from .files import is_layout
from .incremental.cache import Cache
from .incremental.signatures import LayoutFacts
from .model import Site, entry_id
from .records import Article

if TYPE_CHECKING:
    from .config import Config

class SiteView:
    """The site the layouts see as `site`: the build's own, or, after an edit in place, the renewed one (see
    render.Plan.renewed). A partial imported without context keeps the globals it was made with, so it
    keeps this view, which follows the renewal."""

    __slots__ = ("site",)

    def __init__(self, site: Site) -> None:
        self.site = site

    def __getattr__(self, name: str) -> Any:
        return getattr(self.site, name)


class Layouts(jinja2.Environment):
    """The Jinja2 environment of a build's layouts. An article's `html` (its body, which the record holds
    only by key) is read from the build's store when a layout asks for it; what each layout shows and
    names is known from `facts`."""

    def __init__(self, folder: Path, cache: Cache) -> None:
        super().__init__(loader=jinja2.FileSystemLoader(folder),
                         autoescape=jinja2.select_autoescape(["html", "htm", "xml"]), undefined=jinja2.StrictUndefined,
                         trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, auto_reload=False,
                         bytecode_cache=cache.templates())
        self.bodies = bodies.Bodies(cache)
        self.facts = LayoutFacts.recall(cache)
        self.view: SiteView | None = None  # (see make_environment)

    def use(self, cache: Cache) -> None:
        """Read the article bodies from this build's cache (a long-lived process renders again with an
        environment an earlier build made)."""
        self.bodies = bodies.Bodies(cache)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """obj.attribute, as Jinja2 looks it up; an article's body by its key (only when asked for)."""
        try:
            return getattr(obj, attribute)
        except AttributeError:
            if attribute == "html" and type(obj) is Article:
                return self.bodies.html(obj.body)
            if type(obj) is SiteView:  # (a layout's error names the site, as it always has)
                obj = obj.site
        try:
            return obj[attribute]
        except (TypeError, LookupError, AttributeError):
            return self.undefined(obj=obj, name=attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        """obj[argument], as Jinja2 looks it up (see getattr)."""
        if argument == "html" and type(obj) is Article:
            return self.bodies.html(obj.body)
        return super().getitem(obj.site if type(obj) is SiteView else obj, argument)



RTL_LANGUAGES = frozenset({"ar", "arc", "ckb", "dv", "fa", "he", "ku", "ps", "sd", "ug", "ur", "yi"})
REQUIRED_LAYOUTS = ("base.html", "article.html", "page.html", "index.html", "list.html", "404.html", "tags.html",
                    "authors.html", "archive.html", "search.html", "feed.xml", "rss.xml", "sitemap.xml",
                    "news-sitemap.xml", "robots.txt")
_LINK = re.compile(r'(\s(?:href|src)=")([^"]*)"')


def make_environment(site: Site, layouts: Path, problems: list[Problem], cache: Cache) -> Layouts:
    """The Jinja2 environment over layouts/ (compiled layouts kept in the cache), every template compiled
    and checked up front."""
    env = Layouts(layouts, cache)
    url, absolute_url, absolute_links = _links(site.config)
    env.view = SiteView(site)
    share_image, news_article = _sharing(env.view, absolute_url)
    env.globals.update(site=env.view, config=site.config, url=url, absolute_url=absolute_url, share_image=share_image,
                       cached=cached,
                       news_article=news_article, newest=newest, news_language=news_language,
                       entry_id=lambda article: entry_id(site.config, article))
    env.filters.update(url=url, absolute_url=absolute_url, absolute_links=absolute_links, direction=direction,
                       date=lambda value, fmt=None: format_date(value, fmt or site.config.date_format),
                       isoformat=lambda value: value.isoformat(), rfc822=format_datetime)
    _compile_all(env, layouts, problems)
    return env


def _links(config: Config) -> tuple[Callable[[Any], str], Callable[[Any], str], Callable[[str, Any], str]]:
    """The layouts' url, absolute_url and absolute_links under the site's address (closures over it: they
    run for every link of every page)."""
    base_path = config.base_path
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(config.base_url))

    def url(target: Any) -> str:
        """A link to a site path or record, under the base path (absolute URLs pass through)."""
        path = target if isinstance(target, str) else target.url
        if path.startswith("//") or not path.startswith("/") and urlsplit(path).scheme:
            return path
        return base_path + path.lstrip("/")

    def absolute_url(target: Any) -> str:
        """A full URL with scheme and host, for feeds, sitemaps and share metadata."""
        link = url(target)
        return link if link.startswith("//") or urlsplit(link).scheme else origin + link

    def absolute_links(html: str, page: Any) -> str:
        """Rendered HTML with every site link made absolute (feed readers break on relative ones)."""
        here = absolute_url(page)
        return _LINK.sub(lambda m: m[1] + (here + m[2] if m[2].startswith("#") else
                                           origin + m[2] if m[2].startswith("/") and not m[2].startswith("//")
                                           else m[2]) + '"', html)

    return url, absolute_url, absolute_links


def _sharing(site: SiteView, absolute_url: Callable[[Any], str]) -> tuple[Callable[..., str], Callable[..., dict]]:
    """The layouts' share_image and news_article: what a page's share metadata and schema.org data say."""

    def share_image(article: Any = None) -> str:
        """The picture to share for a page: the article's own, else the site's default_image, else ''."""
        src = article.image.src if article is not None and article.image and article.image.src else ""
        src = src or site.config.default_image
        return absolute_url(src) if src else ""

    def news_article(article: Any) -> dict[str, Any]:
        """schema.org NewsArticle for an article page (printed with |tojson)."""
        return news_article_data(site, article, absolute_url, share_image(article))

    return share_image, news_article


_MISSING = object()
MEMO_LIMIT = 50_000  # outputs a cached macro keeps (each process of a build has its own)


def cached(macro: Callable[..., Any]) -> Callable[..., Any]:
    """A macro that renders once per build for the same arguments (`{% set card = cached(card) %}`).

    Only for a macro whose output depends on nothing but its arguments and the site (a macro in a partial
    imported without context, like the card every listing shows a dozen times per article)."""
    memo: dict[Any, Any] = {}

    def call(*args: Any, **kwargs: Any) -> Any:
        key = (args, tuple(sorted(kwargs.items())))
        try:
            found = memo.get(key, _MISSING)  # (hashing a story hashes every field: once per call, not four times)
        except TypeError:
            return macro(*args, **kwargs)
        if found is _MISSING:
            if len(memo) >= MEMO_LIMIT:
                memo.clear()
            found = memo[key] = macro(*args, **kwargs)
        return found

    return call


def layout_names(env: jinja2.Environment) -> list[str]:
    """The layouts (not the files of layouts/static/), by their names under layouts/."""
    return env.list_templates(filter_func=is_layout)


def _compile_all(env: Layouts, layouts: Path, problems: list[Problem]) -> None:
    names = layout_names(env)
    for name in REQUIRED_LAYOUTS:
        if name not in names:
            problems.append(Problem(display_path(layouts / name, layouts.parent), message="layout is missing",
                                    hint="every site needs " + ", ".join(REQUIRED_LAYOUTS)))
    for name in names:
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            shown = display_path(layouts / name, layouts.parent)
            problems.append(Problem(shown, exc.lineno or 0, 0, exc.message or "syntax error"))
            continue
        _check_references(env, name, names, layouts, problems)


def _check_references(env: Layouts, name: str, names: list[str], layouts: Path,
                      problems: list[Problem]) -> None:
    """A layout that extends, includes or imports a layout by a name that is not there is an error before
    any page is rendered (else it would surface only on the first page that uses it, or never)."""
    source = env.loader.get_source(env, name)[0] if env.loader else ""
    for line, target, optional in env.facts.of(env, source)[1]:
        if target is not None and not optional and target not in names:
            problems.append(Problem(display_path(layouts / name, layouts.parent), line, 0,
                                    f"template '{target}' not found"))


def direction(language: str) -> str:
    """'rtl' for languages written right to left, else 'ltr'."""
    return "rtl" if language.split("-")[0].lower() in RTL_LANGUAGES else "ltr"


def format_date(value: datetime, fmt: str) -> str:
    """strftime with portable no-padding codes (%-d, %-H, %-I, %-m)."""
    for code, number in (("%-d", value.day), ("%-m", value.month), ("%-H", value.hour),
                         ("%-I", value.hour % 12 or 12)):
        fmt = fmt.replace(code, str(number))
    return value.strftime(fmt)


def news_article_data(site: Site | SiteView, article: Any, absolute_url: Any, image: str) -> dict[str, Any]:
    """The JSON-LD record Google and others read for a news article."""
    config = site.config
    data: dict[str, Any] = {
        "@context": "https://schema.org", "@type": "NewsArticle", "headline": article.title,
        "description": article.summary, "url": absolute_url(article), "mainEntityOfPage": absolute_url(article),
        "datePublished": article.date.isoformat(), "dateModified": (article.modified or article.date).isoformat(),
        "articleSection": site.section(article.section).name, "inLanguage": article.lang or config.language,
        "wordCount": article.words,
    }
    if image:
        data["image"] = [image]
    if article.authors:
        data["author"] = [{"@type": "Person", "name": name, "url": absolute_url(site.author(name))}
                          for name in article.authors]
    publisher: dict[str, Any] = {"@type": "Organization", "name": config.title, "url": absolute_url("/")}
    if config.logo:
        publisher["logo"] = {"@type": "ImageObject", "url": absolute_url(config.logo)}
    data["publisher"] = publisher
    if article.tags:
        data["keywords"] = list(article.tags)
    if article.expires:
        data["expires"] = article.expires.isoformat()
    return data


def newest(articles: Any) -> datetime:
    """The latest publication or change among articles (a fixed moment when there are none, never 'now')."""
    moments = [a.modified or a.date for a in articles]
    return max(moments) if moments else datetime(1970, 1, 1, tzinfo=UTC)


def news_language(language: str) -> str:
    """ISO 639 code for Google News: 'en-GB' -> 'en', with its zh-cn / zh-tw exceptions."""
    code = language.lower()
    return code if code in ("zh-cn", "zh-tw") else code.split("-")[0]
