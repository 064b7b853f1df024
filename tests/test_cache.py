"""incremental.cache: entries kept between builds in one SQLite file, page signatures, and file states."""

from __future__ import annotations

import contextlib
import pickle
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from broadsheet.config import Config
from broadsheet.errors import display_path
from broadsheet.incremental.cache import Cache, CacheDamaged, forget, source_key
from broadsheet.records import Image

from .conftest import article, snapshot, write_files

CONFIG = Config(title="The Test Gazette", base_url="https://example.org/", timezone="Europe/London")


@contextlib.contextmanager
def opened(path: Path, config: Config = CONFIG) -> Iterator[Cache]:
    """A Cache on path for one build, closed after it."""
    cache = Cache(path, config)
    try:
        yield cache
    finally:
        cache.close()


def stored(path: Path) -> int:
    """How many entries the cache file holds, read from another connection."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT count(*) FROM entries").fetchone()[0]


def test_what_is_put_is_read_back_at_once_and_by_the_next_build(tmp_path):
    path = tmp_path / ".site.cache"
    values = {"record:a": Image("/a.png", "A tram", "", "", 40, 30), "html:a": "<p>Tram</p>", "n": 3,
              "nested": {"k": [1, (2, 3)]}}
    with opened(path) as cache:
        for key, value in values.items():
            cache.put(key, value)
        assert cache.get("html:a") == "<p>Tram</p>" and cache.get("missing") is None
        cache.save()
    with opened(path) as cache:
        assert {key: cache.get(key) for key in values} == values
        assert cache.get_many([*values, "missing"]) == values


def test_a_key_put_again_holds_the_new_value(tmp_path):
    path = tmp_path / ".site.cache"
    with opened(path) as cache:
        cache.put("k", "old")
        cache.save()
    with opened(path) as cache:
        cache.put("k", "new")
        assert cache.get("k") == "new"
        cache.save()
    with opened(path) as cache:
        assert cache.get("k") == "new"


def test_get_many_reads_stored_and_new_entries_in_any_number(tmp_path):
    path = tmp_path / ".site.cache"
    with opened(path) as cache:
        for n in range(1200):  # more than a batch written and more than a query's worth of keys
            cache.put(f"k{n}", n)
        cache.save()
    with opened(path) as cache:
        cache.put("fresh", "not yet written")
        found = cache.get_many([f"k{n}" for n in range(0, 1300, 2)] + ["fresh"])
    assert found == {f"k{n}": n for n in range(0, 1200, 2)} | {"fresh": "not yet written"}


def test_saving_drops_the_entries_the_build_did_not_use(tmp_path):
    path = tmp_path / ".site.cache"
    with opened(path) as cache:
        for key in ("read", "kept", "unused", "put"):
            cache.put(key, key.upper())
        cache.save()
    with opened(path) as cache:
        assert cache.get("read") == "READ"
        cache.keep("kept")  # still needed, though this build did not read it
        cache.put("put", "PUT again")
        cache.save()
    with opened(path) as cache:
        assert cache.get_many(["read", "kept", "unused", "put"]) == {"read": "READ", "kept": "KEPT", "put": "PUT again"}
        cache.save()  # read all three: all three stay
    with opened(path) as cache:
        cache.save()  # read nothing
    assert stored(path) == 0


def test_what_is_put_while_held_back_stays_off_the_cache_file_until_then(tmp_path):
    # (while the render workers read bodies from the file, the build's process writes nothing into it)
    path = tmp_path / ".site.cache"
    with opened(path) as cache:
        with cache.held_back():
            for n in range(600):  # more than a batch: unheld, these would have gone to the file on the way
                cache.put(f"k{n}", n)
            cache.db.commit()
            assert stored(path) == 0 and cache.get_many(["k0", "k599"]) == {"k0": 0, "k599": 599}
        cache.commit()
        assert stored(path) == 600


@pytest.mark.parametrize("damage", [b"not a database, just words " * 20, b"SQLite format 3\0" + b"\xff" * 200])
def test_a_damaged_cache_file_is_thrown_away(tmp_path, damage):
    path = tmp_path / ".site.cache"
    path.write_bytes(damage)
    with opened(path) as cache:
        assert cache.get("k") is None and cache.signatures() == {}
        cache.put("k", "value")
        cache.save()
    with opened(path) as cache:
        assert cache.get("k") == "value"


def test_an_entry_that_cannot_be_read_is_left_out(tmp_path):
    path = tmp_path / ".site.cache"
    with opened(path) as cache:
        cache.put("good", 1)
        cache.put("bad", 2)
        cache.save()
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE entries SET value = ? WHERE key = 'bad'", (b"\x80\x05broken",))
    with opened(path) as cache:
        assert cache.get_many(["good", "bad"]) == {"good": 1} and cache.get("bad") is None


def test_signatures_are_saved_replaced_and_read_by_the_next_build(tmp_path):
    path = tmp_path / ".site.cache"
    with opened(path) as cache:
        assert cache.signatures() == {}
        cache.save_signatures({"index.html": "s1", "feed.xml": "s2", "news/index.html": "s3"})
    with opened(path) as cache:
        found = cache.signatures()
        assert found == {"index.html": "s1", "feed.xml": "s2", "news/index.html": "s3"}
        found["index.html"] = "changed by the caller"
        assert cache.signatures()["index.html"] == "s1"
        cache.save_signatures({"index.html": "s1", "feed.xml": "s4", "about/index.html": "s5"})
    with opened(path) as cache:
        assert cache.signatures() == {"index.html": "s1", "feed.xml": "s4", "about/index.html": "s5"}


def test_forgotten_signatures_are_blank_but_still_listed(tmp_path):
    path = tmp_path / ".site.cache"
    with opened(path) as cache:
        cache.signatures()
        cache.save_signatures({"index.html": "s1", "feed.xml": "s2", "news/index.html": "s3"})
    with opened(path) as cache:
        cache.signatures()
        cache.forget_signatures({"feed.xml", "never/made.html"})
    with opened(path) as cache:
        assert cache.signatures() == {"index.html": "s1", "feed.xml": "", "news/index.html": "s3"}
        cache.forget_signatures(None)
    with opened(path) as cache:
        assert cache.signatures() == {"index.html": "", "feed.xml": "", "news/index.html": ""}
        cache.save_signatures({"index.html": "s6"})  # what the build after them made
    with opened(path) as cache:
        assert cache.signatures() == {"index.html": "s6"}


def test_saving_keeps_the_state_of_only_the_sources_the_build_saw(tmp_path):
    path = tmp_path / ".site.cache"
    with opened(path) as cache:
        assert cache.files() == {}
        cache.saw_file("content/a.md", "10 1 2 3", "key-a")
        cache.saw_file("content/b.md", "20 1 2 4", "key-b")
        cache.save()
    with opened(path) as cache:
        assert cache.files() == {"content/a.md": ("10 1 2 3", "key-a"), "content/b.md": ("20 1 2 4", "key-b")}
        cache.saw_file("content/a.md", "11 5 6 3", "key-a2")
        cache.save()
    with opened(path) as cache:
        assert cache.files() == {"content/a.md": ("11 5 6 3", "key-a2")}


def test_the_fingerprint_follows_every_setting_and_the_reading_only_those_sources_are_read_with(tmp_path):
    def prints(config: Config) -> tuple[str, str]:
        with opened(tmp_path / ".site.cache", config) as cache:
            return cache.fingerprint, cache.reading

    fingerprint, reading = prints(CONFIG)
    assert prints(CONFIG) == (fingerprint, reading)
    retitled = prints(replace(CONFIG, title="The New Gazette"))
    assert retitled[0] != fingerprint and retitled[1] == reading
    for change in ({"timezone": "Asia/Tokyo"}, {"permalink": "/{slug}/"}, {"raw_html": "escape"}):
        other = prints(replace(CONFIG, **change))
        assert other[0] != fingerprint and other[1] != reading, change


def test_a_source_key_changes_with_its_settings_name_or_bytes():
    key = source_key("print", "content/a.md", b"---\ntitle: x\n---\n")
    assert key == source_key("print", "content/a.md", b"---\ntitle: x\n---\n") and len(key) == 64
    others = {source_key("other", "content/a.md", b"---\ntitle: x\n---\n"),
              source_key("print", "content/b.md", b"---\ntitle: x\n---\n"),
              source_key("print", "content/a.md", b"---\ntitle: y\n---\n"),
              source_key("print", "content/a.m", b"d---\ntitle: x\n---\n"),  # the same bytes, split elsewhere
              source_key("print", "", b"content/a.md---\ntitle: x\n---\n")}
    assert len(others) == 5 and key not in others



def test_forget_deletes_the_cache(tmp_path):
    path = tmp_path / ".site.cache"
    forget(path)  # none yet: nothing to do
    with opened(path) as cache:
        cache.put("k", 1)
        cache.save_signatures({"index.html": "s1"})
        cache.save()
    forget(path)
    assert not path.exists()
    with opened(path) as cache:
        assert cache.get("k") is None and cache.signatures() == {}


def smash(path: Path) -> None:
    """Damage a cache file inside, as a failing disk or a half-copied file does: its header stays good, so
    SQLite opens it and finds the damage only when it reads or writes the pages."""
    data = bytearray(path.read_bytes())
    for start in range(4096, len(data), 8192):
        data[start:start + 4096] = bytes(range(256)) * 16
    path.write_bytes(bytes(data[:len(data)]))


def test_a_cache_file_damaged_inside_is_deleted_and_said_to_be(tmp_path):
    path = tmp_path / ".site.cache"
    with opened(path) as cache:
        for n in range(2000):
            cache.put(f"html:{n}", f"<p>Story {n}</p>" * 20)
        cache.save()
    smash(path)
    with opened(path) as cache, pytest.raises(CacheDamaged) as raised:
        cache.get_many([f"html:{n}" for n in range(2000)])  # (a page must never go out without its text)
    assert not path.exists()
    assert [str(problem) for problem in raised.value.problems] == [
        f"{path}: error: cannot use the build cache: {raised.value.reason}; it has been deleted (build again to "
        "make it afresh; if the disk is full, free some space first)"]
    assert pickle.loads(pickle.dumps(raised.value)).problems == raised.value.problems  # (raised in a worker)
    with opened(path) as cache:
        assert cache.get("html:1") is None


STORIES = {f"content/articles/news/story-{n}.md": article(f"Story number {n}", f"2024-03-{n + 1:02d} 09:00",
                                                          f"Words of story {n}. " * 60) for n in range(24)}


def test_a_build_over_a_damaged_cache_deletes_it_and_builds_afresh(make_site, cli, tmp_path):
    root = make_site(STORIES)
    assert cli("build", "--config", root / "pyproject.toml").code == 0
    smash(root / ".site.cache")
    write_files(root, {"content/articles/news/story-3.md": article("Story three, corrected", "2024-03-04 09:00")})
    run = cli("build", "--config", root / "pyproject.toml")
    assert run.code == 0 and run.lines == [
        f"{display_path(root / '.site.cache')}: warning: the build cache could not be used (database disk image is "
        "malformed); it was deleted and the site built afresh"]
    assert "internal error" not in run.err and "Traceback" not in run.err
    assert cli("build", "--config", root / "pyproject.toml", "--out", tmp_path / "cold", "--fresh").code == 0
    assert snapshot(root / "site") == snapshot(tmp_path / "cold")
    assert cli("build", "--config", root / "pyproject.toml").lines == []  # the new cache file serves again


def test_a_cache_the_disk_cannot_take_fails_the_build_in_one_line_and_leaves_the_site(make_site, cli):
    resource = pytest.importorskip("resource")  # (not on Windows)
    root = make_site(STORIES)
    assert cli("build", "--config", root / "pyproject.toml").code == 0
    site = snapshot(root / "site")
    assert (root / ".site.cache").stat().st_size > 300_000 > 2 * max(map(len, site.values()))
    write_files(root, {"content/articles/news/story-3.md": article("Story three, corrected", "2024-03-04 09:00")})

    def small_disk() -> None:  # writes past 200 KB fail, as on a full disk: every page fits, the cache does not
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    run = subprocess.run([sys.executable, "-m", "broadsheet", "build", "--config", "pyproject.toml"], cwd=root,
                         preexec_fn=small_disk, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and run.stderr.splitlines() == [
        ".site.cache: error: cannot use the build cache: disk I/O error; it has been deleted (build again to make "
        "it afresh; if the disk is full, free some space first)",
        "Build failed: 1 error; the output folder was not changed."]
    assert snapshot(root / "site") == site and not (root / ".site.cache").exists()
    again = cli("build", "--config", root / "pyproject.toml")
    assert again.code == 0 and again.lines == [] and "Story three, corrected" in (
        root / "site/2024/03/story-three-corrected/index.html").read_text()
