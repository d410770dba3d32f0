"""The complaint list as XLSX: the filtered list, complainant details masked for everyone,
decrypted (and logged, once per complaint, before the file goes out) only when a
coordinator asks; every other role never gets them."""

from io import BytesIO

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from casework.complaints import services
from casework.complaints.models import PersonalDataAccess

NAME, PHONE, ID_NUMBER = "张三丰", "13812345678", "11010519491231002X"


def register(users, world, **kw):
    values = dict(channel="hotline", category="red_envelope", description="=cmd|收红包",
                  institution_id=world.hospital.id, name=NAME, phone=PHONE,
                  id_number=ID_NUMBER)
    values.update(kw)
    return services.register_complaint(actor=users["coordinator"], **values)


def cells(response) -> list[list]:
    book = load_workbook(BytesIO(response.data))
    return [list(r) for r in book.active.iter_rows(values_only=True)]


def accesses(db):
    return db.session.scalars(sa.select(PersonalDataAccess).order_by(
        PersonalDataAccess.complaint_id)).all()


def test_masked_export_of_the_filtered_list(client, login, users, world, db):
    register(users, world)
    register(users, world, category="other", anonymous=True, name=None, phone=None,
             id_number=None)
    login.as_("coordinator")
    response = client.get("/complaints/export.xlsx?category=red_envelope")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = cells(response)
    assert len(rows) == 2  # header + the one red-envelope complaint
    text = repr(rows)
    assert "张**" in text and "138****5678" in text and NAME not in text and PHONE not in text
    assert "'=cmd|收红包" in text  # formula injection quoted
    assert accesses(db) == []
    everything = cells(client.get("/complaints/export.xlsx"))
    assert len(everything) == 3 and "匿名" in repr(everything)


def test_coordinator_includes_details_and_each_is_logged(client, login, users, world, db):
    first, second = register(users, world), register(users, world)
    register(users, world, anonymous=True, name=None, phone=None, id_number=None)
    login.as_("coordinator")
    rows = cells(client.get("/complaints/export.xlsx?details=1"))
    text = repr(rows)
    assert NAME in text and PHONE in text and ID_NUMBER in text
    logged = accesses(db)
    assert [(a.complaint_id, a.purpose, a.user_id) for a in logged] == [
        (first.id, "export", users["coordinator"].id),
        (second.id, "export", users["coordinator"].id)]


@pytest.mark.parametrize("role", ["inspector", "viewer"])
def test_other_roles_never_get_details(client, login, users, world, db, role):
    register(users, world)
    login.as_(role)
    html = client.get("/complaints/").get_data(as_text=True)
    assert 'name="details"' not in html
    assert client.get("/complaints/export.xlsx?details=1").status_code == 403
    text = repr(cells(client.get("/complaints/export.xlsx")))
    assert "张**" in text and NAME not in text and PHONE not in text and ID_NUMBER not in text
    assert accesses(db) == []


@pytest.mark.parametrize("role", ["institution", "other_institution", "admin"])
def test_roles_without_the_list_get_no_export(client, login, users, world, db, role):
    register(users, world)
    login.as_(role)
    assert client.get("/complaints/export.xlsx").status_code == 403
    assert client.get("/complaints/export.xlsx?details=1").status_code == 403
    assert accesses(db) == []


def test_district_coordinator_exports_only_their_reach(client, login, users, world, db):
    register(users, world)
    far = register(users, world, institution_id=world.far_hospital.id)
    login.as_("district_coordinator")
    rows = cells(client.get("/complaints/export.xlsx?details=1"))
    assert len(rows) == 2 and rows[1][0] == far.id
    assert [a.complaint_id for a in accesses(db)] == [far.id]


def test_bad_filter_is_422(client, login, users, world, db):
    login.as_("coordinator")
    assert client.get("/complaints/export.xlsx?state=nonsense").status_code == 422
