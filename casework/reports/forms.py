"""Forms of the progress-report pages: they parse input; the services validate it.

The figures arrive as text so that the service can say what is wrong with them in its
own words (and the API gets the same messages); the files come from request.files.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from casework.forms import TransitionForm
from casework.reports.services import FIELD_NAMES

# Labels of the structured figures, shared by the form and the read-only view.
FIELD_LABELS = {
    "self_inspections": _l("Self-inspections held"),
    "problems_found": _l("Problems found"),
    "problems_rectified": _l("Problems rectified"),
    "next_steps": _l("Next steps"),
}
assert set(FIELD_LABELS) == set(FIELD_NAMES)


class ReportForm(FlaskForm):
    """Save a draft (save_report_draft) or submit (submit_report)."""

    version = IntegerField(validators=[Optional()])
    body = TextAreaField()
    self_inspections = StringField()
    problems_found = StringField()
    problems_rectified = StringField()
    next_steps = TextAreaField()
    request_key = HiddenField()

    def figures(self) -> dict:
        return {name: getattr(self, name).data for name in FIELD_NAMES}


class ReviewForm(TransitionForm):
    """accept: the version read and an optional comment."""


class ReturnForm(TransitionForm):
    """return: the reason is required (the machine's guard asks too; the form asks first
    so that the page can show it next to the field)."""

    comment = TextAreaField(validators=[
        DataRequired(message=_l("Give the reason.")),
        Length(max=2000, message=_l("At most %(max)d characters.")),
    ])


def review_form(trigger: str, **kwargs) -> TransitionForm:
    return (ReturnForm if trigger == "return" else ReviewForm)(**kwargs)
