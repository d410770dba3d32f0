"""The coordinator dashboard's charts, the campaign report and the mobilisation form in
headless Chromium at the tablet size, in zh_CN (screenshots in test-artifacts/screenshots)."""

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from report_scenario import END, START, build

from browser.journeys import log_in, log_out
from casework.cases.models import MobilisationRecord

pytestmark = pytest.mark.browser

CHARTS = ["orders", "on_time", "overdue_institutions", "findings", "coverage", "complaints"]


def drawn(tab, key) -> bool:
    return tab.evaluate(
        "key => { const c = document.querySelector(`canvas[data-chart='${key}']`);"
        " return !!(c && window.Chart.getChart(c) && c.width > 0); }", key)


def test_coordinator_dashboard_and_report_on_a_tablet(page, shot, db, world):
    scenario = build(world, db)
    log_in(page, world.users["coordinator"])
    page.goto(f"/dashboard?campaign={scenario.campaign.id}&start={START}&end={END}")
    for key in CHARTS:
        expect(page.get_by_test_id(f"chart-{key}")).to_be_visible()
        assert drawn(page, key), key
    shot(page, "dashboard-coordinator")
    # The figures behind a chart open with one tap.
    page.get_by_test_id("chart-orders").locator("summary").tap()
    expect(page.get_by_test_id("table-orders")).to_be_visible()
    shot(page, "dashboard-coordinator-table")

    page.get_by_test_id("report-link").tap()
    expect(page.get_by_test_id("report")).to_be_visible()
    expect(page.locator("[data-figure='orders.issued']")).to_have_text("3")
    shot(page, "campaign-report")
    page.get_by_test_id("report-print").tap()
    expect(page.get_by_test_id("report-paper")).to_be_visible()
    shot(page, "campaign-report-print")

    # A start after the end: the form says why, in Chinese.
    page.goto(f"/campaigns/{scenario.campaign.id}/report?start={END}&end={START}")
    expect(page.get_by_test_id("error-end")).to_contain_text("截止日期不能早于起始日期")


def test_institution_dashboard_and_mobilisation_form(page, shot, db, world):
    scenario = build(world, db)
    log_in(page, world.users["institution"])
    page.goto(f"/dashboard?campaign={scenario.campaign.id}&start={START}&end={END}")
    for key in ("orders", "on_time", "findings"):
        assert drawn(page, key), key
    expect(page.locator("canvas[data-chart='complaints']")).to_have_count(0)
    shot(page, "dashboard-institution")
    # The hospital's record is filed anew (late: the phase ended in May 2021).
    db.session.execute(sa.delete(MobilisationRecord)
                       .where(MobilisationRecord.case_id == scenario.h1.id))
    db.session.commit()
    page.goto(f"/cases/{scenario.h1.id}")
    page.get_by_test_id("mobilisation-file").tap()
    page.locator("#leading_group").fill("组　长：院长\n副组长：分管副院长")
    page.locator("#plan_summary").fill("一、成立领导小组；\n二、开展自查自纠。")
    shot(page, "mobilisation-form")
    page.locator("main form button[type=submit]").tap()
    expect(page.get_by_test_id("mobilisation-leading-group")).to_contain_text("副组长")
    expect(page.get_by_test_id("mobilisation-late")).to_be_visible()
    shot(page, "case-mobilisation")
    log_out(page)
