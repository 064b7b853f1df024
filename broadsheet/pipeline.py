"""build(): load config -> load content -> model -> render -> write."""

from __future__ import annotations

import contextlib
import gc
import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from time import perf_counter
from typing import Any

from . import search
from .config import Config, load_config
from .content import load, scan
from .errors import BuildError, Problem, display_path, fail_if_errors
from .incremental import ledger
from .incremental.cache import Cache, forget
from .incremental.signatures import keep_facts, recall_facts
from .live.resident import KEPT, MOST_RESIDENT, Resident, edited, same_sources
from .model import Selection, Site, make_site
from .records import Content
from .render import Output, layout_names, make_environment, render, render_first
from .write import Stage, check_output_folder, locked, write

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Options:
    """What to build and how; None means the default beside the configuration file."""

    config: Path = Path("pyproject.toml")
    content: Path | None = None
    layouts: Path | None = None
    out: Path | None = None
    base_url: str | None = None
    drafts: bool = False
    future: bool = False
    now: datetime | None = None
    fresh: bool = False
    jobs: int = os.cpu_count() or 1
    keep: bool = False  # keep the site in memory, so the next build in this process redoes only what an edit touched
    changed: frozenset[Path] | None = None  # with keep: what a watcher saw change since the last build (None: unknown)
    first: frozenset[str] = frozenset()  # output paths of pages to render before all others (the open tabs), and
    on_first: Callable[[dict[str, bytes]], None] | None = None  # what is told their bytes (before anything is written)
    superseded: Callable[[], bool] | None = None  # true once a newer save makes this build moot: it stops unwritten


class Superseded(Exception):  # noqa: N818 -- not an error: what a build raises when it gives way
    """A newer save came while the build was rendering: it stopped before writing anything."""


@dataclass(frozen=True)
class Summary:
    """What a successful build made."""

    articles: int
    pages: int
    listings: int
    static: int
    files: int
    milliseconds: int
    out: Path
    warnings: tuple[Problem, ...]
    timings: dict[str, int]


def build(options: Options, progress: Progress | None = None, on_wait: Callable[[], None] | None = None) -> Summary:
    """Build the site described by options into its output folder, atomically (while another build of the
    same folder runs, this one waits, after calling `on_wait`)."""
    started = perf_counter()
    config = load_config(options.config, {"base_url": options.base_url})
    content_dir, layouts, out = folders(config, options)
    check_output_folder(out, protected=(config.root, content_dir, layouts))
    cache_path = out.parent / f".{out.name}.cache"
    with locked(out, on_wait):
        if options.fresh:
            forget(cache_path)
        cache = Cache(cache_path, config)
        try:
            with _fewer_collections():
                return _build(options, config, content_dir, layouts, out, cache, progress, started)
        finally:
            if cache.used:  # the sources were read: keep what was learnt, even from a failed build
                cache.save()
            cache.close()


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """A build makes hundreds of thousands of objects that live until it ends; the garbage collector's
    default pace would walk them all again and again (a third of a 10,000-article rebuild). Cycles among
    new objects are still collected."""
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, 50, 1_000)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _build(options: Options, config: Config, content_dir: Path, layouts: Path, out: Path, cache: Cache,
           progress: Progress | None, started: float) -> Summary:
    problems: list[Problem] = []
    timings: dict[str, float] = {}
    now = options.now or datetime.now(config.zone)
    where = out.resolve()
    resident = KEPT.get(where) if options.keep else None
    if resident is not None and resident.identity != cache.identity:
        resident = None
    hinted = ledger.hinted(resident.inputs, options.changed, content_dir, layouts,
                           lambda racy: ledger.settled_by(options, cache, content_dir, layouts, out, racy)) \
        if resident is not None and options.changed is not None and not options.fresh else None
    if hinted is not None:  # the watcher said what changed: no need to look at every file
        KEPT.pop(where)
        summary = _in_memory(options, config, content_dir, layouts, out, cache, resident, *hinted, now, problems,
                             timings, progress, started)
        if summary is not None:
            return summary
        resident = None
    scanned = scan(str(content_dir), config.root, problems)
    inputs = ledger.inputs(options, config, cache, content_dir, layouts, out, scanned)
    kept = None if options.fresh or options.keep and resident is None else \
        ledger.kept(cache, inputs, now, out, trust_quick=options.keep)
    if isinstance(kept, Summary):  # the output folder holds what these inputs make: nothing to do
        spent = round((perf_counter() - started) * 1000)
        return replace(kept, files=0, milliseconds=spent, timings={"load": spent})
    KEPT.pop(where, None)  # whatever happens next, the site in memory is not the one in the output folder
    if resident is not None and not options.fresh:
        summary = _in_memory(options, config, content_dir, layouts, out, cache, resident, scanned, inputs, now,
                             problems, timings, progress, started)
        if summary is not None:
            return summary
    content = load(config, content_dir, layouts / "static", problems, cache, options.jobs, timings, scanned)
    content = replace(content, warnings=tuple(problems))  # (no errors, or the build stops before it is kept)
    timings["load"] = perf_counter() - started - timings["markdown"]
    site = _model(options, config, content, now, cache, problems)
    return _finish(options, config, layouts, out, cache, content, site, inputs, now, problems, timings, progress,
                   started)


