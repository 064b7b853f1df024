"""`broadsheet import`: samples, fidelity, never overwriting, and imported copy building into pages."""

from __future__ import annotations

import html.parser
import os
import re
from pathlib import Path

import html5lib
import markdown
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broadsheet.config import Config
from broadsheet.markup import make_markdown, to_html
from broadsheet.plaintext import escape, parse

from .conftest import SHARED, snapshot, write_files

SAMPLES = SHARED / "importer-samples"
NS = {"h": "http://www.w3.org/1999/xhtml"}
RENDER = make_markdown(Config(title="t", base_url="https://example.org/"))


class _Text(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)
        if tag == "p":
            self.paragraphs.append("")

    def handle_data(self, data) -> None:
        if self.paragraphs:
            self.paragraphs[-1] += data


def rendered(html_text: str) -> tuple[list[str], list[str]]:
    """The text of each <p>, and every tag, of rendered HTML."""
    parser = _Text()
    parser.feed(html_text)
    return [" ".join(p.split()) for p in parser.paragraphs], parser.tags


def split(text: str) -> tuple[dict, str]:
    _, front, body = text.split("---\n", 2)
    return yaml.safe_load(front), body


def run_import(cli, root: Path, *args):
    return cli("import", "--config", root / "pyproject.toml", *args)


def samples() -> list[Path]:
    found = sorted(SAMPLES.glob("*.txt")) if SAMPLES.is_dir() else []
    if not found:
        pytest.skip("../shared/importer-samples is not beside this checkout")
    return found


def test_samples_import_to_the_editors_front_matter_and_text(cli, make_site, tmp_path):
    root = make_site()
    for sample in samples():
        run = run_import(cli, root, sample, "--into", tmp_path / "out")
        assert run.code == 0, run.err
        written = Path(run.out.split()[1])
        written = written if written.is_absolute() else root / written
        ours, our_body = split(written.read_text(encoding="utf-8"))
        theirs, their_body = split(sample.with_suffix(".md").read_text(encoding="utf-8"))
        # `source` is the file's path (from the project's folder, or whole from elsewhere, as here): the editor
        # wrote its name
        assert (ours.pop("source"), theirs.pop("source")) == (sample.resolve().as_posix(), sample.name)
        assert ours == theirs, sample.name
        # The editor's file is plain Markdown; ours must render, through the site's own pipeline with
        # smart quotes on, to the very same paragraphs.
        assert rendered(to_html(RENDER, our_body, "sanitize"))[0] == rendered(markdown.markdown(their_body))[0]


PIECES = st.sampled_from(list("abc XYZ 019 \\`*_{}[]()#+-.!|\"'<>&;:=~^$%@/?,é’“") + [
    "&amp;", "&#35;", "<b>", "1. ", "- ", "> ", "    ", "---", "...", "[^1]", "{: .x}", "<http://x.y>", "~~~",
    "```", "  ", "*[HTML]: x", "[TOC]", "<!-- c -->", "2) ", "+ ", "=== ", ": def", "| a |"])
PARAGRAPHS = st.lists(PIECES, min_size=1, max_size=25).map("".join).map(lambda s: " ".join(s.split())).filter(bool)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(PARAGRAPHS, min_size=1, max_size=4))
def test_fidelity_property_imported_text_renders_as_typed(paragraphs):
    body = "\n\n".join(escape(p) for p in paragraphs)
    texts, tags = rendered(to_html(RENDER, body, "sanitize"))
    assert set(tags) == {"p"} and texts == paragraphs


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(PARAGRAPHS.filter(lambda p: len(p) > 3))
def test_fidelity_property_through_the_whole_importer(paragraph):
    copy = parse("A headline\nBy Ann Lee - 2022-02-28\n\nStory opens here.\n\n" + paragraph + "\n\nStory ends.\n")
    assert copy.paragraphs[1] == paragraph


