"""Noticing saves (for the preview and `watch`): the kernel tells us on Linux (inotify), else every file is
polled; `follow` waits for each burst of saves to settle and hands over what changed.

Polling stats every source four times a second: on a 10,000-article site that is a tenth of a second of
work each time, a core kept a third busy while nothing happens. inotify costs nothing while idle and
reports a save at once. Both give the paths that changed; both skip hidden files and editor leftovers.
"""

from __future__ import annotations

import ctypes
import errno
import os
import select
import struct
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from ..files import copy_state, ignored

_IN_MODIFY, _IN_ATTRIB, _IN_CLOSE_WRITE = 0x2, 0x4, 0x8
_IN_MOVED_FROM, _IN_MOVED_TO, _IN_CREATE, _IN_DELETE = 0x40, 0x80, 0x100, 0x200
_IN_DELETE_SELF, _IN_MOVE_SELF, _IN_Q_OVERFLOW, _IN_ISDIR = 0x400, 0x800, 0x4000, 0x40000000
_MASK = (_IN_MODIFY | _IN_ATTRIB | _IN_CLOSE_WRITE | _IN_MOVED_FROM | _IN_MOVED_TO | _IN_CREATE | _IN_DELETE
         | _IN_DELETE_SELF | _IN_MOVE_SELF)
_EVENT = struct.Struct("iIII")
OVERFLOW = "<many changes>"  # a path standing for "the kernel's queue overflowed: anything may have changed"


class Poller:
    """Compares (size, mtime) of every file under the sources with the last look."""

    settle = 0.15  # seconds without a change before a burst of saves counts as over

    def __init__(self, sources: Iterable[Path]) -> None:
        self.sources = list(sources)
        self.last = snapshot(self.sources)

    def changes(self, timeout: float) -> set[str]:
        """Paths changed since the last call, looked at after `timeout` seconds."""
        _sleep(timeout)
        now = snapshot(self.sources)
        changed = {path for path, _ in set(now.items()) ^ set(self.last.items())}
        self.last = now
        return changed

    def pending(self) -> bool:
        """Whether a save came since the last call of changes(): never known without looking at every file,
        so a poller says no (a rebuild then runs to its end before the next one)."""
        return False

    def close(self) -> None:
        pass


