"""Every numbered bad-input behaviour (../shared/research/bad-input.md, B1-B30), through the command line.

Each case adds bad files to a site that built before, then asserts the exact outcome: exit 1, the one-line
`path:line:col: error: message`, no traceback, the previous site/ byte for byte, and content/ untouched.
"""

from __future__ import annotations

import os
import re
import stat
import time

import pytest

from .conftest import snapshot, write_files

A = "content/articles/news/post.md"
P = "content/articles/news/post.md"


def fm(*lines: str, body: str = "Body text.\n") -> str:
    return "---\n" + "\n".join(lines) + "\n---\n" + body


LAUGHS = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'] + [
    f"{x}: &{x} [{', '.join([f'*{y}'] * 9)}]" for y, x in zip("abcde", "bcdef", strict=True)]

CASES = [  # (behaviour, files, the first line the build prints)
    ("B1 unclosed quote", {A: fm('title: "open', "date: 2024-01-01")},
     f"{P}:4:1: error: front matter: found unexpected end of stream (while scanning a quoted scalar at 2:8)"),
    ("B2 tab indentation", {A: fm("title: T", "date: 2024-01-01", "tags:", "\t- a")},
     f"{P}:5:1: error: tabs are not allowed for indentation in front matter (indent with spaces)"),
    ("B3 duplicate key", {A: fm("title: One", "date: 2024-01-01", "title: Two")},
     f"{P}:4:1: error: duplicate key 'title' (first set on line 2)"),
    ("B4 list front matter", {A: fm("- title", "- date")},
     f"{P}:2:1: error: front matter must be a mapping (key: value), got list"),
    ("B4 scalar front matter", {A: fm("just words")},
     f"{P}:2:1: error: front matter must be a mapping (key: value), got a single value"),
    ("B5 never closed", {A: "---\ntitle: T\ndate: 2024-01-01\n\nA body and no closing line.\n"},
     f"{P}:1:1: error: front matter opened here is never closed (add a '---' line after the last setting)"),
    ("B6 a leading rule, not front matter", {A: "---\n\nSome text after a rule.\n\n---\n\nMore text.\n"},
     f"{P}:3:1: error: front matter must be a mapping (key: value), got a single value"),
    ("B8 lone CR line ends keep line numbers", {A: "---\rtitle: T\rdate: 2024-02-30\r---\rBody.\r"},
     f"{P}:3:7: error: invalid date '2024-02-30': day is out of range for month"),
    ("B9 empty file", {A: ""}, f"{P}:1:1: error: file is empty (give it front matter with a title)"),
    ("B10 not UTF-8", {A: b"---\ntitle: caf\xe9\ndate: 2024-01-01\n---\nBody.\n"},
     f"{P}:2:11: error: file is not valid UTF-8 (byte 0xE9 at offset 14) (save it as UTF-8)"),
    ("B11 file over 5 MB", {A: fm("title: T", "date: 2024-01-01", body="x" * (5 * 1024 * 1024 + 10))},
     f"{P}: error: file is larger than the 5 MB limit (5.0 MB)"),
    ("B11 front matter over 64 KB", {A: fm("title: T", "date: 2024-01-01", "description: " + "y" * 66_000)},
     f"{P}:1:1: error: front matter is larger than 64 KB"),
    ("B12 deep nesting", {A: fm("title: T", "date: 2024-01-01", "x: " + "[" * 2000 + "]" * 2000)},
     f"{P}:4:1003: error: front matter: exceeded maximum nesting depth (while increasing flow level at 4:1003)"),
    ("B13 anchor", {A: fm("title: &t T", "date: 2024-01-01")},
     f"{P}:2:8: error: YAML anchors/aliases are not allowed in front matter"),
    ("B13 alias", {A: fm("title: T", "date: 2024-01-01", "description: *t")},
     f"{P}:4:14: error: YAML anchors/aliases are not allowed in front matter"),
    ("B13 merge key", {A: fm("title: T", "date: 2024-01-01", "image:", "  <<: {src: a}")},
     f"{P}:5:3: error: YAML merge keys (<<) are not allowed in front matter"),
    ("B13 billion laughs", {A: fm(*LAUGHS, "title: T", "date: 2024-01-01")},
     f"{P}:2:4: error: YAML anchors/aliases are not allowed in front matter"),
    ("B14 python tag", {A: fm("title: !!python/object/apply:os.system ['touch PWNED']", "date: 2024-01-01")},
     f"{P}:2:8: error: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed in front matter"),
    ("B14 custom tag", {A: fm("title: !shout T", "date: 2024-01-01")},
     f"{P}:2:8: error: YAML tag '!shout' is not allowed in front matter"),
    ("B15 a key that is a number", {A: fm("title: T", "date: 2024-01-01", "1: one")},
     f"{P}:4:1: error: front matter key '1' must be text"),
    ("B16 impossible month", {A: fm("title: T", "date: 2022-13-01")},
     f"{P}:3:7: error: invalid date '2022-13-01': month must be in 1..12"),
    ("B16 words for a date", {A: fm("title: T", "date: next tuesday")},
     f"{P}:3:7: error: invalid date 'next tuesday': use YYYY-MM-DD or YYYY-MM-DD HH:MM"),
    ("B19 missing title", {A: fm("date: 2024-01-01")}, f"{P}:1:1: error: missing required field 'title'"),
    ("B23 template syntax error", {"layouts/partials/footer.html": "<footer>{{ site.title }</footer>\n"},
     "layouts/partials/footer.html:1: error: unexpected '}'"),
    ("B24 undefined variable", {"layouts/partials/footer.html": "<footer>{{ page.subtitle }}</footer>\n"},
     "layouts/partials/footer.html:1: error: 'page' is undefined (while rendering the home page)"),
    ("B25 missing extends target", {"layouts/page.html": "{% extends 'nowhere.html' %}\n"},
     "layouts/page.html:1: error: template 'nowhere.html' not found"),
    ("B26 slug climbing out", {A: fm("title: T", "date: 2024-01-01", "slug: ../../etc/x")},
     f"{P}:4:7: error: invalid slug '../../etc/x': use letters, digits and hyphens only"),
    ("B27 empty slug", {A: fm('title: "!!!"', "date: 2024-01-01")},
     f"{P}:2:8: error: the slug is empty; set 'slug:' to a few words in letters or digits (set 'slug:' explicitly)"),
    ("B28 reserved Windows name", {A: fm("title: T", "date: 2024-01-01", "slug: nul")},
     f"{P}:4:7: error: invalid slug 'nul': a reserved or invalid file name on Windows"),
    ("B28 trailing dot", {A: fm("title: T", "date: 2024-01-01", "slug: 'abc.'")},
     f"{P}:4:7: error: invalid slug 'abc.': a reserved or invalid file name on Windows"),
    ("B29 slug over 200 bytes", {A: fm("title: T", "date: 2024-01-01", "slug: " + "a" * 260)},
     f"{P}:4:7: error: invalid slug '{'a' * 40}…': longer than 200 bytes"),
    ("B30 slugs differing in case", {A: fm("title: T", "date: 2024-01-01", "slug: same"),
                                     "content/articles/news/other.md": fm("title: U", "date: 2024-01-02",
                                                                          "slug: SAME")},
     f"{P}: error: writes the same output file 2024/01/same/index.html as content/articles/news/other.md "
     "(give one of them another slug)"),
    ("B30 a page named like an index", {"content/pages/tags.md": fm("title: Tags")},
     "content/pages/tags.md: error: writes the same output file tags/index.html as the tag index "
     "(give one of them another slug)"),
    ("11 a year-9999 expiry on a draft", {A: fm("title: T", "date: 2024-01-01", "expires: 9999-12-31", "draft: true")},
     f"{P}:4:10: error: invalid date '9999-12-31': the year must be between 1800 and 2200"),
    ("11 year 1 with an offset", {A: fm("title: T", "date: 0001-01-01T00:10:00+05:00")},
     f"{P}:3:7: error: invalid date '0001-01-01T00:10:00+05:00': the year must be between 1800 and 2200"),
]
CASES += [  # the files of content/ that are copied as they are (hardening, second pass)
    ("H1 an HTML file with a script", {"content/evil.html": "<script>fetch('/drafts/')</script>"},
     "content/evil.html: error: a .html file runs script in readers' browsers on the paper's own site; not "
     "published outside the interactives folders (for a reviewed interactive graphic, name its folder in the "
     'interactives setting, e.g. interactives = ["graphics/"])'),
    ("H1 an SVG picture with onload", {"content/images/chart.svg": '<svg xmlns="http://www.w3.org/2000/svg">\n'
                                                                   '  <rect onload="alert(1)"/>\n</svg>\n'},
     "content/images/chart.svg:2:3: error: SVG picture holds an event handler (onload=); not published (remove it "
     "and save the picture again, or put the file in a folder the interactives setting names)"),
    ("H9 Markdown outside the sources' folders", {"content/images/notes.markdown": fm("title: Caption notes")},
     "content/images/notes.markdown: error: Markdown outside articles/, pages/ and authors/ would be copied as it "
     "is, front matter and all; not published (move it into content/articles/<section>/ or content/pages/, or "
     "out of content/)"),
    ("H9 front matter in another file", {"content/files/story.txt": fm("title: Draft", "draft: true")},
     "content/files/story.txt: error: opens with front matter but is not a Markdown file; not published as it is "
     "(to publish it as a story, name it .md and put it in content/articles/<section>/)"),
]


