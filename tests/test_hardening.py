"""No single article can stall or crash a build: Markdown runs under a time limit, deep nesting is caught."""

from __future__ import annotations

import threading
import time

import pytest

from broadsheet.errors import BuildError
from broadsheet.pipeline import Options, build

from .conftest import CONFIG, article, snapshot

LIMIT = 4.0  # far above what the ordinary and the deep files need, even on a loaded machine
SLOW = {  # each takes Python-Markdown from tens of seconds to minutes
    "brackets": "[" * 10000,
    "links": "[a](" * 5000,
    "emphasis": "*_" * 100_000,  # a 200 KB paragraph of emphasis marks
    "fence": "```" + " " * 30000 + "\n",  # 8,000 spaces already take 5 s
}
DEEP = "".join("    " * depth + "- item\n" for depth in range(300))  # lists nested 300 deep


def test_slow_or_deep_markdown_is_a_clear_error_within_the_limit_and_the_rest_is_still_reported(cli, make_site):
    files = {f"content/articles/news/fine-{n}.md": article(f"Fine story {n}", body="Plain words.") for n in range(70)}
    root = make_site(files, config=CONFIG + f"markdown_timeout = {LIMIT}\n")
    assert cli("build", "--config", root / "pyproject.toml").code == 0
    before = snapshot(root / "site")
    files = {f"content/articles/news/{name}.md": article(name.title(), body=body) for name, body in SLOW.items()}
    files["content/articles/news/deep.md"] = article("Deep", body=DEEP)
    files["content/articles/news/undated.md"] = "---\ntitle: No date\n---\nText.\n"
    for name, text in files.items():
        (root / name).write_text(text)
    started = time.monotonic()
    run = cli("build", "--config", root / "pyproject.toml")  # the six new files one after another
    elapsed = time.monotonic() - started
    assert run.code == 1 and "Traceback" not in run.err
    assert elapsed < LIMIT * len(SLOW) + 20  # each slow file costs the limit, not its minutes
    for name in SLOW:
        assert f"content/articles/news/{name}.md:6:1: error: markdown rendering took longer than {LIMIT:g} s; " \
               "not rendered" in run.err, name
    assert "content/articles/news/deep.md:6:1: error: markdown rendering failed: nesting too deep" in run.err
    assert "content/articles/news/undated.md:1:1: error: missing required field 'date'" in run.err
    assert run.lines[-1] == "Build failed: 6 errors; the output folder was not changed."
    assert snapshot(root / "site") == before


def test_the_limit_holds_for_a_build_on_another_thread_as_the_preview_runs_it(make_site):
    root = make_site({"content/articles/news/slow.md": article("Slow", body=SLOW["brackets"])},
                     config=CONFIG + f"markdown_timeout = {LIMIT}\n")
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            build(Options(config=root / "pyproject.toml"))
            outcome.append(None)
        except BuildError as exc:
            outcome.append(exc)

    started = time.monotonic()
    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive() and time.monotonic() - started < LIMIT + 15
    assert isinstance(outcome[0], BuildError)
    assert "markdown rendering took longer than 4 s" in outcome[0].problems[0].message


@pytest.mark.parametrize(("value", "message"), [
    ("0", "must be a number of seconds above 0 and at most 3600, got 0"),
    ("'ten'", "expected a number, got text 'ten'"),
])
def test_the_markdown_timeout_setting_is_checked(cli, make_site, value, message):
    root = make_site({"content/articles/news/a.md": article()}, config=CONFIG + f"markdown_timeout = {value}\n")
    run = cli("build", "--config", root / "pyproject.toml")
    assert run.code == 1 and f"pyproject.toml:7:1: error: setting 'markdown_timeout': {message}" in run.err


