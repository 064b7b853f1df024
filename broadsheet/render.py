"""Site -> Output(path, bytes): every page of a site, signed, and rendered through the layouts where its
signature changed (in worker processes when there are many)."""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from time import perf_counter
from typing import Any, Protocol

import jinja2

from . import workers
from .errors import BuildError, Problem, display_path
from .incremental.cache import CacheDamaged
from .incremental.signatures import Signer
from .model import FIXED_PAGES, Site, output_path
from .records import Output
from .templating import Layouts


@dataclass(frozen=True)
class Page:
    """One page to render: its layout, its address, what an error names it by, and what its layout sees."""

    template: str
    url: str
    source: str
    context: dict[str, Any]


@dataclass
class Plan:
    """Every page of one site in a stable order, with its output path, and what signs them. A quick rebuild
    (see live/) updates a page's address here after a new headline moved its story."""

    signer: Signer
    pages: list[Page]
    paths: list[str]

    def whole(self) -> str:
        """The signature of everything every page is made from (kept under WHOLE_SITE)."""
        return f"{self.signer.shared}:{self.signer.contents()}:{len(self.pages)}"

    def renewed(self, site: Site, swapped: dict[int, Any], readers: Readers, sources: Iterable[str]) -> Plan:
        """The plan of a site of the same shape with some articles (by source) renewed (see model.renewed):
        each page that takes one in (see Readers) sees the renewed records, and the layouts see the renewed
        site."""
        pages = list(self.pages)
        taking = {i for source in sources for table in (readers.whole, readers.by_face) for i in table.get(source, ())}
        for at in taking.union(readers.every_whole, readers.every_face):
            page = self.pages[at]
            context = page.context  # (a page shows at most one record: an article, a listing or a feed)
            value = context.get("article") or context.get("listing") or context.get("feed")
            if value is not None and id(value) in swapped:
                name = next(key for key in ("article", "listing", "feed") if context.get(key) is value)
                pages[at] = replace(page, context={**context, name: swapped[id(value)]})
        if self.signer.env.view is not None:
            self.signer.env.view.site = site  # (the layouts' `site`, see templating.SiteView)
        return Plan(self.signer.for_site(site), pages, list(self.paths))

    def moved(self, index: int) -> None:
        """The page at index shows its article at the article's address now."""
        page = self.pages[index]
        self.pages[index] = replace(page, url=page.context["article"].url)
        self.paths[index] = output_path(page.context["article"].url)


@dataclass(frozen=True)
class Readers:
    """Which pages (by place in the plan) take in each article, by its source: `whole` (its text too) or
    `by_face` (what it shows without its text); the pages that take in every article either way; and the
    page of each article itself."""

    whole: dict[str, list[int]]
    by_face: dict[str, list[int]]
    every_whole: list[int]
    every_face: list[int]
    own: dict[str, int]


@dataclass
class Work:
    """What rendering needs besides the pages, and where it notes what it found and did: problems, this
    build's signatures (`after`), and its time."""

    layouts: Path
    problems: list[Problem]
    before: dict[str, str]  # the signatures of the pages on disk: a page signed the same is not rendered
    after: dict[str, str]
    timings: dict[str, float]
    jobs: int = 1
    rendered: int = 0  # pages rendered so far (the others were as the previous build left them)


class Placer(Protocol):
    """Where worker processes put the pages they render themselves (a full build's stage, see write.Stage)."""

    def is_open(self) -> bool:
        """Whether pages can be put there now."""

    def place(self, path: str, data: bytes) -> bool:
        """Put one page there: True when written, False when linked from the previous build."""

    def on_close(self, stop: Callable[[], None]) -> None:
        """Call `stop` when the build lets go of it (no worker writes on after that)."""


@dataclass(frozen=True)
class Failure:
    """A layout that failed to render a page: its file, line and message."""

    layout: str
    line: int
    message: str


@dataclass(frozen=True)
class Rendered:
    """A page rendered: its bytes, or whether a worker put it in the stage itself, or how its layout failed."""

    data: bytes | None = None
    placed: bool | None = None
    failure: Failure | None = None


def plan(site: Site, env: Layouts, layouts: Path) -> Plan:
    """Every page of the site, to be signed and rendered."""
    pages = list(_pages(site))
    return Plan(Signer(site, layouts, env, env.facts), pages, [output_path(page.url) for page in pages])


def readers(plan: Plan) -> Readers:
    """Which pages take in each article (see Readers), as their signatures do: what a quick rebuild after an
    edit to a few articles renders again."""
    whole: dict[str, list[int]] = {}
    by_face: dict[str, list[int]] = {}
    every: tuple[list[int], list[int]] = ([], [])
    for index, page in enumerate(plan.pages):
        for kind, (sources, table) in enumerate(zip(plan.signer.readers(page.template, page.context),
                                                    (whole, by_face), strict=True)):
            if sources is None:
                every[kind].append(index)
            for source in sources or ():
                table.setdefault(source, []).append(index)
    own = {page.context["article"].source: index for index, page in enumerate(plan.pages) if "article" in page.context}
    return Readers(whole, by_face, every[0], every[1], own)


