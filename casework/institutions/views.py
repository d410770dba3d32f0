"""Institutions as JSON for the filter forms' search-as-you-type (static/js/lists.js),
and each institution's staff register (list, add, edit).

Each view parses its input, calls one service and renders or redirects; invalid input
re-renders the page with the messages next to the fields (422), nothing saved.
"""

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casework import policy
from casework.errors import Invalid
from casework.institutions import forms, services
from casework.labels import localized

bp = Blueprint("institutions", __name__)


@bp.get("/api/institutions/search")
@login_required
def search():
    """?q=part of a name: at most 20 institutions the user may see, as
    {"institutions": [{"id": 1, "name": "…"}]}; no q or one over 100 characters: 422."""
    found = services.search_institutions(current_user, request.args.get("q"))
    return jsonify(institutions=[{"id": i.id, "name": localized(i, "name")} for i in found])


# --- staff ----------------------------------------------------------------------------

@bp.get("/institutions/<int:institution_id>/staff")
@login_required
def staff_index(institution_id):
    institution, staff = services.list_staff(institution_id, current_user)
    return render_template("institutions/staff_index.html", institution=institution, staff=staff)


def _staff_input(form):
    return services.StaffInput(name=form.name.data, department=form.department.data,
                               title=form.title.data, licence_number=form.licence_number.data,
                               active=form.active.data)


@bp.route("/institutions/<int:institution_id>/staff/new", methods=["GET", "POST"])
@login_required
def staff_new(institution_id):
    form = forms.StaffForm()
    institution = services.get_institution(institution_id, current_user, "staff_manage")
    errors, status = {}, 200
    if request.method == "POST":
        try:
            if not form.validate_on_submit():
                raise Invalid(form.errors)
            services.add_staff(institution_id, _staff_input(form), actor=current_user)
        except Invalid as error:
            errors, status = error.details["errors"], 422
        else:
            flash(_("Staff member added."), "success")
            return redirect(url_for("institutions.staff_index", institution_id=institution_id))
    return render_template("institutions/staff_form.html", form=form, errors=errors,
                           institution=institution, member=None), status


@bp.route("/staff/<int:staff_id>/edit", methods=["GET", "POST"])
@login_required
def staff_edit(staff_id):
    member = services.get_staff(staff_id, current_user)
    policy.check("staff_manage", current_user, member.institution)
    form = forms.StaffForm(obj=member) if request.method == "GET" else forms.StaffForm()
    errors, status = {}, 200
    if request.method == "POST":
        try:
            if not form.validate_on_submit():
                raise Invalid(form.errors)
            services.update_staff(staff_id, _staff_input(form), actor=current_user)
        except Invalid as error:
            errors, status = error.details["errors"], 422
        else:
            flash(_("Staff member saved."), "success")
            return redirect(url_for("institutions.staff_index", institution_id=member.institution_id))
    return render_template("institutions/staff_form.html", form=form, errors=errors,
                           institution=member.institution, member=member), status
