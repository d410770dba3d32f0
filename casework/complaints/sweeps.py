"""The complaint deadline sweep: reminders before the handling deadline, and the overdue
notice the day after it, for complaints still being handled (received, assigned,
investigating).

`complaint_reminders(at) -> summary` (casework/jobs/registry.py): idempotent by the
notifications' unique (user, key), so running it twice, late or after a crash sends
nothing twice and misses nothing.

Recipients: the handler; an unassigned complaint's coordinators in reach (those over its
institution, or the city-level coordinators for a complaint naming no institution yet).

Notifications (kind, key, params; link /complaints/<id>):
* complaint_deadline_reminder, "complaint:<id>:reminder:<days>:<deadline>",
  {number, category, deadline, days}: setting complaint_reminder_days before the
  deadline (0: none), from that day until the deadline;
* complaint_overdue, "complaint:<id>:overdue:<deadline>", {number, category, deadline}:
  from the day after the deadline on.
A later deadline (a new key) is reminded of again.
"""

from datetime import datetime, timedelta

import sqlalchemy as sa

from casework import clock, policy
from casework.complaints.models import Complaint
from casework.complaints.services import OPEN_STATES
from casework.extensions import db
from casework.institutions.models import Region
from casework.jobs.sweeping import coordinator_ids, keyset_chunks
from casework.notifications.services import Notice, notify
from casework.settings import services as settings
from casework.users.models import User
from workflows import binding


def _top_coordinators() -> list[int]:
    """Active coordinators of a city (or province): in reach of complaints about no
    institution yet."""
    return list(db.session.scalars(
        sa.select(User.id).join(Region, Region.id == User.region_id)
        .where(User.role == "coordinator", User.active.is_(True),
               Region.level.in_(policy.TOP_LEVELS)).order_by(User.id)))


def complaint_reminders(at: datetime) -> dict:
    """Create the reminders and overdue notices due on the local day of `at`.

    Returns {"today", "complaints", "notifications"}.
    """
    today = clock.local_date(at)
    lead = settings.get("complaint_reminder_days")
    select = (sa.select(Complaint.id, Complaint.category, Complaint.deadline,
                        Complaint.handler_id, Complaint.institution_id)
              .where(Complaint.state.in_(OPEN_STATES),
                     Complaint.deadline <= today + timedelta(days=lead)))
    seen = created = 0
    top = None
    for rows in keyset_chunks(select, Complaint.id):
        seen += len(rows)
        over = coordinator_ids({r.institution_id for r in rows
                                if r.handler_id is None and r.institution_id is not None})
        notices = []
        for r in rows:
            if r.handler_id is not None:
                recipients = [r.handler_id]
            elif r.institution_id is not None:
                recipients = over.get(r.institution_id, [])
            else:
                top = _top_coordinators() if top is None else top
                recipients = top
            params = {"number": f"#{r.id}", "category": r.category,
                      "deadline": r.deadline.isoformat()}
            if r.deadline < today:
                key, kind = f"complaint:{r.id}:overdue:{r.deadline.isoformat()}", \
                    "complaint_overdue"
            elif lead and r.deadline - timedelta(days=lead) <= today:
                key, kind = (f"complaint:{r.id}:reminder:{lead}:{r.deadline.isoformat()}",
                             "complaint_deadline_reminder")
                params["days"] = (r.deadline - today).days
            else:
                continue
            notices += [Notice(u, key, kind, params, f"/complaints/{r.id}")
                        for u in recipients]
        with binding.unit_of_work():
            created += notify(notices)
    return {"today": today.isoformat(), "complaints": seen, "notifications": created}
