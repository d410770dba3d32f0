"""What each role does on a tablet, through the real pages in headless Chromium.

Expected wording comes from the app's own catalog and labels in zh_CN (`zh()`), so the
tests follow the translations instead of copying them; where Chinese is the point (the
login error), the text must also contain Chinese characters.
"""

import re

import pytest
from playwright.sync_api import expect

from browser.journeys import log_in, log_out, zh
from casework import labels

pytestmark = pytest.mark.browser

ROLES = ("coordinator", "inspector", "institution", "admin", "viewer")
HEADINGS = {
    "coordinator": "Coordinator dashboard",
    "inspector": "Inspector dashboard",
    "viewer": "Overview",
    "admin": "Administration",
    "institution": None,  # the institution's own name
}
# Each role's navigation: address → label (a msgid of the app's catalog; zh() reads it
# as the user does). An institution's order list is its to-do list.
_COMMON_NAV = {"/dashboard": "Dashboard", "/campaigns/": "Campaigns"}
_CASEWORK_NAV = {**_COMMON_NAV, "/cases/": "Cases", "/orders/": "Orders"}
_REPORTS = {"/reports/": "Progress reports"}
_COMPLAINTS = {"/complaints/": "Complaints"}
_QUEUE = {"/queue/": "Escalation queue"}
_POINTS = {"/points/": "Bad-conduct points"}
_DISPUTES = {"/disputes/": "Medical disputes"}
NAV = {  # in the bar and under "More"
    "coordinator": {**_CASEWORK_NAV, **_QUEUE, **_REPORTS, **_COMPLAINTS, **_DISPUTES,
                    "/bulletins/": "Bulletins", **_POINTS, "/admin/jobs": "Scheduled jobs"},
    # Inspectors read the progress reports of their cases, so the menu offers them.
    "inspector": {**_CASEWORK_NAV, **_REPORTS, **_COMPLAINTS, **_DISPUTES, **_POINTS},
    "viewer": {**_CASEWORK_NAV, **_QUEUE, **_REPORTS, **_COMPLAINTS, **_DISPUTES,
               "/bulletins/": "Bulletins", **_POINTS},
    "institution": {**_CASEWORK_NAV, "/orders/": "To-do", **_REPORTS, **_DISPUTES,
                    "/bulletins/": "Bulletins", **_POINTS},
    "admin": {**_COMMON_NAV, "/admin/users": "Users",
              "/admin/calendar/": "Working-day calendar", "/admin/settings": "Settings",
              "/admin/jobs": "Scheduled jobs"},
}
MIN_TOUCH_PX = 44
CJK = re.compile(r"[\u4e00-\u9fff]")


def assert_touch_targets(locator, what: str):
    count = locator.count()
    assert count, f"no {what} on the page"
    for i in range(count):
        box = locator.nth(i).bounding_box()
        assert box is not None, f"{what} #{i} is not rendered"
        assert box["height"] >= MIN_TOUCH_PX, f"{what} #{i} is {box['height']:.0f}px tall"


def nav_links(page) -> dict[str, str]:
    """The navigation as {address: label}."""
    links = page.locator(
        ".navbar-nav a.nav-link:not(.dropdown-toggle), .navbar-nav a.dropdown-item"
    ).evaluate_all(
        "links => links.map(a => [a.getAttribute('href'), a.textContent.trim()])")
    return dict(links)


def expected_nav(app, role) -> dict[str, str]:
    return {href: zh(app, msgid) for href, msgid in NAV[role].items()}


def state_of(page):
    return page.locator("[data-testid=case-state] [data-state]")


def badge_colour(page) -> str:
    return state_of(page).evaluate("badge => getComputedStyle(badge).backgroundColor")


