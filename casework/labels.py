"""Display names for identifiers (states, triggers, roles, types), in the user's language:
the one module of them.

Identifiers stay English in code, API and data (DESIGN.md) and live beside their model
or machine (`INSTITUTION_TYPES` in casework/institutions/models.py, `STATES` in
workflows/order.py); people read these. tests/test_labels.py checks that every code has
a label here and every label a Chinese translation. The
Chinese wording follows the commission's own vocabulary (GLOSSARY.md).
"""

from datetime import date

from flask_babel import format_date, format_datetime, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _p

from casework.periods import period_kind

# States and triggers per workflow: the same English word means different things
# (a case is 结案, an order 验收通过·已销号, a complaint 办结), hence message contexts.
STATES = {
    "case": {
        "mobilisation": _p("case state", "Mobilisation"),
        "rectification": _p("case state", "Concentrated rectification"),
        "tackling": _p("case state", "Tackling"),
        "consolidation": _p("case state", "Consolidation"),
        "closed": _p("case state", "Closed"),
    },
    "order": {
        "issued": _p("order state", "Issued"),
        "acknowledged": _p("order state", "Acknowledged"),
        "submitted": _p("order state", "Rectification submitted"),
        "returned": _p("order state", "Returned"),
        "overdue": _p("order state", "Overdue"),
        "escalated": _p("order state", "Escalated"),
        "closed": _p("order state", "Verified and closed"),
        "cancelled": _p("order state", "Cancelled"),
    },
    "complaint": {
        "received": _p("complaint state", "Received"),
        "assigned": _p("complaint state", "Assigned"),
        "investigating": _p("complaint state", "Investigating"),
        "concluded": _p("complaint state", "Concluded"),
        "replied": _p("complaint state", "Replied"),
        "transferred": _p("complaint state", "Transferred"),
        "closed": _p("complaint state", "Closed"),
    },
    "report": {
        "pending": _p("report state", "Pending"),
        "submitted": _p("report state", "Submitted"),
        "returned": _p("report state", "Returned"),
        "overdue": _p("report state", "Overdue"),
        "accepted": _p("report state", "Accepted"),
    },
    "bulletin": {
        "draft": _p("bulletin state", "Draft"),
        "published": _p("bulletin state", "Published"),
    },
    "interview": {
        "scheduled": _p("interview state", "Scheduled"),
        "held": _p("interview state", "Held"),
        "cancelled": _p("interview state", "Cancelled"),
    },
    "extension": {
        "pending": _p("extension state", "Awaiting decision"),
        "approved": _p("extension state", "Approved"),
        "declined": _p("extension state", "Declined"),
    },
    "accountability": {"recorded": _p("accountability state", "Recorded")},
    "veto": {
        "active": _p("veto state", "In force"),
        "revoked": _p("veto state", "Revoked"),
    },
    # Medical disputes are not a machine: their status changes are recorded events.
    "dispute": {
        "open": _p("dispute state", "Open"),
        "resolved": _p("dispute state", "Resolved"),
        "withdrawn": _p("dispute state", "Withdrawn"),
    },
}

