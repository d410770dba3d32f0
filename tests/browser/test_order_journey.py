"""The rectification order's whole life on tablets, in headless Chromium (issue 3, item 6).

The inspector logs a finding with a photo, finalises the inspection and issues an order;
the hospital acknowledges it and submits evidence; the inspector returns it; the hospital
resubmits; the inspector verifies and the order is closed with every step in its history.
Then what must not work: another hospital's user reaching the order, its files or its
notice; the hospital firing an inspector's trigger by crafting the POST; a double tap or
a retried POST creating a second submission.

Only the world is set up through services (users, the case, and one more open order of
the same hospital, so that "first on the to-do list" means something); everything else is
done by tapping through the real pages, in real time (deadlines lie ahead).
"""

import re
from datetime import date

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from sample_files import PDF_BYTES, png_bytes

from browser.conftest import SCREENSHOTS
from browser.journeys import log_in, log_out, zh
from casework import clock, labels

pytestmark = pytest.mark.browser

WORKING_DAYS = 10
REQUIREMENTS = ["一、立即开展自查，建立医药代表接待登记制度。", "二、对涉事人员进行约谈并留存记录。"]
DESCRIPTION = "药剂科未落实医药代表接待登记，发现回扣线索未核查"
LEGAL_BASIS = "《医疗机构工作人员廉洁从业九项准则》第三条"
RETURN_REASON = "登记台账缺少三月份记录，请补充后重新提交"


def stripes_png() -> bytes:
    return png_bytes(width=160, height=120, stripes=True)


def cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


# --- the world --------------------------------------------------------------------------

def another_open_order(db, world):
    """An acknowledged order of the same hospital with a nearer deadline, in another
    campaign: on the to-do list it comes after a new order and before a submitted one."""
    from casework.inspections.models import Finding, Inspection
    from casework.orders import services

    inspector, institution = world.users["inspector"], world.users["institution"]
    campaign = world.make_campaign(db, code="other-campaign", title="另一专项行动")
    case = world.make_case(db, campaign=campaign, state="rectification")
    inspection = Inspection(case=case, inspected_on=clock.today(), place="住院部",
                            created_by_id=inspector.id, inspectors=[inspector],
                            finalised_at=clock.now(), finalised_by_id=inspector.id)
    finding = Finding(inspection=inspection, case_id=case.id, key_task=campaign.key_tasks[0],
                      severity="minor", description="住院部收费公示不全",
                      rectification_required=True, created_by_id=inspector.id)
    db.session.add_all([inspection, finding])
    db.session.commit()
    order = services.raise_order(case.id, actor=inspector, finding_ids=[finding.id],
                                 requirements="补全收费公示。",
                                 rule={"kind": "working_days", "value": 3})
    services.fire_order(order.id, "acknowledge", actor=institution, version=order.version)
    return order.id


# --- reading the pages and the database -----------------------------------------------------

def order_state(page):
    return page.get_by_test_id("order-state").locator("[data-state]")


def todo_rows(page):
    return page.get_by_test_id("order-list").locator("[data-testid=order-row]")


def open_todo_list(page, app):
    page.locator(".navbar-nav a[href='/orders/']").tap()
    page.wait_for_url(re.compile(r"/orders/$"))
    expect(page.locator("main h1")).to_have_text(zh(app, "To-do"))


def fresh_order(db, order_id):
    from casework.orders.models import RectificationOrder

    db.session.expire_all()
    return db.session.get(RectificationOrder, order_id)


def submissions(db, order_id) -> int:
    from casework.orders.models import Submission

    return db.session.scalar(sa.select(sa.func.count()).select_from(Submission)
                             .where(Submission.order_id == order_id))


def csrf_of(page) -> str:
    return page.locator("input[name=csrf_token]").first.get_attribute("value")


def fire(page, app, trigger, comment=None):
    """Tap an order action (with its comment) and wait until the page says it is done."""
    form = page.locator(f"form[data-trigger={trigger}]")
    if comment is not None:
        form.locator("textarea[name=comment]").fill(comment)
    form.locator("button[type=submit]").tap()
    expect(page.locator(".alert-success")).to_contain_text(
        str(zh(app, labels.trigger_label, trigger, "order")))


def expect_state(page, app, state):
    expect(order_state(page)).to_have_attribute("data-state", state)
    expect(order_state(page)).to_have_text(zh(app, labels.state_label, state, "order"))


