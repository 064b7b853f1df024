"""`broadsheet import`: plain-text copy -> Markdown articles with front matter, never overwriting by accident."""

from __future__ import annotations

import os
import tempfile
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
    """A plain-text file being imported, and its path as problems name it."""

    path: Path
    shown: str


def run_import(config: Config, request: Request) -> Report:
    """Import every plain-text file named (folders: every .txt inside), in a stable order."""
    job = Job(request, config, Report())
    imported = _already_imported(request.into)
    claimed: set[Path] = set()
    for path in _sources(request.paths, job.report):
        source = Source(path, display_path(path, config.root))
        copy = _read(source, job)
        if copy is None:
            continue
        target, slug = _target(copy, source, job, imported, claimed)
        if target is None:
            continue
        text = render(copy, slug, source, job)
        if not request.dry_run:
            _write(target, text, replace=target.exists())
        claimed.add(target)
        job.report.written.append((target, text))
    return job.report


def _sources(paths: Iterable[Path], report: Report) -> list[Path]:
    found = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.txt") if p.is_file() and not p.name.startswith("."))
        elif path.is_file():
            found.append(path)
        else:
            report.problems.append(Problem(str(path), message="no such file or folder"))
    return found


def _read(source: Source, job: Job) -> Copy | None:
    shown, report = source.shown, job.report
    data = source.path.read_bytes()
    reason = "the file is empty" if not data.strip() else "binary data, not plain text" if b"\0" in data else ""
    if not reason:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
            report.problems.append(Problem(shown, message="not UTF-8; read as Windows-1252", severity="note"))
        try:
            return parse(text, job.request.day_first, job.config.import_furniture)
        except NotAnArticle as exc:
            reason = str(exc)
    report.problems.append(Problem(shown, message=f"not an article: {reason}; skipped"))
    return None


def _target(copy: Copy, source: Source, job: Job, imported: dict[str, Path],
            claimed: set[Path]) -> tuple[Path | None, str]:
    """Where this copy goes: its earlier import (only with --force), else a free <slug>[-N].md."""
    shown, request, config, report = source.shown, job.request, job.config, job.report
    slug = slugify(copy.title)
    problem = slug_problem(slug)
    if problem:
        report.problems.append(Problem(shown, 1, 1, f"{problem}; skipped"))
        return None, ""
    earlier = imported.get(source.path.name)
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
    data |= {"slug": slug, "source": source.path.name}
    body = "\n\n".join(escape(p) for p in copy.paragraphs)
    return frontmatter.dumps(frontmatter.Post(body, **data), sort_keys=False, width=10**6) + "\n"


def _already_imported(into: Path) -> dict[str, Path]:
    """source file name -> the article imported from it, for every article under into."""
    found: dict[str, Path] = {}
    for path in sorted(into.rglob("*.md")) if into.is_dir() else []:
        try:
            document = meta.parse(str(path), path.read_text(encoding="utf-8"), [])
        except (OSError, UnicodeDecodeError):
            continue
        if document and "source" in document.fields:
            found.setdefault(meta.text(document.fields["source"].node) or "", path)
    return found


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
