"""Linking a complaint to its institution, case, finding and staff member: who may,
consistency, stale versions, history; and the page's form."""

from datetime import date

import pytest
import sqlalchemy as sa
from factories import csrf_token, unchanged

from casework.complaints import services
from casework.complaints.models import Complaint, PersonalDataAccess
from casework.errors import Invalid, NotFound, NotPermitted, StaleObject
from casework.history.models import HistoryEvent
from casework.inspections import services as inspections
from casework.institutions.models import StaffMember

NAME, PHONE = "张三丰", "13812345678"


def public(db):
    return services.submit_public_complaint(category="red_envelope", description="收红包",
                                            institution_named="人民医院", name=NAME,
                                            phone=PHONE)


@pytest.fixture
def setting(world, db, users):
    case = world.make_case(db, state="rectification")
    inspector = users["inspector"]
    inspection = inspections.start_inspection(case.id, actor=inspector,
                                              inspected_on=date.today(), place="门诊")
    finding = inspections.record_finding(inspection.id, inspections.FindingInput(
        key_task_id=case.campaign.key_tasks[0].id, severity="moderate", description="红包"),
        actor=inspector)
    member = StaffMember(institution_id=world.hospital.id, name="李医生")
    stranger = StaffMember(institution_id=world.far_hospital.id, name="王医生")
    db.session.add_all([member, stranger])
    db.session.commit()
    return {"case": case, "finding": finding, "member": member, "stranger": stranger}


def test_coordinator_links_everything_and_history_records_old_and_new(world, db, users,
                                                                       setting):
    complaint = public(db)
    linked = services.link_complaint(complaint.id, services.LinkInput(
        institution_id=world.hospital.id, case_id=setting["case"].id,
        finding_id=setting["finding"].id, staff_id=setting["member"].id),
        actor=users["coordinator"], version=1)
    assert (linked.institution_id, linked.case_id, linked.finding_id, linked.staff_id) == (
        world.hospital.id, setting["case"].id, setting["finding"].id, setting["member"].id)
    assert linked.version == 2
    event = db.session.scalars(sa.select(HistoryEvent).where(
        HistoryEvent.object_type == "complaint", HistoryEvent.trigger == "linked")).one()
    assert event.data["old_institution_id"] is None
    assert event.data["new_staff_id"] == setting["member"].id
    # Linking never reads personal data.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PersonalDataAccess)) == 0


def test_new_staff_member_added_inline(world, db, users, setting):
    complaint = public(db)
    services.link_complaint(complaint.id, services.LinkInput(
        institution_id=world.hospital.id, new_staff_name="赵护士",
        new_staff_department="急诊科"), actor=users["coordinator"], version=1)
    member = db.session.scalars(sa.select(StaffMember).where(StaffMember.name == "赵护士")).one()
    assert member.institution_id == world.hospital.id and member.department == "急诊科"
    assert db.session.get(Complaint, complaint.id).staff_id == member.id


def test_inconsistent_links_are_refused_in_chinese(world, db, users, setting):
    complaint = public(db)
    other_case = world.make_case(db, institution=world.clinic,
                                 campaign=setting["case"].campaign)
    with pytest.raises(Invalid) as raised:
        services.link_complaint(complaint.id, services.LinkInput(
            institution_id=world.hospital.id, case_id=other_case.id,
            finding_id=setting["finding"].id, staff_id=setting["stranger"].id),
            actor=users["coordinator"], version=1)
    errors = raised.value.details["errors"]
    assert errors == {"case_id": ["请选择所关联机构的督查案件。"],
                      "finding_id": ["请选择所关联督查案件的发现问题。"],
                      "staff_id": ["请选择所关联机构的医务人员。"]}
    with pytest.raises(Invalid) as raised:
        services.link_complaint(complaint.id, services.LinkInput(
            staff_id=setting["member"].id, new_staff_name="x"),
            actor=users["coordinator"], version=1)
    assert "staff_id" in raised.value.details["errors"]
    with pytest.raises(Invalid) as raised:
        services.link_complaint(complaint.id, services.LinkInput(new_staff_name="x"),
                                actor=users["coordinator"], version=1)
    assert raised.value.details["errors"]["new_staff_name"] == ["请先关联机构，再新增其医务人员。"]
    assert db.session.get(Complaint, complaint.id).version == 1


