"""Interviews, accountability and the veto: services, history, pages, permissions."""

import re
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from factories import csrf_token, unchanged

from casework.errors import (
    GuardFailed,
    IllegalTrigger,
    Invalid,
    NotFound,
    NotPermitted,
    StaleObject,
)
from casework.history.models import HistoryEvent
from casework.inspections.models import Finding, Inspection
from casework.orders import services as orders
from casework.orders.models import RectificationOrder
from casework.oversight import services
from casework.oversight.models import Interview
from casework.queue import services as queue

NOW = "2022-12-10T09:00+08:00"


@pytest.fixture
def escalated(db, world, clock):
    """An escalated order of the hospital's case, issued from a finding."""
    clock(NOW)
    inspector = world.users["inspector"]
    case = world.make_case(db, state="rectification")
    inspection = Inspection(case=case, inspected_on=date(2022, 10, 1), place="门诊",
                            created_by_id=inspector.id, inspectors=[inspector],
                            finalised_at=datetime(2022, 10, 1, 3).astimezone(),
                            finalised_by_id=inspector.id)
    finding = Finding(inspection=inspection, case_id=case.id,
                      key_task=case.campaign.key_tasks[0], severity="minor",
                      description="收受回扣", rectification_required=True,
                      created_by_id=inspector.id)
    db.session.add_all([inspection, finding])
    db.session.commit()
    order = orders.raise_order(case.id, actor=inspector, finding_ids=[finding.id],
                               requirements="整改", rule={"kind": "calendar_days", "value": 10})
    order.state = "escalated"
    db.session.commit()
    return order


def events(kind, object_id):
    from casework.extensions import db

    return [e.trigger for e in db.session.scalars(sa.select(HistoryEvent).where(
        HistoryEvent.object_type == kind, HistoryEvent.object_id == object_id)
        .order_by(HistoryEvent.id))]


def test_raise_order_without_findings_only_when_allowed(escalated, users):
    coordinator = users["coordinator"]
    with pytest.raises(Invalid):
        orders.raise_order(escalated.case_id, actor=coordinator, finding_ids=[],
                           requirements="约谈后整改", rule={"kind": "working_days", "value": 5})
    order = orders.raise_order(escalated.case_id, actor=coordinator, finding_ids=[],
                               requirements="约谈后整改",
                               rule={"kind": "working_days", "value": 5},
                               allow_no_findings=True)
    assert order.findings == []


def test_interview_with_follow_up_supersedes_the_escalated_order(escalated, users, db):
    coordinator = users["coordinator"]
    key = f"order_escalated:{escalated.id}"
    assert key in {i.key for i in queue.compute_items(coordinator)}
    interview = services.schedule_interview(
        actor=coordinator, institution_id=None, reason="逾期未整改",
        scheduled_for=datetime(2022, 12, 12, 9), location="委机关会议室", queue_key=key)
    assert interview.case_id == escalated.case_id
    with unchanged(db, interview), pytest.raises(StaleObject):
        services.hold_interview(interview.id, actor=coordinator, version=99,
                                held_on=date(2022, 12, 10), attendees="院长", minutes="已约谈")
    with pytest.raises(Invalid) as error:
        services.hold_interview(interview.id, actor=coordinator, version=interview.version,
                                held_on=None, attendees="", minutes="", follow_up=True,
                                requirements="", working_days=0)
    assert set(error.value.details["errors"]) >= {"held_on", "attendees", "minutes",
                                                  "requirements", "working_days"}
    assert escalated.state == "escalated"
    held = services.hold_interview(
        interview.id, actor=coordinator, version=interview.version, held_on=date(2022, 12, 10),
        attendees="院长、分管副院长", minutes="责令限期整改", follow_up=True,
        requirements="立即整改", working_days=10)
    assert held.state == "held"
    follow_up = db.session.get(RectificationOrder, held.follow_up_order_id)
    assert "2022-12-10" in follow_up.requirements
    assert [f.id for f in follow_up.findings] == [f.id for f in escalated.findings]
    db.session.expire_all()
    assert escalated.state == "cancelled"
    assert key not in {i.key for i in queue.compute_items(coordinator)}
    assert events("interview", interview.id) == ["schedule", "hold"]
    with pytest.raises(IllegalTrigger):  # the machine: held is final
        services.cancel_interview(interview.id, actor=coordinator, version=held.version,
                                  reason="x")


