"""Characters no page or feed may carry: the control characters XML 1.0 forbids, with DEL, the C1 controls,
U+FFFE, U+FFFF and lone surrogates. One definition, for front matter, bodies and settings."""

from __future__ import annotations

import re

FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
_SPACES = str.maketrans("\x0b\x0c", "  ")  # a vertical tab (Word's line break) and a form feed part words


def clean(text: str) -> str:
    """text without forbidden characters: vertical tabs and form feeds become spaces, the others go."""
    return FORBIDDEN.sub("", text.translate(_SPACES))


def described(found: list[str]) -> str:
    """What was removed, for a warning: 'control character U+000B' or '3 control characters (U+0000, U+000B)'."""
    names = ", ".join(f"U+{ord(c):04X}" for c in sorted(set(found)))
    return f"control character {names}" if len(found) == 1 else f"{len(found)} control characters ({names})"
