"""write: the site staged beside the output folder and swapped in whole, or changed file by file in place."""

from __future__ import annotations

import os
import socket
import stat
import threading
import time
from pathlib import Path

import pytest

from broadsheet.errors import BuildError, Problem, UsageError, display_path
from broadsheet.records import Asset, Output
from broadsheet.write import MARKER, Stage, Writing, check_output_folder, locked, write

from .conftest import snapshot, write_files

SITE = {"index.html": b"<p>Front page</p>", "news/index.html": b"<p>News</p>",
        "2024/03/tram/index.html": b"<p>Tram</p>", "feed.xml": b"<feed/>"}
NEW = b"<p>New</p>"
ESCAPES = ["../evil.html", "/tmp/evil.html", "news/../../evil.html", "", ".", "news/\0.html"]


def outputs(files: dict[str, bytes | None]) -> list[Output]:
    return [Output(path, data) for path, data in files.items()]


def built(out: Path, files: dict[str, bytes | None] = SITE, assets: tuple[Asset, ...] = (),
          incremental: bool = False) -> int:
    """write() of files and assets into out with no problems; how many files it wrote."""
    return write(iter(outputs(files)), assets, out, [], Writing(incremental=incremental))


def made(out: Path) -> dict[str, bytes]:
    """The files a build left in out, but its marker."""
    return {path: data for path, data in snapshot(out).items() if path != MARKER}


def inode(path: Path) -> int:
    return path.stat().st_ino


def beside(out: Path) -> list[str]:
    """What the build left next to the output folder (staging folders, previous builds), once the previous
    builds deleted in the background are gone."""
    for _ in range(100):
        found = sorted(p.name for p in out.parent.glob(f".{out.name}.*"))
        if not [name for name in found if ".old-" in name]:
            break
        time.sleep(0.05)
    return found


def test_a_full_build_writes_every_output_and_asset_and_its_marker(tmp_path):
    write_files(tmp_path / "content", {"images/map.svg": "<svg/>"})
    out = tmp_path / "public/site"
    count = built(out, assets=(Asset(tmp_path / "content/images/map.svg", "images/map.svg"),))
    assert count == 5
    files = snapshot(out)
    assert {path: files[path] for path in SITE} == SITE and files["images/map.svg"] == b"<svg/>"
    assert sorted(files) == sorted([*SITE, "images/map.svg", MARKER])
    assert out.stat().st_mode & 0o777 == 0o755  # a served folder, not the 0700 of a temporary one
    assert beside(out) == []


def test_a_full_build_replaces_the_old_site_whole_and_links_what_did_not_change(tmp_path):
    out = tmp_path / "site"
    built(out)
    kept, tram, feed = inode(out / "index.html"), inode(out / "2024/03/tram/index.html"), inode(out / "feed.xml")
    count = built(out, {**SITE, "feed.xml": b"<feed>new</feed>", "2024/03/tram/index.html": None,
                        "about/index.html": b"<p>About</p>"})
    assert count == 2  # the new feed and the new page; the rest linked from the old site
    assert inode(out / "index.html") == kept and inode(out / "2024/03/tram/index.html") == tram
    assert inode(out / "feed.xml") != feed and (out / "feed.xml").read_bytes() == b"<feed>new</feed>"
    built(out, {"index.html": b"<p>Front page</p>"})
    assert sorted(snapshot(out)) == sorted(["index.html", MARKER])  # what the build did not make is gone
    assert beside(out) == []


def test_a_full_build_without_a_previous_one_cannot_keep_a_file_as_it_was(tmp_path):
    out = tmp_path / "site"
    with pytest.raises(BuildError) as raised:
        built(out, {"index.html": None})
    assert [str(p) for p in raised.value.problems] == [
        "index.html: error: missing from the previous build; run with --fresh"]
    assert not out.exists() and beside(out) == []


