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
