"""Site -> Output(path, bytes) through the Jinja2 layouts; filters are registered here."""

from __future__ import annotations

import contextlib
import multiprocessing
import re
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jinja2

from .content import start_worker
from .errors import BuildError, Problem, display_path
from .incremental.signatures import Signer, layout_facts
from .model import FIXED_PAGES, Site, output_path

if TYPE_CHECKING:
    from .config import Config
    from .write import Stage

RTL_LANGUAGES = {"ar", "arc", "ckb", "dv", "fa", "he", "ku", "ps", "sd", "ug", "ur", "yi"}
REQUIRED_LAYOUTS = ("base.html", "article.html", "page.html", "index.html", "list.html", "404.html", "tags.html",
                    "authors.html", "archive.html", "search.html", "feed.xml", "rss.xml", "sitemap.xml",
                    "news-sitemap.xml", "robots.txt")
_LINK = re.compile(r'(\s(?:href|src)=")([^"]*)"')


@dataclass(frozen=True)
class Output:
    """One file of the finished site; data None means "as in the previous build", unless `placed` says a
    worker process put it in the stage of the build already (True: written, False: linked from the
    previous build, see write.Stage)."""

    path: str
    data: bytes | None
    placed: bool | None = None


def make_environment(site: Site, layouts: Path, problems: list[Problem],
                     bytecode: jinja2.BytecodeCache | None = None) -> jinja2.Environment:
    """The Jinja2 environment over layouts/, with every template compiled up front."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(layouts),
        autoescape=jinja2.select_autoescape(["html", "htm", "xml"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
        bytecode_cache=bytecode,
    )
    url, absolute_url, absolute_links = _links(site.config)
    share_image, news_article = _sharing(site, absolute_url)
    env.globals.update(site=site, config=site.config, url=url, absolute_url=absolute_url, share_image=share_image,
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
        return origin + link if link.startswith("/") and not link.startswith("//") or not urlsplit(link).scheme \
            else link

    def absolute_links(html: str, page: Any) -> str:
        """Rendered HTML with every site link made absolute (feed readers break on relative ones)."""
        here = absolute_url(page)
        return _LINK.sub(lambda m: m[1] + (here + m[2] if m[2].startswith("#") else
                                           origin + m[2] if m[2].startswith("/") and not m[2].startswith("//")
                                           else m[2]) + '"', html)

    return url, absolute_url, absolute_links


def _sharing(site: Site, absolute_url: Callable[[Any], str]) -> tuple[Callable[..., str], Callable[..., dict]]:
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
    """The layouts (not the files of layouts/static/)."""
    return env.list_templates(filter_func=lambda n: n.endswith((".html", ".xml", ".txt"))
                              and not n.startswith("static/"))


def _compile_all(env: jinja2.Environment, layouts: Path, problems: list[Problem]) -> None:
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


def _check_references(env: jinja2.Environment, name: str, names: list[str], layouts: Path,
                      problems: list[Problem]) -> None:
    """A layout that extends, includes or imports a layout by a name that is not there is an error before
    any page is rendered (else it would surface only on the first page that uses it, or never)."""
    source = env.loader.get_source(env, name)[0] if env.loader else ""
    for line, target, optional in layout_facts(env, source)[1]:
        if target is not None and not optional and target not in names:
            problems.append(Problem(display_path(layouts / name, layouts.parent), line, 0,
                                    f"template '{target}' not found"))


def render(site: Site, env: jinja2.Environment, layouts: Path, problems: list[Problem],
           before: dict[str, str] | None = None, after: dict[str, str] | None = None,
           timings: dict[str, float] | None = None, jobs: int = 1, kept: dict[str, Any] | None = None,
           stage: Stage | None = None, meanwhile: Callable[[], None] | None = None) -> Iterator[Output]:
    """Every page of the site; a page whose signature is in `before` (and still on disk) is not rendered again.

    The signatures of this build go into `after`. Many pages are rendered in worker processes, with the same
    bytes as in one. Template errors are reported once per template line. With `kept`, what a later build
    needs to re-render only the pages an edit touches goes into it (see `rerender`). With a `stage` that is
    open when rendering starts (a full build's, see write.Stage), the worker processes put the pages there
    themselves, and only which were written comes back. `meanwhile` is other work for this process, done
    while the workers render (called once, as rendering starts; not at all when every page is as it was, so
    the caller does it then).
    """
    signer = Signer(site, layouts, env)
    pages = list(_pages(site))
    whole = f"{signer.shared}:{signer.contents()}:{len(pages)}"
    if after is not None:
        after[WHOLE_SITE] = whole
    paths = [output_path(url) for _, url, _, _ in pages]
    if kept is None and before and before.get(WHOLE_SITE) == whole and all(path in before for path in paths):
        # Nothing any page is made from has changed (and every page is still on disk): nothing to render.
        for path in paths:
            if after is not None:
                after[path] = before[path]
            yield Output(path, None)
        return
    if kept is not None:  # which pages take in each article (whole, or by its face; None: every article)
        readers: tuple[dict[str, list[int]], dict[str, list[int]]] = ({}, {})
        everyone: tuple[list[int], list[int]] = ([], [])
        for index, (template, _, _, context) in enumerate(pages):
            for kind, sources in enumerate(signer.readers(template, context)):
                if sources is None:
                    everyone[kind].append(index)
                for source in sources or ():
                    readers[kind].setdefault(source, []).append(index)
        own = {context["article"].source: index for index, (_, _, _, context) in enumerate(pages)
               if "article" in context}
        kept.update(signer=signer, pages=pages, paths=paths, readers=readers, everyone=everyone, own=own)
    yield from _signed(signer, env, layouts, pages, paths, range(len(pages)), problems, before, after, timings,
                       jobs, stage, meanwhile)


def rerender(kept: dict[str, Any], sources: set[str], faces: set[str], layouts: Path, problems: list[Problem],
             before: dict[str, str], after: dict[str, str], timings: dict[str, float], jobs: int) -> list[Output]:
    """The pages (of a site `render` kept) whose signatures take in these articles (`faces`: those whose
    faces changed too), signed again and rendered where they changed; after an edit that changed only those
    articles, in place, and left the site's shape as it was."""
    signer: Signer = kept["signer"]
    signer.refresh()
    pages, paths = kept["pages"], kept["paths"]
    for source in faces:  # a new headline may have given the story a new address
        index = kept["own"].get(source)
        if index is not None:
            template, _, shown, context = pages[index]
            pages[index] = (template, context["article"].url, shown, context)
            paths[index] = output_path(context["article"].url)
    after[WHOLE_SITE] = f"{signer.shared}:{signer.contents()}:{len(pages)}"
    (whole, by_face), (all_whole, all_faces) = kept["readers"], kept["everyone"]
    indexes = {*all_whole, *(i for source in sources for i in whole.get(source, ()))}
    if faces:
        indexes |= {*all_faces, *(i for source in faces for i in by_face.get(source, ()))}
    indexes = sorted(indexes)
    return list(_signed(signer, signer.env, layouts, pages, paths, indexes, problems, before, after, timings,
                        jobs))


def render_first(site: Site, env: jinja2.Environment, layouts: Path, paths: frozenset[str]) -> dict[str, bytes]:
    """The pages at these output paths, by path, rendered ahead of all others (the preview shows its open tabs
    these while the rest is made); a page whose layout fails is left out (the build reports it)."""
    found = {}
    for page in _pages(site):
        path = output_path(page[1])
        if path in paths:
            result = _render_one(env, layouts, page)
            if isinstance(result, bytes):
                found[path] = result
    return found


def _signed(signer: Signer, env: jinja2.Environment, layouts: Path, pages: list, paths: list[str],
            indexes: Iterable[int], problems: list[Problem], before: dict[str, str] | None,
            after: dict[str, str] | None, timings: dict[str, float] | None, jobs: int,
            stage: Stage | None = None, meanwhile: Callable[[], None] | None = None) -> Iterator[Output]:
    """The pages at indexes: signed, and rendered unless `before` holds the same signature (with no `before`,
    every page is rendered, and signed while the workers render it)."""
    todo = []
    if before:
        for index in indexes:
            signature = _sign(signer, pages, paths, index, after)
            if signature and before.get(paths[index]) == signature:
                yield Output(paths[index], None)
            else:
                todo.append(index)
    else:
        todo = list(indexes)
        if after is not None:
            meanwhile = _then(lambda: [_sign(signer, pages, paths, index, after) for index in todo], meanwhile)
    seen: dict[tuple[str, int, str], int] = {}
    results = _rendered(env, layouts, pages, todo, jobs, stage, meanwhile)
    while True:
        started = perf_counter()
        index, result = next(results, (-1, b""))
        if timings is not None:
            timings["render"] = timings.get("render", 0.0) + perf_counter() - started
        if index < 0:
            return
        template, url, source, _ = pages[index]
        if isinstance(result, bytes):
            yield Output(output_path(url), result)
        elif isinstance(result, bool):
            yield Output(output_path(url), None, placed=result)
        else:
            _report(result, layouts, source, seen, problems)


def _sign(signer: Signer, pages: list, paths: list[str], index: int, after: dict[str, str] | None) -> str:
    """The signature of the page at index, noted in `after`."""
    template, _, _, context = pages[index]
    signature = signer.page(template, context)
    if signature and after is not None:
        after[paths[index]] = signature
    return signature


def _then(first: Callable[[], Any], then: Callable[[], None] | None) -> Callable[[], None]:
    def both() -> None:
        first()
        if then is not None:
            then()
    return both


PARALLEL_PAGES = 200
WHOLE_SITE = "pages/"  # the signature key of everything every page is made from (ends with "/": not a file)
_job: tuple[jinja2.Environment, Path, list, Stage | None] | None = None


def _rendered(env: jinja2.Environment, layouts: Path, pages: list, todo: list[int], jobs: int,
              stage: Stage | None = None, meanwhile: Callable[[], None] | None = None
              ) -> Iterator[tuple[int, bytes | bool | tuple[str, int, str]]]:
    """(index, html bytes or the error) for each page to render: in worker processes when there are many,
    which put each page in the stage themselves when it is open (then: whether it was written). This
    process does `meanwhile` once they have started (or first, when it renders the pages itself)."""
    if jobs < 2 or len(todo) < PARALLEL_PAGES or "fork" not in multiprocessing.get_all_start_methods():
        if meanwhile is not None:
            meanwhile()
        for index in todo:
            yield index, _render_one(env, layouts, pages[index])
        return
    global _job
    _job = (env, layouts, pages, stage if stage is not None and stage.folder is not None else None)
    chunks = [todo[i:i + 32] for i in range(0, len(todo), 32)]  # the forked workers inherit _job
    try:
        with multiprocessing.get_context("fork").Pool(jobs, start_worker) as pool:
            if _job[3] is not None:
                _job[3].stop = pool.terminate  # no worker writes on once the build has let go of the stage
            results = pool.imap(_render_chunk, chunks)  # (the workers start on them now)
            if meanwhile is not None:
                meanwhile()
            for done in results:
                yield from done
    finally:
        _job = None


def _render_chunk(indexes: list[int]) -> list[tuple[int, bytes | bool | tuple[str, int, str]]]:
    assert _job is not None
    env, layouts, pages, stage = _job
    done: list[tuple[int, bytes | bool | tuple[str, int, str]]] = []
    for index in indexes:
        result = _render_one(env, layouts, pages[index])
        if stage is not None and isinstance(result, bytes):
            with contextlib.suppress(BuildError):  # (a refused path: the build's process reports it)
                result = stage.place(output_path(pages[index][1]), result)
        done.append((index, result))
    return done


def _render_one(env: jinja2.Environment, layouts: Path, page: tuple) -> bytes | tuple[str, int, str]:
    """A page's bytes, or (layout file, line, message) when its layout fails."""
    template, _, _, context = page
    try:
        return env.get_template(template).render(context).encode("utf-8")
    except Exception as exc:  # noqa: BLE001 -- layouts are user code; any failure is theirs
        return _describe(exc, template, layouts)


def _pages(site: Site) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(template, url, source shown in errors, context) for every page, in a stable order."""
    for template, url in (("index.html", "/"), ("404.html", "/404.html"), ("search.html", "/search/"),
                          ("tags.html", "/tags/"), ("authors.html", "/authors/"), ("archive.html", "/archive/"),
                          ("sitemap.xml", "/sitemap.xml"), ("news-sitemap.xml", "/news-sitemap.xml"),
                          ("robots.txt", "/robots.txt")):
        current = url.strip("/") if url.endswith("/") else ""
        yield template, url, FIXED_PAGES[url], _context(current, url == "/", url.endswith("/"))
    for feed in site.feeds:
        yield "feed.xml", feed.url, f"the feed {feed.url}", _context(feed=feed)
    yield "rss.xml", "/rss.xml", FIXED_PAGES["/rss.xml"], _context(feed=site.feeds[0])
    for article in site.articles:
        yield "article.html", article.url, article.source, _context(article=article, current=article.section)
    for page in site.pages:
        yield "page.html", page.url, page.source, _context(page=page)
    for listing in site.listings:
        current = listing.url.strip("/").split("/")[0] if listing.kind == "section" else ""
        yield "list.html", listing.url, f"the {listing.kind} page {listing.url}", _context(
            listing=listing, current=current, is_listing=listing.number == 1)


def _context(current: str = "", is_home: bool = False, is_listing: bool = False, **records: Any) -> dict[str, Any]:
    """Every template sees `current` (the section slug being shown) and what kind of page it is."""
    return {"current": current, "is_home": is_home, "is_listing": is_listing, **records}


def direction(language: str) -> str:
    """'rtl' for languages written right to left, else 'ltr'."""
    return "rtl" if language.split("-")[0].lower() in RTL_LANGUAGES else "ltr"


def _describe(exc: Exception, template: str, layouts: Path) -> tuple[str, int, str]:
    name, line = _template_position(exc, layouts, template)
    message = exc.message if isinstance(exc, jinja2.TemplateError) and exc.message else str(exc)
    if isinstance(exc, jinja2.TemplateNotFound):
        message = f"template '{exc.name}' not found"
    elif not isinstance(exc, jinja2.TemplateError):
        message = f"{type(exc).__name__}: {message}"
    return name, line, message


def _report(error: tuple[str, int, str], layouts: Path, source: str, seen: dict[tuple[str, int, str], int],
            problems: list[Problem]) -> None:
    seen[error] = seen.get(error, 0) + 1
    if seen[error] == 1:
        name, line, message = error
        shown = display_path(layouts / name, layouts.parent)
        problems.append(Problem(shown, line, 0, f"{message} (while rendering {source})"))


def _template_position(exc: Exception, layouts: Path, fallback: str) -> tuple[str, int]:
    """The innermost layout file and line in the traceback (Jinja2 rewrites frames to template lines)."""
    root = str(layouts.resolve())
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename and str(Path(frame.filename).resolve()).startswith(root + "/"):
            return Path(frame.filename).resolve().relative_to(root).as_posix(), frame.lineno or 0
    return fallback, 0


def format_date(value: datetime, fmt: str) -> str:
    """strftime with portable no-padding codes (%-d, %-H, %-I, %-m)."""
    for code, number in (("%-d", value.day), ("%-m", value.month), ("%-H", value.hour),
                         ("%-I", value.hour % 12 or 12)):
        fmt = fmt.replace(code, str(number))
    return value.strftime(fmt)


def news_article_data(site: Site, article: Any, absolute_url: Any, image: str) -> dict[str, Any]:
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


def entry_id(config: Any, article: Any) -> str:
    """A feed id that never changes with the slug or permalink: the front matter `id`, else a tag: URI."""
    if ":" in article.id:
        return article.id
    host = urlsplit(config.base_url).hostname or "localhost"
    return f"tag:{host},{article.date.date().isoformat()}:{article.id or article.path}"


def news_language(language: str) -> str:
    """ISO 639 code for Google News: 'en-GB' -> 'en', with its zh-cn / zh-tw exceptions."""
    code = language.lower()
    return code if code in ("zh-cn", "zh-tw") else code.split("-")[0]
