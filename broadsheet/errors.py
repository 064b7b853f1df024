"""Problems found in a site's input, and the one exception that carries them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input, located as precisely as the parser allows."""

    path: str
    line: int = 0
    col: int = 0
    message: str = ""
    hint: str = ""
    severity: str = "error"

    def __str__(self) -> str:
        where = self.path
        if self.line:
            where += f":{self.line}"
            if self.col:
                where += f":{self.col}"
        text = f"{where}: {self.severity}: {self.message}"
        return printable(f"{text} ({self.hint})" if self.hint else text)


class BuildError(Exception):
    """The user's input cannot be built; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=_order)
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(Exception):
    """The command line or configuration asks for something impossible (exit code 2)."""


def _order(problem: Problem) -> tuple[str, int, int, str]:
    return (problem.path, problem.line, problem.col, problem.message)


def has_errors(problems: list[Problem]) -> bool:
    """True when any problem is an error (warnings and notes are not)."""
    return any(p.severity == "error" for p in problems)


def fail_if_errors(problems: list[Problem]) -> None:
    """Raise BuildError carrying every problem (warnings too) when any of them is an error."""
    if has_errors(problems):
        raise BuildError(problems)


def display_path(path: Path, root: Path | None = None) -> str:
    """A path as the user should see it: relative to the working folder, else to the project root."""
    resolved = Path(path).absolute()
    for base in (Path.cwd(), root):
        if base is not None and resolved.is_relative_to(base.absolute()):
            return resolved.relative_to(base.absolute()).as_posix()
    return str(path)


# C0 and C1 controls (newlines, escape sequences), line separators, bidirectional overrides (text shown in another
# order than it is), and lone surrogates (the bytes of a file name that is not UTF-8)
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(text: str) -> str:
    """Text safe to print as one line on a terminal: what could break the line or drive the terminal (a
    newline, an escape sequence such as \\e]52;...) is shown as an escape (`\\n`, `\\x1b`, `\\u202e`)."""
    return _UNPRINTABLE.sub(_escape, text)


def _escape(found: re.Match[str]) -> str:
    code = ord(found[0])
    if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8, as os.fsdecode keeps it
        return f"\\x{code - 0xDC00:02x}"
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(found[0])
    return named or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
