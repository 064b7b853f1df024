"""build(): settings -> content -> model -> layouts -> render and search -> write -> what it was made from.

Each stage is a function below, and build() calls them in order. Caches make the stages cheap (a source
whose bytes did not change is not parsed again; a page whose signature did not change is not rendered
again); they add no route through the pipeline. A long-lived process (the preview and `watch`, see
live/) composes the same functions to rebuild from what it keeps in memory; the build knows nothing of it.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from time import perf_counter
from typing import Any

from . import render, search
from .config import Config, Folders, Options, folders, load_config
from .content import Sources, load, survey
from .errors import Problem, fail_if_errors, has_errors
from .incremental import ledger
from .incremental.cache import Cache, CacheDamaged, Memory, forget
from .model import Selection, Site, make_site
from .records import Content, Output
from .templating import Layouts, layout_names, make_environment
from .write import Stage, Writing, check_output_folder, locked, write

__all__ = ("Made", "Options", "Run", "Summary", "build", "folders")

Progress = Callable[[int, int], None]  # (outputs done, outputs in all)


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
    read: int = 0  # sources parsed afresh (the others came from the build cache)
    rendered: int = 0  # pages rendered (the others were as the previous build left them)


@dataclass
class Run:
    """One build under way: what it was asked for, its settings, folders and cache, the moment it is made
    for; and, growing as it runs, the problems it found, each stage's time in seconds, and how many
    sources it parsed."""

    options: Options
    config: Config
    folders: Folders
    cache: Cache
    now: datetime
    started: float
    problems: list[Problem] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    read: int = 0  # sources parsed afresh so far


@dataclass(frozen=True)
class Made:
    """What a build made and from what: for a long-lived process to build the next one on (see live/)."""

    inputs: ledger.Inputs
    content: Content
    site: Site
    found: tuple[Problem, ...]  # the warnings reading its sources and making its site gave
    plan: render.Plan
    signatures: dict[str, str]  # of every file it wrote, by path
    summary: Summary
    until: float | None  # the first moment at which the same inputs make another site (see ledger.until)


def _afresh_if_the_cache_fails(build_: Callable[..., Summary]) -> Callable[..., Summary]:
    """A build whose cache file SQLite could not use (damaged, the disk full) has deleted it: build once more,
    from scratch (making the file afresh), and say so."""

    @functools.wraps(build_)
    def build_afresh(options: Options, *args: Any, **kwargs: Any) -> Summary:
        try:
            return build_(options, *args, **kwargs)
        except CacheDamaged as exc:
            said = Problem(exc.problems[0].path, message=f"the build cache could not be used ({exc.reason}); it "
                           "was deleted and the site built afresh", severity="warning")
        summary = build_(replace(options, fresh=True), *args, **kwargs)
        return replace(summary, warnings=(said, *summary.warnings))

    return build_afresh


@_afresh_if_the_cache_fails
def build(options: Options, progress: Progress | None = None, on_wait: Callable[[], None] | None = None) -> Summary:
    """Build the site described by options into its output folder, atomically (while another build of the
    same folder runs, this one waits, after calling `on_wait`)."""
    with begin(options, on_wait) as run:  # the settings, the folders, the output folder's lock, the cache
        sources = survey(run.config, run.folders, run.problems)  # every file under content/, with its state
        inputs = read_inputs(run, sources)  # what the build reads, as hashes
        done = unchanged(run, inputs)  # the output folder may hold what these inputs make already
        if done is not None:
            return done
        content = read(run, sources)  # content/ -> records (a source whose bytes are unchanged: from the cache)
        site = model(run, content)  # records -> the site: order, sections, tags, reporters, listings, feeds
        env = layouts(run, site)  # the Jinja2 layouts, compiled; stops on any problem found so far
        return publish(run, content, site, env, inputs, progress).summary  # render, search, write, note


@contextlib.contextmanager
def begin(options: Options, on_wait: Callable[[], None] | None = None,
          memory: Memory | None = None) -> Iterator[Run]:
    """A build of these options, holding its output folder's lock and its cache (saved at the end, even
    after a failure, when the sources were read). `memory` is what the last build of a long-lived process
    read (see Cache.memory)."""
    started = perf_counter()
    config = load_config(options.config, {"base_url": options.base_url})
    where = folders(config, options)
    check_output_folder(where.out, protected=(config.root,), sources=(where.content, where.layouts))
    with locked(where.out, on_wait):
        if options.fresh:
            forget(where.cache)
        cache = Cache(where.cache, config, memory)
        try:
            with _fewer_collections():
                yield Run(options, config, where, cache, options.now or datetime.now(config.zone), started)
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


def read_inputs(run: Run, sources: Sources) -> ledger.Inputs:
    """Everything the build reads, as hashes (see ledger.Inputs)."""
    return ledger.inputs(ledger.asked(run.cache, run.folders, run.options), run.folders.layouts, sources.files)


def unchanged(run: Run, inputs: ledger.Inputs, trust_quick: bool = False) -> Summary | None:
    """The last build's summary when the output folder holds what these inputs make (see ledger.unchanged);
    None when the build must run (and fail, when looking at the files found an error: a link that leads out)."""
    if run.options.fresh or has_errors(run.problems):
        return None
    kept = ledger.unchanged(run.cache, inputs, run.now, run.folders.out, trust_quick)
    if kept is None:
        return None
    spent = round((perf_counter() - run.started) * 1000)
    return replace(kept, files=0, read=0, rendered=0, milliseconds=spent, timings={"load": spent})


def read(run: Run, sources: Sources) -> Content:
    """The records of every file under content/ (and the files of layouts/static/ to copy)."""
    content = load(run.config, sources, run.problems, run.cache, run.options.jobs, run.timings)
    run.read += content.read
    run.timings["load"] = perf_counter() - run.started - run.timings["markdown"]
    return replace(content, warnings=tuple(run.problems))  # (no errors, or the build stops before it is kept)


def model(run: Run, content: Content) -> Site:
    """The site these records make, with the related-stories table kept in the cache."""
    memo = run.cache.get_many(["related"], remember=True).get("related") or {}
    related_inputs = memo.get("inputs")
    site = make_site(run.config, content, Selection(run.now, run.options.drafts, run.options.future), run.problems,
                     memo)
    if memo.get("inputs") != related_inputs:  # the related-stories table was worked out again: keep the new one
        run.cache.put("related", memo, remember=True)
    return site


def layouts(run: Run, site: Site) -> Layouts:
    """The Jinja2 environment over layouts/, every layout compiled and checked; then the build stops if
    anything so far was an error (before any page is rendered)."""
    env = make_environment(site, run.folders.layouts, run.problems, run.cache)
    env.facts.keep(run.cache, [env.loader.get_source(env, name)[0] for name in layout_names(env)] if env.loader else [])
    run.cache.commit()  # page workers read article bodies from the cache file
    fail_if_errors(run.problems)
    run.timings["model"] = perf_counter() - run.started - run.timings.get("load", 0.0) - \
        run.timings.get("markdown", 0.0)
    return env


def publish(run: Run, content: Content, site: Site, env: Layouts, inputs: ledger.Inputs,
            progress: Progress | None = None) -> Made:
    """Render the pages whose signatures changed and make the search files (while the render workers run),
    write what changed into the output folder, and note what the build was made from."""
    found = tuple(run.problems)
    plan = render.plan(site, env, run.folders.layouts)
    stored = run.cache.signatures()
    work = render.Work(run.folders.layouts, run.problems, _on_disk(stored, run.folders.out), {}, run.timings,
                       run.options.jobs)
    staging = Stage()  # (a full build's stage: render's workers put the pages in it)
    searching = _Aside(lambda: list(search.index(site, work.before, work.after, run.cache)))
    how = Writing(incremental=not run.options.fresh, known={path for path in stored if not path.endswith("/")}
                  if stored else None, on_apply=run.cache.forget_signatures, stage=staging,
                  dry_run=run.options.dry_run)
    total = 12 + len(site.feeds) + len(site.articles) + len(site.pages) + len(site.listings)
    writing = perf_counter()
    with run.cache.held_back():  # (no write to the cache file while the workers read bodies from it)
        pages = render.render(plan, work, staging, searching.run)
        outputs = _counted(itertools.chain(pages, searching.results()), total, progress, work.after)
        files = write(outputs, site.assets, run.folders.out, run.problems, how)
    run.timings["search"] = searching.seconds
    if searching.during:  # (render's time took in the search's)
        run.timings["render"] = run.timings.get("render", 0.0) - searching.seconds
    work.after.update((asset.path, "") for asset in site.assets if asset.path not in work.after)
    if not run.options.dry_run:  # (the output folder holds what the last real build made)
        run.cache.save_signatures(work.after)
    run.timings["write"] = perf_counter() - writing - run.timings.get("render", 0.0) - run.timings["search"]
    summary = summarise(run, site, files, work.rendered)
    until = ledger.until(content, run.now)
    if not run.options.dry_run:
        note(run, inputs, until, summary)
    return Made(inputs, content, site, found, plan, work.after, summary, until)


def summarise(run: Run, site: Site, files: int, rendered: int) -> Summary:
    """What the build made (files written, pages rendered), with its time so far."""
    return Summary(len(site.articles), len(site.pages), len(site.listings), len(site.assets), files,
                   round((perf_counter() - run.started) * 1000), run.folders.out, tuple(run.problems),
                   {stage: round(seconds * 1000) for stage, seconds in run.timings.items()}, run.read, rendered)


def note(run: Run, inputs: ledger.Inputs, until: float | None, summary: Summary) -> None:
    """Note in the ledger that the output folder holds what these inputs make, from now until `until`."""
    run.cache.save_ledger(ledger.Entry(inputs.digest, run.now.timestamp(), until, summary, inputs.racy))


def _on_disk(stored: dict[str, str], out: Path) -> dict[str, str]:
    """The last build's signatures of the files still in the output folder (a page is reused only while its
    file is there)."""
    folder = str(out) + os.sep
    return {path: sig for path, sig in stored.items() if path.endswith("/") or os.path.isfile(folder + path)}


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


def _counted(outputs: Iterator[Output], total: int, progress: Progress | None, made: dict[str, str]
             ) -> Iterator[Output]:
    """Outputs as they come, counted for `progress` (which may also stop the build: it runs before each is
    written); every path is noted in `made` (the manifest)."""
    for done, output in enumerate(outputs, 1):
        if progress:
            progress(done, total)
        made.setdefault(output.path, "")
        yield output
