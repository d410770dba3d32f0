"""The campaign report: the figures a commission quotes in its reply letters (institutions
inspected against the coverage target, problems found and rectified, orders, complaints,
disputes, interviews, accountability, points) for one campaign and a date range.

`campaign_report(campaign_id, actor=..., start=..., end=...)` computes everything in a
fixed number of grouped queries; `report_sheets(report)` lays it out for the XLSX export.

It reads the tables of every domain, so it lives with the other cross-domain figures,
above the domains (the campaign package stays below the cases; its pages, under
/campaigns, call it).
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from casework import clock, labels, policy, xlsx
from casework.campaigns.models import Campaign, KeyTask
from casework.campaigns.phases import mobilisation_end
from casework.campaigns.services import CoverageLine, coverage_lines, get_campaign
from casework.cases.models import InspectionCase, MobilisationRecord
from casework.dashboard.models import ComplaintDayTally, DisputeDayTally, FindingDayTally
from casework.dashboard.queries import (
    Month,
    count_if,
    order_counts,
    scope_ids,
    sum_if,
    ts,
)
from casework.dashboard.tallies import scope_regions
from casework.disputes.models import DISPUTE_ROUTES
from casework.errors import Invalid
from casework.extensions import db
from casework.inspections.models import Inspection
from casework.labels import localized
from casework.oversight.models import AccountabilityRecord, Interview
from casework.points.models import PointsEntry
from workflows import registry


@dataclass(frozen=True)
class FindingRow:
    key_task: KeyTask
    found: int
    to_rectify: int
    rectified: int      # in an order that is closed (verified)


@dataclass
class CampaignReport:
    campaign: Campaign
    start: date
    end: date
    as_of: date                     # the day "overdue" and "missing" are judged on
    coverage: list[CoverageLine] = field(default_factory=list)
    inspections: int = 0
    institutions_inspected: int = 0
    findings: list[FindingRow] = field(default_factory=list)
    orders: dict = field(default_factory=dict)
    complaints: dict = field(default_factory=dict)
    # (route, its label, disputes, resolved)
    disputes: list[tuple[str, str, int, int]] = field(default_factory=list)
    interviews_held: int = 0
    accountability: int = 0
    points: dict = field(default_factory=dict)
    mobilisation: dict = field(default_factory=dict)

    @property
    def findings_total(self) -> tuple[int, int, int]:
        return (sum(r.found for r in self.findings), sum(r.to_rectify for r in self.findings),
                sum(r.rectified for r in self.findings))


def check_period(start: date | None, end: date | None) -> None:
    """Raise Invalid (messages in the user's language) unless start <= end are given."""
    errors = {}
    if start is None:
        errors["start"] = [_("Enter a valid start date (YYYY-MM-DD).")]
    if end is None:
        errors["end"] = [_("Enter a valid end date (YYYY-MM-DD).")]
    if not errors and start > end:
        errors["end"] = [_("The end date must not be before the start date.")]
    if not errors and (end - start).days > 366 * 5:
        errors["end"] = [_("The period may span at most five years.")]
    if errors:
        raise Invalid(errors)


def get_report_campaign(campaign_id: int, actor) -> Campaign:
    """The campaign, if the actor may read its report: NotFound when the campaign is not
    visible, NotPermitted when it is but the report is not for this role."""
    campaign = get_campaign(campaign_id, actor)
    policy.check("campaign_report_view", actor, campaign)
    return campaign


def default_period(campaign: Campaign) -> tuple[date, date]:
    """The campaign's period up to today (all of it once it is over or not yet begun)."""
    today = clock.today()
    end = min(campaign.ends_on, today) if today >= campaign.starts_on else campaign.ends_on
    return campaign.starts_on, end


def campaign_report(campaign_id: int, *, actor, start: date | None,
                    end: date | None) -> CampaignReport:
    """Every figure of the report; no dates at all: the campaign's period so far.
    Raises NotFound, NotPermitted, Invalid (bad period)."""
    campaign = get_report_campaign(campaign_id, actor)
    if start is None and end is None:
        start, end = default_period(campaign)
    check_period(start, end)
    as_of = min(end, clock.today())
    report = CampaignReport(campaign=campaign, start=start, end=end, as_of=as_of)
    scope = scope_ids(actor, campaign)
    begins, ends = clock.start_of_day(start), clock.start_of_day(end + timedelta(days=1))

    # Coverage and inspections: inspections of this campaign finalised in the range.
    report.coverage = coverage_rows(campaign, actor, start, end)
    done = _finalised_between(begins, ends)
    report.inspections, report.institutions_inspected = db.session.execute(
        sa.select(sa.func.count(Inspection.id),
                  sa.func.count(sa.distinct(InspectionCase.institution_id)))
        .join(InspectionCase, InspectionCase.id == Inspection.case_id)
        .where(InspectionCase.campaign_id == campaign.id,
               InspectionCase.institution_id.in_(scope), done)
    ).one()

    # Findings by key task, with those rectified (in an order verified and closed): from
    # the regions' day tallies (casework/dashboard/tallies.py).
    regions = scope_regions(actor, campaign)
    t = FindingDayTally
    counts = {r[0]: tuple(int(v) for v in r[1:]) for r in db.session.execute(
        sa.select(t.key_task_id, sa.func.sum(t.found), sa.func.sum(t.to_rectify),
                  sa.func.sum(t.rectified))
        .where(t.campaign_id == campaign.id, t.region_id.in_(regions),
               t.day >= start, t.day <= end)
        .group_by(t.key_task_id)
    ).all()}
    report.findings = [FindingRow(task, *counts.get(task.id, (0, 0, 0)))
                       for task in campaign.key_tasks]

    # Orders: issued in the range, closed in it (on time: no late submission), and
    # those overdue at its end (or today, for a range reaching into the future).
    [(issued, closed_n, on_time, overdue)] = order_counts(
        campaign, actor, [Month("period", start, end)], clock.today())
    report.orders = {"issued": issued, "closed": closed_n, "closed_on_time": on_time,
                     "overdue": overdue,
                     "on_time_rate": round(100 * on_time / closed_n, 1) if closed_n else None}

    # Complaints received in the range about institutions in scope, and what became of
    # them; disputes by route: from the day tallies.
    c = ComplaintDayTally
    received = db.session.execute(
        sa.select(*(sa.func.coalesce(sa.func.sum(col), 0) for col in
                    (c.received, c.handled, c.substantiated, c.transferred)))
        .where(c.region_id.in_(regions), c.day >= start, c.day <= end)
    ).one()
    report.complaints = dict(zip(("received", "handled", "substantiated", "transferred"),
                                 (int(v) for v in received), strict=True))

    d = DisputeDayTally
    by_route = {r[0]: (int(r[1]), int(r[2])) for r in db.session.execute(
        sa.select(d.route, sa.func.sum(d.occurred), sa.func.sum(d.resolved))
        .where(d.region_id.in_(regions), d.day >= start, d.day <= end)
        .group_by(d.route)
    ).all()}
    report.disputes = [(route, route_label(route), *by_route.get(route, (0, 0)))
                       for route in DISPUTE_ROUTES]

    # Interviews held, accountability decided, points awarded (net of reversals), and
    # mobilisation records: one statement for all of them.
    interviews = (sa.select(sa.func.count()).where(
        Interview.institution_id.in_(scope), Interview.state == registry.destination("interview", "hold"),
        Interview.held_on >= start, Interview.held_on <= end,
        sa.or_(Interview.campaign_id.is_(None), Interview.campaign_id == campaign.id))
        .scalar_subquery())
    accountability = (sa.select(sa.func.count()).where(
        AccountabilityRecord.institution_id.in_(scope),
        AccountabilityRecord.decided_on >= start, AccountabilityRecord.decided_on <= end)
        .scalar_subquery())
    in_range = sa.and_(PointsEntry.institution_id.in_(scope),
                       PointsEntry.awarded_on >= start, PointsEntry.awarded_on <= end)
    given = (sa.select(sum_if(PointsEntry.points, PointsEntry.points > 0))
             .where(in_range).scalar_subquery())
    reversed_ = (sa.select(sum_if(-PointsEntry.points, PointsEntry.points < 0))
                 .where(in_range).scalar_subquery())
    cases, filed, late = mobilisation_counts(campaign, actor)
    values = db.session.execute(sa.select(interviews, accountability, given, reversed_)).one()
    report.interviews_held, report.accountability = values[0], values[1]
    report.points = {"given": int(values[2]), "reversed": int(values[3]),
                     "net": int(values[2]) - int(values[3])}
    report.mobilisation = {"cases": cases, "filed": filed, "late": late,
                           "missing": cases - filed}
    return report


def _finalised_between(begins, ends):
    return sa.and_(Inspection.finalised_at >= ts(begins), Inspection.finalised_at < ts(ends))


def coverage_rows(campaign: Campaign, actor, start: date, end: date) -> list[CoverageLine]:
    """Per coverage rule: institutions in the actor's part of the campaign's region, and
    how many had an inspection of this campaign finalised between start and end."""
    inspected = (
        sa.select(InspectionCase.institution_id.label("institution_id"))
        .join(Inspection, Inspection.case_id == InspectionCase.id)
        .where(InspectionCase.campaign_id == campaign.id,
               _finalised_between(clock.start_of_day(start),
                                  clock.start_of_day(end + timedelta(days=1)))))
    return coverage_lines(campaign, scope_ids(actor, campaign), inspected)


def mobilisation_counts(campaign: Campaign, actor) -> tuple[int, int, int]:
    """(cases in the actor's scope, with a mobilisation record, filed after the
    mobilisation phase ended) for the campaign."""
    phase_end = mobilisation_end(campaign)
    late = (sa.and_(MobilisationRecord.id.is_not(None),
                    MobilisationRecord.submitted_at
                    >= ts(clock.start_of_day(phase_end + timedelta(days=1))))
            if phase_end else sa.false())
    return tuple(db.session.execute(
        sa.select(sa.func.count(InspectionCase.id), sa.func.count(MobilisationRecord.id),
                  count_if(late))
        .outerjoin(MobilisationRecord, MobilisationRecord.case_id == InspectionCase.id)
        .where(InspectionCase.campaign_id == campaign.id,
               InspectionCase.institution_id.in_(scope_ids(actor, campaign)))
    ).one())


def route_label(route: str) -> str:
    return str(labels.DISPUTE_ROUTES.get(route, route))


def _percent(value) -> str:
    return "—" if value is None else f"{value:g}%"


def report_sheets(report: CampaignReport) -> list[xlsx.Sheet]:
    """One sheet per section; the first repeats the campaign and the period."""
    title = localized(report.campaign, "title")
    preamble = [title, _("Period: %(start)s to %(end)s", start=report.start.isoformat(),
                         end=report.end.isoformat())]
    o, c, p, m = report.orders, report.complaints, report.points, report.mobilisation
    summary = [
        (_("Inspections held"), report.inspections),
        (_("Institutions inspected"), report.institutions_inspected),
        (_("Problems found"), report.findings_total[0]),
        (_("Problems rectified"), report.findings_total[2]),
        (_("Orders issued"), o["issued"]),
        (_("Orders closed"), o["closed"]),
        (_("Orders closed on time"), o["closed_on_time"]),
        (_("Orders overdue"), o["overdue"]),
        (_("Complaints received"), c["received"]),
        (_("Complaints handled"), c["handled"]),
        (_("Complaints substantiated"), c["substantiated"]),
        (_("Complaints transferred"), c["transferred"]),
        (_("Medical disputes"), sum(r[2] for r in report.disputes)),
        (_("Interviews held"), report.interviews_held),
        (_("Accountability records"), report.accountability),
        (_("Points given"), p["given"]),
        (_("Points reversed"), p["reversed"]),
        (_("Points (net)"), p["net"]),
        (_("Mobilisation records filed"), m["filed"]),
        (_("Cases without a mobilisation record"), m["missing"]),
    ]
    return [
        xlsx.Sheet(_("Summary"), [_("Figure"), _("Value")], summary, preamble=preamble),
        xlsx.Sheet(_("Coverage"), [_("Institutions"), _("Target"), _("In scope"),
                                   _("Inspected"), _("Required"), _("Coverage"),
                                   _("Target met")],
                   [(r.label, f"{r.target_percent}%", r.in_scope, r.counted, r.required,
                     _percent(r.percent), _("Yes") if r.met else _("No"))
                    for r in report.coverage], preamble=preamble),
        xlsx.Sheet(_("Findings"), [_("Key task"), _("Problems found"),
                                   _("Rectification required"), _("Rectified")],
                   [(localized(r.key_task, "title"), r.found, r.to_rectify, r.rectified)
                    for r in report.findings], preamble=preamble),
        xlsx.Sheet(_("Disputes"), [_("Resolution route"), _("Medical disputes"),
                                   _("Resolved")],
                   [(label, n, resolved) for _route, label, n, resolved in report.disputes],
                   preamble=preamble),
    ]
