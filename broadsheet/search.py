"""The search index: compact JSON files that a small script on /search/ queries in the browser."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from html import unescape

from .model import Site
from .render import Output, format_date

DOCS_PER_SHARD = 1000
SINGLE_FILE_LIMIT = 1024 * 1024
STOPWORDS = frozenset("""a about after again against all also am an and any are as at be because been before being
between both but by can could did do does doing down during each few for from further had has have having he her
here hers him his how i if in into is it its itself just me more most my no nor not now of off on once only or
other our ours out over own same she should so some such than that the their theirs them then there these they
this those through to too under until up very was we were what when where which while who whom why will with
would you your yours said says""".split())


def words(text: str) -> list[str]:
    """Lowercase search terms of text, in order: stop words and one- or two-letter words left out."""
    text = unicodedata.normalize("NFKC", unescape(re.sub(r"<[^>]+>", " ", text))).casefold()
    text = re.sub(r"(?<=\w)['’.,](?=\w)", "", text)
    found = re.findall(r"\w+", text)
    return [w for w in found if (len(w) > 2 or w.isdigit() and len(w) == 2) and w not in STOPWORDS]


def index(site: Site) -> Iterator[Output]:
    """search/index.json (the manifest), search/docs-N.json and the term files."""
    docs = [[a.url, a.title, a.description, site.section(a.section).name, a.date.date().isoformat(),
             format_date(a.date, site.config.date_format)] for a in site.articles]
    postings: dict[str, tuple[list[int], list[int]]] = {}
    for number, article in enumerate(site.articles):
        in_title = set(words(article.title))
        for term in in_title:
            postings.setdefault(term, ([], []))[0].append(number)
        for term in set(words(article.description + " " + article.html)) - in_title:
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
