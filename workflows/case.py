"""Inspection case machine (DESIGN.md, "State machines": Inspection case).

mobilisation → rectification → consolidation → closed, with `tackling` (集中攻坚) as a
flat state beside rectification. The row (`event.model`) must provide:

* `blocking_orders`: short names of the case's orders that are overdue or escalated;
* `unfinished_orders`: short names of the case's orders neither closed nor cancelled;
* `final_summary`: the filed final summary text (blank or None when not filed).

"Case not in tackling" (a condition of start_consolidation in DESIGN.md) holds by
construction: start_consolidation only leaves `rectification`.
"""

from __future__ import annotations

from typing import Any

from workflows.guards import Reason, guard, listed, non_blank, reason_given

NAME = "case"

STATES = ("mobilisation", "rectification", "tackling", "consolidation", "closed")
INITIAL = "mobilisation"
ACTIVE_STATES = frozenset({"mobilisation", "rectification", "tackling", "consolidation"})
# A closed case takes no new inspections, orders or mobilisation record until reopened.
CLOSED_STATES = frozenset(STATES) - ACTIVE_STATES


@guard(lambda event: Reason("Orders overdue or escalated: %(orders)s.",
                            orders=listed(event.model.blocking_orders)),
       reads=("blocking_orders",))
def no_blocking_orders(event: Any) -> bool:
    """No order of the case is overdue or escalated."""
    return not event.model.blocking_orders


@guard(lambda event: Reason("Orders not closed or cancelled: %(orders)s.",
                            orders=listed(event.model.unfinished_orders)),
       reads=("unfinished_orders",))
def orders_finished(event: Any) -> bool:
    """Every order of the case is closed or cancelled."""
    return not event.model.unfinished_orders


@guard("The final summary has not been filed.", reads=("final_summary",))
def final_summary_filed(event: Any) -> bool:
    """The case's final summary is filed (non-blank)."""
    return non_blank(event.model.final_summary)


TRANSITIONS = [
    {"trigger": "start_rectification", "source": "mobilisation", "dest": "rectification",
     "conditions": []},
    {"trigger": "designate_tackling", "source": "rectification", "dest": "tackling",
     "conditions": [reason_given]},
    {"trigger": "release_tackling", "source": "tackling", "dest": "rectification",
     "conditions": [reason_given]},
    {"trigger": "start_consolidation", "source": "rectification", "dest": "consolidation",
     "conditions": [no_blocking_orders]},
    {"trigger": "close", "source": "consolidation", "dest": "closed",
     "conditions": [orders_finished, final_summary_filed]},
    {"trigger": "reopen", "source": "closed", "dest": "consolidation",
     "conditions": [reason_given]},
]

TRIGGERS = tuple(dict.fromkeys(t["trigger"] for t in TRANSITIONS))
