"""Forms shared by several modules, and `Posted`: a refused form shown again."""

from dataclasses import dataclass, field

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


@dataclass
class Posted:
    """The form that was sent and refused: which one (its name on the page), what was
    typed (the request's form data) and what is wrong (field name -> messages).
    Templates read it through typed() and field_errors() of templates/macros/forms.html."""

    form: str
    values: dict
    errors: dict = field(default_factory=dict)
