"""`broadsheet import`: plain-text copy -> Markdown articles with front matter, never overwriting by accident."""

from __future__ import annotations

import contextlib
import os
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import frontmatter

from . import meta
from .config import Config
from .errors import Problem, display_path, has_errors
from .plaintext import Copy, NotAnArticle, escape, parse
from .slugs import slug_problem, slugify

MAX_SOURCE_BYTES = 5 * 1024 * 1024  # as an article may be (content.MAX_FILE_BYTES)
# formats that can begin without a NUL byte: PDF, zip (docx, odt, epub), Word 97, PNG, JPEG, GIF, gzip, xz, 7z,
# rar, ELF, Ogg
_BINARY_SIGNATURES = (b"%PDF-", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\x89PNG", b"\xff\xd8\xff", b"GIF87a", b"GIF89a",
                      b"\x1f\x8b", b"\xfd7zXZ", b"7z\xbc\xaf", b"Rar!\x1a", b"\x7fELF", b"OggS")


@dataclass(frozen=True)
class Request:
    """What to import and how: the command's flags."""

    paths: tuple[Path, ...]
    into: Path
    section: str = ""
    author: str = ""
    date: date | None = None
    force: bool = False
    dry_run: bool = False
    day_first: bool = True


@dataclass
class Report:
    """What an import wrote (path, text) and every problem or note along the way."""

    written: list[tuple[Path, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """True when any file was skipped or could not be imported."""
        return has_errors(self.problems)


@dataclass(frozen=True)
class Job:
    """One import: what was asked, the site's settings, and the report every file's problems go into."""

    request: Request
    config: Config
    report: Report


@dataclass(frozen=True)
class Source:
    """A plain-text file being imported: its path, as problems name it, as `source:` records it (from the
    project's root, so two story.txt in two folders are two sources), and its bytes."""

    path: Path
    shown: str
    rel: str
    data: bytes


def run_import(config: Config, request: Request) -> Report:
    """Import every plain-text file named (folders: every .txt inside), in a stable order."""
    job = Job(request, config, Report())
    imported = _already_imported(request.into)
    claimed: set[Path] = set()
    for path in _sources(request.paths, config.root, job.report):
        source = _source(path, config.root, job.report)
        copy = _read(source, job) if source is not None else None
        if copy is None:
            continue
        target, slug = _target(copy, source, job, imported, claimed)
        if target is None:
            continue
        text = render(copy, slug, source, job)
        if not request.dry_run:
            _write(target, text, replace=target.exists())
            imported[source.rel] = target  # (the same bytes again in this batch are this article too)
        claimed.add(target)
        job.report.written.append((target, text))
    return job.report


def _sources(paths: Iterable[Path], root: Path, report: Report) -> list[Path]:
    found = []
    for path in paths:
        if path.is_dir():
            found += _folder(path, root, report)
        elif path.is_file():
            found.append(path)
        else:
            report.problems.append(Problem(str(path), message="no such file or folder"))
    return list(dict.fromkeys(path.absolute() for path in found))


def _folder(folder: Path, root: Path, report: Report) -> list[Path]:
    """Every .txt file under folder, sorted, hidden ones aside; a symbolic link is followed only to a file inside
    the folder (a link out of it, to a secret or another tree, is a warning and is not read)."""
    inside, found = folder.resolve(), []
    for where, folders, names in os.walk(folder.absolute()):  # (links to folders are not walked into)
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        for name in sorted(names):
            path = Path(where, name)
            if name.startswith(".") or path.suffix.lower() != ".txt":
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(inside):
                report.problems.append(Problem(display_path(path, root), message="symbolic link points outside "
                                               f"{display_path(folder, root)}; not followed", severity="warning"))
            elif path.is_file():
                found.append(path.resolve() if path.is_symlink() else path)
    return found


def _source(path: Path, root: Path, report: Report) -> Source | None:
    """The file to import, read (at most the 5 MB an article may be); None, reported, when it cannot be."""
    shown, absolute = display_path(path, root), path.resolve()
    rel = (absolute.relative_to(root) if absolute.is_relative_to(root) else absolute).as_posix()
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        report.problems.append(Problem(shown, message="the file name is not valid UTF-8; skipped",
                                       hint="rename it, e.g. with the name the sender meant"))
        return None
    try:
        with path.open("rb") as file:
            data = file.read(MAX_SOURCE_BYTES + 1)
    except OSError as exc:
        report.problems.append(Problem(shown, message=f"cannot read it: {exc.strerror or exc}; skipped"))
        return None
    return Source(path, shown, rel, data)


def _read(source: Source, job: Job) -> Copy | None:
    shown, report, data = source.shown, job.report, source.data
    reason = "the file is empty" if not data.strip() else _not_text(data)
    if not reason:
        text, said = _decoded(data)
        if said:
            report.problems.append(Problem(shown, message=said, severity="note"))
        try:
            return parse(text, job.request.day_first, job.config.import_furniture)
        except NotAnArticle as exc:
            reason = str(exc)
    report.problems.append(Problem(shown, message=f"not an article: {reason}; skipped"))
    return None


def _not_text(data: bytes) -> str:
    """Why these bytes are no plain text ('' when they are): too large, a known binary format (PDF, Word,
    a picture, an archive), NUL bytes outside UTF-16, or many control characters."""
    if len(data) > MAX_SOURCE_BYTES:
        return f"larger than {MAX_SOURCE_BYTES // 2**20} MB"
    if data.startswith(_BINARY_SIGNATURES):
        return "binary data, not plain text"
    text, _ = _decoded(data)
    if "\0" in text:
        return "binary data, not plain text"
    controls = sum(1 for char in text if unicodedata.category(char) == "Cc" and char not in "\t\n\r\f\v")
    if controls * 100 > len(text) or text.count("\ufffd") * 100 > len(text):
        return "binary data, not plain text"
    return ""


def _decoded(data: bytes) -> tuple[str, str]:
    """The text of these bytes, and a note when it was not UTF-8: UTF-16 by its byte-order mark, else
    Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "UTF-16; read as such"
    try:
        return data.decode("utf-8-sig"), ""
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "not UTF-8; read as Windows-1252"


def _target(copy: Copy, source: Source, job: Job, imported: dict[str, Path],
            claimed: set[Path]) -> tuple[Path | None, str]:
    """Where this copy goes: its earlier import (only with --force), else a free <slug>[-N].md."""
    shown, request, config, report = source.shown, job.request, job.config, job.report
    slug = slugify(copy.title)
    problem = slug_problem(slug)
    if problem:
        report.problems.append(Problem(shown, 1, 1, f"{problem}; skipped"))
        return None, ""
    earlier = _earlier(source, imported, config.root)
    if earlier is not None:
        if not request.force:
            report.problems.append(Problem(shown, message=f"already imported as {display_path(earlier, config.root)}; "
                                           "left alone", hint="use --force to replace it"))
            return None, ""
        return earlier, meta_slug(earlier) or slug
    folder = request.into / (request.section or config.default_section)
    candidate, number = slug, 1
    while (folder / f"{candidate}.md").exists() or folder / f"{candidate}.md" in claimed:
        number += 1
        candidate = f"{slug}-{number}"
    return folder / f"{candidate}.md", candidate


def render(copy: Copy, slug: str, source: Source, job: Job) -> str:
    """The Markdown file for copy: front matter in the content model's order, then escaped paragraphs."""
    shown, request, config, report = source.shown, job.request, job.config, job.report
    authors = list(copy.authors) or [a for a in (request.author or config.default_author,) if a]
    when = copy.date or request.date or datetime.now(config.zone).date()
    if not copy.has_byline:
        said = f"author {authors[0]!r}" if authors else "no author"
        origin = "--date" if request.date else "today"
        report.problems.append(Problem(shown, message=f"no byline: {said}, date {when.isoformat()} ({origin})",
                                       severity="note"))
    elif not copy.date:
        report.problems.append(Problem(shown, message=f"byline has no date: using {when.isoformat()}",
                                       severity="note"))
    data: dict = {"title": copy.title}
    if copy.description:
        data["description"] = copy.description
    data |= {"authors": authors, "date": when}
    if copy.caption or copy.credit:
        data["image"] = {k: v for k, v in (("caption", copy.caption), ("credit", copy.credit)) if v}
    if request.section:
        data["section"] = request.section
    data |= {"slug": slug, "source": source.rel}
    body = "\n\n".join(escape(p) for p in copy.paragraphs)
    return frontmatter.dumps(frontmatter.Post(body, **data), sort_keys=False, width=10**6) + "\n"


def _already_imported(into: Path) -> dict[str, Path]:
    """source (its path from the project's root) -> the article imported from it, for every article under
    into."""
    found: dict[str, Path] = {}
    for path in sorted(into.rglob("*.md")) if into.is_dir() else []:
        try:
            document = meta.parse(str(path), path.read_text(encoding="utf-8"), [])
        except (OSError, UnicodeDecodeError):
            continue
        if document and "source" in document.fields:
            found.setdefault(meta.text(document.fields["source"].node) or "", path)
    return found


def _earlier(source: Source, imported: dict[str, Path], root: Path) -> Path | None:
    """The article imported from this source before: by its path, else by its bytes (the same file copied to
    another folder, where it still is); a file of the same name elsewhere is another source."""
    if source.rel in imported:
        return imported[source.rel]
    for rel, article in imported.items():
        other = root / rel
        with contextlib.suppress(OSError, ValueError):
            if other.is_file() and other.stat().st_size == len(source.data) and other.read_bytes() == source.data:
                return article
    return None


def meta_slug(path: Path) -> str:
    """The explicit slug of an existing article file, or ''."""
    document = meta.parse(str(path), path.read_text(encoding="utf-8"), [])
    field_ = document.fields.get("slug") if document else None
    return (meta.text(field_.node) or "") if field_ else ""


def _write(target: Path, text: str, replace: bool) -> None:
    """Write atomically: a temporary file beside the target, then rename (or link, which never overwrites)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        if replace:
            os.replace(temporary, target)
        else:
            os.link(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
