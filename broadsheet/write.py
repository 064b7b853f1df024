"""Stage the whole site in a folder beside the output, then swap it in at once."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import stat
import subprocess
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: builds are not locked against each other
    fcntl = None  # type: ignore[assignment]

from .errors import BuildError, Problem, UsageError, display_path, fail_if_errors
from .files import copy_state
from .records import Asset, Output

MARKER = ".broadsheet-output"
_RENAME_EXCHANGE = 2
SYSTEM_FOLDERS = (Path("/dev"), Path("/proc"), Path("/sys"))  # never an output folder, nor in one


def check_output_folder(out: Path, protected: Iterable[Path], sources: Iterable[Path] = ()) -> None:
    """Refuse an output path that could hold anything but a previous build: one that is or holds /, the home
    folder or a `protected` folder; one that is, holds or is inside a `sources` folder (content/, layouts/);
    anything but a folder (a file, a device, a FIFO, a socket); a mount point; a place under /dev, /proc or
    /sys; a non-empty folder Broadsheet did not make. Said before anything is touched (UsageError)."""
    target, shown = out.resolve(), display_path(out)
    for place in (Path("/"), Path.home(), *protected, *sources):
        place = place.resolve()
        if target == place or place.is_relative_to(target):
            raise UsageError(f"{shown}: refusing to use as output folder: it is or contains {display_path(place)}")
    for place in sources:
        if target.is_relative_to(place.resolve()):
            raise UsageError(f"{shown}: refusing to use as output folder: it is inside {display_path(place)}, "
                             "which the build reads (every build would copy the site into itself)")
    _check_kind(target, shown)
    if target.is_dir() and any(target.iterdir()) and not (target / MARKER).is_file():
        raise UsageError(f"{shown}: output folder is not empty and was not made by Broadsheet "
                         f"(no {MARKER} in it); empty it or choose another --out")


def _check_kind(target: Path, shown: str) -> None:
    """Refuse an output path that is not a folder, or not an ordinary one (a mount point, a system folder)."""
    if target == Path(os.devnull):
        raise UsageError(f"{shown}: refusing to write the site into {os.devnull} (to build without writing "
                         "anything, run `broadsheet build --dry-run`; to check a built site's links, `broadsheet "
                         "check`)")
    if target.exists() and not target.is_dir():
        raise UsageError(f"{shown}: output path is {_kind(target)}, not a folder")
    if os.path.ismount(target):
        raise UsageError(f"{shown}: refusing to use a mount point as output folder (a build replaces its "
                         "output folder whole; choose a folder inside it)")
    for system in SYSTEM_FOLDERS:
        if target.is_relative_to(system):
            raise UsageError(f"{shown}: refusing to write the site under {system}, a folder of the system")
    above = next(folder for folder in target.parents if folder.exists())
    if not above.is_dir():
        raise UsageError(f"{shown}: cannot make the output folder: {display_path(above)} is {_kind(above)}, "
                         "not a folder")


def _kind(path: Path) -> str:
    """What a path that is not a folder is, in a few words."""
    mode = path.stat().st_mode
    for test, name in ((stat.S_ISREG, "a file"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "an unusual kind of file"


class Stage:
    """The folder a full build fills before the swap, open while it is being filled. Files go in with
    `place`: from the build's process, and from the worker processes that render pages, which put each page
    there themselves (its bytes never travel back, and two processes write at once)."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.previous: Path | None = None
        self.stop: Callable[[], None] = lambda: None  # stops the processes writing into it
        self.made: set[Path] = set()

    def is_open(self) -> bool:
        """Whether files can be put in it now (write() opens it, for a full build)."""
        return self.folder is not None

    def on_close(self, stop: Callable[[], None]) -> None:
        """Call `stop` when the build lets go of the stage (it stops the processes writing into it)."""
        self.stop = stop

    def place(self, path: str, data: bytes | None) -> bool:
        """Put one file in the stage: hard-linked from the previous build when its bytes are the same (data
        None: known to be), else written. True when written, False when linked. A path that leads out of the
        stage, or an unchanged file the previous build does not have, is a BuildError."""
        assert self.folder is not None
        target = _inside(self.folder, path)
        _mkdir(target.parent, self.made)
        old = self.previous / path if self.previous else None
        if old is None or not _same_bytes(old, data) or not _linked(old, target):
            if data is None:
                raise BuildError([Problem(path, message="missing from the previous build; run with --fresh")])
            target.write_bytes(data)
            return True
        return False


