"""The site a long-lived process (the preview, `watch`) builds again on every save: LiveSite keeps the last
build in memory and makes the next one from it by composing the pipeline's stages, the quickest way the
change allows:

1. a few stories edited in a way that leaves the site's shape as it was: only those records are made
   again, and only the pages that take them in are signed and rendered again (see edits.py);
2. only layouts or settings changed: the records (and, with the same settings, the site) in memory are
   rendered again, with no source read;
3. anything else: the whole pipeline, as `build` runs it.
Each gives the same bytes as a cold build (tests/test_live.py holds them to it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from pathlib import Path

from .. import pipeline, render
from ..config import Options
from ..content import Sources, survey
from ..errors import BuildError, Problem
from ..incremental import ledger
from ..incremental.cache import Memory
from ..model import Site
from ..pipeline import Run, Summary
from ..records import Content
from ..write import MARKER
from . import edits
from .changes import Edit, watched_inputs
from .memory import Kept


class Superseded(Exception):  # noqa: N818 -- not an error: what a build raises when it gives way
    """A newer save came while the build was rendering: it stopped before writing anything."""


@dataclass(frozen=True)
class OpenPages:
    """The pages the preview's open tabs show (output paths), made before all others, and what is given
    their bytes before anything is written."""

    paths: frozenset[str]
    show: Callable[[dict[str, bytes]], None]


class LiveSite:
    """One output folder built again and again in one process: the last build in memory (`last`), and what
    the cache read (`memory`), so that the next build reads and renders only what a save touched."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.last: Kept | None = None
        self.memory: Memory | None = None

    def rebuild(self, changed: Collection[Path] | None = None, open_pages: OpenPages | None = None,
                superseded: Callable[[], bool] | None = None) -> Summary:
        """Build again after the saves `changed` (None: unknown, every file is looked at). The open pages are
        made first; when `superseded` says a newer save came, the build stops unwritten (Superseded)."""
        with pipeline.begin(self.options, memory=self.memory) as run:
            try:
                return self._rebuild(run, changed, open_pages, superseded)
            finally:
                if run.cache.used:  # (a build that read nothing leaves what the last one read)
                    self.memory = run.cache.memory()

    def _rebuild(self, run: Run, changed: Collection[Path] | None, open_pages: OpenPages | None,
                 superseded: Callable[[], bool] | None) -> Summary:
        last, self.last = self._valid(run), None  # (until told otherwise, memory is not the output folder)
        if last is not None and changed is not None:  # the watcher said what changed: look at nothing else
            edit = watched_inputs(last.made.inputs, changed, run)
            summary = self._from_memory(run, last, edit, open_pages, superseded) if edit else None
            if summary is not None:
                return summary
            last = None
        sources = survey(run.config, run.folders, run.problems)
        inputs = replace(pipeline.read_inputs(run, sources), links=any(os.path.islink(p) for p, _ in sources.files))
        if last is not None:
            done = pipeline.unchanged(run, inputs, trust_quick=True)
            if done is not None:
                self.last = last
                return done
            summary = self._from_memory(run, last, Edit(sources.files, inputs), open_pages, superseded)
            if summary is not None:
                return summary
        return self._whole(run, sources, inputs, open_pages, superseded)

    def _valid(self, run: Run) -> Kept | None:
        """The last build, when it can be built on: made with this cache file, and not a fresh build."""
        last = self.last
        return last if last is not None and last.identity == run.cache.identity and not run.options.fresh else None

    def _from_memory(self, run: Run, last: Kept, edit: Edit, open_pages: OpenPages | None,
                     superseded: Callable[[], bool] | None) -> Summary | None:
        """The build made from the site in memory when these inputs allow it (a few stories edited in place,
        or only layouts or settings changed), else None: the whole pipeline runs."""
        if not _current(last, run):
            return None
        kept = edits.rebuild(run, last, edit)
        if kept is not None:
            self.last = kept
            return kept.made.summary
        if not _same_sources(last, run, edit.inputs):
            return None
        try:
            if edit.inputs.settings == last.made.inputs.settings:
                site = last.made.site
                _carry(last.made.found, run.problems)
            else:
                _carry(last.made.content.warnings, run.problems)
                site = pipeline.model(run, last.made.content)
            return self._publish(run, last.made.content, site, edit.inputs, open_pages, superseded)
        except (BuildError, Superseded):
            self.last = last  # (nothing was written) the next save starts from it again
            raise

    def _whole(self, run: Run, sources: Sources, inputs: ledger.Inputs, open_pages: OpenPages | None,
               superseded: Callable[[], bool] | None) -> Summary:
        """The whole pipeline, as `build` runs it, keeping what it made."""
        content = pipeline.read(run, sources)
        site = pipeline.model(run, content)
        return self._publish(run, content, site, inputs, open_pages, superseded)

    def _publish(self, run: Run, content: Content, site: Site, inputs: ledger.Inputs, open_pages: OpenPages | None,
                 superseded: Callable[[], bool] | None) -> Summary:
        """The layouts, the open pages first, then every page written (unless a newer save supersedes it)."""
        env = pipeline.layouts(run, site)
        if open_pages is not None and open_pages.paths:
            open_pages.show(render.render_first(site, env, run.folders.layouts, open_pages.paths))
        made = pipeline.publish(run, content, site, env, inputs, _stop_when(superseded))
        self.last = Kept.of(made, run)
        return made.summary


def _stop_when(superseded: Callable[[], bool] | None) -> pipeline.Progress | None:
    """A progress callback that asks, every 50 outputs (before any is written), whether a newer save makes
    this build moot, and then stops it."""
    if superseded is None:
        return None

    def progress(done: int, total: int) -> None:
        if done % 50 == 0 and superseded():
            raise Superseded

    return progress


def _carry(found: tuple[Problem, ...], problems: list[Problem]) -> None:
    """Add to problems what an earlier build found that this one did not look for again (in their order)."""
    seen = set(problems)
    problems.extend(problem for problem in dict.fromkeys(found) if problem not in seen)


def _same_sources(last: Kept, run: Run, inputs: ledger.Inputs) -> bool:
    """Whether only layouts or settings changed since the site in memory was made, and no setting that
    sources are read with (the same files under content/ and layouts/static/, the same Cache.reading): then
    its records are the ones these inputs make (and, with the same settings, its site too). The cache then
    keeps every entry and serves those records' bodies, as no source is read."""
    known = last.made.inputs
    if run.cache.reading != last.reading or inputs.states != known.states or \
            any(path in known.states for path in ledger.resaved(known.racy)):
        return False
    run.cache.carry_over([])
    return True


def _current(last: Kept, run: Run) -> bool:
    """Whether the site in memory is the one for this moment, and the output folder still holds it (no other
    build wrote there since)."""
    moment = run.now.timestamp()
    if last.made.until is not None and moment >= last.made.until or moment < last.since:
        return False
    entry = ledger.last_entry(run.cache)
    return entry is not None and entry.digest == last.made.inputs.digest and \
        os.path.isfile(os.path.join(run.folders.out, MARKER))
