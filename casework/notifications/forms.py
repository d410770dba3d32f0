"""Forms of the notification pages: they carry values; the services validate them."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import NumberRange, Optional


class InboxActionForm(FlaskForm):
    """Mark read (one or all): CSRF, and the inbox page to return to."""

    page = IntegerField(validators=[Optional(), NumberRange(min=1)])


class MailPreferenceForm(FlaskForm):
    email_notifications = BooleanField(_l("Also send my notifications by e-mail"))
    # The service checks the address (and that there is one when e-mail is on).
    email = StringField(_l("E-mail address"))
