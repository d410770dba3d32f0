"""Inspection services: start, record, edit until finalised, then amend only."""

import io
import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from factories import stored_files, unchanged
from sample_files import HTML_AS_JPG, PDF_BYTES, png_bytes

from casework import clock
from casework.errors import GuardFailed, Invalid, NotFound, NotPermitted, StaleObject
from casework.evidence.models import Attachment
from casework.inspections import services
from casework.inspections.models import Finding, FindingAmendment, Inspection
from casework.storage import get_storage

PDF = PDF_BYTES


@pytest.fixture
def case(world, db):
    return world.make_case(db)


@pytest.fixture
def key_task(case):
    return case.campaign.key_tasks[0]


def start(case, actor, **kw):
    values = dict(inspected_on=clock.today(), place="门诊楼", notes=None)
    values.update(kw)
    return services.start_inspection(case.id, actor=actor, **values)


def finding_input(key_task, **kw):
    values = dict(key_task_id=key_task.id, severity="moderate", description="收受红包",
                  legal_basis="《医疗机构工作人员廉洁从业九项准则》", rectification_required=True)
    values.update(kw)
    return services.FindingInput(**values)


# --- start_inspection -------------------------------------------------------------

def test_start_records_actor_and_other_inspectors(case, users, world, db):
    from casework.users.models import User

    colleague = User(username="insp2", display_name="李监督员", role="inspector",
                     region=world.district, active=True, password_hash="x")
    far = User(username="insp3", display_name="远方", role="inspector",
               region=world.other_district, active=True, password_hash="x")
    db.session.add_all([colleague, far])
    db.session.commit()
    assert [u.username for u in services.eligible_inspectors(case, users["inspector"])] == \
        ["insp2"]  # not the actor, not the other district
    inspection = start(case, users["inspector"], inspector_ids=[colleague.id])
    assert {u.username for u in inspection.inspectors} == {"insp", "insp2"}
    assert inspection.case_id == case.id and not inspection.is_final


def test_start_reports_every_problem(case, users):
    with pytest.raises(Invalid) as error:
        start(case, users["inspector"], place="  ", inspected_on=None, notes="x" * 5001)
    assert set(error.value.details["errors"]) == {"place", "inspected_on", "notes"}
    with pytest.raises(Invalid) as error:
        start(case, users["inspector"], inspected_on=clock.today() + timedelta(days=1))
    assert set(error.value.details["errors"]) == {"inspected_on"}
    with pytest.raises(Invalid) as error:
        start(case, users["inspector"], inspector_ids=[users["viewer"].id])
    assert set(error.value.details["errors"]) == {"inspectors"}
    assert services.case_inspections(case) == []


def test_start_is_idempotent_on_uuid(case, users, db):
    key = str(uuid.uuid4())
    first = start(case, users["inspector"], uuid=key)
    again = start(case, users["inspector"], uuid=key, place="别处")
    assert again.id == first.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Inspection)) == 1


def test_start_refused_on_a_closed_case(world, db, users):
    case = world.make_case(db, state="closed", final_summary="总结")
    with pytest.raises(GuardFailed):
        start(case, users["coordinator"])


@pytest.mark.parametrize("role,error", [("institution", NotPermitted), ("viewer", NotPermitted),
                                        ("admin", NotFound),
                                        ("district_coordinator", NotFound),
                                        ("other_institution", NotFound)])
def test_start_refused_outside_the_officers_of_the_case(case, users, role, error, db):
    with pytest.raises(error):
        start(case, users[role])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Inspection)) == 0


def test_eligible_inspectors_only_for_those_who_may_start(case, users):
    with pytest.raises(NotPermitted):
        services.eligible_inspectors(case, users["institution"])


# --- record_finding ---------------------------------------------------------------

def test_record_reports_every_problem_and_stores_nothing(app, case, users, key_task, db):
    inspection = start(case, users["inspector"])
    with pytest.raises(Invalid) as error:
        services.record_finding(inspection.id, services.FindingInput(
            key_task_id=None, severity="catastrophic", description="  ", legal_basis="x" * 5001),
            actor=users["inspector"], files=[("a.jpg", io.BytesIO(HTML_AS_JPG))])
    assert set(error.value.details["errors"]) == {"key_task_id", "severity", "description",
                                                  "legal_basis", "files"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Finding)) == 0
    assert stored_files(app) == []


def test_record_refuses_a_key_task_of_another_campaign(case, world, users, db):
    other = world.make_campaign(db, code="other-campaign")
    inspection = start(case, users["inspector"])
    with pytest.raises(Invalid) as error:
        services.record_finding(inspection.id, finding_input(other.key_tasks[0]),
                                actor=users["inspector"])
    assert set(error.value.details["errors"]) == {"key_task_id"}


