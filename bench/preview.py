#!/usr/bin/env python3
"""Time from a save to the open browser tab showing it, through `broadsheet serve`.

bench/preview.py SITE_DIR [--saves 10] [--edit article|layout|settings] [--pause SECONDS]
(SITE_DIR holds pyproject.toml, content/ and layouts/). Each save adds a new sentence to the first article,
a new attribute to layouts/base.html, or a new word to the site's title in the settings, with the article's
page open; the next save comes `--pause` seconds after the page written by the last one is on disk (a layout
save on a big site is still writing other pages then). Prints each save's seconds and the median. Uses
Debian's Chromium through Playwright.
"""

from __future__ import annotations

import argparse
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

from broadsheet.slugs import slugify

PROJECT = Path(__file__).resolve().parent.parent
SAVES = 10
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("site", type=Path)
    parser.add_argument("--saves", type=int, default=10)
    parser.add_argument("--edit", choices=("article", "layout", "settings"), default="article")
    parser.add_argument("--pause", type=float, default=0.5)
    args = parser.parse_args()
    global SAVES
    SAVES = args.saves
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tomllib.loads((args.site / "pyproject.toml").read_text())["tool"]["broadsheet"]
    base_path = "/" + config["base_url"].split("://", 1)[1].split("/", 1)[1]
    server = subprocess.Popen([sys.executable, str(PROJECT / "build.py"), "serve", "-q", "--config",
                               str(args.site / "pyproject.toml"), "--port", str(port)])
    origin = f"http://127.0.0.1:{port}"
    try:
        for _ in range(3000):  # the first build of a big site takes a while
            try:
                urllib.request.urlopen(origin + base_path, timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        article = sorted((args.site / "content/articles").rglob("*.md"))[0]
        times = measure(origin + base_path, article, args.site, args.edit, args.pause)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    print(" ".join(f"{t:.2f}" for t in times))
    print(f"median save-to-page ({args.edit}): {statistics.median(times):.2f} s over {len(times)} saves")


def permalink(text: str) -> str:
    """The article's address under the default permalink /{year}/{month}/{slug}/."""
    title = re.search(r"^title: (.+)$", text, re.M)[1].strip().strip("'\"")
    slug = re.search(r"^slug: (.+)$", text, re.M)
    date = re.search(r"^date: (\d{4})-(\d{2})", text, re.M)
    return f"{date[1]}/{date[2]}/{slug[1].strip() if slug else slugify(title)}/"


def measure(home: str, article: Path, site: Path, edit: str, pause: float) -> list[float]:
    """Open the article's page, then save a change again and again, timing each until the tab shows it."""
    text = article.read_text()
    saved = {path: path.read_text() for path in (article, site / "layouts/base.html", site / "pyproject.toml")}
    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page()
        page.goto(home + permalink(text))
        time.sleep(1.5)
        try:
            for n in range(SAVES):
                marker = f"Marker{n}x{time.monotonic_ns()}"
                started = time.monotonic()
                path, shown = save(edit, marker, article, site, saved)
                page.wait_for_function(shown, timeout=120000)
                times.append(time.monotonic() - started)
                written = site / ".preview/site" / permalink(text) / "index.html"
                for _ in range(3000):  # the rest of the site may still be on its way: let it land first
                    if marker in written.read_text():
                        break
                    time.sleep(0.1)
                time.sleep(pause)
        finally:
            browser.close()
            for path, original in saved.items():
                path.write_text(original)
    return times


def save(edit: str, marker: str, article: Path, site: Path, saved: dict[Path, str]) -> tuple[Path, str]:
    """Save one change of the given kind; the file saved and a script that is true once the tab shows it."""
    if edit == "article":
        article.write_text(saved[article] + f"\n{marker}.\n")
        return article, f"document.body.innerText.includes({marker!r})"
    if edit == "layout":
        layout = site / "layouts/base.html"
        layout.write_text(saved[layout].replace("<body>", f'<body data-marker="{marker}">', 1))
        return layout, f"document.body.dataset.marker === {marker!r}"
    settings = site / "pyproject.toml"
    settings.write_text(re.sub(r'^title = "', f'title = "{marker} ', saved[settings], count=1, flags=re.M))
    return settings, f"document.title.includes({marker!r})"


if __name__ == "__main__":
    main()
