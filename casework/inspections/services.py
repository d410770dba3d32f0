"""Inspections and findings: start, record, edit until finalised, then amend only."""

from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from casework import clock, policy
from casework.campaigns.models import KeyTask
from casework.cases.services import get_case
from casework.errors import GuardFailed, Invalid, NotFound, StaleObject
from casework.evidence import services as evidence
from casework.extensions import db
from casework.inspections.models import SEVERITIES, Finding, FindingAmendment, Inspection
from casework.institutions.models import Region
from casework.users.models import User
from workflows import binding
from workflows import case as case_workflow

MAX_TEXT = 5000
AMENDABLE_FIELDS = ("description", "legal_basis", "severity", "rectification_required")


@dataclass
class FindingInput:
    key_task_id: int | None
    severity: str | None
    description: str | None
    legal_basis: str | None = None
    rectification_required: bool = True


def _existing(model, uuid: str | None):
    return uuid and db.session.scalar(sa.select(model).where(model.uuid == uuid))


def start_inspection(case_id: int, *, actor, inspected_on: date | None, place: str | None,
                     inspector_ids: list[int] | None = None, notes: str | None = None,
                     uuid: str | None = None) -> Inspection:
    """Start an inspection of a case; the actor is always one of its inspectors.

    Idempotent on `uuid`: the same uuid returns the inspection created the first time.
    Raises Invalid (missing or bad fields), GuardFailed (case closed), NotPermitted.
    """
    case = get_case(case_id, actor)
    policy.check("inspection_start", actor, case)
    if (found := _existing(Inspection, uuid)):
        return found
    errors: dict[str, list[str]] = {}
    place = (place or "").strip()
    if not place:
        errors["place"] = [_("Enter where the inspection takes place.")]
    elif len(place) > 200:
        errors["place"] = [_("At most %(max)d characters.", max=200)]
    if inspected_on is None:
        errors["inspected_on"] = [_("Enter the date of the inspection.")]
    elif inspected_on > clock.today():
        errors["inspected_on"] = [_("The inspection date cannot be in the future.")]
    if notes and len(notes) > MAX_TEXT:
        errors["notes"] = [_("At most %(max)d characters.", max=MAX_TEXT)]
    inspectors = [actor]
    if inspector_ids:
        others = db.session.scalars(sa.select(User).where(
            User.id.in_(set(inspector_ids) - {actor.id}), User.role == "inspector",
            User.active.is_(True))).all()
        if len(others) != len(set(inspector_ids) - {actor.id}):
            errors["inspectors"] = [_("Choose active inspectors only.")]
        inspectors += [u for u in others if policy.in_jurisdiction(u, case.institution)]
    if errors:
        raise Invalid(errors)
    if case.state in case_workflow.CLOSED_STATES:
        raise GuardFailed([_("The case is closed; reopen it before inspecting.")])
    inspection = Inspection(case=case, inspected_on=inspected_on, place=place,
                            notes=(notes or "").strip() or None, created_by_id=actor.id,
                            inspectors=inspectors)
    if uuid:
        inspection.uuid = uuid
    try:
        with binding.unit_of_work():
            db.session.add(inspection)
    except sa.exc.IntegrityError:
        # A retried POST that raced the first copy past the lookup above.
        if (found := _existing(Inspection, uuid)):
            return found
        raise
    return inspection


def get_inspection(inspection_id: int, actor) -> Inspection:
    inspection = db.session.scalar(
        sa.select(Inspection).where(Inspection.id == inspection_id).options(
            selectinload(Inspection.inspectors),
            selectinload(Inspection.findings).options(
                joinedload(Finding.key_task), selectinload(Finding.attachments),
                selectinload(Finding.amendments)),
        ))
    if inspection is None or not policy.allows("inspection_view", actor, inspection):
        raise NotFound()
    return inspection


def case_inspections(case) -> list[Inspection]:
    return list(db.session.scalars(
        sa.select(Inspection).where(Inspection.case_id == case.id)
        .options(selectinload(Inspection.inspectors), selectinload(Inspection.findings))
        .order_by(Inspection.inspected_on.desc(), Inspection.id.desc())))


