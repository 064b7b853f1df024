"""Slugs follow the importer-samples rule: readable, ASCII for Latin text, Unicode kept elsewhere."""

from __future__ import annotations

import re

import pytest

from broadsheet.slugs import MAX_SEGMENT_BYTES, slug_problem, slugify

from .conftest import SHARED


@pytest.mark.parametrize(("title", "slug"), [
    ("Record field of 18,000 runners for the city marathon", "record-field-of-18000-runners-for-the-city-marathon"),
    ("The year's best café in Zürich!", "the-years-best-cafe-in-zurich"),
    ("Straße über Ørsted", "strasse-uber-orsted"),
    ("  Tram -- line / extension: phase 2  ", "tram-line-extension-phase-2"),
    ("مكتبة المدينة تضيف ساعات", "مكتبة-المدينة-تضيف-ساعات"),
    ("市议会 通过 预算", "市议会-通过-预算"),
    ("snake_case_title", "snake-case-title"),
])
def test_slugify(title, slug):
    assert slugify(title) == slug


def test_slugs_of_the_shared_samples():
    folder = SHARED / "importer-samples"
    samples = sorted(p for p in folder.glob("*.md") if p.name != "README.md") if folder.is_dir() else []
    if not samples:
        pytest.skip("../shared/importer-samples is not beside this checkout")
    for sample in samples:
        text = sample.read_text(encoding="utf-8")
        title = re.search(r"^title: (.+)$", text, re.M)[1].strip("'\"")
        assert slugify(title) == re.search(r"^slug: (.+)$", text, re.M)[1]


def test_long_titles_are_cut_at_a_word():
    slug = slugify("word " * 100)
    assert len(slug.encode()) <= MAX_SEGMENT_BYTES and slug.endswith("word") and not slug.endswith("-")


@pytest.mark.parametrize("bad", ["", "..", "a/b", "a\\b", ".hidden", "C:x", "con", "nul.txt", "a:b", "trail."])
def test_slugs_that_cannot_be_one_path_segment(bad):
    assert slug_problem(bad)


def test_ordinary_slugs_pass():
    assert slug_problem("tram-line-opens") == "" and slug_problem("مكتبة-المدينة") == ""


@pytest.mark.parametrize(("bad", "why"), [
    ("%2e%2e", "'%' does not belong in a web address"),  # a browser reads it as '..'
    ("a#b", "'#' does not belong in a web address"),  # the rest would be a fragment
    ("100%", "'%' does not belong in a web address"),  # a broken escape
    ("a\x7fb", "'\\x7f' does not belong in a web address"),  # DEL
    ("my story", "' ' does not belong in a web address"),
    ("conin$", "a reserved or invalid file name on Windows"),
    ("CONOUT$", "a reserved or invalid file name on Windows"),
    ("com¹", "a reserved or invalid file name on Windows"),  # Windows reads superscript digits as digits
    ("lpt².html", "a reserved or invalid file name on Windows"),
], ids=["percent-dots", "hash", "percent", "del", "space", "conin", "conout", "superscript-com", "superscript-lpt"])
def test_slugs_that_make_broken_or_non_portable_addresses_are_refused(bad, why):
    assert why in slug_problem(bad)


def test_a_refused_slug_is_told_its_clean_form_and_clean_forms_pass():
    assert slug_problem("a#b").endswith("use letters, digits, hyphens, underscores and dots such as 'a-b'")
    for title in ("%2e%2e", "a#b", "100%", "a\x7fb", "com¹"):
        cleaned = slugify(title)
        assert cleaned and (slug_problem(cleaned) == "" or "reserved" in slug_problem(cleaned)), title
    assert slug_problem("index.html") == "" and slug_problem("snake_case") == "" and slug_problem("Mixed-Case") == ""
