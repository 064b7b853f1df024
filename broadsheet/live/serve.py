"""`broadsheet serve`: the site under its base path on 127.0.0.1, rebuilt and reloaded as files are saved.

The server is python-livereload's (its WebSocket, its injected script, CSS swapped in place). Broadsheet
watches the sources itself, waits for a burst of saves to settle, rebuilds through the build's own
incremental path off the server's thread, and only then tells the open tabs to reload, once.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import mimetypes
import os
import posixpath
import socket
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from livereload import Server
from livereload.handlers import ForceReloadHandler, LiveReloadHandler, LiveReloadJSHandler
from tornado.ioloop import IOLoop
from tornado.web import FallbackHandler, HTTPError

from ..errors import BuildError, UsageError
from .addresses import LOCAL_HOSTS, LOOPBACK, host_names, refusal, request_path
from .watch import Inotify, Poller, follow

MOST_SERVED = 1_000  # pages whose last request is remembered (a flood of made-up addresses must not grow it)
# rebuild(changed files, output paths of pages to make first, what is given those pages) -> the error, or "",
# or None when the build gave way to a newer save (and wrote nothing)
Rebuild = Callable[[list[Path], frozenset[str], Callable[[dict[str, bytes]], None]], str | None]


@dataclass(frozen=True)
class Address:
    """Where the preview listens."""

    host: str = "127.0.0.1"
    port: int = 8000


class Preview:
    """The one server: what it serves, the last build's problems, and the watcher that rebuilds."""

    def __init__(self, out: Path, base_path: str, rebuild: Rebuild, sources: Iterable[Path], address: Address,
                 changes: Poller | Inotify | None = None) -> None:
        self.out, self.base_path, self.rebuild = out.resolve(), unquote(base_path), rebuild
        self.sources, self.host, self.port, self.changes = list(sources), address.host, address.port, changes
        self.names = host_names(address.host)  # the Host names it answers (any other: DNS rebinding)
        self.error = ""
        self.loop: IOLoop | None = None
        self.stopping = threading.Event()
        self.tabs: dict[Any, str] = {}  # each open tab's reload socket, and the output path of its page
        self.tabs_lock = threading.Lock()
        self.early: dict[str, bytes] = {}  # open tabs' pages made ahead of the rest of a rebuild, by output path
        self.changed_at = 0.0  # when what the pages are last changed (and the tabs were told)
        self.served_at: OrderedDict[str, float] = OrderedDict()  # when each page was last asked for, by output
        # path, the least recently asked first (one forgotten is as if asked before the last change: reloaded)

    # -- serving -----------------------------------------------------------------------------------
    def app(self, environ: dict[str, Any], start_response: Callable) -> list[bytes]:
        """WSGI: files under the base path, the site's 404 page, the build error page while one stands."""
        refused = refusal(environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""), self.names)  # (HTTP/1.0)
        if refused:
            return _respond(start_response, f"{refused} {'Bad Request' if refused == 400 else 'Forbidden'}",
                            b"Bad host" if refused == 400 else b"Forbidden host", "text/plain")
        path = request_path(environ.get("PATH_INFO", "/"))
        if path is None:
            return _respond(start_response, "400 Bad Request", b"Bad request path", "text/plain")
        if path in ("/", "", self.base_path[:-1]) and self.base_path != "/":
            return _redirect(start_response, "302 Found", self.base_path)
        output = self._output(path) or ""
        if output.endswith(".html"):  # (noted before the answer is chosen: a change meanwhile counts as later)
            self._note_served(output)
        early = self.early.get(output)
        if early is not None:  # the rebuild is still writing the rest: this page is of the new site already
            return _respond(start_response, "200 OK", early, mimetypes.guess_type(output)[0] or "text/html")
        target = self._file(output)
        if self.error and (target is None or target.suffix == ".html"):
            return _respond(start_response, "500 Build Error", self._error_page(), "text/html")
        if target is None:
            return self._not_found(start_response)
        if target.is_dir():  # (the address made again from the clean path: never `//other.host/`)
            return _redirect(start_response, "301 Moved Permanently",
                             self.base_path + ("" if output == "." else output + "/"))
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return _respond(start_response, "200 OK", target.read_bytes(), kind)

    def _guarded(self, prepare: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """A handler's prepare() that first refuses a request for another host (DNS rebinding)."""

        def guarded(handler: Any) -> Any:
            refused = refusal(handler.request.host or "", self.names)
            if refused:
                raise HTTPError(refused)
            return prepare(handler)

        return guarded

    def _origin_allowed(self, origin: str) -> bool:
        """The reload socket takes pages of this server only (no other site can listen in on drafts)."""
        return origin.lower() in {f"http://{name}:{self.port}" for name in self.names}

    def _file(self, output: str) -> Path | None:
        """The file an output path names inside the output folder, or None (never anything outside it)."""
        if not output:
            return None
        target = (self.out / output).resolve()
        if not target.is_relative_to(self.out) or not target.exists():
            return None
        return target

    def _output(self, path: str) -> str | None:
        """The output path (`2024/05/story/index.html`) a request path names under the base path, or None."""
        if not path.startswith(self.base_path) or "\0" in path:
            return None
        relative = path[len(self.base_path):]
        relative += "index.html" if relative.endswith("/") or not relative else ""
        clean = posixpath.normpath(relative)
        return None if clean.startswith(("..", "/")) else clean

    def _note_served(self, output: str) -> None:
        self.served_at[output] = time.monotonic()
        self.served_at.move_to_end(output)
        while len(self.served_at) > MOST_SERVED:
            self.served_at.popitem(last=False)

    def _not_found(self, start_response: Callable) -> list[bytes]:
        page = self.out / "404.html"
        body = page.read_bytes() if page.is_file() else b"<!doctype html><title>Not found</title><h1>Not found</h1>"
        return _respond(start_response, "404 Not Found", body, "text/html")

    def _error_page(self) -> bytes:
        lines = "\n".join(f"<li><code>{html.escape(line)}</code></li>" for line in self.error.splitlines())
        return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Build error</title>"
                f"<style>body{{font:16px/1.5 system-ui,sans-serif;margin:2rem;max-width:60rem}}"
                f"h1{{color:#9b2915}}li{{margin:.5rem 0}}code{{white-space:pre-wrap}}</style></head>"
                f"<body><h1>The site did not build</h1><p>Fix the problem below and save: this page reloads "
                f"by itself.</p><ul class=\"build-errors\">{lines}</ul></body></html>").encode()

    # -- watching ----------------------------------------------------------------------------------
    def watch(self) -> None:
        """Wait for saves; after a burst of changes settles, rebuild and tell the browser (off the loop)."""
        follow(self.sources, self.refresh, self.stopping, self.changes)

    def refresh(self, changed: list[Path]) -> bool:
        """Rebuild after the saves of `changed` and tell the open tabs; False when it gave way to a newer save."""
        shown: set[str] = set()  # the pages open tabs were sent to ahead of the rest

        def show_first(pages: dict[str, bytes]) -> None:
            self.early = pages
            shown.update(pages)
            self._reload_tabs("*", lambda page: page in pages)

        error = self.rebuild(changed, self._first(changed), show_first)
        if error is None:  # gave way to a newer save: the next rebuild shows the open tabs their pages
            self.early = {}
            return False
        if error and error != self.error:
            print(error, file=sys.stderr, flush=True)
        elif not error and self.error:
            print("Fixed: the site builds again.", file=sys.stderr, flush=True)
        self.error = error
        self.early = {}  # (the output folder holds the same bytes now, or the error page stands)
        only_css = changed and all(p.suffix == ".css" for p in changed) and not error
        self._reload_tabs(changed[0].name if only_css else "*", lambda page: error != "" or page not in shown)
        return True

    def _first(self, changed: list[Path]) -> frozenset[str]:
        """The open tabs' pages, to be made first, when the saves are of articles, layouts or the settings: a
        page shown early must not lean on a picture or stylesheet that is still to be copied."""
        if not all(p.suffix in (".md", ".html", ".xml", ".txt", ".toml") and "static" not in p.parts for p in changed):
            return frozenset()
        with self.tabs_lock:
            return frozenset(self.tabs.values())

    def _reload_tabs(self, path: str, which: Callable[[str], bool]) -> None:
        """Tell the open tabs whose page `which` picks to reload (`path`: a stylesheet is swapped in place)."""
        def send() -> None:
            for tab in list(LiveReloadHandler.waiters):
                if which(self.tabs.get(tab, "")):
                    tab.send_message(_reload(path))

        self.changed_at = time.monotonic()
        if self.loop is not None:
            self.loop.add_callback(send)

    def opened(self, tab: Any, message: str) -> None:
        """Note which page a tab shows, from the LiveReload handshake (`info` carries the tab's URL)."""
        with contextlib.suppress(ValueError, AttributeError, TypeError):
            url = json.loads(message).get("url") if '"info"' in message else None
            if url:
                page = self._output(unquote(urlsplit(url).path)) or ""
                with self.tabs_lock:
                    self.tabs[tab] = page
                if self.served_at.get(page, 0.0) < self.changed_at:  # it was loading when the tabs were told
                    tab.send_message(_reload("*"))

    def closed(self, tab: Any) -> None:
        """Forget a tab whose reload socket closed."""
        with self.tabs_lock:
            self.tabs.pop(tab, None)

    def answering(self) -> str:
        """The addresses other machines may open it at (said when it listens on the network)."""
        others = [f"http://{name}:{self.port}{quote(self.base_path)}" for name in self.names
                  if name not in LOCAL_HOSTS]
        return (f"Also answering at {', '.join(others)}; a request naming any other host gets 403" if others else
                "No address of this machine but its own loopback was found; other machines will get 403")

    # -- running -----------------------------------------------------------------------------------
    def run(self) -> None:
        """Serve until Ctrl-C."""
        _check_port(self.host, self.port)
        if self.host not in LOOPBACK:
            print(self.answering(), flush=True)
        LiveReloadHandler.DEFAULT_RELOAD_TIME = 0  # Broadsheet debounces; never drop a reload
        LiveReloadHandler.check_origin = lambda _, origin: self._origin_allowed(origin)  # livereload allows any
        # livereload's own routes check no Host, and its pages' would fail on `localhost:x` with a traceback
        for handler in (LiveReloadHandler, LiveReloadJSHandler, FallbackHandler):
            handler.prepare = self._guarded(handler.prepare)
        ForceReloadHandler.get = _not_found  # any page anywhere could reload every open tab with it
        on_message, on_close = LiveReloadHandler.on_message, LiveReloadHandler.on_close
        LiveReloadHandler.on_message = lambda tab, message: (self.opened(tab, message), on_message(tab, message))[1]
        LiveReloadHandler.on_close = lambda tab: (self.closed(tab), on_close(tab))[1]
        logging.getLogger("livereload").setLevel(logging.WARNING)
        logging.getLogger("tornado.access").setLevel(logging.ERROR)
        server = Server(app=self.app)
        server._setup_logging = lambda: None  # keep the terminal for Broadsheet's own messages
        server.watch(str(self.sources[0]), delay="forever")  # livereload's own watcher stays idle
        self.loop = IOLoop.current()
        # serve() queues a reload of every tab for its start; tabs open here would lose their state to it
        self.loop.add_callback(server.watcher._changes.clear)
        watcher = threading.Thread(target=self.watch, name="broadsheet-watch", daemon=True)
        watcher.start()
        try:
            # debug=False: livereload would otherwise turn on tornado's autoreload, which restarts the whole
            # process when any imported Python file changes
            server.serve(port=self.port, host=self.host, live_css=True, restart_delay=0, debug=False)
        finally:
            self.stopping.set()


