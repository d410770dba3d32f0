"""What each kind of notification says: subject and text from its params.

A notification row keeps only `kind` and `params` (plain JSON values written by the
sweeps), never rendered text, so the inbox and the e-mail speak the reader's language
of the moment. `render()` uses the active locale (the request's, or the one a caller
forced with `render_in()`, as the mailer does for each recipient).

Rendering never fails: an unknown kind, or a known one whose params are missing or
malformed, gives the generic line (and a warning in the log), so one bad row cannot
break the inbox or stop the mail job.

Params, as the sweeps write them:
  dates ("deadline", "due_on", "period_start", "period_end"): ISO "YYYY-MM-DD";
  "days": a whole number; "month": "YYYY-MM" (or a month number 1-12);
  names ("number", "institution", "campaign"): a string, or {"zh_CN": ..., "en": ...};
  "reasons": a list of strings (English guard messages are translated when shown).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from babel.dates import format_skeleton
from flask_babel import force_locale, format_date, get_locale, ngettext
from flask_babel import gettext as _

from casework import labels

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str


class BadParams(ValueError):
    """A param a kind needs is missing or has the wrong shape."""


class Params:
    """Read one notification's params as display values of the active locale."""

    def __init__(self, params):
        self._params = params if isinstance(params, dict) else {}

    def _raw(self, name):
        value = self._params.get(name)
        if value is None or value == "" or value == [] or value == {}:
            raise BadParams(name)
        return value

    def text(self, name) -> str:
        value = self._raw(name)
        if isinstance(value, dict):
            # A name given in several languages: the reader's, else the Chinese original.
            language = "en" if str(get_locale()).startswith("en") else "zh_CN"
            value = value.get(language) or value.get("zh_CN") or next(iter(value.values()))
        if not isinstance(value, (str, int, float)):
            raise BadParams(name)
        return str(value)

    def date(self, name) -> str:
        value = self._raw(name)
        try:
            day = date.fromisoformat(str(value)[:10])
        except ValueError:
            raise BadParams(name) from None
        return format_date(day, "long")

    def days(self, name) -> int:
        value = self._raw(name)
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise BadParams(name)
        try:
            return int(value)
        except ValueError:
            raise BadParams(name) from None

    def month(self, name) -> str:
        value = self._raw(name)
        locale = get_locale()
        try:
            if isinstance(value, int) and not isinstance(value, bool):
                when = datetime(2000, value, 1, tzinfo=UTC)
                return format_skeleton("MMMM", when, tzinfo=UTC, locale=locale)
            year, month = str(value).split("-")[:2]
            when = datetime(int(year), int(month), 1, tzinfo=UTC)
        except (ValueError, TypeError):
            raise BadParams(name) from None
        return format_skeleton("yMMMM", when, tzinfo=UTC, locale=locale)

    def reasons(self, name) -> list[str]:
        value = self._raw(name)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise BadParams(name)
        # The guards explain themselves in English msgids with values
        # ({"template", "params"}); plain text passes through gettext unchanged.
        shown = []
        for reason in value:
            if isinstance(reason, dict) and isinstance(reason.get("template"), str):
                params = reason.get("params") if isinstance(reason.get("params"), dict) else {}
                template = reason["template"]
                try:
                    shown.append(_(template, **params))
                except (KeyError, TypeError, ValueError):
                    shown.append(template)
            elif reason:
                shown.append(_(str(reason)))
        return shown


# --- one function per kind: Params -> (subject, text) -----------------------------

def _order_deadline_reminder(p: Params):
    days = p.days("days")
    return (
        ngettext("Order %(number)s is due in %(num)d day",
                 "Order %(number)s is due in %(num)d days", days, number=p.text("number")),
        ngettext("Rectification order %(number)s is due on %(deadline)s, in %(num)d day. "
                 "Submit the rectification before the deadline.",
                 "Rectification order %(number)s is due on %(deadline)s, in %(num)d days. "
                 "Submit the rectification before the deadline.",
                 days, number=p.text("number"), deadline=p.date("deadline")),
    )


def _order_overdue(p: Params):
    return (
        _("Order %(number)s is overdue", number=p.text("number")),
        _("Rectification order %(number)s passed its deadline of %(deadline)s "
          "and is now overdue.", number=p.text("number"), deadline=p.date("deadline")),
    )


def _order_escalated(p: Params):
    return (
        _("Order %(number)s has been escalated", number=p.text("number")),
        _("Rectification order %(number)s of %(institution)s has been overdue since "
          "%(deadline)s and has been escalated.", number=p.text("number"),
          institution=p.text("institution"), deadline=p.date("deadline")),
    )


def _report_created(p: Params):
    return (
        _("New progress report to fill in"),
        _("The progress report for %(start)s to %(end)s has been created. "
          "It is due on %(due)s.", start=p.date("period_start"), end=p.date("period_end"),
          due=p.date("due_on")),
    )


def _report_due(p: Params):
    days = p.days("days")
    return (
        ngettext("Progress report due in %(num)d day", "Progress report due in %(num)d days",
                 days),
        ngettext("Your progress report is due on %(due)s, in %(num)d day.",
                 "Your progress report is due on %(due)s, in %(num)d days.",
                 days, due=p.date("due_on")),
    )


