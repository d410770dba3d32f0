"""Forms of the oversight pages: they carry input; the oversight services validate it
and say what is wrong (Invalid, shown next to the fields, 422)."""

from casework import parsing
from casework.forms import InputForm, Lenient, clock_time


class AccountabilityForm(InputForm):
    """Record an accountability measure (record_accountability)."""

    measure = Lenient()
    decided_on = Lenient(parse=parsing.day)
    document_number = Lenient()
    reason = Lenient()
    staff_id = Lenient(parse=parsing.whole)
    queue_key = Lenient()


class VetoForm(InputForm):
    """Set the one-vote veto for a year (set_veto)."""

    year = Lenient(parse=parsing.whole)
    reason = Lenient()
    decided_on = Lenient(parse=parsing.day)


class RevokeVetoForm(InputForm):
    """Revoke a veto (revoke_veto); `institution_id` is the page to show again."""

    institution_id = Lenient(parse=parsing.whole)
    reason = Lenient()


class InterviewForm(InputForm):
    """Schedule an interview (schedule_interview)."""

    institution_id = Lenient(parse=parsing.whole)
    reason = Lenient()
    day = Lenient(parse=parsing.day)
    time = Lenient(parse=clock_time)
    location = Lenient()
    queue_key = Lenient()
    case_id = Lenient(parse=parsing.whole)
    campaign_id = Lenient(parse=parsing.whole)


class HoldForm(InputForm):
    """Record an interview as held (hold_interview)."""

    version = Lenient(parse=parsing.whole)
    held_on = Lenient(parse=parsing.day)
    attendees = Lenient()
    minutes = Lenient()
    follow_up = Lenient(parse=lambda value: value == "1")
    requirements = Lenient()
    working_days = Lenient(parse=parsing.whole)


class CancelForm(InputForm):
    """Cancel an interview (cancel_interview)."""

    version = Lenient(parse=parsing.whole)
    reason = Lenient()
