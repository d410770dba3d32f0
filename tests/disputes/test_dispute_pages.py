"""The medical disputes register: who sees and changes what, every bad input answered in
Chinese with nothing lost, changes in the history with old and new values, a stale
form is a 409, the list without N+1 and its spreadsheet."""

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
import sqlalchemy as sa
from factories import csrf_token, fresh, history, make_dispute, unchanged
from openpyxl import load_workbook

from casework.disputes import services
from casework.disputes.models import MedicalDispute
from casework.errors import Invalid, NotFound, NotPermitted, StaleObject
from casework.institutions.models import Institution


@pytest.fixture(autouse=True)
def today(clock):
    clock("2024-07-10T09:00:00+08:00")


def _html(response):
    return response.get_data(as_text=True)


def _post(client, path, data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/dashboard"), **data})


GOOD = {"occurred_on": "2024-06-01", "type": "surgery", "route": "mediation",
        "department": "骨科", "amount": "12,000.50", "status": "open", "resolved_on": "",
        "summary": "患者术后出现并发症。"}


# --- who sees what ------------------------------------------------------------------------

@pytest.mark.parametrize("role, own, far", [
    ("coordinator", 200, 200), ("inspector", 200, 200), ("viewer", 200, 200),
    ("institution", 200, 404), ("other_institution", 404, 200),
    ("district_coordinator", 404, 200), ("admin", 404, 404),
])
def test_who_sees_a_dispute(client, login, db, world, role, own, far):
    near = make_dispute(db, world.hospital)
    distant = make_dispute(db, world.far_hospital)
    login.as_(role)
    assert client.get(f"/disputes/{near.id}").status_code == own
    assert client.get(f"/disputes/{distant.id}").status_code == far
    listing = client.get("/disputes/")
    if role == "admin":
        assert listing.status_code == 403
        return
    page = _html(listing)
    assert (f'href="/disputes/{near.id}"' in page) is (own == 200)
    assert (f'href="/disputes/{distant.id}"' in page) is (far == 200)


@pytest.mark.parametrize("role, shown", [
    ("coordinator", True), ("inspector", True), ("viewer", True), ("institution", True),
    ("admin", False)])
def test_disputes_in_navigation(client, login, role, shown):
    login.as_(role)
    assert ('href="/disputes/"' in _html(client.get("/dashboard"))) is shown


def test_viewer_reads_only(client, login, db, world):
    dispute = make_dispute(db, world.hospital)
    login.as_("viewer")
    page = _html(client.get(f"/disputes/{dispute.id}"))
    assert 'data-testid="dispute-update"' not in page
    assert 'data-testid="register-dispute"' not in _html(client.get("/disputes/"))
    assert client.get("/disputes/new").status_code == 403
    with unchanged(db, "medical_dispute"):
        assert _post(client, "/disputes/new", {**GOOD, "institution_id": world.hospital.id}
                     ).status_code == 403
    with unchanged(db, dispute):
        assert _post(client, f"/disputes/{dispute.id}/update",
                     {"version": "1", "route": "litigation", "status": "open"}).status_code == 403
    assert fresh(db, dispute).route == "negotiation"


def test_another_institutions_dispute_is_404_for_every_action(client, login, db, world):
    dispute = make_dispute(db, world.far_hospital)
    login.as_("institution")
    assert client.get(f"/disputes/{dispute.id}").status_code == 404
    assert _post(client, f"/disputes/{dispute.id}/update",
                 {"version": "1", "route": "litigation", "status": "open"}).status_code == 404
    # Registering one for another hospital: refused, nothing stored.
    response = _post(client, "/disputes/new", {**GOOD, "institution_id": world.far_hospital.id})
    assert response.status_code == 422
    assert "请选择" in _html(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MedicalDispute)) == 1


# --- registering ------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["coordinator", "inspector", "institution"])
def test_register_a_dispute(client, login, db, world, role):
    login.as_(role)
    form = _html(client.get("/disputes/new"))
    assert 'name="request_key"' in form
    data = {**GOOD, "institution_id": world.hospital.id, "request_key": "k-1"}
    response = _post(client, "/disputes/new", data)
    assert response.status_code == 302
    dispute = db.session.scalar(sa.select(MedicalDispute))
    assert (dispute.route, dispute.amount, dispute.department, dispute.status) == (
        "mediation", Decimal("12000.50"), "骨科", "open")
    assert [(e.trigger, e.actor_role) for e in history(db, dispute)] == [("registered", role)]
    # The same form sent again registers nothing new.
    assert _post(client, "/disputes/new", data).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MedicalDispute)) == 1
    page = _html(client.get(response.headers["Location"]))
    assert "患者术后出现并发症。" in page and "人民调解" in page


def test_an_institution_user_gets_its_own_institution_only(client, login, db, world):
    login.as_("institution")
    form = _html(client.get("/disputes/new"))
    assert world.hospital.name in form and world.far_hospital.name not in form
    assert world.clinic.name not in form