def test_an_unexpected_failure_is_one_line_and_verbose_shows_the_traceback(cli, make_site, monkeypatch):
    from broadsheet import cli as command

    root = make_site({"content/articles/news/a.md": article()})

    def broken(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(command, "run_build", broken)
    run = cli("build", "--config", root / "pyproject.toml")
    assert run.code == 1 and run.lines == [
        "broadsheet: error: internal error: ZeroDivisionError: division by zero (run again with --verbose for the "
        "details, and please report it)"]
    run = cli("build", "--verbose", "--config", root / "pyproject.toml")
    assert run.code == 1 and "Traceback (most recent call last):" in run.err


def test_a_refusal_from_the_system_is_one_line(cli, make_site, monkeypatch):
    from broadsheet import cli as command

    root = make_site({"content/articles/news/a.md": article()})

    def refused(args):
        raise PermissionError(13, "Permission denied", str(root / "site/index.html"))

    monkeypatch.setattr(command, "run_build", refused)
    run = cli("build", "--config", root / "pyproject.toml")
    assert run.code == 1 and len(run.lines) == 1
    assert run.lines[0].startswith("broadsheet: error: ")
    assert run.lines[0].endswith("site/index.html: Permission denied")


@pytest.mark.parametrize("photo", ["javascript:alert(1)", "//evil.example/x.png", "data:image/png;base64,AAAA",
                                   "/images/missing.png"])
def test_a_reporters_photo_must_be_a_file_of_the_site_or_an_http_url(cli, make_site, photo):
    root = make_site({"content/articles/news/a.md": article(authors="[Ann Lee]"),
                      "content/authors/ann-lee.md": f"---\nname: Ann Lee\nphoto: '{photo}'\n---\nBio.\n"})
    run = cli("build", "--config", root / "pyproject.toml")
    assert run.code == 1 and run.lines[0].startswith(f"content/authors/ann-lee.md:3:8: error: photo '{photo}' ")


def test_allowing_raw_html_is_said_once_as_the_build_starts(cli, make_site):
    root = make_site({"content/articles/news/a.md": article()}, config=CONFIG + 'raw_html = "allow"\n')
    run = cli("build", "--config", root / "pyproject.toml")
    notes = [line for line in run.lines if 'raw_html = "allow"' in line]
    assert run.code == 0 and len(notes) == 1 and run.lines[0] == notes[0]
    assert notes[0].endswith(': note: raw_html = "allow": HTML in articles is published as written, scripts '
                             "included; keep it only if everyone who writes in content/ is trusted")
    root = make_site({"content/articles/news/a.md": article()})
    assert not any("raw_html" in line for line in cli("build", "--config", root / "pyproject.toml").lines)


def test_what_the_sanitiser_removes_is_a_warning_at_its_line(cli, make_site):
    body = ("A paragraph.\n\n<script>alert(1)</script>\n\nA [link](javascript:alert(2)) and "
            '<img src="x.png" onerror="alert(3)" alt="">.\n\n<iframe src="https://tracker.example/"></iframe>\n')
    root = make_site({"content/articles/news/a.md": article("Story", body=body)})
    run = cli("build", "--config", root / "pyproject.toml")
    assert run.code == 0
    where = "content/articles/news/a.md"
    note = ('(raw_html = "sanitize" publishes no scripts, event handlers, unsafe links or embeds from hosts not '
            'in embed_hosts)')
    assert [line for line in run.lines if "removed" in line] == [
        f"{where}:8:1: warning: removed <script> {note}",
        f"{where}:10:10: warning: removed javascript: {note}",
        f"{where}:10:52: warning: removed onerror= {note}",
        f"{where}:12:14: warning: removed <iframe> from https://tracker.example/ {note}"]
    page = (root / "site/2024/03/story/index.html").read_text()
    assert "alert(" not in page and "tracker.example" not in page


def test_a_failed_swap_leaves_the_old_site_and_says_why_in_one_line(cli, make_site, monkeypatch):
    """Where the C library has no renameat2 (macOS), the new site goes in with two renames: when the second
    fails (here as across devices), the first is undone."""
    import ctypes
    import errno
    import os

    class WithoutRenameat2(ctypes.CDLL):  # the system's C library, as on a system without renameat2
        def __getattr__(self, name: str):
            if name == "renameat2":
                raise AttributeError(name)
            return super().__getattr__(name)

    root = make_site({"content/articles/news/a.md": article()})
    assert cli("build", "--config", root / "pyproject.toml").code == 0
    before = snapshot(root / "site")
    story = root / "content/articles/news/a.md"
    story.write_text(article("A changed story"))  # so the new site differs from the one that must stay
    rename = os.rename

    def failing(source, target, *args, **kwargs):
        if ".site.tmp-" in str(source):  # putting the new site in place: as across devices
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), str(source), str(target))
        return rename(source, target, *args, **kwargs)

    monkeypatch.setattr(ctypes, "CDLL", WithoutRenameat2)
    monkeypatch.setattr(os, "rename", failing)
    run = cli("build", "--fresh", "--config", root / "pyproject.toml")
    monkeypatch.undo()
    assert run.code == 1 and len(run.lines) == 1 and "Traceback" not in run.err
    assert run.lines[0].startswith("broadsheet: error: ") and "Invalid cross-device link" in run.lines[0]
    assert snapshot(root / "site") == before
    assert cli("build", "--config", root / "pyproject.toml").code == 0  # and the next build cleans up
    assert "A changed story" in (root / "site/index.html").read_text()
    deadline = time.monotonic() + 30  # (the previous build is deleted in the background)
    while (list(root.glob(".site.tmp-*")) or list(root.glob(".site.old-*"))) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not list(root.glob(".site.tmp-*")) and not list(root.glob(".site.old-*"))


