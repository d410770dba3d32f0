"""Complaint services: intake, validation, the machine through binding, jurisdiction,
personal data (encrypted at rest, masked, every reveal logged) and public status."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from factories import unchanged

from casework import clock
from casework.complaints import personal_data as pd
from casework.complaints import services
from casework.complaints.models import ComplainantDetails, Complaint, PersonalDataAccess
from casework.errors import GuardFailed, IllegalTrigger, Invalid, NotFound, NotPermitted
from casework.history.models import HistoryEvent

NAME, PHONE, ID_NUMBER = "张三丰", "13812345678", "11010519491231002X"


def register(users, world, role="coordinator", **kw):
    values = dict(channel="hotline", category="red_envelope", description="收红包",
                  institution_id=world.hospital.id, staff_named="李医生", name=NAME,
                  phone=PHONE, id_number=ID_NUMBER)
    values.update(kw)
    return services.register_complaint(actor=users[role], **values)


def fire(users, complaint, trigger, role="coordinator", **kw):
    return services.fire_complaint(complaint.id, trigger, actor=users[role],
                                   version=complaint.version, **kw)


def test_id_number_checksum():
    assert pd.valid_id_number(ID_NUMBER)
    assert not pd.valid_id_number("110105194912310021")
    assert not pd.valid_id_number("110105194913310028")  # month 13
    assert pd.mask_id_number("110101199003071234") == "11010*********1234"
    assert pd.mask_phone(PHONE) == "138****5678"
    assert pd.mask_name(NAME) == "张**"


def test_register_sets_deadline_code_and_encrypts(db, world, users, app):
    complaint = register(users, world)
    assert complaint.state == "received" and complaint.version == 1
    assert len(complaint.tracking_code) == 12
    assert complaint.deadline >= complaint.received_on + timedelta(
        days=15)  # the default of the setting complaint_handling_days
    raw = db.session.execute(sa.text(
        "SELECT name_enc, phone_enc, id_number_enc, name_masked FROM complainant_details"
    )).one()
    for column in raw[:3]:
        assert NAME not in column and PHONE not in column and ID_NUMBER not in column
    assert raw.name_masked == "张**"
    assert NAME not in complaint.tracking_code


def test_register_reports_every_problem(db, world, users):
    with pytest.raises(Invalid) as error:
        services.register_complaint(actor=users["coordinator"], channel="fax", category="x",
                                    description=" ", phone="123", id_number="123456",
                                    staff_named="x" * 201)
    assert set(error.value.details["errors"]) == {
        "channel", "category", "description", "name", "phone", "id_number", "staff_named"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)) == 0


def test_anonymous_needs_no_personal_data(db, world, users):
    complaint = register(users, world, anonymous=True, name=None, phone=None, id_number=None)
    details = db.session.get(ComplainantDetails, complaint.id)
    assert details.name_enc is None and details.phone_enc is None


def test_registering_is_idempotent_on_request_key(db, world, users):
    first = register(users, world, request_key="k1")
    assert register(users, world, request_key="k1").id == first.id


def test_lifecycle_to_closed_one_event_per_transition(db, world, users):
    complaint = register(users, world)
    fire(users, complaint, "assign", handler_id=users["inspector"].id)
    fire(users, complaint, "investigate", role="inspector")
    fire(users, complaint, "conclude", role="inspector", outcome="substantiated",
         findings="查实收受红包")
    fire(users, complaint, "reply", comment="经查属实，已处理。")
    fire(users, complaint, "close")
    db.session.refresh(complaint)
    assert complaint.state == "closed"
    assert complaint.handler_id == users["inspector"].id
    assert complaint.outcome == "substantiated" and complaint.reply == "经查属实，已处理。"
    events = db.session.scalars(sa.select(HistoryEvent).where(
        HistoryEvent.object_type == "complaint").order_by(HistoryEvent.id)).all()
    assert [(e.trigger, e.from_state, e.to_state) for e in events] == [
        ("assign", "received", "assigned"), ("investigate", "assigned", "investigating"),
        ("conclude", "investigating", "concluded"), ("reply", "concluded", "replied"),
        ("close", "replied", "closed")]


def test_transfer_path(db, world, users):
    complaint = register(users, world)
    with pytest.raises(Invalid):
        fire(users, complaint, "transfer", department="nowhere")
    fire(users, complaint, "transfer", department="market_supervision", comment="价格问题")
    fire(users, complaint, "close")
    db.session.refresh(complaint)
    assert (complaint.state, complaint.transfer_department) == ("closed", "market_supervision")


def test_trigger_inputs_are_validated(db, world, users):
    complaint = register(users, world)
    with pytest.raises(Invalid) as error:
        fire(users, complaint, "assign", handler_id=users["institution"].id)
    assert "handler_id" in error.value.details["errors"]
    with pytest.raises(IllegalTrigger):
        fire(users, complaint, "conclude", outcome="substantiated", findings="x")
    fire(users, complaint, "assign", handler_id=users["inspector"].id)
    fire(users, complaint, "investigate", role="inspector")
    with pytest.raises(Invalid) as error:
        fire(users, complaint, "conclude", role="inspector", outcome="maybe", findings="")
    assert set(error.value.details["errors"]) == {"outcome", "findings"}
    assert db.session.get(Complaint, complaint.id).state == "investigating"


def test_permissions(db, world, users):
    complaint = register(users, world)
    # An inspector who is not the handler may not assign, nor close.
    with unchanged(db, complaint), pytest.raises(NotPermitted):
        fire(users, complaint, "assign", role="inspector", handler_id=users["inspector"].id)
    # Another district: 404, as if it did not exist; institutions never see complaints.
    for role in ("district_coordinator", "institution", "other_institution", "admin"):
        with pytest.raises(NotFound):
            services.get_complaint(complaint.id, users[role])
        assert services.list_complaints(users[role], services.ComplaintFilters()).items == []
    with unchanged(db, "complaint"), pytest.raises(NotPermitted):
        register(users, world, role="district_coordinator")
    with unchanged(db, "complaint"), pytest.raises(NotPermitted):
        register(users, world, role="institution")
    far = register(users, world, role="district_coordinator",
                   institution_id=world.far_hospital.id)
    assert services.get_complaint(far.id, users["coordinator"])  # city reaches the county


def test_list_filters(db, world, users):
    register(users, world)
    register(users, world, category="irregular_fees", channel="sms")
    coordinator = users["coordinator"]
    assert services.list_complaints(coordinator, services.ComplaintFilters()).total == 2
    page = services.list_complaints(coordinator, services.ComplaintFilters(channel="sms"))
    assert [c.category for c in page.items] == ["irregular_fees"]
    with pytest.raises(Invalid):
        services.list_complaints(coordinator, services.ComplaintFilters(state="lost"))


def test_reveal_is_limited_and_logged(db, world, users):
    complaint = register(users, world)
    for role in ("inspector", "viewer"):
        with unchanged(db, complaint, "personal_data_access"), pytest.raises(NotPermitted):
            services.reveal_personal_data(complaint.id, actor=users[role])
    shown = services.reveal_personal_data(complaint.id, actor=users["coordinator"], ip="10.0.0.1")
    assert (shown.name, shown.phone, shown.id_number) == (NAME, PHONE, ID_NUMBER)
    fire(users, complaint, "assign", handler_id=users["inspector"].id)
    services.reveal_personal_data(complaint.id, actor=users["inspector"])
    log = db.session.scalars(sa.select(PersonalDataAccess).order_by(PersonalDataAccess.id)).all()
    assert [(a.user_id, a.purpose) for a in log] == [
        (users["coordinator"].id, "view"), (users["inspector"].id, "view")]
    assert log[0].ip == "10.0.0.1" and log[0].at <= clock.now()
    masked = services.masked_complainant(complaint)
    assert (masked.name, masked.phone) == ("张**", "138****5678")


def test_public_complaint_and_status(db, world):
    with pytest.raises(Invalid) as error:
        services.submit_public_complaint(category="other", description="x" * 3001,
                                         institution_named="某医院", name="王五",
                                         phone="13912345678")
    assert "description" in error.value.details["errors"]
    with pytest.raises(Invalid) as error:
        services.submit_public_complaint(category="other", description="x",
                                         institution_named="某医院")
    assert set(error.value.details["errors"]) == {"name", "phone"}
    complaint = services.submit_public_complaint(
        category="other", description="<script>alert(1)</script>", institution_named="某医院",
        name="王五", phone="13912345678")
    assert complaint.channel == "web" and complaint.institution_id is None
    assert complaint.description == "<script>alert(1)</script>"
    status = services.public_status(services.format_code(complaint.tracking_code).lower())
    assert status.state == "received" and status.reply is None
    for wrong in ("", "ABC", "A" * 12, complaint.tracking_code[:-1] + "Z" * 1):
        if wrong.upper() == complaint.tracking_code:
            continue
        with pytest.raises(NotFound):
            services.public_status(wrong)


def test_public_status_shows_reply_once_replied(db, world, users):
    complaint = services.submit_public_complaint(
        category="red_envelope", description="收红包", institution_named="人民医院",
        name="王五", phone="13912345678")
    # No institution: the city coordinator sees it; a district coordinator does not.
    with pytest.raises(NotFound):
        services.get_complaint(complaint.id, users["district_coordinator"])
    fire(users, complaint, "assign", handler_id=users["inspector"].id)
    fire(users, complaint, "investigate", role="inspector")
    fire(users, complaint, "conclude", role="inspector", outcome="unsubstantiated",
         findings="未查实")
    assert services.public_status(complaint.tracking_code).reply is None
    fire(users, complaint, "reply", role="inspector", comment="经核查不属实。")
    assert services.public_status(complaint.tracking_code).reply == "经核查不属实。"


def test_guard_still_refuses_without_service_checks(db, world, users):
    from workflows import binding

    complaint = register(users, world)
    with pytest.raises(GuardFailed):
        binding.apply(complaint, "assign", actor=users["coordinator"], version=1)
