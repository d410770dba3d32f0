"""A complaint from the public form to closure, in headless Chromium (issue 5, item 6).

An anonymous citizen (no login) files a complaint and gets a tracking code; the city
coordinator assigns it to an inspector; the inspector starts the investigation and
concludes it (substantiated); the coordinator replies and closes; the citizen's
tracking page then shows the reply, and nothing personal nor any staff name.
"""

import re

import pytest
from playwright.sync_api import expect

from browser.journeys import log_in, log_out, zh
from casework import labels

pytestmark = pytest.mark.browser

NAME, PHONE = "赵小燕", "13987654321"
DESCRIPTION = "2026年11月在外科住院期间，主治医生暗示需要“意思一下”，收取红包2000元。"
FINDINGS = "经调查核实，该医生收受红包属实，已责令退还并立案处理。"
REPLY = "您反映的问题经查属实，已对相关人员依规处理，感谢您的监督。"


def state_text(page):
    return page.get_by_test_id("complaint-state")


def fire(page, trigger):
    page.locator(f"form[data-trigger={trigger}] button[type=submit]").tap()
    page.wait_for_url(re.compile(r"/complaints/\d+$"))


def test_public_complaint_to_closure(page, shot, app, db, world):
    coordinator, inspector = world.users["coordinator"], world.users["inspector"]

    # The citizen: no login, no staff navigation.
    page.goto("/public/complaints/new")
    expect(page.locator(".navbar")).to_have_count(0)
    page.locator("#category").select_option("red_envelope")
    page.locator("#institution_named").fill("中卫市人民医院")
    page.locator("#description").fill(DESCRIPTION)
    page.locator("#name").fill(NAME)
    page.locator("#phone").fill(PHONE)
    shot(page, "complaint-public-form")
    page.get_by_test_id("file-complaint").tap()
    code = page.get_by_test_id("tracking-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    shot(page, "complaint-public-filed")

    # The coordinator finds it in the list (under "More") and assigns it.
    log_in(page, coordinator)
    page.get_by_test_id("nav-more").tap()
    page.locator(".dropdown-menu a[href='/complaints/']").tap()
    page.wait_for_url(re.compile(r"/complaints/$"))
    page.get_by_test_id("complaint-row").first.tap()
    page.wait_for_url(re.compile(r"/complaints/\d+$"))
    complaint_url = page.url
    expect(page.get_by_test_id("complainant-name")).to_have_text("赵**")
    expect(page.get_by_test_id("complainant-phone")).to_have_text("139****4321")
    page.locator("#handler_id").select_option(str(inspector.id))
    fire(page, "assign")
    expect(state_text(page)).to_contain_text(zh(app, labels.state_label, "assigned",
                                                "complaint"))
    shot(page, "complaint-assigned")
    log_out(page)

    # The inspector investigates and concludes.
    log_in(page, inspector)
    page.goto(complaint_url)
    fire(page, "investigate")
    page.locator("#outcome-substantiated").check()
    page.locator("#findings").fill(FINDINGS)
    fire(page, "conclude")
    expect(page.get_by_test_id("complaint-outcome")).to_have_text(zh(app, "Substantiated"))
    log_out(page)

    # The coordinator replies and closes.
    log_in(page, coordinator)
    page.goto(complaint_url)
    page.locator("#comment-reply").fill(REPLY)
    fire(page, "reply")
    fire(page, "close")
    expect(state_text(page)).to_contain_text(zh(app, labels.state_label, "closed", "complaint"))
    expect(page.get_by_test_id("history").locator("li")).to_have_count(5)
    shot(page, "complaint-closed")
    log_out(page)

    # The citizen follows the complaint: the reply, nothing personal, no staff names.
    page.goto("/public/complaints/track")
    page.locator("#code").fill(code.lower())
    page.get_by_test_id("track").tap()
    expect(page.get_by_test_id("public-reply")).to_have_text(REPLY)
    expect(page.get_by_test_id("public-state")).to_have_text(
        zh(app, labels.state_label, "closed", "complaint"))
    html = page.content()
    for secret in (NAME, "赵**", PHONE, "139****", inspector.display_name,
                   coordinator.display_name, FINDINGS, DESCRIPTION):
        assert secret not in html
    shot(page, "complaint-public-track")
