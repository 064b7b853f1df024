"""content/ -> frozen records: articles, pages, author profiles and files to copy."""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, replace
from datetime import datetime
from html import unescape
from pathlib import Path, PurePosixPath
from time import perf_counter

import yaml

from . import meta
from .cache import Cache, source_key
from .config import Config
from .errors import Problem, display_path
from .images import dimensions
from .markup import is_local, render_bodies
from .slugs import slug_problem, slugify

MAX_FILE_BYTES = 5 * 1024 * 1024
ARTICLE_KEYS = ("title", "date", "updated", "authors", "author", "description", "section", "tags",
                "image", "slug", "draft", "featured", "lang", "source", "expires", "corrections", "id")
SUMMARY_CHARACTERS = 220
_VIEW_COLUMNS = ({"path", "page", "page path", "page path and screen class", "url", "pagepath"},
                 {"views", "pageviews", "page views", "screenpageviews", "screen page views"})
PAGE_KEYS = ("title", "description", "slug", "draft", "lang")
PROFILE_KEYS = ("name", "role", "photo", "description")
_IGNORED = re.compile(r"^(\.|#)|~$|\.(swp|swx|tmp|bak)$")
_DATA_FOLDERS = ("data",)


@dataclass(frozen=True)
class Image:
    """A picture with its caption and credit; any part may be empty."""

    src: str
    alt: str
    caption: str
    credit: str
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class Correction:
    """A dated correction or update note shown at the foot of an article."""

    date: datetime
    text: str