def _reload(path: str) -> dict[str, Any]:
    """The LiveReload message that reloads a tab (`path`: a stylesheet is swapped in place)."""
    return {"command": "reload", "path": path, "liveCSS": True, "liveImg": True}


def _not_found(handler: Any) -> None:
    raise HTTPError(404)


def _respond(start_response: Callable, status: str, body: bytes, kind: str) -> list[bytes]:
    charset = "; charset=utf-8" if kind.startswith("text/") or kind.endswith(("json", "xml", "javascript")) else ""
    start_response(status, [("Content-Type", kind + charset), ("Content-Length", str(len(body))),
                            ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")])
    return [body]


def _redirect(start_response: Callable, status: str, path: str) -> list[bytes]:
    start_response(status, [("Location", quote(path, safe="/!$&'()*+,;=:@~")), ("Content-Length", "0"),
                            ("Cache-Control", "no-store")])
    return [b""]


def _check_port(host: str, port: int) -> None:
    """A busy port is a clear error, not a traceback from deep inside the server."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        if os.name == "posix":  # as tornado listens: a port whose last connections are closing is free
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}; try --port {port + 1}") from None


def describe_error(exc: BuildError) -> str:
    """The build's problems, one per line, as the terminal and the error page show them."""
    return "\n".join(str(p) for p in exc.problems)