@dataclass(frozen=True)
class Writing:
    """How to write a site: `incremental` (when the output folder holds a previous build) replaces only the
    files whose bytes changed and deletes those the site no longer has (of `known`, the previous build's
    files, when given); a `partial` build gives only some of the site's files (those an edit may have
    changed), and nothing else is deleted. `on_apply` runs just before the first file is replaced, with the
    paths about to change (None: all). A full build opens `stage` (when given) on its stage, for the
    processes that make the outputs to put them there (see Stage). A `dry_run` does all but the last step:
    it stages what it would write, checks it, and leaves the output folder as it was."""

    incremental: bool = False
    partial: bool = False
    known: set[str] | None = None
    on_apply: Callable[[set[str] | None], None] | None = None
    stage: Stage | None = None
    dry_run: bool = False


def write(outputs: Iterator[Output], assets: Iterable[Asset], out: Path, problems: list[Problem],
          how: Writing = Writing()) -> int:
    """Write the site into out and return how many files were written; nothing changes unless all went well.
    The caller holds the output folder's lock (see `locked`). A full build stages the whole site beside out
    and swaps it in at once; an incremental one stages only the files whose bytes changed, then moves each
    into place atomically (see Writing)."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(out)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    previous = out if (out / MARKER).is_file() else None
    try:
        if previous and (how.incremental or how.partial):
            return _update(stage, outputs, assets, previous, problems, how)
        staging = how.stage or Stage()
        staging.folder, staging.previous = stage, previous
        count = _fill(staging, outputs, assets)
        fail_if_errors(problems)
        if how.dry_run:
            return count
        (stage / MARKER).write_text("This folder is written by Broadsheet; it is replaced on every build.\n")
        stage.chmod(0o755)
        if how.on_apply:
            how.on_apply(None)
        _swap(stage, out)
    finally:
        if how.stage is not None:
            how.stage.stop()
            how.stage.folder = None
        shutil.rmtree(stage, ignore_errors=True)
    return count


def _update(stage: Path, outputs: Iterator[Output], assets: Iterable[Asset], out: Path, problems: list[Problem],
            how: Writing) -> int:
    """Stage what changed and check that every change can be made; then (only when the build has no error)
    move it into out and drop what went. Nothing the moves could trip on is left to find on the way."""
    changed, current = _stage_changes(stage, outputs, assets, out)
    fail_if_errors(problems)
    gone = how.known - current if how.known is not None else set() if how.partial else None
    in_the_way = _check_moves(out, changed, current, gone, how.partial)
    if how.dry_run:
        return len(changed)
    if how.on_apply:
        how.on_apply(set(changed) | gone if gone is not None else None)
    for path in in_the_way:  # (the previous build's, and going: a file where a folder goes now, or the reverse)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    made: set[Path] = set()
    for number, path in enumerate(changed):
        target = _inside(out, path)
        _mkdir(target.parent, made)
        os.replace(stage / str(number), target)
    if gone is None:
        _remove_others(out, current)
    else:
        _remove_gone(out, gone)
    return len(changed)


def _stage_changes(stage: Path, outputs: Iterator[Output], assets: Iterable[Asset], out: Path
                   ) -> tuple[list[str], set[str]]:
    """Put in the stage each output and asset whose bytes out does not hold; return their paths, in the
    order staged, and every path the build makes."""
    # Changed files wait side by side in the stage under plain numbers: no folders to make there and remove
    # again (making a folder costs as much as writing a page on some file systems).
    changed, current = [], {MARKER}
    for output in outputs:
        current.add(output.path)
        if output.data is not None and not _same_bytes(_inside(out, output.path), output.data):
            (stage / str(len(changed))).write_bytes(output.data)
            changed.append(output.path)
    for asset in assets:
        current.add(asset.path)
        if copy_state(_inside(out, asset.path)) != copy_state(asset.source):
            shutil.copy2(asset.source, stage / str(len(changed)))
            changed.append(asset.path)
    return changed, current


def _check_moves(out: Path, changed: list[str], current: set[str], gone: set[str] | None, partial: bool
                 ) -> list[Path]:
    """What must be cleared from out before the changed files move in: a file of the previous build where a
    folder goes now, or a folder where a file goes. A BuildError, before anything changes, when this build
    writes one path as a file and as a folder, when what is in the way is not the previous build's to drop,
    or when a link on the way leads out of out."""
    fail_if_errors(clashes((path, path) for path in sorted(current)))
    for path in gone or ():
        _settled(out, path)  # (so that deleting them cannot stop halfway either)
    in_the_way: dict[Path, str] = {}  # -> the path it is in the way of
    seen: set[Path] = set()
    settled: set[Path] = set()  # folders known to lead nowhere out of out
    for path in changed:
        target = _inside(out, path)
        if target.parent not in settled:
            _settled(out, path)
            settled.add(target.parent)
        if target.is_dir() and not target.is_symlink():
            in_the_way[target] = path
        folder = target.parent
        while folder != out and folder not in seen:  # (its parents were seen with it)
            seen.add(folder)
            if (folder.exists() or folder.is_symlink()) and not folder.is_dir():
                in_the_way[folder] = path
            folder = folder.parent
    for place, path in in_the_way.items():
        if not _droppable(out, place, current, gone if partial else None):
            raise BuildError([Problem(path, message=f"cannot be written: {place.relative_to(out).as_posix()} is "
                                      "in the way, and this build does not replace it",
                                      hint="a whole build of the site names the sources that collide")])
    return sorted(in_the_way)


def _droppable(out: Path, place: Path, current: set[str], gone: set[str] | None) -> bool:
    """Whether a file or folder in the way holds nothing this build makes (nor, with `gone`, anything but
    what goes)."""
    if place.is_dir() and not place.is_symlink():
        inside = [(Path(folder) / name).relative_to(out).as_posix() for folder, _, names in os.walk(place)
                  for name in names]
    else:
        inside = [place.relative_to(out).as_posix()]
    return not any(path in current or (gone is not None and path not in gone) for path in inside)


def clashes(claims: Iterable[tuple[str, str]], hint: str = "give one of them another slug") -> list[Problem]:
    """A problem for each claim (a path in the output folder, and who writes it: a source, or what the build
    makes) that cannot be made beside an earlier one: the same file, a file where the other needs a folder of
    that name, or the reverse (compared as the file systems that ignore case and accents compare). Each
    names both, and is said of the later claim."""
    files: dict[str, tuple[int, str, str]] = {}  # by key: (order, path, owner)
    problems = []
    for order, (path, owner) in enumerate(claims):
        key = _key(path)
        if key in files:
            problems.append(Problem(owner, message=f"writes the same output file {path} as {files[key][2]}", hint=hint))
        else:
            files[key] = (order, path, owner)
    said: set[str] = set()  # folders a problem was said of (once each, however many files they would hold)
    for key, (order, path, owner) in files.items():
        parts = key.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder in files and folder not in said:
                said.add(folder)
                first, file, other = files[folder]
                problems.append(Problem(owner, message=f"writes the output file {path} inside {file}, which "
                                        f"{other} writes as a file", hint=hint) if order > first else
                                Problem(other, message=f"writes the output file {file}, where {owner} needs a "
                                        f"folder (for {path})", hint=hint))
                break
    return problems


def _key(path: str) -> str:
    """A path as the file systems that ignore case and accents see it."""
    return path.casefold() if path.isascii() else unicodedata.normalize("NFC", path).casefold()


def _remove_gone(out: Path, gone: set[str]) -> None:
    """Delete the previous build's files that this build does not make, and folders they leave empty."""
    folders = set()
    for path in gone:
        target = _inside(out, path)  # (_check_moves made sure no link on the way leads out of out)
        if target.is_file() or target.is_symlink():  # (not when it is a folder now, or its folder a file)
            target.unlink()
        folders.update(target.parents)
    for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
        if folder.is_relative_to(out) and folder != out and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def _remove_others(out: Path, keep: set[str]) -> None:
    """Delete files of the previous build that this build does not make, and folders left empty."""
    for directory, _subdirs, names in os.walk(out, topdown=False):
        folder = Path(directory)
        relative = folder.relative_to(out).as_posix()
        for name in names:
            if (name if relative == "." else f"{relative}/{name}") not in keep:
                (folder / name).unlink()
        if folder != out and not any(folder.iterdir()):
            folder.rmdir()


