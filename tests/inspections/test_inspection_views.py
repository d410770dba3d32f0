"""Inspection pages through HTTP: rendering by role, multipart uploads, idempotent
double posts, 422s that keep the input, locking after finalising, constant queries."""

import io
import re
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from factories import CSRF_RE, count, unchanged
from sample_files import HTML_AS_JPG, PDF_BYTES, png_bytes

from casework import clock
from casework.evidence.models import Attachment
from casework.inspections import services
from casework.inspections.models import Finding, FindingAmendment, Inspection

PDF = PDF_BYTES


def token(client, path):
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return CSRF_RE.search(response.get_data(as_text=True)).group(1)


@pytest.fixture
def case(world, db):
    return world.make_case(db)


@pytest.fixture
def inspection(case, users):
    return services.start_inspection(case.id, actor=users["inspector"],
                                     inspected_on=clock.today(), place="门诊楼")


def add_finding(inspection, users, description="收受红包", files=()):
    task = inspection.case.campaign.key_tasks[0]
    return services.record_finding(inspection.id, services.FindingInput(
        key_task_id=task.id, severity="moderate", description=description),
        actor=users["inspector"], files=list(files))


def finding_data(client, inspection, **overrides):
    task = inspection.case.campaign.key_tasks[0]
    data = {"csrf_token": token(client, f"/inspections/{inspection.id}/findings/new"),
            "uuid": str(uuid.uuid4()), "key_task_id": str(task.id), "severity": "serious",
            "description": "药房收受回扣", "legal_basis": "第五条", "rectification_required": "y"}
    data.update(overrides)
    return data


# --- rendering by role --------------------------------------------------------------

@pytest.mark.parametrize("role", ["inspector", "coordinator"])
def test_pages_render_for_officers(client, login, case, inspection, users, role):
    finding = add_finding(inspection, users)
    login.as_(role)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'data-testid="inspection-row"' in page and 'data-testid="start-inspection"' in page
    for path in (f"/cases/{case.id}/inspections/new", f"/inspections/{inspection.id}",
                 f"/inspections/{inspection.id}/findings/new?key_task=1",
                 f"/findings/{finding.id}/edit"):
        assert client.get(path).status_code == 200, path
    page = client.get(f"/inspections/{inspection.id}").get_data(as_text=True)
    assert 'data-testid="checklist"' in page and "收受红包" in page
    assert 'data-testid="add-finding"' in page and "data-confirm" in page


def test_key_task_from_the_checklist_is_preselected(client, login, case, inspection):
    task = case.campaign.key_tasks[0]
    login.as_("inspector")
    page = client.get(f"/inspections/{inspection.id}/findings/new?key_task={task.id}")
    assert f'<option value="{task.id}" selected>' in page.get_data(as_text=True)
    page = client.get(f"/inspections/{inspection.id}/findings/new")
    assert f'<option value="{task.id}" selected>' not in page.get_data(as_text=True)


@pytest.mark.parametrize("role", ["district_coordinator", "other_institution", "admin"])
def test_pages_are_404_outside_the_jurisdiction(client, login, case, inspection, users, role):
    finding = add_finding(inspection, users)
    login.as_(role)
    for path in (f"/inspections/{inspection.id}", f"/cases/{case.id}/inspections/new",
                 f"/inspections/{inspection.id}/findings/new", f"/findings/{finding.id}/edit",
                 f"/findings/{finding.id}/amend"):
        assert client.get(path).status_code == 404, path