def _in_memory(options: Options, config: Config, content_dir: Path, layouts: Path, out: Path, cache: Cache,
               resident: Resident, scanned: list[tuple[str, os.stat_result | None]], inputs: ledger.Inputs,
               now: datetime, problems: list[Problem], timings: dict[str, float], progress: Progress | None,
               started: float) -> Summary | None:
    """The build made from the site in memory when these inputs allow it (a few stories edited in place, or
    only layouts or settings changed), else None: the whole build runs."""
    summary = edited(resident, options, config, content_dir, layouts, out, cache, scanned, inputs, now, started)
    if summary is not None:
        KEPT[out.resolve()] = resident
        return summary
    if same_sources(resident, cache, inputs, now, out):  # a layout or settings save
        return _from_memory(options, config, layouts, out, cache, resident, inputs, now, problems, timings,
                            progress, started)
    return None


def _from_memory(options: Options, config: Config, layouts: Path, out: Path, cache: Cache, resident: Resident,
                 inputs: ledger.Inputs, now: datetime, problems: list[Problem], timings: dict[str, float],
                 progress: Progress | None, started: float) -> Summary:
    """The build after only layouts or settings changed (see same_sources): from the records in memory, and
    with the same settings from the site in memory too."""
    try:
        if inputs.settings == resident.inputs.settings:
            site = resident.site
            _carry(resident.found, problems)
        else:
            _carry(resident.content.warnings, problems)
            site = _model(options, config, resident.content, now, cache, problems)
        return _finish(options, config, layouts, out, cache, resident.content, site, inputs, now, problems,
                       timings, progress, started)
    except (BuildError, Superseded):
        KEPT[out.resolve()] = resident  # (nothing was written) the next save starts from it again
        raise


def _carry(found: tuple[Problem, ...], problems: list[Problem]) -> None:
    """Add to problems what an earlier build found that this one did not look for again (in their order)."""
    seen = set(problems)
    problems.extend(problem for problem in dict.fromkeys(found) if problem not in seen)


def _model(options: Options, config: Config, content: Content, now: datetime, cache: Cache,
           problems: list[Problem]) -> Site:
    """The site these records make, with the related-stories table kept in the cache."""
    memo = cache.get_many(["related"], remember=True).get("related") or {}
    related_inputs = memo.get("inputs")
    site = make_site(config, content, Selection(now, options.drafts, options.future), problems, memo)
    if memo.get("inputs") != related_inputs:  # the related-stories table was worked out again: keep the new one
        cache.put("related", memo, remember=True)
    return site


