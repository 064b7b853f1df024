"""A parsed source file (front matter and rendered body) -> Article, Page or Profile, every problem reported."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, replace
from datetime import datetime
from html import unescape
from pathlib import Path, PurePosixPath

import yaml

from . import bodies, meta
from .config import Config
from .errors import Problem
from .images import address_problem, dimensions
from .markup import is_local
from .records import Article, Correction, Image, Page, Profile
from .slugs import name_problem, slug_problem, slugify

ARTICLE_KEYS = ("title", "date", "updated", "authors", "author", "description", "section", "tags",
                "image", "slug", "draft", "featured", "lang", "source", "expires", "corrections", "id")
SUMMARY_CHARACTERS = 220
PAGE_KEYS = ("title", "description", "slug", "draft", "lang")
PROFILE_KEYS = ("name", "role", "photo", "description")


@dataclass(frozen=True)
class Parsed:
    """A source file read and rendered: its front matter and Markdown, its path inside content/, and its body
    as markup.render_safely gave it (html, error, search terms, what the sanitiser removed)."""

    document: meta.Document
    rel: PurePosixPath
    body: tuple


class ContentFolder:
    """The content folder, with the folders pictures are in resolved once (every picture asks, and pictures
    share a few folders): make one per build, as a link may point elsewhere by the next."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.resolved: dict[str, str] = {}

    def real(self, path: Path) -> Path:
        """path.resolve(), with only its last step looked at each time (see folder)."""
        folder, name = os.path.split(path)
        if name in ("", ".", ".."):
            return path.resolve()
        joined = os.path.join(self.folder(folder), name)
        try:
            if stat.S_ISLNK(os.lstat(joined).st_mode):
                return Path(os.path.realpath(joined))
        except OSError:
            pass  # not there: as resolve() gives it
        return Path(joined)

    def folder(self, folder: str) -> str:
        """os.path.realpath(folder), once."""
        real = self.resolved.get(folder)
        if real is None:
            real = self.resolved[folder] = os.path.realpath(folder)
        return real


@dataclass(frozen=True)
class Making:
    """Where making records looks and puts things: the content folder (for pictures) and the store an
    article's body goes to (see bodies.py)."""

    folder: ContentFolder
    bodies: bodies.Bodies


def make_record(kind: str, config: Config, parsed: Parsed, making: Making, problems: list[Problem]):
    """The record a document makes, by the folder it is in."""
    if kind == "articles":
        return _article(config, parsed, making, problems)
    if kind == "pages":
        return _page(parsed.document, parsed.rel, parsed.body, problems)
    return _profile(parsed, making.folder, problems)


def _article(config: Config, parsed: Parsed, making: Making, problems: list[Problem]) -> Article | None:
    document, rel, body = parsed.document, parsed.rel, parsed.body
    read = meta.Reader(document, ARTICLE_KEYS, problems)
    title = read.text("title", required=True)
    date = read.moment("date", config, required=True)
    updated = read.moment("updated", config)
    authors = read.texts("authors")
    if read.node("author") is not None:
        if authors:
            read.report(read.node("author"), "use either 'author' or 'authors', not both")
        authors = (read.text("author"),)
    section = _section(read, rel.parts[1] if len(rel.parts) > 2 else config.default_section)
    slug = _slug(read, title)
    image = _image(read, making.folder)
    html, words = _body(document, body, problems)
    flags = read.flag("draft"), read.flag("featured")
    description, tags, lang = read.text("description"), read.texts("tags"), read.text("lang")
    expires, corrections = read.moment("expires", config), _corrections(read, config)
    if date is None:
        return None
    if updated is not None and updated < date:
        read.report(read.node("updated"), "'updated' is earlier than 'date'", severity="warning")
    return Article(document.path, str(rel), title, date, updated, authors, description, section, tags, image,
                   slug, *flags, lang, making.bodies.add(html, body[2]), words, description or summarise(html),
                   expires, corrections, read.text("id"), permalink(config, date, slug, section))


def permalink(config: Config, date: datetime, slug: str, section: str) -> str:
    """An article's URL by the `permalink` setting (dates in the site's timezone)."""
    local = date.astimezone(config.zone)
    return config.permalink.format(year=f"{local.year:04d}", month=f"{local.month:02d}",
                                   day=f"{local.day:02d}", slug=slug, section=section)


def _first(document: meta.Document, what: str) -> tuple[int, int]:
    """Where a removed item first appears in the Markdown (its line in the file), else the body's start."""
    needle = (what.split(" from ", 1)[1] if " from " in what else what.rstrip(">")).lower()
    for number, line in enumerate(document.body.split("\n")):
        at = line.lower().find(needle)
        if at >= 0:
            return document.body_line + number, at + 1
    return document.body_line, 1


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
                        "e.g. corrections: [{date: 2026-03-14 10:00, text: An earlier version misspelt …}]")
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


