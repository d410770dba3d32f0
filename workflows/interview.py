"""Interview machine (约谈): an institution's leaders are summoned to a talk.

scheduled → held (with the date, attendees and minutes, and perhaps a follow-up
rectification order) or scheduled → cancelled (reason required). An interview is created
in `scheduled`; its creation is the history event `schedule` (CREATION_EVENT), not a
transition. The row (`event.model`) must provide `held_on` (a date) and `minutes` (text),
written on the row before `hold` fires (binding.apply's `changes`).

Trigger keyword arguments read by guards: cancel `comment` (the reason).
"""

from __future__ import annotations

from typing import Any

from workflows.guards import as_date, guard, non_blank, reason_given

NAME = "interview"

STATES = ("scheduled", "held", "cancelled")
INITIAL = "scheduled"
# The history event written when an interview is created (in INITIAL).
CREATION_EVENT = "schedule"
OPEN_STATES = frozenset({"scheduled"})


@guard("Enter the date the interview was held and its minutes.", reads=("held_on", "minutes"))
def held_recorded(event: Any) -> bool:
    """The row has the date it was held and non-blank minutes."""
    return as_date(event.model.held_on) is not None and non_blank(event.model.minutes)


TRANSITIONS = [
    {"trigger": "hold", "source": "scheduled", "dest": "held", "conditions": [held_recorded]},
    {"trigger": "cancel", "source": "scheduled", "dest": "cancelled",
     "conditions": [reason_given]},
]

TRIGGERS = tuple(dict.fromkeys(t["trigger"] for t in TRANSITIONS))
