"""Slugs: readable, portable URL segments made from titles and names."""

from __future__ import annotations

import re
import unicodedata

_INSIDE_WORD = re.compile(r"(?<=\w)['’‘`´.,]+(?=\w)")
_SEPARATORS = re.compile(r"[\W_]+")
_WINDOWS_RESERVED = frozenset({"con", "prn", "aux", "nul", "conin$", "conout$", *(f"com{i}" for i in range(1, 10)),
                               *(f"lpt{i}" for i in range(1, 10))})
_WORD_MARKS = "-_."  # besides letters, marks and digits of any script: nothing that means more in an address
MAX_SEGMENT_BYTES = 200


def slugify(text: str) -> str:
    """Lowercase, accents off Latin letters, other scripts kept, one hyphen between words."""
    text = _strip_latin_accents(unicodedata.normalize("NFKC", text).lower())
    text = _INSIDE_WORD.sub("", text)
    slug = _SEPARATORS.sub("-", text).strip("-")
    return _truncate(unicodedata.normalize("NFC", slug))


def _strip_latin_accents(text: str) -> str:
    kept: list[str] = []
    for char in unicodedata.normalize("NFD", text):
        if unicodedata.combining(char) and kept and _is_latin(kept[-1]):
            continue
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept).replace("ß", "ss").replace("ø", "o")
                                 .replace("æ", "ae").replace("œ", "oe").replace("ł", "l"))


def _is_latin(char: str) -> bool:
    return char.isascii() or "LATIN" in unicodedata.name(char, "")


def _truncate(slug: str) -> str:
    """Cut at a hyphen so the segment stays under the file-system limit (deterministic)."""
    if len(slug.encode()) <= MAX_SEGMENT_BYTES:
        return slug
    cut = slug.encode()[:MAX_SEGMENT_BYTES].decode(errors="ignore")
    return cut.rsplit("-", 1)[0] if "-" in cut else cut


def slug_problem(slug: str) -> str:
    """Why slug cannot be one URL segment on every system, or '' when it can."""
    if not slug:
        return "the slug is empty; set 'slug:' to a few words in letters or digits"
    if any(c in slug for c in "/\\\0") or ".." in slug or slug.startswith(".") or re.match(r"^[A-Za-z]:", slug):
        return f"invalid slug '{slug}': use letters, digits and hyphens only"
    if any(c in slug for c in '<>:"|?*') or any(ord(c) < 32 for c in slug):
        return f"invalid slug '{slug}': contains a character Windows forbids in file names"
    if _reserved_on_windows(slug) or slug[-1] in ". ":
        return f"invalid slug '{slug}': a reserved or invalid file name on Windows"
    if len(slug.encode()) > MAX_SEGMENT_BYTES:
        return f"invalid slug '{slug[:40]}…': longer than {MAX_SEGMENT_BYTES} bytes"
    other = next((c for c in slug if not in_address(c, _WORD_MARKS)), None)
    if other is not None:  # '%', '#', '&', a space: a browser reads them as more than a name (%2e%2e is '..')
        cleaned = slugify(slug)
        instead = f" such as '{cleaned}'" if cleaned and not slug_problem(cleaned) else ""
        return (f"invalid slug '{slug}': {other!r} does not belong in a web address; use letters, digits, "
                f"hyphens, underscores and dots{instead}")
    return ""


def in_address(char: str, marks: str) -> bool:
    """Whether char may stand in an address as it is: a letter, mark or digit of any script, or one of marks."""
    return char in marks or unicodedata.category(char)[0] in "LMN"


def _reserved_on_windows(slug: str) -> bool:
    """CON, nul.txt, COM¹ (Windows reads superscript digits as digits too), CONIN$: devices, not files."""
    return unicodedata.normalize("NFKC", slug.split(".")[0]).casefold().rstrip(" ") in _WINDOWS_RESERVED


def name_problem(slug: str) -> str:
    """Why the slug made from a name (a section's, a tag's, a reporter's) gives no usable address, said as a
    hint; '' when it gives one."""
    problem = slug_problem(slug)
    if not problem:
        return ""
    return f"'{slug}': {problem.split(': ', 1)[1]}" if slug else "give it a name with letters or digits"
