"""Reading plain-text copy: headline, standfirst, byline, date, caption, credit, paragraphs, furniture."""

from __future__ import annotations

from datetime import date

import pytest

from broadsheet.plaintext import NotAnArticle, parse, parse_date

STORY = "First paragraph of the story.\n\nSecond paragraph, with a quote: \"We are pleased.\"\n"


def copy_of(head: str, body: str = STORY, **options):
    return parse(head + "\n\n" + body, **options)


@pytest.mark.parametrize(("byline", "authors", "when"), [
    ("By Ann Lee - February 28 2022", ("Ann Lee",), date(2022, 2, 28)),
    ("By Ann Lee and Bo Chen | February 28, 2022", ("Ann Lee", "Bo Chen"), date(2022, 2, 28)),
    ("By Ann Lee, Bo Chen and Cy Diaz - Feb. 28, 2022", ("Ann Lee", "Bo Chen", "Cy Diaz"), date(2022, 2, 28)),
    ("BY ANN LEE — 28 February 2022", ("ANN LEE",), date(2022, 2, 28)),
    ("by Ann Lee & Bo Chen – 2022-02-28", ("Ann Lee", "Bo Chen"), date(2022, 2, 28)),
    ("By Ann Lee, February 28, 2022", ("Ann Lee",), date(2022, 2, 28)),
    ("By Ann Lee - 28/02/2022", ("Ann Lee",), date(2022, 2, 28)),
    ("By Ann Lee - Tuesday, Sept. 6, 2022, 10:30 a.m.", ("Ann Lee",), date(2022, 9, 6)),
    ("By Ann Lee", ("Ann Lee",), None),
])
def test_bylines(byline, authors, when):
    copy = copy_of("Headline here\n" + byline)
    assert (copy.authors, copy.date, copy.has_byline) == (authors, when, True)


def test_date_on_its_own_line_after_the_byline():
    copy = copy_of("Headline here\nA standfirst of one sentence.\nBy Ann Lee\nMarch 3, 2021")
    assert (copy.description, copy.authors, copy.date) == ("A standfirst of one sentence.", ("Ann Lee",),
                                                           date(2021, 3, 3))


@pytest.mark.parametrize(("text", "day_first", "expected"), [
    ("February 28 2022", True, date(2022, 2, 28)), ("28 February 2022", True, date(2022, 2, 28)),
    ("Feb. 28, 2022", True, date(2022, 2, 28)), ("2022-02-28", True, date(2022, 2, 28)),
    ("28/02/2022", True, date(2022, 2, 28)), ("02/28/2022", False, date(2022, 2, 28)),
    ("03/04/2022", True, date(2022, 4, 3)), ("03/04/2022", False, date(2022, 3, 4)),
    ("1st March 2022", True, date(2022, 3, 1)), ("30 February 2022", True, None), ("soon", True, None),
])
def test_dates(text, day_first, expected):
    assert parse_date(text, day_first) == expected


@pytest.mark.parametrize(("line", "caption", "credit"), [
    ("Crowds at the gate. (Photo credit: Ann Lee/Courier)", "Crowds at the gate.", "Ann Lee/Courier"),
    ("Crowds at the gate. (Photo: Ann Lee)", "Crowds at the gate.", "Ann Lee"),
    ("Crowds at the gate. Photo: Ann Lee", "Crowds at the gate.", "Ann Lee"),
    ("Crowds at the gate. Credit: City Archive", "Crowds at the gate.", "City Archive"),
    ("Crowds at the gate. (Ann Lee/Northern Press)", "Crowds at the gate.", "Ann Lee/Northern Press"),
    ("(Photo: Ann Lee)", "", "Ann Lee"),
])
def test_captions_and_credits(line, caption, credit):
    copy = copy_of("Headline here\nBy Ann Lee - 2022-02-28\n\n" + line)
    assert (copy.caption, copy.credit) == (caption, credit)
    assert copy.paragraphs[0] == "First paragraph of the story."


def test_no_standfirst_no_caption_no_byline():
    copy = copy_of("Headline here")
    assert (copy.description, copy.authors, copy.date, copy.caption, copy.has_byline) == ("", (), None, "", False)
    assert len(copy.paragraphs) == 2


def test_long_second_line_without_a_byline_is_the_story():
    first = "This is a long opening paragraph that runs on, " * 10
    copy = parse("Headline here\n" + first + "\n\nSecond paragraph.")
    assert copy.description == "" and copy.paragraphs[0] == first.strip()


def test_crlf_bom_nbsp_and_curly_quotes():
    text = ("\ufeffMayor\u00a0opens the\u00a0new bridge\r\nBy Ann\u00a0Lee - 2 May 2023\r\n\r\n"
            "“It’s ours,” she said.\r\n")
    copy = parse(text)
    assert copy.title == "Mayor opens the new bridge" and copy.authors == ("Ann Lee",)
    assert copy.paragraphs == ("“It’s ours,” she said.",)


def test_wrapped_paragraph_lines_are_joined():
    copy = copy_of("Headline here", "A paragraph wrapped\nover two lines.\n\nNext.")
    assert copy.paragraphs == ("A paragraph wrapped over two lines.", "Next.")


def test_trailing_furniture_is_dropped():
    body = STORY + "\nAdvertisement\n\nMost Popular\nCouncil votes on budget\nStorm warning for the coast\n\n" \
                   "Share this article\n"
    assert len(copy_of("Headline here", body).paragraphs) == 2
    body = STORY + "\nCouncil votes on budget\nStorm warning for the coast\nBridge closed for repairs\n"
    assert len(copy_of("Headline here", body).paragraphs) == 2


def test_a_short_final_line_of_a_real_paragraph_is_kept():
    body = "The council met on Tuesday.\n\nThe vote was close, and the mayor said the work starts in May\n"
    assert copy_of("Headline here", body).paragraphs[-1].endswith("starts in May")
    body = "The council met on Tuesday.\n\nThe new timetable starts on Monday\n"
    assert copy_of("Headline here", body).paragraphs[-1] == "The new timetable starts on Monday"


def test_configured_furniture_phrases():
    body = STORY + "\nMore from the Courier\nSomething else entirely.\n"
    assert len(copy_of("Headline here", body).paragraphs) == 3
    assert len(copy_of("Headline here", body, furniture=("More from the Courier",)).paragraphs) == 2


@pytest.mark.parametrize(("text", "reason"), [
    ("", "no text"), ("   \n\n ", "no text"), ("Only a headline\n", "no paragraphs after the headline"),
    ("Advertisement\n\nShare this article\n", "no text"),
    ("Advertisement\n\nHeadline\n\nShare this article\n", "no paragraphs after the headline"),
    ("x. " * 200 + "\n\nMore.", "the first line does not look like a headline"),
])
def test_not_an_article(text, reason):
    with pytest.raises(NotAnArticle, match=reason):
        parse(text)
