"""The order deadline sweeps: overdue and escalation, and reminders before deadlines.

Each sweep is `fn(at) -> summary` (casework/jobs/registry.py), built from the shared
toolbox in casework/jobs/sweeping.py: chunks of CHUNK rows with a fixed number of
queries each, every chunk one unit of work with its notifications.

Notifications (kind, key, params; link /orders/<id>):
* order_deadline_reminder, "order:<id>:reminder:<days>:<deadline>",
  {number, institution, deadline, days}: to the institution's users;
* order_overdue, "order:<id>:overdue:<deadline>", {number, institution, deadline}: to the
  institution's users;
* order_escalated, "order:<id>:escalated:<deadline>", {number, institution, deadline}:
  to the institution's users and the coordinators over the institution.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from casework import clock, periods, policy
from casework.cases.models import InspectionCase
from casework.institutions.models import Institution
from casework.jobs.sweeping import coordinator_ids, keyset_chunks, name, setting_days
from casework.notifications.services import Notice, institution_user_ids, notify
from casework.orders.models import RectificationOrder as Order
from workflows import binding

# Orders whose institution still has to act before the deadline.
AWAITING_SUBMISSION = ("issued", "acknowledged", "returned")


def _order_rows(*conditions, lock: bool = False) -> sa.Select:
    select = (sa.select(Order.id, Order.number, Order.deadline, Order.issued_on,
                        InspectionCase.institution_id, Institution.name,
                        Institution.name_en)
              .join(InspectionCase, InspectionCase.id == Order.case_id)
              .join(Institution, Institution.id == InspectionCase.institution_id)
              .where(*conditions))
    # Lock the chunk before its notifications are written, so the rows apply_batch then
    # fires on (in the same transaction) are exactly the ones notified. Rows a user holds
    # are skipped: the next sweep takes them.
    return select.with_for_update(skip_locked=True, of=Order) if lock else select


def _params(row) -> dict:
    return {"number": row.number, "institution": name(row.name, row.name_en),
            "deadline": row.deadline.isoformat()}


def _transition(select: sa.Select, trigger: str, kwargs_for: Callable | None,
                notices_for: Callable[[list], list[Notice]]) -> tuple[int, int, dict]:
    """Fire `trigger` on the orders `select` finds, chunk by chunk, each chunk committed
    with its notifications. Returns (moved, notifications, {id: reasons} refused)."""
    moved = created = 0
    refused: dict[int, list[str]] = {}
    for rows in keyset_chunks(select, Order.id):
        with binding.unit_of_work():
            created += notify(notices_for(rows))
            done, blocked = binding.apply_batch(Order, [r.id for r in rows], trigger,
                                                actor=policy.SYSTEM, kwargs_for=kwargs_for)
        moved += len(done)
        refused.update({k: [str(m) for m in v] for k, v in blocked.items()})
    return moved, created, refused


def _notices(rows, kind: str, key: Callable, params: Callable, *,
             coordinators: bool = False) -> list[Notice]:
    """One notice per order row and recipient: the institution's users, and with
    `coordinators` the coordinators over the institution too."""
    institutions = {r.institution_id for r in rows}
    users = institution_user_ids(institutions)
    over = coordinator_ids(institutions) if coordinators else {}
    return [Notice(u, key(r), kind, params(r), f"/orders/{r.id}")
            for r in rows
            for u in [*users.get(r.institution_id, ()), *over.get(r.institution_id, ())]]


def deadline_sweep(at: datetime) -> dict:
    """Mark orders past their deadline overdue, then escalate those overdue longer than
    ESCALATE_AFTER_DAYS (deadline + N days before today), each with its notifications.

    Returns {"today", "overdue", "escalated", "notifications", "refused"}.
    """
    today = clock.local_date(at)
    after = current_app.config["ESCALATE_AFTER_DAYS"]
    overdue, sent_overdue, refused = _transition(
        _order_rows(Order.state.in_(AWAITING_SUBMISSION), Order.deadline < today, lock=True),
        "mark_overdue", lambda row: {"today": today},
        lambda rows: _notices(rows, "order_overdue",
                              lambda r: f"order:{r.id}:overdue:{r.deadline.isoformat()}",
                              _params))
    escalated, sent_escalated, refused_escalation = _transition(
        _order_rows(Order.state == "overdue", Order.deadline < today - timedelta(days=after),
                    lock=True),
        "escalate", None,
        lambda rows: _notices(rows, "order_escalated",
                              lambda r: f"order:{r.id}:escalated:{r.deadline.isoformat()}",
                              _params,
                              coordinators=True))
    refused.update(refused_escalation)
    return {"today": today.isoformat(), "overdue": overdue, "escalated": escalated,
            "notifications": sent_overdue + sent_escalated,
            "refused": {str(k): v for k, v in refused.items()}}


def deadline_reminders(at: datetime) -> dict:
    """Remind institutions of the deadlines of orders they have not submitted yet,
    REMINDER_DAYS before (7, 3 and 1 by default).

    A reminder's day is deadline − d. It is created once that day has come, late after
    downtime (up to CATCH_UP_DAYS), never for a deadline already passed nor for a day
    before the order was issued. Returns {"today", "orders", "notifications"}.
    """
    today = clock.local_date(at)
    days = setting_days("REMINDER_DAYS")
    catch_up = current_app.config["CATCH_UP_DAYS"]
    orders = created = 0
    if not days:
        return {"today": today.isoformat(), "orders": 0, "notifications": 0}
    # Overdue and escalated too: a catch-up after downtime recreates the reminders an
    # order had before its deadline passed.
    select = _order_rows(Order.state.in_((*AWAITING_SUBMISSION, "overdue", "escalated")),
                         Order.deadline >= today - timedelta(days=catch_up),
                         Order.deadline <= today + timedelta(days=max(days)))
    for rows in keyset_chunks(select, Order.id):
        orders += len(rows)
        users = institution_user_ids({r.institution_id for r in rows})
        with binding.unit_of_work():
            created += notify(
                Notice(u, f"order:{r.id}:reminder:{d}:{r.deadline.isoformat()}",
                       "order_deadline_reminder", {**_params(r), "days": d},
                       f"/orders/{r.id}", mail=periods.worth_mailing(r.deadline, today))
                for r in rows
                for d in periods.reminders_due(r.deadline, days, today, catch_up, r.issued_on)
                for u in users.get(r.institution_id, ()))
    return {"today": today.isoformat(), "orders": orders, "notifications": created}