@pytest.fixture
def built(make_site):
    root = make_site({"content/articles/news/good.md": fm("title: Good", "date: 2024-01-05")})
    return root


@pytest.mark.parametrize(("behaviour", "files", "first"), CASES, ids=[case[0] for case in CASES])
def test_bad_input_is_one_located_line_and_nothing_is_lost(cli, built, behaviour, files, first):
    root = built
    assert cli("build", "--config", root / "pyproject.toml").code == 0
    site = snapshot(root / "site")
    write_files(root, files)
    sources = snapshot(root / "content") | {f"layouts/{k}": v for k, v in snapshot(root / "layouts").items()}
    started = time.monotonic()
    run = cli("build", "--config", root / "pyproject.toml")
    assert run.code == 1 and run.lines[0] == first, run.err
    assert "Traceback" not in run.err and run.lines[-1].startswith("Build failed: ")
    assert all(line.count("\n") == 0 for line in run.lines)
    assert not re.search("[\x00-\x1f\x7f]", run.err.replace("\n", ""))  # no escape sequence reaches the terminal
    assert snapshot(root / "site") == site  # the previous site, byte for byte
    assert snapshot(root / "content") | {f"layouts/{k}": v for k, v in snapshot(root / "layouts").items()} == sources
    assert time.monotonic() - started < 30  # no input makes the build crawl (billion laughs, deep nesting)
    assert not (root / "PWNED").exists() and not list(root.rglob("PWNED"))


