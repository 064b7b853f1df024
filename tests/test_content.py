"""Front matter and content files: what is read, and every problem reported at its line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from broadsheet.bodies import Bodies
from broadsheet.config import Folders, load_config
from broadsheet.content import load, survey
from broadsheet.errors import Problem
from broadsheet.incremental.cache import Cache

from .conftest import CONFIG, article


def read(make_site, files: dict[str, str | bytes], cache: bool = False, config: str = CONFIG):
    """Load a tiny site's content; returns (content, problems), and with `cache` the store of its bodies."""
    root = make_site(files, config)
    config = load_config(root / "pyproject.toml")
    problems: list[Problem] = []
    sources = survey(config, Folders(root / "content", root / "layouts", root / "site"), problems)
    if not cache:
        return load(config, sources, problems), problems
    kept = Cache(root / ".site.cache", config)
    return load(config, sources, problems, kept), problems, Bodies(kept)


def messages(problems: list[Problem]) -> list[str]:
    return [str(p).split(": ", 1)[1] for p in problems]


def one_article(make_site, text: str | bytes):
    content, problems = read(make_site, {"content/articles/world/story.md": text})
    return (content.articles[0] if content.articles else None), problems


def test_full_front_matter_is_read(make_site):
    text = """\
    ---
    title: Tram line opens
    date: 2024-03-14 09:30
    updated: 2024-03-15
    authors: [Ann Lee, Bo Chen]
    description: The first trams ran at dawn
    tags: [trams, city council]
    image:
      src: /images/tram.svg
      alt: A tram at a stop
      caption: The first tram leaves the depot.
      credit: Courier Graphics
    ---
    The **first** tram ran at 05:30.
    """
    content, problems, bodies = read(make_site, {"content/articles/world/tram.md": text,
                                                 "content/images/tram.svg": "<svg/>"}, cache=True)
    assert problems == []
    story = content.articles[0]
    assert story.title == "Tram line opens"
    assert story.date.isoformat() == "2024-03-14T09:30:00+00:00"
    assert story.updated.isoformat() == "2024-03-15T00:00:00+00:00"
    assert story.authors == ("Ann Lee", "Bo Chen")
    assert story.section == "world"
    assert story.tags == ("trams", "city council")
    assert story.image.src == "/images/tram.svg" and story.image.credit == "Courier Graphics"
    assert story.slug == "tram-line-opens"
    assert "<strong>first</strong>" in bodies.html(story.body)
    assert [a.path for a in content.assets] == ["images/tram.svg"] + [
        a.path for a in content.assets if a.path.startswith("static/")]


def test_naive_dates_are_in_the_site_timezone(make_site):
    story, _ = one_article(make_site, article(date="2024-07-01 12:00"))
    assert story.date.utcoffset().total_seconds() == 3600  # British Summer Time
    story, _ = one_article(make_site, article(date="2024-07-01T12:00:00+02:00"))
    assert story.date.isoformat() == "2024-07-01T11:00:00+01:00"


@pytest.mark.parametrize(("typed", "kept"), [("no", "no"), ("2022", "2022"), ("'yes'", "yes"),
                                             ("1.10", "1.10"), ("null title", "null title")])
def test_title_is_kept_as_typed(make_site, typed, kept):
    story, problems = one_article(make_site, article(title=typed))
    assert problems == []
    assert story.title == kept


def test_single_author_and_empty_tags(make_site):
    story, problems = one_article(make_site, article(author="Staff Reporter", tags=""))
    assert problems == []
    assert story.authors == ("Staff Reporter",)
    assert story.tags == ()


def test_section_defaults(make_site):
    content, problems = read(make_site, {
        "content/articles/top.md": article(title="At the top"),
        "content/articles/culture/2024/deep.md": article(title="Deep down"),
        "content/articles/culture/moved.md": article(title="Moved", section="Sport"),
    })
    assert problems == []
    assert {a.title: a.section for a in content.articles} == {
        "At the top": "news", "Deep down": "culture", "Moved": "sport"}


def test_caption_and_credit_without_a_picture(make_site):
    story, problems = one_article(make_site, article(image="\n  caption: Crowds at the gate.\n  credit: Ann Lee"))
    assert problems == []
    assert story.image.src == "" and story.image.caption == "Crowds at the gate."


def test_bom_and_crlf_are_accepted_with_true_line_numbers(make_site):
    text = "\ufeff---\r\ntitle: Fine\r\ndate: 2024-13-01\r\n---\r\nBody\r\n"
    _, problems = one_article(make_site, text.encode("utf-8"))
    assert [str(p) for p in problems] == [
        "content/articles/world/story.md:3:7: error: invalid date '2024-13-01': month must be in 1..12"]


