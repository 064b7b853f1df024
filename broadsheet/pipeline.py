"""build(): load config -> load content -> model -> render -> write."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import itertools
import os
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, replace
from datetime import datetime
from pathlib import Path
from time import perf_counter
from typing import Any

from . import search
from .cache import Cache, forget
from .config import Config, load_config
from .content import load, reload, scan
from .errors import BuildError, Problem, display_path, fail_if_errors
from .model import BREAKING, Site, make_site, newest_first, output_path
from .records import Article, Asset, Content
from .render import Output, make_environment, render, rerender
from .write import MARKER, check_output_folder, locked, write

Progress = Callable[[int, int], None]
RECENT_NS = 3_000_000_000  # files changed this lately count by their bytes (coarse clocks tick every 1-2 s)


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
    scanned = scan(str(content_dir), config.root, problems)
    inputs = _inputs(options, config, cache, content_dir, layouts, out, scanned)
    now = options.now or datetime.now(config.zone)
    where = out.resolve()
    resident = _RESIDENT.get(where) if options.keep else None
    if resident is not None and resident.identity != cache.identity:
        resident = None
    kept = None if options.fresh or options.keep and resident is None else _kept(cache, inputs, now, out)
    if kept is not None:  # the output folder holds what these inputs make: nothing to do
        spent = round((perf_counter() - started) * 1000)
        return replace(kept, files=0, milliseconds=spent, timings={"load": spent})
    _RESIDENT.pop(where, None)  # whatever happens next, the site in memory is not the one in the output folder
    if resident is not None and not options.fresh:
        summary = _edited(resident, options, config, content_dir, layouts, out, cache, scanned, inputs, now, started)
        if summary is not None:
            _RESIDENT[where] = resident
            return summary
    content = load(config, content_dir, layouts / "static", problems, cache, options.jobs, timings, scanned)
    timings["load"] = perf_counter() - started - timings["markdown"]
    memo = cache.get_many(["related"], remember=True).get("related") or {}
    related_inputs = memo.get("inputs")
    site = make_site(config, content, now, options.drafts, options.future, problems, memo)
    if memo.get("inputs") != related_inputs:  # the related-stories table was worked out again: keep the new one
        cache.put("related", memo, remember=True)
    env = make_environment(site, layouts, problems, cache.templates())
    cache.commit()  # page workers read article bodies from the cache file
    fail_if_errors(problems)
    timings["model"] = perf_counter() - started - timings["load"] - timings["markdown"]
    total = 12 + len(site.feeds) + len(site.articles) + len(site.pages) + len(site.listings)
    stored = cache.signatures()
    folder = str(out) + os.sep  # a page is reused only while its file is there
    before = {path: sig for path, sig in stored.items() if path.endswith("/") or os.path.isfile(folder + path)}
    after: dict[str, str] = {}
    held: dict[str, Any] | None = {} if options.keep else None
    pages = render(site, env, layouts, problems, before, after, timings, options.jobs, held)
    outputs = itertools.chain(pages, _timed(search.index(site, before, after, cache), timings, "search"))
    writing = perf_counter()
    known = {path for path in stored if not path.endswith("/")} if stored else None
    files = write(_counted(outputs, total, progress, after), site.assets, out, problems,
                  incremental=not options.fresh, on_apply=cache.forget_signatures, known=known)
    after.update((asset.path, "") for asset in site.assets if asset.path not in after)
    cache.save_signatures(after)
    timings["write"] = perf_counter() - writing - timings.get("render", 0.0) - timings["search"]
    summary = Summary(len(site.articles), len(site.pages), len(site.listings), len(site.assets), files,
                      round((perf_counter() - started) * 1000), out, tuple(problems),
                      {stage: round(seconds * 1000) for stage, seconds in timings.items()})
    until = _until(content, now)
    cache.save_ledger(inputs.digest, until, summary, inputs.racy)
    if held is not None:
        while len(_RESIDENT) >= MOST_RESIDENT:
            _RESIDENT.pop(next(iter(_RESIDENT)))
        _RESIDENT[where] = _Resident(cache.identity, inputs, content, site, held, after, summary, until,
                                     {a.path: a for a in content.articles},
                                     {id(a): i for i, a in enumerate(site.articles)},
                                     {str(a.source): a for a in site.assets if a.path.startswith("static/")})
    return summary


@dataclass(frozen=True)
class _Inputs:
    """What a build reads, as hashes: `digest` of all of it, `settled` of the settings and layouts, each file
    under content/ and layouts/static/ by its path; and `racy`, the bytes (hashed) of files changed in the
    last seconds, whose state alone does not tell a second save within the clock's tick from the first."""

    digest: str
    settled: str
    states: dict[str, str]
    racy: dict[str, str]


