"""Forms of the inspection pages: they parse and carry input; the services validate it.

No WTForms validators here beyond parsing: the services report every problem at once
(casework/inspections/services.py), and the views put those messages on these fields.
CSRF is checked for every POST by CSRFProtect.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)

from casework import clock
from casework.inspections.models import SEVERITIES

AMENDABLE_LABELS = {
    "description": _l("Description"),
    "legal_basis": _l("Legal basis"),
    "severity": _l("Severity"),
    "rectification_required": _l("Rectification required"),
}
YES_NO_LABELS = {"yes": _l("Yes"), "no": _l("No")}


def _int_or_none(value):
    """Coerce a submitted id; anything else becomes None (the service then says why)."""
    if isinstance(value, int):
        return value
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


class FinaliseForm(FlaskForm):
    """Only the CSRF token."""


class InspectionForm(FlaskForm):
    inspected_on = DateField(_l("Date"), default=clock.today)
    place = StringField(_l("Place"))
    inspectors = SelectMultipleField(_l("Other inspectors"), coerce=_int_or_none,
                                     validate_choice=False)
    notes = TextAreaField(_l("Notes"))
    uuid = HiddenField()


class FindingForm(FlaskForm):
    key_task_id = SelectField(_l("Category (key task)"), coerce=_int_or_none,
                              validate_choice=False)
    severity = RadioField(_l("Severity"), choices=list(SEVERITIES), validate_choice=False)
    description = TextAreaField(_l("Description"))
    legal_basis = TextAreaField(_l("Legal basis"))
    rectification_required = BooleanField(_l("Rectification required"), default=True)
    photos = MultipleFileField(_l("Photos"))
    documents = MultipleFileField(_l("Documents"))
    uuid = HiddenField()
    version = HiddenField()


class AmendForm(FlaskForm):
    field = RadioField(_l("What to correct"), choices=list(AMENDABLE_LABELS),
                       validate_choice=False)
    value_text = TextAreaField(_l("New text"))
    value_severity = RadioField(_l("New severity"), choices=list(SEVERITIES),
                                validate_choice=False)
    value_flag = RadioField(_l("Rectification required"), choices=list(YES_NO_LABELS),
                            validate_choice=False)
    reason = TextAreaField(_l("Reason for the amendment"))

    def value(self):
        """The new value from the input that matches the chosen field."""
        if self.field.data == "severity":
            return self.value_severity.data
        if self.field.data == "rectification_required":
            return self.value_flag.data
        return self.value_text.data

    def value_field(self):
        """The input to show the service's "value" errors on."""
        return {"severity": self.value_severity,
                "rectification_required": self.value_flag}.get(self.field.data,
                                                                 self.value_text)
