"""Picture sizes read from the file headers (PNG, GIF, JPEG, WebP, SVG), so pages reserve their space; and
what an SVG picture (or other XML a browser shows as a document) may hold to be published."""

from __future__ import annotations

import re
import struct
from pathlib import Path
from types import MappingProxyType
from typing import Any
from xml.parsers import expat

_SVG_NUMBER = r"\s*([0-9.]+)\s*(?:px)?\s*"
MAX_ADDRESS = 2000  # characters of a picture's address: browsers and servers refuse longer, file systems too


def address_problem(src: str) -> str:
    """Why a picture's address (`image: src:`, a reporter's `photo:`) can be no file or link, or ''."""
    if len(src) > MAX_ADDRESS:
        return f"'{src[:40]}…' is longer than {MAX_ADDRESS} characters"
    if any(ord(char) < 32 or ord(char) == 127 for char in src):
        return f"'{src}' holds a control character (a NUL, a newline…); write the address on one line"
    return ""


def dimensions(path: Path) -> tuple[int, int] | None:
    """(width, height) in pixels, or None when the format is unknown or the header is damaged."""
    try:
        with path.open("rb") as stream:
            head = stream.read(64 * 1024)
    except OSError:
        return None
    for reader in (_png, _gif, _webp, _jpeg, _svg):
        try:
            size = reader(head)
        except (struct.error, ValueError, IndexError):
            size = None
        if size and size[0] > 0 and size[1] > 0:
            return size
    return None


def _png(head: bytes) -> tuple[int, int] | None:
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        return struct.unpack(">II", head[16:24])
    return None


def _gif(head: bytes) -> tuple[int, int] | None:
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return struct.unpack("<HH", head[6:10])
    return None


def _webp(head: bytes) -> tuple[int, int] | None:
    if head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return None
    chunk = head[12:16]
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    return None


def _jpeg(head: bytes) -> tuple[int, int] | None:
    if head[:2] != b"\xff\xd8":
        return None
    at = 2
    while at + 9 < len(head):
        if head[at] != 0xFF:
            return None
        marker = head[at + 1]
        length = struct.unpack(">H", head[at + 2:at + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", head[at + 5:at + 9])
            return width, height
        at += 2 + length
    return None


def _svg(head: bytes) -> tuple[int, int] | None:
    text = head.decode("utf-8", errors="ignore")
    tag = re.search(r"<svg\b[^>]*>", text, re.S)
    if not tag:
        return None
    width = re.search(r'\swidth="' + _SVG_NUMBER + '"', tag[0])
    height = re.search(r'\sheight="' + _SVG_NUMBER + '"', tag[0])
    if width and height:
        return round(float(width[1])), round(float(height[1]))
    box = re.search(r'viewBox="\s*[-0-9.]+[\s,]+[-0-9.]+[\s,]+([0-9.]+)[\s,]+([0-9.]+)\s*"', tag[0])
    return (round(float(box[1])), round(float(box[2]))) if box else None


SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
# namespaces whose elements a browser makes live in any XML document: HTML runs <script>, and the others
# carry links, events or transformations of their own
_LIVE = MappingProxyType({
    "http://www.w3.org/1999/xhtml": "HTML", "http://www.w3.org/1998/Math/MathML": "MathML",
    "http://www.w3.org/2001/xml-events": "XML Events", "http://www.w3.org/1999/XSL/Transform": "XSLT"})
_ACTIVE_SVG = MappingProxyType({
    "script": "a <script>", "foreignObject": "a <foreignObject> (HTML inside the picture)",
    "handler": "a <handler> (a script)", "listener": "a <listener> (an event handler)", "iframe": "an <iframe>",
    "embed": "an <embed>", "object": "an <object>", "audio": "an <audio>", "video": "a <video>",
    "canvas": "a <canvas>"})
_ANIMATIONS = ("animate", "set", "animateMotion", "animateTransform", "animateColor")
_PICTURE_DATA = re.compile(r"data:image/(png|gif|jpeg|webp)[;,]", re.I)
_LINK = re.compile(r"(https?|mailto):|[^:]*$", re.I)  # where a picture's <a> may lead: the web, mail, this site
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})[ \t\r\n\f]?|\\(.)", re.S)
_CSS_FETCH = re.compile(r"@import|(?<![\w-])(-webkit-)?(image-set|image|cross-fade|element|src|expression)\s*\(|"
                        r"-moz-binding|behavior\s*:", re.I)
_CSS_SUSPECT = re.compile(r"[(@\\]|behavior|binding", re.I)  # (CSS that holds none of these loads nothing)
_CSS_URL = re.compile(r"url\s*\(\s*['\"]?\s*([^'\")\s]*)", re.I)
_UNSEEN = re.compile(r"[\x00-\x20]+")
MOST_FINDINGS = 5  # per file; the rest are counted in one more line
_HINT = "remove it and save the picture again, or put the file in a folder the interactives setting names"


