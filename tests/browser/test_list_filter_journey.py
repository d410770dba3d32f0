"""The complaint list's institution filter in headless Chromium: typing suggests only the
institutions the coordinator may see, choosing one filters the list; with the script's
suggestions ignored, the typed text filters by part of the name."""

import re
from datetime import date

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from browser.journeys import log_in
from casework.complaints.models import Complaint

pytestmark = pytest.mark.browser


def test_institution_filter_suggests_and_filters(page, shot, db, world):
    for i, institution in enumerate((world.hospital, world.hospital, world.far_hospital)):
        db.session.add(Complaint(
            tracking_code=f"TESTCODE{i:04d}", channel="hotline", category="other",
            institution_id=institution.id, description="x", received_on=date(2026, 1, 1),
            deadline=date(2026, 2, 1)))
    db.session.commit()
    rows = lambda: page.get_by_test_id("complaint-row")  # noqa: E731

    log_in(page, world.users["district_coordinator"])
    page.goto("/complaints/")
    page.get_by_test_id("institution-filter").fill("医院")
    suggestions = page.get_by_test_id("institution-suggestions").locator("[role=option]")
    expect(suggestions).to_have_text(["中宁县人民医院"])  # not the other district's

    page.context.clear_cookies()
    log_in(page, world.users["coordinator"])
    page.goto("/complaints/")
    expect(rows()).to_have_count(3)
    field = page.get_by_test_id("institution-filter")
    field.fill("中宁")
    expect(suggestions).to_have_text(["中宁县人民医院"])
    shot(page, "complaint-list-institution-suggestions")
    suggestions.first.tap()
    expect(field).to_have_value("中宁县人民医院")
    page.get_by_test_id("complaint-filter").locator("button[type=submit]").tap()
    page.wait_for_url(re.compile(rf"institution_id={world.far_hospital.id}"))
    expect(rows()).to_have_count(1)

    # Typed without choosing: part of the name, no id.
    field = page.get_by_test_id("institution-filter")
    field.fill("卫市人民")
    page.get_by_test_id("complaint-filter").locator("button[type=submit]").tap()
    page.wait_for_url(re.compile(r"institution=[^&]+&institution_id=$"))
    expect(rows()).to_have_count(2)


def test_complaint_registration_suggests_the_institution(page, shot, db, world):
    log_in(page, world.users["coordinator"])
    page.goto("/complaints/new")
    field = page.get_by_test_id("complaint-institution")
    field.fill("滨河")
    suggestions = page.get_by_test_id("complaint-institution-suggestions").locator(
        "[role=option]")
    expect(suggestions).to_have_text(["滨河诊所"])
    shot(page, "complaint-registration-institution-suggestions")
    suggestions.first.tap()
    expect(field).to_have_value("滨河诊所")
    expect(page.locator("#institution_id")).to_have_value(str(world.clinic.id))
    page.locator("#category").select_option("other")
    page.locator("#anonymous").check()
    page.locator("#description").fill("电话反映收费不透明")
    page.locator("form button[type=submit]").last.tap()
    page.wait_for_url(re.compile(r"/complaints/\d+$"))
    db.session.expire_all()
    complaint = db.session.scalars(sa.select(Complaint)).one()
    assert complaint.institution_id == world.clinic.id
