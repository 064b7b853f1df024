"""records: what changes an article's face, its modified time and reading time, and records kept pickled."""

from __future__ import annotations

import pickle
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from broadsheet.records import Article, Correction, Image, Page, Profile, with_face

LONDON = ZoneInfo("Europe/London")
DATE = datetime(2024, 3, 14, 9, 30, tzinfo=LONDON)


def story(**changes) -> Article:
    """A small article record, with the given fields changed."""
    made = Article(source="content/articles/news/tram.md", path="articles/news/tram.md", title="Tram line opens",
                   date=DATE, updated=None, authors=("Ann Lee",), description="The first trams ran at dawn",
                   section="news", tags=("trams",), image=Image("/images/tram.svg", "A tram", "At the stop", "AB"),
                   slug="tram-line-opens", draft=False, featured=False, lang="", body="k" * 40, words=300,
                   summary="The first trams ran at dawn", expires=None, corrections=(), id="",
                   url="/2024/03/tram-line-opens/", digest="d1")
    return replace(made, **changes)


def test_with_face_sets_a_face_that_two_equal_articles_share():
    face = with_face(story()).face
    assert len(face) == 64 and face == with_face(story()).face
    assert with_face(with_face(story())).face == face  # its own face is not part of it


@pytest.mark.parametrize("changes", [
    {"body": "m" * 40}, {"words": 301}, {"words": 260}, {"digest": "d2"},
], ids=["body", "words", "words-same-minutes", "digest"])
def test_the_text_alone_leaves_the_face_as_it_was(changes):
    assert with_face(story(**changes)).face == with_face(story()).face


@pytest.mark.parametrize("changes", [
    {"title": "Tram line closes"}, {"date": DATE.replace(hour=10)}, {"updated": DATE.replace(day=15)},
    {"authors": ("Ann Lee", "Bo Chen")}, {"description": "Other words"}, {"section": "city"},
    {"tags": ("trams", "parks")}, {"image": Image("/images/tram.svg", "A tram", "At the stop", "CD")},
    {"image": None}, {"slug": "trams"}, {"draft": True}, {"featured": True}, {"lang": "ar"},
    {"summary": "Other words"}, {"expires": DATE.replace(year=2030)}, {"id": "urn:uuid:1"},
    {"corrections": (Correction(DATE.replace(day=20), "A fix."),)}, {"url": "/news/tram-line-opens/"},
    {"source": "content/articles/news/other.md"},
    {"words": 461},  # 3 minutes to read, not 2: the byline shows it
], ids=lambda changes: next(iter(changes)))
def test_what_a_card_or_byline_shows_changes_the_face(changes):
    assert with_face(story(**changes)).face != with_face(story()).face


def test_with_face_makes_a_new_record_and_changes_nothing_else():
    old = story()
    new = with_face(old)
    assert old.face == "" and new is not old
    assert replace(new, face="") == old


def test_modified_is_the_later_of_updated_and_the_newest_correction():
    early, middle, late = (DATE.replace(day=day) for day in (15, 16, 17))
    assert story().modified is None
    assert story(updated=middle).modified == middle
    fixes = (Correction(late, "Second fix."), Correction(early, "First fix."))
    assert story(corrections=fixes).modified == late
    assert story(updated=middle, corrections=fixes).modified == late
    assert story(updated=late, corrections=(Correction(early, "A fix."),)).modified == late


@pytest.mark.parametrize(("words", "minutes"), [(0, 1), (1, 1), (230, 1), (231, 2), (460, 2), (461, 3), (2300, 10)])
def test_reading_time_is_rounded_up_at_230_words_a_minute(words, minutes):
    assert story(words=words).reading_minutes == minutes


RECORDS = [
    story(),
    with_face(story(updated=DATE.replace(day=15), corrections=(Correction(DATE.replace(day=16), "A fix."),),
                    image=Image("/images/tram.png", "", "", "", 40, 30), expires=DATE.replace(year=2030))),
    Page("content/pages/about.md", "About us", "Who we are", "about", False, "en", "<p>We report.</p>", "/about/",
         "d3"),
    Profile("content/authors/ann-lee.md", "ann-lee", "Ann Lee", "Transport", "/images/ann.jpg", "<p>Ann.</p>", "d4"),
    Image("/images/tram.svg", "A tram", "At the stop", "AB", 40, 30),
    Correction(DATE, "A fix."),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda record: type(record).__name__)
def test_a_record_pickles_to_an_equal_record(record):
    copy = pickle.loads(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
    assert copy == record and type(copy) is type(record)


@pytest.mark.parametrize("record", RECORDS, ids=lambda record: type(record).__name__)
def test_a_record_is_pickled_as_its_constructors_arguments(record):
    made, arguments = record.__reduce__()
    assert made is type(record) and made(*arguments) == record


def test_a_pickled_article_carries_no_field_names_and_no_worked_out_values():
    article = story(updated=DATE.replace(day=15))
    assert article.modified == DATE.replace(day=15)  # worked out, and held by the record from now on
    data = pickle.dumps(article, protocol=pickle.HIGHEST_PROTOCOL)
    for name in (b"title", b"summary", b"corrections", b"modified"):
        assert name not in data
    copy = pickle.loads(data)
    assert "modified" not in vars(copy) and copy.modified == article.modified