def markup_problems(data: bytes, picture: bool = True) -> list[tuple[int, int, str, str]]:
    """(line, column, message, hint) of everything in an SVG picture (or other XML file) that a browser
    would run or fetch from elsewhere: scripts, event handlers, HTML, javascript: addresses, references to
    other files, stylesheets that load; and of what makes the file impossible to be sure of (not well-formed,
    a DOCTYPE with declarations of its own). Empty when the file may be published as it is."""
    check = _Markup("SVG picture" if picture else "XML file")
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = check.doctype
    parser.ProcessingInstructionHandler = check.instruction
    parser.SkippedEntityHandler = check.entity
    parser.StartElementHandler = check.start
    parser.EndElementHandler = check.end
    parser.CharacterDataHandler = check.text
    check.parser = parser
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        check.found.append((exc.lineno, exc.offset + 1, f"{check.kind} cannot be read as XML "
                            f"({expat.ErrorString(exc.code)}); not published",
                            "open it in a drawing program and save it again"))
    except _Unsure:
        pass
    if len(check.found) > MOST_FINDINGS:
        more = len(check.found) - MOST_FINDINGS
        line, col = check.found[MOST_FINDINGS][:2]
        return [*check.found[:MOST_FINDINGS], (line, col, f"{check.kind} holds {more} more such things from here "
                                               "on; not published", _HINT)]
    return check.found


class _Unsure(Exception):
    """What follows in the file cannot be checked (the parser stops)."""


class _Markup:
    """What one file's parser found so far (its handlers, see markup_problems)."""

    def __init__(self, kind: str) -> None:
        self.kind, self.found = kind, []
        self.parser: Any = None
        self.style: list[str] | None = None  # the text of the <style> element open now
        self.style_at = (0, 0)  # where it starts

    def refuse(self, what: str, hint: str = _HINT, where: tuple[int, int] | None = None) -> None:
        where = where or (self.parser.CurrentLineNumber, self.parser.CurrentColumnNumber + 1)
        self.found.append((*where, f"{self.kind} holds {what}; not published", hint))

    def doctype(self, name: str, system: str | None, public: str | None, has_internal_subset: int) -> None:
        if has_internal_subset:  # entities can hide markup (and multiply it): no checking past them
            self.refuse("a DOCTYPE with declarations of its own (they can hide markup)",
                        "save it again without them (in Illustrator: untick Preserve Illustrator Editing Capabilities)")
            raise _Unsure

    def instruction(self, target: str, data: str) -> None:
        if target.lower() == "xml-stylesheet":
            self.refuse("an <?xml-stylesheet?> instruction (a stylesheet or an XSLT program from another file)")

    def entity(self, name: str, is_parameter: int) -> None:
        self.refuse(f"an entity &{name}; declared in another file", "write the character itself instead")

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        space, _, name = tag.rpartition(" ")
        if space in _LIVE:
            self.refuse(f"{_LIVE[space]} markup (<{name}>)")
        elif space == SVG and name in _ACTIVE_SVG:
            self.refuse(_ACTIVE_SVG[name])
        elif space == SVG and name == "style":
            self.style, self.style_at = [], (self.parser.CurrentLineNumber, self.parser.CurrentColumnNumber + 1)
        for key, value in attributes.items():
            self.attribute(space, name, key, value)

    def attribute(self, space: str, element: str, key: str, value: str) -> None:
        """Refuse an attribute that runs script or reaches outside the file."""
        key_space, _, key_name = key.rpartition(" ")
        plain = _UNSEEN.sub("", value).lower()
        if not key_space and key_name.lower().startswith("on"):
            self.refuse(f"an event handler ({key_name}=)")
        elif key_space in _LIVE:
            self.refuse(f"an attribute of {_LIVE[key_space]} ({key_name}=)")
        elif "javascript:" in plain or "vbscript:" in plain:
            self.refuse(f"a script address ({key_name}=\"{_shown(value)}\")")
        elif key_name == "href" and key_space in ("", XLINK) and not _local(element, plain):
            self.refuse(f"a reference to another file ({_shown(value)} in <{element}>)",
                        "keep everything the picture shows inside it (embed pictures, inline symbols)")
        elif space == SVG and element in _ANIMATIONS and key_name == "attributeName" and \
                (plain.endswith("href") or plain.startswith("on")):
            self.refuse(f"an animation of its links or event handlers (attributeName=\"{_shown(value)}\")")
        else:
            self.css(value, f"{key_name}=")

    def css(self, text: str, where: str, at: tuple[int, int] | None = None) -> None:
        """Refuse CSS that loads from elsewhere (url() of another file, @import, image-set(), ...)."""
        if not _CSS_SUSPECT.search(text):
            return
        plain = _CSS_ESCAPE.sub(lambda m: chr(int(m[1], 16)) if m[1] and int(m[1], 16) < 0x110000 else m[2] or "",
                                text)
        if _CSS_FETCH.search(plain) or any(not url.startswith("#") and not _PICTURE_DATA.match(url)
                                           for url in _CSS_URL.findall(plain)):
            self.refuse(f"a style that loads from another file ({where} {_shown(text)})",
                        "keep only references inside the picture, url(#id)", at)

    def text(self, data: str) -> None:
        if self.style is not None:
            self.style.append(data)

    def end(self, tag: str) -> None:
        if self.style is not None and tag == f"{SVG} style":
            text, self.style = "".join(self.style), None
            self.css(text, "<style>", self.style_at)


def _local(element: str, address: str) -> bool:
    """Whether an href stays inside the picture (#id), is a picture in it (data:image/png on <image>), or is
    a link of an <a> to a web page or this site."""
    if address.startswith("#"):
        return True
    if element in ("image", "feImage"):
        return bool(_PICTURE_DATA.match(address))
    return element == "a" and bool(_LINK.match(address))


def _shown(value: str) -> str:
    """A value as a problem quotes it: on one line, at most 60 characters."""
    flat = " ".join(value.split())
    return flat if len(flat) <= 60 else flat[:59] + "…"