def test_dates_of_every_kind_sort_together_in_the_sites_timezone(cli, make_site):
    root = make_site({"content/articles/news/a.md": article("Date only", "2024-01-01"),
                      "content/articles/news/b.md": article("Local time", "2024-01-01 10:00"),
                      "content/articles/news/c.md": article("With offset", "2024-01-01T09:00:00+02:00"),
                      "content/articles/news/d.md": article("Quoted", '"2024-01-02"')})
    run = cli("build", "--config", root / "pyproject.toml")
    assert run.code == 0 and "Traceback" not in run.err
    sitemap = (root / "site/sitemap.xml").read_text()  # every article, newest first
    slugs = ["2024/01/quoted/", "2024/01/local-time/", "2024/01/with-offset/", "2024/01/date-only/"]
    assert sorted(slugs, key=sitemap.index) == slugs  # 2 Jan 00:00, then 1 Jan 10:00, 07:00 and 00:00 UTC


def test_iframes_are_kept_only_from_the_embed_hosts(cli, make_site):
    body = ('<iframe src="https://www.youtube-nocookie.com/embed/abc" title="Video" width="560" height="315">'
            "</iframe>\n\n"
            '<iframe src="https://tracker.example/x" title="Tracker"></iframe>\n\n'
            '<iframe src="http://www.youtube-nocookie.com/embed/plain" title="Not https"></iframe>\n')
    config = CONFIG + 'embed_hosts = ["youtube-nocookie.com"]\n'
    root = make_site({"content/articles/news/a.md": article("Story", body=body)}, config=config)
    run = cli("build", "--config", root / "pyproject.toml")
    assert run.code == 0
    page = (root / "site/2024/03/story/index.html").read_text()
    assert '<iframe src="https://www.youtube-nocookie.com/embed/abc" title="Video" width="560" height="315">' in page
    assert "tracker.example" not in page and "embed/plain" not in page and page.count("<iframe") == 1
    assert [line.split(" (raw_html")[0] for line in run.lines if "removed <iframe>" in line] == [
        "content/articles/news/a.md:8:14: warning: removed <iframe> from https://tracker.example/x",
        "content/articles/news/a.md:10:14: warning: removed <iframe> from http://www.youtube-nocookie.com/embed/plain"]
    root = make_site({"content/articles/news/a.md": article("Story", body=body)})  # no embed_hosts: none stay
    assert cli("build", "--config", root / "pyproject.toml").code == 0
    assert "<iframe" not in (root / "site/2024/03/story/index.html").read_text()


