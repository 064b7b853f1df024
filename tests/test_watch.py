"""Noticing saves: inotify on Linux and polling elsewhere report the same changed paths."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from broadsheet.live.watch import Inotify, Poller

KINDS = [Poller] + ([Inotify] if sys.platform.startswith("linux") else [])


def collect(watcher, seconds: float = 0.3) -> set[str]:
    """Everything the watcher reports over a short while (a save may arrive in several parts)."""
    found: set[str] = set()
    for _ in range(3):
        found |= watcher.changes(seconds / 3)
    return found


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
    import threading
    import time

    from .conftest import PROJECT, article

    root = make_site({"content/articles/news/a.md": article("Alpha", "2024-05-01", body="First words.\n\nMore.")})
    process = subprocess.Popen([sys.executable, str(PROJECT / "build.py"), "watch", "--config",
                                str(root / "pyproject.toml")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()
    page = root / "site/2024/05/alpha/index.html"
    story = root / "content/articles/news/a.md"

    def wait_for(check, what: str) -> None:
        for _ in range(200):
            if check():
                return
            time.sleep(0.05)
        process.kill()
        raise AssertionError(f"never saw {what}: {lines}")

    try:
        wait_for(lambda: any(line.startswith("Watching") for line in lines), "the watch start")
        story.write_text(story.read_text() + "\nA later paragraph.\n")
        wait_for(lambda: page.is_file() and "A later paragraph." in page.read_text(), "the edit on the page")
        good = story.read_text()
        story.write_text("---\ntitle: [unclosed\n---\nBody.\n")
        time.sleep(1.0)
        story.write_text("---\ntitle: [still unclosed\n---\nBody.\n")
        time.sleep(1.0)
        assert "A later paragraph." in page.read_text()  # the broken saves changed nothing
        story.write_text(good.replace("A later paragraph.", "A fixed paragraph."))
        wait_for(lambda: "A fixed paragraph." in page.read_text(), "the fix on the page")
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "Traceback" not in err
    assert err.count("Build failed") == 1 and "content/articles/news/a.md:3:1: error: front matter" in err
    assert err.count("a.md:3:1") == 1 and "Fixed: the site builds again." in err  # said once, then fixed
    assert sum(line.startswith("Built ") for line in lines) >= 3  # the first build, the edit, the fix


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")
def test_a_rebuild_that_gives_way_to_a_newer_save_hands_its_changes_to_the_next(project):
    import threading
    import time

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
    (project / "content/articles/news/a.md").write_text("one, and more")
    thread.join(timeout=10)
    assert seen == [{"a.md"}, {"a.md", "b.md"}]