def test_bad_input_is_answered_in_chinese_and_kept(client, login, db, world):
    login.as_("coordinator")
    data = {"institution_id": "", "occurred_on": "2099-01-01", "type": "weird",
            "route": "", "amount": "-5", "status": "resolved", "resolved_on": "",
            "department": "科" * 101, "summary": "  ", "request_key": "k-2"}
    response = _post(client, "/disputes/new", data)
    assert response.status_code == 422
    page = _html(response)
    for field in ("institution_id", "occurred_on", "type", "route", "amount", "resolved_on",
                  "department", "summary"):
        assert f'data-error="{field}"' in page, field
    assert "不能" in page and "请选择" in page
    assert 'value="2099-01-01"' in page and 'value="-5"' in page and "科" * 101 in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MedicalDispute)) == 0


@pytest.mark.parametrize("amount, message", [
    ("abc", "请按数字填写金额"), ("1.234", "两位小数"), ("1e20", "金额过大"), ("NaN", "请按数字填写金额"),
])
def test_bad_amounts(client, login, db, world, amount, message):
    login.as_("coordinator")
    response = _post(client, "/disputes/new", {**GOOD, "institution_id": world.hospital.id,
                                               "amount": amount})
    assert response.status_code == 422
    assert message in _html(response)


def test_dates_are_checked_together(db, users, world):
    actor = users["coordinator"]
    with pytest.raises(Invalid) as error:
        services.register_dispute(actor=actor, institution_id=world.hospital.id,
                                  occurred_on="2024-06-01", type="surgery", route="mediation",
                                  summary="x", status="resolved", resolved_on="2024-05-01")
    assert set(error.value.details["errors"]) == {"resolved_on"}
    with pytest.raises(Invalid) as error:
        services.register_dispute(actor=actor, institution_id=world.hospital.id,
                                  occurred_on="1.6.2024", type="surgery", route="mediation",
                                  summary="x", status="open", resolved_on="2024-06-02")
    assert set(error.value.details["errors"]) == {"occurred_on", "resolved_on"}
    with unchanged(db, "medical_dispute"), pytest.raises(NotPermitted):
        services.register_dispute(actor=users["admin"], institution_id=world.hospital.id,
                                  occurred_on="2024-06-01", type="surgery",
                                  route="mediation", summary="x")


# --- changing -----------------------------------------------------------------------------------

def test_change_route_status_and_amount_with_history(client, login, db, world):
    dispute = make_dispute(db, world.hospital)
    case = world.make_case(db)
    login.as_("inspector")
    response = _post(client, f"/disputes/{dispute.id}/update", {
        "version": "1", "route": "mediation", "status": "resolved", "resolved_on": "2024-07-01",
        "amount": "8000", "case_id": str(case.id), "comment": "调解成功"})
    assert response.status_code == 302
    dispute = fresh(db, dispute)
    assert (dispute.route, dispute.status, dispute.resolved_on, dispute.amount,
            dispute.case_id, dispute.version) == (
        "mediation", "resolved", date(2024, 7, 1), Decimal("8000.00"), case.id, 2)
    (event,) = history(db, dispute)
    assert (event.trigger, event.from_state, event.to_state, event.comment) == (
        "changed", "open", "resolved", "调解成功")
    assert event.data == {"old_route": "negotiation", "new_route": "mediation",
                          "old_status": "open", "new_status": "resolved",
                          "old_resolved_on": None, "new_resolved_on": "2024-07-01",
                          "old_amount": None, "new_amount": "8000.00",
                          "old_case_id": None, "new_case_id": str(case.id)}
    page = _html(client.get(f"/disputes/{dispute.id}"))
    assert page.count('data-testid="history-change"') == 5
    assert "协商 → 人民调解" in page

    # Nothing changed: no event.
    same = _post(client, f"/disputes/{dispute.id}/update", {
        "version": "2", "route": "mediation", "status": "resolved", "resolved_on": "2024-07-01",
        "amount": "8000.00", "case_id": str(case.id)})
    assert same.status_code == 302 and len(history(db, dispute)) == 1


def test_a_stale_change_is_a_conflict(client, login, db, world, users):
    dispute = make_dispute(db, world.hospital)
    services.update_dispute(dispute.id, actor=users["coordinator"], version=1,
                            route="litigation", status="open")
    login.as_("institution")
    with unchanged(db, dispute):
        response = _post(client, f"/disputes/{dispute.id}/update",
                         {"version": "1", "route": "mediation", "status": "open"})
    assert response.status_code == 409
    assert "其他人" in _html(response) or "他人" in _html(response)
    assert fresh(db, dispute).route == "litigation"
    with unchanged(db, dispute), pytest.raises(StaleObject):
        services.update_dispute(dispute.id, actor=users["coordinator"], version=1,
                                route="mediation", status="open")


