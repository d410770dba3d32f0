"""Forms of the staff register pages: they parse input; the services validate it."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField


class StaffForm(FlaskForm):
    name = StringField()
    department = StringField()
    title = StringField()
    licence_number = StringField()
    active = BooleanField(default=True)