def _inputs(options: Options, config: Config, cache: Cache, content_dir: Path, layouts: Path, out: Path,
            scanned: list[tuple[str, os.stat_result | None]]) -> _Inputs:
    """Everything a build reads: settings (and Broadsheet's version), the folders and the working folder
    (problems name files relative to it), and the state (size, mtime, ctime, inode) of every file under
    content/ and layouts/, as the build's own scan sees them."""
    recent = time.time_ns() - RECENT_NS
    racy: dict[str, str] = {}

    def state(path: str, stat: os.stat_result | None) -> str:
        if stat is None or max(stat.st_mtime_ns, stat.st_ctime_ns) >= recent:
            racy[path] = _bytes_hash(path)
        return f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}:{stat.st_ino}" if stat else "-"

    settled = hashlib.sha256(repr((cache.fingerprint, os.getcwd(), str(content_dir), str(layouts), str(out),
                                   options.drafts, options.future)).encode())
    states = {path: state(path, stat) for path, stat in scanned}
    static = os.path.join(layouts, "static", "")
    for path, stat in scan(str(layouts), config.root, []):
        if path.startswith(static):
            states[path] = state(path, stat)
        else:
            settled.update(f"{path}\0{state(path, stat)}\n".encode())
    digest = hashlib.sha256(settled.digest())
    for path, known in states.items():
        digest.update(f"{path}\0{known}\n".encode())
    return _Inputs(digest.hexdigest(), settled.hexdigest(), states, racy)


def _bytes_hash(path: str) -> str:
    try:
        with open(path, "rb") as file:
            return hashlib.sha256(file.read()).hexdigest()
    except OSError:
        return "unreadable"


def _resaved(racy: dict[str, str]) -> set[str]:
    """The files among `racy` whose bytes are no longer those hashed."""
    return {path for path, known in racy.items() if _bytes_hash(path) != known}


@dataclass
class _Resident:
    """The last build of this process, kept (with `Options.keep`) for the next one: its inputs, records,
    site, pages and signatures."""

    identity: str
    inputs: _Inputs
    content: Content
    site: Site
    held: dict[str, Any]
    after: dict[str, str]
    summary: Summary
    until: float | None
    by_path: dict[str, Article]
    positions: dict[int, int]  # each published article's place in the newest-first order, by id()
    assets: dict[str, Asset]  # the files of layouts/static/ by their path


_RESIDENT: dict[Path, _Resident] = {}  # by output folder
MOST_RESIDENT = 2  # sites kept in memory at once
MOST_EDITS = 50  # more changed articles than this: the whole build runs


def _edited(resident: _Resident, options: Options, config: Config, content_dir: Path, layouts: Path, out: Path,
            cache: Cache, scanned: list[tuple[str, os.stat_result | None]], inputs: _Inputs, now: datetime,
            started: float) -> Summary | None:
    """The build after edits to a few articles that leave the site's shape as it was (the same articles in
    the same lists in the same order: text, headline, standfirst or picture edits, not a new date, section,
    tag or byline), made from the site in memory: the changed records are made again and changed in place,
    and only the pages that take them in are signed and rendered again (with the search files). None when
    the edits were of another kind: the whole build runs (it alone is trusted with anything else, and
    gives the same bytes; the tests hold the two to that)."""
    last = resident.inputs
    if inputs.settled != last.settled or inputs.states.keys() != last.states.keys() or \
            resident.until is not None and now.timestamp() >= resident.until:
        return None
    ledger = cache.ledger()
    if ledger is None or ledger[0] != last.digest or not os.path.isfile(os.path.join(out, MARKER)):
        return None  # another build wrote the output folder since
    resaved = _resaved(last.racy)
    if any(path not in last.states for path in resaved):
        return None  # a layout saved again within its clock's tick
    prefix = len(str(content_dir)) + 1
    copied = [resident.assets[path] for path, state in inputs.states.items()
              if path in resident.assets and (state != last.states[path] or path in resaved)]
    changed = [(path, stat) for path, stat in scanned if inputs.states[path] != last.states[path] or path in resaved]
    rels = [path[prefix:].replace(os.sep, "/") for path, _ in changed]
    if not changed and not copied or len(changed) > MOST_EDITS or \
            any(not rel.startswith("articles/") or not rel.endswith(".md") or rel not in resident.by_path
                for rel in rels):
        return None
    warned = {problem.path for problem in resident.summary.warnings}
    olds = [resident.by_path[rel] for rel in rels]
    if any(old.source in warned for old in olds):
        return None
    timings: dict[str, float] = {}
    cache.carry_over(rels)
    made = reload(config, content_dir, changed, cache, options.jobs) if changed else []
    timings["load"] = perf_counter() - started
    if any(record is None or found for record, found in made) or \
            not _same_shape(resident, {old.path: record for (record, _), old in zip(made, olds, strict=True)}):
        cache.partial, cache.seen_files = False, {}  # the whole build runs (and finds these records cached)
        return None
    edited, faces = set(), set()
    gone = {output_path(old.url) for (record, _), old in zip(made, olds, strict=True) if record.url != old.url}
    for (record, _), old in zip(made, olds, strict=True):
        if record.digest != old.digest:
            if record.face != old.face:
                faces.add(old.source)
            for name in (f.name for f in fields(Article)):
                object.__setattr__(old, name, getattr(record, name))
            old.__dict__.pop("modified", None)  # worked out from the record's fields when first asked
            edited.add(old.source)
    cache.commit()  # page workers read article bodies from the cache file
    problems: list[Problem] = []
    before = resident.after
    after = {path: signature for path, signature in before.items() if path not in gone}
    outputs = rerender(resident.held, edited, faces, layouts, problems, before, after, timings, options.jobs)
    searching = perf_counter()
    outputs += list(search.index(resident.site, before, after, cache))
    timings["search"] = perf_counter() - searching
    writing = perf_counter()
    cache.stored = dict(before)
    files = write(iter(outputs), copied, out, problems, on_apply=cache.forget_signatures, known=gone, partial=True)
    cache.save_signatures(after)
    resident.after = after
    resident.inputs = inputs
    timings["write"] = perf_counter() - writing
    summary = replace(resident.summary, files=files, milliseconds=round((perf_counter() - started) * 1000),
                      timings={stage: round(seconds * 1000) for stage, seconds in timings.items()})
    resident.summary = summary
    cache.save_ledger(inputs.digest, resident.until, summary, inputs.racy)
    return summary


