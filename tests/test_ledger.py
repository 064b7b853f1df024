"""The ledger: what a build was made from, as hashes, and when the output folder already holds what the same
inputs make."""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from broadsheet.config import Options, folders, load_config
from broadsheet.content import survey
from broadsheet.files import RECENT_NS
from broadsheet.incremental import ledger
from broadsheet.incremental.cache import Cache
from broadsheet.records import Article, Content
from broadsheet.write import MARKER

from .conftest import CONFIG, article, write_files

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=ZoneInfo("Europe/London"))
SOURCE = "content/articles/news/a.md"


def inputs_of(root: Path, options: Options | None = None) -> ledger.Inputs:
    """What a build of the project at root with these options reads, as the build hashes it."""
    options = options or Options()
    config = load_config(root / "pyproject.toml")
    where = folders(config, options)
    with contextlib.closing(Cache(root / "ledger-test.cache", config)) as cache:
        request = ledger.asked(cache, where, options)
    return ledger.inputs(request, where.layouts, survey(config, where, []).files)


def edit(path: Path, extra: str) -> None:
    """Append to a file (a new size: a new state, whatever the clock's resolution)."""
    path.write_text(path.read_text() + extra)


def test_the_digest_changes_with_each_thing_a_build_reads_and_only_then(make_site):
    root = make_site({SOURCE: article("Alpha")})
    first = inputs_of(root)
    assert inputs_of(root).digest == first.digest and str(root / SOURCE) in first.states
    seen = {first.digest}

    def changed(options: Options | None = None) -> ledger.Inputs:
        now = inputs_of(root, options)
        assert now.digest not in seen
        seen.add(now.digest)
        return now

    edit(root / SOURCE, "More words.\n")
    assert changed().settled == first.settled  # a source is a file state, not a setting or a layout
    edit(root / "layouts/base.html", "\n")
    layout = changed()
    assert layout.settled != first.settled and layout.settings == first.settings
    edit(root / "layouts/static/css/site.css", "\n")
    static = changed()
    assert static.settled == layout.settled  # copied as it is: a file's state, like a source's
    edit(root / "pyproject.toml", 'copyright = "Someone"\n')
    assert changed().settings != static.settings
    changed(Options(drafts=True))
    changed(Options(future=True))


def test_a_file_saved_in_the_last_seconds_is_also_known_by_its_bytes(tmp_path):
    path = tmp_path / "a.md"
    path.write_text("first")
    racy: dict[str, str] = {}
    recent = time.time_ns() - RECENT_NS
    state = ledger.noted_state(str(path), os.stat(path), recent, racy)
    assert racy == {str(path): ledger.bytes_hash(str(path))} and state
    old = os.stat_result(tuple(os.stat(path))[:7] + (1, 1, 1), {"st_mtime_ns": 10**9, "st_ctime_ns": 10**9})
    settled: dict[str, str] = {}
    assert ledger.noted_state(str(path), old, recent, settled) != state and settled == {}
    gone: dict[str, str] = {}
    assert ledger.noted_state(str(tmp_path / "gone.md"), None, recent, gone) == "-"
    assert gone == {str(tmp_path / "gone.md"): "unreadable"}


def test_a_second_save_with_the_same_state_is_seen_by_resaved(make_site):
    root = make_site({SOURCE: article("Alpha", body="Old words.")})
    found = inputs_of(root)
    path = str(root / SOURCE)
    assert path in found.racy and ledger.resaved(found.racy) == set()
    text = Path(path).read_text()
    Path(path).write_text(text.replace("Old words.", "New words."))  # the same size: within a tick, the same state
    assert ledger.resaved(found.racy) == {path}
    Path(path).write_text(text)
    assert ledger.resaved(found.racy) == set()
    Path(path).unlink()
    assert ledger.resaved(found.racy) == {path}


SUMMARY = "the last build's summary"  # (the ledger keeps whatever the pipeline gives it)


@contextlib.contextmanager
def noted(tmp_path: Path, entry: ledger.Entry, signatures: dict[str, str]):
    """A cache whose ledger holds entry, for an output folder holding the marker and every signed file."""
    root = tmp_path / "project"
    write_files(root, {"pyproject.toml": CONFIG})
    out = root / "site"
    write_files(out, {MARKER: "", **{path: "x" for path in signatures if not path.endswith("/")}})
    with contextlib.closing(Cache(root / ".site.cache", load_config(root / "pyproject.toml"))) as cache:
        cache.save_signatures(signatures)
        cache.save_ledger(entry)
        yield cache, out