def test_embed_hosts_must_be_host_names(cli, make_site):
    root = make_site({"content/articles/news/a.md": article()},
                     config=CONFIG + 'embed_hosts = ["https://www.youtube.com/"]\n')
    run = cli("build", "--config", root / "pyproject.toml")
    assert run.code == 1 and run.lines[0].endswith(
        "error: setting 'embed_hosts': each entry must be a host name in lower case such as "
        "www.youtube-nocookie.com, not 'https://www.youtube.com/'")


def test_a_story_that_breaks_markdown_midway_does_not_spoil_the_next(make_site):
    """Python-Markdown left in the middle of a document (nesting too deep) renders the next one wrongly:
    each build process starts afresh with a new instance after such a failure."""
    from broadsheet.bodies import Bodies
    from broadsheet.config import Folders, load_config
    from broadsheet.content import load, survey
    from broadsheet.incremental.cache import Cache

    # Whether the instance is spoiled depends on where in its recursion the stack runs out, so on how deep
    # the stack already was: the list alone, and quoted once to three times, cover every case.
    files = {}
    for n in range(4):
        quoted = "".join("> " * n + line + "\n" for line in DEEP.splitlines())
        files[f"content/articles/news/{n}a-deep.md"] = article(f"Deep {n}", body=quoted)
        files[f"content/articles/news/{n}b-next.md"] = article(f"Next {n}", body="Some *emphasised* words.")
    root = make_site(files)  # read in the order of their names: each deep story, then a plain one
    problems: list = []
    config = load_config(root / "pyproject.toml")
    cache = Cache(root / ".site.cache", config)
    sources = survey(config, Folders(root / "content", root / "layouts", root / "site"), problems)
    content = load(config, sources, problems, cache)
    assert [(p.path, p.message) for p in problems] == [
        (f"content/articles/news/{n}a-deep.md", "markdown rendering failed: nesting too deep") for n in range(4)]
    assert [(a.title, "<em>emphasised</em>" in Bodies(cache).html(a.body)) for a in content.articles] == [
        (f"Next {n}", True) for n in range(4)]


GC_SLOW = "- [a](b) *one*\n" * 40_000  # a long list: minutes of Python-Markdown, making objects all along


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_the_limit_holds_when_its_signal_lands_in_a_garbage_collector_callback(make_site):
    """Python only prints an exception raised in a gc callback (Hypothesis installs one): the timer fires
    again until the raise takes effect."""
    import gc
    import signal

    root = make_site({"content/articles/news/slow.md": article("Slow", body=GC_SLOW)},
                     config=CONFIG + f"markdown_timeout = {LIMIT}\n")
    slept: list[bool] = []
    landed: list[float] = []  # when the limit ran out inside the callback

    def slow_callback(phase: str, info: dict) -> None:
        left = signal.getitimer(signal.ITIMER_REAL)[0]  # a timer runs while Markdown is under its limit
        if phase == "start" and left > 0 and not slept:
            slept.append(True)
            try:
                time.sleep(left + 5)  # a slow callback (once): the limit runs out in here
            except BaseException:
                landed.append(time.monotonic())
                raise

    gc.callbacks.append(slow_callback)
    started = time.monotonic()
    try:
        with pytest.raises(BuildError) as raised:
            build(Options(config=root / "pyproject.toml"))
    finally:
        gc.callbacks.remove(slow_callback)
    ended = time.monotonic()
    assert landed, "no collection ran while Markdown was under its limit"
    assert ended - landed[0] < 10 and ended - started < LIMIT + 15  # not the minutes the list would take
    assert [p.message.split(";")[0] for p in raised.value.problems] == [
        f"markdown rendering took longer than {LIMIT:g} s"]