def render(plan: Plan, work: Work, stage: Placer | None = None,
           meanwhile: Callable[[], None] | None = None) -> Iterator[Output]:
    """Every page of the plan; a page whose signature is in `work.before` (and still on disk) is not rendered
    again. This build's signatures go into `work.after`. Many pages are rendered in worker processes, with
    the same bytes as in one; template errors are reported once per template line. With a `stage` that is
    open when rendering starts (a full build's), the worker processes put the pages there themselves, and
    only which were written comes back. `meanwhile` is other work for this process, done while the workers
    render (called once, as rendering starts; not at all when every page is as it was, so the caller does
    it then)."""
    whole = work.after[WHOLE_SITE] = plan.whole()
    if work.before and work.before.get(WHOLE_SITE) == whole and all(path in work.before for path in plan.paths):
        # Nothing any page is made from has changed (and every page is still on disk): nothing to render.
        for path in plan.paths:
            work.after[path] = work.before[path]
            yield Output(path, None)
        return
    yield from _signed(plan, range(len(plan.pages)), work, stage, meanwhile)


def rerender(plan: Plan, index: Readers, edited: set[str], faces: set[str], work: Work) -> list[Output]:
    """The pages whose signatures take in these articles (by source; `faces`: those whose faces changed
    too), signed again and rendered where they changed; after an edit that changed only those articles
    and left the site's shape as it was."""
    for source in faces:  # a new headline may have given the story a new address
        if source in index.own:
            plan.moved(index.own[source])
    work.after[WHOLE_SITE] = plan.whole()
    todo = {*index.every_whole, *(i for source in edited for i in index.whole.get(source, ()))}
    if faces:
        todo |= {*index.every_face, *(i for source in faces for i in index.by_face.get(source, ()))}
    return list(_signed(plan, sorted(todo), work))


def render_first(site: Site, env: jinja2.Environment, layouts: Path, paths: frozenset[str]) -> dict[str, bytes]:
    """The pages at these output paths, by path, rendered ahead of all others (the preview shows its open tabs
    these while the rest is made); a page whose layout fails is left out (the build reports it)."""
    found = {}
    for page in _pages(site):
        path = output_path(page.url)
        if path in paths:
            result = _render_one(env, layouts, page)
            if result.data is not None:
                found[path] = result.data
    return found


def _signed(plan: Plan, indexes: Iterable[int], work: Work, stage: Placer | None = None,
            meanwhile: Callable[[], None] | None = None) -> Iterator[Output]:
    """The pages at indexes: signed, and rendered unless `work.before` holds the same signature (with no
    `before`, every page is rendered, and signed while the workers render it)."""
    todo = []
    if work.before:
        for index in indexes:
            signature = _sign(plan, index, work.after)
            if signature and work.before.get(plan.paths[index]) == signature:
                yield Output(plan.paths[index], None)
            else:
                todo.append(index)
    else:
        todo = list(indexes)
        meanwhile = _then(lambda: [_sign(plan, index, work.after) for index in todo], meanwhile)
    seen: dict[Failure, int] = {}
    results = _rendered(plan, todo, work, stage, meanwhile)
    while True:
        started = perf_counter()
        index, result = next(results, (-1, None))
        work.timings["render"] = work.timings.get("render", 0.0) + perf_counter() - started
        if result is None:
            return
        work.rendered += 1
        page = plan.pages[index]
        if result.failure is not None:
            _report(result.failure, work, page.source, seen)
        else:
            yield Output(output_path(page.url), result.data, result.placed)


def _sign(plan: Plan, index: int, after: dict[str, str]) -> str:
    """The signature of the page at index, noted in `after`."""
    page = plan.pages[index]
    signature = plan.signer.page(page.template, page.context)
    if signature:
        after[plan.paths[index]] = signature
    return signature


def _then(first: Callable[[], Any], then: Callable[[], None] | None) -> Callable[[], None]:
    def both() -> None:
        first()
        if then is not None:
            then()
    return both


PARALLEL_PAGES = 200
WHOLE_SITE = "pages/"  # the signature key of everything every page is made from (ends with "/": not a file)


@dataclass(frozen=True)
class _Job:
    """What a render worker process is started with."""

    env: jinja2.Environment
    layouts: Path
    pages: list[Page]
    stage: Placer | None


