"""What changed since the last build of a long-lived process, from the watcher's word: the inputs of the next
build, made without looking at every file."""

from __future__ import annotations

import os
import stat as stat_module
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from ..files import RECENT_NS, is_recent
from ..incremental import ledger
from ..incremental.ledger import Inputs
from ..pipeline import Run
from .watch import OVERFLOW


@dataclass(frozen=True)
class Edit:
    """The files under content/ a rebuild looks at again (path, state), and the inputs of the build."""

    files: list[tuple[str, os.stat_result | None]]
    inputs: Inputs


def watched_inputs(last: Inputs, changed: Iterable[Path], run: Run) -> Edit | None:
    """The build's inputs after a watcher saw `changed` (and nothing else) change since the build of `last`:
    the changed files under content/ and layouts/static/ as a scan would name them, with their states (and,
    when a layout or the settings changed, those hashed again). None when the watcher's word is not enough
    (a new, deleted or moved file or folder under content/ or layouts/static/, a link among the sources, a
    queue overflow): the build scans."""
    if last.links:
        return None
    content_dir = run.folders.content
    roots = [(content_dir.resolve(), str(content_dir)), (run.folders.static.resolve(), str(run.folders.static))]
    recent = time.time_ns() - RECENT_NS
    states, racy, seen, settled = dict(last.states), {}, [], False
    for changed_path in changed:
        if str(changed_path) == OVERFLOW:
            return None  # the kernel's queue overflowed: anything may have changed
        name = _as_scanned(Path(changed_path), roots)
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
        states[name] = ledger.noted_state(name, stat, recent, racy)
        if name.startswith(str(content_dir) + os.sep):
            seen.append((name, stat))
    _still_recent(last.racy, racy, recent)
    hashes = _settled(run, racy) if settled else (last.settled, last.settings)
    return Edit(seen, replace(last, digest=ledger.digest(hashes[0], states), settled=hashes[0], settings=hashes[1],
                              states=states, racy=racy))


def _as_scanned(given: Path, roots: list[tuple[Path, str]]) -> str | None:
    """The path of a file under content/ or layouts/static/ as the build's scan spells it; None for any
    other file (a layout, the settings)."""
    path = given.parent.resolve() / given.name  # (a link is the file it is, not the one it points to)
    return next((os.path.join(spelled, path.relative_to(root)) for root, spelled in roots
                 if path.is_relative_to(root)), None)


def _still_recent(known: dict[str, str], racy: dict[str, str], recent: int) -> None:
    """Files still within a clock's tick of a save stay known by their bytes (see Inputs.racy)."""
    for path, digest in known.items():
        if path not in racy and _recent(path, recent):
            racy[path] = digest


def _recent(path: str, recent: int) -> bool:
    """Whether the file changed since `recent` (a file gone counts: its bytes tell)."""
    try:
        return is_recent(os.stat(path), recent)
    except OSError:
        return True


def _settled(run: Run, racy: dict[str, str]) -> tuple[str, str]:
    """The hashes of the settings and layouts, and of the settings alone (see ledger.settled_by)."""
    return ledger.settled_by(ledger.asked(run.cache, run.folders, run.options), run.folders.layouts, racy)
