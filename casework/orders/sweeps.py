"""The order deadline sweeps: overdue and escalation, and reminders before deadlines.

Each sweep is `fn(at) -> summary` (casework/jobs/registry.py): it computes what is due
up to `at` on the local calendar (the configured zone) and creates what is missing, in
chunks of CHUNK rows with a fixed number of queries each, committing every chunk with
its notifications. A crash loses at most the chunk under way; the next run finishes it,
and the notifications' unique (user, key) make sure nothing is sent twice.

This module also holds the helpers the other sweeps share (local day, configured day
lists, who to tell).

Notifications (kind, key, params; link /orders/<id>):
* order_deadline_reminder, "order:<id>:reminder:<days>:<deadline>",
  {number, institution, deadline, days}: to the institution's users;
* order_overdue, "order:<id>:overdue:<deadline>", {number, institution, deadline}: to the
  institution's users;
* order_escalated, "order:<id>:escalated:<deadline>", {number, institution, deadline}:
  to the institution's users and the coordinators over the institution.
"""

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from casework import clock, periods, policy
from casework.cases.models import InspectionCase
from casework.extensions import db
from casework.institutions.models import Institution, Region
from casework.notifications.services import Notice, institution_user_ids, notify
from casework.orders.models import RectificationOrder as Order
from casework.users.models import User
from workflows import binding

CHUNK = 500
# Orders whose institution still has to act before the deadline.
AWAITING_SUBMISSION = ("issued", "acknowledged", "returned")


# --- shared by the sweeps -------------------------------------------------------------

def local_today(at: datetime) -> date:
    """The day `at` falls on in the configured zone: the day every sweep reasons about."""
    return periods.local_date(at, clock.zone())


def setting_days(name: str) -> tuple[int, ...]:
    """A configured list of days ("7,3,1"), largest first."""
    return periods.day_list(current_app.config[name])


def name(zh: str, en: str | None):
    """A name for notification params: the Chinese name, with its English one when the
    row has it ({"zh_CN": ..., "en": ...}), for the inbox to show in the reader's language."""
    return {"zh_CN": zh, "en": en} if en else zh


def coordinator_ids(institution_ids: Iterable[int]) -> dict[int, list[int]]:
    """{institution id: [active coordinators whose region contains it]} in one query."""
    ids = set(institution_ids)
    if not ids:
        return {}
    theirs, mine = aliased(Region), aliased(Region)
    result: dict[int, list[int]] = {}
    for user_id, institution_id in db.session.execute(
            sa.select(User.id, Institution.id)
            .join(theirs, theirs.id == Institution.region_id)
            .join(mine, theirs.path.startswith(mine.path))
            .join(User, User.region_id == mine.id)
            .where(Institution.id.in_(ids), User.role == "coordinator",
                   User.active.is_(True))
            .order_by(User.id)):
        result.setdefault(institution_id, []).append(user_id)
    return result


def region_user_ids(region_ids: Iterable[int], role: str) -> dict[int, list[int]]:
    """{region id: [active users of `role` whose region overlaps it]} in one query.

    Overlap as in policy: a district officer works a city-wide campaign, a city officer
    the district campaigns below the city.
    """
    ids = set(region_ids)
    if not ids:
        return {}
    mine = aliased(Region)
    result: dict[int, list[int]] = {}
    for user_id, region_id in db.session.execute(
            sa.select(User.id, Region.id)
            .join(mine, sa.or_(Region.path.startswith(mine.path),
                               mine.path.startswith(Region.path)))
            .join(User, User.region_id == mine.id)
            .where(Region.id.in_(ids), User.role == role, User.active.is_(True))
            .order_by(User.id)):
        result.setdefault(region_id, []).append(user_id)
    return result


def keyset_chunks(select: sa.Select, id_column, size: int | None = None):
    """Run `select` (whose first column is `id_column`) repeatedly, CHUNK rows at a time
    in id order, starting after the last id of the previous chunk.

    Keyset paging, not OFFSET: rows the previous chunk changed (or could not change)
    neither come back nor make the next chunk skip others.
    """
    size = size or CHUNK
    last = None
    while True:
        query = select if last is None else select.where(id_column > last)
        rows = db.session.execute(query.order_by(id_column).limit(size)).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


# --- orders ---------------------------------------------------------------------------

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
    today = local_today(at)
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
    today = local_today(at)
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
        created += notify(
            Notice(u, f"order:{r.id}:reminder:{d}:{r.deadline.isoformat()}",
                   "order_deadline_reminder", {**_params(r), "days": d}, f"/orders/{r.id}",
                   mail=periods.worth_mailing(r.deadline, today))
            for r in rows
            for d in periods.reminders_due(r.deadline, days, today, catch_up, r.issued_on)
            for u in users.get(r.institution_id, ()))
        db.session.commit()
    return {"today": today.isoformat(), "orders": orders, "notifications": created}