def test_institution_user_sees_but_cannot_act(client, login, case, inspection, users, db):
    finding = add_finding(inspection, users)
    login.as_("institution")
    page = client.get(f"/inspections/{inspection.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "收受红包" in html
    assert 'data-testid="add-finding"' not in html and "data-confirm" not in html
    assert 'data-testid="start-inspection"' not in client.get(f"/cases/{case.id}").get_data(
        as_text=True)
    for path in (f"/cases/{case.id}/inspections/new", f"/inspections/{inspection.id}/findings/new",
                 f"/findings/{finding.id}/edit"):
        assert client.get(path).status_code == 403, path
    csrf = token(client, f"/inspections/{inspection.id}")
    task = case.campaign.key_tasks[0]
    posts = {
        f"/cases/{case.id}/inspections/new": {"place": "伪造", "inspected_on": "2021-06-01"},
        f"/inspections/{inspection.id}/findings/new": {"key_task_id": task.id,
                                                       "severity": "minor",
                                                       "description": "伪造"},
        f"/findings/{finding.id}/edit": {"key_task_id": task.id, "severity": "minor",
                                         "description": "伪造", "version": 1},
        f"/inspections/{inspection.id}/finalise": {},
        f"/findings/{finding.id}/amend": {"field": "severity", "value_severity": "minor",
                                          "reason": "伪造"},
    }
    for path, data in posts.items():
        with unchanged(db, inspection, finding, "finding", "finding_amendment"):
            response = client.post(path, data={"csrf_token": csrf, **data})
        assert response.status_code == 403, path
    db.session.expire_all()
    assert count(db, Inspection) == 1 and count(db, Finding) == 1
    assert db.session.get(Finding, finding.id).description == "收受红包"
    assert db.session.get(Inspection, inspection.id).finalised_at is None


# --- starting an inspection ----------------------------------------------------------

def test_start_inspection_form_and_double_post(client, login, case, db):
    login.as_("inspector")
    page = client.get(f"/cases/{case.id}/inspections/new").get_data(as_text=True)
    assert f'value="{clock.today().isoformat()}"' in page  # today by default
    key = re.search(r'name="uuid"[^>]*value="([^"]+)"', page).group(1)
    csrf = CSRF_RE.search(page).group(1)
    data = {"csrf_token": csrf, "uuid": key, "inspected_on": clock.today().isoformat(),
            "place": "住院部", "notes": "突击检查"}
    first = client.post(f"/cases/{case.id}/inspections/new", data=data)
    second = client.post(f"/cases/{case.id}/inspections/new", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert count(db, Inspection) == 1


def test_start_inspection_errors_are_422_and_keep_input(client, login, case, db):
    login.as_("inspector")
    csrf = token(client, f"/cases/{case.id}/inspections/new")
    response = client.post(f"/cases/{case.id}/inspections/new", data={
        "csrf_token": csrf, "uuid": str(uuid.uuid4()), "inspected_on": "",
        "place": "", "notes": "我写的备注"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.count("invalid-feedback") >= 2
    assert "我写的备注" in html
    assert count(db, Inspection) == 0


# --- findings: multipart, idempotency, wrong types ----------------------------------

def test_finding_with_photo_and_document_through_multipart(app, client, login, inspection, db):
    login.as_("inspector")
    data = finding_data(client, inspection)
    data["photos"] = [(io.BytesIO(png_bytes()), "photo.png")]
    data["documents"] = [(io.BytesIO(PDF), "规定.pdf")]
    response = client.post(f"/inspections/{inspection.id}/findings/new", data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 302
    finding = db.session.scalar(sa.select(Finding))
    assert response.headers["Location"].endswith(f"/inspections/{inspection.id}")
    assert (finding.severity, finding.description, finding.rectification_required) == \
        ("serious", "药房收受回扣", True)
    kinds = sorted(a.kind for a in db.session.scalars(sa.select(Attachment)))
    assert kinds == ["image", "pdf"]
    page = client.get(f"/inspections/{inspection.id}").get_data(as_text=True)
    assert 'alt="photo.png"' in page and "规定.pdf" in page
    # The thumbnail is served through the permission-checked evidence route.
    src = re.search(r'<img src="([^"]+)" alt="photo.png"', page).group(1)
    photo = client.get(src)
    assert photo.status_code == 200 and photo.mimetype == "image/png"
    assert photo.data == png_bytes()


def test_rectification_switch_off_is_read_as_false(client, login, inspection, db):
    login.as_("inspector")
    data = finding_data(client, inspection)
    del data["rectification_required"]
    assert client.post(f"/inspections/{inspection.id}/findings/new", data=data,
                       content_type="multipart/form-data").status_code == 302
    assert db.session.scalar(sa.select(Finding)).rectification_required is False


def test_double_post_with_the_same_uuid_creates_one_finding(client, login, inspection, db):
    login.as_("inspector")
    data = finding_data(client, inspection)
    for _ in range(2):
        response = client.post(f"/inspections/{inspection.id}/findings/new",
                               data={**data, "photos": [(io.BytesIO(png_bytes()), "p.png")]},
                               content_type="multipart/form-data")
        assert response.status_code == 302
    assert count(db, Finding) == 1
    assert count(db, Attachment) == 1


def test_wrong_type_file_is_422_nothing_saved_input_kept(app, client, login, inspection, db):
    uploads = Path(app.config["UPLOAD_DIR"])
    before = {p for p in uploads.rglob("*") if p.is_file()}
    login.as_("inspector")
    data = finding_data(client, inspection, description="药房收受回扣<script>",
                        legal_basis="《条例》第十条", severity="minor")
    del data["rectification_required"]
    data["photos"] = [(io.BytesIO(png_bytes()), "ok.png"),
                      (io.BytesIO(HTML_AS_JPG), "photo.jpg")]
    response = client.post(f"/inspections/{inspection.id}/findings/new", data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-testid="file-error"' in html and "photo.jpg" in html
    assert 'data-testid="files-dropped"' in html
    # Everything typed is still there (escaped), the uuid too, the switch off.
    assert "药房收受回扣&lt;script&gt;" in html and "《条例》第十条" in html
    assert f'value="{data["uuid"]}"' in html
    assert re.search(r'id="severity-minor" value="minor"[^>]*checked', html)
    assert f'<option value="{data["key_task_id"]}" selected>' in html
    assert not re.search(r'name="rectification_required"[^>]*checked', html)
    assert count(db, Finding) == 0 and count(db, Attachment) == 0
    assert {p for p in uploads.rglob("*") if p.is_file()} == before


def test_missing_fields_are_422_with_a_message_each(client, login, inspection, db):
    login.as_("inspector")
    data = finding_data(client, inspection, key_task_id="", description=" ")
    del data["severity"]
    response = client.post(f"/inspections/{inspection.id}/findings/new", data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.count('class="invalid-feedback d-block"') == 3
    assert 'data-testid="files-dropped"' not in html
    assert "第五条" in html
    assert count(db, Finding) == 0


# --- edit, finalise, amend --------------------------------------------------------------

def test_edit_with_a_stale_version_is_the_409_page(client, login, inspection, users, db):
    finding = add_finding(inspection, users)
    login.as_("inspector")
    page = client.get(f"/findings/{finding.id}/edit").get_data(as_text=True)
    assert 'name="version"' in page and "收受红包" in page
    csrf = CSRF_RE.search(page).group(1)
    data = {"csrf_token": csrf, "key_task_id": finding.key_task_id, "severity": "minor",
            "description": "改过一次", "version": 1}
    assert client.post(f"/findings/{finding.id}/edit", data=data).status_code == 302
    with unchanged(db, finding):
        stale = client.post(f"/findings/{finding.id}/edit", data={**data, "description": "旧页"})
    assert stale.status_code == 409
    db.session.expire_all()
    assert db.session.get(Finding, finding.id).description == "改过一次"


def test_finalise_locks_and_offers_amend(client, login, inspection, users, db):
    finding = add_finding(inspection, users)
    login.as_("inspector")
    csrf = token(client, f"/inspections/{inspection.id}")
    response = client.post(f"/inspections/{inspection.id}/finalise", data={"csrf_token": csrf})
    assert response.status_code == 302
    page = client.get(f"/inspections/{inspection.id}").get_data(as_text=True)
    assert 'data-final="1"' in page and 'data-testid="amend"' in page
    assert f"/findings/{finding.id}/edit" not in page and 'data-testid="add-finding"' not in page
    assert client.get(f"/findings/{finding.id}/edit").status_code == 409
    assert client.get(f"/inspections/{inspection.id}/findings/new").status_code == 409
    with unchanged(db, finding):
        edit = client.post(f"/findings/{finding.id}/edit", data={
            "csrf_token": csrf, "key_task_id": finding.key_task_id, "severity": "minor",
            "description": "偷改", "version": 1})
    assert edit.status_code == 409
    # Amend: a missing reason is 422 with the choice kept; then it goes through.
    path = f"/findings/{finding.id}/amend"
    assert client.get(path).status_code == 200
    bad = client.post(path, data={"csrf_token": csrf, "field": "description",
                                  "value_text": "更正后的描述", "reason": ""})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "更正后的描述" in html and re.search(r'value="description"[^>]*checked', html)
    ok = client.post(path, data={"csrf_token": csrf, "field": "description",
                                 "value_text": "更正后的描述", "reason": "笔误"})
    assert ok.status_code == 302
    db.session.expire_all()
    amendment = db.session.scalar(sa.select(FindingAmendment))
    assert (amendment.old_value, amendment.new_value, amendment.reason) == \
        ("收受红包", "更正后的描述", "笔误")
    page = client.get(f"/inspections/{inspection.id}").get_data(as_text=True)
    assert 'data-testid="amendments"' in page and "<del>收受红包</del>" in page


def test_amend_rectification_required_through_the_page(client, login, inspection, users, db):
    finding = add_finding(inspection, users)
    services.finalise_inspection(inspection.id, actor=users["inspector"])
    login.as_("coordinator")
    path = f"/findings/{finding.id}/amend"
    page = client.get(path + "?field=rectification_required").get_data(as_text=True)
    assert re.search(r'value="rectification_required"[^>]*checked', page)
    assert re.search(r'id="value-flag-no" value="no"[^>]*checked', page)  # the flip, offered
    csrf = CSRF_RE.search(page).group(1)
    response = client.post(path, data={"csrf_token": csrf, "field": "rectification_required",
                                       "value_flag": "no", "value_text": "ignored",
                                       "reason": "现场已整改"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Finding, finding.id).rectification_required is False
    amendment = db.session.scalar(sa.select(FindingAmendment))
    assert (amendment.old_value, amendment.new_value) == ("yes", "no")


def test_amend_before_finalising_is_409(client, login, inspection, users):
    finding = add_finding(inspection, users)
    login.as_("inspector")
    assert client.get(f"/findings/{finding.id}/amend").status_code == 409


# --- queries ----------------------------------------------------------------------------

def test_inspection_page_queries_do_not_grow_with_findings(client, login, inspection, users,
                                                           count_queries, db):
    login.as_("inspector")

    def measure():
        with count_queries() as statements:
            assert client.get(f"/inspections/{inspection.id}").status_code == 200
        return len(statements)

    def add(i):
        add_finding(inspection, users, description=f"问题{i}",
                    files=[(f"p{i}.png", io.BytesIO(png_bytes()))])

    for i in range(2):
        add(i)
    with_two = measure()
    for i in range(2, 20):
        add(i)
    assert measure() == with_two
