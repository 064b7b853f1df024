"""The model: what is published, in which order, grouped how, at which URL."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from broadsheet.config import Folders, load_config
from broadsheet.content import load, survey
from broadsheet.model import Selection, make_site, output_path

from .conftest import article

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=ZoneInfo("Europe/London"))


def site_of(make_site, files, drafts=False, future=False, config=None):
    root = make_site(files) if config is None else make_site(files, config)
    cfg = load_config(root / "pyproject.toml")
    problems = []
    content = load(cfg, survey(cfg, Folders(root / "content", root / "layouts", root / "site"), problems), problems)
    return make_site_(cfg, content, problems, drafts, future), problems


def make_site_(cfg, content, problems, drafts, future):
    return make_site(cfg, content, Selection(NOW, drafts, future), problems)


def test_drafts_and_future_articles_are_left_out_unless_asked(make_site):
    files = {"content/articles/news/a.md": article("Published", "2024-05-01"),
             "content/articles/news/b.md": article("Unfinished", "2024-05-02", draft="true"),
             "content/articles/news/c.md": article("Tomorrow", "2024-06-02")}
    site, _ = site_of(make_site, files)
    assert [a.title for a in site.articles] == ["Published"]
    site, _ = site_of(make_site, files, drafts=True, future=True)
    assert [a.title for a in site.articles] == ["Tomorrow", "Unfinished", "Published"]


def test_newest_first_ties_broken_by_title(make_site):
    site, _ = site_of(make_site, {
        "content/articles/news/1.md": article("Beta", "2024-05-01 10:00"),
        "content/articles/news/2.md": article("alpha", "2024-05-01 10:00"),
        "content/articles/news/3.md": article("Gamma", "2024-05-03"),
    })
    assert [a.title for a in site.articles] == ["Gamma", "alpha", "Beta"]


def test_permalink_uses_the_local_date(make_site):
    site, _ = site_of(make_site, {"content/articles/news/a.md": article("Late", "2024-03-31T23:30:00-02:00")})
    assert site.articles[0].url == "/2024/04/late/"
    assert output_path(site.articles[0].url) == "2024/04/late/index.html"


def test_sections_tags_authors_and_lead(make_site):
    site, _ = site_of(make_site, {
        "content/articles/sport/a.md": article("Cup final", "2024-05-01", authors="[Ann Lee]", tags="[football]"),
        "content/articles/culture/b.md": article("Gallery opens", "2024-05-02", author="Bo Chen",
                                                 tags="[art, football]", featured="true"),
        "content/articles/culture/c.md": article("Newest", "2024-05-03", authors="[Ann Lee, Bo Chen]"),
        "content/authors/ann-lee.md": "---\nname: Ann Lee\nrole: Sports writer\n---\nAnn.\n",
    })
    assert [(s.slug, s.name, s.url, len(s.articles)) for s in site.sections] == [
        ("culture", "Culture", "/culture/", 2), ("sport", "Sport", "/sport/", 1)]
    assert [(t.name, t.url, [a.title for a in t.articles]) for t in site.tags] == [
        ("art", "/tags/art/", ["Gallery opens"]), ("football", "/tags/football/", ["Gallery opens", "Cup final"])]
    ann = site.author("Ann Lee")
    assert ann.url == "/authors/ann-lee/" and ann.profile.role == "Sports writer" and len(ann.articles) == 2
    assert site.author("Bo Chen").profile is None
    assert site.lead.title == "Gallery opens"


def test_section_order_and_names_come_from_config(make_site):
    config = ('[tool.broadsheet]\ntitle = "G"\nbase_url = "https://e.org/"\n'
              '[tool.broadsheet.sections]\nzeta = "Z desk"\n')
    site, _ = site_of(make_site, {"content/articles/alpha/a.md": article("A"),
                                  "content/articles/zeta/z.md": article("Z")}, config=config)
    assert [(s.slug, s.name) for s in site.sections] == [("zeta", "Z desk"), ("alpha", "Alpha")]


def test_pagination_urls(make_site):
    files = {f"content/articles/news/{n}.md": article(f"Story {n}", f"2024-05-{n:02d}") for n in range(1, 8)}
    site, _ = site_of(make_site, files)
    pages = [lst for lst in site.listings if lst.kind == "section"]
    assert [lst.url for lst in pages] == ["/news/", "/news/page/2/", "/news/page/3/"]
    assert [len(lst.articles) for lst in pages] == [3, 3, 1]
    assert (pages[0].prev_url, pages[0].next_url) == ("", "/news/page/2/")
    assert (pages[2].prev_url, pages[2].next_url) == ("/news/page/2/", "")
    assert pages[0].articles[0].title == "Story 7"


def test_two_sources_for_one_output_name_both(make_site):
    _, problems = site_of(make_site, {
        "content/articles/news/a.md": article("Same title", "2024-05-01"),
        "content/articles/news/b.md": article("Same Title!", "2024-05-02"),
        "content/articles/news/c.md": article("Café", "2024-05-03"),
        "content/articles/news/d.md": article("Cafe", "2024-05-04"),
        "content/pages/news.md": "---\ntitle: News desk\n---\n",
    })
    found = sorted((p.path, p.message) for p in problems)
    assert found == [
        ("content/articles/news/b.md", "writes the same output file 2024/05/same-title/index.html as "
                                       "content/articles/news/a.md"),
        ("content/articles/news/d.md", "writes the same output file 2024/05/cafe/index.html as "
                                       "content/articles/news/c.md"),
        ("content/pages/news.md", "writes the same output file news/index.html as the section page 'News'"),
    ]


def test_a_file_where_another_source_needs_a_folder_is_an_error_naming_both(make_site):
    _, problems = site_of(make_site, {
        "content/articles/news/a.md": article("A", "2024-01-05", slug="index.html"),
        "content/articles/news/b.md": article("A", "2024-01-06", slug="a"),
        "content/pages/p.md": "---\ntitle: Not found\nslug: 404.html\n---\n",
        "content/pages/f.md": "---\ntitle: Feed\nslug: feed.xml\n---\n",
        "content/Maps": "a file",
        "content/maps/city.svg": "<svg/>",
        "content/search/docs-0.json": "{}",
        "content/2024/01/a": "a file where the story's folder goes",
    })
    assert sorted((p.path, p.message) for p in problems) == [
        ("content/2024/01/a", "writes the output file 2024/01/a, where content/articles/news/b.md needs a folder "
                              "(for 2024/01/a/index.html)"),
        ("content/articles/news/a.md", "writes the output file 2024/01/index.html/index.html inside "
                                       "2024/01/index.html, which the archive page 'January 2024' writes as a file"),
        ("content/maps/city.svg", "writes the output file maps/city.svg inside Maps, which content/Maps writes as "
                                  "a file"),
        ("content/pages/f.md", "writes the output file feed.xml/index.html inside feed.xml, which the site's Atom "
                               "feed writes as a file"),
        ("content/pages/p.md", "writes the output file 404.html/index.html inside 404.html, which the 404 page "
                               "writes as a file"),
        ("content/search/docs-0.json", "writes the output file search/docs-0.json where the search index keeps "
                                       "its files (search/*.json)"),
    ]


def test_tags_that_differ_only_in_case_are_one_error(make_site):
    _, problems = site_of(make_site, {"content/articles/news/a.md": article("A", tags="[Trams]"),
                                      "content/articles/news/b.md": article("B", tags="[trams]")})
    assert [p.message for p in problems] == ["tag 'trams' shares the address /tags/trams/ with 'Trams'"]


def test_a_name_without_a_usable_slug_is_told_what_to_do_not_to_spell_two_alike(make_site):
    _, problems = site_of(make_site, {"content/articles/news/a.md": article("A", tags='["!!!", Con]')})
    assert [(p.message, p.hint) for p in problems] == [
        ("tag '!!!' has no usable slug", "give it a name with letters or digits"),
        ("tag 'Con' has no usable slug", "'con': a reserved or invalid file name on Windows")]


def test_two_articles_with_one_feed_id_are_an_error_naming_both(make_site):
    _, problems = site_of(make_site, {
        "content/articles/news/a.md": article("First", "2024-05-01", id="urn:uuid:5ca1ab1e"),
        "content/articles/news/b.md": article("Copied from the first", "2024-05-02", id="urn:uuid:5ca1ab1e"),
        "content/articles/news/c.md": article("Scheduled", "2024-07-01", id="cup"),
        "content/articles/news/d.md": article("Another draft", "2024-07-01", id="cup", draft="true"),
        "content/articles/news/e.md": article("Same id, other day", "2024-07-02", id="cup")})
    assert [(p.path, p.message, p.hint) for p in problems] == [
        ("content/articles/news/b.md", "has the same feed id 'urn:uuid:5ca1ab1e' as content/articles/news/a.md",
         "give one of them another 'id:', or none for one made from its path"),
        ("content/articles/news/d.md", "has the same feed id 'tag:example.org,2024-07-01:cup' as "
         "content/articles/news/c.md", "give one of them another 'id:', or none for one made from its path")]
