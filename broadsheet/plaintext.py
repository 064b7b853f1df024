"""Plain-text copy as reporters, wires and old-site dumps deliver it -> a structured Copy record."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

FURNITURE = ("advertisement", "most popular", "most read", "most viewed", "related articles", "related stories",
             "related", "share this article", "share this story", "share", "trending", "trending now",
             "read more", "read next", "recommended", "recommended for you", "sponsored", "sponsored content",
             "you may also like", "more stories", "more from this section", "sign up for our newsletter",
             "follow us", "comments", "print this article", "email this article", "top stories")
_MONTHS = MappingProxyType({name: number for number, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")], 1) for name in names})
_MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
_WEEKDAY = r"(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\.?,?\s+)?"
_TIME = r"(?:,?\s+(?:at\s+)?\d{1,2}[:.]\d{2}(?:\s*[ap]\.?m\.?)?)?$"
_DATE_PATTERNS = tuple(re.compile(_WEEKDAY + p + _TIME, re.I) for p in (
    _MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})",
    r"(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+(?P<year>\d{4})",
    r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})",
    r"(?P<first>\d{1,2})[/.](?P<second>\d{1,2})[/.](?P<year>\d{4})",
))
_BYLINE = re.compile(r"^by\s+(?P<rest>.+)$", re.I)
_SEPARATOR = re.compile(r"\s+[-–—|]\s+|\s*\|\s*")
_CREDITS = tuple(re.compile(p, re.I) for p in (
    r"\s*\((?:photo(?:graph)?|picture|image)\s+credit:\s*(?P<credit>[^()]+)\)$",
    r"\s*\((?:photo(?:graph)?|picture|image|credit):\s*(?P<credit>[^()]+)\)$",
    r"(?:^|\s+)(?:photo(?:graph)?|picture|image|credit)(?:\s+credit)?:\s*(?P<credit>[^()]+?)$",
    r"\s*\((?P<credit>[^()\d]{2,60}/[^()\d]{2,60})\)$",
))
_CLOSING = tuple('.!?:;"”’\')…')


@dataclass(frozen=True)
class Copy:
    """One article as read from plain text: what the headline, byline and caption said, and its paragraphs."""

    title: str
    description: str
    authors: tuple[str, ...]
    date: date | None
    caption: str
    credit: str
    paragraphs: tuple[str, ...]
    has_byline: bool


class NotAnArticle(ValueError):
    """The text cannot be read as an article; the message says why."""


def parse(text: str, day_first: bool = True, furniture: tuple[str, ...] = ()) -> Copy:
    """Read headline, standfirst, byline, caption and paragraphs; trailing site furniture is dropped."""
    phrases = FURNITURE + tuple(p.lower() for p in furniture)
    blocks = _blocks(text)
    while blocks and all(_key(line) in phrases for line in blocks[0]):
        blocks = blocks[1:]  # furniture above the headline
    if not blocks:
        raise NotAnArticle("no text")
    head, rest = blocks[0], blocks[1:]
    title, description, authors, when, has_byline = _head(head, rest, day_first)
    caption, credit = _caption(rest[0]) if rest else ("", "")
    if caption or credit:
        rest = rest[1:]
    paragraphs = _without_furniture(rest, phrases)
    if not paragraphs:
        raise NotAnArticle("no paragraphs after the headline")
    return Copy(title, description, authors, when, caption, credit,
                tuple(" ".join(block) for block in paragraphs), has_byline)


def _blocks(text: str) -> list[list[str]]:
    """Runs of non-blank lines, each line stripped; CRLF, BOM and stray control characters removed."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    blocks, current = [], []
    for line in text.split("\n"):
        line = re.sub(r"[\x00-\x08\x0b-\x1f\x7f\u200b\ufeff]", "", line).strip(" \t\u00a0\u2007\u202f")
        if line:
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    return blocks + [current] if current else blocks


def _head(head: list[str], rest: list[list[str]], day_first: bool):
    """Headline, standfirst, authors, date and whether a byline was found, from the first block."""
    title = _plain(head[0])
    if len(title) > 300 or title.endswith((".", ",")) and len(title) > 150:
        raise NotAnArticle("the first line does not look like a headline")
    lines = head[1:]
    at = next((i for i, line in enumerate(lines) if _BYLINE.match(_plain(line))), None)
    authors, when = (), None
    if at is not None:
        authors, when = _byline(_plain(lines[at]), day_first)
        for line in lines[at + 1:]:
            when = when or parse_date(_plain(line), day_first)
        lines = lines[:at]
    elif lines and parse_date(_plain(lines[-1]), day_first):
        when, lines = parse_date(_plain(lines[-1]), day_first), lines[:-1]
    if at is None and len(" ".join(lines)) > 400:
        rest.insert(0, lines)  # no byline and a long second line: it is the story, not a standfirst
        lines = []
    return title, _plain(" ".join(lines)), authors, when, at is not None


