"""Quarterly progress reports (进展报告): an institution fills one in and submits it; a
coordinator accepts it or returns it with a reason.

The scheduler creates the reports and marks them overdue (casework/reports/sweeps.py);
everything here is what people do with them. Every state change goes through
binding.apply; a draft save changes no state and writes no history event.
"""

import re
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from casework import clock, policy, validation
from casework.campaigns.models import Campaign
from casework.cases.models import InspectionCase
from casework.errors import GuardFailed, IllegalTrigger, Invalid, NotFound, StaleObject
from casework.evidence import services as evidence
from casework.evidence.models import Attachment
from casework.extensions import db
from casework.history.models import HistoryEvent
from casework.history.services import history_of
from casework.institutions.models import Institution
from casework.pagination import Page, paginate
from casework.reports.models import ProgressReport
from workflows import binding
from workflows import report as report_workflow

MAX_TEXT = 20000
MAX_NEXT_STEPS = 5000
# Far above any real quarter, low enough to catch a slipped key (100000 inspections).
MAX_COUNT = 99999
COUNT_FIELDS = ("self_inspections", "problems_found", "problems_rectified")
FIELD_NAMES = (*COUNT_FIELDS, "next_steps")
# What needs doing first: for an institution, what it has to write; for a coordinator,
# what waits for review.
TODO_ORDER = {
    "institution": ("returned", "overdue", "pending", "submitted", "accepted"),
    "default": ("submitted", "overdue", "returned", "pending", "accepted"),
}
# Triggers fired from a review button with a comment; submit has its own service,
# mark_overdue belongs to the scheduler.
REVIEW_TRIGGERS = ("accept", "return")


# --- reading ----------------------------------------------------------------------

def _options():
    return (
        joinedload(ProgressReport.case).joinedload(InspectionCase.institution)
        .joinedload(Institution.region),
        joinedload(ProgressReport.case).joinedload(InspectionCase.campaign),
        joinedload(ProgressReport.submitted_by),
    )


def get_report(report_id: int, actor) -> ProgressReport:
    """The report, if it exists and the actor may see it; NotFound otherwise (no hint which)."""
    report = db.session.scalar(
        sa.select(ProgressReport).where(ProgressReport.id == report_id).options(*_options()))
    if report is None or not policy.allows("report_view", actor, report):
        raise NotFound()
    return report


@dataclass(frozen=True)
class ReportFilters:
    campaign_id: int | None = None
    state: str | None = None
    period_start: date | None = None


def list_reports(actor, filters: ReportFilters = ReportFilters(), *, page: int = 1,
                 per_page: int = 50) -> Page:
    """Reports the actor may see (an institution: its own), filtered; what needs the
    actor first (see TODO_ORDER), then by due date. Raises NotPermitted (a role without
    a report list), Invalid for an unknown state."""
    policy.check("report_list", actor)
    order = TODO_ORDER["institution" if actor.role == "institution" else "default"]
    priority = sa.case({s: i for i, s in enumerate(order)}, value=ProgressReport.state)
    query = (
        sa.select(ProgressReport)
        .join(InspectionCase, InspectionCase.id == ProgressReport.case_id)
        .join(Institution, Institution.id == InspectionCase.institution_id)
        .options(joinedload(ProgressReport.case).joinedload(InspectionCase.institution),
                 joinedload(ProgressReport.case).joinedload(InspectionCase.campaign))
        .order_by(priority, ProgressReport.due_on, Institution.code, ProgressReport.id)
    )
    query = policy.visible_institutions(query, actor, Institution)
    if filters.state:
        if filters.state not in report_workflow.STATES:
            raise Invalid({"state": [_("Unknown state.")]})
        query = query.where(ProgressReport.state == filters.state)
    if filters.campaign_id:
        query = query.where(InspectionCase.campaign_id == filters.campaign_id)
    if filters.period_start:
        query = query.where(ProgressReport.period_start == filters.period_start)
    return paginate(query, page=page, per_page=per_page)


@dataclass
class FilterChoices:
    campaigns: list       # [Campaign]
    periods: list         # [(period_start, period_end)], newest first


