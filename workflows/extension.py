"""Extension request machine (延期申请): an institution asks for more time on a
rectification order; a coordinator approves or declines.

pending → approved (the order's `extend` fires in the same commit with the new deadline)
or pending → declined (reason required). A request is created in `pending`; its creation
is the history event `request` (CREATION_EVENT), not a transition. States are stored in
the request's `status` column.

Trigger keyword arguments read by guards: approve `new_deadline` (a date); decline
`comment` (the reason).
"""

from __future__ import annotations

from typing import Any

from workflows.guards import as_date, guard, reason_given

NAME = "extension"

STATES = ("pending", "approved", "declined")
INITIAL = "pending"
# The history event written when a request is created (in INITIAL).
CREATION_EVENT = "request"
# Waiting for a decision: an order has at most one request in these states.
OPEN_STATES = frozenset({"pending"})


@guard("A new deadline is required.")
def deadline_granted(event: Any) -> bool:
    """kwargs["new_deadline"] is a date."""
    return as_date(event.kwargs.get("new_deadline")) is not None


TRANSITIONS = [
    {"trigger": "approve", "source": "pending", "dest": "approved",
     "conditions": [deadline_granted]},
    {"trigger": "decline", "source": "pending", "dest": "declined", "conditions": [reason_given]},
]

TRIGGERS = tuple(dict.fromkeys(t["trigger"] for t in TRANSITIONS))
