"""Article bodies (rendered HTML and search words), kept apart from the records.

A record carries only its body's key; the HTML is read from the build cache when a page needs it, so a
rebuild does not load every article's text, and memory stays flat however large the archive grows.
Without a cache (a library call) bodies are held in memory.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .cache import Cache


class Bodies:
    """Bodies by key: in the cache when there is one, else in memory."""

    def __init__(self, cache: Cache | None = None) -> None:
        self.cache = cache
        self.held: dict[str, str] = {}
        self.pid = os.getpid()
        self.reader: sqlite3.Connection | None = None

    def add(self, html: str, terms: str) -> str:
        """Keep a body and return its key (the same body always gets the same key)."""
        key = hashlib.sha256(html.encode() + b"\0" + terms.encode()).hexdigest()[:40]
        for kind, text in (("html", html), ("terms", terms)):
            if self.cache is None:
                self.held[f"{kind}:{key}"] = text
            else:
                self.cache.put(f"{kind}:{key}", text)
        return key

    def keep(self, key: str) -> None:
        """A body this build still uses (so the cache keeps it) though nothing read it."""
        if self.cache is not None:
            self.cache.used.update((f"html:{key}", f"terms:{key}"))

    def html(self, key: str) -> str:
        return self._get(f"html:{key}")

    def terms(self, key: str) -> str:
        return self._get(f"terms:{key}")

    def all_terms(self, keys: list[str]) -> list[str]:
        """The search words of many bodies at once (one query per few hundred, not one each)."""
        names = [f"terms:{key}" for key in keys]
        found = self.cache.get_many([n for n in names if n not in self.held]) if self.cache is not None else {}
        return [self.held[n] if n in self.held else found[n] if n in found else self._get(n) for n in names]

    def _get(self, name: str) -> str:
        if name in self.held:
            return self.held[name]
        value = None
        if self.cache is not None:
            value = self.cache.get(name) if os.getpid() == self.pid else self._read_in_child(name)
        if value is None:
            raise LookupError(f"article body {name} is not in the cache; run the build with --fresh")
        return value

    def _read_in_child(self, name: str) -> str | None:
        """In a forked worker: a connection of its own (a SQLite connection never crosses a fork)."""
        assert self.cache is not None
        if name in self.cache.new:
            return pickle.loads(self.cache.new[name])
        if self.reader is None:
            self.reader = sqlite3.connect(f"file:{self.cache.path}?mode=ro", uri=True)
        row = self.reader.execute("SELECT value FROM entries WHERE key = ?", (name,)).fetchone()
        return pickle.loads(row[0]) if row else None


current = Bodies()


def use(store: Bodies) -> None:
    """Make store the one article bodies are read from (each build sets its own)."""
    global current
    current = store
