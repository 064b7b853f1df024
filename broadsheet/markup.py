"""Markdown bodies -> HTML: one configured Python-Markdown instance, then the raw-HTML policy."""

from __future__ import annotations

import os
import re
import signal
from html.parser import HTMLParser
from types import MappingProxyType
from typing import Any, NoReturn
from urllib.parse import urlsplit
from xml.etree import ElementTree as etree  # noqa: N813 (Python-Markdown's own name)

import ada_url
import nh3
from markdown import Markdown, inlinepatterns, util
from markdown.extensions import Extension, smarty
from markdown.extensions.footnotes import FootnoteInlineProcessor
from markdown.extensions.toc import slugify_unicode
from markdown.treeprocessors import InlineProcessor, Treeprocessor

from . import characters, workers
from .config import Config
from .terms import words

_URL_ATTRIBUTES = ("href", "src")
_ALLOWED_TAGS = nh3.ALLOWED_TAGS | {"figure", "figcaption", "picture", "source", "mark", "time",
                                    "details", "summary", "section", "aside", "video", "audio", "track"}
_ALLOWED_ATTRIBUTES = MappingProxyType({
    "*": frozenset({"class", "id", "title", "lang", "dir"}),
    "a": frozenset({"href", "rel", "name"}),
    "img": frozenset({"src", "alt", "width", "height", "loading", "decoding"}),
    "source": frozenset({"src", "srcset", "type", "media"}),
    "video": frozenset({"src", "controls", "poster", "width", "height"}),
    "audio": frozenset({"src", "controls"}),
    "track": frozenset({"src", "kind", "srclang", "label"}),
    "time": frozenset({"datetime"}),
    "th": frozenset({"style", "colspan", "rowspan", "scope"}),
    "td": frozenset({"style", "colspan", "rowspan"}),
    "ol": frozenset({"start", "type"}),
    "abbr": frozenset({"title"}),
    "blockquote": frozenset({"cite"}),
})


def make_markdown(config: Config) -> Markdown:
    """The one Markdown instance a build reuses (call reset() between documents)."""
    md = Markdown(
        extensions=["extra", "toc", "codehilite", "sane_lists", "smarty", _BasePath(config.base_path)],
        extension_configs={
            "toc": {"slugify": slugify_unicode, "permalink": False},
            "codehilite": {"css_class": "highlight", "guess_lang": False},
            "smarty": {"smart_angled_quotes": False},
        },
        output_format="html",
    )
    if config.raw_html == "escape":
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
    for name in ("inline", "smarty"):
        if type(md.treeprocessors[name]) is InlineProcessor:
            md.treeprocessors[name].__class__ = _QuickInline
    return md


# Python-Markdown tries every inline pattern's regular expression on every run of text, in Python, one pattern
# at a time: most of a body's rendering time. Each pattern below cannot match a text without one of these
# substrings (each is a literal its expression requires), so a text without them skips the pattern: the same
# result as the failed search, without the call. A pattern not listed (another version's, another extension's)
# is always tried.
_S = smarty
_NEEDS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType({
    inlinepatterns.BACKTICK_RE: ("`",),
    inlinepatterns.ESCAPE_RE: ("\\",),
    inlinepatterns.LINK_RE: ("[",),
    inlinepatterns.IMAGE_LINK_RE: ("![",),
    inlinepatterns.AUTOLINK_RE: ("<",),
    inlinepatterns.AUTOMAIL_RE: ("<",),
    inlinepatterns.HTML_RE: ("<",),
    inlinepatterns.ENTITY_RE: ("&",),
    inlinepatterns.LINE_BREAK_RE: ("  \n",),
    r"\*|_": ("*", "_"),  # em_strong
    r"(?<!\.)\.{3}(?!\.)": ("...",),  # smarty's ellipses and dashes
    r"(?<!-)--(?!-)": ("--",),
    r"(?<!-)---(?!-)": ("---",),
    **dict.fromkeys((_S.singleQuoteStartRe, _S.decadeAbbrRe, _S.openingSingleQuotesRegex,
                     _S.closingSingleQuotesRegex, _S.closingSingleQuotesRegex2, _S.remainingSingleQuotesRegex), ("'",)),
    **dict.fromkeys((_S.doubleQuoteStartRe, _S.openingDoubleQuotesRegex, _S.closingDoubleQuotesRegex,
                     _S.closingDoubleQuotesRegex2, _S.remainingDoubleQuotesRegex), ('"',)),
    **dict.fromkeys((_S.doubleQuoteSetsRe, _S.singleQuoteSetsRe2), ("\"'",)),
    **dict.fromkeys((_S.singleQuoteSetsRe, _S.doubleQuoteSetsRe2), ("'\"",)),
})


