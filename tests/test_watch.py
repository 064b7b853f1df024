"""Noticing saves: inotify on Linux and polling elsewhere report the same changed paths."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import IO

import pytest

from broadsheet.live.watch import Inotify, Poller

KINDS = [Poller] + ([Inotify] if sys.platform.startswith("linux") else [])


def collect(watcher, seconds: float = 0.3) -> set[str]:
    """Everything the watcher reports over a short while (a save may arrive in several parts)."""
    found: set[str] = set()
    for _ in range(3):
        found |= watcher.changes(seconds / 3)
    return found


def save(path: Path, text: str) -> None:
    """Save as an editor does: a hidden temp file renamed over the file, so no build reads it half-written."""
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text)
    os.replace(temp, path)


def read_lines(stream: IO[str], into: list[str]) -> threading.Thread:
    """A thread that appends each line of the stream to `into` as it comes, until the stream ends."""
    thread = threading.Thread(target=lambda: into.extend(stream), daemon=True)
    thread.start()
    return thread


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "content/articles/news").mkdir(parents=True)
    (tmp_path / "content/articles/news/a.md").write_text("one")
    (tmp_path / "layouts").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.broadsheet]\n")
    (tmp_path / "notes.txt").write_text("not watched")
    return tmp_path


@pytest.mark.parametrize("kind", KINDS)
def test_saves_renames_new_folders_and_deletions_are_reported(kind, project):
    watcher = kind([project / "pyproject.toml", project / "content", project / "layouts"])
    try:
        assert collect(watcher) == set()
        story = project / "content/articles/news/a.md"
        story.write_text("one, and two")
        assert str(story.resolve()) in {str(Path(p).resolve()) for p in collect(watcher)}
        # an editor's save: write a hidden temp file, then rename it over the story
        temp = story.with_name(".a.md.tmp")
        temp.write_text("three")
        os.replace(temp, story)
        assert {Path(p).name for p in collect(watcher)} == {"a.md"}
        # a new section folder with a story in it, then a deletion
        (project / "content/articles/sport").mkdir()
        (project / "content/articles/sport/b.md").write_text("new")
        assert "b.md" in {Path(p).name for p in collect(watcher)}
        (project / "content/articles/sport/b.md").write_text("newer")  # the new folder is watched too
        assert "b.md" in {Path(p).name for p in collect(watcher)}
        story.unlink()
        assert "a.md" in {Path(p).name for p in collect(watcher)}
        # the configuration counts; other files beside it and editor leftovers do not
        (project / "notes.txt").write_text("still not watched")
        (project / "layouts/base.html.swp").write_text("vim")
        (project / "layouts/#draft#").write_text("emacs")
        assert collect(watcher) == set()
        (project / "pyproject.toml").write_text("[tool.broadsheet]\ntitle = 'x'\n")
        assert {Path(p).name for p in collect(watcher)} == {"pyproject.toml"}
    finally:
        watcher.close()


def test_the_watch_command_rebuilds_on_each_save_says_a_problem_once_and_stops_cleanly(make_site):
    import signal
    import subprocess

    from .conftest import PROJECT, article

    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01", body="First words.\n\nMore.")})
    process = subprocess.Popen([sys.executable, str(PROJECT / "build.py"), "watch", "--config",
                                str(root / "pyproject.toml")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    lines: list[str] = []
    errors: list[str] = []
    readers = [read_lines(process.stdout, lines), read_lines(process.stderr, errors)]
    page = root / "site/2024/05/alpha/index.html"
    story = root / "content/articles/news/a.md"

    def built() -> int:
        return sum(line.startswith("Built ") for line in lines)

    def said(text: str) -> int:
        return sum(text in line for line in errors)

    def wait_for(check, what: str) -> None:
        deadline = time.monotonic() + 30
        while not check():
            if time.monotonic() > deadline:
                process.kill()
                raise AssertionError(f"never saw {what}: {lines} {errors}")
            time.sleep(0.05)

    # A rebuild writes the pages, then keeps what it learnt, then says so: each step waits for the line it
    # is about, since a Ctrl-C that comes before the line stops the rebuild before it is said.
    try:
        wait_for(lambda: any(line.startswith("Watching") for line in lines), "the watch start")
        save(story, story.read_text() + "\nA later paragraph.\n")
        wait_for(lambda: built() >= 2 and "A later paragraph." in page.read_text(), "the edit on the page")
        good = story.read_text()
        save(story, "---\ntitle: [unclosed\n---\nBody.\n")
        wait_for(lambda: said("Build failed") >= 1, "the problem said")
        save(story, "---\ntitle: [still unclosed\n---\nBody.\n")
        time.sleep(1.0)  # a pause, not a wait: the same problem again is said by no line (else this save and
        # the fix may come as one burst, and the test passes without a second failed build)
        assert "A later paragraph." in page.read_text()  # the broken saves changed nothing
        save(story, good.replace("A later paragraph.", "A fixed paragraph."))
        wait_for(lambda: said("Fixed: the site builds again.") and built() >= 3
                 and "A fixed paragraph." in page.read_text(), "the fix on the page")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
        for reader in readers:
            reader.join(timeout=20)
    err = "".join(errors)
    assert process.returncode == 0 and lines[-1] == "Stopped.\n"
    assert "Traceback" not in err
    assert err.count("Build failed") == 1 and "content/articles/news/a.md:3:1: error: front matter" in err
    assert err.count("a.md:3:1") == 1 and err.count("Fixed: the site builds again.") == 1  # said once, then fixed
    assert built() == 3  # the first build, the edit, the fix


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")
def test_a_rebuild_that_gives_way_to_a_newer_save_hands_its_changes_to_the_next(project):
    from broadsheet.live.watch import follow
    sources = [project / "pyproject.toml", project / "content", project / "layouts"]
    watcher = Inotify(sources)
    seen: list[set[str]] = []
    stopping = threading.Event()

    def on_change(paths: list[Path]) -> bool:
        seen.append({p.name for p in paths})
        if len(seen) > 1:
            stopping.set()
            return True
        assert not watcher.pending()
        (project / "content/articles/news/b.md").write_text("a newer save, while this rebuild runs")
        for _ in range(100):
            if watcher.pending():
                return False  # (as a build does once it sees that): these changes go with the next
            time.sleep(0.02)
        raise AssertionError("the newer save was not seen as pending")

    thread = threading.Thread(target=follow, args=(sources, on_change, stopping, watcher), daemon=True)
    thread.start()
    time.sleep(0.3)
    save(project / "content/articles/news/a.md", "one, and more")  # one event: no part of it comes late
    thread.join(timeout=10)
    assert seen == [{"a.md"}, {"a.md", "b.md"}]
