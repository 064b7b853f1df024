"""meta: front matter split from the body and read as YAML nodes, every problem located in the file."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from broadsheet import meta
from broadsheet.config import Config
from broadsheet.errors import Problem

LONDON = ZoneInfo("Europe/London")
CONFIG = Config(title="The Test Gazette", base_url="https://example.org/", timezone="Europe/London")


def parse(text: str) -> tuple[meta.Document | None, list[str]]:
    """meta.parse() of text as story.md: the document and each problem as it is printed."""
    problems: list[Problem] = []
    document = meta.parse("story.md", text, problems)
    return document, [str(p) for p in problems]


def nodes(front_matter: str) -> dict:
    """The value node of each key in a front matter that must parse cleanly."""
    document, problems = parse("---\n" + front_matter + "---\n")
    assert document is not None and problems == []
    return {key: field.node for key, field in document.fields.items()}


def reader(front_matter: str, known: tuple[str, ...] = ("title", "date", "tags", "draft")):
    """A Reader over a front matter that parses cleanly, and the problems it reports."""
    document, problems = parse("---\n" + front_matter + "---\n")
    assert document is not None and problems == []
    found: list[Problem] = []
    return meta.Reader(document, known, found), found


def test_front_matter_and_body_are_split_with_every_key_at_its_line():
    document, problems = parse("---\ntitle: Tram line opens\ntags:\n  - trams\n---\nThe **first** tram.\n")
    assert problems == []
    assert document.path == "story.md"
    assert [(f.key, f.line, f.col) for f in document.fields.values()] == [("title", 2, 1), ("tags", 3, 1)]
    assert document.body == "The **first** tram.\n"
    assert document.body_line == 6


def test_empty_front_matter_and_an_empty_body_are_a_document():
    document, problems = parse("---\n---\n")
    assert problems == [] and document.fields == {} and document.body == ""
    document, problems = parse("---\ntitle: x\n---\n\n  \n")
    assert problems == [] and document.body == ""


def test_a_byte_order_mark_and_crlf_lines_keep_the_true_positions():
    document, problems = parse("\ufeff---\r\ntitle: Fine\r\ndate: 2024-01-01\r\n---\r\nBody\r\n")
    assert problems == []
    assert [(f.key, f.line) for f in document.fields.values()] == [("title", 2), ("date", 3)]
    assert document.body == "Body\n"
    _, problems = parse("\ufeff---\r\ntitle: [open\r\n---\r\n")
    assert problems[0].startswith("story.md:3:1: error: front matter: ")


def test_fences_may_carry_trailing_spaces():
    document, problems = parse("---  \ntitle: x\n---\t\nBody")
    assert problems == [] and list(document.fields) == ["title"] and document.body == "Body"


@pytest.mark.parametrize(("text", "expected"), [
    ("Just text.\n", "story.md:1:1: error: no front matter (start the file with a '---' line, then 'title: ...', "
                     "then another '---' line)"),
    (" ---\ntitle: x\n---\n", "story.md:1:1: error: no front matter (start the file with a '---' line, then "
                              "'title: ...', then another '---' line)"),
    ("---\ntitle: x\n\nNo closing line.\n", "story.md:1:1: error: front matter opened here is never closed "
                                            "(add a '---' line after the last setting)"),
    ("---\ntitle: x\n\tdate: 2024-01-01\n---\n", "story.md:3:1: error: tabs are not allowed for indentation in "
                                                 "front matter (indent with spaces)"),
])
def test_a_file_that_cannot_be_split_is_one_located_problem_with_a_hint(text, expected):
    document, problems = parse(text)
    assert document is None and problems == [expected]


@pytest.mark.parametrize(("text", "expected"), [
    ("---\ntitle: \"open\ndate: 2024-01-01\n---\n",
     "story.md:4:1: error: front matter: found unexpected end of stream (while scanning a quoted scalar at 2:8)"),
    ("---\ntitle: x\ndate: [1, 2\n---\n",
     "story.md:4:1: error: front matter: did not find expected ',' or ']' (while parsing a flow sequence at 3:7)"),
    ("---\ntitle: x\ntitle: y\n---\n", "story.md:3:1: error: duplicate key 'title' (first set on line 2)"),
    ("---\n- a\n- b\n---\n", "story.md:2:1: error: front matter must be a mapping (key: value), got list"),
    ("---\njust a value\n---\n",
     "story.md:2:1: error: front matter must be a mapping (key: value), got a single value"),
    ("---\ntitle: x\n1: one\n---\n", "story.md:3:1: error: front matter key '1' must be text"),
    ("---\ntitle: &a x\n---\n", "story.md:2:8: error: YAML anchors/aliases are not allowed in front matter"),
    ("---\ntitle: x\nother: *a\n---\n", "story.md:3:8: error: YAML anchors/aliases are not allowed in front matter"),
    ("---\ntitle: x\n<<: {a: 1}\n---\n", "story.md:3:1: error: YAML merge keys (<<) are not allowed in front matter"),
    ("---\ntitle: !!python/object/apply:os.system [ls]\n---\n",
     "story.md:2:8: error: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed in front matter"),
    ("---\ntitle: !custom x\n---\n", "story.md:2:8: error: YAML tag '!custom' is not allowed in front matter"),
])
def test_bad_yaml_is_one_problem_at_its_line_and_column_in_the_file(text, expected):
    _, problems = parse(text)
    assert problems == [expected]


def test_a_quoted_merge_key_is_an_ordinary_key():
    document, problems = parse("---\n'<<': x\n---\n")
    assert problems == [] and list(document.fields) == ["<<"]


def test_oversized_front_matter_is_refused_before_it_is_read():
    document, problems = parse("---\nx: " + "a" * meta.MAX_FRONT_MATTER + "\n---\n")
    assert document is None and problems == ["story.md:1:1: error: front matter is larger than 64 KB"]


def test_unknown_keys_are_warnings_at_the_key_with_a_suggestion():
    read, problems = reader("title: x\ntittle: y\ncolour: red\n")
    assert read.text("title") == "x"
    assert [str(p) for p in problems] == [
        "story.md:3:1: warning: unknown front matter key 'tittle' (did you mean 'title'?)",
        "story.md:4:1: warning: unknown front matter key 'colour' (it is ignored)"]


@pytest.mark.parametrize("typed", ["yes", "no", "on", "off", "1", "y"])
def test_yes_and_no_are_not_booleans(typed):
    read, problems = reader(f"title: x\ndraft: {typed}\n")
    assert read.flag("draft") is False
    assert [str(p) for p in problems] == [f"story.md:3:8: error: 'draft' must be true or false, not '{typed}'"]


@pytest.mark.parametrize(("typed", "value"), [("true", True), ("True", True), ("FALSE", False), ("false", False),
                                              ("~", False), ("", False)])
def test_true_false_and_nothing_are_flags(typed, value):
    read, problems = reader(f"draft: {typed}\n")
    assert read.flag("draft") is value and problems == []
    assert read.flag("featured") is False  # absent


def test_the_reader_reports_missing_empty_and_mistyped_text():
    read, problems = reader("title: ''\ntags: [a, b]\ndate: ~\n", known=("title", "tags", "date", "lang"))
    assert read.text("title", required=True) == ""
    assert read.text("tags") == ""
    assert read.text("lang", required=True) == ""
    assert read.text("lang") == "" and read.text("date") == ""  # optional and absent or null: no problem
    assert read.moment("date", CONFIG, required=True) is None
    assert [str(p) for p in problems] == [
        "story.md:2:8: error: 'title' is empty",
        "story.md:3:7: error: 'tags' must be text, not a list or mapping",
        "story.md:1:1: error: missing required field 'lang'",
        "story.md:1:1: error: missing required field 'date' (add e.g. 'date: 2026-03-14 09:30')"]


def test_the_reader_gives_names_once_each_and_dates_in_the_sites_zone():
    read, problems = reader("tags: [trams, parks, trams, '']\ndate: 2024-07-01 12:00\ndraft: {a: 1}\n")
    assert read.texts("tags") == ("trams", "parks")
    assert read.texts("title") == ()
    assert read.moment("date", CONFIG) == datetime(2024, 7, 1, 12, 0, tzinfo=LONDON)
    assert read.node("date") is not None and read.node("title") is None
    assert problems == []
    assert read.flag("draft") is False
    assert len(problems) == 1 and str(problems[0]).startswith("story.md:4:8: error: 'draft' must be true or false")


def test_the_reader_reports_a_bad_list_and_a_bad_date_at_the_value():
    read, problems = reader("tags: {a: 1}\ndate: 2024-13-01\n")
    assert read.texts("tags") == () and read.moment("date", CONFIG) is None
    assert [str(p) for p in problems] == ["story.md:2:7: error: 'tags' must be a list of names",
                                          "story.md:3:7: error: invalid date '2024-13-01': month must be in 1..12"]


def test_position_is_where_a_value_starts_in_the_file():
    found = nodes("title: x\nimage:\n  src: /a.png\n")
    assert meta.position(found["title"]) == (2, 8)
    assert meta.position(meta.mapping(found["image"])["src"]) == (4, 8)


@pytest.mark.parametrize(("typed", "kept"), [("no", "no"), ("2022", "2022"), ("1.10", "1.10"), ("'yes'", "yes"),
                                             ("'  padded  '", "padded"), ("~", ""), ("", ""),
                                             ("null title", "null title")])
def test_text_is_the_scalar_as_typed(typed, kept):
    assert meta.text(nodes(f"v: {typed}\n")["v"]) == kept


def test_text_of_a_list_or_mapping_is_none():
    found = nodes("a: [1]\nb: {c: d}\n")
    assert meta.text(found["a"]) is None and meta.text(found["b"]) is None


def test_is_null_only_for_nothing_typed():
    found = nodes("a:\nb: ~\nc: null\nd: 'null'\ne: x\nf: []\n")
    assert [key for key, node in found.items() if meta.is_null(node)] == ["a", "b", "c"]


def test_texts_reads_a_list_or_one_scalar_and_refuses_anything_else():
    found = nodes("a: [Ann Lee, ' Bo Chen ', '']\nb: Ann Lee\nc:\nd: ''\ne: [a, [b]]\nf: {a: b}\n")
    assert [meta.texts(found[key]) for key in "abcdef"] == [
        ["Ann Lee", "Bo Chen"], ["Ann Lee"], [], [], None, None]


@pytest.mark.parametrize(("typed", "value"), [("true", True), ("TRUE", True), ("False", False), ("yes", None),
                                              ("no", None), ("on", None), ("1", None), ("", None), ("[true]", None)])
def test_boolean_is_only_true_or_false(typed, value):
    assert meta.boolean(nodes(f"v: {typed}\n")["v"]) is value


def test_mapping_gives_the_nodes_by_key():
    found = nodes("image: {src: /a.png, alt: A tram}\nsrc: /a.png\n")
    parts = meta.mapping(found["image"])
    assert sorted(parts) == ["alt", "src"] and meta.text(parts["alt"]) == "A tram"
    assert meta.mapping(found["src"]) is None


@pytest.mark.parametrize(("typed", "expected"), [
    ("2024-03-14", datetime(2024, 3, 14, 0, 0, tzinfo=LONDON)),
    ("2024-07-01 12:00", datetime(2024, 7, 1, 12, 0, tzinfo=LONDON)),
    ("'2024-07-01'", datetime(2024, 7, 1, 0, 0, tzinfo=LONDON)),
    ("2024-07-01T12:00:00+02:00", datetime(2024, 7, 1, 11, 0, tzinfo=LONDON)),
    ("2024-07-01 12:00 Z", datetime(2024, 7, 1, 13, 0, tzinfo=LONDON)),
    ("1800-01-01", datetime(1800, 1, 1, 0, 0, tzinfo=LONDON)),
    ("2200-12-31T23:59:00-12:00", datetime(2201, 1, 1, 11, 59, tzinfo=LONDON)),
])
def test_moment_is_an_aware_datetime_in_the_zone(typed, expected):
    found = meta.moment(nodes(f"v: {typed}\n")["v"], LONDON)
    assert found == expected and found.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(("typed", "reason"), [
    ("2024-02-30", "invalid date '2024-02-30': day is out of range for month"),
    ("2024-13-01", "invalid date '2024-13-01': month must be in 1..12"),
    ("next tuesday", "invalid date 'next tuesday': use YYYY-MM-DD or YYYY-MM-DD HH:MM"),
    ("", "expected a date such as 2026-03-14 or 2026-03-14 09:30"),
    ("[2024-01-01]", "expected a date such as 2026-03-14 or 2026-03-14 09:30"),
    ("9999-12-31", "invalid date '9999-12-31': the year must be between 1800 and 2200"),
    ("0001-01-01T00:10:00+05:00", "invalid date '0001-01-01T00:10:00+05:00': the year must be between 1800 and 2200"),
    ("2201-01-01 00:00", "invalid date '2201-01-01 00:00': the year must be between 1800 and 2200"),
    ("1799-12-31", "invalid date '1799-12-31': the year must be between 1800 and 2200"),
])
def test_moment_says_why_a_date_is_invalid(typed, reason):
    assert meta.moment(nodes(f"v: {typed}\n")["v"], LONDON) == reason


def test_plain_keeps_scalars_as_typed_and_stops_at_a_depth():
    found = nodes("a: {b: [1, yes, ~], c: 2024-01-01}\ndeep: " + "[" * 25 + "]" * 25 + "\n")
    assert meta.plain(found["a"]) == {"b": ["1", "yes", ""], "c": "2024-01-01"}
    deep = meta.plain(found["deep"])
    for _ in range(21):
        assert isinstance(deep, list) and len(deep) == 1
        deep = deep[0]
    assert deep is None


def test_control_characters_are_taken_out_with_a_warning_at_their_line():
    text = ('---\ntitle: "Tom\\0s \\x0bnews"\ntags: [a\x01b, "c\\u0085d"]\n---\n'
            "Pasted from Word:\x0bthe rest of the line.\n\nPlain line.\n\x7fDEL and a\x0cform feed \x02\x03.\n")
    document, problems = parse(text)
    assert problems == [
        "story.md:3:9: warning: removed control character U+0001 that pages and feeds cannot carry "
        "(text pasted from a word processor often holds them)",
        "story.md:5:18: warning: removed control character U+000B that pages and feeds cannot carry "
        "(text pasted from a word processor often holds them)",
        "story.md:8:1: warning: removed 4 control characters (U+0002, U+0003, U+000C, U+007F) that pages and "
        "feeds cannot carry (text pasted from a word processor often holds them)",
        "story.md:3:12: warning: removed control character U+0085 that pages and feeds cannot carry",
        "story.md:2:8: warning: removed 2 control characters (U+0000, U+000B) that pages and feeds cannot carry"]
    assert meta.text(document.fields["title"].node) == "Toms  news"
    assert meta.texts(document.fields["tags"].node) == ["ab", "cd"]
    assert document.body == "Pasted from Word: the rest of the line.\n\nPlain line.\nDEL and a form feed .\n"


def test_many_lines_with_control_characters_are_five_warnings_and_one_for_the_rest():
    document, problems = parse("---\ntitle: T\n---\n" + "a\x00b\n" * 9)
    assert [p.split(": warning: ")[0] for p in problems] == [f"story.md:{n}:2" for n in range(4, 10)]
    assert problems[-1] == ("story.md:9:2: warning: removed control characters from 4 more lines "
                            "(text pasted from a word processor often holds them)")
    assert document.body == "ab\n" * 9


def test_a_file_name_with_a_control_character_is_refused():
    problems: list[Problem] = []
    assert meta.parse("news/a\x01b.md", "---\ntitle: T\n---\nBody.\n", problems) is None
    assert [str(p) for p in problems] == ["news/a\\x01b.md: error: the file's name holds control character U+0001 "
                                          "(rename the file)"]
