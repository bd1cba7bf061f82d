"""GET /docs in a real browser: headless Chromium renders every operation of GET /openapi.json with nothing but
the local server reachable, and its network log shows the page asked nothing of any other host.

Chromium runs with every non-loopback request sent to a proxy that is not there (127.0.0.1:9), so anything
from a CDN would fail, and with a NetLog (`--log-net-log`): each request in it carries its initiator and
request type, which tells the page's own requests from Chromium's background traffic (time sync, accounts,
autofill...). The last test proves the check catches a page that does load from elsewhere."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from local.openapi import OPENAPI_FILE
from tests.e2e.conftest import Live

pytestmark = pytest.mark.e2e

TIMEOUT = 60  # seconds for one HTTP call
BROWSER_TIMEOUT = 30  # seconds for one Chromium run (it takes about one)
METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI_TOOLS") == "1":
            pytest.fail("CI_TOOLS=1 (CI installs chromium: .ci/run) but chromium is not installed")
        pytest.skip("chromium is not installed (apt-get install chromium); CI installs it")
    return found


def render(chromium: str, url: str, workdir: Path) -> tuple[str, list[dict[str, Any]]]:
    """The DOM Chromium built for `url` (after its scripts ran) and every URL request of its NetLog."""
    netlog = workdir / "netlog.json"
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={workdir / 'profile'}",
        "--proxy-server=127.0.0.1:9",  # nothing listens there: no request leaves the machine
        "--proxy-bypass-list=127.0.0.1",
        f"--log-net-log={netlog}",
        "--virtual-time-budget=5000",  # let the page finish loading and run its script before the dump
        "--dump-dom",
        url,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT, check=False)
    assert result.returncode == 0 and "</html>" in result.stdout, result.stderr[-3000:]
    text = netlog.read_text()
    try:
        log = json.loads(text)
    except json.JSONDecodeError:  # cut short: the last event may be half written
        log = json.loads(text.rstrip().rstrip(",").rsplit("\n", 1)[0].rstrip(",") + "]}")
    kinds = {number: name for name, number in log["constants"]["logEventTypes"].items()}
    starts = [
        event["params"]
        for event in log["events"]
        if kinds.get(event["type"]) == "URL_REQUEST_START_JOB" and "url" in event.get("params", {})
    ]
    return result.stdout, starts


def requests_of_the_page(starts: list[dict[str, Any]], origin: str) -> list[str]:
    """The URLs the page asked for: its navigation (the main frame) and every request it initiated (the NetLog's
    `initiator` is its origin). Chromium's own traffic (time sync, accounts, autofill) says `not an origin`."""
    return [p["url"] for p in starts if p.get("initiator") == origin or p.get("request_type") == "main frame"]


class Operations(HTMLParser):
    """The rendered operations (id -> summary text) and the table of contents' links."""

    def __init__(self) -> None:
        super().__init__()
        self.summaries: dict[str, str] = {}
        self.links: set[str] = set()
        self.filter_hidden: bool | None = None
        self._operation: str | None = None
        self._in_summary = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "section" and "op" in classes:
            self._operation = attributes.get("id") or ""
            self.summaries[self._operation] = ""
        elif tag == "p" and "summary" in classes and self._operation is not None:
            self._in_summary = True
        elif tag == "a" and (attributes.get("href") or "").startswith("#"):
            self.links.add((attributes.get("href") or "")[1:])
        elif tag == "input" and attributes.get("id") == "filter":
            self.filter_hidden = "hidden" in attributes

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._in_summary = False
        elif tag == "section":
            self._operation = None

    def handle_data(self, data: str) -> None:
        if self._in_summary and self._operation is not None:
            self.summaries[self._operation] += data


def test_the_docs_and_the_document_are_served(live: Live) -> None:
    docs = requests.get(f"{live.url}/docs", timeout=TIMEOUT)
    assert docs.status_code == 200
    assert docs.headers["Content-Type"].startswith("text/html")
    assert docs.text.startswith("<!DOCTYPE html>")
    document = requests.get(f"{live.url}/openapi.json", timeout=TIMEOUT)
    assert document.status_code == 200 and document.headers["Content-Type"].startswith("application/json")
    assert document.json() == json.loads(OPENAPI_FILE.read_text())


def test_chromium_renders_every_operation_offline(chromium: str, live: Live, tmp_path: Path) -> None:
    document = requests.get(f"{live.url}/openapi.json", timeout=TIMEOUT).json()
    dom, starts = render(chromium, f"{live.url}/docs", tmp_path)

    page = Operations()
    page.feed(dom)
    expected = {
        operation["operationId"]: operation["summary"]
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in METHODS
    }
    assert len(expected) >= 40
    assert page.summaries == expected  # every operation, under its operationId, with its summary, nothing else
    assert set(expected) <= page.links  # and the table of contents links to each
    assert page.filter_hidden is False  # the inline script ran (its hash is in the page's CSP): the filter box shows

    asked = requests_of_the_page(starts, live.url)
    assert f"{live.url}/docs" in asked, starts  # the log does record the page's requests
    assert [url for url in asked if not url.startswith(f"{live.url}/")] == []


@pytest.fixture
def static_site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "site"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_the_network_check_catches_a_page_that_loads_from_elsewhere(
    chromium: str, static_site: tuple[str, Path], tmp_path: Path
) -> None:
    origin, root = static_site
    (root / "cdn.html").write_text(
        '<!DOCTYPE html><html><head><link rel="stylesheet" href="https://cdn.example.com/style.css">'
        '<script src="//scripts.example.net/app.js"></script></head><body>offline?</body></html>'
    )
    dom, starts = render(chromium, f"{origin}/cdn.html", tmp_path)
    assert "offline?" in dom
    outside = [url for url in requests_of_the_page(starts, origin) if not url.startswith(f"{origin}/")]
    assert sorted(urlsplit(url).hostname or "" for url in outside) == ["cdn.example.com", "scripts.example.net"]
