"""What a build was made from (the ledger), so the next one can tell that nothing changed.

A build that completes notes in the cache one hash of everything it read (settings, version, folders, and
the state of every file under content/ and layouts/), the moment the same files would make another site,
and its summary. The next build compares before doing anything else.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..config import Folders, Options
from ..files import RECENT_NS, STATIC, is_recent, layout_files, state
from ..model import BREAKING
from ..records import Content
from ..write import MARKER
from .cache import Cache

Scanned = list[tuple[str, os.stat_result | None]]  # (path, state) of each file under content/, as scanned


@dataclass(frozen=True)
class Inputs:
    """What a build reads, as hashes: `digest` of all of it, `settled` of the settings and layouts, each file
    under content/ and layouts/static/ by its path; and `racy`, the bytes (hashed) of files changed in the
    last seconds, whose state alone does not tell a second save within the clock's tick from the first."""

    digest: str
    settled: str
    states: dict[str, str]
    racy: dict[str, str]
    links: bool = False  # some file under content/ is a link (whose target a watcher sees change, not it)
    settings: str = ""  # the hash of the settings alone (`settled` without the layouts)


@dataclass(frozen=True)
class Entry:
    """The ledger's entry for the build now in the output folder: what it was made from (`Inputs.digest`),
    the moments between which the same inputs make the same site, its summary, the files it knew by their
    bytes, and whether a quick rebuild in a long-lived process made it."""

    digest: str
    since: float
    until: float | None
    summary: Any
    racy: dict[str, str]
    quick: bool = False


def asked(cache: Cache, folders: Folders, options: Options) -> str:
    """What a build is asked for besides its files: the settings (and Broadsheet's version), the folders,
    the working folder (problems name files relative to it), drafts and future articles."""
    return repr((cache.fingerprint, os.getcwd(), str(folders.content), str(folders.layouts), str(folders.out),
                 options.drafts, options.future))


def inputs(request: str, layouts: Path, scanned: Scanned) -> Inputs:
    """Everything a build reads: what it is asked for (see `asked`), and the state (size, mtime, ctime,
    inode) of every file under content/ and layouts/, as the build's own scan sees them."""
    recent = time.time_ns() - RECENT_NS
    racy: dict[str, str] = {}
    states = {path: noted_state(path, stat, recent, racy) for path, stat in scanned}
    settled, settings = settled_by(request, layouts, racy, states)
    return Inputs(digest(settled, states), settled, states, racy, False, settings)


def settled_by(request: str, layouts: Path, racy: dict[str, str],
               states: dict[str, str] | None = None) -> tuple[str, str]:
    """The hashes of the settings and layouts (`Inputs.settled`) and of the settings alone; the states of
    the files of layouts/static/ go into `states`, those saved in the last seconds into `racy` too."""
    recent = time.time_ns() - RECENT_NS
    settled = hashlib.sha256(request.encode())
    settings = settled.hexdigest()
    static = os.path.join(layouts, STATIC, "")
    for path, stat in layout_files(str(layouts)):
        if not path.startswith(static):
            settled.update(f"{path}\0{noted_state(path, stat, recent, racy)}\n".encode())
        elif states is not None:
            states[path] = noted_state(path, stat, recent, racy)
    return settled.hexdigest(), settings


def noted_state(path: str, stat: os.stat_result | None, recent: int, racy: dict[str, str]) -> str:
    """A file's state as text; a file changed since `recent` is noted by its bytes in `racy` too."""
    if stat is None or is_recent(stat, recent):
        racy[path] = bytes_hash(path)
    return state(stat) if stat else "-"


def digest(settled: str, states: dict[str, str]) -> str:
    """The one hash of everything a build reads (see Inputs)."""
    return hashlib.sha256(bytes.fromhex(settled) + "".join(
        f"{path}\0{known}\n" for path, known in states.items()).encode()).hexdigest()


def bytes_hash(path: str) -> str:
    """The hash of a file's bytes ('unreadable' when it cannot be read)."""
    try:
        with open(path, "rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()  # (in pieces: a source may be gigabytes)
    except OSError:
        return "unreadable"


def resaved(racy: dict[str, str]) -> set[str]:
    """The files among `racy` whose bytes are no longer those hashed."""
    return {path for path, known in racy.items() if bytes_hash(path) != known}


def last_entry(cache: Cache) -> Entry | None:
    """The ledger's entry, or None when the output folder may have changed since (a build began writing and
    did not finish)."""
    entry = cache.ledger()
    return entry if isinstance(entry, Entry) else None


def unchanged(cache: Cache, inputs: Inputs, now: datetime, out: Path, trust_quick: bool = False) -> Any | None:
    """The last build's summary when its inputs are these, `now` lies between the moment it was made for and
    the next one that makes another site (see until), and the output folder still holds every file it made;
    else None (the build runs). An entry left by a quick rebuild (see live/) is trusted only by another
    long-lived process: a command-line build makes the whole incremental build once."""
    entry = last_entry(cache)
    if entry is None or entry.digest != inputs.digest or entry.until is not None and now.timestamp() >= entry.until \
            or now.timestamp() < entry.since or entry.quick and not trust_quick or resaved(entry.racy):
        return None
    folder = str(out) + os.sep
    if not os.path.isfile(folder + MARKER) or not all(
            path.endswith("/") or os.path.isfile(folder + path) for path in cache.signatures()):
        return None
    return entry.summary


def until(content: Content, now: datetime) -> float | None:
    """The first moment after `now` at which the same inputs make another site (a scheduled article is due,
    one expires, one leaves the breaking-news window), as a timestamp; None when there is none."""
    moments = [moment for article in content.articles
               for moment in (article.date, article.expires, article.date + BREAKING)
               if moment is not None and moment > now]
    return min(moments).timestamp() if moments else None
