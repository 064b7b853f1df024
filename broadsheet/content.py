"""content/ -> frozen records: articles, pages, author profiles and files to copy."""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from time import perf_counter
from typing import Any

from . import bodies, meta, workers
from .config import Config, Folders
from .documents import ContentFolder, Making, Parsed, make_record
from .errors import Problem, display_path, has_errors
from .files import (
    RECENT_NS,
    copy_state,
    has_front_matter,
    ignored,
    is_active,
    is_markdown,
    is_recent,
    is_xml,
    link_problem,
)
from .files import state as state_of
from .images import markup_problems
from .incremental.cache import Cache, source_key
from .markup import PARALLEL_THRESHOLD, is_local, make_markdown, render_safely
from .records import Article, Asset, Content, PageView, with_face

MAX_FILE_BYTES = 5 * 1024 * 1024
_VIEW_COLUMNS = ({"path", "page", "page path", "page path and screen class", "url", "pagepath"},
                 {"views", "pageviews", "page views", "screenpageviews", "screen page views"})
_DATA_FOLDERS = ("data",)


@dataclass(frozen=True)
class Sources:
    """The files a build reads: (path, state) of every file under content/, sorted (see scan), with the
    folders they were found in."""

    folders: Folders
    files: list[tuple[str, os.stat_result | None]]


def survey(config: Config, folders: Folders, problems: list[Problem]) -> Sources:
    """Every file under content/ (see scan)."""
    return Sources(folders, scan(str(folders.content), config.root, problems))


def load(config: Config, sources: Sources, problems: list[Problem], cache: Cache | None = None, jobs: int = 1,
         timings: dict[str, float] | None = None) -> Content:
    """Read every file of `sources` (from the cache when its bytes are unchanged), and the files of
    layouts/static/; report problems."""
    records: dict[str, list] = {"articles": [], "pages": [], "authors": []}
    copied: list[tuple[str, str, os.stat_result | None]] = []
    content_dir, static_dir = sources.folders.content, sources.folders.static
    found_sources = []
    prefix = len(str(content_dir)) + 1
    for path, stat in sources.files:
        rel = path[prefix:].replace(os.sep, "/")
        kind = rel.split("/", 1)[0] if "/" in rel else ""
        if is_markdown(rel) and kind in records:
            found_sources.append((path, rel, kind, *_identify(path, rel, cache, stat)))
        elif kind not in _DATA_FOLDERS:
            copied.append((path, rel, stat))
    assets = _publishable(config, copied, cache, problems)
    read = 0
    for kind, record, found, fresh in _records(config, content_dir, found_sources, cache, jobs, timings):
        read += fresh
        problems.extend(found)
        if record is not None:
            records[kind].append(record)
    if static_dir.is_dir():
        start = len(str(static_dir)) + 1
        assets += [Asset(Path(p), "static/" + p[start:].replace(os.sep, "/"))
                   for p in _files(str(static_dir), config.root, problems)]
    views = content_dir / "data" / "pageviews.csv"
    pageviews = _pageviews(views, display_path(views, config.root), problems) if views.is_file() else None
    ordered = {kind: tuple(sorted(found, key=lambda r: r.source)) for kind, found in records.items()}
    return Content(ordered["articles"], ordered["pages"], ordered["authors"], tuple(assets), pageviews, read=read)


def reload(config: Config, content_dir: Path, paths: list[tuple[str, os.stat_result | None]], cache: Cache,
           jobs: int = 1) -> list[tuple[Any, list[Problem]]]:
    """(record or None, problems) of a few article sources, as `load` makes them, into the build's cache
    (for a rebuild that knows which files changed)."""
    prefix = len(str(content_dir)) + 1
    sources = []
    for path, stat in paths:
        rel = path[prefix:].replace(os.sep, "/")
        sources.append((path, rel, "articles", *_identify(path, rel, cache, stat)))
    return [(record, found) for _, record, found, _ in _records(config, content_dir, sources, cache, jobs)]


def _records(config: Config, content_dir: Path, sources: list[tuple[str, str, str, str, bytes | None]],
             cache: Cache | None, jobs: int, timings: dict[str, float] | None = None
             ) -> Iterator[tuple[str, Any, list[Problem], bool]]:
    """(kind, record or None, problems, whether it was made afresh) of each source: from the cache when its
    bytes and the files it was made from are unchanged, else made afresh (and cached)."""
    hits = cache.get_many([key for *_, key, _ in sources], remember=True) if cache else {}
    store = bodies.Bodies(cache)
    states: dict[str, tuple[int, int] | None] = {}  # each picture is looked at once, however many use it
    fresh = []
    for path, rel, kind, key, data in sources:
        hit = hits.get(key)
        if hit is not None and _unchanged(hit[2], states):
            record, found, _ = hit
            if record is not None and kind == "articles":
                store.keep(record.body)
            yield kind, record, found, False
            continue
        if data is None:  # known by its file state, but its entry is gone: read it after all
            data = _head(path)
            key = source_key(cache.reading if cache else "", rel, data)
        fresh.append((kind, path, rel, key, data))
    started = perf_counter()
    for kind, key, record, found, dependencies, texts, lasting in _made(config, content_dir, fresh, jobs):
        store.take(texts)
        if cache and lasting:
            cache.put(key, (record, found, dependencies), remember=True)
        yield kind, record, found, True
    if timings is not None:
        timings["markdown"] = perf_counter() - started


