"""The identifiers of the domain, in one place.

Models (CHECK constraints), data-file schemas (casework/campaigns/definition.py,
casework/demo/data_files.py) and labels all use these tuples; display names live in
casework/labels.py. Pure Python: importable without an app.
"""

REGION_LEVELS = ("province", "city", "district", "county")
INSTITUTION_TYPES = (
    "general_hospital",
    "tcm_hospital",
    "maternal_child_hospital",
    "specialist_hospital",
    "community_health_centre",
    "community_health_station",
    "township_health_centre",
    "outpatient_department",
    "clinic",
)
HOSPITAL_TYPES = INSTITUTION_TYPES[:4]
LEVELS = ("tertiary", "secondary", "primary", "ungraded")
OWNERSHIPS = ("public", "private")

ROLES = ("coordinator", "inspector", "institution", "admin", "viewer")
REGION_ROLES = ("coordinator", "inspector", "viewer")
LOCALES = ("zh_CN", "en")

PHASE_KINDS = ("mobilisation", "rectification", "tackling", "consolidation", "evaluation")
CADENCE_KINDS = ("progress_report", "bulletin", "supervision_report", "assessment")
FREQUENCIES = ("monthly", "quarterly", "half_yearly")
TARGET_KINDS = ("at_least", "at_most", "exactly", "increase", "decrease", "per_level_count", "none")
UNITS = ("%", "‰", "count", "ratio", "minutes", "days", "other")

# Medical disputes (医疗纠纷): what kind, how it is being resolved, where it stands.
DISPUTE_TYPES = ("diagnosis_treatment", "surgery", "nursing", "medication", "infection",
                 "service", "fees", "other")
DISPUTE_ROUTES = ("negotiation", "mediation", "litigation")
DISPUTE_STATUSES = ("open", "resolved", "withdrawn")

# Bad-conduct points (不良积分): what a rule awards points for.
POINTS_SOURCES = ("complaint", "finding", "manual")
POINTS_SUBJECTS = ("institution", "staff")

# Oversight records on institutions: accountability (问责). (Interview states are the
# interview machine's, workflows/interview.py.)
ACCOUNTABILITY_MEASURES = ("circulated_criticism", "admonishment_talk", "written_inspection",
                           "organisational_handling", "referred_for_discipline", "other")

# The escalation queue: the kinds of item that need a coordinator.
QUEUE_KINDS = ("order_escalated", "order_overdue", "order_returned_twice", "report_overdue",
               "case_tackling", "case_blocked", "institution_complaints",
               "institution_points", "case_no_mobilisation_record")