def test_python_frontmatters_reserved_keys_are_ordinary_unknown_keys(cli, built):
    write_files(built, {A: fm("title: T", "date: 2024-01-01", "content: x", "handler: y")})
    run = cli("build", "--config", built / "pyproject.toml")
    assert run.code == 0 and "Traceback" not in run.err
    assert [line for line in run.lines if "unknown front matter key" in line] == [
        f"{P}:4:1: warning: unknown front matter key 'content' (it is ignored)",
        f"{P}:5:1: warning: unknown front matter key 'handler' (it is ignored)"]


def test_10_control_characters_are_warned_about_and_every_feed_stays_well_formed(cli, built):
    import xml.etree.ElementTree as ET

    import feedparser

    body = "Pasted from Word:\x0bthe rest.\n\n![x](\"\"...![x](`</a>`\n\n[x]( \"t\"[x]()\\--\n"
    write_files(built, {A: fm('title: "a\\0b"', "date: 2024-01-01", "tags: [a\x01b]", body=body)})
    run = cli("build", "--config", built / "pyproject.toml")
    assert run.code == 0 and "Traceback" not in run.err
    assert sorted(line.split(" that ")[0] for line in run.lines if "control character" in line) == [
        f"{P}:2:8: warning: removed control character U+0000", f"{P}:4:9: warning: removed control character U+0001",
        f"{P}:6:18: warning: removed control character U+000B"]
    feeds = sorted((built / "site").rglob("*.xml"))
    assert len(feeds) >= 4
    for path in feeds:
        ET.parse(path)  # well-formed, or this raises
    parsed = feedparser.parse((built / "site" / "feed.xml").read_bytes())
    assert not parsed.bozo and "ab" in [entry.title for entry in parsed.entries]
    assert "klzzwxh" not in (built / "site" / "feed.xml").read_text(encoding="utf-8")


def test_5_an_embed_address_is_read_as_a_browser_reads_it(cli, built):
    from .conftest import CONFIG

    body = ('<iframe src="https://evil.com\\@www.youtube-nocookie.com/embed/x"></iframe>\n\n'
            '<iframe src="https://www.youtube-nocookie.com/embed/y" allow="camera; autoplay"></iframe>\n')
    write_files(built, {"pyproject.toml": CONFIG + 'embed_hosts = ["youtube-nocookie.com"]\n',
                        A: fm("title: T", "date: 2024-01-01", body=body)})
    run = cli("build", "--config", built / "pyproject.toml")
    assert run.code == 0
    assert sorted(line.split(" (raw_html")[0] for line in run.lines if "removed" in line) == [
        f"{P}:5:14: warning: removed <iframe> from https://evil.com\\@www.youtube-nocookie.com/embed/x",
        f"{P}:7:14: warning: removed the camera permission from https://www.youtube-nocookie.com/embed/y"]
    page = (built / "site/2024/01/t/index.html").read_text(encoding="utf-8")
    assert "evil.com" not in page and "camera" not in page
    assert '<iframe src="https://www.youtube-nocookie.com/embed/y" allow="autoplay"></iframe>' in page


