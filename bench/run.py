#!/usr/bin/env python3
"""Broadsheet's benchmark: cold and incremental builds against the bare floor, in one run.

bench/run.py [--articles 1000 10000] [--repeat 3] [--json bench/results.json] [--floors 1 2]

For each corpus size it measures, as the median of the repeats, each in its own process (peak RSS is that
process's): a cold build (no cache, empty output), a warm rebuild with no change, and rebuilds after
editing one article's body, one article's title, one layout and the CSS; the warm, body, title and CSS
rebuilds again in one long-lived process, as the preview server (and `watch`) makes them, told which file
changed as their watcher tells them; and the floor (frontmatter + markdown + one template) in 1 and 2
processes. Every figure is also a ratio to the 2-process floor, which runs right before each cold build
(the two take turns, so a busy moment on a shared machine weighs on both alike).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
BUILD = """
import json, sys, time
from pathlib import Path
from broadsheet.pipeline import Options, build
site = Path(sys.argv[1])
started = time.perf_counter()
summary = build(Options(config=site / "pyproject.toml", layouts=site / "layouts", fresh=sys.argv[2] == "fresh"))
print(json.dumps({"seconds": time.perf_counter() - started, "timings": summary.timings, "files": summary.files}))
"""
SCENARIOS = ("cold", "warm", "body", "title", "layout", "css")
RESIDENT = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from run import edit
from broadsheet.live.site import LiveSite
from broadsheet.pipeline import Options
site = Path(sys.argv[1])
live = LiveSite(Options(config=site / "pyproject.toml", layouts=site / "layouts"))
live.rebuild()
times = {"warm": [], "body": [], "title": [], "css": []}
for round_ in range(int(sys.argv[2])):
    for scenario in times:
        told = None  # no change: the preview's watcher starts no build; this one looks at every file
        if scenario != "warm":  # as the preview's watcher does, the build is told which file changed
            told = {edit(site, scenario, 100 + round_).resolve()}
        started = time.perf_counter()
        live.rebuild(told)
        times[scenario].append(time.perf_counter() - started)
print(json.dumps(times))
"""
RESIDENT_SCENARIOS = ("warm", "body", "title", "css")


