"""The institution pickers of the complaint and dispute registration forms, the disputes
filter and the escalation-queue filter: no page lists every institution (the same statements and none
of their names, 10 institutions or 200), the suggestions fill the id, and without the
script a typed code or name is read on the server; an id out of reach is still refused
by the service."""

from datetime import date

import pytest
import sqlalchemy as sa

from casework.complaints.models import Complaint
from casework.disputes.models import MedicalDispute
from casework.institutions import services
from casework.institutions.models import Institution
from tests.conftest import csrf_token

PAGES = [("/complaints/new", "coordinator"), ("/disputes/", "coordinator"),
         ("/disputes/new", "coordinator"), ("/queue/", "coordinator")]


def add_institutions(db, world, n, start=0):
    for i in range(start, start + n):
        db.session.add(Institution(code=f"B{i:04d}", name=f"批量第{i:04d}号卫生院",
                                   type="clinic", level="ungraded", ownership="public",
                                   region=world.city))
    db.session.commit()


# --- reading a picker --------------------------------------------------------------------

def test_pick_reads_the_chosen_id_or_the_typed_code_or_name(db, world, users):
    pick = services.pick_institution
    coordinator = users["coordinator"]
    assert pick(coordinator, None, "") == services.Picked()
    # Chosen from the suggestions: the id, shown by its name.
    chosen = pick(coordinator, world.clinic.id, "滨河诊所")
    assert (chosen.id, chosen.text, chosen.error) == (world.clinic.id, "滨河诊所", None)
    assert pick(coordinator, world.clinic.id, None).text == "滨河诊所"
    # Typed without the script: a code (any case), a whole name, or part of one name.
    assert pick(coordinator, None, " c1 ").id == world.clinic.id
    assert pick(coordinator, None, "中宁县人民医院").id == world.far_hospital.id
    assert pick(coordinator, None, "滨河").id == world.clinic.id
    # The text was changed after choosing (no script to clear the id): the text counts;
    # emptied, it means none.
    assert pick(coordinator, world.clinic.id, "H1").id == world.hospital.id
    assert pick(coordinator, world.clinic.id, " ") == services.Picked()
    # Several match: none is picked, they are listed; none matches: said so.
    several = pick(coordinator, None, "人民医院")
    assert several.id is None and several.error and several.text == "人民医院"
    assert {i.code for i in several.matches} == {"H1", "H2"}
    assert pick(coordinator, None, "没有这家").error and not pick(
        coordinator, None, "没有这家").matches


def test_pick_finds_only_institutions_in_reach(db, world, users):
    district = users["district_coordinator"]
    assert services.pick_institution(district, None, "H2").id == world.far_hospital.id
    outside = services.pick_institution(district, None, "H1")
    assert outside.id is None and outside.error and not outside.matches
    # An id out of reach is not looked up (no name shown) and goes to the service as is.
    tampered = services.pick_institution(district, world.hospital.id, None)
    assert (tampered.id, tampered.text) == (world.hospital.id, "")


# --- the pages ---------------------------------------------------------------------------

@pytest.mark.parametrize("path, role", PAGES)
def test_pages_do_not_list_every_institution(path, role, client, login, db, world, users,
                                             count_queries):
    login.as_(role)
    add_institutions(db, world, 10)
    client.get(path)  # warm caches (settings, translations)
    with count_queries() as small:
        first = client.get(path)
    add_institutions(db, world, 190, start=10)
    with count_queries() as large:
        second = client.get(path)
    assert first.status_code == second.status_code == 200
    assert len(small) == len(large), (small, large)
    html = second.get_data(as_text=True)
    assert "批量第" not in html and "中宁县人民医院" not in html
    assert "data-institution-search" in html and "js/lists.js" in html


def _register(client, **fields):
    token = csrf_token(client, "/complaints/new")
    return client.post("/complaints/new", data={
        "csrf_token": token, "channel": "hotline", "category": "other",
        "description": "电话投诉内容", "anonymous": "y", **fields})


def _complaints(db):
    db.session.expire_all()
    return db.session.scalars(sa.select(Complaint)).all()


def test_registering_a_complaint_with_the_picker(client, login, db, world, users):
    login.as_("coordinator")
    # Chosen from the suggestions (the script filled the hidden id).
    assert _register(client, institution_id=world.clinic.id,
                     institution="滨河诊所").status_code == 302
    # Typed without the script: its code.
    assert _register(client, institution="h2").status_code == 302
    # No institution at all.
    assert _register(client).status_code == 302
    assert [c.institution_id for c in _complaints(db)] == [
        world.clinic.id, world.far_hospital.id, None]
    # Several match: nothing saved, the text kept, the matches listed by code.
    response = _register(client, institution="人民医院")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and len(_complaints(db)) == 3
    assert 'data-error="institution_id"' in html and 'value="人民医院"' in html
    assert 'data-testid="complaint-institution-matches"' in html
    assert "<code>H1</code>" in html and "<code>H2</code>" in html
    # Another field wrong: the chosen institution stays chosen.
    response = _register(client, institution_id=world.clinic.id, institution="滨河诊所",
                         description="")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and f'value="{world.clinic.id}"' in html
    assert 'value="滨河诊所"' in html


