"""Site -> Output(path, bytes) through the Jinja2 layouts; filters are registered here."""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2

from .errors import Problem, display_path
from .model import Site, output_path

RTL_LANGUAGES = {"ar", "arc", "ckb", "dv", "fa", "he", "ku", "ps", "sd", "ug", "ur", "yi"}
REQUIRED_LAYOUTS = ("base.html", "article.html", "page.html", "index.html", "list.html", "404.html")


@dataclass(frozen=True)
class Output:
    """One file of the finished site."""

    path: str
    data: bytes


def make_environment(site: Site, layouts: Path, problems: list[Problem]) -> jinja2.Environment:
    """The Jinja2 environment over layouts/, with every template compiled up front."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(layouts),
        autoescape=jinja2.select_autoescape(["html", "htm", "xml"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    base_path = site.config.base_path
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(site.config.base_url))

    def url(target: Any) -> str:
        """A link to a site path or record, under the base path (absolute URLs pass through)."""
        path = target if isinstance(target, str) else target.url
        if urlsplit(path).scheme or path.startswith("//"):
            return path
        return base_path + path.lstrip("/")

    env.globals.update(site=site, config=site.config, url=url,
                       absolute_url=lambda target: origin + url(target))
    env.filters.update(url=url, absolute_url=lambda target: origin + url(target),
                       date=lambda value, fmt=None: format_date(value, fmt or site.config.date_format),
                       isoformat=lambda value: value.isoformat(), direction=direction)
    _compile_all(env, layouts, problems)
    return env


def _compile_all(env: jinja2.Environment, layouts: Path, problems: list[Problem]) -> None:
    names = env.list_templates(filter_func=lambda n: n.endswith((".html", ".xml")) and not n.startswith("static/"))
    for name in REQUIRED_LAYOUTS:
        if name not in names:
            problems.append(Problem(display_path(layouts / name, layouts.parent), message="layout is missing",
                                    hint="every site needs " + ", ".join(REQUIRED_LAYOUTS)))
    for name in names:
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            shown = display_path(layouts / name, layouts.parent)
            problems.append(Problem(shown, exc.lineno or 0, 0, exc.message or "syntax error"))


def render(site: Site, env: jinja2.Environment, layouts: Path, problems: list[Problem]) -> Iterator[Output]:
    """Every page of the site, rendered; template errors are reported once per template line."""
    seen: dict[tuple[str, int, str], int] = {}
    for template, url, source, context in _pages(site):
        try:
            html = env.get_template(template).render(context)
        except Exception as exc:  # noqa: BLE001 -- layouts are user code; any failure is theirs
            _report(exc, template, layouts, source, seen, problems)
            continue
        yield Output(output_path(url), html.encode("utf-8"))


def _pages(site: Site) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(template, url, source shown in errors, context) for every page, in a stable order."""
    yield "index.html", "/", "the home page", _context(is_home=True)
    yield "404.html", "/404.html", "the 404 page", _context()
    for article in site.articles:
        yield "article.html", article.url, article.source, _context(article=article, current=article.section)
    for page in site.pages:
        yield "page.html", page.url, page.source, _context(page=page)
    for listing in site.listings:
        current = listing.url.strip("/").split("/")[0] if listing.kind == "section" else ""
        yield "list.html", listing.url, f"the {listing.kind} page {listing.url}", _context(
            listing=listing, current=current, is_listing=listing.number == 1)


def _context(current: str = "", is_home: bool = False, is_listing: bool = False, **records: Any) -> dict[str, Any]:
    """Every template sees `current` (the section slug being shown) and what kind of page it is."""
    return {"current": current, "is_home": is_home, "is_listing": is_listing, **records}


def direction(language: str) -> str:
    """'rtl' for languages written right to left, else 'ltr'."""
    return "rtl" if language.split("-")[0].lower() in RTL_LANGUAGES else "ltr"


def _report(exc: Exception, template: str, layouts: Path, source: str,
            seen: dict[tuple[str, int, str], int], problems: list[Problem]) -> None:
    name, line = _template_position(exc, layouts, template)
    message = exc.message if isinstance(exc, jinja2.TemplateError) and exc.message else str(exc)
    if isinstance(exc, jinja2.TemplateNotFound):
        message = f"template '{exc.name}' not found"
    elif not isinstance(exc, jinja2.TemplateError):
        message = f"{type(exc).__name__}: {message}"
    key = (name, line, message)
    seen[key] = seen.get(key, 0) + 1
    if seen[key] == 1:
        shown = display_path(layouts / name, layouts.parent)
        problems.append(Problem(shown, line, 0, f"{message} (while rendering {source})"))


def _template_position(exc: Exception, layouts: Path, fallback: str) -> tuple[str, int]:
    """The innermost layout file and line in the traceback (Jinja2 rewrites frames to template lines)."""
    root = str(layouts.resolve())
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename and str(Path(frame.filename).resolve()).startswith(root + "/"):
            return Path(frame.filename).resolve().relative_to(root).as_posix(), frame.lineno or 0
    return fallback, 0


def format_date(value: datetime, fmt: str) -> str:
    """strftime with portable no-padding codes (%-d, %-H, %-I, %-m)."""
    for code, number in (("%-d", value.day), ("%-m", value.month), ("%-H", value.hour),
                         ("%-I", value.hour % 12 or 12)):
        fmt = fmt.replace(code, str(number))
    return value.strftime(fmt)
