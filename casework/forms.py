"""Forms shared by several modules, and `Posted`: a refused form shown again."""

from dataclasses import dataclass, field
from datetime import time

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Field, HiddenField, IntegerField, TextAreaField
from wtforms.utils import unset_value
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import TextInput


def clock_time(value) -> time | None:
    """A time of day (HH:MM), else None."""
    try:
        return time.fromisoformat(str(value if value is not None else "").strip())
    except ValueError:
        return None


class Lenient(Field):
    """One value as sent, read by `parse` (casework/parsing.py: `whole`, `day`, ...);
    absent or unreadable is whatever `parse` makes of None or of the text, never a form
    error: the service then says what is missing, in the user's language, next to the
    field and together with every other problem."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, parse=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.parse = parse or (lambda value: value)

    def process(self, formdata, data=unset_value, extra_filters=None):
        # A POST with an empty body has no form data at all: still "not sent".
        super().process(MultiDict() if formdata is None else formdata, data, extra_filters)

    def process_formdata(self, valuelist):
        self.data = self.parse(valuelist[0] if valuelist else None)

    def _value(self):
        return "" if self.raw_data is None else (self.raw_data or [""])[0]


class Values(Field):
    """Every value sent under one name (checkboxes), as a list of text."""

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(MultiDict() if formdata is None else formdata, data, extra_filters)

    def process_formdata(self, valuelist):
        self.data = list(valuelist)


class InputForm(FlaskForm):
    """A form that only carries input to a service, which validates it. CSRF is checked
    for every POST by CSRFProtect (casework/extensions.py), so such a form is read,
    never validated: a refused request is the service's Invalid, 422."""


class TransitionForm(FlaskForm):
    """Fires one trigger: carries the version read (optimistic locking) and a comment."""

    version = IntegerField(validators=[
        InputRequired(message=_l("The form is missing the record version; reload the page.")),
        NumberRange(min=1),
    ])
    comment = TextAreaField(_l("Comment / reason"), validators=[
        Optional(), Length(max=2000, message=_l("At most %(max)d characters.")),
    ])
    final_summary = TextAreaField(_l("Final summary"), validators=[
        Optional(), Length(max=20000, message=_l("At most %(max)d characters.")),
    ])
    next = HiddenField()


@dataclass
class Posted:
    """The form that was sent and refused: which one (its name on the page), what was
    typed (the request's form data) and what is wrong (field name -> messages).
    Templates read it through typed() and field_errors() of templates/macros/forms.html."""

    form: str
    values: dict
    errors: dict = field(default_factory=dict)
