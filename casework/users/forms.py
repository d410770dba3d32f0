from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import AnyOf, DataRequired, Length


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[
        DataRequired(message=_l("Enter your username.")),
        Length(max=64, message=_l("A username has at most %(max)d characters.")),
    ])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(message=_l("Enter your password.")),
        Length(max=128, message=_l("A password has at most %(max)d characters.")),
    ])
    next = HiddenField()


class LanguageForm(FlaskForm):
    locale = StringField(validators=[AnyOf(["zh_CN", "en"])])
    next = HiddenField()
