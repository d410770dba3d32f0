"""Rectification order machine (DESIGN.md, "State machines": Rectification order).

issued → acknowledged → submitted → closed, with returned / overdue / escalated on the way
and cancelled from any open state. The row (`event.model`) must provide `deadline` (a date).

Trigger keyword arguments read by guards:

* submit: `report` (non-blank text) and `evidence_count` (number of evidence files, ≥ 1);
* return, cancel: `comment` (the reason);
* mark_overdue: `today` (a date);
* extend: `new_deadline` (a date). The guard only checks it; storing it on the row is the
  caller's job. From issued/acknowledged/returned `extend` is an internal transition: the
  state does not change (and no exit/enter callbacks run).
"""

from __future__ import annotations

from typing import Any

from workflows.guards import Reason, as_date, date_after, guard, non_blank, reason_given

NAME = "order"

STATES = (
    "issued", "acknowledged", "submitted", "returned", "overdue", "escalated", "closed", "cancelled",
)
INITIAL = "issued"
_OPEN = ("issued", "acknowledged", "submitted", "returned", "overdue", "escalated")
OPEN_STATES = frozenset(_OPEN)
FINAL_STATES = frozenset({"closed", "cancelled"})


@guard("A report and at least one evidence file are required.")
def submission_complete(event: Any) -> bool:
    """kwargs["report"] is non-blank and kwargs["evidence_count"] is at least 1."""
    count = event.kwargs.get("evidence_count", 0)
    return (
        non_blank(event.kwargs.get("report"))
        and isinstance(count, int)
        and not isinstance(count, bool)
        and count >= 1
    )


def _deadline_not_passed(event: Any) -> str:
    deadline = as_date(event.model.deadline)
    if deadline is None:
        return Reason("The order has no deadline.")
    return Reason("The deadline (%(deadline)s) has not passed.", deadline=deadline.isoformat())


@guard(_deadline_not_passed, reads=("deadline",))
def past_deadline(event: Any) -> bool:
    """kwargs["today"] is a date after the row's deadline (an order without one is never late)."""
    return date_after(event.kwargs.get("today"), event.model.deadline)


def _deadline_not_later(event: Any) -> str:
    deadline = as_date(event.model.deadline)
    if deadline is None:
        return Reason("A new deadline is required.")
    return Reason("The new deadline must be later than the current one (%(deadline)s).",
                  deadline=deadline.isoformat())


@guard(_deadline_not_later, reads=("deadline",))
def new_deadline_later(event: Any) -> bool:
    """kwargs["new_deadline"] is a date later than the row's deadline (any date if it has none)."""
    new_deadline = event.kwargs.get("new_deadline")
    if event.model.deadline is None:
        return as_date(new_deadline) is not None
    return date_after(new_deadline, event.model.deadline)


TRANSITIONS = [
    {"trigger": "acknowledge", "source": "issued", "dest": "acknowledged", "conditions": []},
    {"trigger": "submit", "source": ["acknowledged", "returned", "overdue", "escalated"],
     "dest": "submitted", "conditions": [submission_complete]},
    {"trigger": "verify", "source": "submitted", "dest": "closed", "conditions": []},
    {"trigger": "return", "source": "submitted", "dest": "returned", "conditions": [reason_given]},
    {"trigger": "mark_overdue", "source": ["issued", "acknowledged", "returned"], "dest": "overdue",
     "conditions": [past_deadline]},
    {"trigger": "escalate", "source": ["issued", "acknowledged", "returned", "overdue"],
     "dest": "escalated", "conditions": []},
    {"trigger": "extend", "source": ["overdue", "escalated"], "dest": "acknowledged",
     "conditions": [new_deadline_later]},
    # dest=None is transitions' internal transition: the deadline moves, the state stays.
    {"trigger": "extend", "source": ["issued", "acknowledged", "returned"], "dest": None,
     "conditions": [new_deadline_later]},
    {"trigger": "cancel", "source": list(_OPEN), "dest": "cancelled",
     "conditions": [reason_given]},
]

TRIGGERS = tuple(dict.fromkeys(t["trigger"] for t in TRANSITIONS))
# Where `extend` leaves from: while the order is with the institution (open, not awaiting
# verification), which is also when an extension can be asked for.
EXTENDABLE_STATES = frozenset(s for t in TRANSITIONS if t["trigger"] == "extend"
                              for s in t["source"])