def eligible_inspectors(case, actor) -> list[User]:
    """Active inspectors, other than the actor, whose jurisdiction holds the case's
    institution: the choices for "other inspectors" when starting an inspection.

    Raises NotPermitted unless the actor may start an inspection of the case.
    """
    policy.check("inspection_start", actor, case)
    return list(db.session.scalars(
        sa.select(User).join(Region, Region.id == User.region_id)
        .where(User.role == "inspector", User.active.is_(True), User.id != actor.id,
               sa.literal(case.institution.region.path).startswith(Region.path))
        .order_by(User.display_name, User.id)))


def inspection_for_recording(inspection_id: int, actor) -> Inspection:
    """The inspection, for the form that records a finding in it.

    Raises NotFound (not visible), NotPermitted (may not edit), GuardFailed (finalised).
    """
    inspection = get_inspection(inspection_id, actor)
    policy.check("inspection_edit", actor, inspection)
    if inspection.is_final:
        raise GuardFailed([_("The inspection is finalised; findings can only be amended.")])
    return inspection


def finding_for_editing(finding_id: int, actor) -> Finding:
    """The finding, for its edit form: as inspection_for_recording, for one finding."""
    finding = get_finding(finding_id, actor)
    policy.check("inspection_edit", actor, finding.inspection)
    if finding.inspection.is_final:
        raise GuardFailed([_("The inspection is finalised; findings can only be amended.")])
    return finding


def finding_for_amending(finding_id: int, actor) -> Finding:
    """The finding, for its amendment form.

    Raises NotFound, NotPermitted, GuardFailed (inspection not finalised yet).
    """
    finding = get_finding(finding_id, actor)
    policy.check("finding_amend", actor, finding)
    if not finding.inspection.is_final:
        raise GuardFailed([_("The inspection is not finalised: edit the finding instead.")])
    return finding


def _validate_finding(data: FindingInput, campaign_id: int) -> tuple[dict, KeyTask | None]:
    errors: dict[str, list[str]] = {}
    task = data.key_task_id and db.session.get(KeyTask, data.key_task_id)
    if not task or task.campaign_id != campaign_id:
        errors["key_task_id"] = [_("Choose a key task of this campaign.")]
    if data.severity not in SEVERITIES:
        errors["severity"] = [_("Choose a severity.")]
    description = (data.description or "").strip()
    if not description:
        errors["description"] = [_("Describe the finding.")]
    elif len(description) > MAX_TEXT:
        errors["description"] = [_("At most %(max)d characters.", max=MAX_TEXT)]
    if data.legal_basis and len(data.legal_basis) > MAX_TEXT:
        errors["legal_basis"] = [_("At most %(max)d characters.", max=MAX_TEXT)]
    return errors, task


def record_finding(inspection_id: int, data: FindingInput, *, actor,
                   files: list[tuple[str, BinaryIO]] = (), uuid: str | None = None) -> Finding:
    """Add a finding (with photos/documents) to an inspection that is not finalised.

    Idempotent on `uuid`. Raises Invalid with every problem (fields and files together;
    nothing is stored then), GuardFailed when the inspection is finalised, NotPermitted.
    """
    inspection = get_inspection(inspection_id, actor)
    policy.check("inspection_edit", actor, inspection)
    if (found := _existing(Finding, uuid)):
        return found
    if inspection.is_final:
        raise GuardFailed([_("The inspection is finalised; findings can only be amended.")])
    errors, task = _validate_finding(data, inspection.case.campaign_id)
    stored = evidence.store_with_errors(files, errors)
    try:
        with evidence.kept_only_if_committed(stored):
            finding = Finding(inspection=inspection, case_id=inspection.case_id, key_task=task,
                              severity=data.severity, description=data.description.strip(),
                              legal_basis=(data.legal_basis or "").strip() or None,
                              rectification_required=bool(data.rectification_required),
                              created_by_id=actor.id)
            if uuid:
                finding.uuid = uuid
            db.session.add(finding)
            db.session.flush()
            evidence.attach(stored, actor=actor, finding=finding)
    except sa.exc.IntegrityError:
        # A retried POST that raced the first copy past the lookup above.
        if (found := _existing(Finding, uuid)):
            return found
        raise
    return finding