def _report_overdue(p: Params):
    return (
        _("Progress report of %(institution)s is overdue", institution=p.text("institution")),
        _("The progress report of %(institution)s was due on %(due)s and is now overdue.",
          institution=p.text("institution"), due=p.date("due_on")),
    )


def _supervision_report_due(p: Params):
    days = p.days("days")
    return (
        ngettext("Supervision report for %(month)s due in %(num)d day",
                 "Supervision report for %(month)s due in %(num)d days",
                 days, month=p.month("month")),
        ngettext("The monthly supervision report of %(campaign)s for %(month)s is due on "
                 "%(due)s, in %(num)d day.",
                 "The monthly supervision report of %(campaign)s for %(month)s is due on "
                 "%(due)s, in %(num)d days.",
                 days, campaign=p.text("campaign"), month=p.month("month"),
                 due=p.date("due_on")),
    )


def _bulletin_draft(p: Params):
    return (
        _("Bulletin draft ready for review"),
        _("A draft complaint and dispute bulletin of %(campaign)s for %(start)s to %(end)s "
          "is ready for review.", campaign=p.text("campaign"), start=p.date("period_start"),
          end=p.date("period_end")),
    )


def _case_phase_blocked(p: Params):
    reasons = "\n".join(f"- {reason}" for reason in p.reasons("reasons"))
    return (
        _("Phase change blocked for %(institution)s", institution=p.text("institution")),
        _("The case of %(institution)s could not move to the next phase:",
          institution=p.text("institution")) + "\n" + reasons,
    )


def _complaint_category(p: Params) -> str:
    key = p.text("category")
    return str(labels.COMPLAINT_CATEGORIES.get(key, key))


def _complaint_deadline_reminder(p: Params):
    days = p.days("days")
    return (
        ngettext("Complaint %(number)s is due in %(num)d day",
                 "Complaint %(number)s is due in %(num)d days", days, number=p.text("number")),
        ngettext("Complaint %(number)s (%(category)s) must be handled by %(deadline)s, in "
                 "%(num)d day.",
                 "Complaint %(number)s (%(category)s) must be handled by %(deadline)s, in "
                 "%(num)d days.", days, number=p.text("number"),
                 category=_complaint_category(p), deadline=p.date("deadline")),
    )


def _complaint_overdue(p: Params):
    return (
        _("Complaint %(number)s is overdue", number=p.text("number")),
        _("Complaint %(number)s (%(category)s) passed its handling deadline of %(deadline)s "
          "and is still being handled.", number=p.text("number"),
          category=_complaint_category(p), deadline=p.date("deadline")),
    )


def _points_threshold_institution(p: Params):
    return (
        _("%(institution)s reached the points threshold", institution=p.text("institution")),
        _("%(institution)s has %(total)s bad-conduct points in %(year)s, at or above the "
          "threshold of %(threshold)s.", institution=p.text("institution"),
          total=p.days("total"), year=p.text("year"), threshold=p.days("threshold")),
    )


def _points_threshold_staff(p: Params):
    return (
        _("%(staff)s of %(institution)s reached the points threshold", staff=p.text("staff"),
          institution=p.text("institution")),
        _("%(staff)s of %(institution)s has %(total)s bad-conduct points in %(year)s, at or "
          "above the threshold of %(threshold)s.", staff=p.text("staff"),
          institution=p.text("institution"), total=p.days("total"), year=p.text("year"),
          threshold=p.days("threshold")),
    )


KINDS: dict[str, Callable[[Params], tuple[str, str]]] = {
    "complaint_deadline_reminder": _complaint_deadline_reminder,
    "complaint_overdue": _complaint_overdue,
    "points_threshold_institution": _points_threshold_institution,
    "points_threshold_staff": _points_threshold_staff,
    "order_deadline_reminder": _order_deadline_reminder,
    "order_overdue": _order_overdue,
    "order_escalated": _order_escalated,
    "report_created": _report_created,
    "report_due": _report_due,
    "report_overdue": _report_overdue,
    "supervision_report_due": _supervision_report_due,
    "bulletin_draft": _bulletin_draft,
    "case_phase_blocked": _case_phase_blocked,
}


def generic() -> Rendered:
    return Rendered(_("New notification"),
                    _("There is something new for you in Casework. Open it for details."))


def render(kind: str, params) -> Rendered:
    """Subject and text of a notification in the active locale; never raises."""
    renderer = KINDS.get(kind)
    if renderer is None:
        log.warning("notification kind %r has no text; showing the generic line", kind)
        return generic()
    try:
        subject, text = renderer(Params(params))
    except (BadParams, KeyError, ValueError, TypeError) as error:
        log.warning("notification kind %r: bad params %r (%s)", kind, params, error)
        return generic()
    return Rendered(str(subject), str(text))


def render_in(locale: str, kind: str, params) -> Rendered:
    """`render()` in `locale` ("zh_CN", "en"), e.g. for the recipient of an e-mail."""
    with force_locale(locale or "zh_CN"):
        return render(kind, params)
