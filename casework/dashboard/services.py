"""What each role's dashboard shows, computed in a fixed number of queries."""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from casework import policy
from casework.campaigns.services import list_campaigns
from casework.cases.models import InspectionCase
from casework.cases.services import case_counts
from casework.dashboard.charts import campaign_charts
from casework.extensions import db
from casework.history.models import HistoryEvent
from casework.institutions.models import Institution, Region
from casework.orders.models import RectificationOrder
from casework.users.models import ROLES, User
from casework.workdays.services import unconfirmed_years_needed


def recent_case_events(actor, limit: int = 10) -> list[tuple[HistoryEvent, InspectionCase]]:
    """The latest case transitions within the actor's jurisdiction: read newest first
    along the (object_type, id) index, stopping after `limit` visible ones."""
    query = (
        sa.select(HistoryEvent, InspectionCase)
        .join(InspectionCase, HistoryEvent.object_id == InspectionCase.id)
        .join(Institution, Institution.id == InspectionCase.institution_id)
        .where(HistoryEvent.object_type == "case")
        .options(joinedload(HistoryEvent.actor), joinedload(InspectionCase.institution))
        .order_by(HistoryEvent.id.desc()).limit(limit)
    )
    query = policy.visible_institutions(query, actor, Institution)
    return [tuple(r) for r in db.session.execute(query).unique().all()]


def institution_cases(actor) -> list[InspectionCase]:
    """An institution user's own cases with their campaigns."""
    return list(db.session.scalars(
        sa.select(InspectionCase).where(InspectionCase.institution_id == actor.institution_id)
        .options(joinedload(InspectionCase.campaign))
        .order_by(InspectionCase.id.desc())
    ))


def admin_overview() -> dict:
    users_by_role = dict.fromkeys(ROLES, 0)
    users_by_role.update(dict(db.session.execute(
        sa.select(User.role, sa.func.count()).group_by(User.role)).all()))
    return {
        "users_by_role": users_by_role,
        "institutions": db.session.scalar(sa.select(sa.func.count(Institution.id))),
        "regions": db.session.scalar(sa.select(sa.func.count(Region.id))),
        # Working-day deadlines in these years are provisional until an admin enters them.
        "calendar_missing": unconfirmed_years_needed(),
        "provisional_orders": db.session.scalar(
            sa.select(sa.func.count(RectificationOrder.id)).where(
                RectificationOrder.deadline_provisional.is_(True))),
    }


def overview(actor, campaign_id: int | None = None, start: date | None = None,
             end: date | None = None) -> dict:
    """Everything the actor's dashboard needs; the charts are for `campaign_id` (default:
    the campaign running today) between `start` and `end` (default: its period so far).
    Raises NotFound (campaign not chartable by the actor), Invalid (bad period)."""
    if actor.role == "admin":
        return {"campaigns": list_campaigns(actor), **admin_overview()}
    if actor.role == "institution":
        # Its own cases are listed anyway (one per campaign at most): counted from them.
        cases = institution_cases(actor)
        by_campaign: dict[int, int] = {}
        for case in cases:
            by_campaign[case.campaign_id] = by_campaign.get(case.campaign_id, 0) + 1
        data = {"campaigns": list_campaigns(actor, by_campaign), "cases": cases}
    else:
        # One grouped count serves the campaign cards and the cases by state.
        by_campaign, by_state = case_counts(actor)
        data = {"campaigns": list_campaigns(actor, by_campaign), "state_counts": by_state,
                "recent": recent_case_events(actor)}
    data["charts"] = campaign_charts(actor, campaign_id, start, end,
                                     [c for c, _n in data["campaigns"]])
    return data


def status() -> dict:
    """What GET /status shows: that the application answers and its database does, in
    one primary-key lookup (the benchmark's baseline: the cheapest page there is)."""
    db.session.scalar(sa.select(Region.id).order_by(Region.id).limit(1))
    return {"status": "ok"}
