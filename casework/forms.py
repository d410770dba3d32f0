"""Forms shared by several modules."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional


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
