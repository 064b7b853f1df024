"""Front matter: split it from the body and read its YAML safely, keeping line numbers.

python-frontmatter's reader drops content silently in several cases (a missing closing '---',
a leading BOM, list front matter) and crashes on keys named 'content'; this reader reports each
of them at its line instead. python-frontmatter still writes front matter (the importer).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from . import characters
from .config import Config
from .errors import Problem

MAX_FRONT_MATTER = 64 * 1024
YEARS = (1800, 2200)  # the dates a story may carry: far enough for archives, and no arithmetic near year 1 or 9999
_FENCE = re.compile(r"^---[ \t]*$")
_STANDARD_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in
                           ("str", "int", "float", "bool", "null", "timestamp", "seq", "map"))
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MOST_REPORTED = 5  # lines with control characters reported one by one; the rest in one more warning
_CONTROL = ("that pages and feeds cannot carry", "text pasted from a word processor often holds them")


@dataclass(frozen=True)
class Field:
    """One top-level front-matter value, as the YAML parser saw it."""

    key: str
    node: yaml.Node
    line: int
    col: int


@dataclass(frozen=True)
class Document:
    """A source file split into its front matter fields and its Markdown body."""

    path: str
    fields: dict[str, Field]
    body: str
    body_line: int


def parse(path: str, text: str, problems: list[Problem]) -> Document | None:
    """Split text into front matter and body; report every problem found, None when unusable."""
    if characters.FORBIDDEN.search(path):  # (a feed's entry id is made from the path)
        removed = characters.described(characters.FORBIDDEN.findall(path))
        problems.append(Problem(path, message=f"the file's name holds {removed}", hint="rename the file"))
        return None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if characters.FORBIDDEN.search(text):
        text = _without_controls(path, text, problems)
    lines = text.split("\n")
    if not lines or not _FENCE.match(lines[0]):
        problems.append(Problem(path, 1, 1, "no front matter", "start the file with a '---' line, "
                                "then 'title: ...', then another '---' line"))
        return None
    closing = next((i for i, line in enumerate(lines[1:], 1) if _FENCE.match(line)), None)
    if closing is None:
        problems.append(Problem(path, 1, 1, "front matter opened here is never closed",
                                "add a '---' line after the last setting"))
        return None
    yaml_text, body = "\n".join(lines[1:closing]) + "\n", "\n".join(lines[closing + 1:])
    if len(yaml_text.encode()) > MAX_FRONT_MATTER:
        problems.append(Problem(path, 1, 1, f"front matter is larger than {MAX_FRONT_MATTER // 1024} KB"))
        return None
    fields = _read_yaml(path, yaml_text, problems)
    if fields is None:
        return None
    stripped = body.lstrip("\n") if body.strip() else ""
    skipped = len(body) - len(body.lstrip("\n")) if stripped else 0  # (blank lines before the body's first)
    return Document(path, fields, stripped, closing + 2 + skipped)


def _without_controls(path: str, text: str, problems: list[Problem]) -> str:
    """text without the characters pages and feeds cannot carry (see characters.clean), each line that held
    any warned about at the first of them."""
    lines = text.split("\n")
    marked = [(number, found) for number, line in enumerate(lines, 1) if (found := characters.FORBIDDEN.search(line))]
    for number, found in marked[:MOST_REPORTED]:
        removed = characters.described(characters.FORBIDDEN.findall(lines[number - 1]))
        problems.append(Problem(path, number, found.start() + 1, f"removed {removed} {_CONTROL[0]}", _CONTROL[1],
                                "warning"))
    if len(marked) > MOST_REPORTED:
        number, found = marked[MOST_REPORTED]
        problems.append(Problem(path, number, found.start() + 1, f"removed control characters from "
                                f"{len(marked) - MOST_REPORTED} more lines", _CONTROL[1], "warning"))
    return characters.clean(text)


def _clean_scalars(path: str, root: yaml.Node, problems: list[Problem]) -> None:
    """Take forbidden characters that YAML escapes spell (`"a\\0b"`) out of every value, each with a warning."""
    pending = [root]
    while pending:
        node = pending.pop()
        if isinstance(node, yaml.ScalarNode):
            found = characters.FORBIDDEN.findall(node.value)
            if found:
                line, col = position(node)
                problems.append(Problem(path, line, col, f"removed {characters.described(found)} {_CONTROL[0]}",
                                        severity="warning"))
                node.value = characters.clean(node.value)
        elif isinstance(node, yaml.MappingNode):
            pending.extend(part for pair in node.value for part in pair)
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)


def _read_yaml(path: str, text: str, problems: list[Problem]) -> dict[str, Field] | None:
    if "\t" in text and re.search(r"^\t", text, re.M):
        line = next(i for i, row in enumerate(text.split("\n")) if row.startswith("\t"))
        problems.append(Problem(path, line + 2, 1, "tabs are not allowed for indentation in front matter",
                                "indent with spaces"))
        return None
    try:
        if not _refuse_events(path, text, problems):
            return None
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 2, mark.column + 1) if mark else (1, 1)
        problems.append(Problem(path, line, col, f"front matter: {_yaml_message(exc)}"))
        return None
    except (yaml.YAMLError, RecursionError) as exc:
        problems.append(Problem(path, 1, 1, f"front matter: {str(exc).splitlines()[0] or 'nested too deeply'}"))
        return None
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        kind = "list" if isinstance(root, yaml.SequenceNode) else "a single value"
        problems.append(Problem(path, root.start_mark.line + 2, 1,
                                f"front matter must be a mapping (key: value), got {kind}"))
        return None
    if "\\" in text:  # (only an escape can spell one: the file's own were taken out before)
        _clean_scalars(path, root, problems)
    return _fields(path, root, problems)


def _refuse_events(path: str, text: str, problems: list[Problem]) -> bool:
    """Refuse anchors, aliases and unknown tags before anything is constructed."""
    found = []
    for event in yaml.parse(text, Loader=_LOADER):
        line, col = event.start_mark.line + 2, event.start_mark.column + 1
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            found.append(Problem(path, line, col, "YAML anchors/aliases are not allowed in front matter"))
        elif isinstance(event, yaml.ScalarEvent) and event.value == "<<" and not event.style:  # plain: a merge
            found.append(Problem(path, line, col, "YAML merge keys (<<) are not allowed in front matter"))
        tag = getattr(event, "tag", None)
        if tag and tag not in _STANDARD_TAGS and tag != "!":
            found.append(Problem(path, line, col, f"YAML tag '{tag}' is not allowed in front matter"))
        if len(found) >= 5:
            break
    problems.extend(found)
    return not found


def _fields(path: str, root: yaml.MappingNode, problems: list[Problem]) -> dict[str, Field]:
    fields: dict[str, Field] = {}
    for key_node, value_node in root.value:
        line, col = key_node.start_mark.line + 2, key_node.start_mark.column + 1
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
            problems.append(Problem(path, line, col, f"front matter key {_raw(key_node)!r} must be text"))
            continue
        key = key_node.value
        if key in fields:
            problems.append(Problem(path, line, col, f"duplicate key '{key}' (first set on line {fields[key].line})"))
            continue
        fields[key] = Field(key, value_node, line, col)
    return fields


def _raw(node: yaml.Node) -> str:
    return node.value if isinstance(node, yaml.ScalarNode) else node.id


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    message = exc.problem or exc.context or "invalid YAML"
    if exc.context and exc.problem and exc.context_mark:
        where = f"{exc.context_mark.line + 2}:{exc.context_mark.column + 1}"
        return f"{exc.problem} ({exc.context} at {where})"
    return message


def position(node: yaml.Node) -> tuple[int, int]:
    """The file line and column where a front-matter node starts."""
    return node.start_mark.line + 2, node.start_mark.column + 1


def is_null(node: yaml.Node) -> bool:
    """True for an empty value, `~` or `null`."""
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def text(node: yaml.Node) -> str | None:
    """The scalar exactly as typed (so `title: no` stays 'no'); None when not a scalar."""
    if not isinstance(node, yaml.ScalarNode):
        return None
    return "" if is_null(node) else node.value.strip()


def texts(node: yaml.Node) -> list[str] | None:
    """A list of scalars as typed; a single scalar counts as a one-item list; None when not text."""
    if is_null(node):
        return []
    if isinstance(node, yaml.ScalarNode):
        return [node.value.strip()] if node.value.strip() else []
    if isinstance(node, yaml.SequenceNode) and all(isinstance(n, yaml.ScalarNode) for n in node.value):
        return [n.value.strip() for n in node.value if n.value.strip()]
    return None


def boolean(node: yaml.Node) -> bool | None:
    """Only `true` and `false` are booleans (YAML 1.2); anything else is None."""
    value = text(node)
    return {"true": True, "false": False}.get(value.lower()) if value else None


def mapping(node: yaml.Node) -> dict[str, yaml.Node] | None:
    """A nested mapping's values by key; None when the node is not a mapping."""
    if not isinstance(node, yaml.MappingNode):
        return None
    return {_raw(k): v for k, v in node.value}