class _Reading:
    """What reading sources needs in each process: the settings, the content folder, and a Markdown
    instance (made again after one stops midway: its state could spoil the next document)."""

    def __init__(self, config: Config, content_dir: Path) -> None:
        self.config, self.folder = config, ContentFolder(content_dir)  # (its folders resolved once per build)
        self.md = make_markdown(config)

    def fresh_markdown(self) -> None:
        self.md = make_markdown(self.config)


def _made(config: Config, content_dir: Path, sources: list[tuple[str, str, str, str, bytes]],
          jobs: int) -> Iterator[tuple[str, str, Any, list[Problem], tuple, dict[str, str], bool]]:
    """What each source makes (see _make), in order: read, parsed, rendered and made into a record in
    worker processes when there are many (the same either way)."""
    if not sources:
        return
    reading = _Reading(config, content_dir)
    # Markdown runs under a time limit, which needs a process's main thread (a signal): the preview builds
    # on a thread of its own, so there even one source goes to a worker process.
    if workers.can_fork() and (jobs > 1 and len(sources) >= PARALLEL_THRESHOLD or not _can_time_limit()):
        with workers.pool(max(1, min(jobs, len(sources))), reading) as pool:
            yield from pool.imap(_make_in_worker, sources, chunksize=max(1, min(64, len(sources) // (jobs * 8))))
    else:
        yield from (_make(reading, source) for source in sources)


def _make_in_worker(source: tuple[str, str, str, str, bytes]) -> tuple[str, str, Any, list[Problem], tuple,
                                                                         dict[str, str], bool]:
    return _make(workers.job(), source)


def _make(reading: _Reading, source: tuple[str, str, str, str, bytes]) -> tuple[str, str, Any, list[Problem],
                                                                                  tuple, dict[str, str], bool]:
    """One source file made into (kind, key, record or None, problems, dependencies, body texts by name,
    whether to keep it in the cache: not when Markdown ran out of time, which a less busy machine may not)."""
    config, content_dir = reading.config, reading.folder.path
    kind, path, rel, key, data = source
    found: list[Problem] = []
    document = _read(Path(path), data, config.root, found)
    if document is None:
        return kind, key, None, found, (), {}, True
    texts = bodies.Bodies()  # (this source's body, handed to the build's store with the record)
    lasting = True
    try:
        with _time_limit(config.markdown_timeout):
            body = render_safely(reading.md, document.body, config.raw_html, config.embed_hosts)
        if body[1]:  # it raised (nesting too deep, or worse) midway: its state can spoil the next document
            reading.fresh_markdown()
    except _Overtime:
        lasting = False
        reading.fresh_markdown()  # never reuse an instance stopped midway
        body = ("", f"markdown rendering took longer than {config.markdown_timeout:g} s; not rendered "
                    "(look for runaway brackets, emphasis or spaces, or HTML nested thousands deep; the limit is the "
                    "markdown_timeout setting)",
                "", ())
    record = make_record(kind, config, Parsed(document, PurePosixPath(rel), body), Making(reading.folder, texts),
                         found)
    dependencies = _dependencies(document, content_dir)
    if has_errors(found):
        record = None
    elif record is not None:
        record = replace(record, digest=source_key(key, repr(dependencies), b""))
        if isinstance(record, Article):
            record = with_face(record)
    return kind, key, record, found, dependencies, texts.held, lasting


def _can_time_limit() -> bool:
    """A timer signal reaches only a process's main thread (and not every system has one)."""
    return threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")


class _Overtime(BaseException):
    """Markdown ran past the time limit (a BaseException, so no `except Exception` on the way swallows it)."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise _Overtime in this thread after `seconds` (only in a process's main thread, where signals land;
    Python-Markdown's slow cases are Python loops and regular expressions, which a signal interrupts)."""
    if not _can_time_limit():
        yield
        return

    def overtime(*_: object) -> None:
        # raised where the signal lands; inside a garbage collector's callback or a __del__ Python would
        # only print it and carry on, so the timer fires again soon after, until the raise takes effect
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        raise _Overtime

    previous = signal.signal(signal.SIGALRM, overtime)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _identify(path: str, rel: str, cache: Cache | None, stat: os.stat_result | None) -> tuple[str, bytes | None]:
    """A source's cache key: from the last build's note when the file is untouched (size, mtime, ctime and
    inode all the same, under the same settings), else from its bytes, which are then returned so they are
    read only once."""
    state = ""
    if cache is not None:
        stat = stat or os.stat(path)
        state = f"{cache.reading[:16]}:{state_of(stat)}"
        if is_recent(stat, time.time_ns() - RECENT_NS):
            state += ":recent"  # saved within a coarse clock's tick of now: a later save may look the same
        known = cache.known_file(rel)
        if known is not None and known[0] == state and not state.endswith(":recent"):
            cache.saw_file(rel, state, known[1])
            return known[1], None
    data = _head(path)
    key = source_key(cache.reading if cache else "", rel, data)
    if cache is not None:
        cache.saw_file(rel, state, key)
    return key, data


def _head(path: str) -> bytes:
    """A source's bytes, but never more than one past the limit: a larger file is refused by its size, and a
    file of gigabytes is not read into memory to be refused."""
    with open(path, "rb") as file:
        return file.read(MAX_FILE_BYTES + 1)


def _dependencies(document: meta.Document | None, content_dir: Path) -> tuple[tuple[str, tuple | None], ...]:
    """Other files a record was made from (its picture, whose size it carries), with their state."""
    node = document.fields.get("image") if document else None
    parts = meta.mapping(node.node) if node else None
    src = meta.text(parts["src"]) if parts and "src" in parts else meta.text(node.node) if node else None
    if not src or not is_local(src):
        return ()
    target = content_dir / src.lstrip("/")
    return ((str(target), copy_state(target)),)


def _unchanged(dependencies: tuple[tuple[str, tuple | None], ...], states: dict[str, tuple[int, int] | None]) -> bool:
    for path, state in dependencies:
        if path not in states:
            states[path] = copy_state(path)
        if states[path] != state:
            return False
    return True


def _publishable(config: Config, files: list[tuple[str, str, os.stat_result | None]], cache: Cache | None,
                 problems: list[Problem]) -> list[Asset]:
    """The files of content/ to copy to the site as they are: all but those refused, each refusal an error
    (see _refusal, and images.markup_problems for SVG pictures and other XML)."""
    refused, markup = set(), []
    for path, rel, stat in files:
        why = _refusal(config, path, rel)
        if why is not None:
            problems.append(Problem(display_path(Path(path), config.root), message=why[0], hint=why[1]))
            refused.add(path)
        elif is_xml(rel) and not _interactive(config, rel):
            markup.append((path, rel, stat))
    refused |= _unsafe_markup(markup, config.root, cache, problems)
    return [Asset(Path(path), rel) for path, rel, _ in files if path not in refused]


def _interactive(config: Config, rel: str) -> bool:
    """Whether a file of content/ lies in a folder the `interactives` setting names."""
    return any(rel.startswith(folder) for folder in config.interactives)


def _refusal(config: Config, path: str, rel: str) -> tuple[str, str] | None:
    """(message, hint) when a file of content/ may not be copied as it is: Markdown outside the sources'
    folders, a file that runs script (outside the interactives folders), a file that opens with front matter."""
    if is_markdown(rel):
        return ("Markdown outside articles/, pages/ and authors/ would be copied as it is, front matter and all; "
                "not published", "move it into content/articles/<section>/ or content/pages/, or out of content/")
    if is_active(rel) and not _interactive(config, rel):
        hint = (f"interactive graphics go in {' or '.join('content/' + f for f in config.interactives)}"
                if config.interactives else "for a reviewed interactive graphic, name its folder in the "
                'interactives setting, e.g. interactives = ["graphics/"]')
        return (f"a {Path(rel).suffix} file runs script in readers' browsers on the paper's own site; not "
                "published outside the interactives folders", hint)
    if has_front_matter(path):
        return ("opens with front matter but is not a Markdown file; not published as it is",
                "to publish it as a story, name it .md and put it in content/articles/<section>/")
    return None


def _unsafe_markup(markup: list[tuple[str, str, os.stat_result | None]], root: Path, cache: Cache | None,
                   problems: list[Problem]) -> set[str]:
    """The paths of the SVG pictures and other XML files that hold what a browser would run or fetch from
    elsewhere, each finding an error at its line; what each file holds is kept in the cache by its bytes."""
    keyed = [(path, rel, *_identify(path, rel, cache, stat)) for path, rel, stat in markup]
    verdicts = cache.get_many([_checked(key) for *_, key, _ in keyed], remember=True) if cache else {}
    refused = set()
    for path, rel, key, data in keyed:
        found = verdicts.get(_checked(key))
        if found is None:
            found = markup_problems(Path(path).read_bytes() if data is None else data, rel.lower().endswith(".svg"))
            if cache is not None:
                cache.put(_checked(key), found, remember=True)
        shown = display_path(Path(path), root)
        problems.extend(Problem(shown, line, col, message, hint) for line, col, message, hint in found)
        if found:
            refused.add(path)
    return refused


def _checked(key: str) -> str:
    """The cache key of what images.markup_problems found in the file of this source key."""
    return source_key(key, "markup problems 1", b"")


def _pageviews(path: Path, shown: str, problems: list[Problem]) -> tuple[PageView, ...]:
    """Rows of `path,views` (the names analytics tools export are accepted too); bad rows are warnings."""
    rows = list(_rows(csv.reader(path.read_text(encoding="utf-8-sig", errors="replace").splitlines()), shown,
                      problems))
    header = [cell.strip().lower() for cell in rows[0][1]] if rows else []
    columns = [next((i for i, name in enumerate(header) if name in names), None) for names in _VIEW_COLUMNS]
    if None in columns:
        problems.append(Problem(shown, 1, 1, "needs a header with 'path' and 'views' columns",
                                "export the page report as CSV: path,views"))
        return ()
    found = []
    for line, row in rows[1:]:
        try:
            found.append(PageView(row[columns[0]], int(row[columns[1]].replace(",", "").strip()), shown, line))
        except (IndexError, ValueError):
            if any(cell.strip() for cell in row):
                problems.append(Problem(shown, line, 1, "row without a path and a whole number of views; ignored",
                                        severity="warning"))
    return tuple(found)


def _rows(reader: Any, shown: str, problems: list[Problem]) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of each row of a CSV file; a row it cannot read (a field over csv's 128 KB) is a warning."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problems.append(Problem(shown, reader.line_num, 1, f"unreadable row ({exc}); ignored", severity="warning"))
            continue
        yield reader.line_num, row


def _files(folder: str, root: Path, problems: list[Problem]) -> list[str]:
    """Every regular file under folder, sorted, skipping hidden and editor files and outside links."""
    return [path for path, _ in scan(folder, root, problems)]


def scan(folder: str, root: Path, problems: list[Problem]) -> list[tuple[str, os.stat_result | None]]:
    """(path, file state) of every regular file under folder, sorted, skipping hidden and editor files; a
    symbolic link that leads out of folder, or to a hidden file in it, is an error (.git/config, .env and
    pyproject.toml are never published through a link)."""
    found: list[tuple[str, os.stat_result | None]] = []
    _walk(folder, os.path.realpath(folder), root, problems, found)
    return found


def _walk(folder: str, top: str, root: Path, problems: list[Problem], found: list) -> None:
    with os.scandir(folder) as listing:
        entries = sorted((e for e in listing if not ignored(e.name)), key=lambda e: e.name)
    for entry in entries:
        if not _is_utf8(entry.name):  # (a web address, a feed id and the cache all need its name as text)
            problems.append(Problem(display_path(Path(entry.path), root), message="its name is not valid UTF-8 "
                                    "(copied from an older system?); not published", hint="rename it"))
        elif entry.is_symlink() and (why := link_problem(entry.path, top)):
            where = display_path(Path(top), root).rstrip("/") + "/"
            problems.append(Problem(display_path(Path(entry.path), root), message=f"symbolic link {why} {where} "
                                    f"(to {display_path(Path(os.path.realpath(entry.path)), root)}); not published",
                                    hint=f"copy the file into {where} instead of linking to it"))
        elif entry.is_dir(follow_symlinks=False):
            _walk(entry.path, top, root, problems, found)
        elif entry.is_file():
            try:
                found.append((entry.path, entry.stat()))
            except OSError:  # gone since it was listed: read (and reported) as any missing file is
                found.append((entry.path, None))


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # (os.fsdecode keeps each byte that is not UTF-8 as a lone surrogate)
        return False
    return True


def _read(path: Path, data: bytes, root: Path, problems: list[Problem]) -> meta.Document | None:
    shown = display_path(path, root)
    size = len(data)
    if size > MAX_FILE_BYTES:
        with contextlib.suppress(OSError):  # (only the head was read: the size is the file's)
            size = max(size, path.stat().st_size)
        problems.append(Problem(shown, message=f"file is larger than the {MAX_FILE_BYTES // 2**20} MB limit "
                                f"({size / 2**20:.1f} MB)"))
        return None
    if not data.strip():
        problems.append(Problem(shown, 1, 1, "file is empty", "give it front matter with a title"))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        problems.append(Problem(shown, line, col, f"file is not valid UTF-8 (byte 0x{data[exc.start]:02X} "
                                f"at offset {exc.start})", "save it as UTF-8"))
        return None
    return meta.parse(shown, text, problems)


