"""Staff, rules, ledger and overview pages: who sees what (other institution → 404),
Chinese messages on bad input (422), struck-through reversals, the veto line, queries."""

from datetime import date

import pytest
import sqlalchemy as sa
from factories import csrf_token, unchanged

from casework.institutions.models import StaffMember
from casework.oversight.models import VetoFlag
from casework.points import services
from casework.points.models import PointsEntry, PointsRule


def member(db, institution, name="李医生"):
    m = StaffMember(institution_id=institution.id, name=name, department="外科")
    db.session.add(m)
    db.session.commit()
    return m


# --- staff ----------------------------------------------------------------------------

@pytest.mark.parametrize("role,status", [("coordinator", 200), ("inspector", 200),
                                         ("viewer", 200), ("institution", 200),
                                         ("other_institution", 404), ("admin", 404),
                                         ("district_coordinator", 404)])
def test_staff_list_visibility(client, login, world, db, role, status):
    member(db, world.hospital)
    login.as_(role)
    response = client.get(f"/institutions/{world.hospital.id}/staff")
    assert response.status_code == status
    if status == 200:
        html = response.get_data(as_text=True)
        assert "李医生" in html
        editable = role in ("coordinator", "inspector")
        assert ('data-testid="add-staff"' in html) is editable


def test_staff_add_and_edit(client, login, world, db):
    login.as_("inspector")
    path = f"/institutions/{world.hospital.id}/staff/new"
    token = csrf_token(client, path)
    bad = client.post(path, data={"csrf_token": token, "name": " ", "department": "外科"})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "请填写医务人员姓名。" in html and 'value="外科"' in html
    assert client.post(path, data={"csrf_token": token, "name": "王医生", "department": "内科",
                                   "licence_number": "110", "active": "y"}).status_code == 302
    m = db.session.scalars(sa.select(StaffMember)).one()
    assert (m.name, m.department, m.licence_number, m.active) == ("王医生", "内科", "110", True)
    response = client.post(f"/staff/{m.id}/edit", data={"csrf_token": token, "name": "王医生",
                                                       "department": "内科"})
    assert response.status_code == 302
    db.session.expire_all()
    assert not db.session.get(StaffMember, m.id).active


@pytest.mark.parametrize("role,status", [("viewer", 403), ("institution", 403),
                                         ("other_institution", 404)])
def test_staff_edit_refused(client, login, world, db, role, status):
    m = member(db, world.hospital)
    login.as_(role)
    assert client.get(f"/staff/{m.id}/edit").status_code == status
    assert client.get(f"/institutions/{world.hospital.id}/staff/new").status_code == status


# --- rules ----------------------------------------------------------------------------

def test_rules_page_add_edit_deactivate(client, login, world, db):
    login.as_("coordinator")
    token = csrf_token(client, "/points/rules/new")
    bad = client.post("/points/rules/new", data={
        "csrf_token": token, "source": "complaint", "category": "red_envelope",
        "institution_points": "abc", "staff_points": "2", "description": ""})
    assert bad.status_code == 422
    assert "请输入整数。" in bad.get_data(as_text=True)
    assert client.post("/points/rules/new", data={
        "csrf_token": token, "source": "complaint", "category": "red_envelope",
        "institution_points": "3", "staff_points": "6",
        "description": "收受红包"}).status_code == 302
    rule = db.session.scalars(sa.select(PointsRule)).one()
    html = client.get("/points/rules").get_data(as_text=True)
    assert "收受红包" in html and "红包" in html
    assert client.post(f"/points/rules/{rule.id}/edit", data={
        "csrf_token": token, "source": "finding", "category": "KT1",
        "institution_points": "2", "staff_points": "0", "description": "发现问题",
        "active": "y"}).status_code == 302
    assert client.post(f"/points/rules/{rule.id}/active",
                       data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    rule = db.session.get(PointsRule, rule.id)
    assert (rule.source, rule.category, rule.active) == ("finding", "KT1", False)


@pytest.mark.parametrize("role,view,manage", [
    ("inspector", 200, 403), ("viewer", 200, 403), ("district_coordinator", 200, 403),
    ("institution", 403, 403), ("admin", 403, 403)])
def test_rules_pages_by_role(client, login, world, db, users, role, view, manage):
    rule = services.add_rule(services.RuleInput("complaint", None, 1, 0, "任何"),
                             actor=users["coordinator"])
    login.as_(role)
    response = client.get("/points/rules")
    assert response.status_code == view
    if view == 200:
        assert 'data-testid="add-rule"' not in response.get_data(as_text=True)
    assert client.get("/points/rules/new").status_code == manage
    assert client.get(f"/points/rules/{rule.id}/edit").status_code == manage


# --- ledger ---------------------------------------------------------------------------

def test_ledger_award_reverse_and_strike_through(client, login, world, db, users, clock):
    clock("2026-04-01T10:00:00+08:00")
    m = member(db, world.hospital)
    login.as_("coordinator")
    path = f"/points/institutions/{world.hospital.id}"
    token = csrf_token(client, path)
    bad = client.post(f"{path}/award", data={"csrf_token": token, "points": "x",
                                             "reason": ""})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "请输入整数。" in html and "请填写记分理由。" in html
    assert client.post(f"{path}/award", data={"csrf_token": token, "points": "4",
                                              "reason": "拒不整改"}).status_code == 302
    assert client.post(f"{path}/award", data={"csrf_token": token, "points": "2",
                                              "reason": "收红包", "staff_id": m.id}
                       ).status_code == 302
    entry = db.session.scalars(sa.select(PointsEntry).where(PointsEntry.staff_id.is_(None))).one()
    no_reason = client.post(f"/points/entries/{entry.id}/reverse",
                            data={"csrf_token": token, "reason": ""})
    assert no_reason.status_code == 422
    assert "请填写冲销理由。" in no_reason.get_data(as_text=True)
    assert client.post(f"/points/entries/{entry.id}/reverse",
                       data={"csrf_token": token, "reason": "复核有误"}).status_code == 302
    with unchanged(db, entry, "points_entry"):
        again = client.post(f"/points/entries/{entry.id}/reverse",
                            data={"csrf_token": token, "reason": "再来"})
    assert again.status_code == 409
    html = client.get(path).get_data(as_text=True)
    assert f'data-entry="{entry.id}" data-reversed="1"' in html
    assert "points-reversed" in html and "复核有误" in html
    assert 'data-testid="institution-total">0<' in html
    assert "李医生: <strong>2</strong>" in html
    assert 'data-trigger="reverse"' in html


@pytest.mark.parametrize("role,status,award", [
    ("coordinator", 200, True), ("inspector", 200, False), ("viewer", 200, False),
    ("institution", 200, False), ("other_institution", 404, False), ("admin", 404, False),
    ("district_coordinator", 404, False)])
def test_ledger_by_role(client, login, world, db, users, role, status, award):
    entry = services.award_manually(world.hospital.id, actor=users["coordinator"], points=3,
                                    reason="拒不整改")
    login.as_(role)
    response = client.get(f"/points/institutions/{world.hospital.id}")
    assert response.status_code == status
    if status == 200:
        html = response.get_data(as_text=True)
        assert "拒不整改" in html
        assert ('id="form-award"' in html) is award
        assert ('data-testid="reverse-entry"' in html) is award
    if not award:
        token = csrf_token(client, "/dashboard")
        refused = client.post(f"/points/entries/{entry.id}/reverse",
                              data={"csrf_token": token, "reason": "x"})
        assert refused.status_code == (404 if status == 404 else 403)
        refused = client.post(f"/points/institutions/{world.hospital.id}/award",
                              data={"csrf_token": token, "points": "1", "reason": "x"})
        assert refused.status_code == (404 if status == 404 else 403)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PointsEntry)) == 1


