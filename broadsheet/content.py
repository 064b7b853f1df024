"""content/ -> frozen records: articles, pages, author profiles and files to copy."""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from markdown import Markdown

from . import meta
from .config import Config
from .errors import Problem, display_path
from .markup import is_local, make_markdown, to_html
from .slugs import slug_problem, slugify

MAX_FILE_BYTES = 5 * 1024 * 1024
ARTICLE_KEYS = ("title", "date", "updated", "authors", "author", "description", "section", "tags",
                "image", "slug", "draft", "featured", "lang", "source")
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


@dataclass(frozen=True)
class Article:
    """One news article as its file says, with the body rendered to HTML."""

    source: str
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
    url: str = ""


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


@dataclass(frozen=True)
class Profile:
    """A reporter's biography from content/authors/<slug>.md."""

    source: str
    slug: str
    name: str
    role: str
    photo: str
    html: str


@dataclass(frozen=True)
class Asset:
    """A file copied unchanged: from `source` to `path` inside the output."""

    source: Path
    path: str


@dataclass(frozen=True)
class Content:
    """Everything read from content/ (and layouts/static/)."""

    articles: tuple[Article, ...]
    pages: tuple[Page, ...]
    profiles: tuple[Profile, ...]
    assets: tuple[Asset, ...]


def load(config: Config, content_dir: Path, static_dir: Path, problems: list[Problem]) -> Content:
    """Read every file under content_dir; report each problem into problems."""
    md = make_markdown(config)
    articles, pages, profiles, assets = [], [], [], []
    for path in _files(content_dir, config.root, problems):
        rel = PurePosixPath(path.relative_to(content_dir).as_posix())
        kind = rel.parts[0] if len(rel.parts) > 1 else ""
        if path.suffix != ".md" or kind not in ("articles", "pages", "authors"):
            if kind not in _DATA_FOLDERS:
                assets.append(Asset(path, str(rel)))
            continue
        before = len(problems)
        document = _read(path, config.root, problems)
        if document is None:
            continue
        if kind == "articles":
            record = _article(config, md, document, rel, content_dir, problems)
        elif kind == "pages":
            record = _page(config, md, document, rel, problems)
        else:
            record = _profile(md, document, rel, config, problems)
        if record is not None and not any(p.severity == "error" for p in problems[before:]):
            {"articles": articles, "pages": pages, "authors": profiles}[kind].append(record)
    if static_dir.is_dir():
        assets += [Asset(p, "static/" + p.relative_to(static_dir).as_posix())
                   for p in _files(static_dir, config.root, problems)]
    return Content(tuple(articles), tuple(pages), tuple(profiles), tuple(assets))


def _files(folder: Path, root: Path, problems: list[Problem]) -> list[Path]:
    """Every regular file under folder, sorted, skipping hidden and editor files and outside links."""
    found = []
    for directory, subdirs, names in os.walk(folder):
        subdirs[:] = sorted(d for d in subdirs if not _IGNORED.search(d))
        for name in sorted(names):
            path = Path(directory, name)
            if _IGNORED.search(name):
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                problems.append(Problem(display_path(path, root), message="symbolic link points outside the "
                                        "project; not followed", severity="warning"))
                continue
            if path.is_file():
                found.append(path)
    return found


def _read(path: Path, root: Path, problems: list[Problem]) -> meta.Document | None:
    shown = display_path(path, root)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        problems.append(Problem(shown, message=f"file is larger than the {MAX_FILE_BYTES // 2**20} MB limit "
                                f"({size / 2**20:.1f} MB)"))
        return None
    data = path.read_bytes()
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


class _Reader:
    """Typed access to one document's front matter, reporting problems with positions."""

    def __init__(self, document: meta.Document, known: tuple[str, ...], problems: list[Problem]) -> None:
        self.document, self.problems = document, problems
        for key, field in document.fields.items():
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"did you mean '{close[0]}'?" if close else "it is ignored"
                self._report(field.node, f"unknown front matter key '{key}'", hint, "warning", field)

    def _report(self, node, message: str, hint: str = "", severity: str = "error", field=None) -> None:
        line, col = (field.line, field.col) if field else meta.position(node)
        self.problems.append(Problem(self.document.path, line, col, message, hint, severity))

    def text(self, key: str, required: bool = False) -> str:
        field = self.document.fields.get(key)
        if field is None or meta.is_null(field.node):
            if required:
                self.problems.append(Problem(self.document.path, 1, 1, f"missing required field '{key}'"))
            return ""
        value = meta.text(field.node)
        if value is None:
            self._report(field.node, f"'{key}' must be text, not a list or mapping")
            return ""
        if required and not value:
            self._report(field.node, f"'{key}' is empty")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        field = self.document.fields.get(key)
        if field is None:
            return ()
        values = meta.texts(field.node)
        if values is None:
            self._report(field.node, f"'{key}' must be a list of names")
            return ()
        return tuple(dict.fromkeys(values))

    def flag(self, key: str) -> bool:
        field = self.document.fields.get(key)
        if field is None or meta.is_null(field.node):
            return False
        value = meta.boolean(field.node)
        if value is None:
            self._report(field.node, f"'{key}' must be true or false, not '{meta.text(field.node)}'")
            return False
        return value

    def moment(self, key: str, config: Config, required: bool = False) -> datetime | None:
        field = self.document.fields.get(key)
        if field is None or meta.is_null(field.node):
            if required:
                self.problems.append(Problem(self.document.path, 1, 1, f"missing required field '{key}'",
                                             "add e.g. 'date: 2026-03-14 09:30'"))
            return None
        value = meta.moment(field.node, config.zone)
        if isinstance(value, str):
            self._report(field.node, value)
            return None
        return value

    def node(self, key: str):
        field = self.document.fields.get(key)
        return None if field is None or meta.is_null(field.node) else field.node