def _finish(options: Options, config: Config, layouts: Path, out: Path, cache: Cache, content: Content, site: Site,
            inputs: ledger.Inputs, now: datetime, problems: list[Problem], timings: dict[str, float],
            progress: Progress | None, started: float) -> Summary:
    """Render the site with the layouts, write what changed, and note what was made (and keep the site in
    memory, with `Options.keep`)."""
    found = tuple(problems)  # what reading the sources and making the site found (all warnings: else no site)
    recall_facts(cache)
    env = make_environment(site, layouts, problems, cache.templates())
    keep_facts(cache, [env.loader.get_source(env, name)[0] for name in layout_names(env)] if env.loader else [])
    cache.commit()  # page workers read article bodies from the cache file
    fail_if_errors(problems)
    timings["model"] = perf_counter() - started - timings.get("load", 0.0) - timings.get("markdown", 0.0)
    if options.first and options.on_first is not None:
        options.on_first(render_first(site, env, layouts, options.first))
    total = 12 + len(site.feeds) + len(site.articles) + len(site.pages) + len(site.listings)
    stored = cache.signatures()
    folder = str(out) + os.sep  # a page is reused only while its file is there
    before = {path: sig for path, sig in stored.items() if path.endswith("/") or os.path.isfile(folder + path)}
    after: dict[str, str] = {}
    held: dict[str, Any] | None = {} if options.keep else None
    staging = Stage()  # (a full build's stage: render's workers put the pages in it)
    searching = _Aside(lambda: list(search.index(site, before, after, cache)))  # while the workers render
    known = {path for path in stored if not path.endswith("/")} if stored else None
    writing = perf_counter()
    with cache.held_back():  # (no write to the cache file while the workers read bodies from it)
        pages = render(site, env, layouts, problems, before, after, timings, options.jobs, held, staging,
                       searching.run)
        files = write(_counted(itertools.chain(pages, searching.results()), total, progress, after,
                               options.superseded), site.assets, out, problems, incremental=not options.fresh,
                      on_apply=cache.forget_signatures, known=known, stage_for=staging)
    timings["search"] = searching.seconds
    if searching.during:  # (render's time took in the search's)
        timings["render"] = timings.get("render", 0.0) - searching.seconds
    after.update((asset.path, "") for asset in site.assets if asset.path not in after)
    cache.save_signatures(after)
    timings["write"] = perf_counter() - writing - timings.get("render", 0.0) - timings["search"]
    summary = Summary(len(site.articles), len(site.pages), len(site.listings), len(site.assets), files,
                      round((perf_counter() - started) * 1000), out, tuple(problems),
                      {stage: round(seconds * 1000) for stage, seconds in timings.items()})
    until = ledger.until(content, now)
    cache.save_ledger(inputs.digest, until, summary, inputs.racy, now.timestamp())
    if held is not None:
        where = out.resolve()
        while len(KEPT) >= MOST_RESIDENT:
            KEPT.pop(next(iter(KEPT)))
        KEPT[where] = Resident(cache.identity, cache.reading, inputs, content, site, found, held, after, summary,
                               now.timestamp(), until,
                               {a.path: a for a in content.articles},
                               {id(a): i for i, a in enumerate(site.articles)},
                               {str(a.source): a for a in site.assets if a.path.startswith("static/")})
    return summary


class _Aside:
    """Work the build's process does while render's workers make the pages (see render's `meanwhile`), or,
    when no page was rendered, once the pages are through: done once, with its results kept, and timed."""

    def __init__(self, work: Callable[[], list[Output]]) -> None:
        self.work = work
        self.done: list[Output] | None = None
        self.seconds = 0.0
        self.during = False  # whether it was done while the pages were rendered

    def run(self, during: bool = True) -> None:
        if self.done is None:
            started = perf_counter()
            self.done = self.work()
            self.seconds = perf_counter() - started
            self.during = during

    def results(self) -> Iterator[Output]:
        self.run(during=False)
        assert self.done is not None
        yield from self.done


def folders(config: Config, options: Options) -> tuple[Path, Path, Path]:
    """The content, layouts and output folders: flags first, else beside the configuration."""
    content = options.content or config.root / "content"
    layouts = options.layouts or config.root / "layouts"
    for folder, flag in ((content, "--content"), (layouts, "--layouts")):
        if not folder.is_dir():
            raise BuildError([Problem(display_path(folder, config.root), message="folder not found",
                                      hint=f"create it or pass {flag} DIR")])
    return content, layouts, options.out or config.root / "site"


def _counted(outputs: Iterator[Output], total: int, progress: Progress | None, made: dict[str, str],
             superseded: Callable[[], bool] | None = None) -> Iterator[Output]:
    """Outputs as they come, counted for the progress bar; every path is noted in `made` (the manifest).
    Every 50 outputs, `superseded` is asked whether to stop (before anything is written)."""
    for done, output in enumerate(outputs, 1):
        if progress:
            progress(done, total)
        if superseded is not None and done % 50 == 0 and superseded():
            raise Superseded
        made.setdefault(output.path, "")
        yield output
