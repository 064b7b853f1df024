"""Picture sizes read from the file headers (PNG, GIF, JPEG, WebP, SVG), so pages reserve their space."""

from __future__ import annotations

import re
import struct
from pathlib import Path

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