def test_record_stores_and_attaches_files(app, case, users, key_task, db):
    inspection = start(case, users["inspector"])
    before = set(stored_files(app))
    finding = services.record_finding(
        inspection.id, finding_input(key_task), actor=users["inspector"],
        files=[("现场.png", io.BytesIO(png_bytes())), ("制度.pdf", io.BytesIO(PDF))])
    db.session.expire_all()
    rows = db.session.scalars(sa.select(Attachment).where(Attachment.finding_id == finding.id)
                              .order_by(Attachment.id)).all()
    assert [(a.kind, a.content_type, a.original_name) for a in rows] == [
        ("image", "image/png", "现场.png"), ("pdf", "application/pdf", "制度.pdf")]
    assert len(set(stored_files(app)) - before) == 2
    with get_storage().open(rows[0].storage_key) as f:
        assert f.read() == png_bytes()


def test_a_wrong_type_file_refuses_the_whole_finding(app, case, users, key_task, db):
    inspection = start(case, users["inspector"])
    before = set(stored_files(app))
    with pytest.raises(Invalid) as error:
        services.record_finding(
            inspection.id, finding_input(key_task), actor=users["inspector"],
            files=[("good.png", io.BytesIO(png_bytes())), ("photo.jpg", io.BytesIO(HTML_AS_JPG))])
    assert "photo.jpg" in error.value.message
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Finding)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 0
    assert set(stored_files(app)) == before


def test_record_is_idempotent_on_uuid(app, case, users, key_task, db):
    inspection = start(case, users["inspector"])
    key = str(uuid.uuid4())
    files = [("a.png", io.BytesIO(png_bytes()))]
    first = services.record_finding(inspection.id, finding_input(key_task),
                                    actor=users["inspector"], files=files, uuid=key)
    again = services.record_finding(inspection.id, finding_input(key_task),
                                    actor=users["inspector"],
                                    files=[("a.png", io.BytesIO(png_bytes()))], uuid=key)
    assert again.id == first.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Finding)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 1


@pytest.mark.parametrize("role", ["institution", "viewer"])
def test_record_refused_for_those_who_only_see(db, case, users, key_task, role):
    inspection = start(case, users["inspector"])
    with unchanged(db, inspection, "finding"), pytest.raises(NotPermitted):
        services.record_finding(inspection.id, finding_input(key_task), actor=users[role])


# --- update_finding, finalise_inspection, amend_finding -------------------------------

def test_update_with_a_stale_version_is_refused(case, users, key_task, db):
    inspection = start(case, users["inspector"])
    finding = services.record_finding(inspection.id, finding_input(key_task),
                                      actor=users["inspector"])
    updated = services.update_finding(finding.id, finding_input(key_task, severity="serious"),
                                      actor=users["coordinator"], version=1)
    assert updated.version == 2 and updated.severity == "serious"
    with unchanged(db, finding), pytest.raises(StaleObject):
        services.update_finding(finding.id, finding_input(key_task, description="旧页面"),
                                actor=users["inspector"], version=1)
    db.session.expire_all()
    assert db.session.get(Finding, finding.id).description == "收受红包"


def test_finalising_fails_whole_when_its_points_fail(case, users, key_task, db,
                                                     monkeypatch):
    from casework.points import services as points

    inspection = start(case, users["inspector"])
    services.record_finding(inspection.id, finding_input(key_task), actor=users["inspector"])

    def boom(*a, **k):
        raise RuntimeError("award failed")

    monkeypatch.setattr(points, "award_for_findings", boom)
    with pytest.raises(RuntimeError, match="award failed"):
        services.finalise_inspection(inspection.id, actor=users["inspector"])
    db.session.expire_all()
    assert db.session.get(Inspection, inspection.id).finalised_at is None


def test_a_failing_write_keeps_neither_the_finding_nor_its_files(app, case, users, key_task,
                                                                db, monkeypatch):
    from casework.evidence import services as evidence

    inspection = start(case, users["inspector"])

    def boom(stored, **kwargs):
        assert stored_files(app)  # stored already: the rows fail after the files
        raise RuntimeError("rows failed")

    monkeypatch.setattr(evidence, "attach", boom)
    with pytest.raises(RuntimeError, match="rows failed"):
        services.record_finding(inspection.id, finding_input(key_task), actor=users["inspector"],
                                files=[("制度.pdf", io.BytesIO(PDF))])
    db.session.expire_all()
    assert db.session.scalars(sa.select(Finding)).all() == []
    assert db.session.scalars(sa.select(Attachment)).all() == []
    assert stored_files(app) == []