def test_writes_prints_and_never_overwrites_without_force(cli, make_site):
    root = make_site()
    wire = root / "wire"
    write_files(wire, {"storm.txt": "Storm closes the coast road\nBy Ann Lee - 3 March 2024\n\nThe road shut.\n"})
    run = run_import(cli, root, wire)
    assert (run.code, run.out) == (0, "wrote content/articles/news/storm-closes-the-coast-road.md\n")
    target = root / "content/articles/news/storm-closes-the-coast-road.md"
    target.write_text(target.read_text() + "\nAn editor's added paragraph.\n")
    before = snapshot(root / "content")
    again = run_import(cli, root, wire / "storm.txt")
    assert again.code == 1 and again.out == ""
    assert again.lines == ["wire/storm.txt: error: already imported as content/articles/news/"
                           "storm-closes-the-coast-road.md; left alone (use --force to replace it)"]
    assert snapshot(root / "content") == before
    forced = run_import(cli, root, wire / "storm.txt", "--force")
    assert forced.code == 0 and "editor's added" not in target.read_text()
    assert not list(target.parent.glob(".*.tmp"))


def test_a_different_article_with_the_same_slug_gets_a_number(cli, make_site):
    root = make_site()
    write_files(root, {"a/one.txt": "Council meets\nBy Ann Lee - 2024-03-03\n\nFirst.\n",
                       "b/two.txt": "Council meets\nBy Bo Chen - 2024-03-04\n\nSecond.\n"})
    run = run_import(cli, root, root / "a/one.txt", root / "b/two.txt", "--section", "City Hall")
    assert run.code == 0
    second = root / "content/articles/city-hall/council-meets-2.md"
    front, body = split(second.read_text())
    assert (front["slug"], front["source"], front["section"], body.strip()) == ("council-meets-2", "b/two.txt",
                                                                                "city-hall", "Second.")


def test_dry_run_prints_front_matter_and_writes_nothing(cli, make_site):
    root = make_site()
    write_files(root, {"in.txt": "Ferry returns\nBy Ann Lee - 2024-03-03\n\nBack on the water.\n"})
    before = snapshot(root / "content")
    run = run_import(cli, root, root / "in.txt", "--dry-run")
    assert run.code == 0 and run.out.startswith("would write content/articles/news/ferry-returns.md\n---\n")
    assert "title: Ferry returns\n" in run.out and "source: in.txt\n" in run.out
    assert snapshot(root / "content") == before


def test_bad_files_are_reported_and_the_rest_imports(cli, make_site):
    root = make_site()
    write_files(root, {"in/empty.txt": "", "in/binary.txt": b"\x89PNG\r\n\x1a\n\0\0\0", "in/short.txt": "Headline\n",
                       "in/good.txt": "Harbour reopens\nBy Ann Lee - 2024-03-03\n\nShips return.\n"})
    run = run_import(cli, root, root / "in", root / "missing.txt")
    assert run.code == 1
    assert run.out == "wrote content/articles/news/harbour-reopens.md\n"
    assert sorted(run.lines) == sorted([
        "in/binary.txt: error: not an article: binary data, not plain text; skipped",
        "in/empty.txt: error: not an article: the file is empty; skipped",
        "in/short.txt: error: not an article: no paragraphs after the headline; skipped",
        f"{root / 'missing.txt'}: error: no such file or folder"])


def test_no_byline_uses_flags_and_says_so(cli, make_site):
    root = make_site()
    write_files(root, {"in.txt": "Library extends hours\n\nThe library opens later.\n"})
    run = run_import(cli, root, root / "in.txt", "--author", "Desk Editor", "--date", "March 3, 2024")
    assert run.code == 0
    assert run.lines == ["in.txt: note: no byline: author 'Desk Editor', date 2024-03-03 (--date)"]
    front, _ = split((root / "content/articles/news/library-extends-hours.md").read_text())
    assert (front["authors"], str(front["date"])) == (["Desk Editor"], "2024-03-03")


def test_yaml_pitfalls_are_quoted(cli, make_site):
    root = make_site()
    write_files(root, {"in.txt": "No\nBy Ann Lee - 2024-03-03\n\nA headline of one word.\n"})
    assert run_import(cli, root, root / "in.txt").code == 0
    front, _ = split((root / "content/articles/news/no.md").read_text())
    assert front["title"] == "No"


