"""Mobilisation records (动员部署): the institution's leading group and the main points of
its implementation plan, filed from the case page. One per case.

Filed in the mobilisation phase, or later and then counted as late (after the campaign's
mobilisation phase ended); edits check the version read, so two people cannot silently
overwrite each other. Each filing or edit is a history event on the case.
"""

from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from casework import clock, policy
from casework.campaigns.phases import mobilisation_end
from casework.cases.models import InspectionCase, MobilisationRecord
from casework.cases.services import get_case
from casework.errors import GuardFailed, Invalid, StaleObject
from casework.extensions import db
from workflows import binding
from workflows import case as case_workflow

MAX_LENGTH = 10000


def mobilisation_record(case: InspectionCase) -> MobilisationRecord | None:
    return db.session.scalar(
        sa.select(MobilisationRecord).where(MobilisationRecord.case_id == case.id))


def is_late(record: MobilisationRecord, case: InspectionCase) -> bool:
    """Filed after the campaign's mobilisation phase ended."""
    ends = mobilisation_end(case.campaign)
    return ends is not None and record.submitted_at >= clock.start_of_day(ends + timedelta(days=1))


def phase_over(case: InspectionCase, today: date | None = None) -> bool:
    ends = mobilisation_end(case.campaign)
    return ends is not None and (today or clock.today()) > ends


def get_for_filing(case_id: int, actor) -> tuple[InspectionCase, MobilisationRecord | None]:
    """The case and its record, if the actor may file it (NotFound, NotPermitted)."""
    case = get_case(case_id, actor)
    policy.check("case_mobilisation_file", actor, case)
    return case, mobilisation_record(case)


def file_mobilisation_record(case_id: int, *, actor, leading_group: str, plan_summary: str,
                             version: int) -> MobilisationRecord:
    """File the case's record (version 0: none read) or replace it (the version read).

    Raises NotFound, NotPermitted, GuardFailed (case closed), Invalid (blank or too long
    texts, in the user's language), StaleObject (changed since it was read).
    """
    case, record = get_for_filing(case_id, actor)
    if case.state in case_workflow.CLOSED_STATES:
        raise GuardFailed([_("The case is closed: its mobilisation record can no longer "
                             "be changed.")])
    texts = {"leading_group": (leading_group or "").strip(),
             "plan_summary": (plan_summary or "").strip()}
    errors = {}
    for name, text in texts.items():
        if not text:
            errors[name] = [_("This field is required.")]
        elif len(text) > MAX_LENGTH:
            errors[name] = [_("At most %(max)d characters.", max=MAX_LENGTH)]
    if errors:
        raise Invalid(errors)
    current = record.version if record else 0
    if version != current:
        raise StaleObject(current_version=current)
    late = phase_over(case)
    try:
        with binding.unit_of_work():
            if record is None:
                record = MobilisationRecord(case_id=case.id, submitted_by_id=actor.id, **texts)
                db.session.add(record)
                event = "mobilisation_record_filed"
            else:
                record.leading_group = texts["leading_group"]
                record.plan_summary = texts["plan_summary"]
                record.submitted_by_id = actor.id
                event = "mobilisation_record_updated"
            db.session.flush()
            binding.record(case, event, actor=actor, data={"late": late})
    except (IntegrityError, StaleDataError) as error:
        # Someone else filed or changed it between our read and our write (the unit has
        # rolled back).
        raise StaleObject() from error
    return record


DEMO_LEADING_GROUP = ("组　长：院长\n副组长：分管副院长、党委副书记\n"
                      "成　员：医务科、护理部、纪检监察室、财务科、药剂科负责人")
DEMO_PLAN = ("一、成立专项整治工作领导小组，办公室设在医务科；\n"
             "二、对照重点任务开展自查自纠，建立问题清单和整改台账；\n"
             "三、每季度末上报工作进展，接受群众监督。")


def load_demo_records() -> int:
    """Demo data: mobilisation records for two cases in three (the others stay missing,
    to show on the campaign page and in the report). Seeded data, so no history event:
    the case histories keep showing only the phase moves. Idempotent; returns records
    added."""
    from casework.institutions.models import Institution
    from casework.users.models import User

    cases = db.session.scalars(
        sa.select(InspectionCase).join(Institution)
        .where(~sa.exists().where(MobilisationRecord.case_id == InspectionCase.id))
        .order_by(InspectionCase.id)).all()
    users = dict(db.session.execute(
        sa.select(User.institution_id, User.id).where(User.role == "institution")).all())
    added = 0
    with binding.unit_of_work():
        for case in cases:
            if case.institution_id % 3 == 0:
                continue
            # Filed in good time: a week before the mobilisation phase ended.
            ends = mobilisation_end(case.campaign)
            filed = (clock.start_of_day(ends - timedelta(days=7)) + timedelta(hours=10)
                     if ends else clock.now())
            db.session.add(MobilisationRecord(
                case_id=case.id, leading_group=DEMO_LEADING_GROUP, plan_summary=DEMO_PLAN,
                submitted_at=filed, submitted_by_id=users.get(case.institution_id)))
            added += 1
    return added