def filter_choices(actor) -> FilterChoices:
    """The campaigns and periods that the actor's reports belong to, for the list filters."""
    base = (sa.select(ProgressReport.id)
            .join(InspectionCase, InspectionCase.id == ProgressReport.case_id)
            .join(Institution, Institution.id == InspectionCase.institution_id))
    visible_ids = policy.visible_institutions(base, actor, Institution)
    periods = db.session.execute(
        sa.select(ProgressReport.period_start, ProgressReport.period_end)
        .where(ProgressReport.id.in_(visible_ids))
        .distinct().order_by(ProgressReport.period_start.desc())).all()
    campaigns = db.session.scalars(
        sa.select(Campaign).where(Campaign.id.in_(
            sa.select(InspectionCase.campaign_id).join(
                ProgressReport, ProgressReport.case_id == InspectionCase.id)
            .where(ProgressReport.id.in_(visible_ids))))
        .order_by(Campaign.starts_on.desc())).all()
    return FilterChoices(campaigns=list(campaigns), periods=[tuple(p) for p in periods])


def case_reports(case) -> list[ProgressReport]:
    """The case's reports, latest period first (the case page's section)."""
    return list(db.session.scalars(
        sa.select(ProgressReport).where(ProgressReport.case_id == case.id)
        .order_by(ProgressReport.period_start.desc())))


def report_attachments(report) -> list[Attachment]:
    return list(db.session.scalars(
        sa.select(Attachment).where(Attachment.report_id == report.id)
        .options(joinedload(Attachment.uploaded_by)).order_by(Attachment.id)))


def report_history(report) -> list[HistoryEvent]:
    return history_of(report)


def available_triggers(report, actor) -> list[str]:
    return binding.available_triggers(report, actor)


def may_edit(report, actor) -> bool:
    """Whether the actor may write the report now (save a draft or submit)."""
    return (report.state in report_workflow.EDITABLE_STATES
            and policy.allows("report_submit", actor, report))


# --- validation -------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?\d+")


def _count(value, field: str, errors: dict, *, required: bool) -> int | None:
    if isinstance(value, bool):
        errors[field] = [_("Enter a whole number.")]
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value:
            value = None
        elif not _NUMBER.fullmatch(value):
            errors[field] = [_("Enter a whole number.")]
            return None
        else:
            value = int(value)
    if value is None:
        if required:
            errors[field] = [_("Enter the number (0 if none).")]
        return None
    if not isinstance(value, int):
        errors[field] = [_("Enter a whole number.")]
        return None
    if value < 0:
        errors[field] = [_("Cannot be negative.")]
    elif value > MAX_COUNT:
        errors[field] = [_("At most %(max)d.", max=MAX_COUNT)]
    return value


_text = validation.text


def validate_report(body, fields: dict | None, *, final: bool) -> tuple[str | None, dict, dict]:
    """(body, fields, errors) from raw input (strings from a form, or ints from the API).

    `final` (a submit): the text and the three figures are required. Always: the figures
    are whole numbers, not negative, and no more problems rectified than found.
    """
    fields = fields or {}
    errors: dict[str, list[str]] = {}
    body = _text(body, "body", errors, limit=MAX_TEXT,
                 required_msg=_("Write the report.") if final else None)
    clean = {name: _count(fields.get(name), name, errors, required=final)
             for name in COUNT_FIELDS}
    clean["next_steps"] = _text(fields.get("next_steps"), "next_steps", errors,
                                limit=MAX_NEXT_STEPS)
    found, rectified = clean["problems_found"], clean["problems_rectified"]
    if ("problems_found" not in errors and "problems_rectified" not in errors
            and found is not None and rectified is not None and rectified > found):
        errors["problems_rectified"] = [_("Cannot be more than the problems found.")]
    return body, clean, errors


# --- writing ----------------------------------------------------------------------

def _not_editable() -> GuardFailed:
    return GuardFailed([_("The report has been submitted; it can only be changed after it "
                          "is returned.")])


def _check_editable(locked) -> None:
    if locked.state not in report_workflow.EDITABLE_STATES:
        raise _not_editable()