def test_institution_menu_goes_to_its_own_ledger(client, login, world, db):
    login.as_("institution")
    response = client.get("/points/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/points/institutions/{world.hospital.id}")


def test_veto_line_on_the_ledger(client, login, world, db, clock):
    clock("2026-04-01T10:00:00+08:00")
    db.session.add_all([
        VetoFlag(institution_id=world.hospital.id, year=2026, reason="重大医疗事故",
                 decided_on=date(2026, 3, 1)),
        VetoFlag(institution_id=world.hospital.id, year=2025, reason="旧事",
                 decided_on=date(2025, 3, 1), revoked_reason="撤销",
                 revoked_at=sa.func.now())])
    db.session.commit()
    login.as_("institution")
    html = client.get(f"/points/institutions/{world.hospital.id}").get_data(as_text=True)
    assert "2026 年度一票否决" in html
    html = client.get(f"/points/institutions/{world.hospital.id}?year=2025").get_data(
        as_text=True)
    assert 'data-testid="veto"' not in html


def test_ledger_queries_do_not_grow_with_entries(client, login, world, db, users,
                                                 count_queries):
    m = member(db, world.hospital)
    login.as_("coordinator")
    path = f"/points/institutions/{world.hospital.id}"
    for i in range(3):
        services.award_manually(world.hospital.id, actor=users["coordinator"], points=1,
                                reason=f"a{i}", staff_id=m.id if i % 2 else None)
    with count_queries() as few:
        assert client.get(path).status_code == 200
    for i in range(12):
        e = services.award_manually(world.hospital.id, actor=users["coordinator"], points=1,
                                    reason=f"b{i}", staff_id=m.id if i % 2 else None)
        if i % 3 == 0:
            services.reverse_entry(e.id, actor=users["coordinator"], reason="x")
    with count_queries() as many:
        assert client.get(path).status_code == 200
    assert len(many) == len(few)


# --- overview -------------------------------------------------------------------------

@pytest.mark.parametrize("role,status", [("coordinator", 200), ("inspector", 200),
                                         ("viewer", 200), ("admin", 403)])
def test_overview_by_role(client, login, world, db, users, role, status):
    login.as_(role)
    assert client.get("/points/").status_code == status


def test_overview_sorted_and_constant_queries(client, login, world, db, users,
                                              count_queries):
    services.award_manually(world.clinic.id, actor=users["coordinator"], points=7, reason="a")
    login.as_("coordinator")
    html = client.get("/points/?sort=institution").get_data(as_text=True)
    assert html.index(f'data-institution="{world.clinic.id}"') < html.index(
        f'data-institution="{world.hospital.id}"')
    assert client.get("/points/?sort=nonsense").status_code == 422
    with count_queries() as few:
        client.get("/points/")
    for i in range(5):
        from casework.institutions.models import Institution

        db.session.add(Institution(code=f"X{i}", name=f"诊所{i}", type="clinic",
                                   level="ungraded", ownership="private",
                                   region=world.district))
    db.session.commit()
    with count_queries() as many:
        html = client.get("/points/").get_data(as_text=True)
    assert html.count('data-testid="overview-row"') == 8
    assert len(many) == len(few)