def _fill(stage: Stage, outputs: Iterator[Output], assets: Iterable[Asset]) -> int:
    assert stage.folder is not None
    count = 0
    for output in outputs:
        count += stage.place(output.path, output.data) if output.placed is None else output.placed
    for asset in assets:
        target = _inside(stage.folder, asset.path)
        _mkdir(target.parent, stage.made)
        old = stage.previous / asset.path if stage.previous else None
        if old is None or copy_state(old) != copy_state(asset.source) or not _linked(old, target):
            shutil.copy2(asset.source, target)
            count += 1
    return count


def _same_bytes(old: Path, data: bytes | None) -> bool:
    """True when old holds exactly data (None: the caller knows it is unchanged)."""
    if data is None:
        return True
    try:
        return old.stat().st_size == len(data) and old.read_bytes() == data
    except OSError:
        return False


def _linked(old: Path, target: Path) -> bool:
    """Hard-link the previous build's file into the stage (same file, same mtime); False when impossible."""
    try:
        os.link(old, target)
    except OSError:
        return False
    return True


def _mkdir(folder: Path, made: set[Path]) -> None:
    if folder not in made:
        folder.mkdir(parents=True, exist_ok=True)
        made.add(folder)


def _inside(folder: Path, relative: str) -> Path:
    """folder/relative, refusing a path that climbs out of folder ('..', absolute, empty)."""
    clean = os.path.normpath(relative)
    if not relative or "\0" in relative or os.path.isabs(clean) or clean == "." or clean.split(os.sep)[0] == "..":
        raise BuildError([Problem(relative, message="refusing to write outside the output folder")])
    return folder / clean