def test_district_coordinator_cannot_link_outside(world, db, users, setting):
    complaint = services.register_complaint(
        actor=users["coordinator"], channel="hotline", category="other", description="x",
        institution_id=world.far_hospital.id, anonymous=True)
    with pytest.raises(Invalid) as raised:
        services.link_complaint(complaint.id, services.LinkInput(
            institution_id=world.hospital.id), actor=users["district_coordinator"], version=1)
    assert "institution_id" in raised.value.details["errors"]


def test_stale_version_is_refused(world, db, users, setting):
    complaint = public(db)
    with unchanged(db, complaint), pytest.raises(StaleObject):
        services.link_complaint(complaint.id, services.LinkInput(
            institution_id=world.hospital.id), actor=users["coordinator"], version=7)
    assert db.session.get(Complaint, complaint.id).institution_id is None


@pytest.mark.parametrize("role,error", [("inspector", NotPermitted), ("viewer", NotPermitted),
                                        ("institution", NotFound), ("admin", NotFound),
                                        ("other_institution", NotFound),
                                        ("district_coordinator", NotFound)])
def test_who_may_not_link(world, db, users, setting, role, error):
    complaint = public(db)
    with pytest.raises(error):
        services.link_complaint(complaint.id, services.LinkInput(
            institution_id=world.hospital.id), actor=users[role], version=1)


def test_the_handler_may_link(world, db, users, setting):
    complaint = services.register_complaint(
        actor=users["coordinator"], channel="hotline", category="other", description="x",
        institution_id=world.hospital.id, anonymous=True)
    services.fire_complaint(complaint.id, "assign", actor=users["coordinator"], version=1,
                            handler_id=users["inspector"].id)
    services.link_complaint(complaint.id, services.LinkInput(
        institution_id=world.hospital.id, staff_id=setting["member"].id),
        actor=users["inspector"], version=2)
    assert db.session.get(Complaint, complaint.id).staff_id == setting["member"].id


# --- the page -------------------------------------------------------------------------

def test_link_form_on_the_page(client, login, world, db, users, setting):
    complaint = public(db)
    login.as_("coordinator")
    path = f"/complaints/{complaint.id}"
    html = client.get(path).get_data(as_text=True)
    assert 'data-testid="complaint-link"' in html
    token = csrf_token(client, path)
    response = client.post(f"{path}/link", data={
        "csrf_token": token, "version": 1, "institution_id": world.hospital.id,
        "case_id": setting["case"].id, "staff_id": setting["stranger"].id})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "请选择所关联机构的医务人员。" in body
    with unchanged(db, complaint):
        stale = client.post(f"{path}/link", data={"csrf_token": token, "version": 9,
                                                  "institution_id": world.hospital.id})
    assert stale.status_code == 409
    ok = client.post(f"{path}/link", data={"csrf_token": token, "version": 1,
                                           "institution_id": world.hospital.id})
    assert ok.status_code == 302
    html = client.get(path).get_data(as_text=True)
    assert 'data-trigger="linked"' in html and "变更关联" in html
    assert "李医生" in html  # the institution's staff are offered now
    assert NAME not in html and PHONE not in html


def test_viewer_sees_no_link_form(client, login, world, db, users):
    complaint = public(db)
    login.as_("viewer")
    html = client.get(f"/complaints/{complaint.id}").get_data(as_text=True)
    assert 'data-testid="complaint-link"' not in html
    token = csrf_token(client, f"/complaints/{complaint.id}")
    with unchanged(db, complaint):
        assert client.post(f"/complaints/{complaint.id}/link",
                           data={"csrf_token": token, "version": 1}).status_code == 403
