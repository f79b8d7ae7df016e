"""The browser harness itself: Debian's Chromium loads a local page with the network blocked."""

from __future__ import annotations

from pathlib import Path

import browser
import pytest
from browser import CHROMIUM, chromium, open_page  # noqa: F401  (chromium: session fixture)

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>before</title>
<style>
  body { margin: 0; background: linear-gradient(90deg, #c0392b, #2980b9); }
  h1 { font: 48px sans-serif; color: #fff; }
</style></head>
<body>
<h1>闵行 landkit</h1>
<img id="remote" src="https://example.com/x.png" alt="">
<script>
  document.title = "landkit smoke";
  window.__fetch = "pending";
  fetch("https://cdn.example/a.js").then(
    () => { window.__fetch = "loaded"; },
    () => { window.__fetch = "blocked"; });
</script>
</body></html>
"""


def test_browser_is_debian_chromium(chromium):
    assert CHROMIUM.is_file()
    assert chromium.is_connected()
    assert chromium.version  # e.g. "156.0.8078.108"


def test_local_page_loads_and_network_is_blocked(chromium):
    with open_page(PAGE, width=800, height=600) as bp:
        page = bp.page
        assert page.url.startswith("file://")
        assert page.title() == "landkit smoke"  # the inline script ran
        page.wait_for_function("window.__fetch !== 'pending'")
        assert page.evaluate("window.__fetch") == "blocked"
        assert page.evaluate("document.getElementById('remote').naturalWidth") == 0
        assert sorted(bp.external_requests) == ["https://cdn.example/a.js", "https://example.com/x.png"]
        assert bp.local_requests == []
        assert bp.page_errors == []
        # the aborted requests are what the console complains about, nothing else
        assert len(bp.console_errors) == 2, bp.console_errors
        assert all("ERR_BLOCKED_BY_CLIENT" in e for e in bp.console_errors), bp.console_errors
        assert bp.screenshot_variance() > 100


def test_blank_page_has_no_variance(chromium):
    with open_page("<html><body style='margin:0;background:#fff'></body></html>") as bp:
        assert bp.screenshot_variance() < 1e-6
        bp.assert_offline_clean()


def test_page_errors_are_recorded(chromium):
    html = "<html><body><script>console.error('boom'); undefinedFunction();</script></body></html>"
    with open_page(html) as bp:
        assert bp.console_errors == ["boom"]
        assert len(bp.page_errors) == 1 and "undefinedFunction" in bp.page_errors[0]


def test_websocket_is_blocked_and_recorded(chromium):
    html = "<html><body><script>try { new WebSocket('wss://tiles.example/ws'); } catch (e) {}</script></body></html>"
    with open_page(html) as bp:
        bp.page.wait_for_timeout(200)
        assert "wss://tiles.example/ws" in bp.external_requests


@pytest.mark.parametrize("ci", ["", "true"])
def test_missing_browser_fails_with_the_fix(monkeypatch, ci):
    monkeypatch.setattr(browser, "CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception) as failed:
        browser._require_browser()
    message = str(failed.value)
    assert "/nonexistent/chromium is missing" in message
    assert "scripts/system-deps.sh" in message and "apt-get install chromium fonts-wqy-microhei" in message
    assert ("in CI" in message) == bool(ci)
