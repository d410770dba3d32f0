"""The words of medical disputes (GLOSSARY.md): identifiers and their labels."""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _p

from casework.vocabulary import DISPUTE_ROUTES, DISPUTE_STATUSES, DISPUTE_TYPES

TYPES = {
    "diagnosis_treatment": _l("Diagnosis and treatment"),
    "surgery": _l("Surgery"),
    "nursing": _l("Nursing"),
    "medication": _l("Medication"),
    "infection": _l("Hospital infection"),
    "service": _p("dispute type", "Service"),
    "fees": _p("dispute type", "Fees"),
    "other": _p("dispute type", "Other"),
}
ROUTES = {
    "negotiation": _l("Negotiation"),
    "mediation": _l("Mediation"),
    "litigation": _l("Litigation"),
}
STATUSES = {
    "open": _p("dispute state", "Open"),
    "resolved": _p("dispute state", "Resolved"),
    "withdrawn": _p("dispute state", "Withdrawn"),
}
assert tuple(TYPES) == DISPUTE_TYPES
assert tuple(ROUTES) == DISPUTE_ROUTES
assert tuple(STATUSES) == DISPUTE_STATUSES
