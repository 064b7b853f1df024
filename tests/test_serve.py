"""The preview server: livereload under the base path, rebuilds on save, errors in the page, safe paths."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from broadsheet.live.serve import Address, Preview

from .conftest import PROJECT

ARTICLE = "content/articles/transport/tram-line-extension-opens.md"  # has an explicit slug: its URL stays


def environ(path: str, host: str = "127.0.0.1:8000") -> dict:
    """What the server hands the preview for a GET of `path` as sent on the wire (tornado's WSGI container,
    as livereload uses it, unescapes the path once and gives its bytes as latin-1)."""
    from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine
    from tornado.wsgi import WSGIContainer

    request = HTTPServerRequest(start_line=RequestStartLine("GET", path, "HTTP/1.1"),
                                headers=HTTPHeaders({"Host": host}))
    return WSGIContainer(lambda *_: []).environ(request)


def call(preview: Preview, path: str, host: str = "127.0.0.1:8000") -> tuple[str, dict, bytes]:
    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(preview.app(environ(path, host), start_response))
    return seen["status"], seen["headers"], body


@pytest.fixture
def preview(tmp_path) -> Preview:
    out = tmp_path / "site"
    (out / "2026/11/story").mkdir(parents=True)
    (out / "2026/11/story/index.html").write_text("<html><head></head><body><h1>Story</h1></body></html>")
    (out / "404.html").write_text("<h1>Our own 404</h1>")
    (tmp_path / "secret.txt").write_text("private")
    (out / "link").symlink_to(tmp_path / "secret.txt")
    (tmp_path / "site-drafts").mkdir()
    (tmp_path / "site-drafts/x.html").write_text("draft")
    return Preview(out, "/newsroom/", lambda changed, *_: "", [tmp_path], Address("127.0.0.1", 8000))


def wait_until(condition, seconds: float = 30, step: float = 0.02) -> bool:
    """Whether condition() came true before the deadline (looked at every `step` seconds)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


@pytest.mark.parametrize("mode", ["auto", "poll"])
def test_a_burst_of_saves_gives_one_rebuild_and_css_alone_is_swapped(tmp_path, monkeypatch, mode):
    from livereload.handlers import LiveReloadHandler

    from broadsheet.live.watch import watcher

    monkeypatch.setenv("BROADSHEET_WATCH", mode)
    sources = [tmp_path / "content", tmp_path / "static"]
    for folder in sources:
        folder.mkdir()
    seen: list[list[Path]] = []  # what each rebuild was given
    tab = Tab()
    monkeypatch.setattr(LiveReloadHandler, "waiters", {tab})
    preview = Preview(tmp_path / "site", "/", lambda changed, *_: seen.append(changed) or "", sources, Address(),
                      changes=watcher(sources))  # (it has taken its first look: saves from now on count)
    preview.loop = Loop()
    thread = threading.Thread(target=preview.watch, daemon=True)
    thread.start()
    try:
        for n in range(200):  # like a `git checkout` that touches 200 stories
            (tmp_path / f"content/story-{n}.md").write_text(f"story {n}")
        assert wait_until(lambda: tab.told), "no rebuild within 30 s"
        (tmp_path / "static/site.css").write_text("body { color: red }")
        assert wait_until(lambda: len(tab.told) >= 2), "no second rebuild within 30 s"
        # one rebuild for the whole burst (a second one would have come before the stylesheet's), then one for
        # the stylesheet, whose reload names it: swapped in place
        assert [sorted(p.name for p in changed) for changed in seen] == [
            sorted(f"story-{n}.md" for n in range(200)), ["site.css"]]
        assert [message["path"] for message in tab.told] == ["*", "site.css"]
    finally:
        preview.stopping.set()
        thread.join(timeout=5)


