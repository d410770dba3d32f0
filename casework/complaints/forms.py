"""Forms of the complaint pages: they parse input; the services validate it."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from casework.forms import Lenient, TransitionForm


class RegisterForm(FlaskForm):
    """A complaint received by hotline, SMS, letter or visit (register_complaint)."""

    channel = StringField()
    category = StringField()
    institution_id = IntegerField(validators=[Optional()])
    # The institution picker's text (a code or a name typed without the script;
    # absent: not sent), read with institution_id by institutions.pick_institution.
    institution = Lenient()
    staff_named = StringField()
    description = TextAreaField()
    received_on = DateField(validators=[Optional()])
    anonymous = BooleanField()
    name = StringField()
    phone = StringField()
    id_number = StringField()
    request_key = HiddenField()


class PublicComplaintForm(FlaskForm):
    """The public web form (submit_public_complaint)."""

    category = StringField()
    institution_named = StringField()
    staff_named = StringField()
    description = TextAreaField()
    anonymous = BooleanField()
    name = StringField()
    phone = StringField()
    id_number = StringField()


class TrackForm(FlaskForm):
    code = StringField()


class ComplaintActionForm(TransitionForm):
    """Any complaint trigger: the version read, a comment (the reply for `reply`) and
    what the trigger needs (handler, outcome and findings, department)."""

    comment = TextAreaField(validators=[
        Optional(), Length(max=5000, message=_l("At most %(max)d characters."))])
    handler_id = IntegerField(validators=[Optional()])
    outcome = StringField()
    findings = TextAreaField()
    department = StringField()


class RevealForm(FlaskForm):
    """Show the complainant's details: a POST (CSRF), so that every look is logged."""


class LinkForm(FlaskForm):
    """What the complaint turned out to be about (link_complaint)."""

    version = IntegerField(validators=[Optional()])
    institution_id = IntegerField(validators=[Optional()])
    # The institution picker's text (a code or a name typed without the script;
    # absent: not sent), read with institution_id by institutions.pick_institution.
    institution = Lenient()
    case_id = IntegerField(validators=[Optional()])
    finding_id = IntegerField(validators=[Optional()])
    staff_id = IntegerField(validators=[Optional()])
    new_staff_name = StringField()
    new_staff_department = StringField()
    new_staff_title = StringField()