def test_finalise_locks_findings(case, users, key_task, db):
    inspection = start(case, users["inspector"])
    finding = services.record_finding(inspection.id, finding_input(key_task),
                                      actor=users["inspector"])
    services.finalise_inspection(inspection.id, actor=users["inspector"])
    assert services.finalise_inspection(inspection.id, actor=users["inspector"]).is_final
    with pytest.raises(GuardFailed):
        services.record_finding(inspection.id, finding_input(key_task),
                                actor=users["inspector"])
    with pytest.raises(GuardFailed):
        services.update_finding(finding.id, finding_input(key_task, severity="minor"),
                                actor=users["inspector"], version=finding.version)
    with pytest.raises(GuardFailed):
        services.finding_for_editing(finding.id, users["inspector"])
    with unchanged(db, inspection), pytest.raises(NotPermitted):
        services.finalise_inspection(inspection.id, actor=users["institution"])


def test_amend_keeps_the_original_and_needs_a_reason(case, users, key_task, db):
    inspection = start(case, users["inspector"])
    finding = services.record_finding(inspection.id, finding_input(key_task),
                                      actor=users["inspector"])
    with pytest.raises(GuardFailed):  # not finalised yet: edit instead
        services.amend_finding(finding.id, actor=users["inspector"], field="severity",
                               value="serious", reason="复核")
    services.finalise_inspection(inspection.id, actor=users["inspector"])
    with pytest.raises(Invalid) as error:
        services.amend_finding(finding.id, actor=users["inspector"], field="severity",
                               value="serious", reason="  ")
    assert set(error.value.details["errors"]) == {"reason"}
    with pytest.raises(Invalid) as error:
        services.amend_finding(finding.id, actor=users["inspector"], field="key_task_id",
                               value="1", reason="复核")
    assert set(error.value.details["errors"]) == {"field"}
    services.amend_finding(finding.id, actor=users["inspector"], field="severity",
                           value="serious", reason="复核后认定情节严重")
    services.amend_finding(finding.id, actor=users["coordinator"],
                           field="rectification_required", value="no", reason="已当场整改")
    db.session.expire_all()
    finding = db.session.get(Finding, finding.id)
    assert finding.severity == "serious" and finding.rectification_required is False
    amendments = db.session.scalars(sa.select(FindingAmendment).order_by(FindingAmendment.id)).all()
    assert [(a.field, a.old_value, a.new_value) for a in amendments] == [
        ("severity", "moderate", "serious"), ("rectification_required", "yes", "no")]
    assert amendments[0].reason == "复核后认定情节严重"
    with unchanged(db, finding, "finding_amendment"), pytest.raises(NotPermitted):
        services.amend_finding(finding.id, actor=users["institution"], field="severity",
                               value="minor", reason="不服")


def test_amend_refuses_an_unreadable_yes_no(case, users, key_task):
    inspection = start(case, users["inspector"])
    finding = services.record_finding(inspection.id, finding_input(key_task),
                                      actor=users["inspector"])
    services.finalise_inspection(inspection.id, actor=users["inspector"])
    with pytest.raises(Invalid) as error:
        services.amend_finding(finding.id, actor=users["inspector"],
                               field="rectification_required", value="maybe", reason="r")
    assert set(error.value.details["errors"]) == {"value"}


def test_inspection_date_in_the_past_is_fine(case, users):
    assert start(case, users["inspector"], inspected_on=date(2021, 6, 3)).inspected_on == \
        date(2021, 6, 3)


def test_a_retry_racing_the_first_copy_returns_it(app, case, users, key_task, db, monkeypatch):
    """Both copies of a double tap pass the uuid lookup before either commits: the
    loser's insert hits the unique uuid, and it answers with the winner's row."""
    key = str(uuid.uuid4())
    inspection = start(case, users["inspector"], uuid=key)
    first = services.record_finding(inspection.id, finding_input(key_task),
                                    actor=users["inspector"], uuid=key)
    real = services._existing
    misses = {Inspection: 1, Finding: 1}

    def racing(model, value):
        if misses[model]:
            misses[model] -= 1
            return None  # as if the other copy had not committed yet
        return real(model, value)

    monkeypatch.setattr(services, "_existing", racing)
    before = set(stored_files(app))
    assert start(case, users["inspector"], uuid=key).id == inspection.id
    again = services.record_finding(inspection.id, finding_input(key_task),
                                    actor=users["inspector"], uuid=key,
                                    files=[("a.png", io.BytesIO(png_bytes()))])
    assert again.id == first.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Finding)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 0
    assert set(stored_files(app)) == before
