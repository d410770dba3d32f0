"""The phase sweep (cases move with the campaign's phase dates; blocked ones reported and
notified, never forced) and the bulletin sweep (a draft per finished period)."""

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from factories import (
    add_cadence,
    add_findings,
    local,
    make_order,
    reads,
    sent,
    state_of,
    trail,
    updates,
)

from casework.bulletins import sweeps as bulletin_sweeps
from casework.bulletins.models import Bulletin
from casework.campaigns.models import CampaignPhase, ReportingCadence
from casework.cases import sweeps
from casework.cases.models import InspectionCase
from casework.complaints.models import CATEGORIES
from casework.demo.services import advance_to_phase
from casework.institutions.models import Institution
from casework.notifications.models import Notification

FINALISED = datetime(2021, 1, 1, tzinfo=UTC)   # before every inspection below
RECTIFICATION = date(2021, 6, 1)     # World.make_campaign's phase dates
CONSOLIDATION = date(2022, 12, 1)


@pytest.fixture
def campaign(db, world):
    return world.make_campaign(db)


@pytest.fixture
def cases(db, world, campaign):
    return {name: world.make_case(db, institution=getattr(world, name), campaign=campaign)
            for name in ("hospital", "clinic", "far_hospital")}


def states(db, cases):
    return {name: state_of(db, InspectionCase, case.id) for name, case in cases.items()}


# --- phases ----------------------------------------------------------------------------

def test_cases_move_to_rectification_on_the_phase_date_local_time(db, cases):
    assert sweeps.phase_changes(local(date(2021, 5, 31), 23, 59))["moved"] == {}
    # 00:30 on 1 June in Shanghai is 31 May in UTC.
    summary = sweeps.phase_changes(local(RECTIFICATION, 0, 30))
    assert summary == {"today": "2021-06-01", "moved": {"start_rectification": 3},
                       "blocked": 0, "blocked_cases": []}
    assert set(states(db, cases).values()) == {"rectification"}
    assert trail(db, "case", cases["clinic"].id) == [
        ("start_rectification", "rectification", "system")]
    again = sweeps.phase_changes(local(date(2021, 6, 2)))
    assert again["moved"] == {} and len(trail(db, "case", cases["clinic"].id)) == 1


def test_consolidation_blocked_by_an_overdue_order_is_reported_not_forced(
        db, world, users, cases):
    sweeps.phase_changes(local(RECTIFICATION))
    overdue = make_order(db, cases["far_hospital"], users["inspector"],
                         deadline=date(2022, 11, 1), issued_on=date(2022, 10, 1),
                         number="〔2022〕007号", state="overdue")
    cases["clinic"].state = "tackling"   # a lagging unit: not the scheduler's to move
    db.session.commit()
    summary = sweeps.phase_changes(local(CONSOLIDATION))
    case_id = cases["far_hospital"].id
    assert summary["moved"] == {"start_consolidation": 1}
    assert summary["blocked"] == 1
    assert summary["blocked_cases"] == [{
        "campaign": "test-campaign", "case_id": case_id, "institution": "中宁县人民医院",
        "trigger": "start_consolidation",
        "reasons": ["Orders overdue or escalated: 〔2022〕007号."]}]
    assert states(db, cases) == {"hospital": "consolidation", "clinic": "tackling",
                                 "far_hospital": "rectification"}
    key = f"case:{case_id}:blocked:start_consolidation:2022-12-01"
    # The coordinators over the institution: the city's and the county's.
    assert sent(db) == {("coord", key), ("far-coord", key)}
    note = db.session.scalar(sa.select(Notification).limit(1))
    assert (note.kind, note.link) == ("case_phase_blocked", f"/cases/{case_id}")
    assert note.params == {"campaign": {"zh_CN": "测试专项行动", "en": "Test campaign"},
                           "institution": "中宁县人民医院", "trigger": "start_consolidation",
                           "phase_start": "2022-12-01",
                           "reasons": [{"template": "Orders overdue or escalated: %(orders)s.",
                                        "params": {"orders": "〔2022〕007号"}}]}
    # ...which the inbox shows in the reader's language (zh_CN by default).
    from casework.notifications.kinds import render_in

    assert "以下整改通知已逾期或已升级督办：〔2022〕007号。" in render_in("zh_CN", note.kind, note.params).text
    # Still blocked the next day: reported again, notified once.
    assert sweeps.phase_changes(local(date(2022, 12, 2)))["blocked"] == 1
    assert len(sent(db)) == 2
    # Once the order is dealt with, the next run moves the case.
    overdue.state = "closed"
    db.session.commit()
    summary = sweeps.phase_changes(local(date(2022, 12, 3)))
    assert (summary["moved"], summary["blocked"]) == ({"start_consolidation": 1}, 0)
    assert state_of(db, InspectionCase, case_id) == "consolidation"


def test_a_catch_up_run_moves_through_every_phase_passed(db, cases):
    summary = sweeps.phase_changes(local(date(2022, 12, 20)))
    assert summary["moved"] == {"start_rectification": 3, "start_consolidation": 3}
    assert set(states(db, cases).values()) == {"consolidation"}
    assert [h[0] for h in trail(db, "case", cases["hospital"].id)] == [
        "start_rectification", "start_consolidation"]