def test_serves_under_the_base_path_and_redirects_the_root(preview):
    for root in ("/", "/newsroom"):
        status, headers, _ = call(preview, root)
        assert (status, headers["Location"]) == ("302 Found", "/newsroom/")
    status, headers, body = call(preview, "/newsroom/2026/11/story/")
    assert status == "200 OK" and b"<h1>Story</h1>" in body and headers["Cache-Control"] == "no-store"
    for path in ("/newsroom/2026/11/story", "/newsroom/2026//11/./story"):  # a folder: to its own address
        status, headers, _ = call(preview, path)
        assert (status, headers["Location"]) == ("301 Moved Permanently", "/newsroom/2026/11/story/")


ARABIC = "2026/10/مكتبة-إيستمير-المركزية/"


def test_addresses_that_are_not_ascii_and_escaped_file_names_are_found(preview):
    for folder in (ARABIC, "café-olé/"):
        (preview.out / folder).mkdir(parents=True)
        (preview.out / folder / "index.html").write_text(f"<h1>{folder}</h1>", encoding="utf-8")
    (preview.out / "a%20b.png").write_bytes(b"the picture whose name holds %20")
    for folder in (ARABIC, "café-olé/"):
        status, _, body = call(preview, quote(f"/newsroom/{folder}"))  # as a browser sends it
        assert status == "200 OK" and body.decode() == f"<h1>{folder}</h1>", folder
    status, headers, _ = call(preview, quote("/newsroom/café-olé"))
    assert (status, headers["Location"]) == ("301 Moved Permanently", quote("/newsroom/café-olé/"))
    assert call(preview, "/newsroom/a%2520b.png")[2] == b"the picture whose name holds %20"
    assert call(preview, "/newsroom/a%20b.png")[0] == "404 Not Found"  # `a b.png`: the path is decoded once


@pytest.mark.parametrize("path", ["/newsroom/a%0d%0ab", "/newsroom/x%0d%0aSet-Cookie:%20a=b/../2026",
                                  "/newsroom/%0a", "/newsroom/a\0b", "/newsroom/%00", "/newsroom/%ff%fe/",
                                  "/newsroom/caf%e9/"])
def test_control_characters_and_paths_that_are_not_utf8_get_400(preview, path):
    assert call(preview, path)[0] == "400 Bad Request"


def test_no_redirect_leads_to_another_site(tmp_path):
    out = tmp_path / "site"
    (out / "2026/11").mkdir(parents=True)
    preview = Preview(out, "/", lambda changed, *_: "", [tmp_path], Address())
    for path in (f"//evil.example/%2e%2e{out}/2026/11", f"//evil.example/..{out}/2026/11", f"/{out}/2026/11",
                 f"//evil.example/%2e%2e/%2e%2e{out}/2026"):
        status, headers, _ = call(preview, path)
        assert status == "404 Not Found" and "Location" not in headers, path
    status, headers, _ = call(preview, "/2026/11")
    assert (status, headers["Location"]) == ("301 Moved Permanently", "/2026/11/")


def test_the_pages_remembered_as_served_are_bounded(preview):
    from broadsheet.live.serve import MOST_SERVED

    for n in range(MOST_SERVED + 50):  # a flood of made-up addresses
        call(preview, f"/newsroom/made-up-{n}/")
    assert preview.refresh([preview.sources[0] / "a.md"])  # a save: the tabs are told
    call(preview, "/newsroom/2026/11/story/")  # a page asked for since
    assert len(preview.served_at) == MOST_SERVED and "made-up-0/index.html" not in preview.served_at
    told = {}
    for page in ("2026/11/story/", "made-up-0/", f"made-up-{MOST_SERVED + 49}/"):
        tab = Tab()  # a tab connecting now shows the page it was served: reloaded if that came before the save
        preview.opened(tab, f'{{"command": "info", "url": "http://127.0.0.1:8000/newsroom/{page}"}}')
        told[page] = len(tab.told)
    assert told == {"2026/11/story/": 0, "made-up-0/": 1, f"made-up-{MOST_SERVED + 49}/": 1}


