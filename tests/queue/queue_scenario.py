"""A seeded escalation-queue scenario: one item of each kind, and things that must not
be on the queue (a closed order returned twice, an order returned once, a case in
consolidation, an institution under the points threshold, an institution whose
points item a held interview answered, an older bulletin's proposal)."""

from datetime import UTC, date, datetime, timedelta

from factories import make_order

from casework.bulletins.models import Bulletin
from casework.cases.models import MobilisationRecord
from casework.institutions.models import StaffMember
from casework.oversight.models import Interview
from casework.points.models import PointsEntry
from casework.reports.models import ProgressReport

TODAY = date(2022, 12, 10)
NOW = "2022-12-10T09:00+08:00"


def record(db, case):
    db.session.add(MobilisationRecord(case=case, leading_group="院长任组长",
                                      plan_summary="实施方案"))


def build(db, world):
    """Returns {name: object} and the keys the city coordinator's queue must hold."""
    inspector = world.users["inspector"]
    campaign = world.make_campaign(db)
    case_h = world.make_case(db, institution=world.hospital, campaign=campaign,
                             state="rectification")
    case_c = world.make_case(db, institution=world.clinic, campaign=campaign, state="tackling")
    case_f = world.make_case(db, institution=world.far_hospital, campaign=campaign,
                             state="consolidation")
    record(db, case_h)
    record(db, case_c)
    escalated = make_order(db, case_h, inspector, state="escalated", commit=False,
                           escalated_at=datetime(2022, 11, 20, 2, tzinfo=UTC))
    overdue = make_order(db, case_h, inspector,
                         state="overdue", commit=False, deadline=date(2022, 12, 1))
    twice = make_order(db, case_h, inspector, state="returned", commit=False, returns=2,
                       deadline=date(2023, 1, 31))
    make_order(db, case_h, inspector,
               state="returned", commit=False, returns=1, deadline=date(2023, 1, 31))
    make_order(db, case_h, inspector, state="closed", commit=False, returns=2)
    make_order(db, case_c, inspector,
               state="acknowledged", commit=False, deadline=date(2023, 1, 31))
    report = ProgressReport(case=case_c, period_start=date(2022, 7, 1),
                            period_end=date(2022, 9, 30), due_on=date(2022, 9, 30),
                            state="overdue")
    db.session.add(ProgressReport(case=case_h, period_start=date(2022, 7, 1),
                                  period_end=date(2022, 9, 30), due_on=date(2022, 9, 30),
                                  state="accepted"))
    db.session.add(report)
    nurse = StaffMember(institution_id=world.clinic.id, name="王护士")
    db.session.add(nurse)
    db.session.flush()
    db.session.add_all([
        PointsEntry(institution_id=world.clinic.id, staff_id=nurse.id, year=2022,
                    awarded_on=date(2022, 6, 1), points=6, reason="红包"),
        PointsEntry(institution_id=world.clinic.id, staff_id=nurse.id, year=2022,
                    awarded_on=date(2022, 8, 1), points=6, reason="红包"),
        PointsEntry(institution_id=world.hospital.id, year=2022, awarded_on=date(2022, 8, 1),
                    points=5, reason="收费"),
        PointsEntry(institution_id=world.far_hospital.id, year=2022,
                    awarded_on=date(2022, 8, 1), points=20, reason="收费"),
        # Last year's points count for last year only.
        PointsEntry(institution_id=world.hospital.id, year=2021, awarded_on=date(2021, 8, 1),
                    points=30, reason="收费"),
    ])
    db.session.add(Interview(
        institution_id=world.far_hospital.id, queue_key=f"institution_points:"
        f"{world.far_hospital.id}:2022", reason="积分超标", state="held",
        scheduled_for=datetime(2022, 9, 1, 2, tzinfo=UTC), held_on=date(2022, 9, 1),
        attendees="院长", minutes="已约谈"))
    old = Bulletin(campaign=campaign, period_start=date(2022, 1, 1), period_end=date(2022, 3, 31),
                   state="published", figures={"institutions": [
                       {"id": world.clinic.id, "interview": True, "complaints": 9}]})
    latest = Bulletin(campaign=campaign, period_start=date(2022, 7, 1),
                      period_end=date(2022, 9, 30), state="draft",
                      generated_at=datetime(2022, 10, 1, 1, tzinfo=UTC),
                      figures={"institutions": [
                          {"id": world.hospital.id, "interview": True, "complaints": 7,
                           "disputes": 1},
                          {"id": world.clinic.id, "interview": False},
                          {"id": "bad"}, "junk"]})
    db.session.add_all([old, latest])
    db.session.commit()
    objects = dict(campaign=campaign, case_h=case_h, case_c=case_c, case_f=case_f,
                   escalated=escalated, overdue=overdue, twice=twice, report=report,
                   latest=latest)
    expected = {
        f"order_escalated:{escalated.id}", f"order_overdue:{overdue.id}",
        f"order_returned_twice:{twice.id}", f"report_overdue:{report.id}",
        f"case_tackling:{case_c.id}", f"case_blocked:{case_h.id}",
        f"case_no_mobilisation_record:{case_f.id}",
        f"institution_points:{world.clinic.id}:2022",
        f"institution_complaints:{latest.id}:{world.hospital.id}",
    }
    return objects, expected


def more_rows(db, world, objects, n=10):
    """More of everything, for the query-count comparison."""
    inspector = world.users["inspector"]
    for _ in range(n):
        make_order(db, objects["case_h"], inspector, state="escalated", commit=False,
                   escalated_at=datetime(2022, 11, 25, tzinfo=UTC))
        make_order(db, objects["case_c"], inspector, state="overdue", commit=False)
        make_order(db, objects["case_c"], inspector, state="returned", commit=False, returns=3)
        start = date(2021, 1, 1) + timedelta(days=_)
        db.session.add(ProgressReport(case=objects["case_h"], period_start=start,
                                      period_end=start, due_on=start, state="overdue"))
    db.session.commit()