def _rendered(plan: Plan, todo: list[int], work: Work, stage: Placer | None = None,
              meanwhile: Callable[[], None] | None = None) -> Iterator[tuple[int, Rendered]]:
    """(index, what rendering it gave) for each page to render: in worker processes when there are many,
    which put each page in the stage themselves when it is open. This process does `meanwhile` once they
    have started (or first, when it renders the pages itself)."""
    env, pages = plan.signer.env, plan.pages
    if work.jobs < 2 or len(todo) < PARALLEL_PAGES or not workers.can_fork():
        if meanwhile is not None:
            meanwhile()
        for index in todo:
            yield index, _render_one(env, work.layouts, pages[index])
        return
    placer = stage if stage is not None and stage.is_open() else None
    chunks = [todo[i:i + 32] for i in range(0, len(todo), 32)]
    with workers.pool(work.jobs, _Job(env, work.layouts, pages, placer)) as pool:
        if placer is not None:
            placer.on_close(pool.terminate)  # no worker writes on once the build has let go of the stage
        results = pool.imap(_render_chunk, chunks)  # (the workers start on them now)
        if meanwhile is not None:
            meanwhile()
        for done in results:
            yield from done


def _render_chunk(indexes: list[int]) -> list[tuple[int, Rendered]]:
    job: _Job = workers.job()
    done = []
    for index in indexes:
        result = _render_one(job.env, job.layouts, job.pages[index])
        if job.stage is not None and result.data is not None:
            with contextlib.suppress(BuildError):  # (a refused path: the build's process reports it)
                result = Rendered(placed=job.stage.place(output_path(job.pages[index].url), result.data))
        done.append((index, result))
    return done


def _render_one(env: jinja2.Environment, layouts: Path, page: Page) -> Rendered:
    """A page's bytes, or how its layout failed."""
    try:
        return Rendered(env.get_template(page.template).render(page.context).encode("utf-8"))
    except CacheDamaged:  # (reading a body: no failure of the layout's; the build is made again from scratch)
        raise
    except Exception as exc:  # noqa: BLE001 -- layouts are user code; any failure is theirs
        return Rendered(failure=_describe(exc, page.template, layouts))


def _pages(site: Site) -> Iterator[Page]:
    """Every page of the site, in a stable order."""
    for template, url in (("index.html", "/"), ("404.html", "/404.html"), ("search.html", "/search/"),
                          ("tags.html", "/tags/"), ("authors.html", "/authors/"), ("archive.html", "/archive/"),
                          ("sitemap.xml", "/sitemap.xml"), ("news-sitemap.xml", "/news-sitemap.xml"),
                          ("robots.txt", "/robots.txt")):
        current = url.strip("/") if url.endswith("/") else ""
        yield Page(template, url, FIXED_PAGES[url], _context(current, url == "/", url.endswith("/")))
    for feed in site.feeds:
        yield Page("feed.xml", feed.url, f"the feed {feed.url}", _context(feed=feed))
    yield Page("rss.xml", "/rss.xml", FIXED_PAGES["/rss.xml"], _context(feed=site.feeds[0]))
    for article in site.articles:
        yield Page("article.html", article.url, article.source, _context(article=article, current=article.section))
    for page in site.pages:
        yield Page("page.html", page.url, page.source, _context(page=page))
    for listing in site.listings:
        current = listing.url.strip("/").split("/")[0] if listing.kind == "section" else ""
        yield Page("list.html", listing.url, f"the {listing.kind} page {listing.url}", _context(
            listing=listing, current=current, is_listing=listing.number == 1))


def _context(current: str = "", is_home: bool = False, is_listing: bool = False, **records: Any) -> dict[str, Any]:
    """Every template sees `current` (the section slug being shown) and what kind of page it is."""
    return {"current": current, "is_home": is_home, "is_listing": is_listing, **records}


def _describe(exc: Exception, template: str, layouts: Path) -> Failure:
    name, line = _template_position(exc, layouts, template)
    message = exc.message if isinstance(exc, jinja2.TemplateError) and exc.message else str(exc)
    if isinstance(exc, jinja2.TemplateNotFound):
        message = f"template '{exc.name}' not found"
    elif not isinstance(exc, jinja2.TemplateError):
        message = f"{type(exc).__name__}: {message}"
    return Failure(name, line, message)


def _report(failure: Failure, work: Work, source: str, seen: dict[Failure, int]) -> None:
    """A layout's failure as a problem, once per layout line and message however many pages it fails."""
    seen[failure] = seen.get(failure, 0) + 1
    if seen[failure] == 1:
        shown = display_path(work.layouts / failure.layout, work.layouts.parent)
        work.problems.append(Problem(shown, failure.line, 0, f"{failure.message} (while rendering {source})"))


def _template_position(exc: Exception, layouts: Path, fallback: str) -> tuple[str, int]:
    """The innermost layout file and line in the traceback (Jinja2 rewrites frames to template lines)."""
    root = str(layouts.resolve())
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename and str(Path(frame.filename).resolve()).startswith(root + "/"):
            return Path(frame.filename).resolve().relative_to(root).as_posix(), frame.lineno or 0
    return fallback, 0