def broken(reason: str):
    """write() arguments that fail for reason, and the exception they fail with."""
    if reason == "an error":
        return SITE, [Problem("content/a.md", 2, 8, "'title' is empty")], BuildError
    if reason == "a path out":
        return {**SITE, "../evil.html": b"evil"}, [], BuildError
    return {**SITE, "sitemap.xml": b"x"}, [], KeyboardInterrupt


@pytest.mark.parametrize("incremental", [False, True], ids=["full", "incremental"])
@pytest.mark.parametrize("reason", ["an error", "a path out", "a stop midway"])
def test_a_failing_build_leaves_the_old_folder_as_it_was(tmp_path, incremental, reason):
    out = tmp_path / "site"
    built(out)
    before = snapshot(out)
    files, problems, exception = broken(reason)
    changed = {path: data + b" changed" if data else data for path, data in files.items()}

    def made():
        for output in outputs(changed):
            if output.path == "sitemap.xml":
                raise KeyboardInterrupt  # Ctrl-C while the pages are made
            yield output

    with pytest.raises(exception):
        write(made(), (), out, problems, Writing(incremental=incremental))
    assert snapshot(out) == before
    assert beside(out) == [] and not (tmp_path / "evil.html").exists()


def test_warnings_alone_do_not_stop_a_build(tmp_path):
    out = tmp_path / "site"
    problems = [Problem("content/a.md", 4, 1, "unknown front matter key 'tittle'", severity="warning")]
    assert write(iter(outputs(SITE)), (), out, problems) == 4
    assert (out / "index.html").read_bytes() == SITE["index.html"]


@pytest.mark.parametrize("incremental", [False, True], ids=["full", "incremental"])
@pytest.mark.parametrize("path", ESCAPES)
def test_a_path_out_of_the_output_folder_is_refused(tmp_path, incremental, path):
    out = tmp_path / "site"
    built(out)
    before = snapshot(out)
    with pytest.raises(BuildError) as raised:
        built(out, {**SITE, "index.html": b"<p>Changed</p>", path: b"evil"}, incremental=incremental)
    assert [p.message for p in raised.value.problems] == ["refusing to write outside the output folder"]
    assert not (tmp_path / "evil.html").exists() and snapshot(out) == before


def test_an_incremental_build_changes_only_what_changed(tmp_path):
    write_files(tmp_path / "content", {"images/map.svg": "<svg/>", "files/report.pdf": "%PDF"})
    content = tmp_path / "content"
    assets = (Asset(content / "images/map.svg", "images/map.svg"), Asset(content / "files/report.pdf", "report.pdf"))
    out = tmp_path / "site"
    built(out, assets=assets)
    front, tram, pdf = inode(out / "index.html"), inode(out / "2024/03/tram/index.html"), inode(out / "report.pdf")
    stamp = (out / "index.html").stat().st_mtime_ns
    (content / "images/map.svg").write_text("<svg>new</svg>")
    site = {**SITE, "news/index.html": b"<p>News, again</p>", "2024/03/tram/index.html": None,
            "sport/index.html": b"<p>Sport</p>"}
    del site["feed.xml"]
    assert built(out, site, assets, incremental=True) == 3  # the news page, the sport page and the map
    files = snapshot(out)
    assert files["news/index.html"] == b"<p>News, again</p>" and files["sport/index.html"] == b"<p>Sport</p>"
    assert files["images/map.svg"] == b"<svg>new</svg>" and "feed.xml" not in files and MARKER in files
    assert inode(out / "index.html") == front and (out / "index.html").stat().st_mtime_ns == stamp
    assert inode(out / "2024/03/tram/index.html") == tram and inode(out / "report.pdf") == pdf
    assert beside(out) == []


def test_an_incremental_build_deletes_what_went_and_the_folders_it_leaves_empty(tmp_path):
    out = tmp_path / "site"
    built(out)
    site = dict(SITE)
    del site["2024/03/tram/index.html"]
    assert built(out, site, incremental=True) == 0
    assert sorted(snapshot(out)) == sorted([*site, MARKER]) and not (out / "2024").exists()