@pytest.mark.parametrize("role", ROLES)
def test_role_journey(page, shot, app, db, world, role):
    campaign = world.make_campaign(db)
    own = world.make_case(db, institution=world.hospital, campaign=campaign)
    far = world.make_case(db, institution=world.far_hospital, campaign=campaign,
                          state="rectification")
    own_id, far_id, campaign_id = own.id, far.id, campaign.id
    near_name, far_name = world.hospital.name, world.far_hospital.name
    user = world.users[role]

    log_in(page, user)
    heading = near_name if role == "institution" else zh(app, HEADINGS[role])
    expect(page.locator("main h1")).to_contain_text(heading)
    expect(page.get_by_test_id("whoami")).to_contain_text(user.display_name)
    assert nav_links(page) == expected_nav(app, role)
    shot(page, f"{role}-dashboard")

    if role == "institution":
        own_cases = page.get_by_test_id("own-cases").locator("a")
        expect(own_cases).to_have_count(1)
        expect(own_cases).to_have_attribute("href", f"/cases/{own_id}")

    if role != "admin":
        page.locator(".navbar-nav a[href='/cases/']").click()
        page.wait_for_url(re.compile(r"/cases/$"))
        rows = page.get_by_test_id("case-list").locator("tbody tr")
        if role == "institution":
            expect(rows).to_have_count(1)
            expect(rows).to_contain_text(near_name)
            expect(page.get_by_test_id("case-list")).not_to_contain_text(far_name)
        else:
            expect(rows).to_have_count(2)  # city-wide: both districts
        shot(page, f"{role}-cases")

        page.locator(f"[data-testid=case-list] a[href='/cases/{own_id}']").click()
        page.wait_for_url(re.compile(rf"/cases/{own_id}$"))
        expect(state_of(page)).to_have_attribute("data-state", "mobilisation")
        expect(page.get_by_test_id("diagram").locator("svg")).to_be_visible()
        actions = page.locator("form[data-trigger]")
        if role == "coordinator":
            expect(actions).to_have_count(1)
            expect(actions).to_have_attribute("data-trigger", "start_rectification")
        else:
            expect(actions).to_have_count(0)  # seeing is not acting
        shot(page, f"{role}-case-detail")

        if role == "institution":
            # Another institution's case is not there at all, not merely forbidden.
            response = page.goto(f"/cases/{far_id}")
            assert response.status == 404
            expect(page.get_by_test_id("error-message")).to_be_visible()
            shot(page, "institution-other-case-404")
    else:
        page.locator(".navbar-nav a[href='/admin/users']").click()
        page.wait_for_url(re.compile(r"/admin/users$"))
        table = page.locator("main table")
        for other in world.users.values():
            expect(table).to_contain_text(other.username)
        shot(page, "admin-users")

    page.locator(".navbar-nav a[href='/campaigns/']").click()
    page.wait_for_url(re.compile(r"/campaigns/$"))
    shot(page, f"{role}-campaigns")
    page.locator(f"main a[href='/campaigns/{campaign_id}']").click()
    page.wait_for_url(re.compile(rf"/campaigns/{campaign_id}$"))
    expect(page.locator("main h1")).to_have_text("测试专项行动")
    expect(page.get_by_test_id("timeline")).to_be_visible()
    shot(page, f"{role}-campaign-detail")

    log_out(page)


