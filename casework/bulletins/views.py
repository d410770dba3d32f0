"""Bulletins: the list, and a bulletin's page with its figures, the commentary and
`publish`. Each view parses its input, calls one service and renders or redirects;
a refused form comes back with its messages and what was typed (422)."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import IntegerField, TextAreaField
from wtforms.validators import Optional

from casework import labels, parsing, policy, xlsx
from casework.bulletins import services
from casework.errors import Invalid
from casework.labels import period_label

bp = Blueprint("bulletins", __name__, url_prefix="/bulletins")


class CommentaryForm(FlaskForm):
    """Save the commentary, or publish with it: the version read and the text."""

    version = IntegerField(validators=[Optional()])
    commentary = TextAreaField()


@bp.context_processor
def _bulletin_helpers():
    return {"period_label": period_label}


_int_arg = parsing.int_arg


@bp.get("/")
@login_required
def index():
    page = services.list_bulletins(current_user, page=_int_arg("page") or 1)
    return render_template("bulletins/index.html", page=page)


def _detail_page(bulletin_id, posted=None, errors=None, status=200):
    bulletin = services.get_bulletin(bulletin_id, current_user)
    if posted is not None:
        # Someone who may not publish gets 403, not a form to correct.
        policy.check("bulletin_publish", current_user, bulletin)
    # The institutions PER_PAGE at a time (the print view and the spreadsheet: all).
    shown = services.window(bulletin, _int_arg("page") or 1)
    return render_template(
        "bulletins/detail.html", bulletin=bulletin, shown=shown,
        table=services.figures_table(bulletin, shown),
        breakdown=services.breakdown_table(bulletin, shown),
        chart=services.chart_data(bulletin, shown),
        threshold=services.threshold_of(bulletin), ranking=services.ranking(bulletin, shown),
        proposed=services.proposed_for_interview(bulletin),
        history=services.bulletin_history(bulletin),
        can_publish=services.may_publish(bulletin, current_user),
        can_recompute=services.may_recompute(bulletin, current_user),
        posted=posted, errors=errors or {}), status


@bp.get("/<int:bulletin_id>")
@login_required
def detail(bulletin_id):
    return _detail_page(bulletin_id)


@bp.get("/<int:bulletin_id>/print")
@login_required
def print_view(bulletin_id):
    bulletin = services.get_bulletin(bulletin_id, current_user)
    return render_template(
        "bulletins/print.html", bulletin=bulletin, table=services.figures_table(bulletin),
        breakdown=services.breakdown_table(bulletin), threshold=services.threshold_of(bulletin),
        proposed=services.proposed_for_interview(bulletin))


@bp.get("/<int:bulletin_id>/export.xlsx")
@login_required
def export(bulletin_id):
    bulletin = services.get_bulletin(bulletin_id, current_user)
    return xlsx.download(services.export_filename(bulletin), services.bulletin_sheets(bulletin))


@bp.post("/<int:bulletin_id>/recompute")
@login_required
def recompute(bulletin_id):
    form = CommentaryForm()
    services.recompute_figures(bulletin_id, actor=current_user, version=form.version.data)
    flash(_("The figures were computed again from the current registers."), "success")
    return redirect(url_for("bulletins.detail", bulletin_id=bulletin_id))


@bp.post("/<int:bulletin_id>/commentary")
@login_required
def save_commentary(bulletin_id):
    form = CommentaryForm()
    try:
        services.save_commentary(bulletin_id, actor=current_user, version=form.version.data,
                                 commentary=form.commentary.data)
    except Invalid as error:
        return _detail_page(bulletin_id, request.form, error.details["errors"], 422)
    flash(_("Commentary saved. The bulletin is not published yet."), "success")
    return redirect(url_for("bulletins.detail", bulletin_id=bulletin_id))


@bp.post("/<int:bulletin_id>/publish")
@login_required
def publish(bulletin_id):
    form = CommentaryForm()
    try:
        services.publish_bulletin(bulletin_id, actor=current_user, version=form.version.data,
                                  commentary=form.commentary.data)
    except Invalid as error:
        return _detail_page(bulletin_id, request.form, error.details["errors"], 422)
    flash(_("Done: %(action)s.", action=labels.trigger_label("publish", "bulletin")), "success")
    return redirect(url_for("bulletins.detail", bulletin_id=bulletin_id))