class Inotify:
    """The kernel's change events for every folder under the sources (new folders are watched as they come)."""

    settle = 0.08  # events come as the writes happen: a short quiet spell ends a burst

    def __init__(self, sources: Iterable[Path]) -> None:
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self.folders: dict[int, str] = {}
        self.early: set[str] = set()  # changes read by pending(), still to be handed over by changes()
        self.files: set[str] = set()  # sources that are single files: only they count in their folder
        self.roots: set[str] = set()
        try:
            for source in sources:
                if source.is_dir():
                    self.roots.add(str(source.resolve()))
                    self._watch_tree(str(source.resolve()))
                else:
                    self.files.add(str(source.resolve()))
                    self._watch(str(source.resolve().parent))
        except OSError:
            self.close()
            raise

    def _watch(self, folder: str) -> None:
        wd = self.libc.inotify_add_watch(self.fd, os.fsencode(folder), _MASK)
        if wd < 0:
            error = ctypes.get_errno()
            if error in (errno.ENOENT, errno.ENOTDIR):  # gone before we looked: nothing to watch
                return
            raise OSError(error, f"cannot watch {folder}: {os.strerror(error)}")
        self.folders[wd] = folder

    def _watch_tree(self, folder: str) -> None:
        self._watch(folder)
        for directory, subdirs, _ in os.walk(folder):
            subdirs[:] = [d for d in subdirs if not ignored(d)]
            for name in subdirs:
                self._watch(os.path.join(directory, name))

    def changes(self, timeout: float) -> set[str]:
        """Paths changed since the last call, waiting up to `timeout` seconds for the first."""
        changed, self.early = self.early, set()
        ready, _, _ = select.select([self.fd], [], [], 0 if changed else timeout)
        while ready:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            changed |= self._parse(data)
            ready, _, _ = select.select([self.fd], [], [], 0)
        return changed

    def pending(self) -> bool:
        """Whether a save came since the last call of changes() (at once: nothing but the kernel's queue is
        looked at); what came is handed over by the next changes()."""
        self.early |= self.changes(0)
        return bool(self.early)

    def _parse(self, data: bytes) -> set[str]:
        changed = set()
        offset = 0
        while offset + _EVENT.size <= len(data):
            wd, mask, _, length = _EVENT.unpack_from(data, offset)
            name = data[offset + _EVENT.size:offset + _EVENT.size + length].rstrip(b"\0").decode(
                sys.getfilesystemencoding(), "surrogateescape")
            offset += _EVENT.size + length
            if mask & _IN_Q_OVERFLOW:
                changed.add(OVERFLOW)
                continue
            folder = self.folders.get(wd)
            if folder is None or not name or ignored(name):
                continue
            path = os.path.join(folder, name)
            if folder not in self.roots and not any(folder.startswith(r + os.sep) for r in self.roots):
                if path not in self.files:  # a single-file source's folder: only that file counts
                    continue
            if mask & _IN_ISDIR:
                if mask & (_IN_CREATE | _IN_MOVED_TO):
                    self._watch_tree(path)
                    changed.update(os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs if not ignored(f))
                changed.add(path)
                continue
            changed.add(path)
        return changed

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def watcher(sources: Iterable[Path]) -> Poller | Inotify:
    """inotify where the system has it (and has watches to spare), else polling."""
    sources = list(sources)
    if sys.platform.startswith("linux") and os.environ.get("BROADSHEET_WATCH") != "poll":
        try:
            return Inotify(sources)
        except (OSError, AttributeError):
            pass
    return Poller(sources)


def snapshot(sources: Iterable[Path]) -> dict[str, tuple[int, int]]:
    """(size, mtime) of every file under the watched paths (hidden files and editor leftovers skipped)."""
    found = {}
    for source in sources:
        if source.is_file():
            known = copy_state(source)
            if known is not None:
                found[str(source)] = known
            continue
        for directory, subdirs, names in os.walk(source):
            subdirs[:] = [d for d in subdirs if not ignored(d)]
            for name in names:
                if ignored(name):
                    continue
                known = copy_state(os.path.join(directory, name))
                if known is not None:
                    found[os.path.join(directory, name)] = known
    return found


POLL_SECONDS = 0.25


def follow(sources: Iterable[Path], on_change: Callable[[list[Path]], bool | None], stopping: threading.Event,
           changes: Poller | Inotify | None = None) -> None:
    """Until `stopping` is set: wait for a save under the sources; once the burst of saves it starts has
    settled (an editor's temp file and rename, a `git checkout` of 200 files), call on_change once with
    every path that changed. When on_change returns False (its rebuild gave way to a newer save), those
    paths go with the next burst's. A failure while watching is said in one line, and watching goes on.
    Give `changes` (a `watcher` made before the first build) so that saves during that build count too."""
    changes = changes or watcher(sources)
    carried: set[str] = set()
    try:
        while not stopping.is_set():
            try:
                changed = changes.changes(POLL_SECONDS) | carried
                while changed and not stopping.is_set():  # a save is often several writes and a rename
                    more = changes.changes(changes.settle)
                    if not more:
                        break
                    changed |= more
                carried = set()
                if changed and on_change([Path(path) for path in sorted(changed)]) is False:
                    carried = changed
            except Exception as exc:  # noqa: BLE001 -- watching must outlive anything one save does
                print(f"broadsheet: error while watching for saves: {type(exc).__name__}: {exc}; "
                      "still watching", file=sys.stderr, flush=True)
                stopping.wait(POLL_SECONDS)
    finally:
        changes.close()


def _sleep(seconds: float) -> None:
    select.select([], [], [], seconds)
