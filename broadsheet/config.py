"""[tool.broadsheet] in pyproject.toml -> a frozen, validated Config; what a build is asked for (Options) and
the folders it reads and writes."""

from __future__ import annotations

import difflib
import os
import re
import string
import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import characters
from .errors import BuildError, Problem, display_path
from .slugs import in_address, name_problem, slugify


@dataclass(frozen=True)
class Options:
    """What to build and how; None means the default beside the configuration file."""

    config: Path = Path("pyproject.toml")
    content: Path | None = None
    layouts: Path | None = None
    out: Path | None = None
    base_url: str | None = None
    drafts: bool = False
    future: bool = False
    now: datetime | None = None
    fresh: bool = False
    jobs: int = os.cpu_count() or 1
    dry_run: bool = False  # build everything, then write nothing into the output folder


@dataclass(frozen=True)
class Folders:
    """Where a build reads (content/, layouts/) and writes (the output folder)."""

    content: Path
    layouts: Path
    out: Path

    @property
    def static(self) -> Path:
        """layouts/static/: the theme's files, copied to the site as they are."""
        return self.layouts / "static"

    @property
    def cache(self) -> Path:
        """The build cache, beside the output folder."""
        return self.out.parent / f".{self.out.name}.cache"


def folders(config: Config, options: Options) -> Folders:
    """The content, layouts and output folders: flags first, else beside the configuration."""
    content = options.content or config.root / "content"
    layouts = options.layouts or config.root / "layouts"
    for folder, flag in ((content, "--content"), (layouts, "--layouts")):
        if not folder.is_dir():
            raise BuildError([Problem(display_path(folder, config.root), message="folder not found",
                                      hint=f"create it or pass {flag} DIR")])
    return Folders(content, layouts, options.out or config.root / "site")


PERMALINK_FIELDS = frozenset({"year", "month", "day", "slug", "section"})
RAW_HTML_MODES = ("sanitize", "escape", "allow")


@dataclass(frozen=True)
class Config:
    """Site settings; every field can be set under [tool.broadsheet]."""

    title: str
    base_url: str
    description: str = ""
    language: str = "en"
    timezone: str = "UTC"
    per_page: int = 10
    permalink: str = "/{year}/{month}/{slug}/"
    default_section: str = "news"
    sections: dict[str, str] = field(default_factory=dict)
    date_format: str = "%-d %B %Y"
    home_per_section: int = 4
    raw_html: str = "sanitize"
    markdown_timeout: float = 10.0
    embed_hosts: tuple[str, ...] = ()
    copyright: str = ""
    default_author: str = ""
    default_image: str = ""
    logo: str = ""
    import_day_first: bool = True
    import_furniture: tuple[str, ...] = ()
    cname: str = ""
    interactives: tuple[str, ...] = ()
    root: Path = Path(".")
    file: str = "pyproject.toml"

    @property
    def base_path(self) -> str:
        """The path part of base_url, always starting and ending with '/'."""
        return urlsplit(self.base_url).path

    @property
    def zone(self) -> ZoneInfo:
        """The site's timezone, used for naive dates and for 'now'."""
        return ZoneInfo(self.timezone)


_SETTINGS = MappingProxyType({f.name: f for f in fields(Config) if f.name not in ("root", "file")})
_TYPES: MappingProxyType[str, type] = MappingProxyType({
    "per_page": int, "home_per_section": int, "sections": dict, "import_day_first": bool, "import_furniture": list,
    "markdown_timeout": float, "embed_hosts": list, "interactives": list})