@dataclass(frozen=True)
class Article:
    """One news article as its file says, with the body rendered to HTML."""

    source: str
    path: str
    title: str
    date: datetime
    updated: datetime | None
    authors: tuple[str, ...]
    description: str
    section: str
    tags: tuple[str, ...]
    image: Image | None
    slug: str
    draft: bool
    featured: bool
    lang: str
    html: str
    words: int
    summary: str
    expires: datetime | None
    corrections: tuple[Correction, ...]
    id: str
    terms: str = ""
    url: str = ""
    digest: str = ""

    @property
    def modified(self) -> datetime | None:
        """The last substantive change: the later of `updated` and the newest correction."""
        moments = [m for m in (self.updated, *(c.date for c in self.corrections)) if m is not None]
        return max(moments) if moments else None

    @property
    def reading_minutes(self) -> int:
        """Reading time at 230 words a minute, rounded up (at least 1)."""
        return max(1, -(-self.words // 230))


@dataclass(frozen=True)
class Page:
    """A standing page such as About or Contact."""

    source: str
    title: str
    description: str
    slug: str
    draft: bool
    lang: str
    html: str
    url: str = ""
    digest: str = ""


@dataclass(frozen=True)
class Profile:
    """A reporter's biography from content/authors/<slug>.md."""

    source: str
    slug: str
    name: str
    role: str
    photo: str
    html: str
    digest: str = ""


@dataclass(frozen=True)
class Asset:
    """A file copied unchanged: from `source` to `path` inside the output."""

    source: Path
    path: str


@dataclass(frozen=True)
class PageView:
    """One row of the analytics export in content/data/pageviews.csv."""

    path: str
    views: int
    source: str
    line: int


@dataclass(frozen=True)
class Content:
    """Everything read from content/ (and layouts/static/)."""

    articles: tuple[Article, ...]
    pages: tuple[Page, ...]
    profiles: tuple[Profile, ...]
    assets: tuple[Asset, ...]
    pageviews: tuple[PageView, ...] | None = None


def load(config: Config, content_dir: Path, static_dir: Path, problems: list[Problem],
         cache: Cache | None = None, jobs: int = 1, timings: dict[str, float] | None = None) -> Content:
    """Read every file under content_dir (from the cache when its bytes are unchanged); report problems."""
    records: dict[str, list] = {"articles": [], "pages": [], "authors": []}
    assets, fresh = [], []
    sources = []
    prefix = len(str(content_dir)) + 1
    for path in _files(content_dir, config.root, problems):
        rel = str(path)[prefix:].replace(os.sep, "/")
        kind = rel.split("/", 1)[0] if "/" in rel else ""
        if rel.endswith(".md") and kind in records:
            sources.append((path, rel, kind, *_identify(path, rel, cache)))
        elif kind not in _DATA_FOLDERS:
            assets.append(Asset(path, rel))
    hits = cache.get_many([key for *_, key, _ in sources]) if cache else {}
    for path, rel, kind, key, data in sources:
        hit = hits.get(key)
        if hit is not None and _unchanged(hit[2]):
            record, found, _ = hit
            problems.extend(found)
            if record is not None:
                records[kind].append(record)
            continue
        data = data if data is not None else path.read_bytes()
        key = source_key(cache.fingerprint if cache else "", rel, data)
        found = []
        fresh.append((kind, PurePosixPath(rel), key, _read(path, data, config.root, found), found))
    started = perf_counter()
    bodies = iter(render_bodies(config, [document.body for *_, document, _ in fresh if document], jobs))
    if timings is not None:
        timings["markdown"] = perf_counter() - started
    for kind, rel, key, document, found in fresh:
        record = _record(kind, config, document, rel, content_dir, next(bodies), found) if document else None
        dependencies = _dependencies(document, content_dir)
        if any(p.severity == "error" for p in found):
            record = None
        elif record is not None:
            record = replace(record, digest=source_key(key, repr(dependencies), b""))
        if cache:
            cache.put(key, (record, found, dependencies))
        problems.extend(found)
        if record is not None:
            records[kind].append(record)
    if static_dir.is_dir():
        assets += [Asset(p, "static/" + p.relative_to(static_dir).as_posix())
                   for p in _files(static_dir, config.root, problems)]
    views = content_dir / "data" / "pageviews.csv"
    pageviews = _pageviews(views, display_path(views, config.root), problems) if views.is_file() else None
    ordered = {kind: tuple(sorted(found, key=lambda r: r.source)) for kind, found in records.items()}
    return Content(ordered["articles"], ordered["pages"], ordered["authors"], tuple(assets), pageviews)


def _identify(path: Path, rel: str, cache: Cache | None) -> tuple[str, bytes | None]:
    """A source's cache key: from the last build's note when the file is untouched (size, mtime, ctime and
    inode all the same), else from its bytes, which are then returned so they are read only once."""
    stat = path.stat()
    state = f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}:{stat.st_ino}"
    if cache is None:
        data = path.read_bytes()
        return source_key("", rel, data), data
    known = cache.known_files.get(rel)
    if known is not None and known[0] == state:
        cache.saw_file(rel, state, known[1])
        return known[1], None
    data = path.read_bytes()
    key = source_key(cache.fingerprint, rel, data)
    cache.saw_file(rel, state, key)
    return key, data


def _record(kind: str, config: Config, document: meta.Document, rel: PurePosixPath, content_dir: Path,
            body: tuple[str, str, str], problems: list[Problem]):
    """The record a document makes, by the folder it is in."""
    if kind == "articles":
        return _article(config, document, rel, content_dir, body, problems)
    if kind == "pages":
        return _page(document, rel, body, problems)
    return _profile(document, rel, body, problems)


def _dependencies(document: meta.Document | None, content_dir: Path) -> tuple[tuple[str, tuple | None], ...]:
    """Other files a record was made from (its picture, whose size it carries), with their state."""
    node = document.fields.get("image") if document else None
    parts = meta.mapping(node.node) if node else None
    src = meta.text(parts["src"]) if parts and "src" in parts else meta.text(node.node) if node else None
    if not src or not is_local(src):
        return ()
    target = content_dir / src.lstrip("/")
    return ((str(target), _state(target)),)


def _unchanged(dependencies: tuple[tuple[str, tuple | None], ...]) -> bool:
    return all(_state(Path(path)) == state for path, state in dependencies)


def _state(path: Path) -> tuple | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_size, stat.st_mtime_ns)


