"""Medical disputes and the bulletin, in headless Chromium at tablet size: a hospital
registers a dispute, an inspector moves it to mediation and resolves it; the coordinator
recomputes a draft bulletin, sees the chart beside the ranking, and opens the printable
version."""

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from browser.journeys import log_in, log_out, zh

pytestmark = pytest.mark.browser


def test_a_hospital_registers_a_dispute_and_an_inspector_resolves_it(page, shot, app, db,
                                                                     world):
    log_in(page, world.users["institution"])
    page.get_by_test_id("nav-more").tap()
    page.locator(".dropdown-menu a[href='/disputes/']").tap()
    page.wait_for_url(re.compile(r"/disputes/$"))
    page.get_by_test_id("register-dispute").tap()
    # Its own institution is the only choice, already chosen.
    expect(page.locator("#institution_id option")).to_have_count(1)
    page.locator("#occurred_on").fill("2099-01-01")
    page.locator("#type").select_option("surgery")
    page.locator("#summary").fill("患者术后出现神经损伤，家属要求赔偿。")
    page.get_by_test_id("register").tap()
    # Refused, in Chinese, with everything typed still there.
    expect(page.get_by_test_id("form-errors")).to_be_visible()
    expect(page.locator("[data-error=occurred_on]")).to_have_text(
        zh(app, "The date cannot be in the future."))
    expect(page.locator("[data-error=route]")).to_be_visible()
    expect(page.locator("#summary")).to_have_value("患者术后出现神经损伤，家属要求赔偿。")
    shot(page, "dispute-register-errors")
    page.locator("#occurred_on").fill("2024-05-01")
    page.locator("#route").select_option("negotiation")
    page.get_by_test_id("register").tap()
    page.wait_for_url(re.compile(r"/disputes/\d+$"))
    dispute_url = page.url
    shot(page, "dispute-detail-institution")
    log_out(page)

    log_in(page, world.users["inspector"])
    page.goto(dispute_url)
    page.locator("#route").select_option("mediation")
    page.locator("#status").select_option("resolved")
    page.locator("#resolved_on").fill("2024-06-20")
    page.locator("#amount").fill("86,000")
    page.get_by_test_id("save-dispute").tap()
    page.wait_for_url(re.compile(r"/disputes/\d+$"))
    expect(page.get_by_test_id("dispute-amount")).to_have_text("86000.00")
    expect(page.get_by_test_id("history-change")).to_have_count(4)
    shot(page, "dispute-detail-changed")
    page.goto("/disputes/")
    expect(page.get_by_test_id("dispute-row")).to_have_count(1)
    shot(page, "dispute-list")


def test_the_coordinator_recomputes_and_prints_a_bulletin(page, shot, app, db, world, users):
    from casework.bulletins import sweeps
    from casework.campaigns.models import ReportingCadence
    from casework.cases.models import InspectionCase
    from casework.disputes.models import MedicalDispute
    from casework.institutions.models import Institution
    from casework.settings import services as settings

    campaign = world.make_campaign(db)
    campaign.cadences.append(ReportingCadence(position=0, kind="bulletin",
                                              frequency="half_yearly"))
    world.hospital.annual_visits = 365000
    world.far_hospital.annual_visits = 73000
    extra = [Institution(code=f"B{i}", name=f"沙坡头区第{i}医院", type="general_hospital",
                         level="secondary", ownership="public", region=world.district,
                         annual_visits=60000 + 20000 * i) for i in range(1, 5)]
    db.session.add_all(extra)
    for institution in (world.hospital, world.far_hospital, world.clinic, *extra):
        db.session.add(InspectionCase(campaign=campaign, institution=institution))
    for n, institution in enumerate((world.hospital, world.far_hospital, world.clinic,
                                     *extra)):
        for k in range(n + 1):
            db.session.add(MedicalDispute(institution=institution,
                                          occurred_on=date(2021, 5, 1 + k), route="mediation",
                                          type="surgery", status="open", summary="纠纷"))
    db.session.commit()
    settings.update({"bulletin_interview_rate": 2, "bulletin_interview_count": 3},
                    actor=users["admin"])
    sweeps.bulletins(datetime.combine(date(2021, 7, 1), time(1),
                                      tzinfo=ZoneInfo("Asia/Shanghai")))
    from casework.bulletins.models import Bulletin

    bulletin_id = db.session.scalar(db.select(Bulletin.id))

    log_in(page, world.users["coordinator"])
    page.goto(f"/bulletins/{bulletin_id}")
    chart = page.get_by_test_id("bulletin-chart").locator("canvas")
    expect(chart).to_be_visible()
    assert chart.bounding_box()["height"] > 150
    expect(page.get_by_test_id("ranking-row")).to_have_count(7)
    shot(page, "bulletin-detail")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("recompute").tap()
    page.wait_for_url(re.compile(rf"/bulletins/{bulletin_id}$"))
    expect(page.get_by_test_id("recomputed-change")).to_have_count(1)
    page.get_by_test_id("print-bulletin").tap()
    page.wait_for_url(re.compile(r"/print$"))
    expect(page.get_by_test_id("print-row")).to_have_count(7)
    shot(page, "bulletin-print")
    log_out(page)
