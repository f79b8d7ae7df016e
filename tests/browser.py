"""Real-browser test harness: Debian's headless Chromium driven by Playwright, network blocked.

landkit's maps are single self-contained HTML files that must open OFFLINE, so every page is
loaded from a local file with the network blocked: any request whose URL is not ``file:``,
``data:``, ``blob:`` or ``about:`` is aborted *and recorded*, and so are the page's console
errors and uncaught exceptions. A test then asserts that nothing was attempted.

Usage (in a test module)::

    from browser import chromium, open_page  # noqa: F401  (``chromium`` is a session fixture)

    def test_something(tmp_path):
        with open_page("<html><body>hi</body></html>") as bp:   # or open_page(Path("map.html"))
            assert bp.page.title() == ""
            assert bp.external_requests == []
            assert bp.console_errors == [] and bp.page_errors == []
            assert bp.screenshot_variance() > 0

The browser is the system one, ``/usr/bin/chromium`` (Debian package ``chromium``, installed by
``scripts/system-deps.sh`` that ``make test`` runs) — never one downloaded by a test tool, so
``playwright install`` is never needed. One browser is shared by the whole test session (started
on first use, closed at the end of the session by the ``chromium`` fixture or at exit); each
``open_page`` gets a new, isolated browser context. A missing browser or Playwright FAILS the
test with the fix; it never skips.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # imported lazily at run time so a missing package fails a test, not collection
    from playwright.sync_api import Browser, Page, Playwright

#: The Debian Chromium; the tests use no other browser.
CHROMIUM = Path("/usr/bin/chromium")

#: Command-line flags: headless, no sandbox (CI runs as root), and no traffic of the browser's own.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: URL schemes a page may load; anything else is aborted and recorded as an external request.
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")

#: Default time limit (ms) for one Playwright action or wait.
TIMEOUT_MS = 15_000


def _fail(message: str) -> None:
    where = "in CI" if os.environ.get("CI") else "on this machine"
    pytest.fail(f"browser tests cannot run {where}: {message}", pytrace=False)


# --- one browser per session ----------------------------------------------------------------------


class _Session:
    playwright: Playwright | None = None
    browser: Browser | None = None


def _require_browser() -> None:
    """Fail (never skip), locally as in CI, unless the browser and the Python packages are there."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        _fail(
            f"{CHROMIUM} is missing. Install Debian's Chromium and the CJK font: "
            "`bash scripts/system-deps.sh` as root (`make test` runs it), i.e. "
            "`apt-get install chromium fonts-wqy-microhei`. Do not use `playwright install`."
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _fail("the Python package `playwright` is missing: `.venv/bin/pip install playwright`.")
    try:
        import PIL.Image  # noqa: F401
    except ImportError:
        _fail("the Python package `Pillow` is missing: `.venv/bin/pip install pillow`.")


def shared_browser() -> Browser:
    """The session's Chromium, launched on first call (fails the test if it cannot be)."""
    if _Session.browser is not None and _Session.browser.is_connected():
        return _Session.browser
    _require_browser()
    from playwright.sync_api import Error, sync_playwright

    if _Session.playwright is None:
        _Session.playwright = sync_playwright().start()
        atexit.register(close_shared_browser)
    try:
        # Playwright gives every launch() a fresh, temporary user-data dir of its own (it refuses a
        # --user-data-dir flag) and deletes it on close: no profile is ever reused.
        _Session.browser = _Session.playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            chromium_sandbox=False,
            timeout=60_000,
        )
    except Error as exc:
        _fail(f"{CHROMIUM} did not start: {exc}")
    assert _Session.browser is not None
    return _Session.browser