def _settled(folder: Path, relative: str) -> Path:
    """Like _inside, and also no symbolic link on the way leads out of folder (checked before replacing)."""
    target = _inside(folder, relative)
    if not target.parent.resolve().is_relative_to(folder.resolve()):
        raise BuildError([Problem(relative, message="refusing to write outside the output folder")])
    return target


def _swap(stage: Path, out: Path) -> None:
    """Put stage where out is: one atomic exchange on Linux, else two renames a moment apart."""
    if not out.exists():
        os.rename(stage, out)
        return
    old = out.with_name(f".{out.name}.old-{os.getpid()}-{time.monotonic_ns()}")
    if _exchange(stage, out):
        os.rename(stage, old)
    else:
        os.rename(out, old)
        try:
            os.rename(stage, out)
        except OSError:
            os.rename(old, out)
            raise
    _discard(old)


def _discard(folder: Path) -> None:
    """Delete the previous build: in the background where `rm` exists (the next build cleans up otherwise)."""
    rm = shutil.which("rm")
    if rm and os.name == "posix":
        subprocess.Popen([rm, "-rf", "--", str(folder)], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    else:
        shutil.rmtree(folder, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths with renameat2(RENAME_EXCHANGE) where the system offers it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


def _remove_leftovers(out: Path) -> None:
    """Staging folders left by a build that was killed, and previous builds still being deleted, are
    deleted (in the background: a build right after another need not wait for the last one's old files)."""
    for prefix in (f".{out.name}.tmp-", f".{out.name}.old-"):
        for leftover in out.parent.glob(prefix + "*"):
            if leftover.is_dir():
                _discard(leftover)


@contextlib.contextmanager
def locked(out: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """One build at a time for an output folder, from reading its cache to writing its last file: a second
    one waits (`on_wait` is called first, to say so)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.parent / f".{out.name}.lock", "w") as lock:
        if fcntl is not None:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait:
                    on_wait()
                fcntl.flock(lock, fcntl.LOCK_EX)
        yield
