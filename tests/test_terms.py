"""terms: the search words of a text, folded as the search page folds a query, without stop words."""

from __future__ import annotations

import pytest

from broadsheet.terms import STOPWORDS, words


def test_words_are_folded_and_stopwords_dropped():
    assert words("The Mayor’s <b>TRAMS</b>, and 3 trams at 2026 Café! 42 of it, 7 ox") == {
        "mayors", "trams", "2026", "café", "42"}


def test_markup_is_not_a_word_but_escaped_markup_is_text():
    assert words('<p class="lead">Caf&eacute; &amp; <a href="/budget/">bar</a></p>') == {"café", "bar"}
    assert words("&lt;script&gt;alert&lt;/script&gt;") == {"script", "alert"}
    assert words("<p>trams</p><p>buses</p>") == {"trams", "buses"}  # two paragraphs are two words


@pytest.mark.parametrize(("text", "found"), [
    ("ＴＲＡＭ", {"tram"}), ("ﬁnal", {"final"}),  # compatibility forms (full-width, ligatures) fold
    ("Straße STRASSE strasse", {"strasse"}),  # case folds fully, not just to lower case
    ("mayor's mayor’s", {"mayors"}), ("U.S.A.", {"usa"}), ("18,000", {"18000"}),  # joined inside a word
    ("tram-line tram/line", {"tram", "line"}),  # split between words
], ids=["full-width", "ligature", "casefold", "apostrophes", "dots", "thousands", "separators"])
def test_words_are_folded_and_joined_as_the_search_page_does(text, found):
    assert words(text) == found


def test_every_stop_word_is_dropped_in_any_case():
    assert words(" ".join(STOPWORDS)) == set()
    assert words(" ".join(STOPWORDS).upper()) == set()
    assert words("The council said it would") == {"council"}


@pytest.mark.parametrize(("text", "found"), [
    ("a ox é7", set()), ("7", set()), ("42", {"42"}), ("٤٢", {"٤٢"}), ("ox7 tram 2026", {"ox7", "tram", "2026"}),
], ids=["short-words", "one-digit", "two-digits", "two-arabic-digits", "three-or-more"])
def test_one_and_two_letter_words_are_left_out_but_not_two_digit_numbers(text, found):
    assert words(text) == found


def test_words_of_any_script_are_kept():
    assert words("مكتبة المدينة تضيف ساعات") == {"مكتبة", "المدينة", "تضيف", "ساعات"}
    assert words("Ελληνικά КИЇВ") == {"ελληνικά", "київ"}


def test_nothing_has_no_words():
    assert words("") == set() and words("<p></p>") == set() and words("  &nbsp; ") == set()


def test_a_less_than_sign_in_a_headline_hides_no_words():
    assert words("Inflation < 3% as growth beats forecast > 2%") == {"inflation", "growth", "beats", "forecast"}