def double_tap(page, locator):
    """Two taps on the same spot in quick succession, as an impatient finger does."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.touchscreen.tap(x, y)
    page.touchscreen.tap(x, y)


# --- the journey ----------------------------------------------------------------------------

def test_order_from_finding_to_closed(page, shot, app, db, world):
    from casework.orders import services

    case = world.make_case(db, state="rectification")
    case_id, key_task_id = case.id, case.campaign.key_tasks[0].id
    hospital, issuing_body = world.hospital.name, case.campaign.issuing_body
    other_order_id = another_open_order(db, world)
    inspector, institution = world.users["inspector"], world.users["institution"]
    today = clock.today()
    photo = stripes_png()

    # --- the inspector: inspection, finding with a photo, finalised -------------------
    log_in(page, inspector)
    page.locator(".navbar-nav a[href='/cases/']").tap()
    page.locator(f"[data-testid=case-list] a[href='/cases/{case_id}']").tap()
    page.wait_for_url(re.compile(rf"/cases/{case_id}$"))
    page.get_by_test_id("start-inspection").tap()
    page.wait_for_url(re.compile(rf"/cases/{case_id}/inspections/new$"))
    form = page.get_by_test_id("inspection-form")
    form.locator("#inspected_on").fill(today.isoformat())
    form.locator("#place").fill("门诊楼药剂科")
    form.locator("button[type=submit]").tap()
    page.wait_for_url(re.compile(r"/inspections/\d+$"))
    expect(page.get_by_test_id("inspection-status")).to_have_attribute("data-final", "0")

    # From the checklist: the key task's own "Add finding" picks the category.
    page.get_by_test_id("checklist").locator(
        f"[data-key-task='{key_task_id}'] a.btn-add-finding").tap()
    page.wait_for_url(re.compile(rf"/findings/new\?key_task={key_task_id}$"))
    expect(page.locator("#key_task_id")).to_have_value(str(key_task_id))
    page.locator("label[for=severity-serious]").tap()
    page.locator("#description").fill(DESCRIPTION)
    page.locator("#legal_basis").fill(LEGAL_BASIS)
    expect(page.locator("#rectification_required")).to_be_checked()
    camera = page.locator("#photos")
    expect(camera).to_have_attribute("capture", "environment")
    camera.set_input_files({"name": "现场照片.png", "mimeType": "image/png", "buffer": photo})
    page.get_by_test_id("save-finding").tap()
    page.wait_for_url(re.compile(r"/inspections/\d+(#finding-\d+)?$"))
    finding = page.get_by_test_id("finding")
    expect(finding).to_have_count(1)
    expect(finding).to_contain_text(DESCRIPTION)
    expect(finding.locator("[data-severity]")).to_have_attribute("data-severity", "serious")
    expect(finding.get_by_test_id("rectification-required")).to_be_visible()
    thumb = finding.locator("[data-testid=attachments] img")
    expect(thumb).to_have_count(1)
    thumb.scroll_into_view_if_needed()
    expect(thumb).to_have_js_property("complete", True)
    assert thumb.evaluate("img => img.naturalWidth") == 160, "the photo did not load"
    photo_url = thumb.get_attribute("src")
    inspection_url = page.url.split("#")[0]
    shot(page, "order-journey-inspection-with-photo")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("inspection-actions").locator("form button[type=submit]").tap()
    expect(page.get_by_test_id("inspection-status")).to_have_attribute("data-final", "1")
    expect(page.get_by_test_id("amend")).to_be_visible()  # locked: amend, not edit
    shot(page, "order-journey-inspection-finalised")

    # --- the inspector issues the order from the case page ------------------------------
    page.locator(f".breadcrumb a[href='/cases/{case_id}']").tap()
    page.wait_for_url(re.compile(rf"/cases/{case_id}$"))
    expect(page.get_by_test_id("awaiting-findings")).to_contain_text(DESCRIPTION)
    page.get_by_test_id("raise-order").tap()
    page.wait_for_url(re.compile(rf"/cases/{case_id}/orders/new$"))
    choices = page.locator("input[name=findings]")
    expect(choices).to_have_count(1)
    expect(choices).to_be_checked()
    page.locator("#requirements").fill("\n".join(REQUIREMENTS))
    expect(page.locator("#issuing_body")).to_have_value(issuing_body)
    page.locator("#value-working_days").fill(str(WORKING_DAYS))
    expect(page.locator("#kind-working_days")).to_be_checked()
    shot(page, "order-journey-new-order")
    page.locator(".action-bar button[type=submit]").tap()
    page.wait_for_url(re.compile(r"/orders/\d+$"))
    order_id = int(page.url.rsplit("/", 1)[1])
    order = fresh_order(db, order_id)
    number, deadline = order.number, order.deadline
    expected = services.compute_deadline({"kind": "working_days", "value": WORKING_DAYS}, today)
    assert deadline == expected.date, "the deadline is not N working days from today"
    expect_state(page, app, "issued")
    expect(order_state(page)).to_have_text("已下发")  # the wording the hospitals know
    expect(page.get_by_test_id("order-number")).to_have_text(number)
    expect(page.get_by_test_id("order-findings")).to_contain_text(DESCRIPTION)
    expect(page.get_by_test_id("requirements")).to_contain_text(REQUIREMENTS[1])
    expect(page.get_by_test_id("diagram").locator("svg")).to_be_visible()
    expect(page.get_by_test_id("history").locator("li[data-trigger]")).to_have_count(0)
    shot(page, "order-journey-order-issued")

    # The printable notice (整改通知书).
    page.locator(f"main a[href='/orders/{order_id}/notice']").tap()
    page.wait_for_url(re.compile(rf"/orders/{order_id}/notice$"))
    notice = page.get_by_test_id("notice")
    expect(notice.locator("h1")).to_have_text("整改通知书")
    expect(page.get_by_test_id("notice-number")).to_have_text(number)
    expect(page.get_by_test_id("notice-addressee")).to_have_text(f"{hospital}：")
    expect(page.get_by_test_id("notice-finding")).to_contain_text(DESCRIPTION)
    expect(page.get_by_test_id("notice-finding")).to_contain_text(LEGAL_BASIS)
    expect(page.get_by_test_id("notice-requirement")).to_have_text(REQUIREMENTS)
    expect(page.get_by_test_id("notice-deadline")).to_contain_text(cn_date(deadline))
    expect(page.get_by_test_id("notice-signature")).to_contain_text(issuing_body)
    expect(page.get_by_test_id("notice-signature")).to_contain_text(cn_date(today))
    shot(page, "order-journey-notice")
    page.emulate_media(media="print")
    expect(page.locator(".notice-toolbar")).to_be_hidden()  # paper has no buttons
    page.screenshot(path=str(SCREENSHOTS / "order-journey-notice-print.png"), full_page=True)
    page.emulate_media(media="screen")
    log_out(page)

    # --- the hospital: first on its to-do list, acknowledges, submits ---------------------
    log_in(page, institution)
    open_todo_list(page, app)
    rows = todo_rows(page)
    expect(rows).to_have_count(2)
    first = rows.first
    expect(first).to_have_attribute("href", f"/orders/{order_id}")
    expect(first).to_have_attribute("data-state", "issued")
    expect(first).to_contain_text(number)
    expect(first.get_by_test_id("days-left")).to_contain_text(str((deadline - today).days))
    expect(rows.nth(1)).to_have_attribute("href", f"/orders/{other_order_id}")
    shot(page, "order-journey-institution-todo")

    first.tap()
    page.wait_for_url(re.compile(rf"/orders/{order_id}$"))
    expect_state(page, app, "issued")
    fire(page, app, "acknowledge")
    expect_state(page, app, "acknowledged")

    submit = page.locator("form[data-trigger=submit]")
    expect(submit.locator("#files-camera")).to_have_attribute("capture", "environment")
    submit.locator("#report").fill("已建立接待登记制度，登记台账见附件。")
    submit.locator("#files").set_input_files(
        {"name": "整改报告.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES})
    shot(page, "order-journey-institution-before-submit")
    # A double tap on the button makes one submission, not two: the page disables the
    # button once the form is sent, and a second POST would carry the same request key.
    posts = []

    def on_request(request):
        if request.method == "POST":
            posts.append(request)

    page.on("request", on_request)
    double_tap(page, submit.locator("button[type=submit]"))
    expect_state(page, app, "submitted")
    page.remove_listener("request", on_request)
    assert 1 <= len(posts) <= 2, [r.url for r in posts]
    expect(page.locator(".alert-success")).to_have_count(1)
    assert submissions(db, order_id) == 1
    expect(page.get_by_test_id("submission")).to_have_count(1)
    expect(page.get_by_test_id("submission")).to_contain_text("整改报告.pdf")
    shot(page, "order-journey-institution-submitted")

    # Firing the inspector's `verify` by crafting the POST: 403, nothing changes.
    version = fresh_order(db, order_id).version
    response = page.request.post(f"/orders/{order_id}/fire/verify", max_redirects=0,
                                 form={"csrf_token": csrf_of(page), "version": str(version),
                                       "comment": "自己验收"})
    assert response.status == 403, response.status
    assert (fresh_order(db, order_id).state, fresh_order(db, order_id).version) == (
        "submitted", version)
    page.reload()
    expect_state(page, app, "submitted")
    expect(page.locator("form[data-trigger=verify]")).to_have_count(0)
    log_out(page)

    # --- the inspector returns it with a reason ---------------------------------------------
    log_in(page, inspector)
    page.locator(".navbar-nav a[href='/orders/']").tap()
    page.wait_for_url(re.compile(r"/orders/$"))
    page.locator(f"[data-testid=order-list] a[href='/orders/{order_id}']").tap()
    page.wait_for_url(re.compile(rf"/orders/{order_id}$"))
    evidence = page.get_by_test_id("submission").get_by_test_id("evidence-link")
    expect(evidence).to_have_count(1)
    expect(evidence).to_contain_text("整改报告.pdf")
    shot(page, "order-journey-inspector-reviews")
    fire(page, app, "return", RETURN_REASON)
    expect_state(page, app, "returned")
    log_out(page)

    # --- the hospital: back on top as returned, with the reason; resubmits ------------------
    log_in(page, institution)
    open_todo_list(page, app)
    first = todo_rows(page).first
    expect(first).to_have_attribute("href", f"/orders/{order_id}")
    expect(first).to_have_attribute("data-state", "returned")
    expect(first).to_contain_text(zh(app, labels.state_label, "returned", "order"))
    expect(first.get_by_test_id("days-left")).to_be_visible()
    shot(page, "order-journey-institution-todo-returned")
    first.tap()
    page.wait_for_url(re.compile(rf"/orders/{order_id}$"))
    expect_state(page, app, "returned")
    expect(page.get_by_test_id("return-reason")).to_contain_text(RETURN_REASON)

    submit = page.locator("form[data-trigger=submit]")
    submit.locator("#report").fill("已补充三月份登记记录，台账照片见附件。")
    submit.locator("#files-camera").set_input_files(
        {"name": "台账照片.png", "mimeType": "image/png", "buffer": png_bytes(width=120, height=90, stripes=True)})
    sent = {name: submit.locator(f"input[name={name}]").get_attribute("value")
            for name in ("csrf_token", "version", "request_key")}
    shot(page, "order-journey-institution-returned")
    submit.locator("button[type=submit]").tap()
    expect_state(page, app, "submitted")
    assert submissions(db, order_id) == 2
    # The same POST again (a retry after a lost answer): the first one's result, no copy.
    retry = page.request.post(f"/orders/{order_id}/submit", multipart={
        **sent, "report": "已补充三月份登记记录，台账照片见附件。",
        "files": {"name": "台账照片.png", "mimeType": "image/png", "buffer": png_bytes(width=120, height=90, stripes=True)},
    })
    assert retry.ok, retry.status
    assert submissions(db, order_id) == 2
    page.reload()
    expect(page.get_by_test_id("submission")).to_have_count(2)
    thumbs = page.get_by_test_id("submission").first.locator("img.evidence-thumb")
    expect(thumbs).to_have_count(1)
    expect(thumbs).to_have_js_property("complete", True)
    assert thumbs.evaluate("img => img.naturalWidth") == 120
    shot(page, "order-journey-institution-resubmitted")
    log_out(page)

    # --- the inspector verifies: closed, with the whole history -----------------------------
    log_in(page, inspector)
    page.goto(f"/orders/{order_id}")
    evidence_urls = page.get_by_test_id("submission").get_by_test_id(
        "evidence-link").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert len(set(evidence_urls)) == 2  # the PDF, then the resubmission's photo
    fire(page, app, "verify")
    expect_state(page, app, "closed")
    expect(order_state(page)).to_contain_text("验收通过")
    expect(page.get_by_test_id("order-actions")).to_have_count(0)
    steps = [("acknowledge", institution), ("submit", institution), ("return", inspector),
             ("submit", institution), ("verify", inspector)]
    history = page.get_by_test_id("history").locator("li[data-trigger]")
    expect(history).to_have_count(len(steps))
    assert history.evaluate_all("items => items.map(li => li.dataset.trigger)") == [
        trigger for trigger, _ in steps]
    for i, (trigger, actor) in enumerate(steps):
        entry = history.nth(i)
        expect(entry).to_contain_text(str(zh(app, labels.trigger_label, trigger, "order")))
        expect(entry).to_contain_text(actor.display_name)
        expect(entry).to_contain_text(str(zh(app, labels.role_label, actor.role)))
    expect(history.nth(2)).to_contain_text(RETURN_REASON)
    shot(page, "order-journey-order-closed")
    assert fresh_order(db, order_id).state == "closed"
    log_out(page)

    # The hospital still reads everything of its own order.
    log_in(page, institution)
    for url in (f"/orders/{order_id}", f"/orders/{order_id}/notice", photo_url,
                *evidence_urls):
        assert page.request.get(url).status == 200, url
    log_out(page)

    # --- another hospital sees none of it ----------------------------------------------------
    log_in(page, world.users["other_institution"])
    response = page.goto(f"/orders/{order_id}")
    assert response.status == 404
    expect(page.get_by_test_id("error-message")).to_be_visible()
    shot(page, "order-journey-other-institution-404")
    for url in (f"/orders/{order_id}/notice", photo_url, inspection_url, *evidence_urls):
        assert page.request.get(url).status == 404, url
