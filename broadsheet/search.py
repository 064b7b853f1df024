"""The search index: compact JSON files that a small script on /search/ queries in the browser.

Articles are numbered oldest first, so a new article takes the next number and the others keep theirs.
The index a build makes is kept in the build cache (each term's documents, and the bytes of every file);
the next build takes out the articles that changed and puts them back in, and encodes again only the
files whose terms or rows changed. Its bytes are the same as a fresh index's (the tests hold it to that).
"""

from __future__ import annotations

import hashlib
import json
from array import array
from bisect import bisect_left, insort
from collections.abc import Iterator
from typing import Any

from . import __version__, bodies
from .incremental.cache import Cache
from .model import Site
from .records import Article, Output
from .templating import format_date
from .terms import words

DOCS_PER_SHARD = 1000
SINGLE_FILE_LIMIT = 1024 * 1024
FORMAT = 2  # of the index files (the manifest's "version")
STATE_FORMAT = 3  # of the state kept in the cache
STATE_KEY = "search-index"
MOST_CHANGES = 200  # more changed articles than this: the index is made afresh (quicker than patching)


def index(site: Site, before: dict[str, str] | None = None, after: dict[str, str] | None = None,
          cache: Cache | None = None) -> Iterator[Output]:
    """search/index.json (the manifest), search/docs-N.json and the term files.

    A file the previous build left as it should be (by its signature in `before`) is yielded without data;
    the signatures of this build's files go into `after`.
    """
    articles = list(reversed(site.articles))  # oldest first: numbers stay put as news is added
    settings = repr((__version__, FORMAT, STATE_FORMAT, site.config.date_format,
                     [(s.slug, s.name) for s in site.sections]))
    state = _recalled(cache) if cache is not None else None
    if state is None or state.settings != settings:
        state = _State(settings)
    before = before or {}
    try:
        files, changed = state.update(site, articles, before, bodies.Bodies(cache))
    except BaseException:
        if cache is not None:  # the state was changed in place: never reuse it half-done
            cache.remembered.pop(STATE_KEY, None)
        raise
    if cache is not None:
        _keep(cache, state, changed)
    for path, data, signature in files:
        if after is not None:
            after[path] = signature
        yield Output(path, None if data is None or before.get(path) == signature else data)


def _recalled(cache: Cache) -> _State | None:
    """The state the last build left: the one in memory, else put together from its pieces in the cache."""
    state = cache.get_many([STATE_KEY], remember=True).get(STATE_KEY)
    if not isinstance(state, _State):
        return None
    if state.postings is None:  # unpickled: its pieces are entries of their own
        names = state.pieces()
        found = cache.get_many(names)
        if len(found) != len(names):
            return None
        state.postings, state.keys, state.rows, state.bodies = {}, [], [], []
        for name in names:
            if name.startswith(DOCS_PIECE):
                keys, rows, body_keys = found[name]
                state.keys += keys
                state.rows += rows
                state.bodies += body_keys
            else:
                state.postings.update(found[name])
        state.dirty = set()
    cache.keep(*state.pieces())
    return state


def _keep(cache: Cache, state: _State, changed: bool) -> None:
    """Put the state's changed pieces in the cache (and the whole state in memory for the next build)."""
    if not changed and not state.dirty:
        return
    assert state.postings is not None
    grouped, postings = state.grouped(), state.postings
    letters = {name: {term: postings[term] for term in grouped.get(name[len(TERMS_PIECE):], ())}
               for name in state.dirty if name.startswith(TERMS_PIECE)}
    for name in sorted(state.dirty):
        if name.startswith(DOCS_PIECE):
            n = int(name[len(DOCS_PIECE):])
            part = slice(n * DOCS_PER_SHARD, (n + 1) * DOCS_PER_SHARD)
            cache.put(name, (state.keys[part], state.rows[part], state.bodies[part]))
        elif name in letters:
            cache.put(name, letters[name])
    state.dirty = set()
    cache.put(STATE_KEY, state, remember=True)  # pickled without its pieces (see _State.__getstate__)


DOCS_PIECE = STATE_KEY + ":docs-"
TERMS_PIECE = STATE_KEY + ":terms-"


