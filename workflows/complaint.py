"""Complaint machine (DESIGN.md, "State machines": Complaint).

received → assigned → investigating → concluded → replied → closed, or
received → transferred → closed when handed to another department.

Trigger keyword arguments read by guards: assign `handler_id`; conclude `outcome` (one of
OUTCOMES); reply `comment` (the reply text); transfer `department` (one of
TRANSFER_DEPARTMENTS).
"""

from __future__ import annotations

from typing import Any

from workflows.guards import Reason, guard, non_blank

NAME = "complaint"

STATES = ("received", "assigned", "investigating", "concluded", "replied", "transferred", "closed")
INITIAL = "received"
# Still being worked on: its reply deadline runs (overdue when past it). The list filter
# reads the first one's rank: these states share a rank (Complaint.LIST_RANK).
OPEN_STATES = ("received", "assigned", "investigating")

OUTCOMES = ("substantiated", "unsubstantiated")
TRANSFER_DEPARTMENTS = (
    "market_supervision", "medical_insurance", "public_security", "discipline_inspection",
)


@guard("A handler is required.")
def handler_given(event: Any) -> bool:
    """kwargs["handler_id"] is given (truthy)."""
    return bool(event.kwargs.get("handler_id"))


@guard("The outcome must be substantiated or unsubstantiated.")
def outcome_given(event: Any) -> bool:
    """kwargs["outcome"] is one of OUTCOMES."""
    return event.kwargs.get("outcome") in OUTCOMES


@guard("A reply is required.")
def reply_given(event: Any) -> bool:
    """kwargs["comment"] (the reply to the complainant) is non-blank."""
    return non_blank(event.kwargs.get("comment"))


@guard(lambda event: Reason("The department must be one of: %(departments)s.",
                            departments=", ".join(TRANSFER_DEPARTMENTS)))
def department_given(event: Any) -> bool:
    """kwargs["department"] is one of TRANSFER_DEPARTMENTS."""
    return event.kwargs.get("department") in TRANSFER_DEPARTMENTS


TRANSITIONS = [
    {"trigger": "assign", "source": "received", "dest": "assigned", "conditions": [handler_given]},
    {"trigger": "investigate", "source": "assigned", "dest": "investigating", "conditions": []},
    {"trigger": "conclude", "source": "investigating", "dest": "concluded",
     "conditions": [outcome_given]},
    {"trigger": "reply", "source": "concluded", "dest": "replied", "conditions": [reply_given]},
    {"trigger": "close", "source": ["replied", "transferred"], "dest": "closed", "conditions": []},
    {"trigger": "transfer", "source": "received", "dest": "transferred",
     "conditions": [department_given]},
]

TRIGGERS = tuple(dict.fromkeys(t["trigger"] for t in TRANSITIONS))

# What a transition causes besides its state change, committed with it (handlers:
# casework/effects.py): a substantiated conclusion earns the institution its points.
EFFECTS = {"conclude": ("award_complaint_points",)}
