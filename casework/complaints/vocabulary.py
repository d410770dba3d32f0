"""The words of complaints (GLOSSARY.md): identifiers and their labels."""

from flask_babel import lazy_gettext as _l

from workflows import complaint as complaint_workflow

CHANNELS = {
    "hotline": _l("Hotline"),
    "sms": _l("SMS"),
    "web": _l("Web"),
    "letter": _l("Letter"),
    "visit": _l("Visit"),
}
CATEGORIES = {
    "service_attitude": _l("Poor service attitude"),
    "red_envelope": _l("Red envelopes and kickbacks"),
    "irregular_fees": _l("Irregular fees"),
    "over_treatment": _l("Over-treatment"),
    "illegal_advertising": _l("Illegal advertising"),
    "other": _l("Other"),
}
OUTCOMES = {
    "substantiated": _l("Substantiated"),
    "unsubstantiated": _l("Unsubstantiated"),
}
DEPARTMENTS = {
    "market_supervision": _l("Market supervision"),
    "medical_insurance": _l("Medical insurance bureau"),
    "public_security": _l("Public security"),
    "discipline_inspection": _l("Discipline inspection"),
}
assert tuple(OUTCOMES) == complaint_workflow.OUTCOMES
assert tuple(DEPARTMENTS) == complaint_workflow.TRANSFER_DEPARTMENTS
