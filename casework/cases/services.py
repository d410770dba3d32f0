"""Inspection cases: listing within jurisdiction, detail, history and transitions."""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload

from casework import policy
from casework.campaigns.models import Campaign
from casework.cases.models import InspectionCase
from casework.errors import Invalid, NotFound
from casework.extensions import db
from casework.history.models import HistoryEvent
from casework.history.services import history_of
from casework.institutions.models import Institution, Region
from casework.pagination import Page, paginate
from workflows import binding
from workflows import case as case_workflow


@dataclass(frozen=True)
class CaseFilters:
    campaign_id: int | None = None
    region_id: int | None = None
    institution_type: str | None = None
    state: str | None = None
    text: str | None = None


def list_cases(actor, filters: CaseFilters, *, page: int = 1, per_page: int = 50) -> Page:
    """Cases the actor may see, filtered, with institution, region and campaign loaded.
    Raises NotPermitted for a role without a case list, Invalid for a bad filter."""
    policy.check("case_list", actor)
    query = (
        sa.select(InspectionCase)
        .join(InspectionCase.institution)
        .join(InspectionCase.campaign)
        .options(contains_eager(InspectionCase.institution).joinedload(Institution.region),
                 contains_eager(InspectionCase.campaign))
    )
    query = policy.visible_institutions(query, actor, Institution)
    if filters.campaign_id:
        query = query.where(InspectionCase.campaign_id == filters.campaign_id)
    if filters.state:
        if filters.state not in case_workflow.STATES:
            raise Invalid({"state": ["unknown state"]})
        query = query.where(InspectionCase.state == filters.state)
    if filters.institution_type:
        query = query.where(Institution.type == filters.institution_type)
    if filters.region_id:
        region = db.session.get(Region, filters.region_id)
        if region is None:
            raise Invalid({"region": ["unknown region"]})
        query = query.where(Institution.region_id.in_(
            sa.select(Region.id).where(Region.path.startswith(region.path, autoescape=True))
        ))
    if filters.text:
        query = query.where(Institution.name.contains(filters.text.strip(), autoescape=True))
    query = query.order_by(Campaign.starts_on.desc(), Institution.code, InspectionCase.id)
    return paginate(query, page=page, per_page=per_page)


def get_case(case_id: int, actor) -> InspectionCase:
    """The case, if it exists and the actor may see it; NotFound otherwise (no hint which)."""
    case = db.session.scalar(
        sa.select(InspectionCase).where(InspectionCase.id == case_id).options(
            joinedload(InspectionCase.institution).joinedload(Institution.region),
            joinedload(InspectionCase.campaign).selectinload(Campaign.phases),
        )
    )
    if case is None or not policy.allows("case_view", actor, case):
        raise NotFound()
    return case


def case_history(case: InspectionCase) -> list[HistoryEvent]:
    return history_of(case)


def available_triggers(case: InspectionCase, actor) -> list[str]:
    return binding.available_triggers(case, actor)


def fire_case(case_id: int, trigger: str, *, actor, version: int | None,
              comment: str | None = None, final_summary: str | None = None) -> HistoryEvent:
    """Fire a case trigger through the workflow binding; see binding.apply for errors."""
    case = get_case(case_id, actor)
    changes = {}
    if trigger == "close" and final_summary is not None:
        changes["final_summary"] = final_summary.strip() or None
    return binding.apply(case, trigger, actor=actor, version=version, comment=comment,
                         changes=changes)


def state_counts(actor, campaign_id: int | None = None) -> dict[str, int]:
    """Number of visible cases in each state (every state present, zero included)."""
    query = (sa.select(InspectionCase.state, sa.func.count())
             .join(Institution, Institution.id == InspectionCase.institution_id))
    query = policy.visible_institutions(query, actor, Institution)
    if campaign_id:
        query = query.where(InspectionCase.campaign_id == campaign_id)
    counts = dict.fromkeys(case_workflow.STATES, 0)
    counts.update(dict(db.session.execute(query.group_by(InspectionCase.state)).all()))
    return counts


def case_counts(actor) -> tuple[dict[int, int], dict[str, int]]:
    """Visible cases per campaign and per state (every state present, zero included),
    from one grouped query: the dashboard needs both."""
    query = (sa.select(InspectionCase.campaign_id, InspectionCase.state, sa.func.count())
             .join(Institution, Institution.id == InspectionCase.institution_id))
    query = policy.visible_institutions(query, actor, Institution)
    by_campaign: dict[int, int] = {}
    by_state = dict.fromkeys(case_workflow.STATES, 0)
    for campaign_id, state, n in db.session.execute(
            query.group_by(InspectionCase.campaign_id, InspectionCase.state)):
        by_campaign[campaign_id] = by_campaign.get(campaign_id, 0) + n
        by_state[state] += n
    return by_campaign, by_state
