"""Linking a complaint, the points ledger (award, reverse), the overview, the rules and the
settings page, in headless Chromium at 1024x768 (issue 5, points and settings)."""

import re

import pytest
from playwright.sync_api import expect

from browser.journeys import log_in, log_out
from casework.complaints import services as complaints
from casework.points import services as points

pytestmark = pytest.mark.browser


def test_link_award_reverse_and_settings(page, shot, app, db, world):
    coordinator, admin = world.users["coordinator"], world.users["admin"]
    points.add_rule(points.RuleInput("complaint", "red_envelope", 3, 6, "查实收受红包"),
                    actor=coordinator)
    complaint = complaints.submit_public_complaint(
        category="red_envelope", description="主刀医生收红包", institution_named="人民医院",
        name="赵小燕", phone="13987654321")

    log_in(page, coordinator)
    page.goto(f"/complaints/{complaint.id}")
    page.get_by_test_id("link-institution").fill("中卫市人民")
    page.get_by_test_id("link-institution-suggestions").locator("[role=option]").first.tap()
    expect(page.locator("#institution_id")).to_have_value(str(world.hospital.id))
    page.get_by_test_id("link-save").tap()
    page.wait_for_url(re.compile(r"/complaints/\d+$"))
    page.locator("#form-link summary").tap()
    page.locator("#new-staff-name").fill("李明")
    page.locator("#new-staff-department").fill("外科")
    page.get_by_test_id("link-save").tap()
    page.wait_for_url(re.compile(r"/complaints/\d+$"))
    expect(page.get_by_test_id("complaint-staff")).to_contain_text("李明")
    shot(page, "complaint-linked")

    # Concluded substantiated: 3 points for the hospital, 6 for the staff member.
    db.session.expire_all()
    v = db.session.get(type(complaint), complaint.id).version
    complaints.fire_complaint(complaint.id, "assign", actor=coordinator, version=v,
                              handler_id=coordinator.id)
    complaints.fire_complaint(complaint.id, "investigate", actor=coordinator, version=v + 1)
    complaints.fire_complaint(complaint.id, "conclude", actor=coordinator, version=v + 2,
                              outcome="substantiated", findings="属实")

    page.goto(f"/points/institutions/{world.hospital.id}")
    expect(page.get_by_test_id("institution-total")).to_have_text("3")
    page.locator("#points").fill("2")
    page.locator("#reason").fill("未按要求公示收费项目")
    page.get_by_test_id("award").tap()
    page.wait_for_url(re.compile(r"/points/institutions/\d+$"))
    expect(page.get_by_test_id("institution-total")).to_have_text("5")
    row = page.locator("[data-testid=institution-entries] [data-testid=entry-row]").last
    row.locator("summary").tap()
    row.locator("textarea").fill("复核后撤销")
    row.get_by_test_id("reverse-entry").tap()
    page.wait_for_url(re.compile(r"/points/institutions/\d+"))
    expect(page.get_by_test_id("institution-total")).to_have_text("3")
    expect(page.get_by_test_id("reversal-reason")).to_contain_text("复核后撤销")
    shot(page, "points-ledger")

    page.goto("/points/")
    expect(page.get_by_test_id("overview-row")).to_have_count(3)
    shot(page, "points-overview")
    page.goto("/points/rules")
    shot(page, "points-rules")
    page.goto(f"/institutions/{world.hospital.id}/staff")
    shot(page, "staff-list")
    page.goto("/complaints/")
    shot(page, "complaint-list-export")
    log_out(page)

    log_in(page, admin)
    page.goto("/admin/settings")
    page.locator("#complaint_handling_days").fill("0")
    page.get_by_test_id("save-settings").tap()
    expect(page.locator("[data-error=complaint_handling_days]")).to_be_visible()
    shot(page, "settings-error")