def test_imported_copy_builds_into_a_complete_article_page(cli, make_site):
    root = make_site()
    text = ("Tram depot opens its doors\nFamilies toured the new depot on Saturday\nBy Ann Lee and Bo Chen - "
            "March 2, 2024\n\nA tram in the new shed. (Photo credit: Cy Diaz/Courier)\n\n"
            "About 3,000 people visited; the *queue* reached the gate.\n\n# Trams <b>run</b> every 6 minutes.\n\n"
            "Most Popular\nCouncil votes on budget\nStorm warning\n")
    write_files(root, {"in.txt": text})
    assert run_import(cli, root, root / "in.txt").code == 0
    assert cli("build", "--config", root / "pyproject.toml").code == 0
    page = root / "site/2024/03/tram-depot-opens-its-doors/index.html"
    tree = html5lib.parse(page.read_bytes())
    story = tree.find(".//h:article[@class='story']", NS)
    assert story.find(".//h:h1", NS).text == "Tram depot opens its doors"
    assert story.find(".//h:p[@class='standfirst']", NS).text == "Families toured the new depot on Saturday"
    byline = "".join(story.find(".//h:p[@class='byline']", NS).itertext())
    assert "Ann Lee" in byline and "Bo Chen" in byline
    assert story.find(".//h:time", NS).get("datetime") == "2024-03-02T00:00:00+00:00"
    caption = story.find(".//h:figcaption", NS)
    assert caption.text.strip() == "A tram in the new shed." and caption.find("h:span", NS).text == "Cy Diaz/Courier"
    body = [" ".join("".join(p.itertext()).split()) for p in story.findall(".//h:div[@class='story-body']/h:p", NS)]
    assert body == ["About 3,000 people visited; the *queue* reached the gate.", "# Trams <b>run</b> every 6 minutes."]
    body_html = page.read_text().split('class="story-body"')[1].split("</div>")[0]
    assert not re.search(r"Most Popular|Storm warning", body_html)


STORY = "{title}\nBy Ann Lee - 2024-03-03\n\n{body}\n"


def test_two_files_of_one_name_in_two_folders_are_two_articles_and_force_never_merges_them(cli, make_site):
    root = make_site()
    write_files(root, {"wire/monday/story.txt": STORY.format(title="Ferry strike called off", body="Monday."),
                       "wire/tuesday/story.txt": STORY.format(title="Bridge reopens early", body="Tuesday.")})
    run = run_import(cli, root, root / "wire")
    assert (run.code, run.out) == (0, "wrote content/articles/news/ferry-strike-called-off.md\n"
                                      "wrote content/articles/news/bridge-reopens-early.md\n")
    ferry, bridge = (root / "content/articles/news" / name for name in ("ferry-strike-called-off.md",
                                                                        "bridge-reopens-early.md"))
    assert split(ferry.read_text())[0]["source"] == "wire/monday/story.txt"
    assert split(bridge.read_text())[0]["source"] == "wire/tuesday/story.txt"
    write_files(root, {"wire/tuesday/story.txt": STORY.format(title="Bridge reopens early", body="Tuesday, later.")})
    again = run_import(cli, root, root / "wire")
    assert again.code == 1 and again.lines == [
        "wire/monday/story.txt: error: already imported as content/articles/news/ferry-strike-called-off.md; left "
        "alone (use --force to replace it)",
        "wire/tuesday/story.txt: error: already imported as content/articles/news/bridge-reopens-early.md; left "
        "alone (use --force to replace it)"]
    forced = run_import(cli, root, root / "wire", "--force")
    assert forced.code == 0 and sorted(p.name for p in ferry.parent.iterdir()) == [bridge.name, ferry.name]
    assert "Monday." in ferry.read_text() and "Tuesday, later." in bridge.read_text()


