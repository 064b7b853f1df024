"""What the build counts as its files: ignored names, layouts, a file's state."""

from __future__ import annotations

import os
import shutil
import time

import pytest

from broadsheet.files import (
    copy_state,
    has_front_matter,
    ignored,
    is_active,
    is_layout,
    is_markdown,
    is_recent,
    is_xml,
    layout_files,
    link_problem,
    state,
)


@pytest.mark.parametrize("name", [".hidden", ".#story.md", "#story.md#", "story.md~", "story.md.swp", "x.swx",
                                  "x.tmp", "x.bak", ".git"])
def test_hidden_files_and_editor_leftovers_are_ignored(name):
    assert ignored(name)


@pytest.mark.parametrize("name", ["story.md", "map.svg", "tmp.md", "bakery.md", "swp", "a~b.md"])
def test_ordinary_names_are_not_ignored(name):
    assert not ignored(name)


def test_layouts_are_the_templates_outside_static():
    assert is_layout("article.html") and is_layout("partials/card.html") and is_layout("feed.xml")
    assert is_layout("robots.txt")
    assert not is_layout("static/css/site.css") and not is_layout("static/page.html")
    assert not is_layout("favicon.svg") and not is_layout("notes.md")


def test_layout_files_follow_links_to_folders_and_skip_leftovers(tmp_path):
    layouts, shared = tmp_path / "layouts", tmp_path / "shared"
    (layouts / "partials").mkdir(parents=True)
    shared.mkdir()
    for path in (layouts / "base.html", layouts / "partials/card.html", layouts / "base.html~",
                 layouts / ".hidden.html", shared / "rail.html"):
        path.write_text("x")
    os.symlink(shared, layouts / "linked")
    os.symlink(tmp_path / "missing.html", layouts / "broken.html")
    found = {os.path.relpath(path, layouts): stat for path, stat in layout_files(str(layouts))}
    assert set(found) == {"base.html", "broken.html", "linked/rail.html", "partials/card.html"}
    assert found["broken.html"] is None and found["base.html"].st_size == 1


def test_a_state_changes_with_the_file(tmp_path):
    path = tmp_path / "a.md"
    path.write_text("one")
    first = state(path.stat())
    assert first == state(path.stat())
    path.write_text("two")  # the same size: the times (and the change time) tell
    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    assert state(path.stat()) != first
    renamed = tmp_path / "b.md"
    shutil.copy2(path, renamed)  # the same size and times, another inode
    assert state(renamed.stat()).split(":")[0] == state(path.stat()).split(":")[0]
    assert state(renamed.stat()) != state(path.stat())


def test_a_file_changed_lately_is_recent(tmp_path):
    path = tmp_path / "a.md"
    path.write_text("x")
    assert is_recent(path.stat(), time.time_ns() - 3_000_000_000)
    os.utime(path, ns=(10**9, 10**9))  # (the change time still says now)
    assert is_recent(path.stat(), time.time_ns() - 3_000_000_000)
    assert not is_recent(path.stat(), time.time_ns() + 10**9)


def test_a_copy_state_tells_a_copy_is_up_to_date(tmp_path):
    source, copy = tmp_path / "map.svg", tmp_path / "copy.svg"
    assert copy_state(source) is None and copy_state(str(source)) is None
    source.write_bytes(b"<svg/>")
    state = copy_state(source)
    assert state == (6, source.stat().st_mtime_ns) and copy_state(str(source)) == state
    shutil.copy2(source, copy)
    assert copy_state(copy) == state
    source.write_bytes(b"<svg></svg>")
    assert copy_state(source) != state
    copy.write_bytes(b"<svg>")  # the same size, written later
    os.utime(copy, ns=(state[1] + 10**9, state[1] + 10**9))
    assert copy_state(copy) != state


def test_markdown_active_and_xml_files_are_known_by_their_names_in_any_case():
    assert all(map(is_markdown, ["a.md", "a.MD", "a.Markdown", "a.mdown", "a.mkd", "a.mkdn", "a.mkdown"]))
    assert not any(map(is_markdown, ["a.mdx", "a.md.txt", "md", "a.txt"]))
    assert all(map(is_active, ["a.html", "a.HTM", "a.xhtml", "a.js", "a.mjs", "a.xslt", "a.svgz", "a.shtml"]))
    assert not any(map(is_active, ["a.svg", "a.css", "a.json", "a.png", "a.html.txt"]))
    assert all(map(is_xml, ["a.svg", "a.SVG", "a.xml", "a.rss", "a.atom", "a.kml"])) and not is_xml("a.svgz")


@pytest.mark.parametrize(("data", "found"), [
    (b"---\ntitle: Draft\n---\nBody", True), (b"\xef\xbb\xbf---\r\ntitle: T\r\n...\r\n", True),
    (b"---\n---\n", True), (b"---\nno end", False), (b"-----BEGIN KEY-----\n---\n", False),
    (b"\x89PNG\r\n---\n---\n", False), (b"", False),
])
def test_front_matter_is_a_dashed_line_and_a_closing_one(tmp_path, data, found):
    (tmp_path / "f").write_bytes(data)
    assert has_front_matter(str(tmp_path / "f")) is found
    assert has_front_matter(str(tmp_path / "missing")) is False


def test_a_link_is_followed_only_to_a_file_of_its_folder_that_is_not_hidden(tmp_path):
    folder = tmp_path / "content"
    (folder / ".git").mkdir(parents=True)
    (folder / "real.png").write_bytes(b"x")
    for name, target in {"alias.png": "real.png", "out": "../pyproject.toml", "git": ".git/config",
                         "far": "/etc/hostname", "dangling": "nowhere.png"}.items():
        os.symlink(target, folder / name)
    top = os.path.realpath(folder)
    assert [link_problem(str(folder / name), top) for name in ("alias.png", "out", "git", "far", "dangling")] == [
        "", "leads outside", "leads to a hidden file in", "leads outside", ""]
