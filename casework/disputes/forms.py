"""Forms of the dispute pages: they carry the input as typed (CSRF included); the
services parse and validate it, so that every message comes from one place."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField

from casework.forms import Lenient


class RegisterForm(FlaskForm):
    institution_id = StringField()
    # The institution picker's text (a code or a name typed without the script;
    # absent: not sent), read with institution_id by institutions.pick_institution.
    institution = Lenient()
    occurred_on = StringField()
    department = StringField()
    type = StringField()
    route = StringField()
    amount = StringField()
    status = StringField()
    resolved_on = StringField()
    summary = TextAreaField()
    request_key = HiddenField()


class UpdateForm(FlaskForm):
    version = StringField()
    route = StringField()
    status = StringField()
    resolved_on = StringField()
    amount = StringField()
    case_id = StringField()
    comment = TextAreaField()
