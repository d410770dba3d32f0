"""The dashboard charts: series for one campaign and a date range, in the actor's scope.

Each chart is plain data (labels, datasets of numbers); the template draws it with
Chart.js and prints the same numbers as a table. Every series is one grouped or
conditionally aggregated query, so the number of statements does not grow with the data.
"""

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from casework import clock, policy
from casework.campaigns.models import Campaign, KeyTask
from casework.cases.models import InspectionCase
from casework.dashboard.campaign_report import check_period, coverage_rows, default_period
from casework.dashboard.models import ComplaintDayTally, DisputeDayTally, FindingDayTally
from casework.dashboard.queries import (
    months,
    order_counts,
    periods_table,
    scope_ids,
    scoped_orders,
    ts,
)
from casework.dashboard.tallies import scope_regions
from casework.errors import NotFound
from casework.extensions import db
from casework.inspections.models import Finding, Inspection
from casework.institutions.models import Institution
from casework.labels import localized

TOP_N = 10


@dataclass
class Dataset:
    label: str
    data: list
    kind: str | None = None      # "line" to draw over bars
    stack: str | None = None


@dataclass
class Chart:
    key: str
    title: str
    type: str                    # "bar" or "line"
    labels: list[str]
    datasets: list[Dataset]
    stacked: bool = False
    horizontal: bool = False
    percent: bool = False        # values are percentages (axis 0–100)
    note: str | None = None

    def as_json(self) -> dict:
        return {"key": self.key, "type": self.type, "labels": self.labels,
                "stacked": self.stacked, "horizontal": self.horizontal,
                "percent": self.percent,
                "datasets": [{"label": d.label, "data": d.data, "type": d.kind,
                              "stack": d.stack} for d in self.datasets]}


@dataclass
class Charts:
    campaign: Campaign | None
    start: date | None
    end: date | None
    charts: list[Chart] = field(default_factory=list)

    def get(self, key: str) -> Chart | None:
        return next((c for c in self.charts if c.key == key), None)


def pick_campaign(actor, campaign_id: int | None, campaigns: list[Campaign]) -> Campaign | None:
    """The campaign asked for (NotFound if the actor does not see it), else the one
    running today, else the newest."""
    if campaign_id is not None:
        chosen = next((c for c in campaigns if c.id == campaign_id), None)
        if chosen is None:
            raise NotFound()
        return chosen
    today = clock.today()
    running = [c for c in campaigns if c.starts_on <= today <= c.ends_on]
    return (running or campaigns or [None])[0]


