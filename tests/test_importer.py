"""`broadsheet import`: samples, fidelity, never overwriting, and imported copy building into pages."""

from __future__ import annotations

import html.parser
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
    assert (front["slug"], front["source"], front["section"], body.strip()) == ("council-meets-2", "two.txt",
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