def get_finding(finding_id: int, actor) -> Finding:
    finding = db.session.get(Finding, finding_id)
    if finding is None or not policy.allows("inspection_view", actor, finding.inspection):
        raise NotFound()
    return finding


def update_finding(finding_id: int, data: FindingInput, *, actor, version: int,
                   files: list[tuple[str, BinaryIO]] = ()) -> Finding:
    """Edit a finding while its inspection is open; `version` guards against lost updates."""
    finding = get_finding(finding_id, actor)
    policy.check("inspection_edit", actor, finding.inspection)
    if finding.inspection.is_final:
        raise GuardFailed([_("The inspection is finalised; findings can only be amended.")])
    if finding.version != version:
        raise StaleObject(current_version=finding.version)
    errors, task = _validate_finding(data, finding.inspection.case.campaign_id)
    stored = evidence.store_with_errors(files, errors)
    try:
        with evidence.kept_only_if_committed(stored):
            finding.key_task = task
            finding.severity = data.severity
            finding.description = data.description.strip()
            finding.legal_basis = (data.legal_basis or "").strip() or None
            finding.rectification_required = bool(data.rectification_required)
            evidence.attach(stored, actor=actor, finding=finding)
    except StaleDataError:
        raise StaleObject() from None
    return finding


def finalise_inspection(inspection_id: int, *, actor) -> Inspection:
    """Lock the inspection's findings; later corrections go through amend_finding.
    The matching points rules (source "finding") award their points in the same commit."""
    inspection = get_inspection(inspection_id, actor)
    policy.check("inspection_edit", actor, inspection)
    if inspection.is_final:
        return inspection  # a double tap finalises once
    from casework.points.services import award_for_findings

    # The findings' bad-conduct points commit with the finalisation or not at all.
    with binding.unit_of_work():
        inspection.finalised_at = clock.now()
        inspection.finalised_by_id = actor.id
        award_for_findings(inspection, actor)
    return inspection


def amend_finding(finding_id: int, *, actor, field: str, value, reason: str | None
                  ) -> FindingAmendment:
    """Correct a finalised finding; the amendment keeps the original value."""
    finding = get_finding(finding_id, actor)
    policy.check("finding_amend", actor, finding)
    errors: dict[str, list[str]] = {}
    if not finding.inspection.is_final:
        raise GuardFailed([_("The inspection is not finalised: edit the finding instead.")])
    if field not in AMENDABLE_FIELDS:
        errors["field"] = [_("This field cannot be amended.")]
    if not (reason or "").strip():
        errors["reason"] = [_("Give the reason for the amendment.")]
    elif len(reason) > MAX_TEXT:
        errors["reason"] = [_("At most %(max)d characters.", max=MAX_TEXT)]
    if field == "rectification_required":
        # bool("no") is True: read yes/no answers, refuse anything else.
        value = _YES_NO.get(value if isinstance(value, bool) else str(value).strip().lower())
        if value is None:
            errors["value"] = [_("Choose yes or no.")]
    if field == "severity" and value not in SEVERITIES:
        errors["value"] = [_("Choose a severity.")]
    if field == "description" and not (value or "").strip():
        errors["value"] = [_("Describe the finding.")]
    if isinstance(value, str) and len(value) > MAX_TEXT:
        errors["value"] = [_("At most %(max)d characters.", max=MAX_TEXT)]
    if errors:
        raise Invalid(errors)
    with binding.unit_of_work():
        amendment = FindingAmendment(
            finding=finding, field=field, old_value=_text(getattr(finding, field)),
            new_value=_text(value), reason=reason.strip(), actor_id=actor.id)
        setattr(finding, field, value.strip() if isinstance(value, str) else value)
        db.session.add(amendment)
    return amendment


_YES_NO = {True: True, False: False, "yes": True, "no": False, "true": True, "false": False,
           "1": True, "0": False, "on": True, "off": False}


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
