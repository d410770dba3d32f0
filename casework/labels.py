"""Display names for identifiers (states, triggers, roles, types), in the user's language.

Identifiers stay English in code, API and data (DESIGN.md); people read these. The
Chinese wording follows the commission's own vocabulary (GLOSSARY.md).
"""

from flask_babel import lazy_gettext as _l

STATES = {
    # case
    "mobilisation": _l("Mobilisation"),
    "rectification": _l("Concentrated rectification"),
    "tackling": _l("Tackling"),
    "consolidation": _l("Consolidation"),
    "closed": _l("Closed"),
    # order
    "issued": _l("Issued"),
    "acknowledged": _l("Acknowledged"),
    "submitted": _l("Submitted"),
    "returned": _l("Returned"),
    "overdue": _l("Overdue"),
    "escalated": _l("Escalated"),
    "cancelled": _l("Cancelled"),
    # complaint
    "received": _l("Received"),
    "assigned": _l("Assigned"),
    "investigating": _l("Investigating"),
    "concluded": _l("Concluded"),
    "replied": _l("Replied"),
    "transferred": _l("Transferred"),
    # report and bulletin
    "pending": _l("Pending"),
    "accepted": _l("Accepted"),
    "draft": _l("Draft"),
    "published": _l("Published"),
}

TRIGGERS = {
    "start_rectification": _l("Start rectification"),
    "designate_tackling": _l("Designate for tackling"),
    "release_tackling": _l("Release from tackling"),
    "start_consolidation": _l("Start consolidation"),
    "close": _l("Close"),
    "reopen": _l("Reopen"),
    "acknowledge": _l("Acknowledge"),
    "submit": _l("Submit"),
    "verify": _l("Verify"),
    "return": _l("Return"),
    "mark_overdue": _l("Mark overdue"),
    "escalate": _l("Escalate"),
    "extend": _l("Extend deadline"),
    "cancel": _l("Cancel"),
    "assign": _l("Assign"),
    "investigate": _l("Investigate"),
    "conclude": _l("Conclude"),
    "reply": _l("Reply"),
    "transfer": _l("Transfer"),
    "accept": _l("Accept"),
    "publish": _l("Publish"),
}

ROLES = {
    "coordinator": _l("Coordinator"),
    "inspector": _l("Inspector"),
    "institution": _l("Institution user"),
    "admin": _l("Administrator"),
    "viewer": _l("Viewer"),
    "system": _l("System (scheduler)"),
}

INSTITUTION_TYPES = {
    "general_hospital": _l("General hospital"),
    "tcm_hospital": _l("TCM hospital"),
    "maternal_child_hospital": _l("Maternal and child health hospital"),
    "specialist_hospital": _l("Specialist hospital"),
    "community_health_centre": _l("Community health centre"),
    "community_health_station": _l("Community health station"),
    "township_health_centre": _l("Township health centre"),
    "outpatient_department": _l("Outpatient department"),
    "clinic": _l("Clinic"),
}

LEVELS = {
    "tertiary": _l("Tertiary"),
    "secondary": _l("Secondary"),
    "primary": _l("Primary"),
    "ungraded": _l("Ungraded"),
}

OWNERSHIPS = {"public": _l("Public"), "private": _l("Private")}

PHASE_KINDS = {
    "mobilisation": _l("Mobilisation"),
    "rectification": _l("Concentrated rectification"),
    "tackling": _l("Tackling"),
    "consolidation": _l("Consolidation"),
    "evaluation": _l("Summary and evaluation"),
}

CADENCE_KINDS = {
    "progress_report": _l("Progress report"),
    "bulletin": _l("Complaint and dispute bulletin"),
    "supervision_report": _l("Monthly supervision report"),
    "assessment": _l("Periodic assessment"),
}

FREQUENCIES = {
    "monthly": _l("Monthly"),
    "quarterly": _l("Quarterly"),
    "half_yearly": _l("Half-yearly"),
}


def _lookup(table, key):
    return table.get(key, key)


def state_label(state):
    return _lookup(STATES, state)


def trigger_label(trigger):
    return _lookup(TRIGGERS, trigger)


def role_label(role):
    return _lookup(ROLES, role)


def type_label(kind):
    return _lookup(INSTITUTION_TYPES, kind)


def level_label(level):
    return _lookup(LEVELS, level)


def ownership_label(ownership):
    return _lookup(OWNERSHIPS, ownership)


def phase_label(kind):
    return _lookup(PHASE_KINDS, kind)


def cadence_label(kind):
    return _lookup(CADENCE_KINDS, kind)


def frequency_label(frequency):
    return _lookup(FREQUENCIES, frequency)


TEMPLATE_FILTERS = {
    "state_label": state_label,
    "trigger_label": trigger_label,
    "role_label": role_label,
    "type_label": type_label,
    "level_label": level_label,
    "ownership_label": ownership_label,
    "phase_label": phase_label,
    "cadence_label": cadence_label,
    "frequency_label": frequency_label,
}
