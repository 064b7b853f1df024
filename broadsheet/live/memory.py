"""What a long-lived process keeps of its last build, for the next one to start from."""

from __future__ import annotations

from dataclasses import dataclass

from .. import render
from ..model import related_holders
from ..pipeline import Made, Run
from ..records import Article, Asset


@dataclass(frozen=True)
class Kept:
    """The last build of this process, kept for the next: what it made, which pages take in each article,
    the cache file and reading settings its records lean on, and lookups into its records."""

    made: Made
    readers: render.Readers
    identity: str  # of the cache file (Cache.identity)
    reading: str  # the settings its records were read with (Cache.reading)
    since: float  # the moment the site was made for
    by_path: dict[str, Article]
    positions: dict[int, int]  # each published article's place in the newest-first order, by id()
    assets: dict[str, Asset]  # the files of layouts/static/ by their path
    holders: dict[str, tuple[str, ...]]  # whose related stories hold each article (see model.related_holders)

    @classmethod
    def of(cls, made: Made, run: Run) -> Kept:
        """What to keep of a build that ran the whole pipeline."""
        return cls(made, render.readers(made.plan), run.cache.identity, run.cache.reading, run.now.timestamp(),
                   {a.path: a for a in made.content.articles}, {id(a): i for i, a in enumerate(made.site.articles)},
                   {str(a.source): a for a in made.site.assets if a.path.startswith("static/")},
                   related_holders(made.site))
