"""What a build was made from (the ledger), so the next one can tell that nothing changed.

A build that completes notes in the cache one hash of everything it read (settings, version, folders, and
the state of every file under content/ and layouts/), the moment the same files would make another site,
and its summary. The next build compares before doing anything else.
"""

from __future__ import annotations

import hashlib
import os
import stat as stat_module
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Config
from ..live.watch import OVERFLOW, ignored
from ..model import BREAKING
from ..records import Content
from ..write import MARKER
from .cache import RECENT_NS, Cache

if TYPE_CHECKING:
    from ..pipeline import Options


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


def inputs(options: Options, config: Config, cache: Cache, content_dir: Path, layouts: Path, out: Path,
           scanned: list[tuple[str, os.stat_result | None]]) -> Inputs:
    """Everything a build reads: settings (and Broadsheet's version), the folders and the working folder
    (problems name files relative to it), and the state (size, mtime, ctime, inode) of every file under
    content/ and layouts/, as the build's own scan sees them."""
    recent = time.time_ns() - RECENT_NS
    racy: dict[str, str] = {}
    states = {path: _state(path, stat, recent, racy) for path, stat in scanned}
    settled, settings = settled_by(options, cache, content_dir, layouts, out, racy, states)
    links = options.keep and any(os.path.islink(path) for path, _ in scanned)  # (only a watcher's build asks)
    return Inputs(_digest(settled, states), settled, states, racy, links, settings)


def settled_by(options: Options, cache: Cache, content_dir: Path, layouts: Path, out: Path, racy: dict[str, str],
               states: dict[str, str] | None = None) -> tuple[str, str]:
    """The hashes of the settings and layouts (`Inputs.settled`) and of the settings alone; the states of
    the files of layouts/static/ go into `states`, those saved in the last seconds into `racy` too."""
    recent = time.time_ns() - RECENT_NS
    settled = hashlib.sha256(repr((cache.fingerprint, os.getcwd(), str(content_dir), str(layouts), str(out),
                                   options.drafts, options.future)).encode())
    settings = settled.hexdigest()
    static = os.path.join(layouts, "static", "")
    for path, stat in _layout_files(str(layouts)):
        if not path.startswith(static):
            settled.update(f"{path}\0{_state(path, stat, recent, racy)}\n".encode())
        elif states is not None:
            states[path] = _state(path, stat, recent, racy)
    return settled.hexdigest(), settings


def _layout_files(folder: str) -> list[tuple[str, os.stat_result | None]]:
    """(path, state) of every file under layouts/ as the build reads them: Jinja2 and the copy of
    layouts/static/ follow links to folders, so this does too (editor leftovers and hidden files skipped)."""
    found = []
    for directory, subdirs, names in os.walk(folder, followlinks=True):
        subdirs[:] = sorted(d for d in subdirs if not ignored(d))
        for name in sorted(names):
            if not ignored(name):
                path = os.path.join(directory, name)
                try:
                    found.append((path, os.stat(path)))
                except OSError:
                    found.append((path, None))
    return found


