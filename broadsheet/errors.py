"""Problems found in a site's input, and the one exception that carries them."""

from __future__ import annotations

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
        return f"{text} ({self.hint})" if self.hint else text


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