def _article(config: Config, md: Markdown, document: meta.Document, rel: PurePosixPath,
             content_dir: Path, problems: list[Problem]) -> Article | None:
    read = _Reader(document, ARTICLE_KEYS, problems)
    title = read.text("title", required=True)
    date = read.moment("date", config, required=True)
    updated = read.moment("updated", config)
    authors = read.texts("authors")
    if read.node("author") is not None:
        if authors:
            read._report(read.node("author"), "use either 'author' or 'authors', not both")
        authors = (read.text("author"),)
    folder = rel.parts[1] if len(rel.parts) > 2 else config.default_section
    section = slugify(read.text("section") or folder)
    slug = _slug(read, title)
    image = _image(read, content_dir)
    html, words = _body(md, document, config, problems)
    flags = read.flag("draft"), read.flag("featured")
    description, tags, lang = read.text("description"), read.texts("tags"), read.text("lang")
    if date is None:
        return None
    if updated is not None and updated < date:
        read._report(read.node("updated"), "'updated' is earlier than 'date'", severity="warning")
    return Article(document.path, title, date, updated, authors, description, section, tags, image, slug,
                   *flags, lang, html, words)


def _page(config: Config, md: Markdown, document: meta.Document, rel: PurePosixPath,
          problems: list[Problem]) -> Page | None:
    read = _Reader(document, PAGE_KEYS, problems)
    title = read.text("title", required=True)
    slug = _slug(read, rel.stem if rel.stem != "index" else title)
    html, _ = _body(md, document, config, problems)
    description, draft, lang = read.text("description"), read.flag("draft"), read.text("lang")
    return Page(document.path, title, description, slug, draft, lang, html)


def _profile(md: Markdown, document: meta.Document, rel: PurePosixPath, config: Config,
             problems: list[Problem]) -> Profile | None:
    read = _Reader(document, PROFILE_KEYS, problems)
    name = read.text("name", required=True)
    html, _ = _body(md, document, config, problems)
    role, photo = read.text("role"), read.text("photo")
    return Profile(document.path, rel.stem, name, role, photo, html)


def _slug(read: _Reader, fallback: str) -> str:
    explicit = read.text("slug")
    if not explicit and not fallback:
        return ""
    slug = explicit or slugify(fallback)
    problem = slug_problem(slug)
    if problem:
        node = read.node("slug") or read.node("title")
        if node is not None:
            read._report(node, problem, "" if explicit else "set 'slug:' explicitly")
        else:
            read.problems.append(Problem(read.document.path, 1, 1, problem))
    return slug


def _image(read: _Reader, content_dir: Path) -> Image | None:
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
                read._report(value, f"unknown image key '{key}'", "use src, alt, caption and credit", "warning")
            parts_text[key] = meta.text(value) or ""
    image = Image(*(parts_text.get(k, "") for k in ("src", "alt", "caption", "credit")))
    if image.src:
        _check_image_src(read, node, image, content_dir)
    return image


def _check_image_src(read: _Reader, node, image: Image, content_dir: Path) -> None:
    if not is_local(image.src):
        if not image.src.startswith(("https://", "http://")):
            read._report(node, f"image src '{image.src}' must be a file in content/ or an http(s) URL")
        return
    target = (content_dir / image.src.lstrip("/")).resolve()
    if not target.is_relative_to(content_dir.resolve()) or not target.is_file():
        read._report(node, f"image '{image.src}' not found in the content folder",
                     "paths are relative to the content folder, e.g. /images/photo.jpg")
    if not image.alt:
        read._report(node, "image has no 'alt' text", "describe the picture for readers who cannot see it",
                     "warning")


def _body(md: Markdown, document: meta.Document, config: Config, problems: list[Problem]) -> tuple[str, int]:
    try:
        html = to_html(md, document.body, config.raw_html)
    except RecursionError:
        problems.append(Problem(document.path, document.body_line, 0,
                                "markdown rendering failed: nesting too deep"))
        return "", 0
    except Exception as exc:  # noqa: BLE001 -- Python-Markdown raises anything on odd input
        problems.append(Problem(document.path, document.body_line, 0,
                                f"markdown rendering failed: {type(exc).__name__}: {exc}"))
        return "", 0
    return html, len(re.findall(r"\w+", document.body))
