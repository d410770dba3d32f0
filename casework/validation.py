"""Checks shared by the services' input validation: each adds its message (in the user's
language) to an `errors` dict keyed by field, so that a form shows every problem at once."""

from flask_babel import gettext as _


def text(value, field: str, errors: dict, *, limit: int, required_msg: str | None = None
         ) -> str | None:
    """The stripped text, or None when blank (an error then if `required_msg` is given);
    an error when longer than `limit`. Anything but a string counts as blank."""
    value = (value if isinstance(value, str) else "").strip()
    if not value:
        if required_msg:
            errors[field] = [required_msg]
        return None
    if len(value) > limit:
        errors[field] = [_("At most %(max)d characters.", max=limit)]
    return value
