"""Progress report machine (DESIGN.md, "State machines": Progress report).

pending → submitted → accepted; submitted → returned → submitted; pending/returned → overdue
at the due date (an overdue report can still be submitted). The row (`event.model`) must
provide `body` (the report text) and `due_on` (a date).

Trigger keyword arguments read by guards: return `comment` (the reason); mark_overdue
`today` (a date).
"""

from __future__ import annotations

from typing import Any

from workflows.guards import Reason, as_date, date_after, guard, non_blank, reason_given

NAME = "report"

STATES = ("pending", "submitted", "returned", "overdue", "accepted")
INITIAL = "pending"


@guard("The report is empty.", reads=("body",))
def report_filled(event: Any) -> bool:
    """The row's body is non-blank."""
    return non_blank(event.model.body)


def _not_due(event: Any) -> str:
    due_on = as_date(event.model.due_on)
    if due_on is None:
        return Reason("The report has no due date.")
    return Reason("The due date (%(due_on)s) has not passed.", due_on=due_on.isoformat())


@guard(_not_due, reads=("due_on",))
def past_due(event: Any) -> bool:
    """kwargs["today"] is a date after the row's due date."""
    return date_after(event.kwargs.get("today"), event.model.due_on)


TRANSITIONS = [
    {"trigger": "submit", "source": ["pending", "returned", "overdue"], "dest": "submitted",
     "conditions": [report_filled]},
    {"trigger": "accept", "source": "submitted", "dest": "accepted", "conditions": []},
    {"trigger": "return", "source": "submitted", "dest": "returned", "conditions": [reason_given]},
    {"trigger": "mark_overdue", "source": ["pending", "returned"], "dest": "overdue",
     "conditions": [past_due]},
]

TRIGGERS = tuple(dict.fromkeys(t["trigger"] for t in TRANSITIONS))
# States in which the institution still writes the report: the sources of `submit`.
EDITABLE_STATES = frozenset(next(t["source"] for t in TRANSITIONS if t["trigger"] == "submit"))
