#!/usr/bin/env python3
"""The floor: python-frontmatter + Python-Markdown + one Jinja2 template over a corpus, nothing else.

bench/floor.py CONTENT_DIR OUT_DIR [--jobs N]  -> prints seconds. Broadsheet's figures are compared with it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from pathlib import Path

import frontmatter
import jinja2
from markdown import Markdown

TEMPLATE = jinja2.Environment(autoescape=True).from_string(
    "<!doctype html><html lang=en><head><meta charset=utf-8><title>{{ title }}</title></head>"
    "<body><article><h1>{{ title }}</h1><p>{{ description }}</p>{{ body|safe }}</article></body></html>")
EXTENSIONS = ["extra", "toc", "codehilite", "sane_lists", "smarty"]


def convert(paths: list[Path], out: Path) -> None:
    md = Markdown(extensions=EXTENSIONS)
    for path in paths:
        post = frontmatter.load(path)
        html = TEMPLATE.render(title=post.get("title", ""), description=post.get("description", ""),
                               body=md.reset().convert(post.content))
        target = out / path.stem / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")


def run(content: Path, out: Path, jobs: int) -> float:
    """Seconds for the whole corpus in `jobs` processes."""
    paths = sorted(content.rglob("*.md"))
    started = time.perf_counter()
    if jobs == 1:
        convert(paths, out)
    else:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            pool.starmap(convert, [(paths[i::jobs], out) for i in range(jobs)])
    return time.perf_counter() - started


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("content", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    print(f"{run(args.content, args.out, args.jobs):.3f}")