def needs(pattern: inlinepatterns.Pattern) -> tuple[str, ...] | None:
    """Substrings of which a text must hold one for the pattern to match it (None: any text may match)."""
    if isinstance(pattern, FootnoteInlineProcessor):
        return ("[^",)
    return _NEEDS.get(getattr(getattr(pattern, "compiled_re", None), "pattern", None) or "")


class _QuickInline(InlineProcessor):
    """Python-Markdown's inline processor, skipping each pattern a text cannot match (see _NEEDS): the same
    tree, with a whole conversion in about a third of the stock processor's time (3.3 ms against 9.1 ms for
    an article of the benchmark's corpus)."""

    def run(self, tree: etree.Element, ancestors: list[str] | None = None) -> etree.Element:
        patterns = list(self.inlinePatterns)
        if getattr(self, "_quick_for", None) != patterns:  # (worked out once per Markdown instance)
            wanted = [needs(pattern) for pattern in patterns]
            # (pattern, what it needs, the next pattern that needs something else: a text that lacks what one
            # needs is not looked at again for the patterns after it that need the same, like smarty's quotes)
            self._quick = [(pattern, wanted[i], next((j for j in range(i + 1, len(wanted))
                                                      if wanted[j] != wanted[i]), len(wanted)))
                           for i, pattern in enumerate(patterns)]
            self._quick_for = patterns
        return super().run(tree, ancestors)

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:  # noqa: N802, N803
        # InlineProcessor.__handleInline, with the skip: the private name is the one its own methods call.
        if isinstance(data, util.AtomicString):
            return data
        quick, index, start = self._quick, patternIndex, 0
        apply, count = self._InlineProcessor__applyPattern, len(quick)
        while index < count:
            pattern, wanted, following = quick[index]
            if wanted is not None:
                for text in wanted:  # (a loop, not any(): no generator made for each of the many tries)
                    if text in data:
                        break
                else:
                    index, start = following, 0
                    continue
            data, matched, start = apply(pattern, data, index, start)
            if not matched:
                index += 1
        return data


PARALLEL_THRESHOLD = 64  # fewer sources than this are made in the build's own process


def render_safely(md: Markdown, source: str, raw_html: str,
                  embed_hosts: tuple[str, ...] = ()) -> tuple[str, str, str, tuple[str, ...]]:
    """(html, '', search terms, what the raw_html policy removed) or ('', the reason rendering failed, '',
    ()): Python-Markdown raises anything on odd input."""
    try:
        removed: list[str] = []
        html = to_html(md, source, raw_html, removed, embed_hosts)
    except RecursionError:
        return "", "markdown rendering failed: nesting too deep", "", ()
    except Exception as exc:  # noqa: BLE001
        return "", f"markdown rendering failed: {type(exc).__name__}: {exc}", "", ()
    return html, "", " ".join(sorted(words(html))), tuple(removed)


URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
# Without raw HTML in the source, Python-Markdown makes only elements on the allow-list; what could still need
# the sanitiser is an attribute list's event handler or a link's scheme (any `word:` in an address but these,
# and any character reference in an address, which could spell one).
_SUSPECT = re.compile(r"\son[^\s=>]*\s*=|(?:href|src)=\"(?:\s*(?!(?:https?|mailto|tel):)[^\"/?#]*:|[^\"]*&)",
                      re.IGNORECASE)


