"""Bad-conduct points: rules, automatic awards (complaints, findings) in the same commit
as their cause and once only, manual awards, reversals, totals, thresholds, overview."""

from datetime import date

import pytest
import sqlalchemy as sa
from factories import count, unchanged

from casework.complaints import services as complaints
from casework.errors import GuardFailed, Invalid, NotFound, NotPermitted, StaleObject
from casework.history.models import HistoryEvent
from casework.inspections import services as inspections
from casework.institutions.models import StaffMember
from casework.notifications.models import Notification
from casework.oversight.models import VetoFlag
from casework.points import services
from casework.points.models import PointsEntry, PointsRule
from casework.settings import services as settings


def rule(users, source="complaint", category="red_envelope", inst=3, staff=6, **kw):
    return services.add_rule(services.RuleInput(
        source=source, category=category, institution_points=inst, staff_points=staff,
        description=kw.pop("description", "收受红包")), actor=users["coordinator"], **kw)


def staff_member(db, institution, name="李医生"):
    member = StaffMember(institution_id=institution.id, name=name, department="外科")
    db.session.add(member)
    db.session.commit()
    return member


def complaint_for(users, world, db, *, category="red_envelope", staff=None):
    complaint = complaints.register_complaint(
        actor=users["coordinator"], channel="hotline", category=category,
        description="收红包", institution_id=world.hospital.id, anonymous=True)
    if staff is not None:
        complaint.staff_id = staff.id
        db.session.commit()
    return complaint


def conclude(complaint, users, outcome="substantiated"):
    coordinator = users["coordinator"]
    v = complaint.version
    complaints.fire_complaint(complaint.id, "assign", actor=coordinator,
                              version=v, handler_id=coordinator.id)
    complaints.fire_complaint(complaint.id, "investigate", actor=coordinator, version=v + 1)
    return complaints.fire_complaint(complaint.id, "conclude", actor=coordinator,
                                     version=v + 2, outcome=outcome, findings="属实")


def entries(db):
    return db.session.scalars(sa.select(PointsEntry).order_by(PointsEntry.id)).all()


# --- rules ----------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["inspector", "viewer", "institution", "admin",
                                  "district_coordinator"])
def test_only_city_coordinators_manage_rules(users, world, db, role):
    with unchanged(db, "points_rule"), pytest.raises(NotPermitted):
        rule({"coordinator": users[role]})
    assert count(db, PointsRule) == 0


def test_rule_validation_speaks_chinese(users, world, db):
    with pytest.raises(Invalid) as raised:
        services.add_rule(services.RuleInput(source="x", category="", institution_points="a",
                                             staff_points="-1", description=""),
                          actor=users["coordinator"])
    errors = raised.value.details["errors"]
    assert set(errors) == {"source", "institution_points", "staff_points", "description"}
    assert errors["institution_points"] == ["请输入整数。"]
    assert errors["description"] == ["请说明记分事由。"]
    with pytest.raises(Invalid) as raised:
        rule(users, category="no_such_category")
    assert raised.value.details["errors"]["category"] == ["请选择投诉类别，或留空表示任意类别。"]
    with pytest.raises(Invalid) as raised:
        rule(users, inst=0, staff=0)
    assert "institution_points" in raised.value.details["errors"]


def test_rule_edit_and_deactivate(users, world, db):
    r = rule(users)
    services.update_rule(r.id, services.RuleInput("complaint", "", 2, 0, "任何投诉"),
                         actor=users["coordinator"], active=True)
    assert (r.category, r.institution_points, r.staff_points) == (None, 2, 0)
    services.set_rule_active(r.id, False, actor=users["coordinator"])
    assert not db.session.get(PointsRule, r.id).active


# --- complaint awards -----------------------------------------------------------------

def test_substantiated_complaint_awards_institution_and_staff_once(users, world, db):
    member = staff_member(db, world.hospital)
    r1 = rule(users)                                   # red envelopes: 3 + 6
    r2 = rule(users, category=None, inst=1, staff=0)   # any complaint: 1
    rule(users, category="over_treatment", inst=5)     # does not match
    off = rule(users, category=None, inst=9)
    services.set_rule_active(off.id, False, actor=users["coordinator"])
    complaint = complaint_for(users, world, db, staff=member)
    conclude(complaint, users)
    got = {(e.rule_id, e.staff_id, e.points) for e in entries(db)}
    assert got == {(r1.id, None, 3), (r1.id, member.id, 6), (r2.id, None, 1)}
    assert all(e.complaint_id == complaint.id for e in entries(db))
    # Each award has its history event; the conclusion one too.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(HistoryEvent).where(
        HistoryEvent.object_type == "points_entry", HistoryEvent.trigger == "award")) == 3
    # Running the award again (e.g. on a later link) adds nothing.
    services.award_for_complaint(db.session.get(type(complaint), complaint.id),
                                 users["coordinator"])
    db.session.commit()
    assert len(entries(db)) == 3


def test_unsubstantiated_complaint_awards_nothing(users, world, db):
    rule(users)
    conclude(complaint_for(users, world, db), users, outcome="unsubstantiated")
    assert entries(db) == []


