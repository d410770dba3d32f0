"""Bad-conduct points pages: the points rules (list, add, edit, deactivate), an institution's ledger (with
manual awards and reversals) and the overview of institutions with their totals.

Each view parses its input, calls one service and renders or redirects; invalid input
re-renders the page with the messages next to the fields (422), nothing saved.
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casework import labels, policy
from casework.errors import Invalid
from casework.forms import Posted
from casework.institutions.services import get_institution
from casework.points import forms, services

bp = Blueprint("points", __name__)


@bp.context_processor
def _vocabulary():
    return {"complaint_categories": labels.COMPLAINT_CATEGORIES}


# --- rules ----------------------------------------------------------------------------

@bp.get("/points/rules")
@login_required
def rules():
    return render_template("points/rules.html", rules=services.list_rules(current_user))


def _rule_input(form):
    return services.RuleInput(source=form.source.data, category=form.category.data,
                              institution_points=form.institution_points.data,
                              staff_points=form.staff_points.data,
                              description=form.description.data,
                              description_en=form.description_en.data)


def _rule_page(form, rule, errors=None, status=200):
    return render_template("points/rule_form.html", form=form, rule=rule,
                           errors=errors or {}), status


@bp.route("/points/rules/new", methods=["GET", "POST"])
@login_required
def rule_new():
    policy.check("points_rules_manage", current_user)
    form = forms.RuleForm()
    if request.method == "GET":
        form.source.data, form.institution_points.data, form.staff_points.data = \
            "complaint", "0", "0"
        return _rule_page(form, None)
    try:
        if not form.validate_on_submit():
            raise Invalid(form.errors)
        services.add_rule(_rule_input(form), actor=current_user)
    except Invalid as error:
        return _rule_page(form, None, error.details["errors"], 422)
    flash(_("Rule saved."), "success")
    return redirect(url_for("points.rules"))


@bp.route("/points/rules/<int:rule_id>/edit", methods=["GET", "POST"])
@login_required
def rule_edit(rule_id):
    rule = services.get_rule(rule_id, current_user)
    policy.check("points_rules_manage", current_user)
    form = forms.RuleForm(obj=rule) if request.method == "GET" else forms.RuleForm()
    if request.method == "GET":
        return _rule_page(form, rule)
    try:
        if not form.validate_on_submit():
            raise Invalid(form.errors)
        services.update_rule(rule_id, _rule_input(form), actor=current_user,
                             active=form.active.data)
    except Invalid as error:
        return _rule_page(form, rule, error.details["errors"], 422)
    flash(_("Rule saved."), "success")
    return redirect(url_for("points.rules"))


@bp.post("/points/rules/<int:rule_id>/active")
@login_required
def rule_active(rule_id):
    form = forms.RuleActiveForm()
    form.validate_on_submit()
    services.set_rule_active(rule_id, form.active.data, actor=current_user)
    flash(_("Rule saved."), "success")
    return redirect(url_for("points.rules"))


# --- ledger and overview ---------------------------------------------------------------

@bp.get("/points/")
@login_required
def index():
    if not policy.allows("points_overview", current_user) and policy.allows(
            "points_list", current_user):
        # An institution's users have one ledger to read: their own.
        return redirect(url_for("points.ledger", institution_id=current_user.institution_id))
    year = services.year_arg(request.args.get("year"))
    sort = request.args.get("sort") or "institution"
    rows = services.overview(current_user, year=year, sort=sort)
    return render_template("points/index.html", rows=rows, sort=sort,
                           year=year or services.clock.today().year)


def _ledger_page(institution_id, *, posted=None, status=200, year=None):
    """The ledger of the year asked for (`?year=`, else `year`, else this year)."""
    year = services.year_arg(request.args.get("year") or year)
    book = services.ledger(institution_id, current_user, year=year)
    entries = book.institution_entries + book.staff_entries
    return render_template("points/ledger.html", book=book,
                           history=services.ledger_history(entries), posted=posted), status


@bp.get("/points/institutions/<int:institution_id>")
@login_required
def ledger(institution_id):
    return _ledger_page(institution_id)


@bp.post("/points/institutions/<int:institution_id>/award")
@login_required
def award(institution_id):
    form = forms.AwardForm()
    try:
        if not form.validate_on_submit():
            get_institution(institution_id, current_user, "points_award")
            raise Invalid(form.errors)
        services.award_manually(institution_id, actor=current_user, points=form.points.data,
                                reason=form.reason.data, staff_id=form.staff_id.data)
    except Invalid as error:
        return _ledger_page(institution_id,
                            posted=Posted("award", request.form, error.details["errors"]),
                            status=422)
    flash(_("Points awarded."), "success")
    return redirect(url_for("points.ledger", institution_id=institution_id))


@bp.post("/points/entries/<int:entry_id>/reverse")
@login_required
def reverse(entry_id):
    form = forms.ReverseForm()
    try:
        if not form.validate_on_submit():
            raise Invalid(form.errors)
        reversal = services.reverse_entry(entry_id, actor=current_user,
                                          reason=form.reason.data)
    except Invalid as error:
        institution_id = services.entry_institution_id(entry_id, current_user)
        return _ledger_page(institution_id,
                            posted=Posted(f"reverse-{entry_id}", request.form,
                                          error.details["errors"]), status=422,
                            year=form.year.data)
    flash(_("Entry reversed."), "success")
    return redirect(url_for("points.ledger", institution_id=reversal.institution_id,
                            year=reversal.year))
