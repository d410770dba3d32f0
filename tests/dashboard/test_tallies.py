"""The day tallies by region (casework/dashboard/tallies.py): equal to counting the rows,
kept by every commit whatever changed (a complaint linked elsewhere, an order closed, an
institution moved), and the charts and the report read from them."""

import random
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from factories import make_complaint, make_dispute, make_institution, make_order
from report_scenario import END, START, build

from casework.complaints.models import Complaint
from casework.dashboard import tallies
from casework.dashboard.campaign_report import campaign_report
from casework.dashboard.charts import campaign_charts
from casework.dashboard.models import ComplaintDayTally, FindingDayTally
from casework.disputes.models import MedicalDispute
from casework.extensions import db as _db
from casework.inspections.models import Finding, Inspection
from casework.institutions.models import Institution, Region
from casework.orders.models import order_finding


def random_rows(world, db, rng: random.Random, n: int = 60):
    places = [world.hospital, world.clinic, world.far_hospital, None]
    for _ in range(n):
        day = START + timedelta(days=rng.randrange(-30, 240))
        outcome = rng.choice((None, "substantiated", "unsubstantiated"))
        make_complaint(db, rng.choice(places), received_on=day, outcome=outcome,
                       state="concluded" if outcome else "received",
                       department=rng.choice((None, None, "market_supervision")),
                       handler=world.users["inspector"] if outcome else None, commit=False)
        status = rng.choice(("open", "resolved"))
        make_dispute(db, rng.choice(places[:3]), occurred_on=day,
                     route=rng.choice(("negotiation", "mediation", "litigation")),
                     status=status, resolved_on=day if status == "resolved" else None,
                     commit=False)
    db.session.commit()


def live_complaints(actor_region_path: str, start: date, end: date) -> tuple:
    """Counted from the complaints themselves, for a region subtree."""
    return _db.session.execute(
        sa.select(sa.func.count(), sa.func.count(Complaint.outcome),
                  sa.func.count(sa.case((Complaint.outcome == "substantiated", 1))),
                  sa.func.count(Complaint.transfer_department))
        .join(Institution, Institution.id == Complaint.institution_id)
        .join(Region, Region.id == Institution.region_id)
        .where(Region.path.startswith(actor_region_path),
               Complaint.received_on >= start, Complaint.received_on <= end)).one()


def test_report_and_charts_equal_counting_the_rows(world, db, users, app):
    s = build(world, db)
    random_rows(world, db, random.Random(7))
    assert tallies.check() == []
    with app.test_request_context():
        for role in ("coordinator", "district_coordinator", "viewer"):
            actor = users[role]
            report = campaign_report(s.campaign.id, actor=actor, start=START, end=END)
            received = live_complaints(actor.region.path, START, END)
            assert tuple(report.complaints.values()) == tuple(received), role
            routes = dict(db.session.execute(
                sa.select(MedicalDispute.route, sa.func.count())
                .join(Institution, Institution.id == MedicalDispute.institution_id)
                .join(Region, Region.id == Institution.region_id)
                .where(Region.path.startswith(actor.region.path),
                       MedicalDispute.occurred_on >= START, MedicalDispute.occurred_on <= END)
                .group_by(MedicalDispute.route)).all())
            assert {r[0]: r[2] for r in report.disputes} == {
                r: routes.get(r, 0) for r in ("negotiation", "mediation", "litigation")}
            charts = campaign_charts(actor, s.campaign.id, START, END, [s.campaign])
            monthly = charts.get("complaints").datasets[0].data
            assert sum(monthly) == received[0] > 0
    # The district's figures are a part of the city's.
    with app.test_request_context():
        city = campaign_report(s.campaign.id, actor=users["coordinator"], start=START, end=END)
        county = campaign_report(s.campaign.id, actor=users["district_coordinator"],
                                 start=START, end=END)
    assert 0 < county.complaints["received"] < city.complaints["received"]


def test_every_commit_keeps_the_tallies(world, db, users, app):
    s = build(world, db)
    random_rows(world, db, random.Random(3), 20)
    before = db.session.execute(sa.select(ComplaintDayTally.__table__)).all()
    # Rolled back: as they were.
    complaint = db.session.scalars(sa.select(Complaint).where(
        Complaint.institution_id == world.hospital.id)).first()
    complaint.institution_id = world.far_hospital.id
    db.session.flush()
    db.session.rollback()
    assert db.session.execute(sa.select(ComplaintDayTally.__table__)).all() == before
    # A complaint linked to an institution of another region, and another received
    # later: both regions' tallies follow.
    complaint = db.session.get(Complaint, complaint.id)
    complaint.institution_id = world.far_hospital.id
    complaint.received_on = date(2021, 9, 9)
    make_complaint(db, world.clinic, received_on=date(2021, 9, 9), outcome="substantiated",
                   state="concluded", handler=world.users["inspector"])
    assert tallies.check() == []
    # A dispute moved through the relationship (the column changes only in the flush).
    dispute = db.session.scalars(sa.select(MedicalDispute)).first()
    dispute.institution = world.far_hospital if dispute.institution_id != \
        world.far_hospital.id else world.hospital
    dispute.status, dispute.resolved_on = "resolved", dispute.occurred_on
    db.session.commit()
    assert tallies.check() == []
    # A finding's order verified and closed: rectified counts it.
    linked = sa.select(order_finding.c.finding_id)
    finding = db.session.scalars(sa.select(Finding).where(Finding.case_id == s.h1.id)
                                 .join(Inspection).where(Inspection.finalised_at.is_not(None))
                                 .where(Finding.id.not_in(linked))).first()
    order = make_order(db, s.h1, world.users["inspector"], state="submitted", commit=False)
    order.findings.append(finding)
    db.session.commit()
    rectified = sa.select(sa.func.sum(FindingDayTally.rectified))
    was = db.session.scalar(rectified)
    order.state = "closed"
    db.session.commit()
    assert db.session.scalar(rectified) == was + 1
    assert tallies.check() == []
    # An inspection finalised later, a finding deleted: the days follow.
    inspection = db.session.get(Inspection, finding.inspection_id)
    inspection.finalised_at = datetime(2021, 11, 30, 17, tzinfo=UTC)  # 12-01 in Beijing
    db.session.commit()
    assert tallies.check() == []
    assert date(2021, 12, 1) in set(db.session.scalars(sa.select(FindingDayTally.day)))
    # An institution moved to another region: both regions whole.
    other = make_institution(db, "640500000009", "新区医院", region=world.city)
    make_complaint(db, other, received_on=date(2021, 8, 8))
    other.region_id = world.district.id
    db.session.commit()
    assert tallies.check() == []


def test_the_cli_checks_and_rebuilds_the_tallies(world, db, runner):
    build(world, db)
    random_rows(world, db, random.Random(5), 10)
    db.session.execute(sa.update(ComplaintDayTally).values(received=ComplaintDayTally.received + 1))
    db.session.execute(sa.delete(FindingDayTally))
    db.session.commit()
    result = runner.invoke(args=["facts", "check"])
    assert result.exit_code == 1
    assert "complaint_day_tally" in result.output and "finding_day_tally" in result.output
    result = runner.invoke(args=["facts", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "finding_day_tally rebuilt" in result.output
    db.session.expire_all()
    assert tallies.check() == []
    assert runner.invoke(args=["facts", "check"]).exit_code == 0