def test_award_failure_rolls_back_the_conclusion(users, world, db, monkeypatch):
    rule(users)
    complaint = complaint_for(users, world, db)

    def boom(*a, **k):
        raise RuntimeError("award failed")

    monkeypatch.setattr(services, "award_for_complaint", boom)
    with pytest.raises(RuntimeError):
        conclude(complaint, users)
    db.session.expire_all()
    from casework.complaints.models import Complaint

    assert db.session.get(Complaint, complaint.id).state == "investigating"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(HistoryEvent).where(
        HistoryEvent.trigger == "conclude")) == 0


def test_linking_after_conclusion_awards_what_was_missing(users, world, db):
    rule(users)
    member = staff_member(db, world.hospital)
    complaint = complaint_for(users, world, db)
    conclude(complaint, users)
    assert [(e.staff_id, e.points) for e in entries(db)] == [(None, 3)]
    complaints.link_complaint(complaint.id, complaints.LinkInput(
        institution_id=world.hospital.id, staff_id=member.id), actor=users["coordinator"],
        version=complaint.version)
    assert sorted((e.staff_id or 0, e.points) for e in entries(db)) == [(0, 3), (member.id, 6)]


# --- finding awards -------------------------------------------------------------------

def test_finalising_an_inspection_awards_matching_finding_rules_once(users, world, db):
    case = world.make_case(db)
    key_task = case.campaign.key_tasks[0]  # code KT1
    r = rule(users, source="finding", category="KT1", inst=2, staff=0)
    rule(users, source="finding", category="OTHER", inst=7, staff=0)
    inspector = users["inspector"]
    inspection = inspections.start_inspection(case.id, actor=inspector,
                                              inspected_on=date.today(), place="门诊")
    for text in ("红包一", "红包二"):
        inspections.record_finding(inspection.id, inspections.FindingInput(
            key_task_id=key_task.id, severity="moderate", description=text), actor=inspector)
    inspections.finalise_inspection(inspection.id, actor=inspector)
    inspections.finalise_inspection(inspection.id, actor=inspector)
    got = entries(db)
    assert [(e.rule_id, e.points, e.institution_id) for e in got] == [
        (r.id, 2, world.hospital.id)] * 2
    assert len({e.finding_id for e in got}) == 2


# --- manual awards, reversal, totals ---------------------------------------------------

def test_manual_award_and_reversal(users, world, db):
    coordinator = users["coordinator"]
    entry = services.award_manually(world.hospital.id, actor=coordinator, points=4,
                                    reason="拒不整改")
    reversal = services.reverse_entry(entry.id, actor=coordinator, reason="复核撤销")
    assert (reversal.points, reversal.reverses_id, reversal.reversal_reason) == (
        -4, entry.id, "复核撤销")
    with pytest.raises(GuardFailed):
        services.reverse_entry(entry.id, actor=coordinator, reason="再次")
    with pytest.raises(GuardFailed):
        services.reverse_entry(reversal.id, actor=coordinator, reason="反冲")
    triggers = db.session.scalars(sa.select(HistoryEvent.trigger).where(
        HistoryEvent.object_type == "points_entry", HistoryEvent.object_id == entry.id)
        .order_by(HistoryEvent.id)).all()
    assert triggers == ["award", "reverse"]
    assert services.ledger(world.hospital.id, coordinator).institution_total == 0


def test_a_manual_award_whose_notices_fail_writes_nothing(users, world, db, monkeypatch):
    def boom(entries):
        raise RuntimeError("notices failed")

    monkeypatch.setattr(services, "_threshold_notices", boom)
    with pytest.raises(RuntimeError, match="notices failed"):
        services.award_manually(world.hospital.id, actor=users["coordinator"], points=4,
                                reason="拒不整改")
    db.session.expire_all()
    assert entries(db) == []
    assert count(db, HistoryEvent) == 0


def test_a_reversal_raced_by_another_is_stale(users, world, db, monkeypatch):
    coordinator = users["coordinator"]
    entry = services.award_manually(world.hospital.id, actor=coordinator, points=4,
                                    reason="拒不整改")
    other = PointsEntry(institution_id=entry.institution_id, year=entry.year,
                        awarded_on=entry.awarded_on, points=-4, reason="x",
                        reverses_id=entry.id, reversal_reason="x")
    real = db.session.scalar

    def first_check_misses(query, *a, **k):
        # The "already reversed?" check runs before the other reversal commits.
        if "WHERE points_entry.reverses_id =" in str(query):
            db.session.add(other)
            db.session.commit()
            return None
        return real(query, *a, **k)

    monkeypatch.setattr(db.session, "scalar", first_check_misses)
    with pytest.raises(StaleObject):
        services.reverse_entry(entry.id, actor=coordinator, reason="复核撤销")
    monkeypatch.undo()
    assert count(db, PointsEntry) == 2


def test_manual_award_validation(users, world, db):
    other_staff = staff_member(db, world.far_hospital)
    with pytest.raises(Invalid) as raised:
        services.award_manually(world.hospital.id, actor=users["coordinator"], points="0",
                                reason=" ", staff_id=other_staff.id)
    errors = raised.value.details["errors"]
    assert errors == {"points": ["请输入 1 至 100 之间的数字。"], "reason": ["请填写记分理由。"],
                      "staff_id": ["请选择本机构的医务人员。"]}


