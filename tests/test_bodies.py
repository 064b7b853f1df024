"""bodies: article bodies kept by key, in memory or in the build cache, and what a build keeps of them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from broadsheet.bodies import Bodies
from broadsheet.config import Config
from broadsheet.incremental.cache import Cache

CONFIG = Config(title="The Test Gazette", base_url="https://example.org/", timezone="Europe/London")
TRAM = ("<p>The first trams ran at dawn.</p>\n", "first trams ran dawn")
BUDGET = ("<p>The council set its budget.</p>\n", "council set budget")


@contextlib.contextmanager
def build(path: Path) -> Iterator[Bodies]:
    """The bodies of one build over the cache file at path, saved when it ends."""
    cache = Cache(path, CONFIG)
    try:
        yield Bodies(cache)
        cache.save()
    finally:
        cache.close()


@pytest.fixture(params=["memory", "cache"])
def store(request, tmp_path) -> Iterator[Bodies]:
    """A store held in memory, then one over a build cache: both must behave the same."""
    if request.param == "memory":
        yield Bodies()
    else:
        cache = Cache(tmp_path / ".site.cache", CONFIG)
        yield Bodies(cache)
        cache.close()


def test_a_body_is_read_back_by_its_key(store):
    tram, budget = store.add(*TRAM), store.add(*BUDGET)
    assert store.html(tram) == TRAM[0] and store.html(budget) == BUDGET[0]
    assert store.all_terms([tram]) == [TRAM[1]]


def test_the_same_body_gets_the_same_key_in_any_store(store):
    key = store.add(*TRAM)
    assert store.add(*TRAM) == key == Bodies().add(*TRAM)
    assert store.add(TRAM[0], "other words") != key  # the words are part of the body
    assert store.add("<p>Other text.</p>\n", TRAM[1]) != key


def test_two_bodies_with_the_same_html_keep_their_own_words(store):
    first, second = store.add("<p>Same.</p>", "first words"), store.add("<p>Same.</p>", "second words")
    assert store.all_terms([second, first]) == ["second words", "first words"]


def test_the_words_of_many_bodies_come_in_the_order_asked(store):
    tram, budget = store.add(*TRAM), store.add(*BUDGET)
    assert store.all_terms([budget, tram, budget]) == [BUDGET[1], TRAM[1], BUDGET[1]]
    assert store.all_terms([]) == []


def test_a_missing_body_is_an_error_that_says_to_build_afresh(store):
    tram = store.add(*TRAM)
    with pytest.raises(LookupError, match="--fresh"):
        store.html("0" * 40)
    with pytest.raises(LookupError, match="--fresh"):
        store.all_terms([tram, "0" * 40])


def test_bodies_a_worker_collected_are_taken_by_the_build(store):
    worker = Bodies()  # a worker reads its sources without a cache and hands over what it held
    tram, budget = worker.add(*TRAM), worker.add(*BUDGET)
    store.take(worker.held)
    assert store.html(tram) == TRAM[0] and store.all_terms([tram, budget]) == [TRAM[1], BUDGET[1]]


def test_keeping_a_body_in_memory_changes_nothing():
    store = Bodies()
    tram = store.add(*TRAM)
    store.keep(tram)
    store.keep("0" * 40)  # (a key it never had is no error)
    assert store.html(tram) == TRAM[0] and store.all_terms([tram]) == [TRAM[1]]


def test_bodies_in_the_cache_outlive_the_build_that_added_them(tmp_path):
    path = tmp_path / ".site.cache"
    with build(path) as bodies:
        tram = bodies.add(*TRAM)
        worker = Bodies()
        budget = worker.add(*BUDGET)
        bodies.take(worker.held)
    with build(path) as bodies:
        assert bodies.html(tram) == TRAM[0] and bodies.all_terms([tram, budget]) == [TRAM[1], BUDGET[1]]


def test_the_next_build_keeps_the_bodies_it_read_or_kept_and_drops_the_rest(tmp_path):
    path = tmp_path / ".site.cache"
    with build(path) as bodies:
        read, kept, dropped = bodies.add(*TRAM), bodies.add(*BUDGET), bodies.add("<p>Gone.</p>", "gone")
    with build(path) as bodies:
        bodies.html(read)
        bodies.all_terms([read])
        bodies.keep(kept)  # still on a page, though this build had no need to read it
    with build(path) as bodies:
        assert bodies.html(read) == TRAM[0] and bodies.all_terms([read]) == [TRAM[1]]
        assert bodies.html(kept) == BUDGET[0] and bodies.all_terms([kept]) == [BUDGET[1]]
        with pytest.raises(LookupError):
            bodies.html(dropped)
        with pytest.raises(LookupError):
            bodies.all_terms([dropped])
