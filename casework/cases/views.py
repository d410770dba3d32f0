from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casework import labels, parsing
from casework.campaigns import services as campaign_services
from casework.cases import mobilisation, services
from casework.cases.forms import MobilisationForm
from casework.cases.overview import case_overview
from casework.errors import Invalid
from casework.forms import TransitionForm
from casework.institutions import services as institution_services
from workflows import case as case_workflow
from workflows.diagram import render_svg

bp = Blueprint("cases", __name__, url_prefix="/cases")


_int_arg = parsing.int_arg


@bp.get("/")
@login_required
def index():
    filters = services.CaseFilters(
        campaign_id=_int_arg("campaign"),
        region_id=_int_arg("region"),
        institution_type=request.args.get("type") or None,
        state=request.args.get("state") or None,
        text=(request.args.get("q") or "")[:100] or None,
    )
    page = services.list_cases(current_user, filters, page=_int_arg("page") or 1)
    return render_template(
        "cases/index.html", page=page, filters=filters,
        campaigns=campaign_services.list_campaigns(current_user),
        regions=institution_services.visible_regions(current_user),
        types=labels.INSTITUTION_TYPES, states=case_workflow.STATES,
    )


@bp.get("/<int:case_id>")
@login_required
def detail(case_id):
    overview = case_overview(case_id, current_user)
    case = overview.case
    return render_template(
        "cases/detail.html", case=case, overview=overview, history=overview.history,
        triggers=overview.triggers, form=TransitionForm(version=case.version),
        diagram=render_svg(case_workflow.NAME, case.state,
                           state_labels={s: str(labels.state_label(s))
                                         for s in case_workflow.STATES},
                           trigger_labels={t: str(labels.trigger_label(t))
                                           for t in case_workflow.TRIGGERS}),
    )


@bp.post("/<int:case_id>/fire/<trigger>")
@login_required
def fire(case_id, trigger):
    form = TransitionForm()
    if not form.validate_on_submit():
        raise Invalid(form.errors)
    services.fire_case(case_id, trigger, actor=current_user, version=form.version.data,
                       comment=form.comment.data, final_summary=form.final_summary.data)
    flash(_("Done: %(action)s.", action=labels.trigger_label(trigger)), "success")
    return redirect(url_for("cases.detail", case_id=case_id))


@bp.route("/<int:case_id>/mobilisation", methods=["GET", "POST"])
@login_required
def mobilisation_record(case_id):
    """The institution files (or edits) the case's mobilisation record."""
    case, record = mobilisation.get_for_filing(case_id, current_user)
    form = MobilisationForm(obj=record) if request.method == "GET" else MobilisationForm()
    if request.method == "GET":
        form.version.data = record.version if record else 0
        return render_template("cases/mobilisation.html", case=case, record=record, form=form,
                               late=mobilisation.phase_over(case))
    errors = form.errors if not form.validate() else {}
    if not errors:
        try:
            mobilisation.file_mobilisation_record(
                case_id, actor=current_user, leading_group=form.leading_group.data,
                plan_summary=form.plan_summary.data, version=form.version.data)
        except Invalid as error:
            errors = error.details.get("errors", {})
    if errors:
        # The form again with what was typed and why it was refused.
        for name, messages in errors.items():
            if name in form and not form[name].errors:
                form[name].errors = list(messages)
        return render_template("cases/mobilisation.html", case=case, record=record, form=form,
                               late=mobilisation.phase_over(case)), 422
    flash(_("The mobilisation record is saved."), "success")
    return redirect(url_for("cases.detail", case_id=case_id) + "#mobilisation")