def measure(command: list[str]) -> tuple[str, float]:
    """Run command; its standard output and its peak RSS in MiB."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, cwd=PROJECT, text=True)
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        sys.exit(f"failed: {' '.join(command)}")
    return output, usage.ru_maxrss / 1024


def build_once(site: Path, fresh: bool) -> dict:
    output, rss = measure([sys.executable, "-c", BUILD, str(site), "fresh" if fresh else "warm"])
    result = json.loads(output)
    result["rss"] = rss
    return result


def edit(site: Path, scenario: str, round_: int) -> Path:
    """Make the change a scenario is about (each round a different change, so nothing is a no-op); the file
    changed."""
    article = sorted((site / "content/articles").rglob("*.md"))[len(site.name) % 7]
    changed = {"body": article, "title": article, "layout": site / "layouts/partials/footer.html",
               "css": site / "layouts/static/css/site.css"}[scenario]
    if scenario == "body":
        article.write_text(article.read_text() + f"\nAn added sentence, number {round_}.\n")
    elif scenario == "title":
        article.write_text(article.read_text().replace("title: ", f"title: Revised {round_} ", 1))
    elif scenario == "layout":
        changed.write_text(changed.read_text().replace("</footer>", f"</footer>\n<!-- r{round_} -->", 1))
    elif scenario == "css":
        changed.write_text(changed.read_text() + f"\n/* revision {round_} */\n")
    return changed


def size_run(articles: int, repeat: int, work: Path, floor_jobs: tuple[int, ...] = (1, 2)) -> dict:
    site = work / f"corpus-{articles}"
    subprocess.run([sys.executable, str(HERE / "corpus.py"), str(site), str(articles)], check=True)
    shutil.copytree(PROJECT / "layouts", site / "layouts")
    figures: dict[str, list[dict]] = {name: [] for name in SCENARIOS}
    floors: dict[int, list[float]] = {jobs: [] for jobs in floor_jobs}
    for round_ in range(repeat):
        # The 2-process floor and the cold build take turns, each into a folder just emptied, once the
        # last build's old files are gone: the ratio compares runs made under the same conditions.
        settle(site)
        floors[2].append(floor(site, work, 2))
        shutil.rmtree(site / "site", ignore_errors=True)
        figures["cold"].append(build_once(site, fresh=True))
        figures["warm"].append(build_once(site, fresh=False))
        for scenario in SCENARIOS[2:]:
            edit(site, scenario, round_)
            figures[scenario].append(build_once(site, fresh=False))
    settle(site)
    output, rss = measure([sys.executable, "-c", RESIDENT, str(site), str(max(repeat, 3)), str(HERE)])
    resident = {name: statistics.median(times) for name, times in json.loads(output).items()}
    resident["rss_mib"] = rss
    for jobs in floor_jobs:
        while len(floors[jobs]) < repeat:
            floors[jobs].append(floor(site, work, jobs))
    result = {"articles": articles, **{f"floor_{jobs}": statistics.median(runs) for jobs, runs in floors.items()},
              "resident": resident}
    for name, runs in figures.items():
        result[name] = {
            "seconds": statistics.median(r["seconds"] for r in runs),
            "rss_mib": max(r["rss"] for r in runs),
            "stages_ms": {k: statistics.median(r["timings"].get(k, 0) for r in runs) for k in runs[0]["timings"]},
            "files_written": runs[-1]["files"],
        }
    search = site / "site/search"
    result["search_index_bytes"] = sum(p.stat().st_size for p in search.glob("*.json"))
    return result


def floor(site: Path, work: Path, jobs: int) -> float:
    """Seconds for the floor loop over the corpus in `jobs` processes, into an emptied folder."""
    out = work / f"floor-{site.name}-{jobs}"
    shutil.rmtree(out, ignore_errors=True)
    output, _ = measure([sys.executable, str(HERE / "floor.py"), str(site / "content"), str(out), "--jobs", str(jobs)])
    return float(output)


def settle(site: Path, longest: float = 120.0) -> None:
    """Wait until the previous builds' old output folders, deleted in the background, are gone."""
    deadline = time.monotonic() + longest
    while any(site.glob(".site.old-*")) and time.monotonic() < deadline:
        time.sleep(0.2)


def table(results: list[dict]) -> str:
    lines = ["| articles | build | seconds | × 2-proc floor | peak RSS MiB | files written | stages (ms) |",
             "|---:|---|---:|---:|---:|---:|---|"]
    for r in results:
        floor = r["floor_2"]
        for name in SCENARIOS:
            f = r[name]
            stages = ", ".join(f"{k} {v:.0f}" for k, v in f["stages_ms"].items())
            lines.append(f"| {r['articles']:,} | {name} | {f['seconds']:.2f} | {f['seconds'] / floor:.2f} | "
                         f"{f['rss_mib']:.0f} | {f['files_written']:,} | {stages} |")
        resident = r.get("resident", {})
        for name in RESIDENT_SCENARIOS:
            if name in resident:
                lines.append(f"| {r['articles']:,} | {name}, in the preview's process | {resident[name]:.2f} | "
                             f"{resident[name] / floor:.2f} | {resident['rss_mib']:.0f} | | |")
        if "floor_1" in r:
            lines.append(f"| {r['articles']:,} | floor, 1 process | {r['floor_1']:.2f} | {r['floor_1'] / floor:.2f} "
                         "| | | |")
        lines.append(f"| {r['articles']:,} | floor, 2 processes | {floor:.2f} | 1.00 | | | |")
        lines.append(f"| {r['articles']:,} | search index | {r['search_index_bytes'] / 1024:,.0f} KiB | | | | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, nargs="+", default=[1000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=HERE / "results.json")
    parser.add_argument("--floors", type=int, nargs="+", default=[1, 2],
                        help="the floor's process counts to measure (2 is always measured)")
    args = parser.parse_args()
    floor_jobs = tuple(sorted(set(args.floors) | {2}))
    with tempfile.TemporaryDirectory(prefix="broadsheet-bench-") as work:
        results = [size_run(n, args.repeat, Path(work), floor_jobs) for n in args.articles]
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\n(cpu cores: {os.cpu_count()}; JSON in {args.json})")


if __name__ == "__main__":
    main()