@pytest.mark.parametrize("role,error", [("inspector", NotPermitted), ("viewer", NotPermitted),
                                        ("institution", NotPermitted), ("admin", NotFound),
                                        ("other_institution", NotFound),
                                        ("district_coordinator", NotFound)])
def test_manual_award_only_for_coordinators_in_jurisdiction(users, world, db, role, error):
    with pytest.raises(error):
        services.award_manually(world.hospital.id, actor=users[role], points=1, reason="x")


def test_totals_by_year_are_hand_computed(users, world, db, clock):
    coordinator = users["coordinator"]
    member = staff_member(db, world.hospital)
    clock("2025-06-01T10:00:00+08:00")
    services.award_manually(world.hospital.id, actor=coordinator, points=5, reason="a")
    clock("2026-03-01T10:00:00+08:00")
    a = services.award_manually(world.hospital.id, actor=coordinator, points=2, reason="b")
    services.award_manually(world.hospital.id, actor=coordinator, points=3, reason="c")
    services.award_manually(world.hospital.id, actor=coordinator, points=4, reason="d",
                            staff_id=member.id)
    services.reverse_entry(a.id, actor=coordinator, reason="错记")
    book = services.ledger(world.hospital.id, coordinator, year=2026)
    assert book.institution_total == 2 + 3 - 2
    assert book.staff_totals == [(member, 4)]
    assert book.reversed[a.id].points == -2
    assert services.ledger(world.hospital.id, coordinator, year=2025).institution_total == 5
    assert book.years == [2026, 2025]
    rows = {r.institution.id: r for r in services.overview(coordinator, year=2026)}
    assert (rows[world.hospital.id].institution_points, rows[world.hospital.id].staff_points,
            rows[world.hospital.id].total) == (3, 4, 7)
    assert rows[world.clinic.id].total == 0


def test_overview_is_scoped_sorted_and_one_query(users, world, db, count_queries):
    coordinator = users["coordinator"]
    services.award_manually(world.clinic.id, actor=coordinator, points=9, reason="a")
    services.award_manually(world.far_hospital.id, actor=coordinator, points=2, reason="b")
    ids = [r.institution.id for r in services.overview(coordinator, sort="institution")]
    assert ids[:2] == [world.clinic.id, world.far_hospital.id]
    district = [r.institution.id for r in services.overview(users["district_coordinator"])]
    assert district == [world.far_hospital.id]
    with count_queries() as statements:
        rows = services.overview(coordinator, sort="total")
        [r.institution.region.name for r in rows]
    assert len(statements) == 1
    with pytest.raises(Invalid):
        services.overview(coordinator, sort="drop table")
    for role in ("institution", "admin"):
        with pytest.raises(NotPermitted):
            services.overview(users[role])


def test_institutions_see_their_own_ledger_only(users, world, db):
    assert services.ledger(world.hospital.id, users["institution"]).institution.id == \
        world.hospital.id
    with pytest.raises(NotFound):
        services.ledger(world.hospital.id, users["other_institution"])
    with pytest.raises(NotFound):
        services.ledger(world.hospital.id, users["admin"])


def test_veto_shown_only_when_unrevoked_for_that_year(users, world, db):
    db.session.add(VetoFlag(institution_id=world.hospital.id, year=2026, reason="重大事故",
                            decided_on=date(2026, 2, 1)))
    db.session.commit()
    assert services.ledger(world.hospital.id, users["coordinator"], 2026).veto.reason == "重大事故"
    assert services.ledger(world.hospital.id, users["coordinator"], 2025).veto is None


# --- thresholds -----------------------------------------------------------------------

def test_threshold_notices_once_per_year(users, world, db, clock):
    clock("2026-05-01T10:00:00+08:00")
    settings.update({"points_threshold_institution": 5, "points_threshold_staff": 3},
                    actor=users["admin"])
    coordinator = users["coordinator"]
    member = staff_member(db, world.hospital)
    services.award_manually(world.hospital.id, actor=coordinator, points=4, reason="a")
    assert count(db, Notification) == 0
    services.award_manually(world.hospital.id, actor=coordinator, points=1, reason="b")
    services.award_manually(world.hospital.id, actor=coordinator, points=1, reason="c")
    services.award_manually(world.hospital.id, actor=coordinator, points=3, reason="d",
                            staff_id=member.id)
    rows = db.session.scalars(sa.select(Notification).order_by(Notification.id)).all()
    assert [(n.user_id, n.kind, n.key) for n in rows] == [
        (coordinator.id, "points_threshold_institution",
         f"points:{world.hospital.id}:2026:threshold"),
        (coordinator.id, "points_threshold_staff",
         f"points:{world.hospital.id}:2026:staff:{member.id}:threshold")]
    assert rows[0].params["total"] == 5 and rows[0].params["threshold"] == 5
    # Not the district coordinator of another district.
    assert users["district_coordinator"].id not in {n.user_id for n in rows}
