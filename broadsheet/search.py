"""The search index: compact JSON files that a small script on /search/ queries in the browser."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

from . import __version__, bodies
from .model import Site
from .render import Output, format_date
from .terms import words

DOCS_PER_SHARD = 1000
SINGLE_FILE_LIMIT = 1024 * 1024
def index(site: Site, before: dict[str, str] | None = None, after: dict[str, str] | None = None) -> Iterator[Output]:
    """search/index.json (the manifest), search/docs-N.json and the term files; the previous build's files
    when no article changed (their signatures go into `after`)."""
    # an article's digest covers its section (from its front matter or folder); the names come from settings
    signature = hashlib.sha256(repr((__version__, site.config.date_format, site.stamp,
                                     [(s.slug, s.name) for s in site.sections])).encode()).hexdigest()
    before = before or {}
    kept = [path for path, value in before.items() if path.startswith("search/") and value == signature]
    complete = kept and before.get("search/") == f"{signature}:{len(kept)}"  # every file still on disk
    files = list(_unchanged(kept) if complete else _index(site))
    if after is not None:
        after.update((output.path, signature) for output in files)
        after["search/"] = f"{signature}:{len(files)}"
    yield from files


def _unchanged(paths: list[str]) -> Iterator[Output]:
    for path in sorted(paths):
        yield Output(path, None)


def _index(site: Site) -> Iterator[Output]:
    docs = [[a.url, a.title, a.description, site.section(a.section).name, a.date.date().isoformat(),
             format_date(a.date, site.config.date_format)] for a in site.articles]
    postings: dict[str, tuple[list[int], list[int]]] = {}
    body_terms = bodies.current.all_terms([a.body for a in site.articles])
    for number, (article, terms) in enumerate(zip(site.articles, body_terms, strict=True)):
        in_title = set(words(article.title))
        for term in in_title:
            postings.setdefault(term, ([], []))[0].append(number)
        for term in (set(words(article.description)) | set(terms.split())) - in_title:
            postings.setdefault(term, ([], []))[1].append(number)
    encoded = {term: [_deltas(t), _deltas(b)] for term, (t, b) in sorted(postings.items())}
    doc_files = [f"docs-{n}.json" for n in range(max(1, -(-len(docs) // DOCS_PER_SHARD)))]
    for n, name in enumerate(doc_files):
        yield _json(f"search/{name}", docs[n * DOCS_PER_SHARD:(n + 1) * DOCS_PER_SHARD])
    whole = _json("search/terms.json", encoded)
    if len(whole.data) <= SINGLE_FILE_LIMIT:
        yield whole
        shards: list[str] = []
    else:
        by_letter: dict[str, dict] = {}
        for term, lists in encoded.items():
            by_letter.setdefault(f"{ord(term[0]):x}", {})[term] = lists
        shards = sorted(by_letter)
        for key in shards:
            yield _json(f"search/terms-{key}.json", by_letter[key])
    manifest = {"version": 1, "count": len(docs), "docs": doc_files, "docs_per_file": DOCS_PER_SHARD,
                "terms": "terms.json" if not shards else "terms-{letter}.json", "letters": shards}
    yield _json("search/index.json", manifest)


def _deltas(numbers: list[int]) -> list[int]:
    """Ascending document numbers as gaps (smaller JSON): [3, 7, 8] -> [3, 4, 1]."""
    return [n - p for p, n in zip([0, *numbers], numbers, strict=False)]


def _json(path: str, data: object) -> Output:
    return Output(path, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
