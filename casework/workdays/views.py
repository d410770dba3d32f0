"""Admin pages of the working-day calendar (its commands: casework/workdays/cli.py)."""

from babel.dates import get_day_names, get_month_names
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casework import clock
from casework.errors import Invalid
from casework.workdays import services
from casework.workdays.forms import YearForm

bp = Blueprint("workdays", __name__, url_prefix="/admin/calendar")


def _calendar_words():
    locale = get_locale()
    return {"month_names": get_month_names("wide", "stand-alone", locale=locale),
            "day_names": get_day_names("narrow", "stand-alone", locale=locale),
            "min_year": services.MIN_YEAR, "max_year": services.MAX_YEAR}


@bp.get("/")
@login_required
def index():
    years = services.list_years(current_user)
    wanted = request.args.get("year", "").strip()
    if wanted:
        if wanted.isdigit() and services.MIN_YEAR <= int(wanted) <= services.MAX_YEAR:
            return redirect(url_for("workdays.detail", year=int(wanted)))
        flash(_("Enter a year between %(min)d and %(max)d.",
                min=services.MIN_YEAR, max=services.MAX_YEAR), "danger")
    return render_template("workdays/index.html", years=years, this_year=clock.today().year,
                           missing=services.unconfirmed_years_needed(clock.today()),
                           min_year=services.MIN_YEAR, max_year=services.MAX_YEAR)


@bp.route("/<int:year>", methods=["GET", "POST"])
@login_required
def detail(year):
    form = YearForm(year)
    if form.validate_on_submit():
        try:
            services.enter_year(year, form.holiday_entries, form.workday_entries,
                                actor=current_user, note=form.note.data,
                                no_workdays=bool(form.no_workdays.data))
        except Invalid as error:
            # The form checks what the service checks; this is the service's last word.
            for name, messages in error.details["errors"].items():
                getattr(form, name, form.holidays).errors.extend(messages)
        else:
            flash(_("The arrangement of %(year)d is saved and confirmed.", year=year),
                  "success")
            return redirect(url_for("workdays.detail", year=year))
    view = services.year_view(year, current_user)
    if request.method == "GET":
        form.holidays.data = "\n".join(view.holiday_lines)
        form.workdays.data = "\n".join(view.workday_lines)
        form.no_workdays.data = view.confirmed and not view.workday_lines
        form.note.data = view.row.note if view.row and view.row.source == "admin" else ""
    status = 422 if request.method == "POST" else 200
    return render_template("workdays/detail.html", view=view, form=form,
                           **_calendar_words()), status