@pytest.mark.parametrize(("text", "expected"), [
    ("---\ntitle: \"open\ndate: 2024-01-01\n---\nx\n", ":4:1: error: front matter: found unexpected end of stream"),
    ("---\ntitle: x\n\tdate: 2024-01-01\n---\nx\n", ":3:1: error: tabs are not allowed for indentation"),
    ("---\ntitle: x\ndate: 2024-01-01\ntitle: y\n---\nx\n", ":4:1: error: duplicate key 'title' (first set on line 2)"),
    ("---\n- a\n- b\n---\nx\n", ":2:1: error: front matter must be a mapping (key: value), got list"),
    ("---\ntitle: x\ndate: 2024-01-01\n\nNo closing line.\n", ":1:1: error: front matter opened here is never closed"),
    ("Just text, no front matter.\n", ":1:1: error: no front matter"),
    ("---\ntitle: &a x\ndate: 2024-01-01\n---\nx\n", ":2:8: error: YAML anchors/aliases are not allowed"),
    ("---\ntitle: !!python/object/apply:os.system [ls]\ndate: 2024-01-01\n---\nx\n",
     ":2:8: error: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed"),
    ("---\n1: one\ntitle: x\ndate: 2024-01-01\n---\nx\n", ":2:1: error: front matter key '1' must be text"),
    ("---\ntitle: x\ndate: 2022-02-30\n---\nx\n", ":3:7: error: invalid date '2022-02-30': day is out of range"),
    ("---\ntitle: x\ndate: next tuesday\n---\nx\n", ":3:7: error: invalid date 'next tuesday'"),
    ("---\ndate: 2024-01-01\n---\nx\n", ":1:1: error: missing required field 'title'"),
    ("---\ntitle: x\n---\nx\n", ":1:1: error: missing required field 'date'"),
    ("---\ntitle: x\ndate: 2024-01-01\ndraft: yes\n---\nx\n", ":4:8: error: 'draft' must be true or false, not 'yes'"),
    ("---\ntitle: [a, b]\ndate: 2024-01-01\n---\nx\n", ":2:8: error: 'title' must be text"),
    ("---\ntitle: '!!!'\ndate: 2024-01-01\n---\nx\n", ":2:8: error: the slug is empty"),
    ("---\ntitle: x\nslug: ../../etc/x\ndate: 2024-01-01\n---\nx\n", ":3:7: error: invalid slug '../../etc/x'"),
    ("---\ntitle: x\nslug: CON\ndate: 2024-01-01\n---\nx\n", ":3:7: error: invalid slug 'CON'"),
    ("---\ntitle: x\ndate: 2024-01-01\nimage: {src: /images/none.jpg, alt: y}\n---\nx\n",
     ":4:8: error: image src '/images/none.jpg' not found"),
    ("---\ntitle: x\ndate: 2024-01-01\nimage: javascript:alert(1)\n---\nx\n",
     ":4:8: error: image src 'javascript:alert(1)' must be a file in content/ or an http(s) URL"),
    ("   \n", ":1:1: error: file is empty"),
])
def test_bad_front_matter_is_one_located_error(make_site, text, expected):
    story, problems = one_article(make_site, text)
    assert story is None
    assert [p.severity for p in problems] == ["error"]
    assert str(problems[0]).startswith("content/articles/world/story.md" + expected)


def test_non_utf8_names_byte_and_position(make_site):
    _, problems = one_article(make_site, b"---\ntitle: caf\xe9\ndate: 2024-01-01\n---\n")
    assert str(problems[0]) == ("content/articles/world/story.md:2:11: error: file is not valid UTF-8 "
                                "(byte 0xE9 at offset 14) (save it as UTF-8)")


def test_unknown_key_is_a_warning_with_a_suggestion(make_site):
    story, problems = one_article(make_site, article(tittle="x"))
    assert story is not None
    assert str(problems[0]) == ("content/articles/world/story.md:4:1: warning: unknown front matter key "
                                "'tittle' (did you mean 'title'?)")


def test_reserved_python_frontmatter_keys_do_not_crash(make_site):
    story, problems = one_article(make_site, article(content="x", handler="y"))
    assert story is not None
    assert [p.severity for p in problems] == ["warning", "warning"]


