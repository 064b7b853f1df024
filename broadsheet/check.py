"""The link check: every link, picture and feed or sitemap URL inside a built site leads somewhere real.

It reads the output folder offline, as the host will serve it under the base path: a URL ending in `/`
is the folder's index.html, `/x` may be `x/` or `x.html` (GitHub Pages serves both), and `#anchor` must be
an `id` (or an `<a name>`) on the target page. Links to other hosts are not followed.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as etree  # noqa: N813
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from types import MappingProxyType
from urllib.parse import unquote, urljoin, urlsplit

from .errors import Problem, display_path

_URL_ATTRIBUTES = MappingProxyType({
    "href": ("a", "area", "link"), "src": ("img", "script", "iframe", "source", "audio", "video", "track", "embed",
                                           "input"),
    "poster": ("video",), "data": ("object",), "action": ("form",)})
_SKIPPED_SCHEMES = ("mailto", "tel", "sms", "data", "javascript")


Link = tuple[int, int, str]  # where a URL was found in a file (line, column; 0 when unknown) and the URL


@dataclass(frozen=True)
class Report:
    """What a check found: the problems (one per broken link), and how much was looked at."""

    problems: tuple[Problem, ...]
    pages: int
    links: int
    external: int


class _Page(HTMLParser):
    """The ids and the URLs of one HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.urls: list[Link] = []
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line, column = self.getpos()
        values = {name: value or "" for name, value in attrs}
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "a" and "name" in values:
            self.ids.add(values["name"])
        if tag == "base" and "href" in values:
            self.base = values["href"]
        for attribute, tags in _URL_ATTRIBUTES.items():
            if tag in tags and values.get(attribute, "").strip():
                if tag == "link" and not _checked_rel(values.get("rel", "")):
                    continue
                self.urls.append((line, column + 1, values[attribute].strip()))
        if "srcset" in values and tag in ("img", "source"):
            for candidate in values["srcset"].split(","):
                if candidate.strip():
                    self.urls.append((line, column + 1, candidate.split()[0]))
        if tag == "meta" and values.get("property", "") in ("og:url", "og:image") and values.get("content"):
            self.urls.append((line, column + 1, values["content"].strip()))


def _checked_rel(rel: str) -> bool:
    """`<link rel=preconnect|dns-prefetch>` name hosts, not documents; every other link is checked."""
    return not set(rel.lower().split()) & {"preconnect", "dns-prefetch"}


class Site:
    """A built site on disk, served at base_url."""

    def __init__(self, out: Path, base_url: str) -> None:
        self.out = out
        parts = urlsplit(base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}".lower()
        self.base_path = parts.path if parts.path.endswith("/") else parts.path + "/"
        self._ids: dict[str, set[str]] = {}

    def url_of(self, relative: str) -> str:
        """The absolute URL a file of the output folder is served at."""
        index = relative == "index.html" or relative.endswith("/index.html")
        name = relative[:-len("index.html")] if index else relative
        return self.origin + self.base_path + name

    def resolve(self, url: str) -> tuple[str | None, str]:
        """(the output file a site URL is served from, '' ) or (None, why it is broken)."""
        parts = urlsplit(url)
        path = unquote(parts.path)
        if not path.startswith(self.base_path):
            return None, f"outside the base path {self.base_path}"
        name = path[len(self.base_path):]
        if ".." in name.split("/"):
            return None, "climbs out of the site"
        candidates = [name + "index.html"] if name.endswith("/") or not name else [name, name + "/index.html",
                                                                                   name + ".html"]
        for candidate in candidates:
            if os.path.isfile(self.out / candidate):
                return candidate, ""
        return None, "no such file in the site"

    def ids(self, relative: str, known: set[str] | None = None) -> set[str]:
        """The anchors of an HTML file of the site (`known`: found while reading it for its links)."""
        if known is not None:
            self._ids.setdefault(relative, known)
        if relative not in self._ids:
            self._ids[relative] = _parse_html(self.out / relative).ids if relative.endswith(".html") else set()
        return self._ids[relative]


def check(out: Path, base_url: str, root: Path | None = None) -> Report:
    """Check every link of the site in `out` (served at base_url); one problem per broken link."""
    site = Site(out, base_url)
    problems: list[Problem] = []
    pages = links = external = 0
    for relative in _files(out):
        shown = display_path(out / relative, root)
        try:
            found = _links(site, relative)
        except etree.ParseError as exc:
            problems.append(Problem(shown, exc.position[0], exc.position[1] + 1, f"not well-formed XML: {exc}"))
            continue
        if found is None:
            continue
        pages += 1
        here = site.url_of(relative)
        for line, column, url in found:
            target = urljoin(here, url)
            parts = urlsplit(target)
            if parts.scheme in _SKIPPED_SCHEMES or url in ("#", "#top"):
                continue
            if parts.scheme not in ("http", "https", "") or f"{parts.scheme}://{parts.netloc}".lower() != site.origin:
                external += 1
                continue
            links += 1
            why = _broken(site, relative, target)
            if why:
                problems.append(Problem(shown, line, column, f"broken link -> {url} ({why})"))
    return Report(tuple(problems), pages, links, external)


def _broken(site: Site, relative: str, target: str) -> str:
    """'' when target (an absolute URL on the site's host) resolves, else why not."""
    parts = urlsplit(target)
    file, why = site.resolve(target)
    if file is None:
        return why
    fragment = unquote(parts.fragment)
    if fragment and fragment != "top" and file.endswith(".html") and fragment not in site.ids(file):
        return f"no id '{fragment}' on {file}"
    return ""


def _files(out: Path) -> list[str]:
    found = []
    for folder, subfolders, names in os.walk(out):
        subfolders.sort()
        prefix = os.path.relpath(folder, out).replace(os.sep, "/")
        found += [name if prefix == "." else f"{prefix}/{name}" for name in sorted(names)]
    return found


def _links(site: Site, relative: str) -> list[Link] | None:
    """The links of an HTML page or an XML feed/sitemap; None for other files."""
    path = site.out / relative
    if relative.endswith((".html", ".htm")):
        page = _parse_html(path)
        site.ids(relative, page.ids)
        return page.urls
    if relative.endswith(".xml"):
        return _feed_links(path)
    return None


def _parse_html(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    page.close()
    return page


def _feed_links(path: Path) -> list[Link]:
    """URLs of a feed or sitemap: <loc>, RSS <link>, Atom <link href>, and links inside entry HTML."""
    tree = etree.parse(path)
    found = []
    for element in tree.iter():
        local = element.tag.rsplit("}", 1)[-1]
        if local == "link" and element.get("href"):
            found.append((0, 0, element.get("href", "")))
        elif local in ("loc", "link", "url") and element.text and element.text.strip():
            found.append((0, 0, element.text.strip()))
        elif local in ("content", "summary", "description") and element.text and "<" in element.text:
            inner = _Page()
            inner.feed(element.text)
            found += [(0, 0, url) for _, _, url in inner.urls]
    return found
