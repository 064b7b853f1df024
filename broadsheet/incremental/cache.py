"""A persistent cache of what reading a source file produced, keyed by the file's bytes and the settings.

It lives beside the output folder (`.site.cache`), so a rebuild neither re-parses nor re-renders a file
whose bytes did not change. A change of Broadsheet's version, or of a setting that reading a source uses
(`READING`), changes every key; other settings shape only pages, which are signed with all of them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import jinja2
import jinja2.bccache

from .. import __version__
from ..config import Config
from ..errors import BuildError, Problem, display_path

FORMAT = 6  # raise whenever what is stored changes shape, so an older cache is never trusted
# The settings that what a source becomes depends on (dates, addresses, Markdown and its sanitiser, the paths
# problems name); tests/test_incremental.py holds every other setting to leave every record as it was.
READING = ("timezone", "default_section", "permalink", "base_path", "raw_html", "embed_hosts", "markdown_timeout",
           "root", "interactives")  # (interactives: which files of content/ may be copied)
_SCHEMA = ("CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value BLOB NOT NULL);"
           "CREATE TABLE IF NOT EXISTS outputs (path TEXT PRIMARY KEY, signature TEXT NOT NULL);"
           "CREATE TABLE IF NOT EXISTS files (name TEXT PRIMARY KEY, state TEXT NOT NULL, key TEXT NOT NULL);"
           "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")


class CacheDamaged(BuildError):
    """SQLite could not read or write the cache file (damaged, or the disk full): the file has been deleted, so
    the next build makes it afresh (`pipeline.build` does so at once)."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__([Problem(display_path(path), message=f"cannot use the build cache: {reason}; it has "
                                  "been deleted", hint="build again to make it afresh; if the disk is full, free "
                                  "some space first")])

    def __reduce__(self) -> tuple[type, tuple[Path, str]]:
        return CacheDamaged, (self.path, self.reason)  # (raised in a worker process, it is raised in the build's)


@dataclass(frozen=True)
class Memory:
    """What a build read or made, by key (see get_many), kept by a long-lived process for its next build,
    with the identity of its cache file: the values are trusted only with that same file (whose entries
    they lean on, such as bodies)."""

    identity: str
    values: dict[str, Any]


