"""Article bodies (rendered HTML and search words), kept apart from the records.

A record carries only its body's key; the HTML is read from the build cache when a page needs it, so a
rebuild does not load every article's text, and memory stays flat however large the archive grows.
Without a cache (a library call, or one worker's source) bodies are held in memory. Each build makes its
own store over its own cache and hands it to what reads bodies (the layouts, the search index).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .incremental.cache import Cache


class Bodies:
    """Bodies by key: in the cache when there is one, else in memory."""

    def __init__(self, cache: Cache | None = None) -> None:
        self.cache = cache
        self.held: dict[str, str] = {}

    def add(self, html: str, terms: str) -> str:
        """Keep a body and return its key (the same body always gets the same key)."""
        key = hashlib.sha256(html.encode() + b"\0" + terms.encode()).hexdigest()[:40]
        for name, text in ((f"html:{key}", html), (f"terms:{key}", terms)):
            if self.cache is None:
                self.held[name] = text
            else:
                self.cache.put(name, text)
        return key

    def take(self, texts: dict[str, str]) -> None:
        """Keep bodies another store collected (a worker process's), by name."""
        for name, text in texts.items():
            if self.cache is None:
                self.held[name] = text
            else:
                self.cache.put(name, text)

    def keep(self, key: str) -> None:
        """A body this build still uses (so the cache keeps it) though nothing read it."""
        if self.cache is not None:
            self.cache.keep(f"html:{key}", f"terms:{key}")

    def html(self, key: str) -> str:
        """The rendered HTML of a body."""
        return self._found([f"html:{key}"])[0]

    def all_terms(self, keys: list[str]) -> list[str]:
        """The search words of many bodies (read from the cache together, not one by one)."""
        return self._found([f"terms:{key}" for key in keys])

    def _found(self, names: list[str]) -> list[str]:
        found = self.held if self.cache is None else self.cache.get_many(names)
        missing = next((name for name in names if name not in found), None)
        if missing is not None:
            raise LookupError(f"article body {missing} is not in the cache; run the build with --fresh")
        return [found[name] for name in names]