def _byline(line: str, day_first: bool) -> tuple[tuple[str, ...], date | None]:
    rest = _BYLINE.match(line)["rest"]
    parts = _SEPARATOR.split(rest, maxsplit=1)
    names, when = parts[0], parse_date(parts[1], day_first) if len(parts) > 1 else None
    if when is None and len(parts) == 1:
        names, when = _trailing_date(rest, day_first)
    if when is None and len(parts) > 1:
        names = rest
    authors = [n.strip(" ,") for n in re.split(r",\s*|\s+(?:and|&)\s+", names, flags=re.I)]
    return tuple(dict.fromkeys(a for a in authors if a)), when


def _trailing_date(text: str, day_first: bool) -> tuple[str, date | None]:
    """Split 'Ann Lee, February 28, 2022' into the names and the date at the end."""
    words = text.split()
    for start in range(max(0, len(words) - 6), len(words)):
        when = parse_date(" ".join(words[start:]).strip(" ,"), day_first)
        if when:
            return " ".join(words[:start]).strip(" ,"), when
    return text, None


def parse_date(text: str, day_first: bool = True) -> date | None:
    """A calendar date in any of the usual newsroom spellings, or None."""
    text = text.strip().rstrip(".")
    for pattern in _DATE_PATTERNS:
        found = pattern.match(text)
        if not found:
            continue
        parts = found.groupdict()
        if parts.get("first"):
            first, second = int(parts["first"]), int(parts["second"])
            day, month = (first, second) if day_first else (second, first)
        else:
            day = int(parts["day"])
            month = int(parts["month"]) if parts["month"].isdigit() else _MONTHS.get(parts["month"].lower(), 0)
        try:
            return date(int(parts["year"]), month, day)
        except ValueError:
            return None
    return None


def _caption(block: list[str]) -> tuple[str, str]:
    """A photo caption is the block after the byline that ends with a credit."""
    text = _plain(" ".join(block))
    if len(text) > 600:
        return "", ""
    for pattern in _CREDITS:
        found = pattern.search(text)
        if found and found["credit"].strip():
            return text[:found.start()].strip(), found["credit"].strip().rstrip(".")
    return "", ""


def _without_furniture(blocks: list[list[str]], phrases: tuple[str, ...]) -> list[list[str]]:
    """Drop what the dump carried after the story: known phrases, then everything after them; lists of headlines."""
    for index, block in enumerate(blocks):
        for at, line in enumerate(block):
            if _key(line) in phrases:
                kept = blocks[:index] + ([block[:at]] if at else [])
                return _without_furniture(kept, phrases)
    while blocks and len(blocks[-1]) >= 2 and all(_looks_like_furniture(line) for line in blocks[-1]):
        blocks = blocks[:-1]
    return blocks


def _key(line: str) -> str:
    return re.sub(r"[\s:|»›>•-]+$", "", _plain(line).lower()).strip()


def _looks_like_furniture(line: str) -> bool:
    """A short line with no closing punctuation: a headline in a list of links, a button label."""
    return len(line) <= 90 and not line.endswith(_CLOSING)


def _plain(text: str) -> str:
    """Metadata text with non-breaking and repeated spaces made single ordinary spaces."""
    return re.sub(r"[\s\u00a0\u2007\u202f]+", " ", text).strip()


def escape(paragraph: str) -> str:
    """Markdown for a paragraph that renders to exactly these characters (no markup, no smart quotes)."""
    text = re.sub(r"([\\`*_{}\[\]\"'])", r"\\\1", paragraph)
    text = re.sub(r"-{2,}|\.{3,}", lambda m: "".join("\\" + c for c in m[0]), text)
    text = re.sub(r"&(?=#?\w+;)", "&amp;", text)
    text = text.replace("<", "&lt;")
    text = re.sub(r"^([-+#>|])", r"\\\1", text)
    text = re.sub(r"^([~:])", lambda m: f"&#{ord(m[1])};", text)
    return re.sub(r"^(\d+)([.)])", r"\1\\\2", text)