def test_all_problems_of_all_files_are_collected(make_site):
    _, problems = read(make_site, {
        "content/articles/a.md": "---\ntitle: x\n---\n",
        "content/articles/b.md": "---\ndate: 2024-01-01\n---\n",
        "content/pages/c.md": "---\ndescription: no title\n---\n",
    })
    assert [(p.path.rsplit("/", 1)[1], p.message) for p in problems] == [
        ("a.md", "missing required field 'date'"), ("b.md", "missing required field 'title'"),
        ("c.md", "missing required field 'title'")]


def test_pages_profiles_assets_and_ignored_files(make_site):
    content, problems = read(make_site, {
        "content/pages/about.md": "---\ntitle: About us\n---\nWe report.\n",
        "content/authors/ann-lee.md": "---\nname: Ann Lee\nrole: Transport correspondent\n---\nAnn covers trams.\n",
        "content/files/report.pdf": b"%PDF-1.4",
        "content/data/pageviews.csv": "path,views\n",
        "content/articles/.draft.md.swp": b"\0\0",
        "content/articles/notes.md~": "x",
    })
    assert problems == []
    assert [(p.slug, p.title) for p in content.pages] == [("about", "About us")]
    assert [(p.slug, p.name, p.role) for p in content.profiles] == [("ann-lee", "Ann Lee", "Transport correspondent")]
    assert "files/report.pdf" in [a.path for a in content.assets]
    assert not [a for a in content.assets if a.path.startswith(("data/", "articles/"))]


def test_a_link_out_of_content_or_to_a_hidden_file_is_an_error_naming_it(make_site, tmp_path: Path):
    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    root = make_site({".git/config": "[remote]\n\turl = https://token@example.org/x\n", ".env": "KEY=1",
                      "content/.git/config": "x", "content/images/real.png": b"PNG", "layouts/secret.css": "x"})
    links = {"content/images/notes.txt": "../../.git/config", "content/env": "../.env",
             "content/settings.toml": "../pyproject.toml", "content/leak.txt": str(secret),
             "content/images/hidden.txt": "../.git/config", "content/images/alias.png": "real.png",
             "layouts/static/theme.css": "../secret.css"}
    for link, target in links.items():
        (root / link).parent.mkdir(parents=True, exist_ok=True)
        (root / link).symlink_to(target)
    content, problems = read(make_site, {})
    assert all(p.severity == "error" for p in problems)
    assert {p.path: p.message for p in problems} == {
        "content/images/notes.txt": "symbolic link leads outside content/ (to .git/config); not published",
        "content/env": "symbolic link leads outside content/ (to .env); not published",
        "content/settings.toml": "symbolic link leads outside content/ (to pyproject.toml); not published",
        "content/leak.txt": f"symbolic link leads outside content/ (to {secret}); not published",
        "content/images/hidden.txt": "symbolic link leads to a hidden file in content/ (to content/.git/config); "
                                     "not published",
        "layouts/static/theme.css": "symbolic link leads outside layouts/static/ (to layouts/secret.css); "
                                    "not published"}
    assert problems[0].hint.startswith("copy the file into ")
    published = [a.path for a in content.assets]
    assert "images/alias.png" in published  # a link to another file of content/ is followed
    assert not [p for p in published if p.endswith((".txt", ".toml", "env", "theme.css"))]


def test_markdown_failure_is_reported_not_raised(make_site):
    nested = "".join("    " * depth + "- item\n" for depth in range(400))
    # (Python-Markdown recurses 1.7 s before it fails; far longer on a loaded machine, so a limit beyond reach)
    content, problems = read(make_site, {"content/articles/world/story.md": article(body=nested)},
                             config=CONFIG + "markdown_timeout = 600\n")
    assert not content.articles
    assert problems[0].message.startswith("markdown rendering failed")



INTERACTIVES = CONFIG + 'interactives = ["graphics/"]\n'


@pytest.mark.parametrize("name", ["evil.html", "images/chart.XHTML", "js/app.js", "files/page.htm",
                                  "graphics/map.xslt", "articles/news/embed.mjs", "images/map.svgz"])
def test_a_file_that_runs_script_is_an_error_outside_the_interactives_folders(make_site, name):
    content, problems = read(make_site, {f"content/{name}": "<script>alert(document.cookie)</script>"},
                             config=INTERACTIVES.replace("graphics/", "desk/graphics/"))
    assert [(p.path, p.severity) for p in problems] == [(f"content/{name}", "error")]
    assert problems[0].message.endswith("runs script in readers' browsers on the paper's own site; not published "
                                        "outside the interactives folders")
    assert problems[0].hint == "interactive graphics go in content/desk/graphics/"
    assert name not in [a.path for a in content.assets]
    _, problems = read(make_site, {})  # and without the setting, the hint shows how to declare one
    assert 'interactives = ["graphics/"]' in problems[0].hint


