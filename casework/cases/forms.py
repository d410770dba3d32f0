from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange

from casework.cases.mobilisation import MAX_LENGTH


class MobilisationForm(FlaskForm):
    """The mobilisation record: leading group and implementation plan (version 0: new)."""

    version = IntegerField(validators=[
        InputRequired(message=_l("The form is missing the record version; reload the page.")),
        NumberRange(min=0),
    ])
    leading_group = TextAreaField(_l("Leading group"), validators=[
        InputRequired(message=_l("This field is required.")),
        Length(max=MAX_LENGTH, message=_l("At most %(max)d characters.")),
    ])
    plan_summary = TextAreaField(_l("Implementation plan (main points)"), validators=[
        InputRequired(message=_l("This field is required.")),
        Length(max=MAX_LENGTH, message=_l("At most %(max)d characters.")),
    ])