class _State:
    """The index as the last build left it: each document's key, row and body, each term's documents (title
    matches and other matches, ascending), and each file's size and signature.

    In the cache it is kept in pieces, so an edit re-stores only what it changed: the documents a thousand
    at a time, the terms by first letter (`pieces`); the state itself holds the rest."""

    def __init__(self, settings: str) -> None:
        self.settings = settings
        self.sources: list[str] = []
        self.keys: list[tuple[str, str]] = []
        self.rows: list[list[str]] = []
        self.bodies: list[str] = []  # each document's body key (its words are in the cache under it)
        self.postings: dict[str, tuple[array, array]] | None = {}  # arrays of numbers: quick to load
        self.parts: dict[str, tuple[int, str]] = {}  # size and signature of "docs-N", each letter, "terms"
        self.letters: set[str] = set()  # the first letters of the terms
        self._grouped: dict[str, set[str]] | None = {}  # the terms by first letter (worked out when first asked)
        self.dirty: set[str] = set()  # the pieces changed since the state was last put in the cache
        self.store = bodies.Bodies()  # where the articles' words are read (the build's cache, see update)

    def __getstate__(self) -> dict[str, Any]:
        return {"settings": self.settings, "sources": self.sources, "parts": self.parts, "letters": self.letters,
                "postings": None}

    def __setstate__(self, saved: dict[str, Any]) -> None:
        self.__init__(saved.get("settings", "") if "letters" in saved else "")  # an older shape: start afresh
        if "letters" in saved:
            self.sources, self.parts, self.letters, self.postings = (saved["sources"], saved["parts"],
                                                                     saved["letters"], None)
            self._grouped = None

    def grouped(self) -> dict[str, set[str]]:
        """The terms by the letter (see _letter) of the file they are in."""
        if self._grouped is None:
            self._grouped = {}
            for term in self.postings or ():
                self._grouped.setdefault(_letter(term), set()).add(term)
        return self._grouped

    def pieces(self) -> list[str]:
        """The cache names of the state's pieces."""
        count = -(-len(self.sources) // DOCS_PER_SHARD)
        return [f"{DOCS_PIECE}{n}" for n in range(count)] + [TERMS_PIECE + letter for letter in sorted(self.letters)]

    def update(self, site: Site, articles: list[Article], before: dict[str, str],
               store: bodies.Bodies) -> tuple[list[tuple[str, bytes | None, str]], bool]:
        """Bring the index up to date with articles (their words read from `store`): every file of the index
        as (path, bytes or None when the previous build's file is right, signature), and whether anything
        changed."""
        self.store = store
        sources = [a.source for a in articles]
        keys = [(a.digest, a.url) for a in articles]
        kept, changed = self._kept(sources, keys)
        tracking = bool(self.parts)  # else every part is encoded anyway
        dropped = set(changed) | set(range(kept, len(self.sources)))
        added = changed + list(range(kept, len(articles)))
        removed = self._remove(dropped, kept)
        old_rows = self.rows
        put = self._put(site, articles, kept, added, tracking)
        self.sources, self.keys = sources, keys
        stale = {_letter(term) for term, _, _ in removed ^ put}  # a list an article left and rejoined is as it was
        stale |= {f"docs-{i // DOCS_PER_SHARD}" for i in added if i >= len(old_rows) or old_rows[i] != self.rows[i]}
        stale |= {f"docs-{i // DOCS_PER_SHARD}" for i in range(len(self.rows), len(old_rows))}
        self._mark(stale, added, dropped, tracking)
        files = self._files(stale, before)
        return files, bool(added or dropped or any(data is not None for _, data, _ in files))

    def _kept(self, sources: list[str], keys: list[tuple[str, str]]) -> tuple[int, list[int]]:
        """How many documents keep their numbers, and which of those changed; (0, []) with the state made
        empty when so much changed that making the index afresh is quicker."""
        kept = next((i for i, (old, new) in enumerate(zip(self.sources, sources, strict=False)) if old != new),
                    min(len(self.sources), len(sources)))  # numbers below this still name the same article
        changed = [i for i in range(kept) if self.keys[i] != keys[i]]
        assert self.postings is not None
        if len(changed) + max(len(sources), len(self.sources)) - kept > MOST_CHANGES:  # start afresh
            self.postings, self.sources, self.keys, self.rows, self.bodies, self.parts = {}, [], [], [], [], {}
            self._grouped = {}
            return 0, []
        return kept, changed

    def _put(self, site: Site, articles: list[Article], kept: int, added: list[int],
             tracking: bool) -> set[tuple[str, int, int]]:
        """Give the documents from `kept` on, and the `added` ones, their rows, bodies and terms; what was put
        into the terms' lists, as (term, list, number)."""
        self.rows = self.rows[:kept] + [[] for _ in range(kept, len(articles))]
        self.bodies = self.bodies[:kept] + [""] * (len(articles) - kept)
        body_terms = self.store.all_terms([articles[i].body for i in added])
        put: set[tuple[str, int, int]] = set()
        for i, terms in zip(added, body_terms, strict=True):
            put |= self._add(i, articles[i], terms, tracking)
            self.rows[i] = _row(site, articles[i])
            self.bodies[i] = articles[i].body
        return put

    def _mark(self, stale: set[str], added: list[int], dropped: set[int], tracking: bool) -> None:
        """Note the pieces to put in the cache again: the stale files' terms, the documents that went or came,
        and every piece when the letters changed or nothing was tracked."""
        letters = set(self.grouped())
        self.dirty |= {TERMS_PIECE + name for name in stale if not name.startswith("docs-")}
        self.dirty |= {f"{DOCS_PIECE}{i // DOCS_PER_SHARD}" for i in (*added, *dropped)}
        if not tracking or letters != self.letters:
            self.dirty |= {TERMS_PIECE + name for name in letters}
        self.letters = letters
        if not tracking:
            self.dirty |= set(self.pieces())

    def _remove(self, numbers: set[int], kept: int) -> set[tuple[str, int, int]]:
        """Take documents out of every term's lists (all from `kept` on); what was taken, as (term, list,
        number). Documents in the middle are looked for only under their own words, when these are known."""
        taken: set[tuple[str, int, int]] = set()
        assert self.postings is not None
        if not numbers:
            return taken
        few = sorted(n for n in numbers if n < kept)
        if kept >= len(self.sources):  # none from `kept` on: only the terms the few documents had
            terms = self._terms(few)
            if terms is not None:
                for term in terms:
                    lists = self.postings.get(term)
                    for which, found in enumerate(lists or ()):
                        for n in few:
                            at = bisect_left(found, n)
                            if at < len(found) and found[at] == n:
                                del found[at]
                                taken.add((term, which, n))
                    if lists is not None and not lists[0] and not lists[1]:
                        self._drop(term)
                return taken
        for term, lists in list(self.postings.items()):
            for which, found in enumerate(lists):
                for n in few:
                    at = bisect_left(found, n)
                    if at < len(found) and found[at] == n:
                        del found[at]
                        taken.add((term, which, n))
                at = bisect_left(found, kept)
                taken.update((term, which, n) for n in found[at:])
                del found[at:]
            if not lists[0] and not lists[1]:
                self._drop(term)
        return taken

    def _drop(self, term: str) -> None:
        """Forget a term no document has any more."""
        assert self.postings is not None
        del self.postings[term]
        if self._grouped is not None:
            group = self._grouped[_letter(term)]
            group.discard(term)
            if not group:
                del self._grouped[_letter(term)]

    def _terms(self, numbers: list[int]) -> set[str] | None:
        """Every term of these documents as they were indexed (None when a body's words are no longer kept)."""
        if len(self.bodies) < len(self.rows) or not all(self.bodies[n] for n in numbers):
            return None
        try:
            texts = self.store.all_terms([self.bodies[n] for n in numbers])
        except LookupError:
            return None
        found: set[str] = set()
        for n, text in zip(numbers, texts, strict=True):
            found |= words(self.rows[n][1]) | words(self.rows[n][2]) | set(text.split())
        return found

    def _add(self, number: int, article: Article, terms: str, tracking: bool) -> set[tuple[str, int, int]]:
        """Put a document into its terms' lists (title words first); what was put, as (term, list, number)."""
        in_title = words(article.title)
        others = (words(article.description) | set(terms.split())) - in_title
        put = set()
        for which, found in ((0, in_title), (1, others)):
            for term in found:
                lists = self.postings.get(term)
                if lists is None:
                    lists = self.postings[term] = (array("I"), array("I"))
                    if self._grouped is not None:
                        self._grouped.setdefault(_letter(term), set()).add(term)
                numbers = lists[which]
                if not numbers or numbers[-1] < number:
                    numbers.append(number)
                else:
                    insort(numbers, number)
            if tracking:
                put.update((term, which, number) for term in found)
        return put

    def _files(self, stale: set[str], before: dict[str, str]) -> list[tuple[str, bytes | None, str]]:
        """Every file of the index: encoded again when stale, never encoded or not as the previous build
        left it; else without bytes."""
        doc_parts = [f"docs-{n}" for n in range(max(1, -(-len(self.rows) // DOCS_PER_SHARD)))]
        by_letter = self.grouped()
        self.parts = {name: known for name, known in self.parts.items()
                      if name in by_letter or name in doc_parts or name == "terms"}
        encoded: dict[str, bytes] = {}  # the parts encoded by this build
        files = [self._file(name, f"search/{name}.json", encoded, stale, before) for name in doc_parts]
        for letter in by_letter:
            if letter in stale or letter not in self.parts:
                self._encode(letter, encoded)
        letters = sorted(by_letter, key=lambda key: int(key, 16))  # the order of the terms' first letters
        size = 1 + sum(self.parts[key][0] - 1 for key in letters) if letters else 2  # all terms in one file
        shards: list[str] = [] if size <= SINGLE_FILE_LIMIT else sorted(by_letter)
        if shards:
            files += [self._file(key, f"search/terms-{key}.json", encoded, stale, before) for key in shards]
        else:
            files.append(self._all_terms(letters, encoded, before))
        manifest = _json({"version": FORMAT, "count": len(self.rows), "docs": [f"{name}.json" for name in doc_parts],
                          "docs_per_file": DOCS_PER_SHARD, "order": "oldest-first",
                          "terms": "terms.json" if not shards else "terms-{letter}.json", "letters": shards})
        files.append(("search/index.json", manifest, hashlib.sha256(manifest).hexdigest()))
        return files

    def _file(self, name: str, path: str, encoded: dict[str, bytes], stale: set[str],
              before: dict[str, str]) -> tuple[str, bytes | None, str]:
        """The file of one part: encoded again when stale, never encoded or not as the previous build left it."""
        if name in stale or name not in self.parts or before.get(path) != self.parts[name][1]:
            self._encode(name, encoded)
        return path, encoded.get(name), self.parts[name][1]

    def _all_terms(self, letters: list[str], encoded: dict[str, bytes],
                   before: dict[str, str]) -> tuple[str, bytes | None, str]:
        """search/terms.json, every letter's terms in one file: joined again when any letter was encoded."""
        whole = "search/terms.json"
        if any(key in encoded for key in letters) or "terms" not in self.parts \
                or before.get(whole) != self.parts["terms"][1]:
            data = b"{" + b",".join(self._encode(key, encoded)[1:-1] for key in letters) + b"}"
            self.parts["terms"] = (len(data), hashlib.sha256(data).hexdigest())
            return whole, data, self.parts["terms"][1]
        return whole, None, self.parts["terms"][1]

    def _encode(self, name: str, encoded: dict[str, bytes]) -> bytes:
        """The bytes of a part ("docs-N" or a letter's terms), encoded once a build; its size and signature
        go into `parts`."""
        if name not in encoded:
            if name.startswith("docs-"):
                n = int(name[5:])
                encoded[name] = _json(self.rows[n * DOCS_PER_SHARD:(n + 1) * DOCS_PER_SHARD])
            else:
                postings = self.postings
                assert postings is not None
                encoded[name] = _json({term: [_deltas(postings[term][0]), _deltas(postings[term][1])]
                                       for term in sorted(self.grouped()[name])})
            self.parts[name] = (len(encoded[name]), hashlib.sha256(encoded[name]).hexdigest())
        return encoded[name]


def _row(site: Site, article: Article) -> list[str]:
    return [article.url, article.title, article.description, site.section(article.section).name,
            article.date.date().isoformat(), format_date(article.date, site.config.date_format)]


def _letter(term: str) -> str:
    """The term file a term is in: its first character's code point in hex ('tram' -> '74')."""
    return f"{ord(term[0]):x}"


def _deltas(numbers: array) -> list[int]:
    """Ascending document numbers as gaps (smaller JSON): [3, 7, 8] -> [3, 4, 1]."""
    return [n - p for p, n in zip([0, *numbers], numbers, strict=False)]


def _json(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