def test_a_failed_follow_up_leaves_the_order_and_the_interview_as_they_were(
        escalated, users, db, monkeypatch):
    """Cancellation, follow-up order and interview held commit together or not at all."""
    from casework.orders import services as orders

    coordinator = users["coordinator"]
    key = f"order_escalated:{escalated.id}"
    interview = services.schedule_interview(
        actor=coordinator, institution_id=None, reason="逾期未整改",
        scheduled_for=datetime(2022, 12, 12, 9), location="委机关会议室", queue_key=key)

    def broken(*args, **kwargs):
        raise RuntimeError("the order store failed")

    monkeypatch.setattr(orders, "add_order", broken)
    with pytest.raises(RuntimeError):
        services.hold_interview(
            interview.id, actor=coordinator, version=interview.version,
            held_on=date(2022, 12, 10), attendees="院长", minutes="责令限期整改",
            follow_up=True, requirements="立即整改", working_days=10)
    db.session.expire_all()
    assert escalated.state == "escalated"
    assert db.session.get(Interview, interview.id).state == "scheduled"
    assert events("order", escalated.id) == []
    assert key in {i.key for i in queue.compute_items(coordinator)}


def test_interview_permissions(db, escalated, users, world):
    with unchanged(db, "interview"), pytest.raises(NotPermitted):
        services.schedule_interview(actor=users["viewer"], institution_id=world.hospital.id,
                                    reason="x", scheduled_for=datetime(2022, 12, 12, 9),
                                    location=None)
    with unchanged(db, "interview"), pytest.raises(NotPermitted):
        services.schedule_interview(actor=users["district_coordinator"],
                                    institution_id=world.hospital.id, reason="x",
                                    scheduled_for=datetime(2022, 12, 12, 9), location=None)
    interview = services.schedule_interview(
        actor=users["coordinator"], institution_id=world.hospital.id, reason="约谈",
        scheduled_for=datetime(2022, 12, 12, 9), location=None)
    # The institution sees its own interviews, never another's; the queue never.
    assert services.get_interview(interview.id, users["institution"]) is not None
    with pytest.raises(NotFound):
        services.get_interview(interview.id, users["other_institution"])
    page = services.institution_oversight(world.hospital.id, users["institution"])
    assert not page.full and page.interviews
    with pytest.raises(NotFound):
        services.institution_oversight(world.hospital.id, users["inspector"])
    cancelled = services.cancel_interview(interview.id, actor=users["coordinator"],
                                          version=interview.version, reason="改期")
    assert cancelled.state == "cancelled"


def test_accountability_answers_an_institution_item(db, world, users, clock):
    from casework.points.models import PointsEntry

    clock(NOW)
    db.session.add(PointsEntry(institution_id=world.hospital.id, year=2022,
                               awarded_on=date(2022, 5, 1), points=12, reason="收费"))
    db.session.commit()
    coordinator = users["coordinator"]
    key = f"institution_points:{world.hospital.id}:2022"
    assert key in {i.key for i in queue.compute_items(coordinator)}
    with pytest.raises(Invalid) as error:
        services.record_accountability(actor=coordinator, institution_id=None, measure="bad",
                                       decided_on=date(2030, 1, 1), document_number=None,
                                       reason="", queue_key=key)
    assert set(error.value.details["errors"]) == {"measure", "decided_on", "reason"}
    record = services.record_accountability(
        actor=coordinator, institution_id=None, measure="circulated_criticism",
        decided_on=date(2022, 12, 9), document_number="中卫卫发〔2022〕8号", reason="积分超标",
        queue_key=key)
    assert record.institution_id == world.hospital.id
    assert key not in {i.key for i in queue.compute_items(coordinator)}
    assert events("accountability", record.id) == ["record"]


def test_one_active_veto_per_institution_and_year(db, world, users, clock):
    clock(NOW)
    coordinator = users["coordinator"]
    flag = services.set_veto(actor=coordinator, institution_id=world.hospital.id, year=2022,
                             reason="发生重大医疗廉政事件")
    with pytest.raises(GuardFailed):
        services.set_veto(actor=coordinator, institution_id=world.hospital.id, year=2022,
                          reason="again")
    with pytest.raises(Invalid):
        services.revoke_veto(flag.id, actor=coordinator, reason=" ")
    with unchanged(db, flag), pytest.raises(NotPermitted):
        services.revoke_veto(flag.id, actor=users["viewer"], reason="x")
    services.revoke_veto(flag.id, actor=coordinator, reason="复核撤销")
    again = services.set_veto(actor=coordinator, institution_id=world.hospital.id, year=2022,
                              reason="重新认定")
    assert again.state == "active"
    assert events("veto", flag.id) == ["set", "revoke"]