def to_html(md: Markdown, source: str, raw_html: str, removed: list[str] | None = None,
            embed_hosts: tuple[str, ...] = ()) -> str:
    """Render one Markdown body under the site's raw_html policy; what the sanitiser takes out is described
    in `removed` (each kind once: `<script>`, `onerror=`, `javascript:`). An `<iframe>` stays only when its
    address is https on one of `embed_hosts` (or a subdomain of one)."""
    html = md.reset().convert(source)
    if characters.FORBIDDEN.search(html):
        html = characters.clean(_PLACEHOLDER.sub("", html.replace(util.AMP_SUBSTITUTE, "&amp;")))
    if raw_html == "allow":
        return html
    if removed is not None and ("<" in source or _SUSPECT.search(html)):
        finder = _Unsafe(embed_hosts)
        finder.feed(html)
        removed.extend(dict.fromkeys(finder.found))
    tags, attributes = _ALLOWED_TAGS, dict(_ALLOWED_ATTRIBUTES)  # (nh3 takes a dict, not a read-only view)
    if embed_hosts:
        tags, attributes = tags | {"iframe"}, {**attributes, "iframe": _IFRAME_ATTRIBUTES}

    def kept(tag: str, name: str, value: str) -> str | None:
        if name == "srcset":
            return _srcset(value)[0] or None
        if tag == "iframe" and name == "src":
            return embed_address(value, embed_hosts)
        if tag == "iframe" and name == "allow":
            return _permissions(value)[0] or None
        return value

    clean = _sanitised(html, {"tags": tags, "attributes": attributes, "url_schemes": URL_SCHEMES,
                              "filter_style_properties": {"text-align"}, "link_rel": None, "attribute_filter": kept})
    return _EMPTY_IFRAME.sub("", clean) if embed_hosts else clean


IN_PROCESS_TAGS = 5000  # nh3's worst case on fewer tags (nesting all the way down) takes about a fifth of a second


def _sanitised(html: str, options: dict[str, Any]) -> str:
    """nh3.clean(html, **options); for HTML of many tags, in a forked child that the build's time limit can stop:
    nh3's time grows with the square of the nesting depth (a megabyte of nested <div>s takes minutes) and no
    signal interrupts it, but a child can be killed: the limit's signal lands here, in the wait, and the child
    goes with it."""
    if html.count("<") <= IN_PROCESS_TAGS or not workers.can_fork():
        return nh3.clean(html, **options)
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:
        _sanitise_in_child(html, options, reading, writing)
    os.close(writing)
    try:
        with os.fdopen(reading, "rb") as pipe:
            data = pipe.read()
        code, child = os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]), 0
    finally:
        if child:  # stopped midway (the time limit, Ctrl-C)
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
    if code != 0:
        raise RuntimeError(f"the HTML sanitiser stopped (exit code {code})")
    return data.decode("utf-8")


def _sanitise_in_child(html: str, options: dict[str, Any], reading: int, writing: int) -> NoReturn:
    """In the forked child: clean, hand the HTML over, and leave without running the parent's clean-ups."""
    code = 1
    try:
        os.close(reading)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the build's, which kills the child on its way out
        workers.die_with_parent()
        left = memoryview(nh3.clean(html, **options).encode("utf-8", "surrogatepass"))
        while left:
            left = left[os.write(writing, left):]
        code = 0
    finally:
        os._exit(code)


# Python-Markdown's marks for what it set aside (`\x02klzzwxh:0000\x03`): an odd link's address can swallow
# one, or part of one, that it then never puts back
_PLACEHOLDER = re.compile("\x02?(?:klzzwxh|wzxhzdk|hzzhzkh):[0-9]*\x03?")
_IFRAME_ATTRIBUTES = frozenset({"src", "width", "height", "title", "allow", "allowfullscreen", "loading",
                                "referrerpolicy"})
_EMPTY_IFRAME = re.compile(r"<iframe(?![^>]*\ssrc=)[^>]*>.*?</iframe>", re.S)  # its address was refused
# What an embed may be allowed to use (its `allow` list); each for the embed's own address, whatever it asks
EMBED_PERMISSIONS = frozenset({"autoplay", "clipboard-write", "encrypted-media", "fullscreen", "picture-in-picture",
                               "web-share"})


def embed_address(url: str, hosts: tuple[str, ...]) -> str | None:
    """The address an iframe may load, as a browser reads it (WHATWG URL rules: backslashes, tabs and newlines,
    percent-encoded and international host names), when it is https on one of `hosts` or a subdomain of one,
    with no user name or password; else None."""
    try:
        parsed = ada_url.URL(url)
    except ValueError:
        return None
    host = parsed.hostname.removesuffix(".")
    if parsed.protocol != "https:" or parsed.username or parsed.password:
        return None
    return parsed.href if any(host == h or host.endswith("." + h) for h in hosts) else None


def scheme(url: str) -> str:
    """The scheme of an address as a browser reads it ('javascript' for `java&#9;script:`), '' for a relative one."""
    try:
        return ada_url.URL(url).protocol.removesuffix(":")
    except ValueError:
        return ""


