"""Shared fixtures: a tiny site written from a dict of files, and the command line run in-process."""

from __future__ import annotations

import functools
import http.server
import shutil
import textwrap
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from broadsheet.cli import main
from broadsheet.pipeline import Options, build

PROJECT = Path(__file__).resolve().parent.parent
SHARED = PROJECT.parent / "shared"

CONFIG = """\
[tool.broadsheet]
title = "The Test Gazette"
description = "A paper made in a test"
base_url = "https://example.org/"
timezone = "Europe/London"
per_page = 3
"""


@dataclass
class Run:
    """What one command-line run printed and returned."""

    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        """The non-empty lines printed on standard error."""
        return [line for line in self.err.splitlines() if line.strip()]


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    """Write each file (dedented text or raw bytes) under root."""
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(textwrap.dedent(data).lstrip("\n"), encoding="utf-8")


def article(title: str = "A test story", date: str = "2024-03-14 09:30", body: str = "Some words.",
            **extra: str) -> str:
    """The text of a small valid article file."""
    lines = [f"title: {title}", f"date: {date}", *(f"{k}: {v}" for k, v in extra.items())]
    return "---\n" + "\n".join(lines) + "\n---\n\n" + body + "\n"


@pytest.fixture
def make_site(tmp_path: Path):
    """make_site(files, config=...) -> a project folder with the real layouts and the given content."""

    def make(files: dict[str, str | bytes] | None = None, config: str = CONFIG) -> Path:
        root = tmp_path / "project"
        root.mkdir(exist_ok=True)
        shutil.copytree(PROJECT / "layouts", root / "layouts", dirs_exist_ok=True)
        (root / "content").mkdir(exist_ok=True)
        write_files(root, {"pyproject.toml": config, **(files or {})})
        return root

    return make


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """cli(*args) runs the broadsheet command in this process and returns its Run."""

    def run(*args: str | Path) -> Run:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under folder with its bytes, to compare two states of a folder exactly."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; skips without it, unless BROADSHEET_REQUIRE_BROWSER is set."""
    import os

    required = os.environ.get("BROADSHEET_REQUIRE_BROWSER") == "1"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if required:
            pytest.fail("playwright is not installed but BROADSHEET_REQUIRE_BROWSER=1")
        pytest.skip("playwright is not installed")
    if not CHROMIUM.exists():
        if required:
            pytest.fail(f"{CHROMIUM} is missing but BROADSHEET_REQUIRE_BROWSER=1")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    """The demo built for /newsroom/ and served on a free local port (a static host, like GitHub Pages)."""
    root = tmp_path_factory.mktemp("host")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=root))
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    build(Options(config=PROJECT / "pyproject.toml", out=root / "newsroom", base_url=origin + "/newsroom/"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield origin, root / "newsroom"
    server.shutdown()