def test_an_evaluation_phase_starts_consolidation(db, world):
    campaign = world.make_campaign(db, code="yubei-like", starts_on=date(2023, 11, 1),
                                   ends_on=date(2025, 12, 31))
    campaign.phases = [
        CampaignPhase(position=0, kind="rectification", name="启动实施阶段",
                      starts_on=date(2023, 11, 1), ends_on=date(2025, 6, 30)),
        CampaignPhase(position=1, kind="evaluation", name="评估总结",
                      starts_on=date(2025, 7, 1), ends_on=date(2025, 8, 31)),
    ]
    db.session.commit()
    case = world.make_case(db, campaign=campaign)
    assert sweeps.phase_changes(local(date(2025, 6, 30)))["moved"] == {"start_rectification": 1}
    assert sweeps.phase_changes(local(date(2025, 7, 1)))["moved"] == {"start_consolidation": 1}
    assert state_of(db, InspectionCase, case.id) == "consolidation"


def test_demo_advance_to_phase_is_the_phase_sweep(db, cases, campaign):
    assert advance_to_phase(campaign, date(2021, 6, 1)) == 3
    assert advance_to_phase(campaign, date(2021, 6, 1)) == 0
    assert set(states(db, cases).values()) == {"rectification"}


def test_phase_query_count_does_not_grow_with_the_cases(db, world, count_queries):
    counts = []
    for n in (5, 50):
        campaign = world.make_campaign(db, code=f"c{n}")
        institutions = [Institution(code=f"X{n}-{i}", name=f"医院{i}", type="general_hospital",
                                    level="secondary", ownership="public",
                                    region=world.district) for i in range(n)]
        db.session.add_all(institutions)
        db.session.add_all(InspectionCase(campaign=campaign, institution=inst)
                           for inst in institutions)
        db.session.commit()
        db.session.expire_all()
        with count_queries() as statements:
            summary = sweeps.phase_changes(local(RECTIFICATION))
        assert summary["moved"] == {"start_rectification": n}
        assert updates(statements, "inspection_case") == 1   # one for the chunk
        counts.append(reads(statements))
        db.session.execute(sa.delete(CampaignPhase))   # one campaign with phases per round
        db.session.commit()
    assert counts[0] == counts[1]


# --- bulletins -------------------------------------------------------------------------

@pytest.fixture
def bulletin_campaign(db, campaign):
    return add_cadence(db, campaign, "bulletin", "half_yearly", levels=["tertiary", "secondary"])


def bulletins(db):
    return {(b.period_start, b.period_end): b for b in db.session.scalars(sa.select(Bulletin))}


def test_a_draft_for_the_half_year_the_day_after_it_ends(db, world, users, cases,
                                                         bulletin_campaign):
    inspector = users["inspector"]
    add_findings(db, cases["hospital"], inspector, 2,
                 inspected_on=date(2021, 5, 10), finalised_at=FINALISED)
    add_findings(db, cases["hospital"], inspector, 1,
                 inspected_on=date(2021, 6, 20), finalised_at=FINALISED, final=False)  # draft
    add_findings(db, cases["hospital"], inspector, 4,
                 inspected_on=date(2021, 7, 2), finalised_at=FINALISED)   # next half-year
    add_findings(db, cases["far_hospital"], inspector, 1,
                 inspected_on=date(2021, 6, 30), finalised_at=FINALISED)
    add_findings(db, cases["clinic"], inspector, 3,
                 inspected_on=date(2021, 5, 1), finalised_at=FINALISED)   # ungraded: not listed
    make_order(db, cases["hospital"], inspector, deadline=date(2021, 6, 10),
               issued_on=date(2021, 5, 11), number="A", state="escalated")
    make_order(db, cases["hospital"], inspector, deadline=date(2021, 7, 10),
               issued_on=date(2021, 6, 10), number="B", state="acknowledged")
    make_order(db, cases["far_hospital"], inspector, deadline=date(2021, 8, 10),
               issued_on=date(2021, 7, 10), number="C")

    assert bulletin_sweeps.bulletins(local(date(2021, 6, 30), 23))["drafted"] == []
    summary = bulletin_sweeps.bulletins(local(date(2021, 7, 1), 0, 30))
    assert summary == {"today": "2021-07-01",
                       "drafted": [{"campaign": "test-campaign", "period": "2021-H1"}],
                       "notifications": 2}
    (bulletin,) = bulletins(db).values()
    assert (bulletin.period_start, bulletin.period_end, bulletin.state) == (
        date(2021, 4, 1), date(2021, 6, 30), "draft")
    hospital, far = world.hospital, world.far_hospital
    no_complaints = {"by_category": dict.fromkeys(CATEGORIES, 0),
                     "by_outcome": dict.fromkeys(bulletin_sweeps.OUTCOMES, 0)}
    no_disputes = dict.fromkeys(("negotiation", "mediation", "litigation"), 0)
    quiet = {"complaints": 0, "complaints_by_category": no_complaints["by_category"],
             "complaints_by_outcome": no_complaints["by_outcome"], "disputes": 0,
             "disputes_by_route": no_disputes, "visits": None, "rate_per_10k": None,
             # Neither has visits recorded: ranked by count, 0 and 0 share the first rank.
             "rank": 1, "interview": False}
    assert bulletin.figures == {
        "period": {"start": "2021-04-01", "end": "2021-06-30", "label": "2021-H1"},
        "levels": ["tertiary", "secondary"],
        "institutions": [
            {"id": hospital.id, "code": "H1", "name": "中卫市人民医院", "level": "tertiary",
             "findings": 2, "orders": 2, "orders_overdue": 1, **quiet},
            {"id": far.id, "code": "H2", "name": "中宁县人民医院", "level": "secondary",
             "findings": 1, "orders": 0, "orders_overdue": 0, **quiet},
        ],
        "totals": {"findings": 3, "orders": 2, "orders_overdue": 1, "complaints": 0,
                   "disputes": 0, "complaints_by_category": no_complaints["by_category"],
                   "complaints_by_outcome": no_complaints["by_outcome"],
                   "disputes_by_route": no_disputes, "visits": None, "rate_per_10k": None,
                   "interview": 0},
        "threshold": {"rate": 5, "count": 5},
    }
    # The coordinators whose region overlaps the campaign's (the city's, the county's).
    key = f"bulletin:{bulletin.id}:draft"
    assert sent(db) == {("coord", key), ("far-coord", key)}
    note = db.session.scalar(sa.select(Notification).limit(1))
    assert (note.kind, note.link) == ("bulletin_draft", f"/bulletins/{bulletin.id}")
    assert note.params == {"campaign": {"zh_CN": "测试专项行动", "en": "Test campaign"},
                           "period_start": "2021-04-01", "period_end": "2021-06-30",
                           "label": "2021-H1"}
    # Idempotent.
    assert bulletin_sweeps.bulletins(local(date(2021, 7, 2)))["drafted"] == []
    assert len(bulletins(db)) == 1 and len(sent(db)) == 2