def test_6_the_time_limit_stops_the_sanitiser_on_deeply_nested_html(cli, built):
    from .conftest import CONFIG

    # nh3 takes about a minute on this (its time grows with the square of the depth), and no signal stops it
    write_files(built, {"pyproject.toml": CONFIG + "markdown_timeout = 4\n",
                        A: fm("title: T", "date: 2024-01-01", body="<dl><dt>" * 40000 + "\n")})
    started = time.monotonic()
    run = cli("build", "--config", built / "pyproject.toml")
    assert run.code == 1 and run.lines[0].startswith(f"{P}:5:1: error: markdown rendering took longer than 4 s; ")
    assert time.monotonic() - started < 4 + 15  # the limit, not nh3's minute


def test_an_output_path_that_is_no_folder_is_a_usage_error_and_nothing_is_touched(cli, built, tmp_path):
    assert cli("build", "--config", built / "pyproject.toml").code == 0
    site = snapshot(built / "site")
    os.mkfifo(tmp_path / "pipe")
    for out in (tmp_path / "pipe", built / "content/pub"):
        run = cli("build", "--config", built / "pyproject.toml", "--out", out)
        assert run.code == 2 and len(run.lines) == 1 and run.lines[0].startswith("broadsheet: error: "), run.err
    assert stat.S_ISFIFO((tmp_path / "pipe").lstat().st_mode) and not (built / "content/pub").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe", "project"]  # no lock, cache or stage beside
    assert snapshot(built / "site") == site


def test_a_file_where_a_folder_goes_is_found_before_anything_is_written(cli, built):
    write_files(built, {"content/pages/about.md": fm("title: About")})
    assert cli("build", "--config", built / "pyproject.toml").code == 0
    site = snapshot(built / "site")
    write_files(built, {A: fm("title: T", "date: 2024-01-06", "slug: index.html"),  # the month's page is a file
                        "content/pages/about.md": fm("title: About", "slug: 404.html"),
                        "content/pages/feed.md": fm("title: Feeds", "slug: feed.xml")})
    run = cli("build", "--config", built / "pyproject.toml")
    assert run.code == 1 and "Traceback" not in run.err
    assert run.lines == [
        f"{P}: error: writes the output file 2024/01/index.html/index.html inside 2024/01/index.html, which the "
        "archive page 'January 2024' writes as a file (give one of them another slug)",
        "content/pages/about.md: error: writes the output file 404.html/index.html inside 404.html, which the 404 "
        "page writes as a file (give one of them another slug)",
        "content/pages/feed.md: error: writes the output file feed.xml/index.html inside feed.xml, which the site's "
        "Atom feed writes as a file (give one of them another slug)",
        "Build failed: 3 errors; the output folder was not changed."]
    assert snapshot(built / "site") == site


@pytest.mark.parametrize(("link", "target"), [
    ("content/images/notes.txt", "../../.git/config"), ("content/env.txt", "../.env"),
    ("content/site.toml", "../pyproject.toml")])
def test_h3_a_link_to_a_secret_is_one_located_line_and_nothing_is_lost(cli, built, link, target):
    assert cli("build", "--config", built / "pyproject.toml").code == 0
    site = snapshot(built / "site")
    write_files(built, {".git/config": "[remote]\n\turl = https://ghp_token@github.com/x/y\n", ".env": "KEY=s3cret"})
    (built / link).parent.mkdir(parents=True, exist_ok=True)
    (built / link).symlink_to(target)
    run = cli("build", "--config", built / "pyproject.toml")
    shown = target.replace("../", "")
    assert run.code == 1 and run.lines[0] == f"{link}: error: symbolic link leads outside content/ (to {shown}); not " \
        "published (copy the file into content/ instead of linking to it)", run.err
    assert "Traceback" not in run.err and run.lines[-1].startswith("Build failed: ")
    assert snapshot(built / "site") == site