def moment(node: yaml.Node, zone: ZoneInfo) -> datetime | str:
    """A date or datetime as an aware datetime in zone, or the reason it is invalid."""
    value = text(node)
    if not value:
        return "expected a date such as 2026-03-14 or 2026-03-14 09:30"
    try:
        parsed: date | datetime = datetime.fromisoformat(value.replace(" Z", "Z"))
    except ValueError as exc:
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            reason = str(exc).removeprefix("Invalid isoformat string: ")
            known = "out of range" in reason or "must be in" in reason
            detail = reason if known else "use YYYY-MM-DD or YYYY-MM-DD HH:MM"
            return f"invalid date '{value}': {detail}"
    if not YEARS[0] <= parsed.year <= YEARS[1]:  # (before any change of zone, which could overflow)
        return f"invalid date '{value}': the year must be between {YEARS[0]} and {YEARS[1]}"
    if not isinstance(parsed, datetime):
        parsed = datetime.combine(parsed, time())
    return parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed.astimezone(zone)


def plain(node: yaml.Node, depth: int = 0) -> Any:
    """A node as plain Python data with scalars kept as typed text (for pass-through extras)."""
    if depth > 20:
        return None
    if isinstance(node, yaml.MappingNode):
        return {_raw(k): plain(v, depth + 1) for k, v in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [plain(v, depth + 1) for v in node.value]
    return text(node)


class Reader:
    """Typed access to one document's front matter, reporting problems with positions."""

    def __init__(self, document: Document, known: tuple[str, ...], problems: list[Problem]) -> None:
        self.document, self.problems = document, problems
        for key, field in document.fields.items():
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"did you mean '{close[0]}'?" if close else "it is ignored"
                self.report(field.node, f"unknown front matter key '{key}'", hint, "warning", field)

    def report(self, node, message: str, hint: str = "", severity: str = "error", field=None) -> None:
        line, col = (field.line, field.col) if field else position(node)
        self.problems.append(Problem(self.document.path, line, col, message, hint, severity))

    def text(self, key: str, required: bool = False) -> str:
        field = self.document.fields.get(key)
        if field is None or is_null(field.node):
            if required:
                self.problems.append(Problem(self.document.path, 1, 1, f"missing required field '{key}'"))
            return ""
        value = text(field.node)
        if value is None:
            self.report(field.node, f"'{key}' must be text, not a list or mapping")
            return ""
        if required and not value:
            self.report(field.node, f"'{key}' is empty")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        field = self.document.fields.get(key)
        if field is None:
            return ()
        values = texts(field.node)
        if values is None:
            self.report(field.node, f"'{key}' must be a list of names")
            return ()
        return tuple(dict.fromkeys(values))

    def flag(self, key: str) -> bool:
        field = self.document.fields.get(key)
        if field is None or is_null(field.node):
            return False
        value = boolean(field.node)
        if value is None:
            self.report(field.node, f"'{key}' must be true or false, not '{text(field.node)}'")
            return False
        return value

    def moment(self, key: str, config: Config, required: bool = False) -> datetime | None:
        field = self.document.fields.get(key)
        if field is None or is_null(field.node):
            if required:
                self.problems.append(Problem(self.document.path, 1, 1, f"missing required field '{key}'",
                                             "add e.g. 'date: 2026-03-14 09:30'"))
            return None
        value = moment(field.node, config.zone)
        if isinstance(value, str):
            self.report(field.node, value)
            return None
        return value

    def node(self, key: str):
        field = self.document.fields.get(key)
        return None if field is None or is_null(field.node) else field.node