def test_the_interactives_folders_are_published_as_they_are(make_site):
    files = {"content/graphics/election/index.html": "<script src='app.js'></script>",
             "content/graphics/election/app.js": "draw()", "content/graphics/election/map.svg":
             '<svg xmlns="http://www.w3.org/2000/svg" onload="draw()"><script>draw()</script></svg>'}
    content, problems = read(make_site, files, config=INTERACTIVES)
    assert problems == []
    assert sorted(a.path for a in content.assets if a.path.startswith("graphics/")) == [
        "graphics/election/app.js", "graphics/election/index.html", "graphics/election/map.svg"]


CLEAN_SVG = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="40" height="30">'


@pytest.mark.parametrize(("body", "at", "what"), [
    ('<script>alert(1)</script>', (2, 1), "a <script>"),
    ('<rect onload="alert(1)"/>', (2, 1), "an event handler (onload=)"),
    ('<foreignObject><p>x</p></foreignObject>', (2, 1), "a <foreignObject> (HTML inside the picture)"),
    ('<g><html:b xmlns:html="http://www.w3.org/1999/xhtml"/></g>', (2, 4), "HTML markup (<b>)"),
    ('<image xlink:href="https://tracker.example/p.png"/>', (2, 1),
     "a reference to another file (https://tracker.example/p.png in <image>)"),
    ('<use href="/images/sprite.svg#logo"/>', (2, 1), "a reference to another file (/images/sprite.svg#logo in <use>)"),
    ('<a href=" java&#9;script:alert(1)"><text>x</text></a>', (2, 1), 'a script address (href="java script:alert(1)")'),
    ('<a><set attributeName="href" to="https://example.org/"/></a>', (2, 4),
     'an animation of its links or event handlers (attributeName="href")'),
    ('<style>@import "https://fonts.example/f.css";</style>', (2, 1),
     'a style that loads from another file (<style> @import "https://fonts.example/f.css";)'),
    ('<rect style="fill: u\\72 l(https://t.example/x)"/>', (2, 1),
     "a style that loads from another file (style= fill: u\\72 l(https://t.example/x))"),
])
def test_an_svg_picture_that_could_run_script_or_fetch_is_an_error_at_its_line(make_site, body, at, what):
    content, problems = read(make_site, {"content/images/chart.svg": f"{CLEAN_SVG}\n{body}\n</svg>\n"})
    assert [(p.path, p.line, p.col, p.message) for p in problems] == [
        ("content/images/chart.svg", *at, f"SVG picture holds {what}; not published")]
    assert "images/chart.svg" not in [a.path for a in content.assets]


def test_what_cannot_be_checked_is_refused_too(make_site):
    _, problems = read(make_site, {
        "content/images/entities.svg": '<!DOCTYPE svg [<!ENTITY x "<script>alert(1)</script>">]>\n<svg>&x;</svg>',
        "content/images/broken.svg": f"{CLEAN_SVG}\n<g></svg>",
        "content/images/styled.svg": '<?xml-stylesheet type="text/xsl" href="evil.xsl"?>\n<svg/>',
        "content/feeds/podcast.xml": '<rss><channel><div xmlns="http://www.w3.org/1999/xhtml"/></channel></rss>'})
    assert [str(p).split(" (")[0] for p in problems] == [
        "content/feeds/podcast.xml:1:15: error: XML file holds HTML markup",
        "content/images/broken.svg:2:6: error: SVG picture cannot be read as XML",
        "content/images/entities.svg:1:15: error: SVG picture holds a DOCTYPE with declarations of its own",
        "content/images/styled.svg:1:1: error: SVG picture holds an <?xml-stylesheet?> instruction"]


def test_ordinary_svg_pictures_and_feeds_are_published_as_they_are(make_site):
    drawn = (f'<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x.dtd">\n{CLEAN_SVG}'
             '<defs><linearGradient id="g"/><path id="p" d="M0 0"/></defs><style>.a{fill:url(#g)}</style>'
             '<use xlink:href="#p"/><image href="data:image/png;base64,iVBORw0KGgo="/><rect fill="url(#g)"/>'
             '<a href="https://example.org/source"><text font-family="\'Helvetica Neue\'">Source</text></a>'
             '<sodipodi:namedview xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd"/></svg>')
    content, problems = read(make_site, {"content/images/chart.svg": drawn, "content/feeds/podcast.xml":
                                         '<rss version="2.0"><channel><title>Harbour Talk</title></channel></rss>'})
    assert problems == []
    assert {"images/chart.svg", "feeds/podcast.xml"} <= {a.path for a in content.assets}


