"""What the build counts as its files: the names it skips, which files under layouts/ are layouts, which
files of content/ are Markdown or could run script in a reader's browser, and a file's state (how a build
tells a file is untouched without reading it)."""

from __future__ import annotations

import os
import re
from pathlib import Path

_IGNORED = re.compile(r"^(\.|#)|~$|\.(swp|swx|tmp|bak)$")
LAYOUT_SUFFIXES = (".html", ".xml", ".txt")
STATIC = "static"  # the folder of layouts/ copied to the site as it is (CSS, scripts, icons)
# Jekyll's and Hugo's Markdown extensions, in any case: a draft saved as story.MD is an article too
MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkdown", ".mkdn", ".mkd")
# files a browser runs script from when they are opened (or that a page loads as script), from the site's origin
ACTIVE_SUFFIXES = (".html", ".htm", ".xhtml", ".xht", ".shtml", ".js", ".mjs", ".cjs", ".xsl", ".xslt", ".svgz",
                   ".swf", ".hta", ".htc", ".mht", ".mhtml")
# XML that browsers show as a document (and so can hold script): published once images.markup_problems passes it
XML_SUFFIXES = (".svg", ".xml", ".rss", ".atom", ".rdf", ".kml", ".gpx", ".opml", ".mml")
_FRONT_MATTER = re.compile(rb"---[ \t]*\r?\n(?:.*?\r?\n)??(?:---|\.\.\.)[ \t]*(?:\r?\n|$)", re.S)
RECENT_NS = 3_000_000_000  # a file changed this lately is known by its bytes (coarse clocks tick every 1-2 s)


def ignored(name: str) -> bool:
    """Hidden files, editor swap and backup files: never read by a build, never a reason to rebuild."""
    return bool(_IGNORED.search(name))


def is_markdown(name: str) -> bool:
    """Whether a file is Markdown by its name (.md, .markdown, .mdown, ... in any case)."""
    return name.lower().endswith(MARKDOWN_SUFFIXES)


def is_active(name: str) -> bool:
    """Whether a file runs script in a browser by its name (HTML, XHTML, JavaScript, XSLT, ...), in any case."""
    return name.lower().endswith(ACTIVE_SUFFIXES)


def is_xml(name: str) -> bool:
    """Whether a file is XML that a browser shows as a document (SVG, RSS, ...) by its name, in any case."""
    return name.lower().endswith(XML_SUFFIXES)


def has_front_matter(path: str) -> bool:
    """Whether a file opens with front matter: a '---' line, then another '---' (or '...') line within 64 KB."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(8)
            if not head.removeprefix(b"\xef\xbb\xbf").startswith(b"---"):
                return False
            head += stream.read(64 * 1024)
    except OSError:
        return False
    return bool(_FRONT_MATTER.match(head.removeprefix(b"\xef\xbb\xbf")))


def link_problem(link: str, folder: str) -> str:
    """Why a symbolic link may not be followed from `folder` (resolved), or "": it must lead to a file inside
    that folder, and to none that is hidden there (.git/config, .env)."""
    target = os.path.realpath(link)
    inside = os.path.relpath(target, folder)
    if inside == ".." or inside.startswith(".." + os.sep) or os.path.isabs(inside):
        return "leads outside"
    if any(ignored(part) for part in inside.split(os.sep)):
        return "leads to a hidden file in"
    return ""


def is_layout(name: str) -> bool:
    """Whether a file of layouts/, by its path there ('partials/card.html'), is a Jinja2 layout."""
    return name.endswith(LAYOUT_SUFFIXES) and not name.startswith(STATIC + "/")


def layout_files(folder: str) -> list[tuple[str, os.stat_result | None]]:
    """(path, state) of every file under layouts/ as the build reads them: Jinja2 and the copy of
    layouts/static/ follow links to folders, so this does too (editor leftovers and hidden files skipped)."""
    found = []
    for directory, subdirs, names in os.walk(folder, followlinks=True):
        subdirs[:] = sorted(d for d in subdirs if not ignored(d))
        for name in sorted(names):
            if not ignored(name):
                path = os.path.join(directory, name)
                try:
                    found.append((path, os.stat(path)))
                except OSError:
                    found.append((path, None))
    return found


def state(stat: os.stat_result) -> str:
    """A file's state as text: size, modification and change times, and inode (all the same: untouched)."""
    return f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}:{stat.st_ino}"


def is_recent(stat: os.stat_result, recent: int) -> bool:
    """Whether the file changed at or after `recent` (nanoseconds): then its state alone does not tell a
    second save within the clock's tick from the first."""
    return max(stat.st_mtime_ns, stat.st_ctime_ns) >= recent


def copy_state(path: Path | str) -> tuple[int, int] | None:
    """(size, mtime) of a file, or None when it is not there: enough to tell a copy is up to date."""
    try:
        stat = os.stat(path)
    except (OSError, ValueError):  # (ValueError: a NUL in the name, which no file has)
        return None
    return (stat.st_size, stat.st_mtime_ns)