def test_coordinator_moves_a_case_and_is_told_why_not(page, shot, app, db, world):
    from casework.cases.models import InspectionCase

    campaign = world.make_campaign(db)
    case = world.make_case(db, institution=world.hospital, campaign=campaign)
    world.make_case(db, institution=world.clinic, campaign=campaign, state="rectification")
    case_id, hospital = case.id, world.hospital.name

    log_in(page, world.users["coordinator"])
    page.locator(".navbar-nav a[href='/cases/']").click()
    rows = page.get_by_test_id("case-list").locator("tbody tr")
    expect(rows).to_have_count(2)

    page.locator("#f-state").select_option("mobilisation")
    page.locator("form[role=search] button[type=submit]").click()
    page.wait_for_url(re.compile(r"[?&]state=mobilisation"))
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(hospital)
    expect(page.locator("#f-state")).to_have_value("mobilisation")
    shot(page, "coordinator-cases-filtered")

    rows.locator(f"a[href='/cases/{case_id}']").click()
    page.wait_for_url(re.compile(rf"/cases/{case_id}$"))
    expect(state_of(page)).to_have_attribute("data-state", "mobilisation")
    colour_before = badge_colour(page)
    assert_touch_targets(page.locator("form[data-trigger] button[type=submit]"),
                         "case action button")

    comment = "宣传动员已完成，转入集中治理"
    form = page.locator("form[data-trigger=start_rectification]")
    form.locator("textarea[name=comment]").fill(comment)
    form.locator("button[type=submit]").tap()
    expect(state_of(page)).to_have_attribute("data-state", "rectification")
    expect(state_of(page)).to_have_text(zh(app, labels.state_label, "rectification"))
    assert badge_colour(page) != colour_before, "state badges all look the same"
    expect(page.locator(".alert-success")).to_be_visible()
    history = page.get_by_test_id("history").locator("li")
    expect(history).to_have_count(1)
    expect(history).to_contain_text(zh(app, labels.trigger_label, "start_rectification"))
    expect(history).to_contain_text(comment)
    expect(history).to_contain_text("coord")
    shot(page, "coordinator-case-after-transition")

    # Designating for tackling needs a reason: without one, a 409 that says so.
    form = page.locator("form[data-trigger=designate_tackling]")
    expect(form.locator("textarea[name=comment]")).to_have_value("")
    assert_touch_targets(page.locator("form[data-trigger] button[type=submit]"),
                         "case action button")
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/fire/designate_tackling")
    ) as answer:
        form.locator("button[type=submit]").tap()
    assert answer.value.status == 409
    expect(page.locator("main h1")).to_contain_text("409")
    expect(page.get_by_test_id("error-message")).to_contain_text(
        re.compile(r"reason|理由|原因", re.IGNORECASE))
    shot(page, "coordinator-case-409-reason-required")

    page.goto(f"/cases/{case_id}")
    expect(state_of(page)).to_have_attribute("data-state", "rectification")
    expect(history).to_have_count(1)
    db.session.expire_all()
    stored = db.session.get(InspectionCase, case_id)
    assert (stored.state, stored.version) == ("rectification", 2)


def test_guard_refusal_is_explained_in_chinese(page, db, world):
    case_id = world.make_case(db, state="rectification").id
    log_in(page, world.users["coordinator"])
    page.goto(f"/cases/{case_id}")
    with page.expect_response(lambda r: r.url.endswith("/fire/designate_tackling")) as answer:
        page.locator("form[data-trigger=designate_tackling] button[type=submit]").tap()
    assert answer.value.status == 409
    message = page.get_by_test_id("error-message").inner_text()
    assert CJK.search(message), f"409 explained in English to a zh_CN user: {message!r}"


def test_wrong_password_is_explained_in_chinese(page, shot, app, world):
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.locator("#username").fill(world.users["coordinator"].username)
    page.locator("#password").fill("not-the-password")
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/login")
    ) as answer:
        page.locator("form[action='/login'] button[type=submit]").tap()
    assert answer.value.status == 422
    expect(page).to_have_url(re.compile(r"/login$"))
    error = page.locator(".invalid-feedback[role=alert]")
    expect(error).to_have_text(zh(app, "Wrong username or password."))
    shot(page, "login-wrong-password")
    assert CJK.search(error.inner_text()), (
        f"login error shown in Chinese expected, got {error.inner_text()!r} "
        "(is casework/translations/zh_Hans_CN compiled?)")
    assert not page.get_by_test_id("whoami").count()


def test_login_page_fits_fingers_and_switches_to_english(page, shot):
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    assert_touch_targets(page.locator("form[action='/login'] button[type=submit]"),
                         "login button")
    assert_touch_targets(page.locator("#username, #password"), "login field")
    assert_touch_targets(page.locator(".js-language-form select"), "language menu")
    shot(page, "login")

    # The script submits the language form on change (its button is hidden).
    with page.expect_navigation():
        page.locator(".js-language-form select").select_option("en")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("label[for=username]")).to_have_text("Username")
    expect(page.locator("label[for=password]")).to_have_text("Password")
    expect(page.locator("form[action='/login'] button[type=submit]")).to_have_text("Log in")
    expect(page.locator(".js-language-form select")).to_have_value("en")
    shot(page, "login-en")
