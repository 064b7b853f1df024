#!/usr/bin/env python3
"""Write a deterministic corpus of N realistic news articles: bench/corpus.py OUTDIR N.

OUTDIR gets a pyproject.toml with [tool.broadsheet] and content/ (articles, author profiles, one picture);
build it with the project's layouts: python build.py --config OUTDIR/pyproject.toml --layouts layouts.
"""

from __future__ import annotations

import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

SECTIONS = ("news", "world", "business", "science", "culture", "sport", "transport", "opinion")
FIRST = ("Ann", "Bo", "Cy", "Dana", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kit", "Lena", "Milo", "Nia",
         "Omar", "Pia", "Quin", "Rosa", "Sami", "Tess", "Uma", "Vik", "Wren", "Xia", "Yuri")
LAST = ("Lee", "Chen", "Diaz", "Okafor", "Breck", "Lindqvist", "Fairclough", "Halvorsen", "Calloway", "Dunmore",
        "Mori", "Bello", "Weber", "Kim", "Novak", "Silva", "Moreau", "Rossi", "Haddad", "Sato", "Ivanova",
        "Keller", "Nkemelu", "Park", "Quist")
NOUNS = ("council", "harbour", "tram", "budget", "school", "library", "festival", "station", "bridge", "market",
         "hospital", "museum", "stadium", "park", "ferry", "factory", "river", "court", "port", "airport",
         "theatre", "orchestra", "laboratory", "university", "farm", "forest", "beach", "road", "bus", "railway",
         "housing", "energy", "water", "weather", "election", "committee", "club", "league", "season", "report")
VERBS = ("approves", "opens", "delays", "expands", "reviews", "launches", "closes", "wins", "plans", "funds",
         "rebuilds", "welcomes", "extends", "restores", "records", "studies", "announces", "questions")
ADJECTIVES = ("new", "local", "regional", "annual", "historic", "smaller", "larger", "quiet", "busy", "early",
              "late", "public", "private", "free", "final", "second", "record", "modest", "sharp", "steady")
FILLER = ("the", "a", "of", "to", "and", "in", "for", "on", "with", "as", "by", "at", "from", "after", "before",
          "said", "would", "could", "will", "was", "were", "has", "had", "this", "that", "their", "its")
PLACES = ("Eastmere", "Westbank", "Northgate", "Kettle Point", "Quayside", "Hollins Green", "Saltmarsh")


def words(rng: random.Random, count: int) -> str:
    pool = NOUNS + VERBS + ADJECTIVES + FILLER * 3 + PLACES
    text = " ".join(rng.choice(pool) for _ in range(count))
    return text[0].upper() + text[1:]


def sentence(rng: random.Random) -> str:
    return words(rng, rng.randint(12, 24)) + rng.choice(".....?") + " "


def paragraph(rng: random.Random) -> str:
    return "".join(sentence(rng) for _ in range(rng.randint(2, 4))).strip()


def body(rng: random.Random, n: int, total: int) -> str:
    parts, count = [], 0
    while count < 700:
        kind = rng.random()
        if kind < 0.08:
            block = f"## {words(rng, rng.randint(3, 6))}"
        elif kind < 0.14:
            block = "\n".join(f"- {words(rng, rng.randint(5, 10))}" for _ in range(rng.randint(3, 5)))
        elif kind < 0.18:
            block = f"> {sentence(rng).strip()} said {rng.choice(FIRST)} {rng.choice(LAST)}."
        elif kind < 0.2 and n % 5 == 0:
            rows = "\n".join(f"| {rng.choice(PLACES)} | {rng.randint(10, 999)} | {rng.randint(-20, 40)}% |"
                             for _ in range(4))
            block = "| Area | Count | Change |\n|:--|--:|--:|\n" + rows
        else:
            text = paragraph(rng)
            cut = text.split(" ")
            at = rng.randrange(len(cut))
            cut[at] = f"*{cut[at]}*" if rng.random() < 0.5 else f"**{cut[at]}**"
            if rng.random() < 0.3:
                other = rng.randrange(total)
                cut[-3] = f"[{cut[-3]}](https://example.org/story/{other})"
            block = " ".join(cut)
        parts.append(block)
        count += len(block.split())
    return "\n\n".join(parts)


def article(rng: random.Random, n: int, total: int, authors: list[str], tags: list[str]) -> tuple[str, str]:
    start = datetime(2016, 1, 1, 6, 0)
    when = start + timedelta(minutes=n * (10 * 365 * 24 * 60 // max(total, 1)) + rng.randint(0, 50))
    title = f"{rng.choice(PLACES)} {rng.choice(NOUNS)} {rng.choice(VERBS)} {rng.choice(ADJECTIVES)} " \
            f"{rng.choice(NOUNS)} plan {n}"
    section = SECTIONS[rng.randrange(len(SECTIONS))]
    chosen_authors = rng.sample(authors, rng.randint(1, 3))
    chosen_tags = rng.sample(tags, rng.randint(2, 5))
    text = "\n".join([
        "---",
        f"title: {title}",
        f"date: {when:%Y-%m-%d %H:%M}",
        "authors: [" + ", ".join(chosen_authors) + "]",
        f"description: {sentence(rng).strip()}",
        "tags: [" + ", ".join(chosen_tags) + "]",
        "image:",
        "  src: /images/photo.svg",
        f"  alt: {words(rng, 6)}",
        f"  caption: {sentence(rng).strip()}",
        f"  credit: {rng.choice(FIRST)} {rng.choice(LAST)}/Courier",
        "---",
        "",
        body(rng, n, total),
        "",
    ])
    return f"content/articles/{section}/{n:06d}.md", text


def write(out: Path, total: int) -> None:
    """Write the whole corpus (same N, same bytes, every time)."""
    rng = random.Random(20261125)
    authors = [f"{FIRST[i]} {LAST[(i * 7) % len(LAST)]}" for i in range(25)]
    tags = sorted({f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}" for _ in range(400)})[:300]
    (out / "content/images").mkdir(parents=True, exist_ok=True)
    (out / "content/images/photo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="675" viewBox="0 0 1200 675">'
        '<title>A harbour</title><rect width="1200" height="675" fill="#9fb4c7"/>'
        '<rect y="450" width="1200" height="225" fill="#33577a"/></svg>\n')
    (out / "pyproject.toml").write_text(
        '[tool.broadsheet]\ntitle = "The Benchmark Times"\ndescription = "A generated corpus"\n'
        'base_url = "https://example.org/bench/"\ntimezone = "Europe/London"\nper_page = 20\n')
    for n in range(total):
        path, text = article(rng, n, total, authors, tags)
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) != 3 or not sys.argv[2].isdigit():
        sys.exit("usage: bench/corpus.py OUTDIR N")
    write(Path(sys.argv[1]), int(sys.argv[2]))