def _pageviews(path: Path, shown: str, problems: list[Problem]) -> tuple[PageView, ...]:
    """Rows of `path,views` (the names analytics tools export are accepted too); bad rows are warnings."""
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig", errors="replace").splitlines()))
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    columns = [next((i for i, name in enumerate(header) if name in names), None) for names in _VIEW_COLUMNS]
    if None in columns:
        problems.append(Problem(shown, 1, 1, "needs a header with 'path' and 'views' columns",
                                "export the page report as CSV: path,views"))
        return ()
    found = []
    for line, row in enumerate(rows[1:], 2):
        try:
            found.append(PageView(row[columns[0]], int(row[columns[1]].replace(",", "").strip()), shown, line))
        except (IndexError, ValueError):
            if any(cell.strip() for cell in row):
                problems.append(Problem(shown, line, 1, "row without a path and a whole number of views; ignored",
                                        severity="warning"))
    return tuple(found)


def _files(folder: Path, root: Path, problems: list[Problem]) -> list[Path]:
    """Every regular file under folder, sorted, skipping hidden and editor files and outside links."""
    found: list[Path] = []
    with os.scandir(folder) as listing:
        entries = sorted((e for e in listing if not _IGNORED.search(e.name)), key=lambda e: e.name)
    for entry in entries:
        path = Path(entry.path)
        if entry.is_symlink() and not path.resolve().is_relative_to(root):
            problems.append(Problem(display_path(path, root), message="symbolic link points outside the "
                                    "project; not followed", severity="warning"))
        elif entry.is_dir(follow_symlinks=False):
            found += _files(path, root, problems)
        elif entry.is_file():
            found.append(path)
    return found


def _read(path: Path, data: bytes, root: Path, problems: list[Problem]) -> meta.Document | None:
    shown = display_path(path, root)
    size = len(data)
    if size > MAX_FILE_BYTES:
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


def _article(config: Config, document: meta.Document, rel: PurePosixPath, content_dir: Path,
             body: tuple[str, str, str], problems: list[Problem]) -> Article | None:
    read = meta.Reader(document, ARTICLE_KEYS, problems)
    title = read.text("title", required=True)
    date = read.moment("date", config, required=True)
    updated = read.moment("updated", config)
    authors = read.texts("authors")
    if read.node("author") is not None:
        if authors:
            read.report(read.node("author"), "use either 'author' or 'authors', not both")
        authors = (read.text("author"),)
    folder = rel.parts[1] if len(rel.parts) > 2 else config.default_section
    section = slugify(read.text("section") or folder)
    slug = _slug(read, title)
    image = _image(read, content_dir)
    html, words = _body(document, body, problems)
    flags = read.flag("draft"), read.flag("featured")
    description, tags, lang = read.text("description"), read.texts("tags"), read.text("lang")
    expires, corrections = read.moment("expires", config), _corrections(read, config)
    if date is None:
        return None
    if updated is not None and updated < date:
        read.report(read.node("updated"), "'updated' is earlier than 'date'", severity="warning")
    return Article(document.path, str(rel), title, date, updated, authors, description, section, tags, image,
                   slug, *flags, lang, html, words, description or summarise(html), expires, corrections,
                   read.text("id"), body[2])


def _corrections(read: meta.Reader, config: Config) -> tuple[Correction, ...]:
    node = read.node("corrections")
    if node is None:
        return ()
    items = node.value if isinstance(node, yaml.SequenceNode) else None
    found = []
    for item in items if items is not None else [node]:
        parts = meta.mapping(item)
        if parts is None or "date" not in parts or not meta.text(parts.get("text", item)):
            read.report(item, "each correction needs a 'date' and a 'text'",
                        "corrections:\n  - date: 2026-03-14 10:00\n    text: An earlier version misspelt ...")
            continue
        when = meta.moment(parts["date"], config.zone)
        if isinstance(when, str):
            read.report(parts["date"], when)
            continue
        found.append(Correction(when, meta.text(parts["text"]) or ""))
    return tuple(sorted(found, key=lambda c: c.date))