def save_report_draft(report_id: int, *, actor, version: int | None, body: str | None,
                      fields: dict | None, files: list[tuple[str, BinaryIO]] = ()
                      ) -> ProgressReport:
    """Save what the institution has written so far, and any files, without submitting.

    Only while the report is pending, returned or overdue. The figures are checked as
    far as they are filled in. A retried save of exactly what is stored already (a
    double tap) succeeds without writing. Raises NotFound, NotPermitted, GuardFailed
    (submitted or accepted), Invalid (nothing is stored then), StaleObject.
    """
    report = get_report(report_id, actor)
    policy.check("report_submit", actor, report)
    if report.state not in report_workflow.EDITABLE_STATES:
        raise _not_editable()
    body, clean, errors = validate_report(body, fields, final=False)
    if errors:
        raise Invalid(errors)
    if (version != report.version and not files and body == report.body
            and clean == (report.fields or {})):
        return report
    stored = evidence.store_with_errors(files, {})
    with evidence.kept_only_if_committed(stored):
        with binding.changing(ProgressReport, report.id, version=version,
                              check=_check_editable) as locked:
            locked.body = body
            locked.fields = clean
            evidence.attach(stored, actor=actor, report=locked)
    return locked


def _earlier_submit(report_id: int, request_key: str | None) -> HistoryEvent | None:
    """The submit event an earlier attempt with this idempotency key wrote, if any."""
    if not request_key:
        return None
    events = db.session.scalars(sa.select(HistoryEvent).where(
        HistoryEvent.object_type == report_workflow.NAME, HistoryEvent.object_id == report_id,
        HistoryEvent.trigger == "submit"))
    return next((e for e in events if (e.data or {}).get("request_key") == request_key), None)


def submit_report(report_id: int, *, actor, version: int | None, body: str | None,
                  fields: dict | None, files: list[tuple[str, BinaryIO]] = (),
                  request_key: str | None = None) -> ProgressReport:
    """Submit the report (fires `submit`) with its text, figures and optional files
    (photos or PDF). Text and figures are saved in the same transaction as the state
    change, or not at all. A first submission after the due date marks the report late.

    Idempotent on `request_key`: a retried POST returns the report as the first attempt
    left it. Raises Invalid (every problem at once; no file is stored then), and the
    binding's errors (NotPermitted, IllegalTrigger, StaleObject, GuardFailed).
    """
    report = get_report(report_id, actor)
    policy.check("report_submit", actor, report)
    if _earlier_submit(report.id, request_key):
        return report
    # A report past editing is a conflict whatever was typed.
    binding.ensure_allowed(report, "submit", actor=actor)
    # Lateness is decided by the first submission: one sent back after the due date
    # and corrected is not late because of the return.
    late = report.late if report.submitted_at else clock.today() > report.due_on
    body, clean, errors = validate_report(body, fields, final=True)
    stored = evidence.store_with_errors(files, errors)
    try:
        with evidence.kept_only_if_committed(stored):
            evidence.attach(stored, actor=actor, report=report)
            binding.apply(
                report, "submit", actor=actor, version=version,
                changes={"body": body, "fields": clean},
                effects={"submitted_at": clock.now(), "submitted_by_id": actor.id,
                         "late": late},
                request_key=request_key, files=len(stored))
    except (StaleObject, IllegalTrigger):
        # The same request, retried while the first was still committing: it waited for
        # the row lock and found the report submitted already.
        if _earlier_submit(report.id, request_key):
            return get_report(report_id, actor)
        raise
    return report


def fire_report(report_id: int, trigger: str, *, actor, version: int | None,
                comment: str | None = None):
    """Accept or return a submitted report (coordinator); returning needs a reason.

    Raises IllegalTrigger for any other trigger, Invalid for a comment that is too long,
    and the binding's errors. Returns the history event.
    """
    return binding.apply_listed(get_report(report_id, actor), trigger, REVIEW_TRIGGERS,
                                actor=actor, version=version, comment=comment,
                                max_comment=MAX_NEXT_STEPS)
