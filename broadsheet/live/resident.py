"""The site of the last build, kept in memory by a long-lived process (the preview), and the quick rebuild
it allows: after edits that leave the site's shape as it was, only the pages that take in the edited
articles are made again."""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, Any

from .. import bodies, search
from ..config import Config
from ..content import reload
from ..errors import Problem
from ..incremental.cache import Cache
from ..incremental.ledger import Inputs, resaved
from ..model import Site, newest_first, output_path
from ..records import Article, Asset, Content, renew
from ..render import rerender
from ..write import MARKER, write

if TYPE_CHECKING:
    from ..pipeline import Options, Summary


@dataclass
class Resident:
    """The last build of this process, kept (with `Options.keep`) for the next one: its inputs, records,
    site, pages and signatures."""

    identity: str
    reading: str  # the settings its records were read with (Cache.reading)
    inputs: Inputs
    content: Content
    site: Site
    found: tuple[Problem, ...]  # the warnings reading its sources and making it gave
    held: dict[str, Any]
    after: dict[str, str]
    summary: Summary
    since: float  # the moment the site was made for, and
    until: float | None  # the next one at which the same files make another site
    by_path: dict[str, Article]
    positions: dict[int, int]  # each published article's place in the newest-first order, by id()
    assets: dict[str, Asset]  # the files of layouts/static/ by their path


KEPT: dict[Path, Resident] = {}  # by output folder
MOST_RESIDENT = 2  # sites kept in memory at once
MOST_EDITS = 50  # more changed articles than this: the whole build runs


def edited(resident: Resident, options: Options, config: Config, content_dir: Path, layouts: Path, out: Path,
           cache: Cache, scanned: list[tuple[str, os.stat_result | None]], inputs: Inputs, now: datetime,
           started: float) -> Summary | None:
    """The build after edits to a few articles that leave the site's shape as it was (the same articles in
    the same lists in the same order: text, headline, standfirst or picture edits, not a new date, section,
    tag or byline), made from the site in memory: the changed records are made again and changed in place,
    and only the pages that take them in are signed and rendered again (with the search files). None when
    the edits were of another kind: the whole build runs (it alone is trusted with anything else, and
    gives the same bytes; the tests hold the two to that)."""
    last = resident.inputs
    if inputs.settled != last.settled or inputs.states.keys() != last.states.keys() or \
            not _current(resident, cache, now, out):
        return None
    again = resaved(last.racy)
    if any(path not in last.states for path in again):
        return None  # a layout saved again within its clock's tick
    prefix = len(str(content_dir)) + 1
    copied = [resident.assets[path] for path, state in inputs.states.items()
              if path in resident.assets and (state != last.states[path] or path in again)]
    changed = [(path, stat) for path, stat in scanned if inputs.states[path] != last.states[path] or path in again]
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
    renewed, faces = set(), set()
    gone = {output_path(old.url) for (record, _), old in zip(made, olds, strict=True) if record.url != old.url}
    for (record, _), old in zip(made, olds, strict=True):
        if record.digest != old.digest:
            if record.face != old.face:
                faces.add(old.source)
            renew(old, record)
            renewed.add(old.source)
    cache.commit()  # page workers read article bodies from the cache file
    problems: list[Problem] = []
    before = resident.after
    after = {path: signature for path, signature in before.items() if path not in gone}
    outputs = []
    if renewed:  # (else only files of layouts/static/ changed, or a story was saved as it was)
        outputs = rerender(resident.held, renewed, faces, layouts, problems, before, after, timings, options.jobs)
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
    cache.save_ledger(inputs.digest, resident.until, summary, inputs.racy, resident.since, quick=True)
    return summary


def same_sources(resident: Resident, cache: Cache, inputs: Inputs, now: datetime, out: Path) -> bool:
    """Whether only layouts or settings changed since the site in memory was made, and no setting that
    sources are read with (the same files under content/ and layouts/static/, the same Cache.reading): then
    its records are the ones these inputs make (and, with the same settings, its site too). The cache then
    keeps every entry and serves those records' bodies, as no source is read."""
    last = resident.inputs
    if cache.reading != resident.reading or inputs.states != last.states or \
            any(path in last.states for path in resaved(last.racy)) or not _current(resident, cache, now, out):
        return False
    cache.carry_over([])
    bodies.use(bodies.Bodies(cache))
    return True


def _current(resident: Resident, cache: Cache, now: datetime, out: Path) -> bool:
    """Whether the site in memory is the one for this moment, and the output folder still holds it (no other
    build wrote there since)."""
    if resident.until is not None and now.timestamp() >= resident.until or now.timestamp() < resident.since:
        return False
    ledger = cache.ledger()
    return ledger is not None and ledger[0] == resident.inputs.digest and os.path.isfile(os.path.join(out, MARKER))


SHAPE = ("source", "path", "date", "expires", "draft", "section", "tags", "authors")


def _same_shape(resident: Resident, new: dict[str, Article]) -> bool:
    """Whether the site keeps its shape with these records (by path) in place of the ones it has: the same
    fields that choose, group and place articles, none of them among Most Popular unless only its text
    changed (nor a new address or headline where page views choose Most Popular), each in its place in the
    newest-first order, and any new address free."""
    site, olds = resident.site, resident.by_path
    popular = {id(article) for article in site.popular}
    counted = resident.content.pageviews is not None  # Most Popular by views: chosen by address and headline
    for path, record in new.items():
        old = olds[path]
        if any(getattr(old, name) != getattr(record, name) for name in SHAPE):
            return False
        if record.face != old.face and id(old) in popular:
            return False
        if counted and (record.url != old.url or record.title != old.title):
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
