"""Noticing saves: inotify on Linux and polling elsewhere report the same changed paths."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from broadsheet.watch import Inotify, Poller

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