def test_a_catch_up_drafts_every_finished_period_once(db, cases, bulletin_campaign):
    summary = bulletin_sweeps.bulletins(local(date(2022, 8, 1)))
    assert [d["period"] for d in summary["drafted"]] == ["2021-H1", "2021-H2", "2022-H1"]
    assert sorted(bulletins(db)) == [(date(2021, 4, 1), date(2021, 6, 30)),
                                     (date(2021, 7, 1), date(2021, 12, 31)),
                                     (date(2022, 1, 1), date(2022, 6, 30))]
    assert bulletin_sweeps.bulletins(local(date(2022, 8, 2)))["drafted"] == []
    # The last half-year ends with the campaign: drafted on 1 January 2023, then nothing.
    assert [d["period"] for d in bulletin_sweeps.bulletins(local(date(2023, 1, 1)))["drafted"]] \
        == ["2022-H2"]
    assert bulletin_sweeps.bulletins(local(date(2023, 7, 1)))["drafted"] == []
    assert len(bulletins(db)) == 4


def test_quarterly_bulletins_all_levels(db, world, campaign):
    add_cadence(db, campaign, "bulletin", "quarterly")
    world.make_case(db, institution=world.clinic, campaign=campaign)
    summary = bulletin_sweeps.bulletins(local(date(2021, 10, 1)))
    assert [d["period"] for d in summary["drafted"]] == ["2021-Q2", "2021-Q3"]
    figures = [b.figures for b in bulletins(db).values()]
    assert {i["code"] for f in figures for i in f["institutions"]} == {"C1"}
    assert all(f["levels"] is None for f in figures)


def test_bulletin_query_count_does_not_grow_with_the_institutions(db, world, users,
                                                                  count_queries):
    counts = []
    for n in (5, 50):
        campaign = add_cadence(db, world.make_campaign(db, code=f"c{n}"), "bulletin",
                               "half_yearly")
        institutions = [Institution(code=f"X{n}-{i}", name=f"医院{i}", type="general_hospital",
                                    level="secondary", ownership="public",
                                    region=world.district) for i in range(n)]
        db.session.add_all(institutions)
        cases = [InspectionCase(campaign=campaign, institution=inst) for inst in institutions]
        db.session.add_all(cases)
        db.session.commit()
        for case in cases:
            make_order(db, case, users["inspector"], deadline=date(2021, 6, 1),
                       issued_on=date(2021, 5, 1), number=f"N{case.id}")
        db.session.expire_all()
        with count_queries() as statements:
            summary = bulletin_sweeps.bulletins(local(date(2021, 7, 1)))
        assert len(summary["drafted"]) == 1
        counts.append(reads(statements))
        (figures,) = db.session.scalars(sa.select(Bulletin.figures).where(
            Bulletin.campaign_id == campaign.id))
        assert figures["totals"]["orders"] == n
        db.session.execute(sa.delete(Notification))
        db.session.execute(sa.delete(Bulletin))
        db.session.execute(sa.update(InspectionCase).values(state="closed", final_summary="x"))
        db.session.execute(sa.delete(ReportingCadence))
        db.session.commit()
    assert counts[0] == counts[1]