def test_an_incremental_build_into_a_folder_without_a_build_is_a_full_one(tmp_path):
    out = tmp_path / "site"
    assert built(out, incremental=True) == 4 and (out / MARKER).is_file()
    assert sorted(snapshot(out)) == sorted([*SITE, MARKER])


@pytest.mark.parametrize("through", ["writing", "deleting"])
def test_an_incremental_build_writes_through_no_link_out_of_the_folder(tmp_path, through):
    out = tmp_path / "site"
    built(out)
    write_files(tmp_path / "elsewhere", {"index.html": "<p>Private</p>"})
    (out / "news/index.html").unlink()
    (out / "news").rmdir()
    (out / "news").symlink_to(tmp_path / "elsewhere")
    before = snapshot(out)
    files = {**SITE, "index.html": NEW}  # (replaced first, if anything were replaced before the check)
    files = {**files, "news/index.html": b"<p>News, again</p>"} if through == "writing" else {
        path: data for path, data in files.items() if path != "news/index.html"}  # it goes: deleted through the link
    with pytest.raises(BuildError) as raised:
        write(iter(outputs(files)), (), out, [], Writing(incremental=True, known=set(SITE)))
    assert [(p.path, p.message) for p in raised.value.problems] == [
        ("news/index.html", "refusing to write outside the output folder")]
    assert snapshot(out) == before and (tmp_path / "elsewhere/index.html").read_text() == "<p>Private</p>"


@pytest.mark.parametrize("known", [False, True], ids=["by walking", "from the previous build's list"])
def test_an_incremental_build_turns_a_file_into_a_folder_and_back(tmp_path, known):
    out = tmp_path / "site"
    built(out, {**SITE, "static/map": b"a file"})
    how = Writing(incremental=True, known={*SITE, "static/map"} if known else None)
    write(iter(outputs({**SITE, "index.html": b"<p>New</p>", "static/map/city.svg": b"<svg/>"})), (), out, [], how)
    assert made(out) == {**SITE, "index.html": b"<p>New</p>", "static/map/city.svg": b"<svg/>"}
    how = Writing(incremental=True, known={*SITE, "static/map/city.svg"} if known else None)
    write(iter(outputs({**SITE, "static/map": b"a file again"})), (), out, [], how)
    assert made(out) == {**SITE, "static/map": b"a file again"}


CLASHES = {  # what a rebuild is given, how, and what it says: index.html, first, would be replaced before the clash
    "a file where a folder goes": ({**SITE, "index.html": NEW, "news": b"x", "news/index.html": NEW},
                                   Writing(incremental=True),
                                   "news/index.html: error: writes the output file news/index.html inside news, which "
                                   "news writes as a file (give one of them another slug)"),
    "a file it keeps in the way": ({"index.html": NEW, "2024/03/index.html/index.html": NEW},  # (a story moved there)
                                   Writing(partial=True, known={"2024/03/tram/index.html"}),
                                   "2024/03/index.html/index.html: error: cannot be written: 2024/03/index.html is in "
                                   "the way, and this build does not replace it (a whole build of the site names the "
                                   "sources that collide)"),
}


@pytest.mark.parametrize("case", CLASHES)
def test_a_rebuild_that_cannot_make_its_files_says_so_and_changes_nothing(tmp_path, case):
    files, how, said = CLASHES[case]
    out = tmp_path / "site"
    built(out, {**SITE, "2024/03/index.html": b"<p>March</p>"})
    before = snapshot(out)
    with pytest.raises(BuildError) as raised:
        write(iter(outputs(files)), (), out, [], how)
    assert [str(p) for p in raised.value.problems] == [said]
    assert snapshot(out) == before