SHAPE = ("source", "path", "date", "expires", "draft", "section", "tags", "authors")


def _same_shape(resident: _Resident, new: dict[str, Article]) -> bool:
    """Whether the site keeps its shape with these records (by path) in place of the ones it has: the same
    fields that choose, group and place articles, none of them among Most Popular unless only its text
    changed, each in its place in the newest-first order, and any new address free."""
    site, olds = resident.site, resident.by_path
    popular = {id(article) for article in site.popular}
    for path, record in new.items():
        old = olds[path]
        if any(getattr(old, name) != getattr(record, name) for name in SHAPE):
            return False
        if record.face != old.face and id(old) in popular:
            return False
    moved = {path: record for path, record in new.items() if record.url != olds[path].url}
    if moved:
        if any(id(olds[path]) not in resident.positions for path in moved):
            return False  # an unpublished story's address is checked by the whole build
        taken = {_file_key(path) for path in resident.after} - {_file_key(output_path(olds[p].url)) for p in moved}
        wanted = [_file_key(output_path(record.url)) for record in moved.values()]
        if len(set(wanted)) < len(wanted) or taken.intersection(wanted):
            return False

    def key(article: Article) -> tuple[float, str, str]:
        return newest_first(new.get(article.path, article))

    order = site.articles
    for path in new:
        at = resident.positions.get(id(olds[path]))
        if at is not None and (at > 0 and not key(order[at - 1]) < key(order[at]) or
                               at + 1 < len(order) and not key(order[at]) < key(order[at + 1])):
            return False
    return True


def _file_key(path: str) -> str:
    return unicodedata.normalize("NFC", path).casefold()  # as the collision check of make_site compares


def _kept(cache: Cache, inputs: _Inputs, now: datetime, out: Path) -> Summary | None:
    """The last build's summary when its inputs are these, its moment has not passed (see _until), and the
    output folder still holds every file it made; else None (the build runs)."""
    ledger = cache.ledger()
    if ledger is None or ledger[0] != inputs.digest or ledger[1] is not None and now.timestamp() >= ledger[1] \
            or _resaved(ledger[3]):
        return None
    folder = str(out) + os.sep
    if not os.path.isfile(folder + MARKER) or not all(
            path.endswith("/") or os.path.isfile(folder + path) for path in cache.signatures()):
        return None
    return ledger[2] if isinstance(ledger[2], Summary) else None


def _until(content: Content, now: datetime) -> float | None:
    """The first moment after `now` at which the same inputs make another site (a scheduled article is due,
    one expires, one leaves the breaking-news window), as a timestamp; None when there is none."""
    moments = [moment for article in content.articles
               for moment in (article.date, article.expires, article.date + BREAKING)
               if moment is not None and moment > now]
    return min(moments).timestamp() if moments else None


def _timed(outputs: Iterator[Output], timings: dict[str, float], stage: str) -> Iterator[Output]:
    """Outputs as they come, with the time spent making them added to timings[stage]."""
    timings.setdefault(stage, 0.0)
    while True:
        started = perf_counter()
        output = next(outputs, None)
        timings[stage] += perf_counter() - started
        if output is None:
            return
        yield output


def folders(config: Config, options: Options) -> tuple[Path, Path, Path]:
    """The content, layouts and output folders: flags first, else beside the configuration."""
    content = options.content or config.root / "content"
    layouts = options.layouts or config.root / "layouts"
    for folder, flag in ((content, "--content"), (layouts, "--layouts")):
        if not folder.is_dir():
            raise BuildError([Problem(display_path(folder, config.root), message="folder not found",
                                      hint=f"create it or pass {flag} DIR")])
    return content, layouts, options.out or config.root / "site"


def _counted(outputs: Iterator[Output], total: int, progress: Progress | None,
             made: dict[str, str]) -> Iterator[Output]:
    """Outputs as they come, counted for the progress bar; every path is noted in `made` (the manifest)."""
    for done, output in enumerate(outputs, 1):
        if progress:
            progress(done, total)
        made.setdefault(output.path, "")
        yield output
