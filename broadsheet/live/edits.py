"""The quickest rebuild of a long-lived process: after edits to a few stories that leave the site's shape as
it was (the same articles in the same lists in the same order: text, headline, standfirst or picture
edits, not a new date, section, tag or byline), only the edited records are made again, and only the pages
that take them in are signed and rendered again (with the search files). Any other edit is the whole
build's: it alone is trusted with anything else, and gives the same bytes (the tests hold the two to it).
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass, replace
from time import perf_counter

from .. import render, search
from ..content import reload
from ..errors import Problem
from ..incremental import ledger
from ..model import newest_first, output_path, renewed
from ..pipeline import Run
from ..records import Article, Asset, Output
from ..write import Writing, write
from .changes import Edit
from .memory import Kept

MOST_EDITS = 50  # more changed articles than this: the whole build runs
# (a new feed id is checked against every other by the whole build)
SHAPE = ("source", "path", "date", "expires", "draft", "section", "tags", "authors", "id")


@dataclass(frozen=True)
class Edits:
    """What a save changed that a rebuild in place can take: the articles edited (by their path under
    content/, with their files' states) and the files of layouts/static/ to copy again."""

    rels: list[str]
    files: list[tuple[str, os.stat_result | None]]
    copied: list[Asset]


def rebuild(run: Run, last: Kept, edit: Edit) -> Kept | None:
    """The rebuild after edits in place (see the module), made from the site in memory: what it keeps for the
    next build, or None when the edits were of another kind (the caller makes the whole build)."""
    edits = _edits(run, last, edit)
    if edits is None:
        return None
    olds = [last.by_path[rel] for rel in edits.rels]
    timings: dict[str, float] = {}
    run.cache.carry_over(edits.rels)
    made = reload(run.config, run.folders.content, edits.files, run.cache, run.options.jobs) if edits.files else []
    timings["load"] = perf_counter() - run.started
    records = [record for record, _ in made]
    if any(record is None or found for record, found in made) or \
            not _same_shape(last, {old.path: record for record, old in zip(records, olds, strict=True)}):
        run.cache.read_all()  # the whole build runs (and finds these records cached)
        return None
    gone = {output_path(old.url) for record, old in zip(records, olds, strict=True) if record.url != old.url}
    last, edited, faces = _renewed(last, records, olds)
    run.cache.commit()  # page workers read article bodies from the cache file
    problems: list[Problem] = []
    before = last.made.signatures
    work = render.Work(run.folders.layouts, problems, before,
                       {path: sig for path, sig in before.items() if path not in gone}, timings, run.options.jobs)
    outputs = _rendered(last, edited, faces, work, run)
    writing = perf_counter()
    run.cache.stored = dict(before)
    files = write(iter(outputs), edits.copied, run.folders.out, problems,
                  Writing(partial=True, known=gone, on_apply=run.cache.forget_signatures))
    run.cache.save_signatures(work.after)
    timings["write"] = perf_counter() - writing
    summary = replace(last.made.summary, files=files, milliseconds=round((perf_counter() - run.started) * 1000),
                      timings={stage: round(seconds * 1000) for stage, seconds in timings.items()},
                      read=len(made), rendered=work.rendered)
    run.cache.save_ledger(ledger.Entry(edit.inputs.digest, last.since, last.made.until, summary, edit.inputs.racy,
                                       quick=True))
    return replace(last, made=replace(last.made, inputs=edit.inputs, signatures=work.after, summary=summary))


def _edits(run: Run, last: Kept, edit: Edit) -> Edits | None:
    """What changed since the site in memory, when a rebuild in place may take it: only article sources
    (a few, none of which had a warning) and files of layouts/static/; else None."""
    inputs, known = edit.inputs, last.made.inputs
    if inputs.settled != known.settled or inputs.states.keys() != known.states.keys():
        return None
    again = ledger.resaved(known.racy)
    if any(path not in known.states for path in again):
        return None  # a layout saved again within its clock's tick
    prefix = len(str(run.folders.content)) + 1
    copied = [last.assets[path] for path, state in inputs.states.items()
              if path in last.assets and (state != known.states[path] or path in again)]
    files = [(path, stat) for path, stat in edit.files if inputs.states[path] != known.states[path] or path in again]
    rels = [path[prefix:].replace(os.sep, "/") for path, _ in files]
    if not files and not copied or len(files) > MOST_EDITS or \
            any(not rel.startswith("articles/") or not rel.endswith(".md") or rel not in last.by_path for rel in rels):
        return None
    warned = {problem.path for problem in last.made.summary.warnings}
    if any(last.by_path[rel].source in warned for rel in rels):
        return None
    return Edits(rels, files, copied)


def _renewed(last: Kept, records: list[Article], olds: list[Article]) -> tuple[Kept, set[str], set[str]]:
    """The site in memory with each changed record in its old one's place (see model.renewed), and the
    sources of the articles that changed, and of those whose faces changed too."""
    new = {id(old): record for record, old in zip(records, olds, strict=True) if record.digest != old.digest}
    faces = {old.source for record, old in zip(records, olds, strict=True) if record.face != old.face
             and id(old) in new}
    if not new:
        return last, set(), faces
    site, swapped = renewed(last.made.site, new, last.holders)
    content = replace(last.made.content, articles=tuple(new.get(id(a), a) for a in last.made.content.articles))
    positions = dict(last.positions)
    for old_id, record in new.items():
        if old_id in positions:
            positions[id(record)] = positions.pop(old_id)
    sources = [record.source for record in new.values()]
    made = replace(last.made, site=site, content=content,
                   plan=last.made.plan.renewed(site, swapped, last.readers, sources))
    kept = replace(last, made=made, by_path={**last.by_path, **{a.path: a for a in new.values()}},
                   positions=positions)
    return kept, {record.source for record in new.values()}, faces


def _rendered(last: Kept, renewed: set[str], faces: set[str], work: render.Work, run: Run) -> list[Output]:
    """The pages and search files the renewed articles change (nothing when only files of layouts/static/
    changed, or a story was saved as it was)."""
    if not renewed:
        return []
    last.made.plan.signer.env.use(run.cache)  # (the layouts were made by an earlier build, with its cache)
    outputs = render.rerender(last.made.plan, last.readers, renewed, faces, work)
    searching = perf_counter()
    outputs += list(search.index(last.made.site, work.before, work.after, run.cache))
    work.timings["search"] = perf_counter() - searching
    return outputs


def _same_shape(last: Kept, new: dict[str, Article]) -> bool:
    """Whether the site keeps its shape with these records (by path) in place of the ones it has: the same
    fields that choose, group and place articles, none of them among Most Popular unless only its text
    changed (nor a new address or headline where page views choose Most Popular), each in its place in the
    newest-first order, and any new address free."""
    site, olds = last.made.site, last.by_path
    popular = {id(article) for article in site.popular}
    counted = last.made.content.pageviews is not None  # Most Popular by views: chosen by address and headline
    for path, record in new.items():
        old = olds[path]
        if any(getattr(old, name) != getattr(record, name) for name in SHAPE):
            return False
        if record.face != old.face and id(old) in popular:
            return False
        if counted and (record.url != old.url or record.title != old.title):
            return False
    return _addresses_free(last, new) and _in_order(last, new)


def _addresses_free(last: Kept, new: dict[str, Article]) -> bool:
    """Whether every new address is free (as the collision check of make_site compares them)."""
    olds = last.by_path
    moved = {path: record for path, record in new.items() if record.url != olds[path].url}
    if not moved:
        return True
    if any(id(olds[path]) not in last.positions for path in moved):
        return False  # an unpublished story's address is checked by the whole build
    taken = {_file_key(path) for path in last.made.signatures} - {_file_key(output_path(olds[p].url)) for p in moved}
    wanted = [_file_key(output_path(record.url)) for record in moved.values()]
    return len(set(wanted)) == len(wanted) and not taken.intersection(wanted)


def _in_order(last: Kept, new: dict[str, Article]) -> bool:
    """Whether each edited article keeps its place in the newest-first order."""
    olds, order = last.by_path, last.made.site.articles

    def key(article: Article) -> tuple[float, str, str]:
        return newest_first(new.get(article.path, article))

    for path in new:
        at = last.positions.get(id(olds[path]))
        if at is not None and (at > 0 and not key(order[at - 1]) < key(order[at]) or
                               at + 1 < len(order) and not key(order[at]) < key(order[at + 1])):
            return False
    return True


def _file_key(path: str) -> str:
    return unicodedata.normalize("NFC", path).casefold()  # as the collision check of make_site compares