def test_the_same_bytes_in_another_folder_are_the_article_already_imported(cli, make_site):
    root = make_site()
    text = STORY.format(title="Ferry strike called off", body="Monday.")
    write_files(root, {"inbox/ferry.txt": text, "archive/2024/ferry-copy.txt": text})
    assert run_import(cli, root, root / "inbox").code == 0
    run = run_import(cli, root, root / "archive")
    assert run.code == 1 and run.lines == ["archive/2024/ferry-copy.txt: error: already imported as "
                                           "content/articles/news/ferry-strike-called-off.md; left alone (use "
                                           "--force to replace it)"]


def test_a_symbolic_link_out_of_the_folder_is_not_followed(cli, make_site, tmp_path):
    root = make_site()
    write_files(tmp_path, {"secrets/token.txt": STORY.format(title="A secret token", body="hunter2")})
    write_files(root, {"wire/real.txt": STORY.format(title="Harbour reopens", body="Ships return.")})
    (root / "wire/token.txt").symlink_to(tmp_path / "secrets/token.txt")
    (root / "wire/again.txt").symlink_to(root / "wire/real.txt")  # a link inside the folder: the same file
    (root / "wire/elsewhere").symlink_to(tmp_path / "secrets", target_is_directory=True)
    run = run_import(cli, root, root / "wire")
    assert run.code == 0 and run.out == "wrote content/articles/news/harbour-reopens.md\n"
    assert run.lines == ["wire/token.txt: warning: symbolic link points outside wire; not followed"]
    assert "hunter2" not in "".join(p.read_text() for p in (root / "content").rglob("*.md"))


@pytest.mark.parametrize(("name", "data"), [
    ("report.txt", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(range(128, 256)) * 4),
    ("letter.txt", b"PK\x03\x04\x14\x01\x06\x01\x08\x01word/document.xml" + b"\x8b\x1f" * 200),
    ("noise.txt", b"Headline\n\n" + bytes(n % 32 for n in range(1, 400) if n % 32 not in (0, 9, 10, 13)) * 3),
], ids=["pdf", "docx", "control-characters"])
def test_binary_files_without_nul_bytes_are_refused(cli, make_site, name, data):
    root = make_site()
    write_files(root, {f"in/{name}": data})
    run = run_import(cli, root, root / "in")
    assert run.code == 1 and run.lines == [f"in/{name}: error: not an article: binary data, not plain text; skipped"]
    assert not list((root / "content").rglob("*.md"))


def test_utf16_text_with_its_byte_order_mark_is_read(cli, make_site):
    root = make_site()
    write_files(root, {"in.txt": STORY.format(title="Café reopens", body="Coffee again.").encode("utf-16")})
    run = run_import(cli, root, root / "in.txt")
    assert run.code == 0 and run.lines == ["in.txt: note: UTF-16; read as such"]
    assert split((root / "content/articles/news/cafe-reopens.md").read_text())[0]["title"] == "Café reopens"


def test_a_file_name_that_is_not_utf8_is_reported_not_an_internal_error(cli, make_site):
    root = make_site()
    folder = root / "wire"
    folder.mkdir()
    try:
        (folder / os.fsdecode(b"caf\xe9.txt")).write_text(STORY.format(title="Cafe", body="Words."))
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system takes only UTF-8 names")
    write_files(root, {"wire/good.txt": STORY.format(title="Harbour reopens", body="Ships return.")})
    run = run_import(cli, root, folder)
    assert run.code == 1 and run.out == "wrote content/articles/news/harbour-reopens.md\n"
    assert run.lines == ["wire/caf\\xe9.txt: error: the file name is not valid UTF-8; skipped (rename it, e.g. "
                         "with the name the sender meant)"]


@pytest.mark.parametrize(("section", "why"), [("!!!", "give it a name with letters or digits"),
                                               ("CON", "'con': a reserved or invalid file name on Windows")])
def test_a_section_flag_without_a_usable_address_is_a_usage_error(cli, make_site, section, why):
    root = make_site()
    write_files(root, {"in.txt": STORY.format(title="Harbour reopens", body="Ships return.")})
    run = run_import(cli, root, root / "in.txt", "--section", section)
    assert (run.code, run.lines) == (2, [f"broadsheet: error: --section '{section}' makes no usable section ({why})"])
    assert not list((root / "content").rglob("*.md"))