def test_a_refused_picture_is_refused_again_from_the_cache(make_site):
    files = {"content/images/chart.svg": f'{CLEAN_SVG}<rect onclick="steal()"/></svg>'}
    first = read(make_site, files, cache=True)[1]
    again = read(make_site, {}, cache=True)[1]
    assert first == again and len(first) == 1 and "onclick" in first[0].message


@pytest.mark.parametrize("name", ["draft.MD", "draft.markdown", "draft.Mdown", "draft.mkd"])
def test_markdown_in_any_case_and_by_any_of_its_names_is_an_article(make_site, cli, name):
    root = make_site({f"content/articles/news/{name}": article("Not yet", draft="true", body="Embargoed words."),
                      "content/articles/news/out.md": article("Out now")})
    content, problems = read(make_site, {})
    assert problems == [] and sorted(a.title for a in content.articles) == ["Not yet", "Out now"]
    assert cli("build", "--config", root / "pyproject.toml").code == 0
    assert not [p for p in (root / "site").rglob("*") if b"Embargoed" in (p.read_bytes() if p.is_file() else b"")]


def test_markdown_and_front_matter_outside_the_sources_folders_are_errors(make_site):
    content, problems = read(make_site, {
        "content/notes.md": article("Notes"), "content/images/README.markdown": "How to name pictures.",
        "content/files/story.txt": article("Draft", draft="true"), "content/files/rule.txt": "---\nnot front matter\n",
        "content/pages/About.MD": "---\ntitle: About us\n---\nWe report.\n"})
    assert [(p.path, p.message.split(";")[0]) for p in problems] == [
        ("content/files/story.txt", "opens with front matter but is not a Markdown file"),
        ("content/images/README.markdown", "Markdown outside articles/, pages/ and authors/ would be copied as it is, "
                                           "front matter and all"),
        ("content/notes.md", "Markdown outside articles/, pages/ and authors/ would be copied as it is, front matter "
                             "and all")]
    assert [a.path for a in content.assets if not a.path.startswith("static/")] == ["files/rule.txt"]
    assert [(p.slug, p.title) for p in content.pages] == [("about", "About us")]


def test_a_source_over_the_limit_is_refused_by_its_size_not_read_whole(make_site):
    """A 3 GB source took 6 GB of memory to be refused; a 1 GB one, under a 1 GB address-space limit, must still
    be refused in its one line (the file is sparse: nothing is written to the disk)."""
    resource = pytest.importorskip("resource")  # (not on Windows)
    root = make_site({"content/articles/news/good.md": article("Good")})
    huge = root / "content/articles/news/huge.md"
    with huge.open("wb") as file:
        file.write(b"---\ntitle: Huge\ndate: 2024-03-14\n---\n")
        file.truncate(2**30)

    def little_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))

    run = subprocess.run([sys.executable, "-m", "broadsheet", "build", "--config", "pyproject.toml"], cwd=root,
                         preexec_fn=little_memory, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and run.stderr.splitlines() == [
        "content/articles/news/huge.md: error: file is larger than the 5 MB limit (1024.0 MB)",
        "Build failed: 1 error; the output folder was not changed."]


def test_a_name_that_is_not_utf8_is_an_error_naming_it_escaped(cli, make_site):
    root = make_site({"content/articles/news/good.md": "---\ntitle: Good\ndate: 2024-01-05\n---\nText.\n"})
    (root / os.fsdecode(b"content/images/caf\xe9.png")).parent.mkdir(parents=True, exist_ok=True)
    (root / os.fsdecode(b"content/images/caf\xe9.png")).write_bytes(b"PNG")
    (root / os.fsdecode(b"content/articles/news/r\xe9sum\xe9.md")).write_text("---\ntitle: R\n---\nText.\n")
    run = cli("build", "--config", root / "pyproject.toml")
    assert run.code == 1 and "internal error" not in run.err
    assert run.lines == [
        "content/articles/news/r\\xe9sum\\xe9.md: error: its name is not valid UTF-8 (copied from an older "
        "system?); not published (rename it)",
        "content/images/caf\\xe9.png: error: its name is not valid UTF-8 (copied from an older system?); not "
        "published (rename it)",
        "Build failed: 2 errors; the output folder was not changed."]