# Hardening, second pass (issue 18), the low items: through the same checks as CASES
SECOND_PASS = [
    ("escape sequences and newlines in a key and a value", {A: fm("title: T", "date: 2024-01-01",
                                                               '"bad\\e[2Kkey\\nx": 1', 'slug: "\\e]52;c;aGk=\\a"')},
     f"{P}:4:1: warning: removed control character U+001B that pages and feeds cannot carry"),  # (the key's
    # newline is shown escaped in the line after; see test_errors for printable() on its own)
    ("an escape sequence in a file name", {"content/articles/news/bad\x1b]52;c;aGk=\x07.md": fm("title: T")},
     "content/articles/news/bad\\x1b]52;c;aGk=\\x07.md: error: the file's name holds 2 control characters "
     "(U+0007, U+001B) (rename the file)"),
    ("the correction hint is one line", {A: fm("title: T", "date: 2024-01-01", "corrections: [x]")},
     f"{P}:4:15: error: each correction needs a 'date' and a 'text' "
     "(e.g. corrections: [{date: 2026-03-14 10:00, text: An earlier version misspelt …}])"),
    ("a tag without a slug is not told to spell two alike", {A: fm("title: T", "date: 2024-01-01", 'tags: ["!!!"]')},
     f"{P}: error: tag '!!!' has no usable slug (give it a name with letters or digits)"),
    ("a section of punctuation", {A: fm("title: T", "date: 2024-01-01", 'section: "!!!"')},
     f"{P}:4:10: error: section '!!!' has no usable slug (give it a name with letters or digits)"),
    ("a section folder named like a device", {"content/articles/con/a.md": fm("title: T", "date: 2024-01-01")},
     "content/articles/con/a.md: error: section 'con' (the folder's name) has no usable slug "
     "('con': a reserved or invalid file name on Windows)"),
    ("a percent-encoded slug", {A: fm("title: T", "date: 2024-01-01", "slug: '%2e%2e'")},
     f"{P}:4:7: error: invalid slug '%2e%2e': '%' does not belong in a web address; use letters, digits, hyphens, "
     "underscores and dots such as '2e-2e'"),
    ("an image that is a list", {A: fm("title: T", "date: 2024-01-01", "image: [a, b]")},
     f"{P}:4:8: error: 'image' must be a picture's address or a mapping of src, alt, caption and credit "
     "(e.g. image: {src: /images/tram.jpg, alt: A tram at the stop})"),
    ("a NUL in an image src", {A: fm("title: T", "date: 2024-01-01", 'image: {src: "/a\\0.jpg", alt: x}')},
     f"{P}:4:8: error: image src '/a.jpg' not found in the content folder (paths are relative to the content "
     "folder, e.g. /images/photo.jpg)"),  # (the NUL taken out first, with a warning)
    ("an image src of 5,000 characters", {A: fm("title: T", "date: 2024-01-01", f"image: /{'a' * 5000}.jpg")},
     f"{P}:4:8: error: image src '/{'a' * 39}…' is longer than 2000 characters"),
    ("a NUL in a reporter's photo", {"content/authors/ann.md": fm("name: Ann", 'photo: "/a\\0.jpg"')},
     "content/authors/ann.md:3:8: error: photo '/a.jpg' not found in the content folder (paths are relative to "
     "the content folder, e.g. /images/photo.jpg)"),
]


@pytest.mark.parametrize(("behaviour", "files", "first"), SECOND_PASS, ids=[case[0] for case in SECOND_PASS])
def test_second_pass_bad_input_is_one_located_line_and_nothing_is_lost(cli, built, behaviour, files, first):
    test_bad_input_is_one_located_line_and_nothing_is_lost(cli, built, behaviour, files, first)


def test_a_pageviews_field_over_128_kb_is_a_warning_at_its_row(cli, built):
    write_files(built, {"content/data/pageviews.csv": f'path,views\n"/{"x" * 200_000}/",3\n/2024/01/good/,5\n'})
    run = cli("build", "--config", built / "pyproject.toml")
    assert run.code == 0 and run.lines == [
        "content/data/pageviews.csv:2:1: warning: unreadable row (field larger than field limit (131072)); ignored"]


@pytest.mark.parametrize("port", ["70000", "-1", "http"])  # (not 0: a server would start without the check)
def test_a_port_out_of_range_is_a_usage_error(cli, built, capsys, port):
    with pytest.raises(SystemExit) as stopped:
        cli("serve", "--config", built / "pyproject.toml", "--port", port)
    assert stopped.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"broadsheet serve: error: argument --port: not a port: '{port}' (use a number from 1 to 65535, e.g. 8000)")