class Cache:
    """Entries by key in one SQLite file; entries not used by a build are dropped when it saves."""

    def __init__(self, path: Path, config: Config, memory: Memory | None = None) -> None:
        self.path = path
        self.fingerprint = hashlib.sha256(f"{__version__}\n{FORMAT}\n{config!r}".encode()).hexdigest()
        self.reading = hashlib.sha256(  # the part of the fingerprint that sources are read with
            f"{__version__}\n{FORMAT}\n{[getattr(config, name) for name in READING]!r}".encode()).hexdigest()
        self.used: set[str] = set()
        self.new: dict[str, bytes] = {}
        self.seen_files: dict[str, tuple[str, str]] = {}
        self.stored: dict[str, str] = {}  # the output signatures as they are in the file now
        self.pid = os.getpid()
        self._reader: sqlite3.Connection | None = None
        self._holding = False  # see held_back
        self.broken = ""  # why SQLite could not use the file, once it could not (see _damaged)
        try:
            self.db = sqlite3.connect(path)
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError:  # a damaged cache is thrown away, never trusted
            with contextlib.suppress(AttributeError):  # (not even opened)
                self.db.close()
            _delete(path)
            with self._guarded():
                self.db = sqlite3.connect(path)
                self.db.executescript(_SCHEMA)
        self._known: dict[str, tuple[str, str]] | None = None  # read when first asked for (see known_files)
        self.identity = self._identity()
        self.remembered: dict[str, Any] = {}
        self.partial = False
        self._recalled = memory.values if memory is not None and self.identity and memory.identity == self.identity \
            else {}

    def carry_over(self, names: list[str]) -> None:
        """For a build that reads only the sources that changed (`names`): every other source's note and
        remembered value stay as the last build left them, and no entry is dropped."""
        self.partial = True
        forgotten = {known[1] for known in map(self.known_file, names) if known is not None}
        self.remembered = {key: value for key, value in self._recalled.items() if key not in forgotten}
        self._recalled = self.remembered

    def read_all(self) -> None:
        """Go back on carry_over: the whole build reads every source after all (and finds the ones just
        read in the cache)."""
        self.partial, self.seen_files = False, {}

    def _identity(self) -> str:
        """A name made when the cache file was: a new or rebuilt file is another cache."""
        try:
            row = self.db.execute("SELECT value FROM meta WHERE name = 'id'").fetchone()
            if row is None:
                row = (uuid.uuid4().hex,)
                with self.db:
                    self.db.execute("INSERT INTO meta VALUES ('id', ?)", row)
        except sqlite3.DatabaseError:
            return ""
        return row[0]

    def get(self, key: str) -> Any | None:
        """The value stored under key, or None."""
        return self.get_many([key]).get(key)

    def _reading(self) -> sqlite3.Connection:
        """The connection to read with: a forked worker opens its own, read-only (a SQLite connection must
        never cross a fork), and sees what the build committed before it forked."""
        if os.getpid() == self.pid:
            return self.db
        if self._reader is None:
            with self._guarded():
                self._reader = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        return self._reader

    @contextlib.contextmanager
    def _guarded(self) -> Iterator[None]:
        """Where SQLite reads or writes the file: a failure there (a damaged file, the disk full) is no bug of
        ours and no fault of the site's, and the file is of no more use (see _damaged)."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if self.broken:  # (the damaged file's connection, closed, said so again on the way out)
                raise CacheDamaged(self.path, self.broken) from exc
            self._damaged(exc)

    def _damaged(self, exc: sqlite3.DatabaseError) -> NoReturn:
        """Let go of the file and delete it (its space too, when the disk is full), and say so: CacheDamaged.
        A forked worker leaves the build's own connection alone (it must never be used across a fork)."""
        self.broken = str(exc)
        if os.getpid() == self.pid:
            with contextlib.suppress(sqlite3.Error):
                self.db.close()
            self.db = sqlite3.connect(":memory:")  # (what runs on, up to the build's end, writes nowhere)
            self.db.executescript(_SCHEMA)
        _delete(self.path)
        raise CacheDamaged(self.path, str(exc)) from exc

    def keep(self, *keys: str) -> None:
        """Entries this build still needs though it did not read them (so save() does not drop them)."""
        self.used.update(keys)

    def get_many(self, keys: list[str], remember: bool = False) -> dict[str, Any]:
        """The stored values of many keys at once (missing or unreadable ones are left out).

        With `remember`, the values stay in this process for the next build in it (tied to this cache file),
        so the preview server does not unpickle every record again on each save. Only for a key whose value
        never changes (one made from a source's bytes) or that is put again, with `remember`, whenever it
        is changed in place."""
        found: dict[str, Any] = {}
        if remember:
            for key in keys:
                if key in self._recalled:
                    found[key] = self.remembered[key] = self._recalled[key]
            self.used.update(found)
            keys = [key for key in keys if key not in found]
        rows = [(key, self.new[key]) for key in keys if key in self.new]  # put by this build, not yet written
        stored = [key for key in keys if key not in self.new]
        for start in range(0, len(stored), 500):
            chunk = stored[start:start + 500]
            with self._guarded():  # (a body that cannot be read would be a page without its text)
                rows += self._reading().execute(
                    f"SELECT key, value FROM entries WHERE key IN ({','.join('?' * len(chunk))})", chunk).fetchall()
        for key, blob in rows:
            try:
                found[key] = pickle.loads(blob)
            except (pickle.UnpicklingError, EOFError, AttributeError, TypeError):
                continue
            self.used.add(key)
            if remember:
                self.remembered[key] = found[key]
        return found

    @property
    def known_files(self) -> dict[str, tuple[str, str]]:
        """name -> (file state, key) of every source the last build saw (see files)."""
        if self._known is None:
            self._known = self.files()
        return self._known

    def known_file(self, name: str) -> tuple[str, str] | None:
        """(file state, key) of one source as the last build saw it (a build that reads only some sources
        does not read every row)."""
        if self._known is not None or not self.partial:
            return self.known_files.get(name)
        try:
            row = self.db.execute("SELECT state, key FROM files WHERE name = ?", (name,)).fetchone()
        except sqlite3.DatabaseError:
            return None
        return (row[0], row[1]) if row else None

    def files(self) -> dict[str, tuple[str, str]]:
        """name -> (size, mtime, ctime and inode as text, key) of each source as the last build saw it."""
        try:
            return {name: (state, key) for name, state, key in self.db.execute("SELECT name, state, key FROM files")}
        except sqlite3.DatabaseError:
            return {}

    def saw_file(self, name: str, state: str, key: str) -> None:
        """Note a source's file state and key, so an untouched file need not be read next time."""
        self.seen_files[name] = (state, key)

    def put(self, key: str, value: Any, remember: bool = False) -> None:
        """Store value under key (committed when the build saves); written out in batches to spare memory.
        With `remember`, also keep it in this process for the next build (see get_many)."""
        self.used.add(key)
        if remember:
            self.remembered[key] = value
        self.new[key] = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        if len(self.new) >= 256 and not self._holding:
            with self._guarded():
                self._flush()

    @contextlib.contextmanager
    def held_back(self) -> Iterator[None]:
        """Within it, what is put stays in memory (readable by this process) until it ends: the file is not
        written while worker processes read it (a writer's lock could keep them out)."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False

    def _flush(self) -> None:
        self.db.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?)", self.new.items())
        self.new.clear()

    def commit(self) -> None:
        """Make the entries so far readable from other connections (forked workers open their own)."""
        with self._guarded():
            self._flush()
            self.db.commit()

    def templates(self) -> jinja2.BytecodeCache:
        """Compiled layouts kept between builds (Jinja2 checks each against its source)."""
        return _TemplateCache(self)

    def signatures(self) -> dict[str, str]:
        """What each output of the last successful build was made from (see signatures.py)."""
        try:
            self.stored = dict(self.db.execute("SELECT path, signature FROM outputs"))
        except sqlite3.DatabaseError:
            self.stored = {}
        return dict(self.stored)

    def ledger(self) -> Any | None:
        """The ledger's entry (see ledger.py): what the last complete build was made from; None when the
        output folder may have changed since (a build began writing and did not finish)."""
        try:
            row = self.db.execute("SELECT value FROM meta WHERE name = 'ledger'").fetchone()
            return pickle.loads(bytes.fromhex(row[0])) if row else None
        except (sqlite3.DatabaseError, ValueError, pickle.UnpicklingError, EOFError, AttributeError, TypeError):
            return None

    def save_ledger(self, entry: Any) -> None:
        """Note what the output folder now holds (the ledger's entry, see ledger.py)."""
        with self._guarded(), self.db:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('ledger', ?)",
                            (pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL).hex(),))

    def forget_signatures(self, paths: set[str] | None) -> None:
        """Blank the signatures of outputs about to be replaced or deleted (None: of all), before they are.
        The paths stay listed: a build killed midway leaves the next one knowing which files may be stale
        (blank matches no signature) and which may have to go. The ledger goes too."""
        doomed = set(self.stored) if paths is None else paths & self.stored.keys()
        with self._guarded(), self.db:
            self.db.execute("DELETE FROM meta WHERE name = 'ledger'")
            self.db.executemany("UPDATE outputs SET signature = '' WHERE path = ?", ((path,) for path in doomed))
        for path in doomed:
            self.stored[path] = ""

    def save_signatures(self, signatures: dict[str, str]) -> None:
        """Record the signatures of the build now in the output folder (only rows that differ are written)."""
        with self._guarded(), self.db:
            self.db.executemany("DELETE FROM outputs WHERE path = ?",
                                ((path,) for path in self.stored.keys() - signatures.keys()))
            self.db.executemany("INSERT OR REPLACE INTO outputs VALUES (?, ?)",
                                ((path, sig) for path, sig in signatures.items() if self.stored.get(path) != sig))
        self.stored = dict(signatures)

    def save(self) -> None:
        """Write new entries and drop those this build did not use, in one transaction (rows that did not
        change are not written again)."""
        with self._guarded(), self.db:
            self._flush()
            if self.partial:  # only some sources were looked at: the others' notes stay
                self.db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?)",
                                    ((name, state, key) for name, (state, key) in self.seen_files.items()))
            else:
                gone = self.known_files.keys() - self.seen_files.keys()
                self.db.executemany("DELETE FROM files WHERE name = ?", ((name,) for name in gone))
                self.db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?)",
                                    ((name, state, key) for name, (state, key) in self.seen_files.items()
                                     if self.known_files.get(name) != (state, key)))
                self._known = dict(self.seen_files)
            if not self.partial:  # drop the entries this build did not use (reading the keys is quicker than
                # handing SQLite every used key to compare: 30,000 at 10,000 articles)
                unused = {key for (key,) in self.db.execute("SELECT key FROM entries")} - self.used
                self.db.executemany("DELETE FROM entries WHERE key = ?", ((key,) for key in unused))

    def memory(self) -> Memory | None:
        """What this build read or made, for the next build of a long-lived process (see get_many): only
        this build's values (an edited source's old record goes), and only for a cache file known by name."""
        return Memory(self.identity, self.remembered) if self.identity else None

    def close(self) -> None:
        """Let go of the database file."""
        self.db.close()


class _TemplateCache(jinja2.BytecodeCache):
    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self.cache.get("jinja:" + bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.cache.put("jinja:" + bucket.key, bucket.bytecode_to_string())


def source_key(fingerprint: str, name: str, data: bytes) -> str:
    """The key of a source: its name, its bytes and everything that shapes what it becomes."""
    return hashlib.sha256(fingerprint.encode() + b"\0" + name.encode() + b"\0" + data).hexdigest()


def forget(path: Path) -> None:
    """Delete the cache (a --fresh build)."""
    _delete(path)


def _delete(path: Path) -> None:
    """The cache file and SQLite's files beside it (a journal left by a build killed while writing)."""
    for name in (path.name, f"{path.name}-journal", f"{path.name}-wal", f"{path.name}-shm"):
        path.with_name(name).unlink(missing_ok=True)