@pytest.mark.parametrize("path", ["/newsroom/../secret.txt", "/newsroom/%2e%2e/secret.txt", "/newsroom/link",
                                  "/newsroom/../site-drafts/x.html", "/newsroom//etc/passwd", "/secret.txt",
                                  "/newsroom/missing/", "/newsroom/2026/11/story/index.html/"])
def test_nothing_outside_the_site_and_missing_pages_get_the_sites_404(preview, path):
    status, _, body = call(preview, path.replace("%2e", "."))
    assert status == "404 Not Found" and body == b"<h1>Our own 404</h1>"


def test_foreign_hosts_are_refused(preview):  # (origins: see test_the_reload_socket_refuses_pages_of_other_sites)
    assert call(preview, "/newsroom/", host="evil.example:8000")[0] == "403 Forbidden"
    assert call(preview, "/newsroom/", host="localhost:8000")[0] != "403 Forbidden"


def test_a_build_error_is_shown_instead_of_pages(preview):
    preview.error = "content/x.md:3:7: error: invalid date '2022-02-30' <b>"
    status, _, body = call(preview, "/newsroom/2026/11/story/")
    assert status == "500 Build Error" and b"content/x.md:3:7" in body and b"&lt;b&gt;" in body


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(tmp_path, request):
    """`build.py serve` over a copy of the demo, on a free port, in its own process (noticing saves through
    inotify on Linux, or by polling when the test asks for "poll")."""
    for name in ("content", "layouts"):
        shutil.copytree(PROJECT / name, tmp_path / name)
    shutil.copy(PROJECT / "pyproject.toml", tmp_path)
    port = free_port()
    process = subprocess.Popen([sys.executable, str(PROJECT / "build.py"), "serve", "--config",
                                str(tmp_path / "pyproject.toml"), "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "BROADSHEET_WATCH": getattr(request, "param", "auto")})
    base = f"http://127.0.0.1:{port}/newsroom/"
    for _ in range(600):  # the first build comes first; a loaded machine may take a while
        try:
            urllib.request.urlopen(base, timeout=1)
            break
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    else:
        pytest.fail("the preview server did not come up within a minute")
    yield tmp_path, base, process
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)


def raw_get(base: str, path: str, host: str) -> int:
    """The status of a GET sent with the given Host header, the path exactly as written."""
    port = int(base.split(":")[2].split("/")[0])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest("GET", path, skip_host=True)
    connection.putheader("Host", host)
    connection.endheaders()
    status = connection.getresponse().status
    connection.close()
    return status


def test_livereloads_own_routes_refuse_other_hosts_and_the_forced_reload_is_gone(server):
    _, base, _ = server
    port = base.split(":")[2].split("/")[0]
    assert raw_get(base, "/livereload.js", f"127.0.0.1:{port}") == 200
    assert raw_get(base, "/livereload.js", f"localhost:{port}") == 200
    for path in ("/livereload.js", "/livereload", "/newsroom/", "/newsroom/404.html"):
        assert raw_get(base, path, f"evil.example:{port}") == 403, path  # a DNS-rebound page gets nothing
    assert raw_get(base, "/forcereload", f"127.0.0.1:{port}") == 404  # no page anywhere can reload our tabs


def test_a_malformed_host_or_path_gets_400_and_no_traceback(server):
    _, base, process = server
    port = base.split(":")[2].split("/")[0]
    for host in ("localhost:evil", "localhost:", "127.0.0.1:99999", f"127.0.0.1:{port}:{port}"):
        for path in ("/newsroom/", "/livereload.js", "/livereload"):
            assert raw_get(base, path, host) == 400, (host, path)
    for path in ("/newsroom/x%0d%0aSet-Cookie:%20a=b/../2026", "/newsroom/%0d%0a", "/newsroom/%ff/"):
        assert raw_response(base, path)[0] == 400, path
    assert raw_get(base, "/newsroom/", f"LOCALHOST.:{port}") == 200  # (a name's case and final dot are no matter)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert "Traceback" not in err and "Uncaught exception" not in err, err


def test_clicking_the_arabic_story_opens_it_and_a_save_reloads_it(browser, server):
    root, base, _ = server
    page = browser.new_page()
    page.goto(base + "news/")
    failures: list[str] = []
    page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.locator("a[href*='/2026/10/مكتبة-']").first.click()
    # (the browser sends the address escaped; waiting for it, not for the next navigation, which may be a
    # reload still due from an earlier test's save)
    page.wait_for_url(lambda url: "/2026/10/%D9%85%D9%83%D8%AA%D8%A8%D8%A9-" in url, timeout=10000)
    assert page.locator("h1").inner_text().startswith("مكتبة إيستمير المركزية")
    page.wait_for_function("window.LiveReload && window.LiveReload.connector && "
                           "window.LiveReload.connector._connectionDesired !== undefined", timeout=5000)
    time.sleep(0.5)  # let the socket finish its handshake
    story = root / "content/articles/news/library-arabic-hours.md"
    story.write_text(story.read_text(encoding="utf-8").replace("أعلنت مكتبة", "أعلنت اليوم مكتبة", 1),
                     encoding="utf-8")
    page.wait_for_function("document.querySelector('.story-body')?.textContent.includes('أعلنت اليوم')",
                           timeout=15000)
    assert failures == []
    page.close()


def test_the_reload_socket_refuses_pages_of_other_sites(server):
    import asyncio

    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    _, base, _ = server
    port = base.split(":")[2].split("/")[0]

    async def connect(origin: str) -> str:
        request = HTTPRequest(f"ws://127.0.0.1:{port}/livereload", headers={"Origin": origin})
        try:
            socket = await websocket_connect(request)
        except HTTPClientError as exc:
            return str(exc.code)
        socket.close()
        return "open"

    def handshake(origin: str) -> str:
        """On a thread with its own event loop (the browser tests' Playwright owns this thread's)."""
        outcome: list[str] = []
        thread = threading.Thread(target=lambda: outcome.append(asyncio.run(connect(origin))))
        thread.start()
        thread.join(timeout=30)
        return outcome[0] if outcome else "no answer"

    assert handshake(f"http://127.0.0.1:{port}") == "open" and handshake(f"http://localhost:{port}") == "open"
    assert handshake("http://evil.example") == "403"
    assert handshake(f"http://127.0.0.1:{int(port) + 1}") == "403"  # nor another local server's pages


def raw_response(base: str, path: str) -> tuple[int, bytes]:
    """Status and body of a GET whose path goes on the wire exactly as written (no client-side cleaning)."""
    port = int(base.split(":")[2].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
                           .encode("latin-1"))
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.mark.parametrize("path", [
    "/newsroom/../../secret.txt", "/newsroom/%2e%2e/%2e%2e/secret.txt", "/newsroom/..%2f..%2fsecret.txt",
    "/newsroom/..%5c..%5csecret.txt", "/newsroom/%252e%252e/%252e%252e/secret.txt", "//secret.txt",
    "/newsroom//../../secret.txt", "/newsroom/../site-drafts/draft.html", "/newsroom/out-link",
    "/newsroom/%2E%2E%2F%2E%2E%2Fsecret.txt"])
def test_no_request_path_reaches_a_file_outside_the_site(server, path):
    root, base, _ = server
    (root / "secret.txt").write_text("TOP SECRET")
    drafts = root / ".preview/site-drafts"  # a sibling whose name starts with the site folder's
    drafts.mkdir(parents=True, exist_ok=True)
    (drafts / "draft.html").write_text("TOP SECRET")
    link = root / ".preview/site/out-link"
    if not link.is_symlink():
        link.symlink_to(root / "secret.txt")
    status, body = raw_response(base, path)
    assert status in (400, 403, 404) and b"TOP SECRET" not in body, (path, status)


def test_requests_are_answered_during_a_slow_rebuild_even_a_flood(server):
    root, base, _ = server
    config = root / "pyproject.toml"
    config.write_text(config.read_text().replace("[tool.broadsheet]", "[tool.broadsheet]\nmarkdown_timeout = 4", 1))
    time.sleep(1.5)  # the settings change is built
    story = root / ARTICLE
    story.write_text(story.read_text() + "\n" + "[" * 10000 + "\n")  # a rebuild that takes the full 4 s
    time.sleep(0.5)
    started = time.monotonic()
    assert urllib.request.urlopen(base + "search/", timeout=3).status == 200
    assert time.monotonic() - started < 2.5  # answered while the 4 s rebuild runs, not after it
    failures: list[str] = []

    def client(number: int) -> None:
        for request in range(100):
            path = ["", "search/", "404.html", "static/css/site.css", "no-such-page/"][request % 5]
            try:
                urllib.request.urlopen(base + path, timeout=10).read()
            except urllib.error.HTTPError as exc:
                if exc.code not in (404, 500):  # the missing page; the build-error page once it fails
                    failures.append(f"{path}: {exc.code}")
            except OSError as exc:
                failures.append(f"{path}: {exc}")

    clients = [threading.Thread(target=client, args=(n,)) for n in range(20)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(timeout=120)
    assert not failures, failures[:5]


def listening_addresses(port: int) -> set[str]:
    """The local addresses a TCP socket listens on for `port` (Linux's /proc/net/tcp and tcp6)."""
    found = set()
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        if not table.exists():
            continue
        for row in table.read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's socket table")
def test_the_preview_listens_on_loopback_only_unless_told_and_then_warns(server, tmp_path):
    _, base, _ = server
    port = int(base.split(":")[2].split("/")[0])
    assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, and nothing else
    other = free_port()
    process = subprocess.Popen([sys.executable, str(PROJECT / "build.py"), "serve", "--host", "0.0.0.0", "--port",
                                str(other), "--config", str(PROJECT / "pyproject.toml"), "--out",
                                str(tmp_path / "out")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(600):
            if listening_addresses(other):
                break
            time.sleep(0.1)
        assert listening_addresses(other) == {"00000000"}  # every interface, as asked
        own = own_address()
        if own:  # the machine's own address is answered (a phone on the network), another site's name is not
            assert raw_get(f"http://127.0.0.1:{other}/", "/newsroom/", f"{own}:{other}") == 200
        assert raw_get(f"http://127.0.0.1:{other}/", "/newsroom/", f"evil.example:{other}") == 403
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert "warning: listening on 0.0.0.0 exposes drafts and unpublished work to your network" in err
    said = next((line for line in out.splitlines() if line.startswith("Also answering at ")), "")
    assert not own or f"http://{own}:{other}/newsroom/" in said


def own_address() -> str:
    """This machine's address on its way out to the network ("" without one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return ""
        return probe.getsockname()[0]


def test_ctrl_c_stops_cleanly(server):
    _, _, process = server
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 0 and "Traceback" not in err and "Stopped." in out


def test_busy_port_is_a_clear_error(server):
    _, base, _ = server
    port = base.split(":")[2].split("/")[0]
    run = subprocess.run([sys.executable, str(PROJECT / "build.py"), "serve", "--port", port,
                          "--config", str(PROJECT / "pyproject.toml")], capture_output=True, text=True, timeout=30)
    assert run.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.parametrize("server", ["auto", "poll"], indirect=True)
def test_saving_reloads_the_open_tab_shows_errors_and_recovers(browser, server):
    root, base, process = server
    said: list[str] = []  # what the server says on its terminal, as it says it
    reader = threading.Thread(target=lambda: said.extend(process.stderr), daemon=True)
    reader.start()
    page = browser.new_page()
    page.goto(base + "2026/11/tram-line-extension-opens/")
    page.wait_for_function("window.LiveReload && window.LiveReload.connector && "
                           "window.LiveReload.connector._connectionDesired !== undefined", timeout=5000)
    time.sleep(0.5)  # let the socket finish its handshake
    source = root / ARTICLE
    text = source.read_text()
    source.write_text(text.replace("title: Tram line extension", "title: Tramway extension", 1))
    page.wait_for_function("document.querySelector('h1')?.textContent.startsWith('Tramway extension')",
                           timeout=15000)
    source.write_text(text.replace("title: ", "title: [broken ", 1))
    page.wait_for_selector("ul.build-errors", timeout=15000)
    assert ARTICLE in page.locator("ul.build-errors").inner_text()
    source.write_text(text)
    page.wait_for_function("document.querySelector('h1')?.textContent.startsWith('Tram line extension')",
                           timeout=15000)
    page.close()
    for _ in range(100):  # the open tab is shown its page first: the rest of the site may still be on its way
        if any("Fixed" in line for line in said):
            break
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)
    reader.join(timeout=10)
    err = "".join(said)
    # the terminal said the error once, then that it was fixed
    assert err.count(f"{ARTICLE}:") == 1 and "Fixed: the site builds again." in err and "Traceback" not in err


def test_css_changes_apply_without_a_page_reload(browser, server):
    root, base, _ = server
    page = browser.new_page()
    page.goto(base)
    page.wait_for_function("window.LiveReload !== undefined", timeout=5000)
    time.sleep(0.5)
    page.evaluate("window.__still_here = true")
    css = root / "layouts/static/css/site.css"
    css.write_text(css.read_text() + "\nbody { background-color: rgb(1, 2, 3); }\n")
    page.wait_for_function("getComputedStyle(document.body).backgroundColor === 'rgb(1, 2, 3)'", timeout=3000)
    assert page.evaluate("window.__still_here === true")
    page.close()



def test_a_layout_save_reaches_every_open_tab(browser, server):
    root, base, _ = server
    tabs = [browser.new_page() for _ in range(2)]
    tabs[0].goto(base + "2026/11/tram-line-extension-opens/")
    tabs[1].goto(base)
    for tab in tabs:
        tab.wait_for_function("window.LiveReload !== undefined", timeout=5000)
    time.sleep(0.5)
    layout = root / "layouts/base.html"
    layout.write_text(layout.read_text().replace("<body>", '<body data-relaid="yes">', 1))
    for tab in tabs:
        # (null-safe: the page may be between two documents while it reloads; how fast is bench/'s to say)
        tab.wait_for_function("document.body?.dataset.relaid === 'yes'", timeout=15000)
    for tab in tabs:
        tab.close()


def test_a_failure_while_watching_is_said_and_watching_goes_on(tmp_path, monkeypatch, capsys):
    from broadsheet.live import watch

    class Flaky:
        settle = 0.01

        def __init__(self) -> None:
            self.calls = 0

        def changes(self, timeout: float) -> set[str]:
            self.calls += 1
            time.sleep(0.01)
            if self.calls == 1:
                raise OSError(28, "No space left on device")
            return {"content/a.md"} if self.calls == 2 else set()

        def close(self) -> None:
            pass

    monkeypatch.setattr(watch, "watcher", lambda sources: Flaky())
    builds: list[int] = []
    preview = Preview(tmp_path / "site", "/", lambda changed, *_: builds.append(1) or "", [tmp_path], Address())
    thread = threading.Thread(target=preview.watch, daemon=True)
    thread.start()
    for _ in range(100):
        if builds:
            break
        time.sleep(0.05)
    preview.stopping.set()
    thread.join(timeout=5)
    assert builds == [1]  # the save after the failure was still built
    assert "broadsheet: error while watching for saves: OSError: [Errno 28] No space left on device; still watching" \
        in capsys.readouterr().err


class Tab:
    """A tab's reload socket as the preview sees it: what it was told."""

    def __init__(self) -> None:
        self.told: list[dict] = []

    def send_message(self, message: dict) -> None:
        self.told.append(message)


class Loop:
    """The server's event loop, running each callback at once."""

    def add_callback(self, callback, *args) -> None:
        callback(*args)


def test_a_tab_that_was_loading_when_the_tabs_were_told_is_told_when_it_connects(server):
    import asyncio
    import json

    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    root, base, _ = server
    port = base.split(":")[2].split("/")[0]
    story = base + "2026/11/tram-line-extension-opens/"

    async def connect(url: str) -> tuple[object, list[str]]:
        """A tab's reload socket, after livereload.js's handshake, and what it was told on connecting."""
        tab = await websocket_connect(HTTPRequest(f"ws://127.0.0.1:{port}/livereload",
                                                  headers={"Origin": f"http://127.0.0.1:{port}"}))
        told = []
        for message in ({"command": "hello"}, {"command": "info", "url": url}, {"command": "hello"}):
            await tab.write_message(json.dumps(message))
            if message["command"] == "hello":  # answered in turn: what the info brought comes before it
                while (answer := json.loads(await asyncio.wait_for(tab.read_message(), 30)))["command"] != "hello":
                    told.append(answer["command"])
        return tab, told

    async def scenario() -> list[object]:
        # a tab whose page the site does not have: none is made for it first, so it is told when a rebuild ends
        watching, told = await connect(base + "gone/")
        urllib.request.urlopen(story, timeout=30).read()  # a tab asks for its page, then the site changes ...
        layout, draft = root / "layouts/base.html", root / "layouts/.base.html.swp"
        draft.write_text(layout.read_text().replace("<body>", '<body data-relaid="yes">', 1))
        os.replace(draft, layout)  # saved at once, as editors do: one change, one rebuild
        ended = json.loads(await asyncio.wait_for(watching.read_message(), 60))["command"]
        late, told_late = await connect(story)  # ... and it connects afterwards: it may show the old page
        urllib.request.urlopen(story, timeout=30).read()  # a tab that asks after the change is not told again
        fresh, told_fresh = await connect(story)
        for tab in (watching, late, fresh):
            tab.close()
        return [told, ended, told_late, told_fresh]

    outcome: list[object] = []

    def run() -> None:
        """On a thread with its own event loop (the browser tests' Playwright owns this thread's)."""
        try:
            outcome.append(asyncio.run(scenario()))
        except Exception as exc:  # noqa: BLE001 -- said in the assertion below
            outcome.append(repr(exc))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=180)
    assert outcome == [[[], "reload", ["reload"], []]]


def test_open_tabs_get_their_page_before_the_rest_is_written_and_one_reload_each(make_site, monkeypatch):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from livereload.handlers import LiveReloadHandler

    from broadsheet.live.site import LiveSite, OpenPages
    from broadsheet.pipeline import Options

    from .conftest import article
    root = make_site({f"content/articles/news/s{n}.md": article(f"Story {n}", f"2024-05-0{n + 1}") for n in range(3)})
    live = LiveSite(Options(config=root / "pyproject.toml", now=datetime(2024, 6, 1, tzinfo=ZoneInfo("UTC")), jobs=1))
    live.rebuild()
    during: dict[str, bytes] = {}

    def rebuild(changed: list[Path], first: frozenset[str], on_first) -> str:
        def told(pages: dict[str, bytes]) -> None:
            on_first(pages)
            for path in ("/2024/05/story-1/", "/2024/05/story-2/"):
                during[path] = call(preview, path)[2]

        live.rebuild(changed, OpenPages(first, told))
        return ""

    open_tab, other_tab = Tab(), Tab()
    monkeypatch.setattr(LiveReloadHandler, "waiters", {open_tab, other_tab})
    preview = Preview(root / "site", "/", rebuild, [root / "pyproject.toml", root / "content", root / "layouts"],
                      Address("127.0.0.1", 8000))
    preview.loop = Loop()
    preview.opened(open_tab, '{"command": "info", "url": "http://127.0.0.1:8000/2024/05/story-1/"}')
    preview.opened(other_tab, '{"command": "info", "url": "http://127.0.0.1:8000/gone/"}')  # no such page
    base = root / "layouts/base.html"
    base.write_text(base.read_text().replace("<body>", '<body data-layout="2">'))
    assert preview.refresh([base])
    # while the rest was made, the open tabs' pages were served new; every other page as it was
    assert b'data-layout="2"' in during["/2024/05/story-1/"]
    assert b'data-layout="2"' not in during["/2024/05/story-2/"]
    assert preview.early == {} and b'data-layout="2"' in call(preview, "/2024/05/story-2/")[2]
    assert len(open_tab.told) == 1 and len(other_tab.told) == 1  # each reloaded once: early, not again
    # a stylesheet in the burst: nothing is shown early (the page could lean on it), and every tab reloads
    css = root / "layouts/static/css/site.css"
    css.write_text(css.read_text() + "\nbody { margin: 0 }\n")
    base.write_text(base.read_text().replace('data-layout="2"', 'data-layout="3"'))
    during.clear()
    assert preview.refresh([base, css])
    assert not during and len(open_tab.told) == 2 and len(other_tab.told) == 2


def test_interactives_are_served_sandboxed_and_svg_pictures_run_nothing(preview):
    out = preview.out
    (out / "graphics/election").mkdir(parents=True)
    (out / "graphics/election/index.html").write_text("<script>fetch('/newsroom/2026/11/draft/')</script>")
    (out / "graphics/election/app.js").write_text("draw()")
    (out / "map.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    preview.interactives = lambda: ("graphics/",)
    for path in ("/newsroom/graphics/election/", "/newsroom/graphics/election/app.js",
                 "/newsroom/2026/../graphics/election/index.html", "/newsroom/graphics//election/index.html"):
        status, headers, _ = call(preview, path)
        assert status == "200 OK" and headers["Content-Security-Policy"] == \
            "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads", path
    assert "allow-same-origin" not in call(preview, "/newsroom/graphics/election/")[1]["Content-Security-Policy"]
    assert call(preview, "/newsroom/map.svg")[1]["Content-Security-Policy"] == "sandbox"
    assert "Content-Security-Policy" not in call(preview, "/newsroom/2026/11/story/")[1]  # the site's own pages
    preview.interactives = lambda: ()  # taken out of the settings: its files, still there, stay sandboxed
    assert call(preview, "/newsroom/graphics/election/")[1]["Content-Security-Policy"].startswith("sandbox ")


def test_an_interactives_folder_declared_while_serving_is_served_sandboxed(server):
    root, base, _ = server
    config = root / "pyproject.toml"
    config.write_text(config.read_text().replace("[tool.broadsheet]\n", '[tool.broadsheet]\ninteractives = '
                                                 '["graphics/"]\n', 1))
    (root / "content/graphics").mkdir()
    (root / "content/graphics/chart.html").write_text("<!doctype html><script>draw()</script>")

    def served() -> bool:
        try:
            return urllib.request.urlopen(base + "graphics/chart.html", timeout=5).status == 200
        except urllib.error.URLError:
            return False

    assert wait_until(served, 60, 0.1), "the interactive was not published"
    answer = urllib.request.urlopen(base + "graphics/chart.html", timeout=10)
    assert answer.headers["Content-Security-Policy"] == \
        "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads"
    assert "Content-Security-Policy" not in urllib.request.urlopen(base, timeout=10).headers