def test_bad_change_comes_back_with_what_was_typed(client, login, db, world):
    dispute = make_dispute(db, world.hospital)
    other_case = world.make_case(db, institution=world.far_hospital)
    login.as_("coordinator")
    response = _post(client, f"/disputes/{dispute.id}/update", {
        "version": "1", "route": "arbitration", "status": "withdrawn", "resolved_on": "",
        "amount": "十万", "case_id": str(other_case.id), "comment": "备注内容"})
    assert response.status_code == 422
    page = _html(response)
    for field in ("route", "resolved_on", "amount", "case_id"):
        assert f'data-error="{field}"' in page, field
    assert 'value="十万"' in page and "备注内容" in page
    assert fresh(db, dispute).version == 1 and history(db, dispute) == []
    missing_version = _post(client, f"/disputes/{dispute.id}/update",
                            {"route": "mediation", "status": "open"})
    assert missing_version.status_code == 422


def test_service_errors(db, world, users):
    dispute = make_dispute(db, world.hospital)
    with pytest.raises(NotFound):
        services.update_dispute(dispute.id, actor=users["other_institution"], version=1,
                                route="mediation", status="open")
    with unchanged(db, dispute), pytest.raises(NotPermitted):
        services.update_dispute(dispute.id, actor=users["viewer"], version=1,
                                route="mediation", status="open")
    with pytest.raises(NotFound):
        services.get_dispute(99999, users["coordinator"])


# --- the list, its filters and the spreadsheet ---------------------------------------------

@pytest.fixture
def register(db, world):
    return [
        make_dispute(db, world.hospital, occurred_on=date(2024, 1, 5), route="negotiation",
             type="surgery", amount=Decimal("500")),
        make_dispute(db, world.hospital, occurred_on=date(2024, 3, 5), route="mediation",
             type="nursing", status="resolved", resolved_on=date(2024, 4, 1),
             summary="=HYPERLINK(\"x\")"),
        make_dispute(db, world.clinic, occurred_on=date(2024, 6, 5), route="litigation",
             type="fees"),
        make_dispute(db, world.far_hospital, occurred_on=date(2023, 12, 5), route="mediation",
             type="surgery"),
    ]


def _ids(page):
    import re

    return [int(i) for i in re.findall(r'href="/disputes/(\d+)"', page)]


@pytest.mark.parametrize("query, expected", [
    ("", [2, 1, 0, 3]),
    ("route=mediation", [1, 3]),
    ("status=resolved", [1]),
    ("type=surgery", [0, 3]),
    ("from=2024-01-01&to=2024-03-31", [1, 0]),
    ("institution={clinic}", [2]),
    ("route=mediation&from=2024-01-01", [1]),
])
@pytest.mark.parametrize("role", ["coordinator", "viewer"])
def test_filters(client, login, world, register, query, expected, role):
    login.as_(role)
    page = _html(client.get("/disputes/?" + query.format(clinic=world.clinic.id)))
    assert _ids(page) == [register[i].id for i in expected]


@pytest.mark.parametrize("query, field", [
    ("route=arbitration", "route"), ("status=x", "status"), ("type=?", "type"),
    ("from=2024-13-01", "from"), ("from=2024-05-01&to=2024-04-01", "to"),
    ("institution=abc", "institution"),
])
def test_bad_filters_are_422_with_the_message(client, login, register, query, field):
    login.as_("coordinator")
    response = client.get("/disputes/?" + query)
    assert response.status_code == 422
    page = _html(response)
    assert f'data-error="{field}"' in page and 'data-testid="form-errors"' in page
    assert client.get("/disputes/export.xlsx?" + query).status_code == 422


def test_the_list_query_count_does_not_grow(client, login, db, world, count_queries):
    login.as_("coordinator")
    counts = []
    for n in (2, 20):
        db.session.add_all(
            MedicalDispute(institution=Institution(
                code=f"D{n}-{i}", name=f"医院{i}", type="clinic", level="ungraded",
                ownership="private", region=world.district), occurred_on=date(2024, 5, 1),
                route="mediation", status="open", type="other", summary="x")
            for i in range(n))
        db.session.commit()
        with count_queries() as statements:
            assert client.get("/disputes/").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_export_is_the_filtered_list(client, login, world, register):
    login.as_("coordinator")
    response = client.get("/disputes/export.xlsx?route=mediation")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("编号", "机构代码", "医疗机构")
    body = rows[1:]
    assert [r[0] for r in body] == [register[1].id, register[3].id]
    first = body[0]
    assert first[1:3] == ("H1", world.hospital.name)
    assert first[5:9] == ("护理", "人民调解", None, "已解决")
    # A formula-like summary stays text.
    assert first[10] == "'=HYPERLINK(\"x\")"

    login.logout()
    login.as_("institution")
    sheet = load_workbook(BytesIO(client.get("/disputes/export.xlsx").data)).active
    assert [r[1] for r in list(sheet.iter_rows(values_only=True))[1:]] == ["H1", "H1"]


def test_demo_disputes_are_idempotent(db, runner):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    count = db.session.scalar(sa.select(sa.func.count()).select_from(MedicalDispute))
    assert count == len(services.DEMO)
    assert services.load_demo_disputes() == 0
