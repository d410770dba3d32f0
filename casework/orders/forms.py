"""Forms of the order pages: they parse input; the services validate it.

The services report every problem at once (Invalid with per-field messages), so these
forms mostly carry values: the only rules here are those of the request itself (a
version to compare, a reason that the workflow will ask for anyway).
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from casework.forms import TransitionForm
from workflows import registry

# The same words as the inspection pages (same msgids, one translation).

DEADLINE_KINDS = (
    ("date", _l("By a date")),
    ("calendar_days", _l("Calendar days")),
    ("working_days", _l("Working days")),
    ("months", _l("Months")),
)
# The input that carries the value of each kind of deadline.
DEADLINE_VALUE_FIELD = {"date": "deadline_date", "calendar_days": "calendar_days",
                        "working_days": "working_days", "months": "months"}

# Triggers whose form must carry a reason: those the machine guards with reason_given
# (the form asks first so that the page can show it next to the field).
REASON_REQUIRED = registry.needs_reason("order")


class OrderForm(FlaskForm):
    """Issue an order (raise_order)."""

    findings = SelectMultipleField(coerce=int, validate_choice=False)
    requirements = TextAreaField()
    issuing_body = StringField()
    deadline_kind = StringField()  # one of DEADLINE_KINDS, checked by deadline_rule
    deadline_date = DateField(validators=[Optional()])
    calendar_days = IntegerField(validators=[Optional()])
    working_days = IntegerField(validators=[Optional()])
    months = IntegerField(validators=[Optional()])
    request_key = HiddenField()

    def deadline_input(self):
        """(kind, value) as typed: value is a date, an int, or None if unreadable."""
        kind = self.deadline_kind.data
        field = DEADLINE_VALUE_FIELD.get(kind)
        if field is None:
            return kind, None
        return kind, getattr(self, field).data


class ActionForm(TransitionForm):
    """acknowledge / verify / escalate: the version read and an optional comment."""


class ReasonForm(TransitionForm):
    """return / cancel: the reason is required."""

    comment = TextAreaField(validators=[
        DataRequired(message=_l("Give the reason.")),
        Length(max=2000, message=_l("At most %(max)d characters.")),
    ])


def action_form(trigger: str, **kwargs) -> TransitionForm:
    return (ReasonForm if trigger in REASON_REQUIRED else ActionForm)(**kwargs)


class SubmitForm(FlaskForm):
    """Submit rectification (submit_rectification); the files come from request.files."""

    version = IntegerField(validators=[InputRequired(), NumberRange(min=1)])
    report = TextAreaField()
    request_key = HiddenField()


class ExtensionRequestForm(FlaskForm):
    reason = TextAreaField()
    proposed_deadline = DateField(validators=[Optional()])
    request_key = HiddenField()


class ExtensionDecisionForm(FlaskForm):
    """Approve or decline an extension request; the button pressed says which."""

    version = IntegerField(validators=[InputRequired(), NumberRange(min=1)])
    decision = HiddenField()
    comment = TextAreaField()
    new_deadline = DateField(validators=[Optional()])
