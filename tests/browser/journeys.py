"""Steps the browser journeys share: logging in and out, and what a zh_CN user reads."""

import re

from factories import PASSWORD
from flask_babel import force_locale, gettext
from playwright.sync_api import expect


def zh(app, message, *args, **variables) -> str:
    """What a zh_CN user reads: `message` a msgid, or a casework.labels function and its
    arguments (`zh(app, labels.state_label, "rectification")`), so message contexts and
    wording stay the app's business."""
    with app.test_request_context(), force_locale("zh_CN"):
        if callable(message):
            return str(message(*args, **variables))
        return gettext(message, **variables)



def log_in(page, user):
    page.goto("/login")
    page.locator("#username").fill(user.username)
    page.locator("#password").fill(PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").tap()
    page.wait_for_url(re.compile(r"/dashboard$"))



def log_out(page):
    # The menu opens by Bootstrap's script: tapped before the page's scripts ran (a busy
    # machine, right after a form post), it stays shut; tap it again until it opens.
    page.wait_for_load_state("load")
    button = page.locator("form[action='/logout'] button[type=submit]")
    for _attempt in range(3):
        page.get_by_test_id("user-menu").tap()
        try:
            expect(button).to_be_visible(timeout=3000)
            break
        except AssertionError:
            continue
    button.tap()
    page.wait_for_url(re.compile(r"/login$"))
    expect(page.locator("#username")).to_be_visible()
    # The session is really gone: the dashboard sends us back to the login page.
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fdashboard$"))
