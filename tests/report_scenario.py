"""A seeded scenario for the campaign report and the dashboard charts, with figures that
can be counted by hand (see EXPECTED and the comments).

World (tests/conftest.py): city 中卫市 with district 沙坡头区 (hospital H1 中卫市人民医院,
clinic C1) and county 中宁县 (hospital H2). The campaign covers the city; its mobilisation
phase ends 2021-05-31. The period examined is 2021-06-01 .. 2021-12-31.
"""

from datetime import UTC, date, datetime

from casework.campaigns.models import KeyTask
from casework.cases.models import MobilisationRecord
from casework.complaints.models import Complaint
from casework.disputes.models import MedicalDispute
from casework.history.models import HistoryEvent
from casework.inspections.models import Finding, Inspection
from casework.orders.models import RectificationOrder, Submission
from casework.oversight.models import AccountabilityRecord, Interview
from casework.points.models import PointsEntry

START, END = date(2021, 6, 1), date(2021, 12, 31)


def at(y, m, d, hour=3):
    return datetime(y, m, d, hour, tzinfo=UTC)


class Scenario:
    pass


def build(world, db):
    """Seed the scenario (figures in the comments below)."""
    s = Scenario()
    s.campaign = world.make_campaign(db)
    s.campaign.key_tasks.append(KeyTask(position=1, code="KT2", title="整治不合理收费"))
    db.session.commit()
    s.kt1, s.kt2 = s.campaign.key_tasks
    s.h1 = world.make_case(db, world.hospital, s.campaign, state="rectification")
    s.c1 = world.make_case(db, world.clinic, s.campaign, state="rectification")
    s.h2 = world.make_case(db, world.far_hospital, s.campaign, state="rectification")
    inspector = world.users["inspector"]
    institution = world.users["institution"]

    def inspection(case, day, finalised):
        row = Inspection(case_id=case.id, inspected_on=day, place="现场",
                         created_by_id=inspector.id,
                         finalised_at=at(day.year, day.month, day.day) if finalised else None,
                         finalised_by_id=inspector.id if finalised else None)
        db.session.add(row)
        db.session.flush()
        return row

    def finding(insp, task, required=True):
        row = Finding(inspection_id=insp.id, case_id=insp.case_id, key_task_id=task.id,
                      severity="moderate", description="问题", rectification_required=required,
                      created_by_id=inspector.id)
        db.session.add(row)
        db.session.flush()
        return row

    numbers = iter(range(1, 10_000))

    def order(case, findings, issued, deadline, state, *, ended=None, late=None):
        row = RectificationOrder(number=f"整改〔2021〕{next(numbers):04d}号", case_id=case.id,
                                 requirements="整改", issuing_body="卫健委", issued_on=issued,
                                 issued_by_id=inspector.id, deadline=deadline,
                                 deadline_rule={"kind": "date"}, state=state,
                                 findings=findings)
        db.session.add(row)
        db.session.flush()
        if late is not None:
            db.session.add(Submission(order_id=row.id, report="已整改", late=late,
                                      submitted_by_id=institution.id))
        if ended is not None:
            db.session.add(HistoryEvent(object_type="order", object_id=row.id,
                                        trigger="verify" if state == "closed" else "cancel",
                                        from_state="submitted", to_state=state,
                                        actor_role="inspector", at=ended))
        return row

    # Inspections finalised in the period: I1 on H1 (06-10), I2 on H2 (07-05) -> 2 held,
    # 2 institutions inspected. I3 on C1 finalised 2022-01-10 (after), I4 on C1 never.
    i1 = inspection(s.h1, date(2021, 6, 10), True)
    i2 = inspection(s.h2, date(2021, 7, 5), True)
    i3 = inspection(s.c1, date(2022, 1, 10), True)
    i4 = inspection(s.c1, date(2021, 9, 1), False)
    # Findings counted: KT1 = F1, F3, F4 = 3 (rectification required: F1, F4 = 2);
    # KT2 = F2 = 1. F5 (I3) and F6 (I4) are outside.
    f1, f2, _f3 = finding(i1, s.kt1), finding(i1, s.kt2), finding(i1, s.kt1, required=False)
    f4 = finding(i2, s.kt1)
    f5, _f6 = finding(i3, s.kt2), finding(i4, s.kt2)
    # Orders: O1 (F1) issued 06-15, closed 07-10, no late submission -> closed on time.
    # O2 (F2) issued 06-15, deadline 07-15, still overdue -> overdue at the period's end.
    # O3 (F4, H2) issued 07-06, submitted late, closed 08-20 -> closed, not on time.
    # O4 (F5, C1) issued 2022-01-12 -> after the period. O5 (H1) issued 05-20 (before),
    # cancelled 06-25. Issued 3, closed 2, on time 1, overdue 1; F1 and F4 rectified.
    order(s.h1, [f1], date(2021, 6, 15), date(2021, 7, 15), "closed", ended=at(2021, 7, 10),
          late=False)
    order(s.h1, [f2], date(2021, 6, 15), date(2021, 7, 15), "overdue")
    order(s.h2, [f4], date(2021, 7, 6), date(2021, 8, 6), "closed", ended=at(2021, 8, 20),
          late=True)
    order(s.c1, [f5], date(2022, 1, 12), date(2022, 2, 12), "issued")
    order(s.h1, [], date(2021, 5, 20), date(2021, 6, 20), "cancelled", ended=at(2021, 6, 25))
    s.more_orders = lambda n: [
        order(s.h1, [finding(i1, s.kt2)], date(2021, 6, 16), date(2021, 7, 1), "escalated")
        for _ in range(n)]

    # Complaints received in the period about institutions in scope: C-a (H1, 06-05,
    # concluded substantiated), C-b (H2, 07-01, transferred), C-c (C1, 08-01, received)
    # -> received 3, handled 1, substantiated 1, transferred 1. C-d (H1, 2022) and C-e
    # (no institution) do not count.
    handler = world.users["inspector"].id
    complaints = [
        (world.hospital.id, date(2021, 6, 5), "concluded", "substantiated", None, handler),
        (world.far_hospital.id, date(2021, 7, 1), "transferred", None, "market_supervision",
         None),
        (world.clinic.id, date(2021, 8, 1), "received", None, None, None),
        (world.hospital.id, date(2022, 2, 1), "received", None, None, None),
        (None, date(2021, 6, 20), "received", None, None, None),
    ]
    for n, (inst, day, state, outcome, department, handler_id) in enumerate(complaints):
        db.session.add(Complaint(
            tracking_code=f"T{n:06d}", channel="hotline", category="red_envelope",
            institution_id=inst, description="投诉", received_on=day, deadline=day,
            state=state, outcome=outcome, findings="查实" if outcome else None,
            transfer_department=department, handler_id=handler_id))
    # Disputes: negotiation 1 (H1, 06-01, open); mediation 1 (H2, 09-01, resolved);
    # D3 (C1, 2022-03-01) outside.
    for inst, day, route, status in ((world.hospital, date(2021, 6, 1), "negotiation", "open"),
                                     (world.far_hospital, date(2021, 9, 1), "mediation",
                                      "resolved"),
                                     (world.clinic, date(2022, 3, 1), "mediation", "open")):
        db.session.add(MedicalDispute(
            institution_id=inst.id, occurred_on=day, type="surgery", route=route,
            status=status, resolved_on=day if status == "resolved" else None, summary="纠纷"))
    # Interviews: held 09-10 counts; held 2022-01-05 and one only scheduled do not -> 1.
    for day, state in ((date(2021, 9, 10), "held"), (date(2022, 1, 5), "held"),
                       (None, "scheduled")):
        db.session.add(Interview(
            institution_id=world.hospital.id, campaign_id=s.campaign.id, reason="约谈",
            scheduled_for=at(2021, 9, 1), state=state, held_on=day,
            minutes="纪要" if state == "held" else None))
    # Accountability: 10-01 counts, 2022-02-01 does not -> 1.
    for day in (date(2021, 10, 1), date(2022, 2, 1)):
        db.session.add(AccountabilityRecord(institution_id=world.hospital.id,
                                            measure="circulated_criticism", decided_on=day,
                                            reason="问责"))
    # Points: +3 (H1, 07-01), +6 (H2, 08-01), -3 reversing the first (09-01), +2 in 2022
    # -> given 9, reversed 3, net 6.
    first = PointsEntry(institution_id=world.hospital.id, year=2021,
                        awarded_on=date(2021, 7, 1), points=3, reason="积分")
    db.session.add(first)
    db.session.flush()
    db.session.add_all([
        PointsEntry(institution_id=world.far_hospital.id, year=2021,
                    awarded_on=date(2021, 8, 1), points=6, reason="积分"),
        PointsEntry(institution_id=world.hospital.id, year=2021, awarded_on=date(2021, 9, 1),
                    points=-3, reason="撤销", reverses_id=first.id, reversal_reason="错记"),
        PointsEntry(institution_id=world.hospital.id, year=2022, awarded_on=date(2022, 1, 1),
                    points=2, reason="积分"),
    ])
    # Mobilisation records: H1 filed 05-10 (in the phase), H2 filed 06-15 (late), C1 none
    # -> 3 cases, 2 filed, 1 late, 1 missing.
    db.session.add_all([
        MobilisationRecord(case_id=s.h1.id, leading_group="院长", plan_summary="方案",
                           submitted_at=at(2021, 5, 10)),
        MobilisationRecord(case_id=s.h2.id, leading_group="院长", plan_summary="方案",
                           submitted_at=at(2021, 6, 15)),
    ])
    db.session.commit()
    return s


def add_more(s, world, db, n: int = 30):
    """n more orders, findings, complaints, disputes and points: for comparing the number
    of statements on a small and a larger data set."""
    s.more_orders(n)
    for k in range(n):
        db.session.add(Complaint(
            tracking_code=f"M{k:06d}", channel="web", category="other",
            institution_id=world.clinic.id, description="投诉", received_on=date(2021, 7, 2),
            deadline=date(2021, 8, 2), state="received"))
        db.session.add(MedicalDispute(institution_id=world.clinic.id,
                                      occurred_on=date(2021, 10, 2), type="fees",
                                      route="litigation", status="open", summary="纠纷"))
        db.session.add(PointsEntry(institution_id=world.clinic.id, year=2021,
                                   awarded_on=date(2021, 11, 2), points=1, reason="积分"))
    db.session.commit()