def _page(document: meta.Document, rel: PurePosixPath, body: tuple,
          problems: list[Problem]) -> Page | None:
    read = meta.Reader(document, PAGE_KEYS, problems)
    title = read.text("title", required=True)
    slug = _slug(read, rel.stem if rel.stem != "index" else title)
    html, _ = _body(document, body, problems)
    description, draft, lang = read.text("description"), read.flag("draft"), read.text("lang")
    return Page(document.path, title, description, slug, draft, lang, html)


def _profile(parsed: Parsed, folder: ContentFolder, problems: list[Problem]) -> Profile | None:
    document, rel, body = parsed.document, parsed.rel, parsed.body
    read = meta.Reader(document, PROFILE_KEYS, problems)
    name = read.text("name", required=True)
    html, _ = _body(document, body, problems)
    role, photo = read.text("role"), read.text("photo")
    if photo and _picture(read, read.node("photo"), photo, folder, "photo") is None:
        photo = ""
    return Profile(document.path, rel.stem, name, role, photo, html)


def _picture(read: meta.Reader, node, src: str, folder: ContentFolder, what: str) -> Path | str | None:
    """The file in content/ a picture address names (resolved), or the address when it is an http(s) URL;
    None, reported, for an address that is neither (a `javascript:` or `data:` address, a `//host` one) or
    a file that is not there."""
    unusable = address_problem(src)
    if unusable:
        read.report(node, f"{what} {unusable}")
        return None
    if not is_local(src) and not src.startswith(("https://", "http://")) or src.startswith("//"):
        read.report(node, f"{what} '{src}' must be a file in content/ or an http(s) URL")
        return None
    if not is_local(src):
        return src
    target = folder.real(folder.path / src.lstrip("/"))
    if not target.is_relative_to(folder.folder(str(folder.path))) or not target.is_file():
        read.report(node, f"{what} '{src}' not found in the content folder",
                    "paths are relative to the content folder, e.g. /images/photo.jpg")
        return None
    return target


def _section(read: meta.Reader, folder: str) -> str:
    """The article's section slug, from `section:` or its folder; reported when it makes no usable address."""
    named = read.text("section")
    section = slugify(named or folder)
    hint = name_problem(section)
    if hint:
        message = f"section '{named}' has no usable slug" if named else \
            f"section '{folder}' (the folder's name) has no usable slug"
        if named:
            read.report(read.node("section"), message, hint)
        else:
            read.problems.append(Problem(read.document.path, 0, 0, message, hint))
    return section


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


def _image(read: meta.Reader, folder: ContentFolder) -> Image | None:
    node = read.node("image")
    if node is None:
        return None
    parts = meta.mapping(node)
    if parts is None and meta.text(node) is None:
        read.report(node, "'image' must be a picture's address or a mapping of src, alt, caption and credit",
                    "e.g. image: {src: /images/tram.jpg, alt: A tram at the stop}")
        return None
    if parts is None:
        parts_text = {"src": meta.text(node) or ""}
    else:
        parts_text = {}
        for key, value in parts.items():
            if key not in ("src", "alt", "caption", "credit"):
                read.report(value, f"unknown image key '{key}'", "use src, alt, caption and credit", "warning")
            elif meta.text(value) is None:
                read.report(value, f"image '{key}' must be text, not a list or mapping")
            parts_text[key] = meta.text(value) or ""
    image = Image(*(parts_text.get(k, "") for k in ("src", "alt", "caption", "credit")))
    return _check_image_src(read, node, image, folder) if image.src else image


def _check_image_src(read: meta.Reader, node, image: Image, folder: ContentFolder) -> Image:
    """Report a missing or unsafe picture; return the image with its pixel size when the file has one."""
    found = _picture(read, node, image.src, folder, "image src")
    if found is None:
        return image
    if not image.alt:
        read.report(node, "image has no 'alt' text", "describe the picture for readers who cannot see it",
                    "warning")
    if not isinstance(found, Path):
        return image
    size = dimensions(found)
    return replace(image, width=size[0], height=size[1]) if size else image


def _body(document: meta.Document, body: tuple, problems: list[Problem]) -> tuple[str, int]:
    html, error = body[0], body[1]
    for what in body[3] if len(body) > 3 else ():
        line, col = _first(document, what)
        problems.append(Problem(document.path, line, col, f"removed {what} (raw_html = \"sanitize\" publishes "
                                "no scripts, event handlers, unsafe links or embeds from hosts not in embed_hosts)",
                                severity="warning"))
    if error:
        problems.append(Problem(document.path, document.body_line, 1, error))
        return "", 0
    return html, len(re.findall(r"\w+", document.body))
