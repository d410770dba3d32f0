"""Campaigns: listing, detail and scope/coverage within the actor's jurisdiction."""

from dataclasses import dataclass
from datetime import date
from math import ceil

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from casework import policy
from casework.campaigns.models import Campaign, CoverageRule
from casework.cases.models import InspectionCase
from casework.errors import NotFound
from casework.extensions import db
from casework.institutions.models import Institution, Region
from casework.labels import localized


def list_campaigns(actor, case_counts: dict[int, int] | None = None
                   ) -> list[tuple[Campaign, int]]:
    """Visible campaigns, newest first, each with the number of its cases the actor sees
    (`case_counts` by campaign id when the caller has them already)."""
    campaigns = list(db.session.scalars(
        policy.visible_campaigns(sa.select(Campaign), actor, Campaign)
        .options(joinedload(Campaign.region), selectinload(Campaign.phases))
        .order_by(Campaign.starts_on.desc())
    ).unique())
    if case_counts is None:
        counts_query = (
            sa.select(InspectionCase.campaign_id, sa.func.count())
            .join(Institution, Institution.id == InspectionCase.institution_id)
            .group_by(InspectionCase.campaign_id)
        )
        case_counts = dict(db.session.execute(
            policy.visible_institutions(counts_query, actor, Institution)
        ).all())
    return [(c, case_counts.get(c.id, 0)) for c in campaigns]


def get_campaign(campaign_id: int, actor) -> Campaign:
    campaign = db.session.scalar(
        sa.select(Campaign).where(Campaign.id == campaign_id).options(
            joinedload(Campaign.region),
            selectinload(Campaign.phases), selectinload(Campaign.key_tasks),
            selectinload(Campaign.coverage_rules), selectinload(Campaign.cadences),
            selectinload(Campaign.indicators),
        )
    )
    if campaign is None or not policy.allows("campaign_view", actor, campaign):
        raise NotFound()
    return campaign


@dataclass(frozen=True)
class CoverageLine:
    """One coverage rule against its target: the institutions of the rule's kinds in
    scope, how many of them count (have a case in the campaign, for the plan; had an
    inspection finalised in the period, for the report) and how many the target needs."""
    rule: CoverageRule
    in_scope: int
    counted: int
    required: int

    @property
    def label(self) -> str:
        return localized(self.rule, "label")

    @property
    def target_percent(self) -> int:
        return self.rule.target_percent

    @property
    def percent(self) -> float | None:
        return round(100 * self.counted / self.in_scope, 1) if self.in_scope else None

    @property
    def met(self) -> bool:
        return self.counted >= self.required


def coverage_lines(campaign: Campaign, scope, counted) -> list[CoverageLine]:
    """Per coverage rule of the campaign: the institutions among `scope` (a select of
    institution ids) of the rule's kinds, and how many of them are among `counted` (a
    select of institution ids). One grouped query, whatever the number of institutions."""
    counted = counted.distinct().subquery("counted")
    rows = db.session.execute(
        sa.select(Institution.type, Institution.level, Institution.ownership,
                  sa.func.count(), sa.func.count(counted.c.institution_id))
        .outerjoin(counted, counted.c.institution_id == Institution.id)
        .where(Institution.id.in_(scope))
        .group_by(Institution.type, Institution.level, Institution.ownership)
    ).all()
    lines = []
    for rule in campaign.coverage_rules:
        matching = [r for r in rows if rule.matches(r[0], r[1], r[2])]
        in_scope = sum(r[3] for r in matching)
        lines.append(CoverageLine(rule=rule, in_scope=in_scope,
                                  counted=sum(r[4] for r in matching),
                                  required=ceil(in_scope * rule.target_percent / 100)))
    return lines


def coverage(campaign: Campaign) -> list[CoverageLine]:
    """The plan's coverage: per rule, the institutions in the campaign's region and how
    many have a case in the campaign."""
    region_ids = sa.select(Region.id).where(
        Region.path.startswith(campaign.region.path, autoescape=True))
    return coverage_lines(
        campaign, sa.select(Institution.id).where(Institution.region_id.in_(region_ids)),
        sa.select(InspectionCase.institution_id.label("institution_id"))
        .where(InspectionCase.campaign_id == campaign.id))


def timeline(campaign: Campaign, today: date) -> list[dict]:
    """Phases positioned on the campaign period, for a horizontal timeline (percentages)."""
    span = max((campaign.ends_on - campaign.starts_on).days + 1, 1)
    items = []
    for phase in campaign.phases:
        start = max((phase.starts_on - campaign.starts_on).days, 0)
        length = (phase.ends_on - phase.starts_on).days + 1
        items.append({
            "phase": phase,
            "offset": round(100 * start / span, 2),
            "width": max(round(100 * length / span, 2), 1.5),
            "current": phase.starts_on <= today <= phase.ends_on,
            "done": phase.ends_on < today,
        })
    return items