def summarise(html: str) -> str:
    """The first paragraph as plain text, cut at a word boundary."""
    found = re.search(r"<p>(.*?)</p>", html, re.S)
    text = " ".join(unescape(re.sub(r"<[^>]+>", "", found[1])).split()) if found else ""
    if len(text) <= SUMMARY_CHARACTERS:
        return text
    return text[:SUMMARY_CHARACTERS].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _page(document: meta.Document, rel: PurePosixPath, body: tuple[str, str, str],
          problems: list[Problem]) -> Page | None:
    read = meta.Reader(document, PAGE_KEYS, problems)
    title = read.text("title", required=True)
    slug = _slug(read, rel.stem if rel.stem != "index" else title)
    html, _ = _body(document, body, problems)
    description, draft, lang = read.text("description"), read.flag("draft"), read.text("lang")
    return Page(document.path, title, description, slug, draft, lang, html)


def _profile(document: meta.Document, rel: PurePosixPath, body: tuple[str, str, str],
             problems: list[Problem]) -> Profile | None:
    read = meta.Reader(document, PROFILE_KEYS, problems)
    name = read.text("name", required=True)
    html, _ = _body(document, body, problems)
    role, photo = read.text("role"), read.text("photo")
    return Profile(document.path, rel.stem, name, role, photo, html)


def _slug(read: meta.Reader, fallback: str) -> str:
    explicit = read.text("slug")
    if not explicit and not fallback:
        return ""
    slug = explicit or slugify(fallback)
    problem = slug_problem(slug)
    if problem:
        node = read.node("slug") or read.node("title")
        if node is not None:
            read.report(node, problem, "" if explicit else "set 'slug:' explicitly")
        else:
            read.problems.append(Problem(read.document.path, 1, 1, problem))
    return slug


def _image(read: meta.Reader, content_dir: Path) -> Image | None:
    node = read.node("image")
    if node is None:
        return None
    parts = meta.mapping(node)
    if parts is None:
        src = meta.text(node)
        parts_text = {"src": src or ""}
    else:
        parts_text = {}
        for key, value in parts.items():
            if key not in ("src", "alt", "caption", "credit"):
                read.report(value, f"unknown image key '{key}'", "use src, alt, caption and credit", "warning")
            parts_text[key] = meta.text(value) or ""
    image = Image(*(parts_text.get(k, "") for k in ("src", "alt", "caption", "credit")))
    return _check_image_src(read, node, image, content_dir) if image.src else image


def _check_image_src(read: meta.Reader, node, image: Image, content_dir: Path) -> Image:
    """Report a missing or unsafe picture; return the image with its pixel size when the file has one."""
    if not is_local(image.src) and not image.src.startswith(("https://", "http://")):
        read.report(node, f"image src '{image.src}' must be a file in content/ or an http(s) URL")
        return image
    if not image.alt:
        read.report(node, "image has no 'alt' text", "describe the picture for readers who cannot see it",
                    "warning")
    if not is_local(image.src):
        return image
    target = (content_dir / image.src.lstrip("/")).resolve()
    if not target.is_relative_to(content_dir.resolve()) or not target.is_file():
        read.report(node, f"image '{image.src}' not found in the content folder",
                    "paths are relative to the content folder, e.g. /images/photo.jpg")
        return image
    size = dimensions(target)
    return replace(image, width=size[0], height=size[1]) if size else image


def _body(document: meta.Document, body: tuple[str, str, str], problems: list[Problem]) -> tuple[str, int]:
    html, error, _ = body
    if error:
        problems.append(Problem(document.path, document.body_line, 0, error))
        return "", 0
    return html, len(re.findall(r"\w+", document.body))
