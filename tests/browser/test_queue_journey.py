"""The escalation queue on a tablet, in headless Chromium (issue 6).

A coordinator opens the queue from the dashboard, claims an escalated order, schedules
an interview from the item, records it as held with a follow-up rectification order,
and sees the item leave the queue: the follow-up order supersedes the escalated one
(which is revoked with the interview named as the reason) and covers its findings.
"""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from browser.journeys import log_in
from casework import clock

pytestmark = pytest.mark.browser


def escalated_order(db, world):
    from casework.cases.models import MobilisationRecord
    from casework.inspections.models import Finding, Inspection
    from casework.orders import services

    inspector = world.users["inspector"]
    case = world.make_case(db, state="rectification")
    db.session.add(MobilisationRecord(case=case, leading_group="院长任组长",
                                      plan_summary="实施方案"))
    inspection = Inspection(case=case, inspected_on=clock.today(), place="药剂科",
                            created_by_id=inspector.id, inspectors=[inspector],
                            finalised_at=clock.now(), finalised_by_id=inspector.id)
    finding = Finding(inspection=inspection, case_id=case.id, key_task=case.campaign.key_tasks[0],
                      severity="serious", description="未落实医药代表接待登记",
                      rectification_required=True, created_by_id=inspector.id)
    db.session.add_all([inspection, finding])
    db.session.commit()
    order = services.raise_order(case.id, actor=inspector, finding_ids=[finding.id],
                                 requirements="建立接待登记制度。",
                                 rule={"kind": "calendar_days", "value": 10})
    order.state = "escalated"
    db.session.commit()
    return order


def test_claim_an_escalated_order_hold_an_interview_and_see_it_leave(page, shot, db, world):
    from casework.orders.models import RectificationOrder

    order = escalated_order(db, world)
    key = f"order_escalated:{order.id}"
    coordinator = world.users["coordinator"]
    log_in(page, coordinator)

    page.get_by_test_id("queue-link").tap()
    page.wait_for_url(re.compile(r"/queue/$"))
    row = page.locator(f"[data-testid=queue-row][data-key='{key}']")
    expect(row).to_be_visible()
    expect(row.get_by_test_id("queue-owner")).to_contain_text("未认领")
    shot(page, "queue-list")

    row.get_by_test_id("queue-claim").tap()
    page.wait_for_url(re.compile(r"/queue/$"))
    row = page.locator(f"[data-testid=queue-row][data-key='{key}']")
    expect(row.get_by_test_id("queue-owner")).to_contain_text(coordinator.display_name)
    shot(page, "queue-claimed")

    row.get_by_test_id("queue-open").tap()
    expect(page.get_by_test_id("queue-item")).to_contain_text("已升级督办")
    shot(page, "queue-item")
    page.get_by_test_id("schedule-interview").tap()
    page.locator("#reason").fill("整改通知逾期未整改并已升级督办，约谈医院主要负责人。")
    page.locator("#day").fill(clock.today().isoformat())
    page.locator("#time").fill("09:30")
    page.locator("#location").fill("市卫生健康委三楼会议室")
    shot(page, "interview-new")
    page.get_by_test_id("interview-submit").tap()
    page.wait_for_url(re.compile(r"/oversight/interviews/\d+$"))
    expect(page.get_by_test_id("interview-state")).to_contain_text("已安排")

    page.locator("#attendees").fill("院长、分管副院长、药剂科主任")
    page.locator("#minutes").fill("医院作出说明，承诺十个工作日内完成整改。")
    page.locator("#follow_up").check()
    page.locator("#requirements").fill("一、建立医药代表接待登记制度；二、对涉事人员诫勉谈话。")
    page.locator("#working_days").fill("10")
    shot(page, "interview-hold-form")
    page.get_by_test_id("hold-submit").tap()
    expect(page.get_by_test_id("interview-state")).to_contain_text("已约谈")
    expect(page.get_by_test_id("follow-up-order")).to_be_visible()
    expect(page.get_by_test_id("history").locator("[data-trigger=hold]")).to_be_visible()
    shot(page, "interview-held")

    page.goto("/queue/")
    expect(page.locator(f"[data-testid=queue-row][data-key='{key}']")).to_have_count(0)
    shot(page, "queue-after-interview")

    page.goto(f"/oversight/institutions/{world.hospital.id}")
    expect(page.get_by_test_id("interview-row")).to_have_count(1)
    shot(page, "oversight-institution")

    db.session.expire_all()
    old = db.session.get(RectificationOrder, order.id)
    assert old.state == "cancelled"
    new = db.session.scalar(sa.select(RectificationOrder).where(RectificationOrder.id != order.id))
    assert new.state == "issued" and "约谈" in new.requirements
    assert new.deadline > clock.today() + timedelta(days=9)
