"""errors: a problem printed as path:line:col, the one exception that carries them all, and paths as shown."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from broadsheet.errors import BuildError, Problem, UsageError, display_path, fail_if_errors, has_errors, printable


@pytest.mark.parametrize(("problem", "shown"), [
    (Problem("content/a.md", message="file is empty"), "content/a.md: error: file is empty"),
    (Problem("content/a.md", 3, message="bad date"), "content/a.md:3: error: bad date"),
    (Problem("content/a.md", 3, 7, "bad date"), "content/a.md:3:7: error: bad date"),
    (Problem("content/a.md", 0, 7, "bad date"), "content/a.md: error: bad date"),  # a column needs a line
    (Problem("content/a.md", 2, 1, "unknown key 'tittle'", "did you mean 'title'?"),
     "content/a.md:2:1: error: unknown key 'tittle' (did you mean 'title'?)"),
    (Problem("pageviews.csv", 6, message="no published article at '/gone/'", severity="warning"),
     "pageviews.csv:6: warning: no published article at '/gone/'"),
], ids=["path", "line", "line-col", "col-without-line", "hint", "warning"])
def test_a_problem_reads_path_line_col_severity_message_and_hint(problem, shown):
    assert str(problem) == shown


def test_a_problem_cannot_be_changed():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Problem("content/a.md").line = 2


def test_a_build_error_lists_every_problem_by_file_then_position():
    problems = [Problem("content/b.md", 1, 1, "late"), Problem("content/a.md", 10, 1, "tenth line"),
                Problem("content/a.md", 9, 4, "ninth line, col 4"), Problem("content/a.md", 9, 2, "ninth line, col 2"),
                Problem("content/a.md", 9, 2, "another at the same place", severity="warning")]
    error = BuildError(problems)
    assert [p.message for p in error.problems] == [
        "another at the same place", "ninth line, col 2", "ninth line, col 4", "tenth line", "late"]
    assert str(error).splitlines() == [str(p) for p in error.problems]
    assert str(error).splitlines()[3] == "content/a.md:10:1: error: tenth line"  # lines compare as numbers


def test_a_build_error_keeps_its_own_list():
    problems = [Problem("content/a.md", 1, 1, "one")]
    error = BuildError(problems)
    problems.append(Problem("content/a.md", 2, 1, "two"))
    assert [p.message for p in error.problems] == ["one"]


def test_a_usage_error_is_not_a_build_error():
    # the command line tells them apart by type (exit code 2 against 1)
    assert issubclass(UsageError, Exception) and not issubclass(UsageError, BuildError)
    assert str(UsageError("--port must be a number")) == "--port must be a number"


@pytest.mark.parametrize(("severities", "errors"), [
    ((), False), (("warning",), False), (("warning", "note"), False), (("error",), True),
    (("warning", "error", "note"), True),
], ids=["none", "a-warning", "a-warning-and-a-note", "an-error", "an-error-among-others"])
def test_only_an_error_is_an_error(severities, errors):
    assert has_errors([Problem("a.md", n + 1, severity=s) for n, s in enumerate(severities)]) is errors


def test_warnings_alone_do_not_fail():
    fail_if_errors([])
    fail_if_errors([Problem("a.md", 1, message="old key", severity="warning"), Problem("a.md", 2, severity="note")])


def test_one_error_fails_with_every_problem_warnings_too():
    warning = Problem("content/a.md", 1, 1, "unknown key 'tittle'", severity="warning")
    error = Problem("content/a.md", 4, 1, "'title' is empty")
    with pytest.raises(BuildError) as raised:
        fail_if_errors([error, warning])
    assert raised.value.problems == [warning, error]


def test_a_path_in_the_working_folder_is_shown_relative_to_it():
    here = Path.cwd()
    assert display_path(here / "content" / "a.md") == "content/a.md"
    assert display_path(Path("content/a.md")) == "content/a.md"
    assert display_path(here) == "."
    # the working folder wins over a project root that also holds the path
    assert display_path(here / "content" / "a.md", here.parent) == "content/a.md"


def test_a_path_elsewhere_is_shown_relative_to_the_project_root_or_as_given(tmp_path):
    if tmp_path.is_relative_to(Path.cwd()):
        pytest.skip("the test's folder is inside the working folder")
    root = tmp_path / "site"
    assert display_path(root / "content" / "a.md", root) == "content/a.md"
    assert display_path(root / "content" / "a.md") == str(root / "content" / "a.md")
    # a folder whose name only starts like the root's is not inside it
    assert display_path(tmp_path / "site-old" / "a.md", root) == str(tmp_path / "site-old" / "a.md")


@pytest.mark.parametrize(("text", "shown"), [
    ("key\nwith a newline", "key\\nwith a newline"),
    ("erase\x1b[2Kline", "erase\\x1b[2Kline"),
    ("clipboard \x1b]52;c;aGk=\x07", "clipboard \\x1b]52;c;aGk=\\x07"),
    ("carriage\rreturn\ttab\x7fdel\x85nel", "carriage\\rreturn\\ttab\\x7fdel\\x85nel"),
    ("\u202eevil\u2066 and\u2028next", "\\u202eevil\\u2066 and\\u2028next"),
    (os.fsdecode(b"caf\xe9.txt"), "caf\\xe9.txt"),  # a file name that is not UTF-8
    ("كتب café — “quoted”", "كتب café — “quoted”"),  # every other script and typography stays as it is
], ids=["newline", "erase-line", "osc-52", "other-controls", "bidi-and-separators", "not-utf8", "ordinary"])
def test_a_problem_is_one_line_safe_for_a_terminal(text, shown):
    problem = Problem(f"content/{text}.md", 2, 1, f"unknown key '{text}'", f"did you mean '{text}'?")
    assert str(problem) == f"content/{shown}.md:2:1: error: unknown key '{shown}' (did you mean '{shown}'?)"
    assert printable(text) == shown