def _permissions(allow: str) -> tuple[str, list[str]]:
    """An iframe's `allow` list with only EMBED_PERMISSIONS, each for the embed's own address (no `*`, no other
    origin); and the permissions taken out."""
    kept, dropped = [], []
    for item in allow.split(";"):
        words = item.split()
        if words and words[0].lower() not in EMBED_PERMISSIONS:
            dropped.append(words[0].lower())
        elif words and "'none'" not in words[1:]:
            kept.append(words[0].lower())
    rebuilt = "; ".join(dict.fromkeys(kept))
    return (allow if rebuilt == allow.strip() else rebuilt), dropped


_CANDIDATE_URL = re.compile(r"[\s,]*(\S+)")
_DESCRIPTORS = re.compile(r"(?:[^,(]|\([^)]*\)?)*,?")  # up to a comma outside brackets: `1x`, `600w`


def _srcset(value: str) -> tuple[str, list[str]]:
    """A srcset with only the candidates whose address is relative or has one of URL_SCHEMES (read as the
    HTML standard reads a srcset); and the schemes of those taken out."""
    kept, dropped, at = [], [], 0
    while found := _CANDIDATE_URL.match(value, at):
        url, descriptors, at = found[1], "", found.end()
        if url.endswith(","):  # (a candidate without descriptors)
            url = url.rstrip(",")
        else:
            more = _DESCRIPTORS.match(value, at)
            descriptors, at = " ".join(more[0].removesuffix(",").split()), more.end()
        used = scheme(url)
        if used and used not in URL_SCHEMES:
            dropped.append(used)
        else:
            kept.append(f"{url} {descriptors}".rstrip())
    return (value if not dropped else ", ".join(kept)), dropped


class _Unsafe(HTMLParser):
    """What in a body the sanitiser will remove as unsafe: elements off the allow-list (iframes but those
    of `embed_hosts`, and permissions an embed asks for beyond EMBED_PERMISSIONS), event handlers, and
    addresses with a scheme other than http, https, mailto and tel (in a srcset too)."""

    def __init__(self, embed_hosts: tuple[str, ...] = ()) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.embed_hosts = embed_hosts

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        given = dict(attrs)
        source = (given.get("src") or "").strip()
        if tag == "iframe" and embed_address(source, self.embed_hosts):
            self.found += [f"the {name} permission from {source}" for name in _permissions(given.get("allow") or "")[1]]
        elif tag == "iframe" and source:
            self.found.append(f"<iframe> from {source}")  # named by its address: there may be several
        elif tag not in _ALLOWED_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{name}=")
            elif name == "srcset" and value:
                self.found += [f"{used}:" for used in _srcset(value)[1]]
            elif name in _URL_ATTRIBUTES and value:
                used = scheme(value.strip()).lower()
                if used and used not in URL_SCHEMES:
                    self.found.append(f"{used}:")


class _BasePath(Extension):
    """Prefix root-relative links and images (`/images/x.svg`) with the site's base path; body pictures
    load lazily."""

    def __init__(self, base_path: str) -> None:
        super().__init__()
        self.base_path = base_path

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's API name)
        md.treeprocessors.register(_BasePathProcessor(md, self.base_path), "broadsheet_base_path", 1)
        md.treeprocessors.register(_HeadingProcessor(md), "broadsheet_headings", 30)


class _HeadingProcessor(Treeprocessor):
    """Demote body headings when the body uses '#', so each page keeps exactly one <h1>."""

    def run(self, root: etree.Element) -> None:
        headings = [e for e in root.iter() if e.tag in ("h1", "h2", "h3", "h4", "h5", "h6")]
        if any(e.tag == "h1" for e in headings):
            for element in headings:
                element.tag = f"h{min(int(element.tag[1]) + 1, 6)}"


class _BasePathProcessor(Treeprocessor):
    def __init__(self, md: Markdown, base_path: str) -> None:
        super().__init__(md)
        self.base_path = base_path

    def run(self, root: etree.Element) -> None:
        for image in root.iter("img"):
            image.set("loading", image.get("loading", "lazy"))
            image.set("decoding", "async")
        if self.base_path == "/":
            return
        for element in root.iter():
            for attribute in _URL_ATTRIBUTES:
                value = element.get(attribute)
                if value and value.startswith("/") and not value.startswith("//"):
                    element.set(attribute, self.base_path + value[1:])


def is_local(url: str) -> bool:
    """True for a link inside the site (no scheme, no host)."""
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc
