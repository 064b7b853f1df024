#!/usr/bin/env python3
"""Hash what a build makes, to hold a change of the code to byte-identical output: bench/identity.py [--save F]
[--compare F].

Builds, at one fixed moment, the demo paper as configured (under /newsroom/), the demo at the site root, and a
1,000-article corpus (bench/corpus.py), each fresh and then again after one edited article (an incremental
build), and prints one digest per build. `--save F` writes every file's hash to F; `--compare F` lists the files
whose bytes differ from F's and exits 1 when any do.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "bench"))

import corpus  # noqa: E402

from broadsheet.pipeline import Options, build  # noqa: E402

MOMENT = datetime(2026, 12, 1, 12, 0, tzinfo=ZoneInfo("Europe/London"))


def hashes(folder: Path) -> dict[str, str]:
    """Every file under folder by its path, with the hash of its bytes."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def edit_one(content: Path) -> None:
    """Append a sentence to the first article (in path order): an incremental build's input."""
    first = sorted(content.rglob("articles/**/*.md"))[0]
    first.write_text(first.read_text(encoding="utf-8") + "\nOne more sentence, added for the check.\n",
                     encoding="utf-8")


def builds(work: Path) -> dict[str, dict[str, str]]:
    """The files of each build, by the build's name."""
    corpus.write(work / "corpus", 1000)
    demo = work / "demo"
    for name in ("content", "layouts", "pyproject.toml"):
        source = PROJECT / name
        target = demo / name
        if source.is_dir():
            import shutil
            shutil.copytree(source, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    targets = {
        "demo": Options(config=demo / "pyproject.toml", out=work / "out-demo", now=MOMENT, jobs=2),
        "demo-root": Options(config=demo / "pyproject.toml", out=work / "out-root", now=MOMENT, jobs=2,
                             base_url="http://127.0.0.1:8000/"),
        "corpus-1000": Options(config=work / "corpus" / "pyproject.toml", layouts=PROJECT / "layouts",
                               out=work / "out-corpus", now=MOMENT, jobs=2),
    }
    found = {}
    for name, options in targets.items():
        build(options)
        found[name] = hashes(options.out)
    edit_one(demo / "content")
    edit_one(work / "corpus" / "content")
    for name, options in targets.items():
        build(options)
        found[name + "+edit"] = hashes(options.out)
    return found


def digest(files: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", type=Path)
    parser.add_argument("--compare", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        found = builds(Path(work))
    for name, files in found.items():
        print(f"{name:18} {len(files):6} files  {digest(files)}")
    if args.save:
        args.save.write_text(json.dumps(found, indent=1, sort_keys=True))
    if args.compare:
        known = json.loads(args.compare.read_text())
        differ = [(name, path) for name in known for path in sorted(set(known[name]) | set(found.get(name, {})))
                  if known[name].get(path) != found.get(name, {}).get(path)]
        for name, path in differ[:50]:
            print(f"differs: {name}: {path}")
        print("identical" if not differ else f"{len(differ)} files differ")
        return 1 if differ else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