TRIGGERS = {
    "case": {
        "start_rectification": _p("case action", "Start rectification"),
        "designate_tackling": _p("case action", "Designate for tackling"),
        "release_tackling": _p("case action", "Release from tackling"),
        "start_consolidation": _p("case action", "Start consolidation"),
        "close": _p("case action", "Close the case"),
        "reopen": _p("case action", "Reopen"),
        # History entries that are not transitions.
        "mobilisation_record_filed": _p("case action", "Mobilisation record filed"),
        "mobilisation_record_updated": _p("case action", "Mobilisation record updated"),
    },
    "order": {
        "acknowledge": _p("order action", "Acknowledge"),
        "submit": _p("order action", "Submit rectification"),
        "verify": _p("order action", "Verify"),
        "return": _p("order action", "Return"),
        "mark_overdue": _p("order action", "Mark overdue"),
        "escalate": _p("order action", "Escalate"),
        "extend": _p("order action", "Extend deadline"),
        "cancel": _p("order action", "Revoke the order"),
        # History entries that are not transitions.
        "request_extension": _p("order action", "Request an extension"),
        "decline_extension": _p("order action", "Decline the extension"),
        "recompute_deadline": _p("order action", "Recompute the deadline"),
    },
    "complaint": {
        "assign": _p("complaint action", "Assign"),
        "investigate": _p("complaint action", "Start investigation"),
        "conclude": _p("complaint action", "Conclude"),
        "reply": _p("complaint action", "Reply to complainant"),
        "close": _p("complaint action", "Close"),
        "transfer": _p("complaint action", "Transfer"),
        # History entries that are not transitions.
        "linked": _p("complaint action", "Links changed"),
    },
    "points_entry": {
        "award": _p("points action", "Points awarded"),
        "reverse": _p("points action", "Entry reversed"),
    },
    "report": {
        "submit": _p("report action", "Submit report"),
        "accept": _p("report action", "Accept"),
        "return": _p("report action", "Return"),
        "mark_overdue": _p("report action", "Mark overdue"),
    },
    "bulletin": {
        "publish": _p("bulletin action", "Publish"),
        # History entries that are not transitions.
        "recomputed": _p("bulletin action", "Figures recomputed"),
    },
    "dispute": {
        "registered": _p("dispute action", "Registered"),
        "changed": _p("dispute action", "Changed"),
    },
    "interview": {
        "schedule": _p("interview action", "Schedule the interview"),
        "hold": _p("interview action", "Record as held"),
        "cancel": _p("interview action", "Cancel the interview"),
    },
    "extension": {
        "request": _p("order action", "Request an extension"),
        "approve": _p("extension action", "Approve the extension"),
        "decline": _p("order action", "Decline the extension"),
    },
    "accountability": {"record": _p("accountability action", "Record accountability")},
    "veto": {
        "set": _p("veto action", "Set the one-vote veto"),
        "revoke": _p("veto action", "Revoke the one-vote veto"),
    },
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

# The escalation queue's kinds of item (casework/queue/models.QUEUE_KINDS).
QUEUE_KINDS = {
    "order_escalated": _l("Escalated order"),
    "order_overdue": _l("Overdue order"),
    "order_returned_twice": _l("Order returned twice or more"),
    "report_overdue": _l("Overdue progress report"),
    "case_tackling": _l("Case in tackling"),
    "case_blocked": _l("Case blocked from consolidation"),
    "institution_complaints": _l("Complaints and disputes over threshold"),
    "institution_points": _l("Bad-conduct points over threshold"),
    "case_no_mobilisation_record": _l("No mobilisation record"),
}

ACCOUNTABILITY_MEASURES = {
    "circulated_criticism": _l("Circulated criticism"),
    "admonishment_talk": _l("Admonishment talk"),
    "written_inspection": _l("Written self-criticism ordered"),
    "organisational_handling": _l("Organisational handling"),
    "referred_for_discipline": _l("Referred to discipline inspection"),
    "other": _l("Other measure"),
}


POINTS_SOURCES = {
    "complaint": _l("Substantiated complaint"),
    "finding": _l("Finding"),
    "manual": _l("Manual award"),
}

# Findings (casework/inspections/models.SEVERITIES).
SEVERITIES = {"minor": _l("Minor"), "moderate": _l("Moderate"), "serious": _l("Serious")}

# Complaints (GLOSSARY.md): casework/complaints/models.CHANNELS and CATEGORIES, the
# complaint machine's OUTCOMES and TRANSFER_DEPARTMENTS.
COMPLAINT_CHANNELS = {
    "hotline": _l("Hotline"),
    "sms": _l("SMS"),
    "web": _l("Web"),
    "letter": _l("Letter"),
    "visit": _l("Visit"),
}
COMPLAINT_CATEGORIES = {
    "service_attitude": _l("Poor service attitude"),
    "red_envelope": _l("Red envelopes and kickbacks"),
    "irregular_fees": _l("Irregular fees"),
    "over_treatment": _l("Over-treatment"),
    "illegal_advertising": _l("Illegal advertising"),
    "other": _l("Other"),
}
COMPLAINT_OUTCOMES = {
    "substantiated": _l("Substantiated"),
    "unsubstantiated": _l("Unsubstantiated"),
}
TRANSFER_DEPARTMENTS = {
    "market_supervision": _l("Market supervision"),
    "medical_insurance": _l("Medical insurance bureau"),
    "public_security": _l("Public security"),
    "discipline_inspection": _l("Discipline inspection"),
}

# Medical disputes (casework/disputes/models.DISPUTE_TYPES, DISPUTE_ROUTES; their
# statuses are STATES["dispute"]).
DISPUTE_TYPES = {
    "diagnosis_treatment": _l("Diagnosis and treatment"),
    "surgery": _l("Surgery"),
    "nursing": _l("Nursing"),
    "medication": _l("Medication"),
    "infection": _l("Hospital infection"),
    "service": _p("dispute type", "Service"),
    "fees": _p("dispute type", "Fees"),
    "other": _p("dispute type", "Other"),
}
DISPUTE_ROUTES = {
    "negotiation": _l("Negotiation"),
    "mediation": _l("Mediation"),
    "litigation": _l("Litigation"),
}

# The scheduler's jobs (casework/jobs/registry.JOBS): title and what the job does.
JOBS = {
    "deadline_sweep": (_l("Deadline sweep"),
                       _l("Marks orders past their deadline overdue and escalates those "
                          "overdue too long.")),
    "deadline_reminders": (_l("Deadline reminders"),
                           _l("Reminds institutions of order deadlines ahead of time.")),
    "phase_changes": (_l("Phase changes"),
                      _l("Moves cases with their campaign's phase dates and reports the "
                         "blocked ones.")),
    "progress_reports": (_l("Progress reports"),
                         _l("Creates each quarter's progress reports, reminds before they "
                            "are due and marks late ones overdue.")),
    "bulletins": (_l("Bulletins"),
                  _l("Drafts the complaint and dispute bulletin of each finished period.")),
    "supervision_report_reminders": (_l("Supervision report reminders"),
                                     _l("Reminds inspectors of the monthly supervision "
                                        "report.")),
    "complaint_reminders": (_l("Complaint reminders"),
                            _l("Reminds complaint handlers of handling deadlines and "
                               "notifies the overdue ones.")),
    "send_mail": (_l("E-mail"),
                  _l("E-mails new notifications to users who want e-mail and retries "
                     "failures later.")),
}


def _lookup(table, key):
    return table.get(key, key)


def state_label(state, workflow="case"):
    return _lookup(STATES.get(workflow, {}), state)


def trigger_label(trigger, workflow="case"):
    return _lookup(TRIGGERS.get(workflow, {}), trigger)


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


def points_source_label(source):
    return _lookup(POINTS_SOURCES, source)


def queue_kind_label(kind):
    return _lookup(QUEUE_KINDS, kind)


def measure_label(measure):
    return _lookup(ACCOUNTABILITY_MEASURES, measure)


def severity_label(severity):
    return _lookup(SEVERITIES, severity)


def job_title(name):
    return JOBS[name][0] if name in JOBS else name


def job_description(name):
    return JOBS[name][1] if name in JOBS else ""


# --- display helpers ----------------------------------------------------------------

def period_label(start: date, end: date) -> str:
    """"2021年第2季度" / "Q2 2021" for a calendar quarter (half-year, year likewise);
    the dates otherwise."""
    kind = period_kind(start, end)
    if kind is None:
        return f"{format_date(start)} – {format_date(end)}"
    span, year, n = kind
    if span == "quarter":
        return _("Q%(quarter)d %(year)d", quarter=n, year=year)
    if span == "half":
        return _("H1 %(year)d", year=year) if n == 1 else _("H2 %(year)d", year=year)
    return _("Year %(year)d", year=year)


def localized(obj, field: str):
    """`obj.<field>_en` for English users when it is filled, else the Chinese original."""
    if str(get_locale()) == "en":
        english = getattr(obj, f"{field}_en", None)
        if english:
            return english
    return getattr(obj, field)


def datetime_text(value, fmt: str = "medium") -> str:
    """A timestamp in the user's language and zone; "" for None."""
    return format_datetime(value, fmt) if value else ""


def date_text(value, fmt: str = "medium") -> str:
    """A date in the user's language; "" for None."""
    return format_date(value, fmt) if value else ""


TEMPLATE_FILTERS = {
    "loc": localized,
    "datetime": datetime_text,
    "date": date_text,
    "points_source_label": points_source_label,
    "queue_kind_label": queue_kind_label,
    "measure_label": measure_label,
    "severity_label": severity_label,
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
