"""[tool.broadsheet]: validated on load, every mistake named with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from broadsheet.config import load_config
from broadsheet.errors import BuildError


def config_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x"\n\n[tool.broadsheet]\ntitle = "Gazette"\n'
                    'base_url = "https://example.org/newsroom"\n' + body, encoding="utf-8")
    return path


def problems_of(path: Path, overrides=None) -> list[str]:
    with pytest.raises(BuildError) as caught:
        load_config(path, overrides)
    return [f"{p.line}: {p.message}" + (f" ({p.hint})" if p.hint else "") for p in caught.value.problems]


def test_defaults_and_normalised_base_url(tmp_path):
    config = load_config(config_file(tmp_path, ""))
    assert config.base_url == "https://example.org/newsroom/"
    assert config.base_path == "/newsroom/"
    assert (config.language, config.timezone, config.per_page) == ("en", "UTC", 10)
    assert config.permalink == "/{year}/{month}/{slug}/"
    assert config.default_section == "news" and config.raw_html == "sanitize"
    assert config.root == tmp_path.resolve()


def test_flags_override_the_file(tmp_path):
    config = load_config(config_file(tmp_path, ""), {"base_url": "https://news.example.com", "title": None})
    assert config.base_url == "https://news.example.com/" and config.title == "Gazette"


def test_unknown_key_gets_did_you_mean_and_line(tmp_path):
    assert problems_of(config_file(tmp_path, "per_pag = 5\n")) == [
        "7: unknown setting 'per_pag' (did you mean 'per_page'?)"]


@pytest.mark.parametrize(("line", "expected"), [
    ('per_page = "ten"', "setting 'per_page': expected a whole number, got text 'ten'"),
    ("per_page = 0", "setting 'per_page': must be at least 1, got 0"),
    ("description = true", "setting 'description': expected text, got true/false True"),
    ('timezone = "Mars/Olympus"', "setting 'timezone': unknown timezone 'Mars/Olympus'"),
    ('permalink = "/{year}/{title}/"', "setting 'permalink': unknown placeholder {title}"),
    ('permalink = "/{year}/"', "setting 'permalink': must contain {slug}"),
    ('raw_html = "trust"', "setting 'raw_html': must be one of sanitize, escape, allow, got 'trust'"),
    ("[tool.broadsheet.sections]\nworld = 3", "setting 'sections': each section needs a display name"),
])
def test_wrong_values_are_named(tmp_path, line, expected):
    found = problems_of(config_file(tmp_path, line + "\n"))
    assert len(found) == 1 and expected in found[0]


def test_bad_base_url_and_missing_title(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.broadsheet]\nbase_url = "example.org"\n')
    found = problems_of(path)
    assert any("must be an absolute http(s) URL" in p for p in found)
    assert "0: missing required setting 'title' in [tool.broadsheet]" in found


def test_toml_syntax_error_has_line_and_column(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.broadsheet]\ntitle = "x\n')
    with pytest.raises(BuildError) as caught:
        load_config(path)
    problem = caught.value.problems[0]
    assert (problem.line, problem.message.startswith("invalid TOML")) == (2, True)


def test_missing_file_and_missing_table(tmp_path):
    assert problems_of(tmp_path / "nope.toml") == [
        "0: configuration file not found (run from the site's folder or pass --config FILE)"]
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x"\n')
    assert problems_of(path) == ["0: no [tool.broadsheet] table (add one with at least title and base_url)"]


def test_the_demo_configuration_is_valid():
    config = load_config(Path(__file__).resolve().parent.parent / "pyproject.toml")
    assert config.title and config.base_path == "/newsroom/"


def test_interactives_are_folders_inside_content_named_alike(tmp_path):
    config = load_config(config_file(tmp_path, 'interactives = ["graphics", "desk/maps/", "/elections/"]\n'))
    assert config.interactives == ("graphics/", "desk/maps/", "elections/")
    assert load_config(config_file(tmp_path, "")).interactives == ()


@pytest.mark.parametrize(("value", "expected"), [
    ('["../secrets/"]', "each entry must be a folder inside content/ such as \"graphics/\", not '../secrets/'"),
    ('[""]', "each entry must be a folder inside content/ such as \"graphics/\", not ''"),
    ('["graphics/.git"]', "not 'graphics/.git'"),
    ('["articles/"]', "'articles/' holds the newsroom's copy; give interactives a folder of their own"),
    ('"graphics/"', "expected a list, got text 'graphics/'"),
])
def test_interactives_that_would_open_the_copy_or_leave_content_are_named(tmp_path, value, expected):
    found = problems_of(config_file(tmp_path, f"interactives = {value}\n"))
    assert len(found) == 1 and found[0].startswith("7: setting 'interactives': ") and expected in found[0]


@pytest.mark.parametrize(("line", "expected"), [
    ('description = "Local\\u0000news"', "7: setting 'description': holds control character U+0000, which pages and "
                                        "feeds cannot carry"),
    ('import_furniture = ["ok", "Page\\u000b"]', "7: setting 'import_furniture': holds control character U+000B, "
                                                "which pages and feeds cannot carry"),
    ('[tool.broadsheet.sections]\nworld = "World\\u001b[2K"', "0: setting 'sections': holds control character "
                                                              "U+001B, which pages and feeds cannot carry"),
])
def test_a_setting_holding_a_control_character_is_refused(tmp_path, line, expected):
    assert problems_of(config_file(tmp_path, line + "\n")) == [expected]


@pytest.mark.parametrize(("permalink", "expected"), [
    ("//{slug}/", "must not hold an empty, '.' or '..' part ('//{slug}/' would be an address on another site)"),
    ("/{year}//{slug}/", "must not hold an empty, '.' or '..' part"),
    ("/{year}/../{slug}/", "must not hold an empty, '.' or '..' part"),
    ("/{slug.__class__}/", "unknown placeholder {slug.__class__}"),
    ("/{slug}/{slug.__class__.__name__}/", "unknown placeholder {slug.__class__.__name__}"),
    ("/{slug!r}/", "unknown placeholder {slug!r}"),
    ("/{year:>9}/{slug}/", "unknown placeholder {year:>9}"),
    ("/{}/{slug}/", "unknown placeholder {}"),
    ("/{slug", "a '{' or '}' without its pair"),
    ("/{{x}}/{slug}/", "'{' does not belong in a web address"),
    ("/100%/{slug}/", "'%' does not belong in a web address"),
    ("/a#b/{slug}/", "'#' does not belong in a web address"),
], ids=["protocol-relative", "empty-part", "dot-dot", "attribute", "attribute-anywhere", "conversion", "format-spec",
        "positional", "unpaired-brace", "literal-brace", "percent", "hash"])
def test_a_permalink_that_leaves_the_site_or_reads_python_attributes_is_refused(tmp_path, permalink, expected):
    found = problems_of(config_file(tmp_path, f"permalink = '{permalink}'\n"))
    assert len(found) == 1 and f"setting 'permalink': {expected}" in found[0], found


@pytest.mark.parametrize("permalink", ["/{year}/{month}/{slug}/", "/{section}/{year}{month}{day}-{slug}.html",
                                       "/news/{slug}/", "/أخبار/{slug}/"])
def test_ordinary_permalinks_pass(tmp_path, permalink):
    assert load_config(config_file(tmp_path, f"permalink = '{permalink}'\n")).permalink == permalink


def test_a_default_section_without_a_usable_address_is_refused(tmp_path):
    found = problems_of(config_file(tmp_path, "default_section = 'con'\n"))
    assert len(found) == 1 and "setting 'default_section': gives no usable section address ('con': a reserved" \
        in found[0]
