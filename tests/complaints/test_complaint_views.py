"""Complaint pages: masking and logged reveals, jurisdiction, the public form's abuse
cases (rate limit, oversized input, script, CSRF) and the tracking page's silence."""

import re

import pytest
import sqlalchemy as sa
from factories import csrf_token, unchanged

from casework.complaints import services
from casework.complaints.models import Complaint, PersonalDataAccess

NAME, PHONE, ID_NUMBER = "张三丰", "13812345678", "11010519491231002X"
PUBLIC = "/public/complaints/new"
TRACK = "/public/complaints/track"


def register(users, world, **kw):
    values = dict(channel="hotline", category="red_envelope", description="收红包",
                  institution_id=world.hospital.id, name=NAME, phone=PHONE,
                  id_number=ID_NUMBER)
    values.update(kw)
    return services.register_complaint(actor=users["coordinator"], **values)


def public_form(**kw):
    data = {"category": "red_envelope", "institution_named": "中卫市人民医院",
            "description": "主刀医生收红包", "name": NAME, "phone": PHONE}
    data.update(kw)
    return data


def count(db, model=Complaint):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_detail_masks_for_inspector_and_viewer(client, login, db, world, users):
    complaint = register(users, world)
    for role in ("inspector", "viewer"):
        login.as_(role)
        html = client.get(f"/complaints/{complaint.id}").get_data(as_text=True)
        assert "张**" in html and "138****5678" in html and "11010*********002X" in html
        assert NAME not in html and PHONE not in html and ID_NUMBER not in html
        assert 'data-testid="reveal"' not in html
        token = csrf_token(client, f"/complaints/{complaint.id}")
        with unchanged(db, complaint, "personal_data_access"):
            assert client.post(f"/complaints/{complaint.id}/personal-data",
                               data={"csrf_token": token}).status_code == 403
        login.logout()
    assert count(db, PersonalDataAccess) == 0


def test_coordinator_reveals_and_it_is_logged(client, login, db, world, users):
    complaint = register(users, world)
    login.as_("coordinator")
    path = f"/complaints/{complaint.id}"
    assert NAME not in client.get(path).get_data(as_text=True)
    assert client.post(f"{path}/personal-data").status_code == 400  # no CSRF token
    response = client.post(f"{path}/personal-data", data={"csrf_token": csrf_token(client, path)})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert NAME in html and PHONE in html and ID_NUMBER in html
    access = db.session.scalars(sa.select(PersonalDataAccess)).one()
    assert access.user_id == users["coordinator"].id and access.purpose == "view"
    assert 'data-testid="access-log"' in client.get(path).get_data(as_text=True)


def test_outsiders_get_404(client, login, db, world, users):
    complaint = register(users, world)
    for role in ("institution", "district_coordinator"):
        login.as_(role)
        assert client.get(f"/complaints/{complaint.id}").status_code == 404
        assert "收红包" not in client.get("/complaints/").get_data(as_text=True)
        login.logout()


