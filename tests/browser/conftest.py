"""Real-browser fixtures: headless Debian Chromium driven by Playwright's sync API.

* `browser` (session): one Chromium for the whole run. Its path comes from
  CASEWORK_BROWSER (default /usr/bin/chromium). A missing browser is an ERROR with a
  clear message, never a silent skip, unless CASEWORK_SKIP_BROWSER=1 says otherwise.
* `page` (per test): a fresh context like the users' tablets: 1024×768, touch, zh-CN.
  On failure a full-page screenshot goes to test-artifacts/failures/.
* `shot(page, name)`: a screenshot of the current page in test-artifacts/screenshots/,
  taken on every visit (cheap, and the pages can be looked at after a run); it also
  asserts the page has no horizontal overflow at the tablet width.

The live server runs in another thread of this process on the same app: whatever a test
creates must be committed before the browser asks for a page (World commits).
"""

import os
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
FAILURES = ARTIFACTS / "failures"
HERE = Path(__file__).resolve().parent

TABLET = {"width": 1024, "height": 768}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Generous for a slow CI box, short enough that a hang fails well inside a minute.
TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(config, items):
    # This hook sees every collected item, not only this directory's: filter by path.
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _browser_path() -> str:
    path = os.environ.get("CASEWORK_BROWSER", "/usr/bin/chromium")
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    message = (
        f"Browser tests need Chromium at {path!r} (set CASEWORK_BROWSER to its path; on "
        "Debian: apt-get install chromium fonts-noto-cjk). Set CASEWORK_SKIP_BROWSER=1 to "
        "skip the browser tests on purpose."
    )
    if os.environ.get("CASEWORK_SKIP_BROWSER") == "1":
        pytest.skip(f"CASEWORK_SKIP_BROWSER=1: {message}")
    pytest.fail(message, pytrace=False)


@pytest.fixture(scope="session")
def browser():
    executable = _browser_path()
    # Failure screenshots are of this run only; page screenshots are overwritten anyway.
    shutil.rmtree(FAILURES, ignore_errors=True)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        try:
            browser = playwright.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_ARGS
            )
        except Exception as error:
            pytest.fail(f"Chromium at {executable!r} did not start: {error}", pytrace=False)
        yield browser
        browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(request, browser, live_server, db):
    # `db` first: its teardown (emptying the tables) must come after the context closes.
    context = browser.new_context(
        base_url=live_server,
        viewport=TABLET,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))

    def on_console(message):
        # A 4xx document (the 409 error page) is logged as "Failed to load resource";
        # failing sub-resources are caught below with their address instead.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(f"console: {message.text}")

    def on_response(response):
        if response.request.resource_type != "document" and response.status >= 400:
            errors.append(f"{response.status} for {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)

    def on_failed(request):
        # ERR_ABORTED: a navigation (form submit) cut a load short; not a fault.
        if "ERR_ABORTED" not in (request.failure or ""):
            errors.append(f"request failed ({request.failure}): {request.url}")

    page.on("requestfailed", on_failed)
    page.js_errors = errors
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        FAILURES.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::", 1)[-1])
        try:
            page.screenshot(path=str(FAILURES / f"{name}.png"), full_page=True)
        except Exception as error:  # a crashed page must not hide the real failure
            print(f"could not save the failure screenshot: {error}")
    context.close()


@pytest.fixture
def shot():
    """`shot(page, "coordinator-dashboard")`: save the page, check it fits 1024 px."""

    def take(page, name: str):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], f"{name}: horizontal overflow at 1024 px ({widths})"
        assert not page.js_errors, f"{name}: errors in the browser: {page.js_errors}"

    return take

