"""Picture sizes from file headers, so pages reserve the right space before a picture loads."""

from __future__ import annotations

import struct
import zlib

import pytest

from broadsheet.images import dimensions


def png(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(header)) + chunk
            + struct.pack(">I", zlib.crc32(chunk)) + b"\0" * 16)


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\0" + b"\0" * 9
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


@pytest.mark.parametrize(("data", "size"), [
    (png(640, 480), (640, 480)),
    (b"GIF89a" + struct.pack("<HH", 300, 200) + b"\0" * 10, (300, 200)),
    (jpeg(1024, 683), (1024, 683)),
    (b"RIFF\0\0\0\0WEBPVP8X" + b"\0" * 8 + (799).to_bytes(3, "little") + (599).to_bytes(3, "little"), (800, 600)),
    (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="120px" height="80">', (120, 80)),
    (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1200 675"><rect/></svg>', (1200, 675)),
    (b"not a picture at all", None),
    (b"\x89PNG\r\n\x1a\n", None),
])
def test_dimensions(tmp_path, data, size):
    path = tmp_path / "picture"
    path.write_bytes(data)
    assert dimensions(path) == size


def test_article_figure_uses_the_real_size(make_site, cli):
    from .conftest import article

    root = make_site({"content/images/tall.png": png(600, 900),
                      "content/articles/news/a.md": article("Tall picture", image="{src: /images/tall.png, alt: A "
                                                                                   "lighthouse}",
                                                            body="![Map](/images/tall.png)")})
    assert cli("build", "--config", root / "pyproject.toml").code == 0
    html = (root / "site/2024/03/tall-picture/index.html").read_text()
    assert 'alt="A lighthouse" width="600" height="900"' in html
    assert '<img alt="Map" decoding="async" loading="lazy" src="/images/tall.png">' in html


def test_a_picture_must_lie_in_the_content_folder_however_its_path_gets_there(make_site, cli):
    from .conftest import article

    root = make_site({"content/images/real.png": png(640, 480), "secret.png": png(10, 10),
                      "content/articles/news/climbs.md": article("Climbs", image="{src: /images/../../secret.png, "
                                                                                "alt: A key}"),
                      "content/articles/news/linked.md": article("Linked", image="{src: /images/leak.png, alt: A key}"),
                      "content/articles/news/alias.md": article("Alias", image="{src: /images/alias.png, alt: A dog}")})
    (root / "content/images/leak.png").symlink_to(root / "secret.png")  # a link out of content/
    (root / "content/images/alias.png").symlink_to(root / "content/images/real.png")  # a link within it
    run = cli("build", "--config", root / "pyproject.toml")
    assert run.code == 1
    refused = sorted(line.split(":", 1)[0] for line in run.err.splitlines() if "not found in the content" in line)
    assert refused == ["content/articles/news/climbs.md", "content/articles/news/linked.md"]
    assert "alias.md" not in run.err
    assert "content/images/leak.png: error: symbolic link leads outside content/ (to secret.png)" in run.err
    (root / "content/articles/news/climbs.md").unlink()
    (root / "content/articles/news/linked.md").unlink()
    (root / "content/images/leak.png").unlink()
    assert cli("build", "--config", root / "pyproject.toml").code == 0
    html = (root / "site/2024/03/alias/index.html").read_text()
    assert 'alt="A dog" width="640" height="480"' in html


def test_markup_problems_reads_any_encoding_and_names_at_most_five_findings():
    from broadsheet.images import MOST_FINDINGS, markup_problems

    clean = '<svg xmlns="http://www.w3.org/2000/svg"><title>Café</title></svg>'
    assert markup_problems(clean.encode("utf-16")) == [] and markup_problems(clean.encode()) == []
    assert markup_problems(b'<?xml version="1.0" encoding="ISO-8859-1"?><svg onload="x"/>')[0][2] == \
        "SVG picture holds an event handler (onload=); not published"
    many = markup_problems(b'<svg xmlns="http://www.w3.org/2000/svg">' + b'<g onclick="x"/>' * 9 + b"</svg>")
    assert len(many) == MOST_FINDINGS + 1 and many[-1][:3] == (1, 121, "SVG picture holds 4 more such things from "
                                                                       "here on; not published")
    assert markup_problems(b"<rss><channel/></rss>", picture=False) == []
