"""Run-time settings: declared here with type, bounds and default; stored only when changed.

    threshold = settings.get("points_threshold_institution")

Services read them through get(); the admin settings page writes them through update().
"""

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from casework import clock, policy
from casework.errors import Invalid
from casework.extensions import db
from casework.settings.models import Setting
from workflows import binding


@dataclass(frozen=True)
class Definition:
    key: str
    label: object
    help: object
    default: int
    minimum: int
    maximum: int


DEFINITIONS = {d.key: d for d in (
    Definition("bulletin_interview_rate", _l("Interview threshold: complaints and disputes "
               "per 10,000 visits"), _l("Institutions at or above this rate in a bulletin "
               "period are proposed for interview."), 5, 1, 10000),
    Definition("bulletin_interview_count", _l("Interview threshold: complaints and disputes "
               "(institutions without recorded visits)"), _l("Used where an institution's "
               "visit volume is not recorded."), 5, 1, 10000),
    Definition("points_threshold_institution", _l("Points threshold for an institution "
               "(per year)"), _l("An institution reaching it goes on the escalation queue."),
               12, 1, 1000),
    Definition("points_threshold_staff", _l("Points threshold for a staff member (per "
               "year)"), _l("A staff member reaching it puts the institution on the "
               "escalation queue."), 12, 1, 1000),
    Definition("complaint_handling_days", _l("Complaint handling deadline (calendar days)"),
               _l("Counted from the day a complaint is received."), 15, 1, 365),
    Definition("complaint_reminder_days", _l("Remind handlers this many days before a "
               "complaint's deadline"), _l("0 sends no early reminder; the overdue notice "
               "is always sent."), 3, 0, 60),
)}


def get(key: str) -> int:
    """The setting's current value (its default until an administrator changes it)."""
    definition = DEFINITIONS[key]
    value = db.session.scalar(sa.select(Setting.value).where(Setting.key == key))
    return definition.default if value is None else value


def current() -> dict[str, int]:
    """Every setting's current value (one query)."""
    stored = dict(db.session.execute(sa.select(Setting.key, Setting.value)).all())
    return {key: stored.get(key, d.default) for key, d in DEFINITIONS.items()}


def update(values: dict, *, actor) -> dict[str, int]:
    """Validate and store the given settings (keys not given keep their value).

    Raises NotPermitted (settings_update) and Invalid with one message per bad key;
    nothing is stored unless every value is valid.
    """
    policy.check("settings_update", actor)
    errors, clean = {}, {}
    for key, raw in values.items():
        definition = DEFINITIONS.get(key)
        if definition is None:
            errors[key] = [_("Unknown setting.")]
            continue
        try:
            value = int(str(raw).strip())
        except ValueError:
            errors[key] = [_("Enter a whole number.")]
            continue
        if not definition.minimum <= value <= definition.maximum:
            errors[key] = [_("Enter a number from %(min)d to %(max)d.",
                             min=definition.minimum, max=definition.maximum)]
            continue
        clean[key] = value
    if errors:
        raise Invalid(errors)
    with binding.unit_of_work():
        for key, value in clean.items():
            row = db.session.get(Setting, key) or Setting(key=key)
            row.value, row.updated_by_id, row.updated_at = value, actor.id, clock.now()
            db.session.add(row)
    return current()