def close_shared_browser() -> None:
    """Close the session's browser and Playwright driver (idempotent)."""
    if _Session.browser is not None:
        with contextlib.suppress(Exception):  # already gone
            _Session.browser.close()
        _Session.browser = None
    if _Session.playwright is not None:
        with contextlib.suppress(Exception):
            _Session.playwright.stop()
        _Session.playwright = None


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Session fixture: the one shared headless Chromium, closed when the session ends."""
    browser = shared_browser()
    yield browser
    close_shared_browser()


# --- one page -------------------------------------------------------------------------------------


@dataclass
class BrowserPage:
    """A loaded page and what it tried to do.

    ``external_requests``: URLs of every request the page attempted outside ``LOCAL_SCHEMES``
    (all were aborted). ``local_requests``: ``file:`` URLs other than the page itself (a
    self-contained page has none). ``console_errors``: text of console messages of type error.
    ``page_errors``: uncaught exceptions. ``url``: the page's ``file://`` URL.
    """

    page: Page
    url: str
    external_requests: list[str] = field(default_factory=list)
    local_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        """Console errors and uncaught exceptions together."""
        return self.console_errors + self.page_errors

    def screenshot(self, path: str | os.PathLike[str] | None = None, *, full_page: bool = False) -> bytes:
        """A PNG screenshot of the viewport (also written to ``path`` when given)."""
        return self.page.screenshot(path=None if path is None else str(path), full_page=full_page, type="png")

    def screenshot_variance(self, path: str | os.PathLike[str] | None = None) -> float:
        """Pixel variance of a screenshot, averaged over R, G and B: ~0 for a blank page."""
        from PIL import Image, ImageStat

        image = Image.open(io.BytesIO(self.screenshot(path))).convert("RGB")
        var = ImageStat.Stat(image).var
        return float(sum(var) / len(var))

    def assert_offline_clean(self) -> None:
        """Assert the page asked for nothing outside itself and logged no error."""
        assert self.external_requests == [], f"external requests attempted: {self.external_requests}"
        assert self.local_requests == [], f"not self-contained, loaded other local files: {self.local_requests}"
        assert self.errors == [], f"errors in the page: {self.errors}"


def _is_local(url: str) -> bool:
    return url.lower().startswith(LOCAL_SCHEMES)


def _looks_like_html(text: str) -> bool:
    return text.lstrip()[:1] == "<"


@contextmanager
def open_page(
    path_or_html: str | os.PathLike[str],
    *,
    width: int = 1280,
    height: int = 800,
    wait_until: str = "load",
    browser: Browser | None = None,
) -> Iterator[BrowserPage]:
    """Open a local HTML file (a path) or an HTML string in the shared browser, network blocked.

    An HTML string (text starting with ``<``) is written to a temporary ``page.html`` and opened
    from there, so it has the same ``file://`` origin a real map has. Each call has its own
    browser context (no cookies, storage or cache shared with other pages), closed on exit.
    """
    browser = browser or shared_browser()
    tmpdir: str | None = None
    if isinstance(path_or_html, str) and _looks_like_html(path_or_html):
        tmpdir = tempfile.mkdtemp(prefix="landkit-page-")
        path = Path(tmpdir, "page.html")
        path.write_text(path_or_html, encoding="utf-8")
    else:
        path = Path(path_or_html).resolve()
        if not path.is_file():
            pytest.fail(f"no such page: {path}", pytrace=False)
    url = path.as_uri()

    context = browser.new_context(
        viewport={"width": width, "height": height},
        service_workers="block",
        accept_downloads=False,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    bp = BrowserPage(page=page, url=url)

    def route(r: Any) -> None:
        request_url = r.request.url
        if _is_local(request_url):
            if request_url.startswith("file:") and request_url.split("#")[0] != url:
                bp.local_requests.append(request_url)
            r.continue_()
        else:
            bp.external_requests.append(request_url)
            r.abort("blockedbyclient")

    def websocket(ws: Any) -> None:  # page.route does not see WebSockets
        bp.external_requests.append(ws.url)
        ws.close()

    page.route("**/*", route)
    if hasattr(page, "route_web_socket"):
        page.route_web_socket("**/*", websocket)
    page.on("console", lambda msg: bp.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: bp.page_errors.append(str(exc)))
    try:
        page.goto(url, wait_until=wait_until)
        yield bp
    finally:
        context.close()
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)
