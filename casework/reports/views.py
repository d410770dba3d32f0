"""Progress reports: the list (an institution's reports to write, a coordinator's to
review), the report page with its form and review actions.

Each view parses its input, calls one service and renders or redirects. Invalid input
re-renders the page with the messages next to the fields (422), what was typed kept and
nothing saved; every other domain error is errors.py's page.
"""

import uuid
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casework import labels, parsing, policy
from casework.errors import Invalid
from casework.forms import Posted
from casework.reports import forms, services
from workflows import report as report_workflow

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.app_context_processor
def _report_helpers():
    # The case page includes reports/_case_section.html and needs the same words.
    return {"period_label": labels.period_label, "report_field_labels": forms.FIELD_LABELS}


def _new_key() -> str:
    """An idempotency key for a form about to be shown: a retried POST carries it again."""
    return str(uuid.uuid4())


_int_arg = parsing.int_arg


def _date_arg(name):
    try:
        return date.fromisoformat(request.args.get(name, "").strip())
    except ValueError:
        return None


# --- list -------------------------------------------------------------------------

@bp.get("/")
@login_required
def index():
    filters = services.ReportFilters(
        campaign_id=_int_arg("campaign"), state=request.args.get("state") or None,
        period_start=_date_arg("period"))
    page = services.list_reports(current_user, filters, page=_int_arg("page") or 1)
    return render_template("reports/index.html", page=page, filters=filters,
                           choices=services.filter_choices(current_user),
                           states=report_workflow.STATES)


# --- the report page --------------------------------------------------------------

def _detail_page(report_id, posted: Posted | None = None, status=200, require=None):
    """The report page; `posted` re-shows a refused form. `require` is the action the
    refused form asked for: someone who may not do it gets 403, not a form to fix."""
    report = services.get_report(report_id, current_user)
    if require:
        policy.check(require, current_user, report)
    triggers = services.available_triggers(report, current_user)
    return render_template(
        "reports/detail.html", report=report, history=services.report_history(report),
        attachments=services.report_attachments(report),
        can_edit=services.may_edit(report, current_user),
        actions=[t for t in triggers if t in services.REVIEW_TRIGGERS],
        posted=posted, new_key=_new_key(),
    ), status


@bp.get("/<int:report_id>")
@login_required
def detail(report_id):
    return _detail_page(report_id)


def _files():
    # An empty file input still sends a part without a name: not a file.
    return [(f.filename, f.stream) for f in request.files.getlist("files") if f.filename]


@bp.post("/<int:report_id>/draft")
@login_required
def save_draft(report_id):
    form = forms.ReportForm()
    try:
        services.save_report_draft(report_id, actor=current_user, version=form.version.data,
                                   body=form.body.data, fields=form.figures(), files=_files())
    except Invalid as error:
        return _detail_page(report_id, Posted("report", request.form, error.details["errors"]),
                            422, require="report_submit")
    flash(_("Draft saved. It is not submitted yet."), "success")
    return redirect(url_for("reports.detail", report_id=report_id))


@bp.post("/<int:report_id>/submit")
@login_required
def submit(report_id):
    form = forms.ReportForm()
    try:
        services.submit_report(report_id, actor=current_user, version=form.version.data,
                               body=form.body.data, fields=form.figures(), files=_files(),
                               request_key=form.request_key.data or None)
    except Invalid as error:
        return _detail_page(report_id, Posted("report", request.form, error.details["errors"]),
                            422, require="report_submit")
    return _done(report_id, "submit")


def _done(report_id, trigger):
    flash(_("Done: %(action)s.", action=labels.trigger_label(trigger, "report")), "success")
    return redirect(url_for("reports.detail", report_id=report_id))


@bp.post("/<int:report_id>/fire/<trigger>")
@login_required
def fire(report_id, trigger):
    form = forms.review_form(trigger)
    if not form.validate_on_submit() and trigger in services.REVIEW_TRIGGERS:
        return _detail_page(report_id, Posted(trigger, request.form, form.errors), 422,
                            require=f"report_{trigger}")
    services.fire_report(report_id, trigger, actor=current_user, version=form.version.data,
                         comment=form.comment.data)
    return _done(report_id, trigger)
