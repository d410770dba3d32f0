"""The live demo campaign: the Zhongwei plan moved to 2026, its first months told through
the real services on the days they happened, then swept to today."""

from datetime import date

import sqlalchemy as sa

from casework.bulletins.models import Bulletin
from casework.campaigns.models import Campaign
from casework.cases.models import InspectionCase
from casework.complaints.models import Complaint
from casework.demo.story import CODE, live_definition
from casework.history.models import HistoryEvent
from casework.institutions.models import StaffMember
from casework.orders.models import ExtensionRequest, RectificationOrder
from casework.oversight.models import Interview
from casework.points.models import PointsEntry
from casework.reports.models import ProgressReport


def _live(db):
    return db.session.scalar(sa.select(Campaign).where(Campaign.code == CODE))


def _orders(db):
    return {o.number[-5:-1]: o for o in db.session.scalars(sa.select(RectificationOrder))}


def test_the_live_campaign_is_the_zhongwei_plan_moved_to_2026():
    plan = live_definition()
    assert plan.code == CODE and "演示" in plan.title
    assert (plan.starts_on.isoformat(), plan.ends_on.isoformat()) == ("2026-06-01",
                                                                        "2028-02-29")
    phases = {p.kind: (p.starts_on.isoformat(), p.ends_on.isoformat()) for p in plan.phases}
    assert phases["mobilisation"] == ("2026-06-01", "2026-07-31")
    assert phases["rectification"] == ("2026-07-01", "2027-12-31")
    assert phases["consolidation"] == ("2028-02-01", "2028-02-29")
    assert {c.kind: c.frequency for c in plan.cadences}["bulletin"] == "quarterly"


def test_on_the_25th_of_november_the_demo_has_work_in_every_state(runner, db, clock):
    clock("2026-11-25T09:00:00+08:00")
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "zhongwei-2026-demo: 22 new case(s)" in result.output

    orders = _orders(db)
    assert {n: o.state for n, o in orders.items()} == {
        "0001": "closed",       # submitted 5 Aug, verified 7 Aug: on time
        "0002": "escalated",    # returned twice, past its 15 Sep deadline, 5 days more
        "0003": "escalated",    # an extension asked for and not yet decided
        "0004": "cancelled",    # never acknowledged: escalated, then superseded by 0007
        "0005": "escalated",    # deadline 11 Nov + 5 days
        "0006": "issued",       # deadline 8 Dec
        "0007": "issued",       # the follow-up order of the interview held on 24 Nov
    }
    interview = db.session.scalar(sa.select(Interview))
    assert (interview.state, interview.held_on.isoformat()) == ("held", "2026-11-24")
    assert interview.follow_up_order_id == orders["0007"].id
    returns = db.session.scalar(sa.select(sa.func.count(HistoryEvent.id)).where(
        HistoryEvent.object_type == "order", HistoryEvent.object_id == orders["0002"].id,
        HistoryEvent.trigger == "return"))
    assert returns == 2
    assert db.session.scalar(sa.select(ExtensionRequest.status).where(
        ExtensionRequest.order_id == orders["0003"].id)) == "pending"
    # Each step was done on its day, by the scheduler or the user who did it.
    verified = db.session.scalar(sa.select(HistoryEvent).where(
        HistoryEvent.object_type == "order", HistoryEvent.object_id == orders["0001"].id,
        HistoryEvent.trigger == "verify"))
    assert verified.actor_role == "inspector" and verified.at.date().isoformat() == "2026-08-07"

    states = dict(db.session.execute(
        sa.select(Complaint.state, sa.func.count()).group_by(Complaint.state)).all())
    assert states == {"closed": 2, "replied": 1, "concluded": 1, "investigating": 1,
                      "assigned": 1, "received": 3}
    # The red-envelope complaint, linked to 李明 and concluded substantiated on 30 July,
    # gave points by the demo rule (3 to the hospital, 6 to him) in the same step.
    awards = db.session.execute(
        sa.select(PointsEntry.points, StaffMember.name, PointsEntry.awarded_on)
        .outerjoin(StaffMember, StaffMember.id == PointsEntry.staff_id)
        .join(Complaint, Complaint.id == PointsEntry.complaint_id)
        .where(Complaint.category == "red_envelope")).all()
    assert sorted((p, n, a.isoformat()) for p, n, a in awards) == [
        (3, None, "2026-07-30"), (6, "李明", "2026-07-30")]
    live = _live(db)
    reports = db.session.execute(
        sa.select(ProgressReport.period_end, ProgressReport.state, sa.func.count())
        .join(InspectionCase, InspectionCase.id == ProgressReport.case_id)
        .where(InspectionCase.campaign_id == live.id)
        .group_by(ProgressReport.period_end, ProgressReport.state)).all()
    counts = {(end.isoformat(), state): n for end, state, n in reports}
    assert counts[("2026-09-30", "overdue")] == 20
    assert counts[("2026-09-30", "accepted")] == 1 and counts[("2026-09-30", "submitted")] == 1
    assert counts[("2026-12-31", "pending")] == 22

    # The third quarter's bulletin counts the complaints of July to September.
    bulletin = db.session.scalar(sa.select(Bulletin).where(
        Bulletin.campaign_id == live.id, Bulletin.period_start == date(2026, 7, 1)))
    rows = {r["code"]: r for r in bulletin.figures["institutions"]}
    assert rows["ZW-001"]["complaints"] == 2 and rows["ZW-002"]["complaints"] == 1

    # Told once: loading the demo again adds nothing.
    before = db.session.scalar(sa.select(sa.func.count(HistoryEvent.id)))
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert db.session.scalar(sa.select(sa.func.count(HistoryEvent.id))) == before


def test_the_story_stops_at_today(runner, db, clock):
    clock("2026-08-01T09:00:00+08:00")
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    orders = _orders(db)
    # Only the July inspection's two orders, acknowledged; nothing from August on.
    assert {n: o.state for n, o in orders.items()} == {"0001": "acknowledged",
                                                       "0002": "acknowledged"}
    states = dict(db.session.execute(
        sa.select(Complaint.state, sa.func.count()).group_by(Complaint.state)).all())
    assert states == {"closed": 1, "concluded": 1}


def test_before_june_2026_there_is_no_live_campaign(runner, db, clock):
    clock("2026-05-01T09:00:00+08:00")
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0 and "nothing to tell yet" in result.output
    assert _live(db) is None
