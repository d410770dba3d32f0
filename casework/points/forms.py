"""Forms of the points pages: they parse input; the services validate it."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import Optional


class RuleForm(FlaskForm):
    source = StringField()
    category = StringField()
    institution_points = StringField()
    staff_points = StringField()
    description = TextAreaField()
    description_en = TextAreaField()
    active = BooleanField(default=True)


class AwardForm(FlaskForm):
    points = StringField()
    reason = TextAreaField()
    staff_id = IntegerField(validators=[Optional()])


class ReverseForm(FlaskForm):
    reason = TextAreaField()
    year = HiddenField()  # the ledger year shown, to show it again on a refusal


class RuleActiveForm(FlaskForm):
    active = BooleanField()