def hinted(last: Inputs, changed: Iterable[Path], content_dir: Path, layouts: Path,
           settle: Callable[[dict[str, str]], tuple[str, str]]
           ) -> tuple[list[tuple[str, os.stat_result]], Inputs] | None:
    """The inputs of a build after a watcher saw `changed` (and nothing else) change since `last`, without
    looking at every file: the changed files under content/ and layouts/static/ as a scan would name them,
    with their states (and, when a layout or the settings changed, `settle(racy)`: see settled_by). None
    when the watcher's word is not enough (a new, deleted or moved file or folder under content/ or
    layouts/static/, a link among the sources, a queue overflow): the build scans."""
    if last.links:
        return None
    roots = [(content_dir.resolve(), str(content_dir)), ((layouts / "static").resolve(), str(layouts / "static"))]
    recent = time.time_ns() - RECENT_NS
    states, racy, seen, settled = dict(last.states), {}, [], False
    for changed_path in changed:
        if str(changed_path) == OVERFLOW:
            return None  # the kernel's queue overflowed: anything may have changed
        given = Path(changed_path)
        path = given.parent.resolve() / given.name  # (a link is the file it is, not the one it points to)
        name = next((os.path.join(spelled, path.relative_to(root)) for root, spelled in roots
                     if path.is_relative_to(root)), None)
        if name is None:
            settled = True  # a layout or the settings: all of them are looked at (there are few)
            continue
        try:
            stat = os.lstat(name)
        except OSError:
            if name in states or any(known.startswith(name + os.sep) for known in states):
                return None  # a file or a folder of them deleted, or moved away
            continue  # an editor's scratch file, come and gone within the burst
        if name not in states or not stat_module.S_ISREG(stat.st_mode):
            return None  # a new file, a folder, or a link (whose target may change unseen)
        states[name] = _state(name, stat, recent, racy)
        if name.startswith(str(content_dir) + os.sep):
            seen.append((name, stat))
    for path, known in last.racy.items():  # still within a clock's tick of a save: keep checking its bytes
        if path not in racy and _recent(path, recent):
            racy[path] = known
    hashes = settle(racy) if settled else (last.settled, last.settings)
    return seen, replace(last, digest=_digest(hashes[0], states), settled=hashes[0], settings=hashes[1],
                         states=states, racy=racy)


def _recent(path: str, recent: int) -> bool:
    try:
        stat = os.stat(path)
    except OSError:
        return True
    return max(stat.st_mtime_ns, stat.st_ctime_ns) >= recent


def _state(path: str, stat: os.stat_result | None, recent: int, racy: dict[str, str]) -> str:
    """A file's state as text; a file changed since `recent` is noted by its bytes in `racy` too."""
    if stat is None or max(stat.st_mtime_ns, stat.st_ctime_ns) >= recent:
        racy[path] = bytes_hash(path)
    return f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}:{stat.st_ino}" if stat else "-"


def _digest(settled: str, states: dict[str, str]) -> str:
    return hashlib.sha256(bytes.fromhex(settled) + "".join(
        f"{path}\0{known}\n" for path, known in states.items()).encode()).hexdigest()


def bytes_hash(path: str) -> str:
    try:
        with open(path, "rb") as file:
            return hashlib.sha256(file.read()).hexdigest()
    except OSError:
        return "unreadable"


def resaved(racy: dict[str, str]) -> set[str]:
    """The files among `racy` whose bytes are no longer those hashed."""
    return {path for path, known in racy.items() if bytes_hash(path) != known}


def kept(cache: Cache, inputs: Inputs, now: datetime, out: Path, trust_quick: bool = False) -> Any | None:
    """The last build's summary when its inputs are these, `now` lies between the moment it was made for and
    the next one that makes another site (see until), and the output folder still holds every file it made;
    else None (the build runs). A note left by a quick rebuild (see resident.py) is trusted only by another
    process that keeps its site in memory: a command-line build makes the whole incremental build once."""
    ledger = cache.ledger()
    if ledger is None or len(ledger) < 6 or ledger[0] != inputs.digest or ledger[1] is not None and \
            now.timestamp() >= ledger[1] or now.timestamp() < ledger[5] or ledger[4] and not trust_quick \
            or resaved(ledger[3]):
        return None
    folder = str(out) + os.sep
    if not os.path.isfile(folder + MARKER) or not all(
            path.endswith("/") or os.path.isfile(folder + path) for path in cache.signatures()):
        return None
    return ledger[2]


def until(content: Content, now: datetime) -> float | None:
    """The first moment after `now` at which the same inputs make another site (a scheduled article is due,
    one expires, one leaves the breaking-news window), as a timestamp; None when there is none."""
    moments = [moment for article in content.articles
               for moment in (article.date, article.expires, article.date + BREAKING)
               if moment is not None and moment > now]
    return min(moments).timestamp() if moments else None