def test_pages_and_422_in_chinese(db, world, users, client, login, clock):
    clock(NOW)
    login.as_("coordinator")
    page = f"/oversight/institutions/{world.hospital.id}"
    assert client.get(page).status_code == 200
    token = csrf_token(client, page)
    response = client.post(f"{page}/veto", data={"year": "1990", "reason": "",
                                                  "csrf_token": token})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请填写" in html and re.search(r"请输入 \d+ 至 \d+ 之间的年份", html)
    response = client.post(f"{page}/accountability", data={"measure": "", "reason": "",
                                                            "csrf_token": token})
    assert response.status_code == 422 and "请选择问责方式" in response.get_data(as_text=True)
    response = client.post("/oversight/interviews/new", data={
        "institution_id": world.hospital.id, "reason": "", "day": "", "time": "",
        "csrf_token": token})
    assert response.status_code == 422 and "请填写约谈事由" in response.get_data(as_text=True)
    response = client.post("/oversight/interviews/new", data={
        "institution_id": world.hospital.id, "reason": "投诉较多", "day": "2022-12-15",
        "time": "09:30", "location": "三楼会议室", "csrf_token": token})
    assert response.status_code == 302
    interview = db.session.scalar(sa.select(Interview))
    detail = client.get(f"/oversight/interviews/{interview.id}").get_data(as_text=True)
    assert "安排约谈" in detail
    with unchanged(db, interview):
        response = client.post(f"/oversight/interviews/{interview.id}/hold", data={
            "version": interview.version + 1, "held_on": "2022-12-10", "attendees": "院长",
            "minutes": "记录", "csrf_token": token})
    assert response.status_code == 409
    login.logout()
    login.as_("inspector")
    assert client.get(page).status_code == 404
    login.logout()
    login.as_("institution")
    assert client.get(f"/oversight/interviews/{interview.id}").status_code == 200
    html = client.get(page).get_data(as_text=True)
    assert 'data-testid="accountability-form"' not in html


# --- the interview machine, through binding.apply ---------------------------------------

def _interview_rows(db, interview_id):
    db.session.expire_all()
    row = db.session.get(Interview, interview_id)
    history = db.session.scalars(sa.select(HistoryEvent).where(
        HistoryEvent.object_type == "interview", HistoryEvent.object_id == interview_id)
        .order_by(HistoryEvent.id)).all()
    return row, [(e.trigger, e.from_state, e.to_state) for e in history]


def _scheduled(world, users, clock):
    clock(NOW)
    return services.schedule_interview(
        actor=users["coordinator"], institution_id=world.hospital.id, reason="投诉集中",
        scheduled_for=datetime(2022, 12, 12, 9), location="委机关会议室")


def test_hold_goes_through_the_machine(db, world, users, clock):
    interview = _scheduled(world, users, clock)
    row, history = _interview_rows(db, interview.id)
    assert (row.state, row.version, history) == (
        "scheduled", 1, [("schedule", "scheduled", "scheduled")])
    services.hold_interview(interview.id, actor=users["coordinator"], version=1,
                            held_on=date(2022, 12, 9), attendees="院长", minutes="已约谈")
    row, history = _interview_rows(db, interview.id)
    assert (row.state, row.version, row.held_on, row.minutes) == (
        "held", 2, date(2022, 12, 9), "已约谈")
    assert history[-1] == ("hold", "scheduled", "held")
    event = db.session.scalars(sa.select(HistoryEvent).where(
        HistoryEvent.object_type == "interview", HistoryEvent.trigger == "hold")).one()
    assert event.data == {"held_on": "2022-12-09", "follow_up_order": None,
                          "superseded_order": None}
    assert event.comment == "已约谈"


def test_cancel_goes_through_the_machine_and_a_refusal_writes_nothing(db, world, users,
                                                                      clock):
    coordinator = users["coordinator"]
    interview = _scheduled(world, users, clock)
    # Stale: nothing written, the row as it was.
    with pytest.raises(StaleObject):
        services.cancel_interview(interview.id, actor=coordinator, version=7, reason="改期")
    # Not the policy's: nothing written either.
    with pytest.raises(NotPermitted):
        services.cancel_interview(interview.id, actor=users["viewer"], version=1,
                                  reason="改期")
    row, history = _interview_rows(db, interview.id)
    assert (row.state, row.version, len(history)) == ("scheduled", 1, 1)
    services.cancel_interview(interview.id, actor=coordinator, version=1, reason="院长出差")
    row, history = _interview_rows(db, interview.id)
    assert (row.state, row.version) == ("cancelled", 2)
    assert history == [("schedule", "scheduled", "scheduled"),
                       ("cancel", "scheduled", "cancelled")]
    # Cancelled is final: refused by the machine, nothing written.
    with pytest.raises(IllegalTrigger):
        services.hold_interview(interview.id, actor=coordinator, version=2,
                                held_on=date(2022, 12, 9), attendees="院长", minutes="已约谈")
    row, after = _interview_rows(db, interview.id)
    assert (row.state, row.version, row.held_on, after) == ("cancelled", 2, None, history)


def test_the_interview_page_offers_the_machines_triggers(db, world, users, clock, client,
                                                         login):
    interview = _scheduled(world, users, clock)
    login.as_("coordinator")
    page = client.get(f"/oversight/interviews/{interview.id}").get_data(as_text=True)
    assert 'data-testid="hold-form"' in page and 'data-testid="cancel-form"' in page
    services.cancel_interview(interview.id, actor=users["coordinator"], version=1,
                              reason="院长出差")
    page = client.get(f"/oversight/interviews/{interview.id}").get_data(as_text=True)
    assert 'data-testid="hold-form"' not in page and 'data-testid="cancel-form"' not in page
