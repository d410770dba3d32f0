"""The administrators' settings page: every run-time setting with its label and help."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casework import policy
from casework.errors import Invalid
from casework.settings import forms, services

bp = Blueprint("settings", __name__)


@bp.route("/admin/settings", methods=["GET", "POST"])
@login_required
def edit():
    policy.check("settings_update", current_user)
    form = forms.SettingsForm()
    values, errors, status = services.current(), {}, 200
    if request.method == "POST":
        submitted = form.submitted()
        try:
            if not form.validate_on_submit():
                raise Invalid(form.errors)
            services.update(submitted, actor=current_user)
        except Invalid as error:
            values, errors, status = submitted, error.details["errors"], 422
        else:
            flash(_("Settings saved."), "success")
            return redirect(url_for("settings.edit"))
    return render_template("settings/edit.html", definitions=services.DEFINITIONS.values(),
                           values=values, errors=errors), status