def test_register_page_invalid_keeps_input(client, login, db, world, users):
    login.as_("coordinator")
    token = csrf_token(client, "/complaints/new")
    response = client.post("/complaints/new", data={
        "csrf_token": token, "channel": "hotline", "category": "other",
        "description": "电话投诉内容", "phone": "12"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "电话投诉内容" in html and 'data-error="phone"' in html
    assert count(db) == 0
    response = client.post("/complaints/new", data={
        "csrf_token": token, "channel": "hotline", "category": "other",
        "description": "电话投诉内容", "anonymous": "y", "institution_id": world.clinic.id})
    assert response.status_code == 302 and count(db) == 1


def test_fire_through_the_page(client, login, db, world, users):
    complaint = register(users, world)
    login.as_("coordinator")
    path = f"/complaints/{complaint.id}"
    token = csrf_token(client, path)
    response = client.post(f"{path}/fire/assign", data={"csrf_token": token, "version": 1})
    assert response.status_code == 422 and 'data-error="handler_id"' in response.get_data(
        as_text=True)
    response = client.post(f"{path}/fire/assign", data={
        "csrf_token": token, "version": 1, "handler_id": users["inspector"].id})
    assert response.status_code == 302
    # A stale version is refused.
    with unchanged(db, complaint):
        response = client.post(f"{path}/fire/investigate", data={"csrf_token": token, "version": 1})
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(Complaint, complaint.id).state == "assigned"


def test_public_form_files_and_tracks_without_personal_data(client, db, world, users):
    token = csrf_token(client, PUBLIC)
    response = client.post(PUBLIC, data={"csrf_token": token, **public_form()})
    html = response.get_data(as_text=True)
    assert response.status_code == 201
    shown = re.search(r'data-testid="tracking-code">([A-Z0-9-]+)<', html).group(1)
    complaint = db.session.scalars(sa.select(Complaint)).one()
    assert shown.replace("-", "") == complaint.tracking_code
    assert "navbar" not in html
    # Handle it to closure, then look it up as the public.
    for trigger, role, kw in (("assign", "coordinator", {"handler_id": users["inspector"].id}),
                              ("investigate", "inspector", {}),
                              ("conclude", "inspector", {"outcome": "substantiated",
                                                          "findings": "查实"}),
                              ("reply", "coordinator", {"comment": "已查实并处理，谢谢监督。"}),
                              ("close", "coordinator", {})):
        complaint = db.session.get(Complaint, complaint.id)
        db.session.refresh(complaint)
        services.fire_complaint(complaint.id, trigger, actor=users[role],
                                version=complaint.version, **kw)
    token = csrf_token(client, TRACK)
    response = client.post(TRACK, data={"csrf_token": token, "code": shown.lower()})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "已查实并处理，谢谢监督。" in html
    for secret in (NAME, PHONE, "张**", "138****", users["inspector"].display_name,
                   users["coordinator"].display_name, "中卫市人民医院", "查实\n"):
        assert secret not in html


def test_wrong_code_same_neutral_answer(client, db, world):
    token = csrf_token(client, TRACK)
    # The page's own CSRF token is signed with the current second: not part of the answer.
    answers = {re.sub(r'name="csrf_token" value="[^"]*"', "",
                      client.post(TRACK, data={"csrf_token": token, "code": code})
                      .get_data(as_text=True))
               for code in ("ABCD-EFGH-JKMN", "x", "")}
    assert len(answers) == 1 and 'data-testid="not-found"' in answers.pop()


def test_public_form_refuses_missing_csrf(client, db, world):
    assert client.post(PUBLIC, data=public_form()).status_code == 400
    assert client.post(TRACK, data={"code": "ABCDEFGHJKMN"}).status_code == 400
    assert count(db) == 0


def test_public_form_oversized_fields_422_nothing_stored(client, db, world):
    token = csrf_token(client, PUBLIC)
    response = client.post(PUBLIC, data={"csrf_token": token,
                                         **public_form(description="x" * 3001,
                                                       name="名" * 51)})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'data-error="description"' in html and 'data-error="name"' in html
    assert count(db) == 0
    # A request body beyond COMPLAINT_FORM_MAX_BYTES is refused before it is read.
    response = client.post(PUBLIC, data={"csrf_token": token,
                                         **public_form(description="x" * 70_000)})
    assert response.status_code == 413 and count(db) == 0


def test_script_is_stored_as_text_and_rendered_inert(client, login, db, world, users):
    script = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    token = csrf_token(client, PUBLIC)
    assert client.post(PUBLIC, data={"csrf_token": token, **public_form(
        description=script, staff_named=script)}).status_code == 201
    complaint = db.session.scalars(sa.select(Complaint)).one()
    assert complaint.description == script
    login.as_("coordinator")
    html = client.get(f"/complaints/{complaint.id}").get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html


def test_public_form_is_rate_limited(client, db, world, app):
    limit = int(app.config["COMPLAINT_FORM_RATE_LIMIT"].split()[0])
    token = csrf_token(client, PUBLIC)
    statuses = [client.post(PUBLIC, data={"csrf_token": token, **public_form()}).status_code
                for _ in range(limit + 1)]
    assert statuses == [201] * limit + [429]
    assert count(db) == limit


def test_tracking_is_rate_limited(client, db, world, app):
    limit = int(app.config["COMPLAINT_TRACK_RATE_LIMIT"].split()[0])
    token = csrf_token(client, TRACK)
    statuses = [client.post(TRACK, data={"csrf_token": token, "code": "ABCDEFGHJKMN"}).status_code
                for _ in range(limit + 1)]
    assert statuses[-1] == 429 and set(statuses[:-1]) == {404}


@pytest.mark.parametrize("role", ["coordinator", "inspector", "viewer"])
def test_nav_has_complaints(client, login, db, world, users, role):
    login.as_(role)
    assert 'href="/complaints/"' in client.get("/dashboard").get_data(as_text=True)


def test_list_query_count_is_constant(client, login, db, world, users, count_queries):
    login.as_("coordinator")

    def queries_for(n):
        existing = count(db)
        for i in range(existing, n):
            complaint = register(users, world, description=f"投诉{i}",
                                 institution_id=(world.hospital if i % 2 else world.clinic).id)
            if i % 3 == 0:
                services.fire_complaint(complaint.id, "assign", actor=users["coordinator"],
                                        version=1, handler_id=users["inspector"].id)
        with count_queries() as statements:
            response = client.get("/complaints/")
        assert response.status_code == 200
        assert response.get_data(as_text=True).count('data-testid="complaint-row"') == n
        return len(statements)

    assert queries_for(3) == queries_for(30)