@pytest.mark.parametrize("incremental", [False, True], ids=["full", "incremental"])
def test_a_dry_run_does_everything_but_change_the_output_folder(tmp_path, incremental):
    out = tmp_path / "site"
    how = Writing(incremental=incremental, dry_run=True)
    assert write(iter(outputs(SITE)), (), out, [], how) == 4 and not out.exists()
    built(out)
    before = snapshot(out)
    assert write(iter(outputs({**SITE, "index.html": b"<p>New</p>"})), (), out, [], how) == 1
    if incremental:  # (a full build's clashes are found before it, by the model)
        with pytest.raises(BuildError):
            write(iter(outputs({**SITE, "news": b"x"})), (), out, [], how)
    assert snapshot(out) == before and beside(out) == []


def test_the_stage_writes_a_new_file_and_links_an_unchanged_one(tmp_path):
    previous = tmp_path / "previous"
    write_files(previous, {"same.html": b"same", "other.html": b"old"})
    stage = Stage()
    stage.folder, stage.previous = tmp_path / "stage", previous
    stage.folder.mkdir()
    assert stage.place("deep/new/page.html", b"new") is True
    assert stage.place("same.html", b"same") is False and inode(stage.folder / "same.html") == inode(
        previous / "same.html")
    assert stage.place("other.html", b"changed") is True and inode(stage.folder / "other.html") != inode(
        previous / "other.html")
    assert snapshot(stage.folder) == {"deep/new/page.html": b"new", "other.html": b"changed", "same.html": b"same"}
    assert snapshot(previous) == {"other.html": b"old", "same.html": b"same"}


def test_the_stage_keeps_a_file_as_it_was_only_when_the_previous_build_has_it(tmp_path):
    previous = tmp_path / "previous"
    write_files(previous, {"same.html": b"same"})
    stage = Stage()
    stage.folder, stage.previous = tmp_path / "stage", previous
    stage.folder.mkdir()
    assert stage.place("same.html", None) is False and (stage.folder / "same.html").read_bytes() == b"same"
    with pytest.raises(BuildError) as raised:
        stage.place("gone.html", None)
    assert str(raised.value) == "gone.html: error: missing from the previous build; run with --fresh"
    stage.previous = None
    assert stage.place("fresh.html", b"fresh") is True


@pytest.mark.parametrize("path", ESCAPES)
def test_the_stage_refuses_a_path_out_of_it(tmp_path, path):
    stage = Stage()
    stage.folder = tmp_path / "stage"
    stage.folder.mkdir()
    with pytest.raises(BuildError) as raised:
        stage.place(path, b"evil")
    assert [p.message for p in raised.value.problems] == ["refusing to write outside the output folder"]
    assert not (tmp_path / "evil.html").exists() and not list(stage.folder.iterdir())


def test_an_output_folder_may_be_new_empty_or_a_previous_build(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    check_output_folder(project / "site", [project])
    (project / "empty").mkdir()
    check_output_folder(project / "empty", [project / "content"])
    built(project / "built")
    write_files(project / "built", {"stray.txt": "left by hand"})
    check_output_folder(project / "built", [project / "content"])


def test_an_output_folder_that_could_hold_anything_else_is_refused(tmp_path):
    project = tmp_path / "project"
    write_files(project, {"content/a.md": "x", "notes/thesis.txt": "years of work", "site.txt": "a file"})
    (tmp_path / "link").symlink_to(project)
    shown, content = display_path(project), display_path(project / "content")
    refused = {Path("/"): "it is or contains /", Path.home(): f"it is or contains {display_path(Path.home())}",
               project: f"it is or contains {shown}", project / "content": f"it is or contains {content}",
               tmp_path: f"it is or contains {shown}", tmp_path / "link": f"it is or contains {shown}",
               project / "notes": "output folder is not empty and was not made by Broadsheet (no .broadsheet-output "
                                  "in it); empty it or choose another --out",
               project / "site.txt": "output path is a file, not a folder"}
    for out, reason in refused.items():
        with pytest.raises(UsageError) as raised:
            check_output_folder(out, [project, project / "content"])
        assert str(raised.value).endswith(reason), out
    assert (project / "notes/thesis.txt").read_text() == "years of work"


def test_an_output_path_that_is_not_a_folder_is_refused_and_left_as_it_is(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "sock"))
    try:
        for name, kind in (("pipe", "a FIFO (named pipe)"), ("sock", "a socket")):
            with pytest.raises(UsageError) as raised:
                check_output_folder(tmp_path / name, [tmp_path / "project"])
            assert str(raised.value).endswith(f"output path is {kind}, not a folder")
        assert stat.S_ISFIFO((tmp_path / "pipe").lstat().st_mode)
        assert stat.S_ISSOCK((tmp_path / "sock").lstat().st_mode)
    finally:
        server.close()