def test_unchanged_gives_the_summary_only_while_inputs_clock_and_output_folder_agree(tmp_path):
    since, until = NOW.timestamp(), (NOW + timedelta(hours=1)).timestamp()
    entry = ledger.Entry("digest", since, until, SUMMARY, {})
    same = ledger.Inputs("digest", "settled", {}, {})
    with noted(tmp_path, entry, {"index.html": "s1", "news/index.html": "s2", "pages/": "s3"}) as (cache, out):
        assert ledger.unchanged(cache, same, NOW, out) == SUMMARY
        assert ledger.unchanged(cache, same, NOW + timedelta(minutes=59), out) == SUMMARY
        assert ledger.unchanged(cache, replace(same, digest="other"), NOW, out) is None
        assert ledger.unchanged(cache, same, NOW + timedelta(hours=1), out) is None  # something fell due
        assert ledger.unchanged(cache, same, NOW - timedelta(seconds=1), out) is None  # the clock went back
        (out / "news/index.html").unlink()
        assert ledger.unchanged(cache, same, NOW, out) is None
        (out / "news/index.html").write_text("x")
        (out / MARKER).unlink()
        assert ledger.unchanged(cache, same, NOW, out) is None
        (out / MARKER).write_text("")
        cache.save_ledger(replace(entry, until=None))  # nothing scheduled: good for as long as the inputs are
        assert ledger.unchanged(cache, same, NOW + timedelta(days=999), out) == SUMMARY
        cache.forget_signatures({"index.html"})  # a build began to write
        assert ledger.last_entry(cache) is None and ledger.unchanged(cache, same, NOW, out) is None
        cache.save_ledger({"digest": "digest"})  # not an entry (left by another version, say)
        assert ledger.last_entry(cache) is None and ledger.unchanged(cache, same, NOW, out) is None


def test_unchanged_refuses_a_quick_entry_unless_trusted_and_sees_a_racy_file_saved_again(tmp_path):
    source = tmp_path / "a.md"
    source.write_text("first")
    racy = {str(source): ledger.bytes_hash(str(source))}
    entry = ledger.Entry("digest", NOW.timestamp(), None, SUMMARY, racy, quick=True)
    same = ledger.Inputs("digest", "settled", {}, racy)
    with noted(tmp_path, entry, {"index.html": "s"}) as (cache, out):
        assert ledger.unchanged(cache, same, NOW, out) is None
        assert ledger.unchanged(cache, same, NOW, out, trust_quick=True) == SUMMARY
        cache.save_ledger(replace(entry, quick=False))
        assert ledger.unchanged(cache, same, NOW, out) == SUMMARY
        source.write_text("again")  # within the clock's tick, its state could read as before
        assert ledger.unchanged(cache, same, NOW, out, trust_quick=True) is None


def story(name: str, date: datetime, expires: datetime | None = None) -> Article:
    return Article(f"content/articles/news/{name}.md", f"articles/news/{name}.md", name, date, None, (), "", "news",
                   (), None, name, False, False, "", "", 0, "", expires, (), "")


def test_until_is_the_next_moment_an_article_falls_due_expires_or_stops_being_breaking_news():
    def until(*articles: Article) -> datetime | None:
        moment = ledger.until(Content(articles, (), (), ()), NOW)
        return None if moment is None else datetime.fromtimestamp(moment, NOW.tzinfo)

    old = story("old", NOW - timedelta(days=30))
    assert until() is None and until(old) is None
    yesterday = story("yesterday", NOW - timedelta(days=1))
    assert until(old, yesterday) == NOW + timedelta(days=1)  # out of the two-day window then
    due = story("due", NOW + timedelta(hours=3))
    assert until(old, yesterday, due) == NOW + timedelta(hours=3)
    ending = story("ending", NOW - timedelta(days=9), expires=NOW + timedelta(minutes=5))
    assert until(old, yesterday, due, ending) == NOW + timedelta(minutes=5)
    assert until(story("expired", NOW - timedelta(days=9), expires=NOW - timedelta(minutes=5))) is None
    assert until(story("now", NOW)) == NOW + timedelta(days=2)  # (a moment reached is not a next one)
