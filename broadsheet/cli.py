"""The command line: the one place that prints problems and picks exit codes."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
import traceback
import webbrowser
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from time import monotonic
from typing import TYPE_CHECKING

from . import __version__
from .check import check as check_links
from .config import Config, check_cname, load_config
from .errors import BuildError, Problem, UsageError, display_path, printable
from .importer import Request, run_import
from .pipeline import Options, Summary, build, folders
from .plaintext import parse_date
from .slugs import name_problem, slugify
from .write import MARKER

if TYPE_CHECKING:
    from .deploy import Change, Git, Request
    from .live.site import LiveSite

COMMANDS = ("build", "import", "serve", "watch", "check", "deploy")


def main(argv: list[str] | None = None) -> int:
    """Run a command; returns the exit code (0 ok, 1 content or layout errors, 2 usage errors, 130 Ctrl-C)."""
    try:
        with interrupts_never_lost():
            return _main(argv)
    except KeyboardInterrupt:  # also while the flags are read, or while a problem is being said
        print("Interrupted; the output folder was not changed.", file=sys.stderr)
        return 130


@contextlib.contextmanager
def interrupts_never_lost() -> Iterator[None]:
    """Deliver again a Ctrl-C that landed in a clean-up callback (a weak reference's, a `__del__`).

    Python cannot raise from there: it prints "Exception ignored ... KeyboardInterrupt" with a traceback and
    carries on, so the build would go on to the end. Instead the interrupt is sent again a moment later, when
    the program is almost surely back in ordinary code, and is raised there as usual.
    """

    def redeliver(unraisable) -> None:
        if issubclass(unraisable.exc_type, KeyboardInterrupt):
            # to the main thread itself: sent to the process, it may land in the timer's thread and leave the
            # main one asleep in a system call until that returns
            main = threading.main_thread().ident
            timer = threading.Timer(0.05, signal.pthread_kill, (main, signal.SIGINT))
            timer.daemon = True
            timer.start()
        else:
            before(unraisable)

    before, sys.unraisablehook = sys.unraisablehook, redeliver
    try:
        yield
    finally:
        sys.unraisablehook = before


def _main(argv: list[str] | None) -> int:
    args = _parser().parse_args(_with_command(sys.argv[1:] if argv is None else argv))
    try:
        return args.run(args)
    except BuildError as exc:
        _print_problems(exc.problems, args)
        errors = sum(p.severity == "error" for p in exc.problems)
        print(f"Build failed: {errors} error{'s' * (errors != 1)}; the output folder was not changed.",
              file=sys.stderr)
        return 1
    except UsageError as exc:
        print(printable(f"broadsheet: error: {exc}"), file=sys.stderr)
        return 2
    except OSError as exc:  # the disk or the system said no: one line, what and why
        where = f"{display_path(Path(exc.filename))}: " if exc.filename else ""
        print(printable(f"broadsheet: error: {where}{exc.strerror or exc}"), file=sys.stderr)
        _details(args)
        return 1
    except Exception as exc:  # noqa: BLE001 -- a bug of ours: say so in one line, never a bare traceback
        print(printable(f"broadsheet: error: internal error: {type(exc).__name__}: {exc} (run again with "
                        "--verbose for the details, and please report it)"), file=sys.stderr)
        _details(args)
        return 1


def _details(args: argparse.Namespace) -> None:
    """The traceback of the exception being handled, with --verbose only."""
    if getattr(args, "verbose", False):
        traceback.print_exc()


def _with_command(argv: list[str]) -> list[str]:
    """`broadsheet` alone, or with only flags, means `broadsheet build`."""
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version")):
        return ["build", *argv]
    return argv


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="broadsheet", description="Build a static news site.")
    parser.add_argument("--version", action="version", version=f"broadsheet {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    build_command = commands.add_parser("build", help="build the site into the output folder (default)")
    add_build_flags(build_command)
    build_command.add_argument("--dry-run", action="store_true", help="build and check everything, then write "
                               "nothing into the output folder")
    build_command.set_defaults(run=run_build)
    serve_command = commands.add_parser("serve", help="preview the site with live reload on 127.0.0.1")
    add_build_flags(serve_command)
    serve_command.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve_command.add_argument("--port", type=_port, default=8000, help="port (default: 8000)")
    serve_command.add_argument("--open", action="store_true", help="open the site in a browser")
    serve_command.set_defaults(run=run_serve)
    watch_command = commands.add_parser("watch", help="build, then build again on every save (no server)")
    add_build_flags(watch_command)
    watch_command.set_defaults(run=run_watch)
    check_command = commands.add_parser("check", help="check every link of the built site (offline)")
    _add_site_flags(check_command)
    check_command.set_defaults(run=run_check)
    deploy_command = commands.add_parser("deploy", help="build, check and publish the site to a git branch "
                                         "(gh-pages)")
    add_build_flags(deploy_command)
    deploy_command.add_argument("--remote", default="origin", help="git remote to push to (default: origin)")
    deploy_command.add_argument("--branch", default="gh-pages", help="branch to publish (default: gh-pages)")
    deploy_command.add_argument("--message", "-m", help="commit message (default: names the source commit)")
    deploy_command.add_argument("--cname", type=_cname, help="custom domain for a CNAME file (default: the cname "
                                "setting)")
    deploy_command.add_argument("--no-build", action="store_true", help="publish the output folder as it is")
    deploy_command.add_argument("--dry-run", action="store_true", help="print the commit it would make; change "
                                "nothing")
    deploy_command.add_argument("--force", action="store_true", help="publish even with broken internal links")
    deploy_command.set_defaults(run=run_deploy)
    import_command = commands.add_parser("import", help="turn plain-text articles into Markdown files in content/")
    add_import_flags(import_command)
    import_command.set_defaults(run=run_import_command)
    return parser


def add_import_flags(parser: argparse.ArgumentParser) -> None:
    """Flags of `broadsheet import`."""
    parser.add_argument("paths", nargs="+", type=Path, metavar="FILE_OR_DIR", help="plain-text files, or folders "
                        "of .txt files")
    parser.add_argument("--config", type=Path, default=Path("pyproject.toml"), metavar="FILE",
                        help="configuration file with [tool.broadsheet] (default: ./pyproject.toml)")
    parser.add_argument("--into", type=Path, metavar="DIR", help="articles folder (default: content/articles)")
    parser.add_argument("--section", default="", help="section folder to import into (default: default_section)")
    parser.add_argument("--author", default="", help="author for copy without a byline (default: default_author)")
    parser.add_argument("--date", type=_date, help="date for copy without one, e.g. 2026-03-14 (default: today)")
    order = parser.add_mutually_exclusive_group()
    order.add_argument("--day-first", dest="day_first", action="store_true", default=None,
                       help="read 03/04/2026 as 3 April (default: import_day_first)")
    order.add_argument("--month-first", dest="day_first", action="store_false", help="read 03/04/2026 as March 4")
    parser.add_argument("--force", action="store_true", help="replace articles imported earlier from the same file")
    parser.add_argument("--dry-run", action="store_true", help="print what would be written; write nothing")
    parser.add_argument("--quiet", "-q", action="store_true", help="print errors only")


def run_import_command(args: argparse.Namespace) -> int:
    """`broadsheet import`."""
    config = load_config(args.config)
    section = slugify(args.section) if args.section else ""
    if args.section and name_problem(section):
        raise UsageError(f"--section {args.section!r} makes no usable section ({name_problem(section)})")
    request = Request(tuple(args.paths), args.into or config.root / "content" / "articles", section, args.author,
                      args.date, args.force, args.dry_run,
                      config.import_day_first if args.day_first is None else args.day_first)
    report = run_import(config, request)
    for path, text in report.written:
        print(f"{'would write' if args.dry_run else 'wrote'} {display_path(path, config.root)}")
        if args.dry_run:
            print(text)
    _print_problems(report.problems, args)
    return 1 if report.failed else 0


def _port(text: str) -> int:
    if not text.isdecimal() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"not a port: {text!r} (use a number from 1 to 65535, e.g. 8000)")
    return int(text)


def _date(text: str) -> date:
    found = parse_date(text)
    if found is None:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use e.g. 2026-03-14)")
    return found


def add_build_flags(parser: argparse.ArgumentParser) -> None:
    """Flags shared by every command that builds."""
    parser.add_argument("--config", type=Path, default=Path("pyproject.toml"), metavar="FILE",
                        help="configuration file with [tool.broadsheet] (default: ./pyproject.toml)")
    parser.add_argument("--content", type=Path, metavar="DIR", help="content folder (default: content/)")
    parser.add_argument("--layouts", type=Path, metavar="DIR", help="layouts folder (default: layouts/)")
    parser.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: site/)")
    parser.add_argument("--base-url", metavar="URL", help="override base_url, e.g. https://example.org/news/")
    parser.add_argument("--drafts", action="store_true", help="include articles marked draft: true")
    parser.add_argument("--future", action="store_true", help="include articles dated in the future")
    parser.add_argument("--fresh", action="store_true", help="ignore the cache: a cold build")
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument("--quiet", "-q", action="store_true", help="print errors only")
    loudness.add_argument("--verbose", "-v", action="store_true", help="print more detail, with tracebacks")


def options_from(args: argparse.Namespace) -> Options:
    """Build options from parsed flags."""
    return Options(config=args.config, content=args.content, layouts=args.layouts, out=args.out,
                   base_url=args.base_url, drafts=args.drafts, future=args.future, fresh=args.fresh)


def run_build(args: argparse.Namespace) -> int:
    """`broadsheet build`."""
    _say_trust(load_config(args.config, {"base_url": args.base_url}))
    bar = _ProgressBar() if sys.stderr.isatty() and not args.quiet else None
    try:
        summary = build(replace(options_from(args), dry_run=args.dry_run), progress=bar, on_wait=lambda: print(
            "Waiting for another build of the same output folder to finish…", file=sys.stderr, flush=True))
    finally:
        if bar:
            bar.close()
    _print_problems(summary.warnings, args)
    if not args.quiet:
        print(describe(summary, dry_run=args.dry_run))
    return 0


def _say_trust(config: Config) -> None:
    """Said once as a build starts: a setting that lets article text run as code on the published site."""
    if config.raw_html == "allow":
        print(f"{config.file}: note: raw_html = \"allow\": HTML in articles is published as written, scripts "
              "included; keep it only if everyone who writes in content/ is trusted", file=sys.stderr)


def _add_site_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=Path("pyproject.toml"), metavar="FILE",
                        help="configuration file with [tool.broadsheet] (default: ./pyproject.toml)")
    parser.add_argument("--out", type=Path, metavar="DIR", help="the built site (default: site/)")
    parser.add_argument("--base-url", metavar="URL", help="the URL the site is served at (default: base_url)")


def run_check(args: argparse.Namespace) -> int:
    """`broadsheet check`: every internal link of the built site resolves; exit 1 when one does not."""
    config = load_config(args.config, {"base_url": args.base_url})
    out = args.out or config.root / "site"
    if not out.is_dir():
        raise UsageError(f"{display_path(out)}: no built site there; run the build first")
    return _report_links(out, config)


def _report_links(out: Path, config: Config, force: bool = False) -> int:
    report = check_links(out, config.base_url, config.root)
    for problem in report.problems:
        print(problem, file=sys.stderr)
    broken = len(report.problems)
    print(f"Checked {_count(report.pages, 'page')} and {_count(report.links, 'internal link')} under "
          f"{config.base_url}: {broken or 'none'} broken" + (f" ({report.external} links to other sites not "
                                                             "followed)" if report.external else ""),
          file=sys.stderr if broken else sys.stdout)
    return 1 if broken and not force else 0


def run_deploy(args: argparse.Namespace) -> int:
    """`broadsheet deploy`: build, check the links, then commit the site on a branch and push it."""
    from . import deploy

    options = options_from(args)
    config = load_config(args.config, {"base_url": args.base_url})
    where = folders(config, options)
    out, cname = where.out, args.cname or config.cname or None
    git = deploy.Git(config.root)
    deploy.prepare(git, out, args.remote, args.branch)
    dirty = deploy.uncommitted(git, [args.config, where.content, where.layouts])
    mismatch = deploy.cname_problem(cname, config.base_url, config.file) if cname else None
    _print_problems([*([] if args.no_build else dirty), *([mismatch] if mismatch else [])], args)
    if not args.no_build:
        summary = build(options)
        _print_problems(summary.warnings, args)
        if not args.quiet:
            print(describe(summary))
    elif not (out / MARKER).is_file():
        raise UsageError(f"{display_path(out)}: no built site there; leave out --no-build")
    if _report_links(out, config, args.force):
        print("Not published: fix the broken links above (or publish anyway with --force).", file=sys.stderr)
        return 1
    default_message = _deploy_message(git, config, bool(dirty))
    request = deploy.Request(args.remote, args.branch, args.message or default_message, cname, args.dry_run)
    try:
        change = deploy.publish(git, out, request)
    except deploy.DeployError as exc:
        print(printable(f"broadsheet: error: {exc}"), file=sys.stderr)
        return 1
    _say_deployed(change, request)
    return 0


def _cname(text: str) -> str:
    """--cname: a bare host name, as the cname setting."""
    problem = check_cname(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text.lower()


def _deploy_message(git: Git, config: Config, dirty: bool) -> str:
    """The deploy commit's message when none is given: the paper, the commit it was built from, and whether
    the site's sources had uncommitted changes."""
    source = git.run("rev-parse", "--short", "HEAD", check=False).stdout.strip()
    return (f"Publish {config.title}" + (f" from {source}" if source else "") +
            (" with uncommitted changes" if dirty else "") + f" (broadsheet {__version__})")


def _say_deployed(change: Change, request: Request) -> None:
    """One line on what the deploy committed and pushed (dry: what it would, after the files it would change)."""
    counts = f"{len(change.added)} added, {len(change.changed)} changed, {len(change.removed)} removed"
    parent = f" on top of {change.parent[:12]}" if change.parent else " as the branch's first commit"
    kept = f" (kept on '{request.branch}' from a deploy whose push failed)" if change.kept else ""
    if request.dry_run:
        for mark, paths in (("A", change.added), ("M", change.changed), ("D", change.removed)):
            for path in paths:
                print(f"{mark}\t{printable(path)}")
        if change.commit:
            print(f"Would push {change.commit[:12]}{kept}{parent} to '{request.remote}': {counts}.")
        else:
            print(f"Would commit {counts} to '{request.branch}'{parent} and push it to '{request.remote}'.")
    elif change.commit is None:
        print(f"Nothing changed since the last deploy ({change.parent[:12] if change.parent else ''}); "
              "nothing was pushed.")
    else:
        print(f"Published {change.commit[:12]}{kept} to {request.remote}/{request.branch}{parent}: {counts}.")


def run_watch(args: argparse.Namespace) -> int:
    """`broadsheet watch`: build into the output folder, then again after each burst of saves, keeping the
    site in memory so an edit costs what it touched; one line per build, problems said once."""
    from .live.site import LiveSite, Superseded
    from .live.watch import follow, watcher

    config = load_config(args.config, {"base_url": args.base_url})
    _say_trust(config)
    live = LiveSite(options_from(args))
    where = folders(config, live.options)
    said = _WatchLines(args)

    def rebuild(changed: list[Path]) -> bool:
        try:
            summary = live.rebuild(changed, superseded=changes.pending) if changed else live.rebuild()
        except Superseded:
            return False  # a newer save came: the next build takes these changes with it
        except BuildError as exc:
            said.failed(exc.problems)
            return True
        said.built(summary)
        return True

    sources = [args.config, where.content, where.layouts]
    changes = watcher(sources)  # before the first build: a save while it runs starts the next one
    rebuild([])
    print(f"Watching {', '.join(display_path(p) for p in sources)} (Ctrl-C to stop)", flush=True)
    try:
        follow(sources, rebuild, threading.Event(), changes)
    except KeyboardInterrupt:
        pass
    print("\nStopped.")
    return 0


class _WatchLines:
    """What `watch` says after each build: its problems (once, until they change), the fix, and a line."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.last: list[Problem] = []  # the problems last said

    def failed(self, problems: list[Problem]) -> None:
        if problems != self.last:
            _print_problems(problems, self.args)
            print("Build failed; the output folder was not changed. Watching for the fix…", file=sys.stderr,
                  flush=True)
        self.last = problems

    def built(self, summary: Summary) -> None:
        _print_problems(summary.warnings, self.args)
        if self.last:
            print("Fixed: the site builds again.", file=sys.stderr)
        self.last = []
        if not self.args.quiet:
            print(describe(summary), flush=True)


def run_serve(args: argparse.Namespace) -> int:
    """`broadsheet serve`: build into .preview/site (or --out), then serve and rebuild on every save."""
    from .live.serve import Address, Preview
    from .live.site import LiveSite
    from .live.watch import watcher

    config = load_config(args.config, {"base_url": args.base_url})
    _say_trust(config)
    live = LiveSite(replace(options_from(args), out=args.out or config.root / ".preview" / "site"))
    where = folders(config, live.options)
    sources = [args.config, where.content, where.layouts]
    changes = watcher(sources)  # before the first build: saves while it runs count
    rebuild = _preview_rebuild(live, changes.pending)
    first = rebuild([])
    if first:
        print(first, file=sys.stderr)
    preview = Preview(where.out, config.base_path, rebuild, sources, Address(args.host, args.port), changes)
    preview.error = first
    preview.interactives = lambda: (live.last.made.site.config if live.last else config).interactives
    address = f"http://{args.host}:{args.port}{config.base_path}"
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {args.host} exposes drafts and unpublished work to your network",
              file=sys.stderr)
    print(f"Serving {config.title} at {address} (Ctrl-C to stop)", flush=True)
    if args.open:
        threading.Timer(1.0, webbrowser.open, (address,)).start()
    try:
        preview.run()  # livereload ends its loop quietly on Ctrl-C; an interrupt elsewhere lands here
    except KeyboardInterrupt:
        pass
    print("\nStopped.")
    return 0


def _preview_rebuild(live: LiveSite, superseded: Callable[[], bool]) -> Callable[..., str | None]:
    """The preview's rebuild (see serve.Rebuild): the error it ends with, "" when it built, None when it gave
    way to a newer save (and wrote nothing)."""
    from .live.serve import describe_error
    from .live.site import OpenPages, Superseded

    def rebuild(changed: list[Path], first: frozenset[str] = frozenset(),
                on_first: Callable[[dict[str, bytes]], None] | None = None) -> str | None:
        try:
            if changed:  # (the first build, told of no change, runs to its end)
                live.rebuild(changed, OpenPages(first, on_first) if on_first else None, superseded)
            else:
                live.rebuild()
        except Superseded:
            return None  # a newer save came: the next build takes these changes with it
        except BuildError as exc:
            return describe_error(exc)
        except Exception as exc:  # noqa: BLE001 -- the preview must outlive any one bad save
            return f"internal error while building: {type(exc).__name__}: {exc}"
        return ""

    return rebuild


def describe(summary: Summary, dry_run: bool = False) -> str:
    """The one-line build summary (of a dry run: what it would have changed)."""
    counts = ", ".join(_count(n, noun) for n, noun in ((summary.articles, "article"), (summary.pages, "page"),
                                                        (summary.listings, "listing")))
    if dry_run:
        return (f"Dry run: built {counts} and {_count(summary.static, 'static file')} in {summary.milliseconds} "
                f"ms; {_count(summary.files, 'file')} would change in {display_path(summary.out)}/ (nothing "
                "was written)")
    return (f"Built {counts} and {_count(summary.static, 'static file')} into {display_path(summary.out)}/ "
            f"in {summary.milliseconds} ms")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _print_problems(problems, args: argparse.Namespace) -> None:
    for problem in problems:
        if problem.severity == "error" or not getattr(args, "quiet", False):
            print(problem, file=sys.stderr)
    if getattr(args, "verbose", False) and problems and sys.exc_info()[0]:
        traceback.print_exc()


class _ProgressBar:
    """A one-line progress bar on the terminal, shown only once a build has run for a second."""

    def __init__(self) -> None:
        self.started, self.shown = monotonic(), False

    def __call__(self, done: int, total: int) -> None:
        if monotonic() - self.started < 1 or (done % 25 and done != total):
            return
        filled = int(30 * done / max(total, 1))
        sys.stderr.write(f"\r[{'#' * filled}{' ' * (30 - filled)}] {done}/{total} pages")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r" + " " * 60 + "\r")