def test_an_institution_out_of_reach_is_refused_as_before(client, login, db, world, users):
    login.as_("district_coordinator")
    # The hidden id tampered with: the service refuses it.
    assert _register(client, institution_id=world.hospital.id).status_code == 403
    # Typed: not found among the institutions in reach.
    response = _register(client, institution="H1")
    assert response.status_code == 422
    assert "中卫市人民医院" not in response.get_data(as_text=True)
    assert _complaints(db) == []


@pytest.fixture
def disputes(db, world):
    made = [MedicalDispute(institution=institution, occurred_on=date(2024, 5, 1),
                           route="negotiation", status="open", type="surgery",
                           summary="术后纠纷") for institution in (world.hospital, world.clinic)]
    db.session.add_all(made)
    db.session.commit()
    return made


def _rows(html):
    return html.count('data-testid="dispute-row"')


def test_the_disputes_filter_reads_the_picker(client, login, db, world, users, disputes):
    login.as_("coordinator")
    everything = client.get("/disputes/").get_data(as_text=True)
    assert _rows(everything) == 2
    by_id = client.get(f"/disputes/?institution={world.clinic.id}").get_data(as_text=True)
    typed = client.get("/disputes/?institution=&institution_text=C1")
    assert typed.status_code == 200
    html = typed.get_data(as_text=True)
    assert _rows(by_id) == _rows(html) == 1
    assert f'name="institution" value="{world.clinic.id}"' in html
    # The spreadsheet link carries the institution read from the text.
    assert f"institution={world.clinic.id}" in html.split('data-testid="export-disputes"')[0]
    several = client.get("/disputes/?institution_text=人民医院")
    assert several.status_code == 422
    assert 'data-error="institution"' in several.get_data(as_text=True)
    assert client.get("/disputes/export.xlsx?institution_text=人民医院").status_code == 422


def test_the_queue_filter_reads_the_picker(client, login, db, world, users):
    login.as_("coordinator")
    response = client.get("/queue/?institution_text=c1")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'name="institution" value="{world.clinic.id}"' in html and 'value="滨河诊所"' in html
    several = client.get("/queue/?institution_text=人民医院")
    assert several.status_code == 422
    assert "<code>H1</code>" in several.get_data(as_text=True)


DISPUTE = {"occurred_on": "2024-06-01", "type": "surgery", "route": "mediation",
           "department": "骨科", "status": "open", "summary": "患者术后出现并发症。"}


def _register_dispute(client, **fields):
    token = csrf_token(client, "/disputes/new")
    return client.post("/disputes/new", data={"csrf_token": token, **DISPUTE, **fields})


def test_registering_a_dispute_with_the_picker(client, login, db, world, users):
    login.as_("coordinator")
    assert _register_dispute(client, institution="c1").status_code == 302  # typed code
    assert _register_dispute(client, institution_id=world.hospital.id,
                             institution="中卫市人民医院").status_code == 302  # chosen
    several = _register_dispute(client, institution="人民医院")
    assert several.status_code == 422
    assert "<code>H2</code>" in several.get_data(as_text=True)
    db.session.expire_all()
    assert [d.institution_id for d in db.session.scalars(
        sa.select(MedicalDispute).order_by(MedicalDispute.id))] == [
        world.clinic.id, world.hospital.id]
    # An institution user still gets its own institution, already chosen, and no picker.
    login.logout()
    login.as_("institution")
    form = client.get("/disputes/new").get_data(as_text=True)
    assert "data-institution-search" not in form
    assert f'<option value="{world.hospital.id}" selected>' in form


def test_the_complaint_link_form_uses_the_picker(client, login, db, world, users,
                                                 count_queries):
    complaint = Complaint(tracking_code="PICKER000001", channel="hotline", category="other",
                          description="x", received_on=date(2026, 1, 1),
                          deadline=date(2026, 2, 1))
    db.session.add(complaint)
    db.session.commit()
    path = f"/complaints/{complaint.id}"
    login.as_("coordinator")
    add_institutions(db, world, 10)
    client.get(path)
    with count_queries() as small:
        client.get(path)
    add_institutions(db, world, 190, start=10)
    with count_queries() as large:
        html = client.get(path).get_data(as_text=True)
    assert len(small) == len(large) and "批量第" not in html
    assert 'data-testid="link-institution"' in html

    def link(**fields):
        return client.post(f"{path}/link", data={
            "csrf_token": csrf_token(client, path),
            "version": db.session.get(Complaint, complaint.id).version, **fields})

    several = link(institution="人民医院")
    assert several.status_code == 422 and "<code>H1</code>" in several.get_data(as_text=True)
    assert link(institution="c1").status_code == 302  # typed without the script
    db.session.expire_all()
    assert db.session.get(Complaint, complaint.id).institution_id == world.clinic.id
    html = client.get(path).get_data(as_text=True)
    assert f'name="institution_id" value="{world.clinic.id}"' in html
    assert 'value="滨河诊所"' in html
    # The text emptied (no script to clear the id): unlinked.
    assert link(institution_id=world.clinic.id, institution="").status_code == 302
    db.session.expire_all()
    assert db.session.get(Complaint, complaint.id).institution_id is None