def load_config(path: Path, overrides: dict[str, Any] | None = None) -> Config:
    """Read and validate [tool.broadsheet] from path; overrides win (command-line flags)."""
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BuildError([Problem(shown, message="configuration file not found",
                                  hint="run from the site's folder or pass --config FILE")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BuildError([Problem(shown, message=f"cannot read configuration: {exc}")]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, col = _toml_position(str(exc))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise BuildError([Problem(shown, line, col, f"invalid TOML: {message}")]) from None
    table = data.get("tool", {}).get("broadsheet")
    if not isinstance(table, dict):
        raise BuildError([Problem(shown, message="no [tool.broadsheet] table",
                                  hint="add one with at least title and base_url")])
    settings = {**table, **{k: v for k, v in (overrides or {}).items() if v is not None}}
    problems = _check(settings, text, shown)
    if problems:
        raise BuildError(problems)
    return _normalise(Config(**settings, root=path.parent.resolve(), file=shown))


def _check(settings: dict[str, Any], text: str, shown: str) -> list[Problem]:
    problems = []
    for key, value in settings.items():
        line, col = _line_of(text, key)
        if key not in _SETTINGS:
            close = difflib.get_close_matches(key, list(_SETTINGS), n=1)
            hint = f"did you mean '{close[0]}'?" if close else "see the configuration reference in the README"
            problems.append(Problem(shown, line, col, f"unknown setting '{key}'", hint))
            continue
        message = _check_value(key, value) or _controls(value)
        if message:
            problems.append(Problem(shown, line, col, f"setting '{key}': {message}"))
    for key in ("title", "base_url"):
        if key not in settings:
            problems.append(Problem(shown, 0, 0, f"missing required setting '{key}' in [tool.broadsheet]"))
    return problems


def _check_value(key: str, value: Any) -> str:
    wanted = _TYPES.get(key, str)
    if wanted is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, wanted) or (isinstance(value, bool) and wanted is not bool):
        return f"expected {_type_name(wanted)}, got {_type_name(type(value))} {value!r}"
    if wanted is list and not all(isinstance(item, str) for item in value):
        return "expected a list of text"
    if key == "base_url":
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return f"must be an absolute http(s) URL such as https://example.github.io/newsroom/, got {value!r}"
    if key in ("per_page", "home_per_section") and value < 1:
        return f"must be at least 1, got {value}"
    if key == "embed_hosts":
        bad = [h for h in value if not re.fullmatch(r"([a-z0-9-]{1,63}\.)+[a-z]{2,63}", h)]
        if bad:
            return f"each entry must be a host name in lower case such as www.youtube-nocookie.com, not {bad[0]!r}"
    if key == "markdown_timeout" and not 0 < value <= 3600:
        return f"must be a number of seconds above 0 and at most 3600, got {value:g}"
    if key == "timezone":
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            return f"unknown timezone {value!r} (use an IANA name such as Europe/London)"
    if key == "permalink":
        return _check_permalink(value)
    if key == "default_section" and name_problem(slugify(value)):
        return f"gives no usable section address ({name_problem(slugify(value))})"
    if key == "cname" and value and not re.fullmatch(r"(?=.{1,253}$)([A-Za-z0-9-]{1,63}\.)+[A-Za-z0-9-]{2,63}", value):
        return f"must be a bare domain name such as news.example.org (no scheme, no path), got {value!r}"
    if key == "raw_html" and value not in RAW_HTML_MODES:
        return f"must be one of {', '.join(RAW_HTML_MODES)}, got {value!r}"
    if key == "interactives":
        return _check_interactives(value)
    if key == "sections":
        bad = [k for k, v in value.items() if not isinstance(v, str)]
        if bad:
            return f"each section needs a display name as text, not {value[bad[0]]!r} for '{bad[0]}'"
    return ""


def _check_permalink(value: str) -> str:
    try:  # as str.format reads it: {slug.__class__}, {slug!r} and {slug:>9} are placeholders too
        parts = list(string.Formatter().parse(value))
    except ValueError:
        return "a '{' or '}' without its pair; placeholders are written {slug}"
    names = {name for _, name, _, _ in parts if name is not None}
    unknown = [f"{{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}"
               for _, name, spec, conversion in parts if name is not None and
               (name not in PERMALINK_FIELDS or spec or conversion)]
    if unknown:
        return f"unknown placeholder {unknown[0]}; use {', '.join(sorted(PERMALINK_FIELDS))}"
    if "slug" not in names:
        return "must contain {slug} so that every article gets its own address"
    if not value.startswith("/") or not (value.endswith("/") or value.endswith(".html")):
        return "must start with '/' and end with '/' or '.html'"
    literal = "".join(text for text, _, _, _ in parts)
    other = next((c for c in literal if not in_address(c, "/-_.~")), None)
    if other is not None:
        return f"{other!r} does not belong in a web address; use letters, digits, '-', '_', '.' and '/'"
    segments = value.split("/")[1:-1] if value.endswith("/") else value.split("/")[1:]
    if any(segment in ("", ".", "..") for segment in segments):
        return "must not hold an empty, '.' or '..' part ('//{slug}/' would be an address on another site)"
    return ""


def _check_interactives(value: list[str]) -> str:
    """Each entry a folder inside content/ ("graphics/" or "/graphics/"), and none of the folders of the copy."""
    for entry in value:
        parts = entry.strip("/").split("/")
        if "\\" in entry or any(not p or p == ".." or p.startswith(".") for p in parts):
            return f"each entry must be a folder inside content/ such as \"graphics/\", not {entry!r}"
        if len(parts) == 1 and parts[0] in ("articles", "pages", "authors", "data"):
            return f"{entry!r} holds the newsroom's copy; give interactives a folder of their own (\"graphics/\")"
    return ""


def _normalise(config: Config) -> Config:
    base = config.base_url if config.base_url.endswith("/") else config.base_url + "/"
    return replace(config, base_url=base, import_furniture=tuple(config.import_furniture),
                   markdown_timeout=float(config.markdown_timeout), embed_hosts=tuple(config.embed_hosts),
                   interactives=tuple(entry.strip("/") + "/" for entry in config.interactives))


def _line_of(text: str, key: str) -> tuple[int, int]:
    """Line and column of a setting's key in the configuration file ((0, 0) when not found there)."""
    in_table = False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_table = stripped.startswith("[tool.broadsheet")
        elif in_table and re.match(rf'["\']?{re.escape(key)}["\']?\s*=', stripped):
            return number, len(line) - len(line.lstrip()) + 1
    return 0, 0


def _toml_position(message: str) -> tuple[int, int]:
    found = re.search(r"at line (\d+), column (\d+)", message)
    return (int(found[1]), int(found[2])) if found else (0, 0)


def _type_name(kind: type) -> str:
    return {str: "text", int: "a whole number", dict: "a table", bool: "true/false",
            float: "a number", list: "a list"}.get(kind, kind.__name__)


def _controls(value: Any) -> str:
    """Why a setting's text cannot be published: it holds characters pages and feeds cannot carry."""
    parts = [value] if isinstance(value, str) else [*value, *value.values()] if isinstance(value, dict) else value
    found = [c for part in parts if isinstance(part, str) for c in characters.FORBIDDEN.findall(part)] \
        if isinstance(parts, list) else []
    return f"holds {characters.described(found)}, which pages and feeds cannot carry" if found else ""


def check_cname(value: str) -> str:
    """What is wrong with a custom domain given on the command line ("" when nothing), as for `cname`."""
    return _check_value("cname", value)