def campaign_charts(actor, campaign_id: int | None, start: date | None, end: date | None,
                    campaigns: list[Campaign]) -> Charts:
    """The charts of the actor's dashboard. `campaigns` are those the actor sees (already
    loaded for the selector). Raises NotFound (campaign), Invalid (period)."""
    campaign = pick_campaign(actor, campaign_id, campaigns)
    if campaign is None:
        return Charts(None, None, None)
    if not policy.allows("dashboard_charts_view", actor, campaign):
        if campaign_id is not None:
            raise NotFound()
        return Charts(None, None, None)
    if start is None and end is None:
        start, end = default_period(campaign)
    check_period(start, end)
    result = Charts(campaign, start, end)
    periods = months(start, end)
    labels = [m.key for m in periods]
    today = clock.today()

    # Orders per month: issued, closed, overdue and still open at the month's end.
    counts = order_counts(campaign, actor, periods, today)
    issued, closed, on_time, overdue = ([row[i] for row in counts] for i in range(4))
    result.charts.append(Chart(
        "orders", _("Orders by month"), "bar", labels,
        [Dataset(_("Issued in the month"), issued, stack="flow"),
         Dataset(_("Closed in the month"), closed, stack="done"),
         Dataset(_("Overdue and open at month end"), overdue, stack="overdue")]))
    rates = [round(100 * t / c, 1) if c else None for t, c in zip(on_time, closed, strict=True)]
    result.charts.append(Chart(
        "on_time", _("On-time closure rate"), "line", labels,
        [Dataset(_("Closed on time (%)"), rates)], percent=True,
        note=_("Orders closed in the month without a late submission, out of all closed.")))

    regions = scope_regions(actor, campaign) if actor.role != "institution" else None
    if actor.role != "institution":
        orders = scoped_orders(campaign.id, actor, campaign).subquery("scoped_order")
        top = db.session.execute(
            sa.select(Institution.name, sa.func.count())
            .join(orders, orders.c.institution_id == Institution.id)
            .where(orders.c.state.in_(("overdue", "escalated")))
            .group_by(Institution.id, Institution.name)
            .order_by(sa.func.count().desc(), Institution.name).limit(TOP_N)
        ).all()
        result.charts.append(Chart(
            "overdue_institutions", _("Overdue orders by institution (top %(n)d)", n=TOP_N),
            "bar", [r[0] for r in top], [Dataset(_("Orders overdue or escalated"),
                                                 [r[1] for r in top])], horizontal=True))

    # Findings of inspections finalised in the period, with the key tasks themselves: a
    # region's from the day tallies, an institution's own from its findings.
    if actor.role == "institution":
        found = (
            sa.select(Finding.key_task_id, sa.func.count().label("n"))
            .join(Inspection, Inspection.id == Finding.inspection_id)
            .join(InspectionCase, InspectionCase.id == Finding.case_id)
            .where(InspectionCase.campaign_id == campaign.id,
                   InspectionCase.institution_id.in_(scope_ids(actor, campaign)),
                   Inspection.finalised_at >= ts(periods[0].begins),
                   Inspection.finalised_at < ts(periods[-1].ends))
            .group_by(Finding.key_task_id)
            .subquery("found"))
    else:
        t = FindingDayTally
        found = (
            sa.select(t.key_task_id, sa.func.sum(t.found).label("n"))
            .where(t.campaign_id == campaign.id, t.region_id.in_(regions),
                   t.day >= periods[0].first, t.day <= periods[-1].last)
            .group_by(t.key_task_id)
            .subquery("found"))
    tasks = db.session.execute(
        sa.select(KeyTask, sa.func.coalesce(found.c.n, 0))
        .outerjoin(found, found.c.key_task_id == KeyTask.id)
        .where(KeyTask.campaign_id == campaign.id)
        .order_by(KeyTask.position, KeyTask.id)
    ).all()
    result.charts.append(Chart(
        "findings", _("Findings by key task"), "bar",
        [localized(t, "title") for t, _n in tasks],
        [Dataset(_("Findings"), [n for _t, n in tasks])], horizontal=True))

    if actor.role == "institution":
        return result

    lines = coverage_rows(campaign, actor, start, end)
    result.charts.append(Chart(
        "coverage", _("Coverage against target"), "bar", [line.label for line in lines],
        [Dataset(_("Inspected (%)"), [line.percent or 0 for line in lines]),
         Dataset(_("Target (%)"), [line.target_percent for line in lines])], percent=True,
        horizontal=True,
        note=_("Institutions with an inspection finalised in the period, out of those in "
               "scope.")))

    # Complaints received (and substantiated) and medical disputes per month, about
    # institutions in scope: one statement over the regions' day tallies, by month.
    p = periods_table(periods, today)
    c, d = ComplaintDayTally, DisputeDayTally
    by_month = sa.union_all(
        sa.select(p.c.idx, sa.literal(0, sa.Integer).label("kind"), sa.func.sum(c.received),
                  sa.func.sum(c.substantiated))
        .select_from(p)
        .join(c, sa.and_(c.day >= p.c.first, c.day <= p.c.last))
        .where(c.region_id.in_(regions))
        .group_by(p.c.idx),
        sa.select(p.c.idx, sa.literal(1, sa.Integer), sa.func.sum(d.occurred),
                  sa.literal(0, sa.Integer))
        .select_from(p)
        .join(d, sa.and_(d.day >= p.c.first, d.day <= p.c.last))
        .where(d.region_id.in_(regions))
        .group_by(p.c.idx),
    )
    counts = {(idx, kind): (int(n), int(m)) for idx, kind, n, m in db.session.execute(by_month)}
    complaints = [counts.get((i, 0), (0, 0)) for i in range(len(periods))]
    disputes = [counts.get((i, 1), (0, 0))[0] for i in range(len(periods))]
    result.charts.append(Chart(
        "complaints", _("Complaints and disputes by month"), "line", labels,
        [Dataset(_("Complaints received"), [n for n, _m in complaints]),
         Dataset(_("Complaints substantiated"), [m for _n, m in complaints]),
         Dataset(_("Medical disputes"), disputes)]))
    return result