def test_the_null_device_is_refused_with_a_hint_to_build_without_writing(tmp_path):
    with pytest.raises(UsageError) as raised:  # (only looked at: no build runs)
        check_output_folder(Path(os.devnull), [tmp_path / "project"])
    assert str(raised.value) == (f"{os.devnull}: refusing to write the site into {os.devnull} (to build without "
                                 "writing anything, run `broadsheet build --dry-run`; to check a built site's "
                                 "links, `broadsheet check`)")


@pytest.mark.skipif(not os.path.ismount("/proc"), reason="needs Linux's /proc and /sys")
def test_mount_points_and_the_systems_folders_are_refused_before_anything_is_touched(tmp_path):
    for out in (Path("/proc"), Path("/sys")):
        with pytest.raises(UsageError) as raised:
            check_output_folder(out, [tmp_path / "project"])
        assert str(raised.value) == (f"{out}: refusing to use a mount point as output folder (a build replaces "
                                     "its output folder whole; choose a folder inside it)")
    for system in ("/dev", "/proc", "/sys"):
        out = Path(system) / f"broadsheet-test-{os.getpid()}/site"
        with pytest.raises(UsageError) as raised:
            check_output_folder(out, [tmp_path / "project"])
        assert str(raised.value) == f"{out}: refusing to write the site under {system}, a folder of the system"
        assert not out.parent.exists()


def test_an_output_folder_inside_what_the_build_reads_is_refused(tmp_path):
    project = tmp_path / "project"
    write_files(project, {"content/a.md": "x", "layouts/static/site.css": "x", "notes.txt": "x"})
    sources = [project / "content", project / "layouts"]
    for out, inside in ((project / "content/pub", "content"), (project / "layouts/static/site", "layouts")):
        with pytest.raises(UsageError) as raised:
            check_output_folder(out, [project], sources)
        assert str(raised.value).endswith(f"it is inside {display_path(project / inside)}, which the build reads "
                                          "(every build would copy the site into itself)")
        assert not out.exists()
    with pytest.raises(UsageError) as raised:
        check_output_folder(project / "notes.txt/site", [project], sources)
    assert str(raised.value).endswith(f"cannot make the output folder: {display_path(project / 'notes.txt')} is a "
                                      "file, not a folder")
    check_output_folder(project / "site", [project], sources)


def test_a_second_build_of_the_same_folder_waits_for_the_first(tmp_path):
    out = tmp_path / "public/site"
    events: list[str] = []
    waiting = threading.Event()

    def second() -> None:
        with locked(out, on_wait=lambda: (events.append("waits"), waiting.set())):
            events.append("second")

    with locked(out):
        assert (tmp_path / "public/.site.lock").is_file()
        thread = threading.Thread(target=second)
        thread.start()
        assert waiting.wait(5)
        time.sleep(0.05)
        events.append("first done")
    thread.join(5)
    assert events == ["waits", "first done", "second"]


def test_builds_of_other_folders_or_one_after_another_do_not_wait(tmp_path):
    waited: list[str] = []
    with locked(tmp_path / "site", on_wait=lambda: waited.append("site")):
        with locked(tmp_path / "other", on_wait=lambda: waited.append("other")):
            pass
    with locked(tmp_path / "site", on_wait=lambda: waited.append("again")):
        pass
    assert waited == []
