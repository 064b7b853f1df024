"""incremental.cache: entries kept between builds in one SQLite file, page signatures, and file states."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from broadsheet.config import Config
from broadsheet.incremental.cache import Cache, forget, source_key
from broadsheet.records import Image

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
