"""Fixtures for the tests that drive a real Chromium against a live server.

The browser is Debian's Chromium (``playwright install`` cannot download
here). Without it the tests are skipped, unless ``REQUIRE_BROWSER=1``, when
its absence is a failure.

Every page a test opens is watched: a console error (which is how Chromium
reports a Content Security Policy violation), an uncaught exception, a request
to anywhere but the live server, or a failed subresource fails the test.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# URLs the browser resolves itself, without a request to any server.
LOCAL_SCHEMES = ("data:", "blob:", "about:")


def _unavailable(message: str) -> None:
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        _unavailable(f"Browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        except PlaywrightError as error:
            _unavailable(f"Chromium at {CHROMIUM} could not be launched: {error}")
        yield browser
        browser.close()


class _QuietHandler(WSGIRequestHandler):
    # A failing test should show what went wrong, not every request served.
    def log_request(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def live_server(app):
    """The session's app (SQLite or PostgreSQL) served over HTTP; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


class Watch:
    """What went wrong in the browser while a test ran."""

    def __init__(self, origin: str):
        self.origin = origin
        self.pages: list[Page] = []
        self.problems: list[str] = []
        self.console_errors: list[tuple[str, str]] = []
        # Error pages (404, 410, 400) are visited on purpose; Chromium logs
        # each as a console error, which is not a problem.
        self.error_documents: set[str] = set()

    def attach(self, page: Page) -> None:
        self.pages.append(page)
        page.on("console", lambda message: self._console(page, message))
        page.on("pageerror", lambda error: self.problems.append(f"uncaught exception on {page.url}: {error}"))
        page.on("request", self._request)
        page.on("response", self._response)

    def _console(self, page: Page, message) -> None:
        if message.type == "error":
            self.console_errors.append((message.text, message.location.get("url") or page.url))

    def _request(self, request) -> None:
        parts = urlsplit(request.url)
        if not request.url.startswith(LOCAL_SCHEMES) and f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.problems.append(f"request outside the live server: {request.method} {request.url}")

    def _response(self, response) -> None:
        if response.status < 400:
            return
        if response.request.resource_type == "document":
            self.error_documents.add(response.url)
        else:
            self.problems.append(f"{response.status} for {response.request.resource_type} {response.url}")

    def report(self) -> list[str]:
        # A round trip to each open page delivers the events still in flight.
        for page in self.pages:
            if not page.is_closed():
                try:
                    page.evaluate("0")
                except PlaywrightError:
                    pass  # a page left mid-navigation cannot evaluate, but the reply still came after the events
        console = [
            f"console error on {url}: {text}"
            for text, url in self.console_errors
            if not (url in self.error_documents and text.startswith("Failed to load resource"))
        ]
        return self.problems + console


WATCH = pytest.StashKey[Watch]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail (not error) a test whose pages had problems, once its own checks have passed."""
    result = yield
    watch = item.stash.get(WATCH, None)
    if watch is not None and (problems := watch.report()):
        raise AssertionError("The browser reported problems:\n" + "\n".join(problems))
    return result


@pytest.fixture
def new_page(request, chromium, live_server, survey_db):
    """Open a page in a new browser context, with Playwright context options, over a freshly reset database."""
    watch = request.node.stash.setdefault(WATCH, Watch(live_server))
    contexts = []

    def _new_page(**options):
        context = chromium.new_context(base_url=live_server, **options)
        contexts.append(context)
        page = context.new_page()
        watch.attach(page)
        return page

    yield _new_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    """A page with the Content Security Policy enforced and JavaScript on, as most people see the service."""
    return new_page()
